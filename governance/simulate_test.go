package governance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"custodia/governance"
	"custodia/xapi"
)

// simBefore and simAfter are whole, self-contained policies: the active one
// and the candidate of TestSimulatePolicy.
const simBefore = `package custodia.authz

roles := {r | some r in input.principal.roles}

decision := {"allow": count(allow) > 0, "reasons": sort([r | some r in allow])}

allow contains "admin" if "admin" in roles

allow contains "clients read and write" if "client" in roles

allow contains "learners read and write their own" if {
	"learner" in roles
	some s in input.resource.subjects
	s in input.principal.identities
}
`

const simAfter = `package custodia.authz

roles := {r | some r in input.principal.roles}

default obligations := {}

obligations := {"retention_days": 30} if input.principal.purpose == "analytics"

decision := {"allow": count(allow) > 0, "reasons": sort([r | some r in allow]), "obligations": obligations}

allow contains "admin" if "admin" in roles

allow contains "clients write all but experienced" if {
	input.action == "statements.write"
	"client" in roles
	input.resource.verb != "http://adlnet.gov/expapi/verbs/experienced"
}

allow contains "hr reads completions for training" if {
	input.action == "statements.read"
	"hr" in roles
	input.principal.purpose == "training"
	input.resource.verb == "http://adlnet.gov/expapi/verbs/completed"
}
`

const simAfterTest = `package custodia.sim_test

import data.custodia.authz

test_admin if authz.decision.allow with input as {"principal": {"roles": ["admin"], "purpose": ""}}

test_fails_on_purpose if authz.decision.allow with input as {"principal": {"roles": ["hr"], "purpose": ""}, "action": "statements.read", "resource": {}}
`

