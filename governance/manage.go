package governance

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"custodia/xapi"
)

// The policy actions of policy management. The policy input's resource is
// {"kind": "policy", "module": name} for one module, {"kind": "policy"}
// for the whole set, {"kind": "policy_data"} (a change of it also carries
// "loosens", see Loosenings), {"kind": "policy_revision",
// "revision": id}, or {"kind": "policy_simulation"}.
const (
	ActionPoliciesRead   = "policies.read"   // list and read modules, data and revisions
	ActionPoliciesManage = "policies.manage" // change, roll back, simulate
)

// PolicyModule describes one module of the active policy set.
type PolicyModule struct {
	Name  string `json:"name"`
	Test  bool   `json:"test"` // a _test.rego module: run before activation, never decides
	Bytes int    `json:"bytes"`
}

// PolicyOverview is the active policy set: its revision and its modules.
type PolicyOverview struct {
	Revision string         `json:"revision"`
	Modules  []PolicyModule `json:"modules"`
}

// ValidModuleName reports whether name may name an uploaded module: 1 to
// 64 of a-z, 0-9 and '_', starting with a letter, then ".rego". Names
// ending in "_test.rego" are tests.
func ValidModuleName(name string) bool {
	base, ok := strings.CutSuffix(name, ".rego")
	if !ok || len(base) == 0 || len(base) > 64 || base[0] < 'a' || base[0] > 'z' {
		return false
	}
	for _, c := range base {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Policies describes the active policy set, for p.
func (g *Gate) Policies(ctx context.Context, p Principal) (PolicyOverview, error) {
	const op = "governance.Policies"
	e, err := g.decidePolicy(ctx, op, p, ActionPoliciesRead, []string{"policies"}, map[string]any{"kind": "policy"})
	if err != nil {
		return PolicyOverview{}, err
	}
	set := g.cfg.Engine.PolicySet()
	out := PolicyOverview{Revision: revisionOf(set), Modules: []PolicyModule{}}
	for _, name := range sortedNames(set.Modules) {
		out.Modules = append(out.Modules, PolicyModule{Name: name, Test: isTestModule(name), Bytes: len(set.Modules[name])})
	}
	e.Count = len(out.Modules)
	if err := g.record(ctx, e); err != nil {
		return PolicyOverview{}, err
	}
	return out, nil
}

// PolicyModule returns the source of the active module name, for p, or
// NotFound.
func (g *Gate) PolicyModule(ctx context.Context, p Principal, name string) (string, error) {
	const op = "governance.PolicyModule"
	e, err := g.decidePolicy(ctx, op, p, ActionPoliciesRead, []string{"policy:" + name}, map[string]any{"kind": "policy", "module": name})
	if err != nil {
		return "", err
	}
	src, ok := g.cfg.Engine.PolicySet().Modules[name]
	if ok {
		e.Count = 1
	}
	if err := g.record(ctx, e); err != nil {
		return "", err
	}
	if !ok {
		return "", xapi.Errorf(xapi.NotFound, op, "no policy module %s", name)
	}
	return src, nil
}

// PutPolicyModule adds or replaces the module name of the active set with
// src, on behalf of p, and activates the result when it passes every check
// of Engine.Check (strict compile, all tests, sample decisions). It returns
// the new active revision. A refused module never becomes active; the
// Invalid error says why, with file and line numbers.
func (g *Gate) PutPolicyModule(ctx context.Context, p Principal, name, src string) (string, error) {
	const op = "governance.PutPolicyModule"
	if !ValidModuleName(name) {
		return "", xapi.Errorf(xapi.Invalid, op, "module name must be 1 to 64 of a-z, 0-9 and '_', starting with a letter, then .rego")
	}
	return g.changePolicy(ctx, op, p, []string{"policy:" + name}, map[string]any{"kind": "policy", "module": name},
		func(set PolicySet) (PolicySet, error) {
			set.Modules[name] = src
			return set, nil
		})
}

// DeletePolicyModule removes the module name from the active set, on
// behalf of p, and activates the result when it passes every check. It
// returns the new active revision; NotFound when there is no such module.
// Tests go with their module: the tests x_test.rego of a module x.rego
// cannot be deleted while x.rego is present (Invalid), and deleting x.rego
// deletes x_test.rego with it, so that no one can drop the tests that
// guard a module and keep the module.
func (g *Gate) DeletePolicyModule(ctx context.Context, p Principal, name string) (string, error) {
	const op = "governance.DeletePolicyModule"
	return g.changePolicy(ctx, op, p, []string{"policy:" + name}, map[string]any{"kind": "policy", "module": name},
		func(set PolicySet) (PolicySet, error) {
			if _, ok := set.Modules[name]; !ok {
				return set, xapi.Errorf(xapi.NotFound, op, "no policy module %s", name)
			}
			if base, ok := strings.CutSuffix(name, "_test.rego"); ok {
				if _, tested := set.Modules[base+".rego"]; tested {
					return set, xapi.Errorf(xapi.Invalid, op, "tests go with their module: %s tests %s, which is still present; delete %s (its tests go with it) or replace %s", name, base+".rego", base+".rego", name)
				}
			} else {
				delete(set.Modules, strings.TrimSuffix(name, ".rego")+"_test.rego")
			}
			delete(set.Modules, name)
			return set, nil
		})
}

// PolicyData returns the active policy data (a JSON object), for p.
func (g *Gate) PolicyData(ctx context.Context, p Principal) (json.RawMessage, error) {
	const op = "governance.PolicyData"
	e, err := g.decidePolicy(ctx, op, p, ActionPoliciesRead, []string{"policy-data"}, map[string]any{"kind": "policy_data"})
	if err != nil {
		return nil, err
	}
	e.Count = 1
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return g.cfg.Engine.PolicySet().Data, nil
}

// PutPolicyData replaces the policy data with data (one JSON object), on
// behalf of p, and activates the result when it passes every check (the
// modules' tests run against the new data). It returns the new revision.
// The policy decides the change knowing what it loosens (resource.loosens,
// see Loosenings).
func (g *Gate) PutPolicyData(ctx context.Context, p Principal, data json.RawMessage) (string, error) {
	const op = "governance.PutPolicyData"
	// What the change loosens is part of the decision: the policy may let
	// a role make only changes that loosen nothing (manage.rego). Data
	// that cannot be read is refused by the checks of the candidate.
	loosens := []string{}
	if candidate, err := ParsePolicyDataJSON(data); err == nil {
		loosens = append(loosens, Loosenings(g.cfg.Engine.PolicyData(), candidate)...)
	}
	return g.changePolicy(ctx, op, p, []string{"policy-data"}, map[string]any{"kind": "policy_data", "loosens": strs(loosens)},
		func(set PolicySet) (PolicySet, error) {
			set.Data = data
			return set, nil
		})
}

// PolicyRevisions lists the stored policy revisions, oldest first, for p.
func (g *Gate) PolicyRevisions(ctx context.Context, p Principal) ([]Revision, error) {
	const op = "governance.PolicyRevisions"
	e, err := g.decidePolicy(ctx, op, p, ActionPoliciesRead, []string{"policy-revisions"}, map[string]any{"kind": "policy_revision"})
	if err != nil {
		return nil, err
	}
	revs, err := g.cfg.Engine.Revisions(ctx)
	if err != nil {
		return nil, err
	}
	e.Count = len(revs)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return revs, nil
}

// RollbackPolicy activates the stored revision id again, on behalf of p,
// after the same checks as any change (its tests run again). Revision ids
// are derived from content, so the revision active afterwards is id.
func (g *Gate) RollbackPolicy(ctx context.Context, p Principal, id string) (string, error) {
	const op = "governance.RollbackPolicy"
	if !validRevision(id) {
		return "", xapi.Errorf(xapi.Invalid, op, "revision must be 16 lower-case hex digits")
	}
	return g.changePolicy(ctx, op, p, []string{"rollback", "from:" + g.cfg.Engine.Revision()}, map[string]any{"kind": "policy_revision", "revision": id},
		func(PolicySet) (PolicySet, error) { return g.cfg.Engine.RevisionSet(ctx, id) })
}

// changePolicy decides policies.manage for p, builds the candidate from a
// copy of the active set, checks it, records the outcome in the audit log
// (the revision, never the source) and, when it passed, activates it.
// Changes are serialised, so each builds on the set the previous made.
func (g *Gate) changePolicy(ctx context.Context, op string, p Principal, resources []string, res map[string]any,
	build func(PolicySet) (PolicySet, error)) (string, error) {
	g.policyMu.Lock()
	defer g.policyMu.Unlock()
	e, err := g.decidePolicy(ctx, op, p, ActionPoliciesManage, resources, res)
	if err != nil {
		return "", err
	}
	set, err := build(g.cfg.Engine.PolicySet())
	if err == nil {
		var c *Candidate
		if c, err = g.cfg.Engine.Check(ctx, set); err == nil {
			return g.commitPolicy(ctx, e, c)
		}
	}
	e.Decision = "deny"
	e.Reasons = append(append([]string(nil), e.Reasons...), "policy change refused: "+refusalClass(err))
	if rerr := g.record(ctx, e); rerr != nil {
		return "", rerr
	}
	return "", err
}

// commitPolicy records the activation of c and then makes it active.
func (g *Gate) commitPolicy(ctx context.Context, e AuditEntry, c *Candidate) (string, error) {
	rev := c.Revision()
	e.Resources = append(append([]string(nil), e.Resources...), "revision:"+rev)
	e.Count = 1
	if rev == g.cfg.Engine.Revision() {
		e.Reasons = append(append([]string(nil), e.Reasons...), "unchanged: revision "+rev+" is already active")
		return rev, g.record(ctx, e)
	}
	e.Reasons = append(append([]string(nil), e.Reasons...), "activated revision "+rev)
	if err := g.record(ctx, e); err != nil {
		return "", err
	}
	if err := g.cfg.Engine.Commit(ctx, c); err != nil {
		g.cfg.Logger.ErrorContext(ctx, "policy activation failed after it was recorded", "revision", rev, "request_id", e.RequestID, "err", err)
		return "", err
	}
	g.cfg.Logger.InfoContext(ctx, "policy activated", "revision", rev, "request_id", e.RequestID)
	return rev, nil
}

// refusalClass names why a change was refused for the audit log without
// quoting anything from the policy source: the message up to its first
// colon (the messages of Engine.Check start with a fixed phrase).
func refusalClass(err error) string {
	var xe *xapi.Error
	if !errors.As(err, &xe) || xe.Msg == "" {
		return "internal error"
	}
	class, _, _ := strings.Cut(xe.Msg, ":")
	return class
}

// decidePolicy decides action on the policies for p. A denial is recorded
// and returned as Forbidden; an allowed access returns its audit entry,
// still to be recorded.
func (g *Gate) decidePolicy(ctx context.Context, op string, p Principal, action string, resources []string, res map[string]any) (AuditEntry, error) {
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: res})
	if err != nil {
		return AuditEntry{}, g.refuse(ctx, op, p, action, resources, err)
	}
	e := g.entry(ctx, p, action, resources, d.Revision)
	e.noteBreakGlass(d)
	e.Reasons = d.Reasons
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{}, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	e.Decision = "allow"
	return e, nil
}
