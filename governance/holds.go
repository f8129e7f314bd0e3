package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"custodia/xapi"
)

// Legal holds pin a person's or a purpose's statements against retention:
// while a hold stands, statements it covers stay readable after their
// retention ended and the sweep does not destroy them. Holds are sealed
// system records hold/<id>; the policy sees them as input.context.holds.

const recordKindHold = "hold"

// Hold is one legal hold: on a person (Agent) or on a purpose.
type Hold struct {
	ID        string      `json:"id"`
	Agent     *xapi.Agent `json:"-"`
	Purpose   string      `json:"purpose,omitempty"`
	Reason    string      `json:"reason,omitempty"`
	Created   time.Time   `json:"created"`
	CreatedBy string      `json:"created_by"` // pseudonym of the principal, as in the audit log
}

// MarshalJSON encodes h with its agent as an xAPI Agent object.
func (h Hold) MarshalJSON() ([]byte, error) {
	type plain Hold
	return json.Marshal(struct {
		plain
		Agent *xapi.Agent `json:"agent,omitempty"`
	}{plain(h), h.Agent})
}

// HoldRequest asks for a hold: exactly one of Agent and Purpose.
type HoldRequest struct {
	Agent   *xapi.Agent
	Purpose string
	Reason  string // why, for the people who review holds; at most 500 bytes
}

type storedHold struct {
	ID        string          `json:"id"`
	Agent     json.RawMessage `json:"agent,omitempty"`
	Purpose   string          `json:"purpose,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Created   time.Time       `json:"created"`
	CreatedBy string          `json:"created_by"`
}

// holdResource names a hold in the audit log.
func holdResource(id string) []string { return []string{"hold:" + id} }

// Holds lists the legal holds, oldest first, for p.
func (g *Gate) Holds(ctx context.Context, p Principal) ([]Hold, error) {
	const op = "governance.Holds"
	if err := g.allowAction(ctx, op, p, "holds.manage", map[string]any{"kind": "hold"}, []string{"holds"}); err != nil {
		return nil, err
	}
	return g.loadHolds(ctx)
}

// PlaceHold places a legal hold on behalf of p.
func (g *Gate) PlaceHold(ctx context.Context, p Principal, req HoldRequest) (Hold, error) {
	const op = "governance.PlaceHold"
	if (req.Agent == nil) == (req.Purpose == "") {
		return Hold{}, xapi.Errorf(xapi.Invalid, op, "a hold names exactly one of agent and purpose")
	}
	if req.Agent != nil && (req.Agent.IsGroup() || req.Agent.IFI() == "") {
		return Hold{}, xapi.Errorf(xapi.Invalid, op, "agent: must be an Agent with one inverse functional identifier")
	}
	if req.Purpose != "" && !ValidPurpose(req.Purpose) {
		return Hold{}, xapi.Errorf(xapi.Invalid, op, "purpose must be a purpose identifier: 1 to 64 of a-z, 0-9, '.', '_', '-'")
	}
	if req.Purpose != "" {
		if _, ok := g.cfg.Engine.PolicyData().Purposes[req.Purpose]; !ok {
			return Hold{}, xapi.Errorf(xapi.Invalid, op, "purpose %q is not defined in the active policy data", req.Purpose)
		}
	}
	if len(req.Reason) > 500 {
		return Hold{}, xapi.Errorf(xapi.Invalid, op, "reason is longer than 500 bytes")
	}
	h := Hold{ID: xapi.NewUUID(), Agent: req.Agent, Purpose: req.Purpose, Reason: req.Reason, Created: g.cfg.Now().UTC(), CreatedBy: g.principalPseudonym(p)}
	res := map[string]any{"kind": "hold", "purpose": req.Purpose}
	if req.Agent != nil {
		res["subjects"] = strs((Principal{Agent: req.Agent}).Identities())
	}
	resources := holdResource(h.ID)
	if err := g.allowAction(ctx, op, p, "holds.manage", res, resources); err != nil {
		return Hold{}, err
	}
	sh := storedHold{ID: h.ID, Purpose: h.Purpose, Reason: h.Reason, Created: h.Created, CreatedBy: h.CreatedBy}
	if h.Agent != nil {
		b, err := json.Marshal(h.Agent)
		if err != nil {
			return Hold{}, err
		}
		sh.Agent = b
	}
	b, err := json.Marshal(sh)
	if err != nil {
		return Hold{}, err
	}
	if err := g.cfg.Records.PutRecord(ctx, recordKindHold, h.ID, b); err != nil {
		return Hold{}, err
	}
	return h, nil
}

// ReleaseHold removes the hold id on behalf of p; NotFound when there is
// none. Statements it pinned whose retention ended are hidden at once.
func (g *Gate) ReleaseHold(ctx context.Context, p Principal, id string) error {
	const op = "governance.ReleaseHold"
	if err := g.allowAction(ctx, op, p, "holds.manage", map[string]any{"kind": "hold"}, holdResource(id)); err != nil {
		return err
	}
	err := g.cfg.Records.DeleteRecord(ctx, recordKindHold, id)
	if k := xapi.ErrorKind(err); k == xapi.NotFound || k == xapi.Invalid {
		return xapi.Errorf(xapi.NotFound, op, "no hold with that id")
	}
	return err
}

func (g *Gate) loadHolds(ctx context.Context) ([]Hold, error) {
	recs, err := g.cfg.Records.ListRecords(ctx, recordKindHold)
	if err != nil {
		return nil, err
	}
	out := make([]Hold, 0, len(recs))
	for _, raw := range recs {
		var sh storedHold
		if err := json.Unmarshal(raw, &sh); err != nil {
			return nil, fmt.Errorf("governance: decoding hold: %w", err)
		}
		h := Hold{ID: sh.ID, Purpose: sh.Purpose, Reason: sh.Reason, Created: sh.Created, CreatedBy: sh.CreatedBy}
		if len(sh.Agent) > 0 {
			a, err := xapi.ParseAgent(sh.Agent, xapi.V200)
			if err != nil {
				return nil, fmt.Errorf("governance: decoding hold agent: %w", err)
			}
			h.Agent = &a
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || (out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID)
	})
	return out, nil
}

// allowAction decides action on res for p and records the decision; it
// returns Forbidden when refused.
func (g *Gate) allowAction(ctx context.Context, op string, p Principal, action string, res map[string]any, resources []string) error {
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: res})
	if err != nil {
		return g.refuse(ctx, op, p, action, resources, err)
	}
	e := g.entry(ctx, p, action, resources, d.Revision)
	e.noteBreakGlass(d)
	e.Reasons = d.Reasons
	if subs, ok := res["subjects"].([]any); ok {
		for _, s := range subs {
			if id, ok := s.(string); ok {
				e.Subjects = append(e.Subjects, g.cfg.Pseudonymizer.Pseudonym("subject:"+id))
			}
		}
		sort.Strings(e.Subjects)
	}
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return err
		}
		return &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	e.Decision, e.Count = "allow", 1
	return g.record(ctx, e)
}