// simData is policy data with the purposes training and analytics, in the
// shape of the contract.
func simData(t *testing.T) json.RawMessage {
	t.Helper()
	purpose := func(title string) map[string]any {
		return map[string]any{
			"title": title, "description": "A purpose of the simulation test.", "legal_basis": "contract", "retention_days": 30,
			"readers": []string{"hr"}, "masks": map[string]any{}, "minimise": []string{}, "signed_statements": "keep_whole",
			"match": map[string]any{"clients": []string{}, "activity_prefixes": []string{}, "verbs": []string{}, "activity_types": []string{}},
		}
	}
	b, err := json.Marshal(map[string]any{"custodia": map[string]any{
		"purposes": map[string]any{"training": purpose("Training"), "analytics": purpose("Analytics")},
		"settings": map[string]any{"default_purpose": "training", "controller": map[string]any{"name": "C", "email": "dpo@c.example", "policy_url": "https://c.example/privacy"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSimulatePolicy(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	admin := f.role["admin"]
	before, err := f.engine.Activate(ctx, governance.PolicySet{Modules: map[string]string{"authz.rego": simBefore}})
	if err != nil {
		t.Fatal(err)
	}
	var stmts []*xapi.Statement
	for _, s := range []struct{ who, verb string }{
		{"alice", "completed"}, {"bob", "experienced"}, {"alice", "experienced"}, {"carol", "completed"},
	} {
		st, err := xapi.ParseStatement([]byte(fmt.Sprintf(`{"actor":{"mbox":"mailto:%s@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/%s"},"object":{"id":"http://example.com/course/1"}}`, s.who, s.verb)), xapi.V200)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, st)
	}
	if _, err := f.gate.PutStatements(ctx, admin, stmts, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	stored := f.store.Statements()
	// Now is just past the end of a 30-day window for the first two.
	f.now = stored[1].Stored().Add(30*24*time.Hour + time.Microsecond)

	req := governance.SimulationRequest{
		Modules: map[string]string{"authz.rego": simAfter, "sim_test.rego": simAfterTest},
		Data:    simData(t),
	}
	for name := range f.engine.PolicySet().Modules {
		if name != "authz.rego" {
			req.Remove = append(req.Remove, name)
		}
	}
	sim, err := f.gate.SimulatePolicy(ctx, admin, req)
	if err != nil {
		t.Fatalf("SimulatePolicy = %v", err)
	}
	if f.engine.Revision() != before || sim.ActiveRevision != before || sim.CandidateRevision == before {
		t.Errorf("revisions: active %s, simulation %s → %s; want %s active and unchanged", f.engine.Revision(), sim.ActiveRevision, sim.CandidateRevision, before)
	}
	if sim.Scanned != 4 || !sim.Complete || sim.Limit != governance.DefaultSimulationLimit || sim.EvaluationErrors != 0 {
		t.Errorf("scanned %d, complete %v, limit %d, errors %d; want 4, true, %d, 0", sim.Scanned, sim.Complete, sim.Limit, sim.EvaluationErrors, governance.DefaultSimulationLimit)
	}
	if sim.Tests.Passed != 1 || len(sim.Tests.Failed) != 1 || !strings.Contains(sim.Tests.Failed[0], "test_fails_on_purpose (sim_test.rego:7): failed") {
		t.Errorf("Tests = %+v, want 1 passed and test_fails_on_purpose failed", sim.Tests)
	}
	want := map[string]string{
		"admin/analytics":      "read +0 -0 =4, write refused 0 allowed 0, expired 2",
		"admin/training":       "read +0 -0 =4, write refused 0 allowed 0, expired 0",
		"compliance/analytics": "read +0 -0 =4, write refused 0 allowed 0, expired 0",
		"compliance/training":  "read +0 -0 =4, write refused 0 allowed 0, expired 0",
		"hr/analytics":         "read +0 -0 =4, write refused 0 allowed 0, expired 0",
		"hr/training":          "read +2 -0 =2, write refused 0 allowed 0, expired 0",
		"auditor/analytics":    "read +0 -0 =4, write refused 0 allowed 0, expired 0",
		"auditor/training":     "read +0 -0 =4, write refused 0 allowed 0, expired 0",
		"learner/analytics":    "read +0 -4 =0, write refused 4 allowed 0, expired 0",
		"learner/training":     "read +0 -4 =0, write refused 4 allowed 0, expired 0",
		"client/analytics":     "read +0 -4 =0, write refused 2 allowed 0, expired 1",
		"client/training":      "read +0 -4 =0, write refused 2 allowed 0, expired 0",
	}
	if len(sim.Results) != len(want) {
		t.Errorf("%d results, want %d", len(sim.Results), len(want))
	}
	for _, r := range sim.Results {
		key := r.Role + "/" + r.Purpose
		if got := strings.TrimPrefix(r.String(), key+": "); got != want[key] {
			t.Errorf("%s: %s, want %s", key, got, want[key])
		}
	}
	e := f.lastEntry(t)
	if e.Action != governance.ActionPoliciesManage || e.Decision != "allow" || !contains(e.Resources, "simulation") || !contains(e.Resources, "revision:"+sim.CandidateRevision) {
		t.Errorf("audit entry = %+v, want the simulation recorded", e)
	}

	t.Run("limit", func(t *testing.T) {
		req := req
		req.Limit = 3
		sim, err := f.gate.SimulatePolicy(ctx, admin, req)
		if err != nil || sim.Scanned != 3 || sim.Complete {
			t.Errorf("SimulatePolicy(limit 3) = scanned %d, complete %v, %v; want 3, false", sim.Scanned, sim.Complete, err)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name string
			p    governance.Principal
			req  governance.SimulationRequest
			kind xapi.Kind
		}{
			{"hr may not simulate", f.role["hr"], req, xapi.Forbidden},
			{"auditor may not simulate", f.role["auditor"], req, xapi.Forbidden},
			{"a candidate that does not compile", admin, governance.SimulationRequest{Modules: map[string]string{"x.rego": "package x\n\ny := z\n"}}, xapi.Invalid},
			{"a bad module name", admin, governance.SimulationRequest{Modules: map[string]string{"X.rego": minimal}}, xapi.Invalid},
			{"removing a missing module", admin, governance.SimulationRequest{Remove: []string{"nothing.rego"}}, xapi.Invalid},
			{"a negative limit", admin, governance.SimulationRequest{Limit: -1}, xapi.Invalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := f.gate.SimulatePolicy(ctx, tt.p, tt.req); xapi.ErrorKind(err) != tt.kind {
					t.Errorf("SimulatePolicy = %v, want %v", err, tt.kind)
				}
				if f.engine.Revision() != before {
					t.Errorf("active revision changed to %s", f.engine.Revision())
				}
			})
		}
	})
}

// TestSimulatePolicyConsents: a simulation decides with the consents of the
// purposes based on consent under the candidate as well as under the active
// policy, so that a candidate making a purpose consent-based again counts
// the consents already given, as the gate would once it is active.
func TestSimulatePolicyConsents(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	admin, alice := f.role["admin"], f.role["learner"]
	pack := f.engine.PolicySet().Data
	if _, err := f.gate.SetConsent(ctx, alice, "skills-development", true); err != nil {
		t.Fatal(err)
	}
	var stmts []*xapi.Statement
	for _, who := range []string{"alice", "bob"} {
		st, err := xapi.ParseStatement([]byte(fmt.Sprintf(`{"actor":{"mbox":"mailto:%s@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.acme.example/skills/negotiation"}}`, who)), xapi.V200)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, st)
	}
	if _, err := f.gate.PutStatements(ctx, admin, stmts, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	// The active data bases skills-development on a contract; the
	// candidate's, the pack's, on consent again.
	var d map[string]any
	if err := json.Unmarshal(pack, &d); err != nil {
		t.Fatal(err)
	}
	d["custodia"].(map[string]any)["purposes"].(map[string]any)["skills-development"].(map[string]any)["legal_basis"] = "contract"
	contract, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	// The pack's tests check its own data, so they go with it.
	set := f.engine.PolicySet()
	delete(set.Modules, "purposes_test.rego")
	set.Data = contract
	if _, err := f.engine.Activate(ctx, set); err != nil {
		t.Fatalf("Activate(skills-development on contract) = %v", err)
	}
	sim, err := f.gate.SimulatePolicy(ctx, admin, governance.SimulationRequest{Data: pack})
	if err != nil {
		t.Fatalf("SimulatePolicy = %v", err)
	}
	if sim.EvaluationErrors != 0 {
		t.Errorf("EvaluationErrors = %d, want 0", sim.EvaluationErrors)
	}
	found := false
	for _, r := range sim.Results {
		if r.Role != "client" || r.Purpose != "skills-development" {
			continue
		}
		found = true
		// Bob never consented: his statement would be refused; Alice did.
		if r.Write.NewlyRefused != 1 || r.Write.NewlyAllowed != 0 {
			t.Errorf("client/skills-development: %s, want exactly bob's write newly refused", r)
		}
	}
	if !found {
		t.Errorf("no result for client/skills-development in %v", sim.Results)
	}
}
