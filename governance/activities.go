package governance

import (
	"context"
	"errors"
	"sort"
	"strings"

	"custodia/xapi"
)

// ActivityStore reads the canonical Activity definitions that the statement
// store merges from the statements it stores. Implemented by store.DB.
type ActivityStore interface {
	// Activities returns the canonical copies of the Activities ids, by id;
	// an id no stored statement has defined is left out.
	Activities(ctx context.Context, ids []string) (map[string]xapi.Activity, error)
}

// Activity answers the Activities resource (xAPI Communication §2.5) for p:
// the canonical copy of the Activity id, or {objectType, id} when no stored
// statement defined it (IEEE 9274.1.1 §4.1.6.4). The action is
// activities.read; a refusal is Forbidden.
func (g *Gate) Activity(ctx context.Context, p Principal, id string) (xapi.Activity, error) {
	const op = "governance.Activity"
	defs, err := g.definitions(ctx, op, p, []string{id})
	if err != nil {
		return xapi.Activity{}, err
	}
	if a, ok := defs[id]; ok {
		return a, nil
	}
	return xapi.Activity{ID: id}, nil
}

// Definitions returns, for p, the canonical copies of the Activities of
// stmts (statements p was given by GetStatement or QueryStatements), by id,
// for format=canonical: pass them to xapi.Statement.WithDefinitions. The
// action is activities.read, decided and recorded once; a refusal is
// Forbidden.
func (g *Gate) Definitions(ctx context.Context, p Principal, stmts []*xapi.Statement) (map[string]xapi.Activity, error) {
	const op = "governance.Definitions"
	seen := map[string]bool{}
	var ids []string
	for _, s := range stmts {
		for _, a := range s.Activities() {
			if !seen[a.ID] {
				seen[a.ID] = true
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) == 0 {
		return map[string]xapi.Activity{}, nil
	}
	sort.Strings(ids)
	return g.definitions(ctx, op, p, ids)
}

var errNoActivityStore = errors.New("governance: GateConfig.Activities is not set")

// definitions decides activities.read for p, records it and reads ids.
// Activity ids may hold personal data (an IRI naming a person), so the audit
// entry names them by pseudonym.
func (g *Gate) definitions(ctx context.Context, op string, p Principal, ids []string) (map[string]xapi.Activity, error) {
	const action = "activities.read"
	if g.cfg.Activities == nil {
		return nil, &xapi.Error{Kind: xapi.Internal, Op: op, Msg: "activity definitions are not available", Err: errNoActivityStore}
	}
	res := make([]string, len(ids))
	for i, id := range ids {
		res[i] = "activity:" + g.cfg.Pseudonymizer.Pseudonym("activity:"+id)
	}
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: map[string]any{"kind": "activity"}})
	if err != nil {
		return nil, g.refuse(ctx, op, p, action, res, err)
	}
	e := g.entry(ctx, p, action, res, d.Revision)
	e.noteBreakGlass(d)
	e.Reasons = d.Reasons
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return nil, err
		}
		return nil, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	defs, err := g.cfg.Activities.Activities(ctx, ids)
	if err != nil {
		return nil, err
	}
	e.Decision, e.Count = "allow", len(defs)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return defs, nil
}

// Person answers the Agents resource (xAPI Communication §2.4) for p: the
// Person object of agent a. For now it holds only what a says
// (XAPI-00248); a subject registry linking a person's identifiers will add
// the others. The action is agents.read, with the agent's identifier as the
// resource; a refusal is Forbidden (XAPI-REQUIREMENTS §6.4).
func (g *Gate) Person(ctx context.Context, p Principal, a xapi.Agent) (xapi.Person, error) {
	const op = "governance.Person"
	const action = "agents.read"
	ifi := a.IFI()
	subjects := g.pseudonyms([]string{ifi})
	res := []string{"agent:" + subjects[0]}
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: map[string]any{"kind": "agent", "about": strs([]string{ifi})}})
	if err != nil {
		return xapi.Person{}, g.refuse(ctx, op, p, action, res, err)
	}
	e := g.entry(ctx, p, action, res, d.Revision)
	e.noteBreakGlass(d)
	e.Subjects, e.Reasons = subjects, d.Reasons
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return xapi.Person{}, err
		}
		return xapi.Person{}, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	e.Decision, e.Count = "allow", 1
	if err := g.record(ctx, e); err != nil {
		return xapi.Person{}, err
	}
	return a.Person(), nil
}
