package governance_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

// minimal is a whole policy: admins may do everything, nobody else anything.
const minimal = `package custodia.authz

decision := {"allow": "admin" in input.principal.roles, "reasons": ["minimal policy"]}
`

const minimalTest = `package custodia.minimal_test

import data.custodia.authz

test_admin_allowed if {
	authz.decision.allow with input as {"principal": {"roles": ["admin"]}}
}
`

// slow loops for about ten million steps: far longer than DecisionTimeout.
const slow = `count([x | some i in numbers.range(1, 3200); some j in numbers.range(1, 3200); x := i * j])`

func newEngine(t *testing.T) *governance.Engine {
	t.Helper()
	e, err := governance.NewEngine(context.Background(), policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func packSet(t *testing.T) governance.PolicySet {
	t.Helper()
	set, err := governance.ReadPolicySet(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func with(set governance.PolicySet, name, src string) governance.PolicySet {
	mods := map[string]string{}
	for k, v := range set.Modules {
		mods[k] = v
	}
	mods[name] = src
	return governance.PolicySet{Modules: mods, Data: set.Data}
}

func TestActivateRefuses(t *testing.T) {
	tests := []struct {
		name string
		set  func(t *testing.T) governance.PolicySet
		kind xapi.Kind
		want string // part of the message
	}{
		{"a module that does not parse", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "bad.rego", "package custodia.authz\n\nallow contains \"x\" if {\n")
		}, xapi.Invalid, "policy does not parse: bad.rego:4"},
		{"a module that does not compile strictly (unused variable)", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "bad.rego", "package custodia.authz\n\nallow contains \"x\" if {\n\tsome unused\n\tinput.action == \"x\"\n}\n")
		}, xapi.Invalid, "bad.rego:4"},
		{"a module with an unsafe variable", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "bad.rego", "package custodia.authz\n\nallow contains y if input.action == \"x\"\n")
		}, xapi.Invalid, "policy does not compile: bad.rego:3"},
		{"a module calling http.send", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "bad.rego", "package custodia.authz\n\nallow contains \"x\" if http.send({\"method\": \"GET\", \"url\": \"http://example.com\"}).status_code == 200\n")
		}, xapi.Invalid, "http.send"},
		{"a module whose test fails", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "extra_test.rego", "package custodia.extra_test\n\nimport data.custodia.authz\n\ntest_hr_may_void if {\n\tauthz.decision.allow with input as {\"principal\": {\"roles\": [\"hr\"], \"scopes\": [], \"identities\": []}, \"action\": \"statements.write\", \"resource\": {\"voiding\": true, \"subjects\": []}}\n}\n")
		}, xapi.Invalid, "policy tests failed (1 of"},
		{"a change that breaks a pack test", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "extra.rego", "package custodia.authz\n\nallow contains \"everyone may manage credentials\" if input.action == \"credentials.manage\"\n")
		}, xapi.Invalid, "custodia.authz_test.test_deny_client_credentials (authz_test.rego:"},
		{"a test that does not compile", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "extra_test.rego", "package custodia.extra_test\n\ntest_x if data.custodia.authz.nothing(1)\n")
		}, xapi.Invalid, "extra_test.rego:3"},
		{"a set without the decision rule", func(t *testing.T) governance.PolicySet {
			return governance.PolicySet{Modules: map[string]string{"other.rego": "package custodia.other\n\nx := 1\n"}}
		}, xapi.Invalid, "no rule defines data.custodia.authz.decision"},
		{"a decision that is not well-formed", func(t *testing.T) governance.PolicySet {
			return governance.PolicySet{Modules: map[string]string{"authz.rego": "package custodia.authz\n\ndecision := {\"allow\": \"yes\"}\n"}}
		}, xapi.Invalid, "well-formed decision"},
		{"a decision that is undefined for a sample input", func(t *testing.T) governance.PolicySet {
			return governance.PolicySet{Modules: map[string]string{"authz.rego": "package custodia.authz\n\ndecision := {\"allow\": true} if input.action == \"statements.read\"\n"}}
		}, xapi.Invalid, "policy gave 0 results"},
		{"a decision that loops past the time limit", func(t *testing.T) governance.PolicySet {
			return governance.PolicySet{Modules: map[string]string{"authz.rego": "package custodia.authz\n\ndecision := {\"allow\": " + slow + " > 0}\n"}}
		}, xapi.Invalid, "took longer than 250ms"},
		{"a policy that locks the admin out", func(t *testing.T) governance.PolicySet {
			return governance.PolicySet{Modules: map[string]string{"authz.rego": "package custodia.authz\n\ndecision := {\"allow\": false}\n"}}
		}, xapi.Invalid, "no one could roll it back"},
		{"data that is not an object", func(t *testing.T) governance.PolicySet {
			s := packSet(t)
			s.Data = json.RawMessage(`[1, 2]`)
			return s
		}, xapi.Invalid, "policy data must be one JSON object"},
		{"data with trailing content", func(t *testing.T) governance.PolicySet {
			s := packSet(t)
			s.Data = json.RawMessage(`{} {}`)
			return s
		}, xapi.Invalid, "nothing after it"},
		{"a module name that is not .rego", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "x.txt", minimal)
		}, xapi.Invalid, "ending in .rego"},
		{"an oversized module", func(t *testing.T) governance.PolicySet {
			return with(packSet(t), "big.rego", "package custodia.big\n\n# "+strings.Repeat("x", 600<<10)+"\n")
		}, xapi.TooLarge, "over 512 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			before := e.Revision()
			_, err := e.Activate(context.Background(), tt.set(t))
			if xapi.ErrorKind(err) != tt.kind || !strings.Contains(xapi.ErrorMessage(err), tt.want) {
				t.Fatalf("Activate = %v (kind %v), want %v containing %q", err, xapi.ErrorKind(err), tt.kind, tt.want)
			}
			if strings.Contains(xapi.ErrorMessage(err), "\n") {
				t.Errorf("error message spans lines: %q", xapi.ErrorMessage(err))
			}
			if got := e.Revision(); got != before {
				t.Errorf("Revision() after a refused activation = %s, want %s (unchanged)", got, before)
			}
			revs, err := e.Revisions(context.Background())
			if err != nil || len(revs) != 1 {
				t.Errorf("Revisions() = %d revisions, %v; want only the pack", len(revs), err)
			}
		})
	}
}

func TestActivateAndRollback(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	pack := e.Revision()
	learner := governance.Input{Principal: governance.Principal{ID: "k", Roles: []string{"learner"}, Scopes: []string{"statements/read/mine"}}, Action: "statements.query", Resource: map[string]any{"kind": "query"}}
	if d, err := e.Decide(ctx, learner); err != nil || !d.Allow || d.Revision != pack {
		t.Fatalf("Decide(learner query) under the pack = %+v, %v; want allowed by %s", d, err, pack)
	}

	rev, err := e.Activate(ctx, governance.PolicySet{Modules: map[string]string{"authz.rego": minimal, "minimal_test.rego": minimalTest}})
	if err != nil {
		t.Fatalf("Activate(minimal) = %v", err)
	}
	if rev == pack || e.Revision() != rev {
		t.Fatalf("Activate(minimal) = %s, Revision() = %s; want a new active revision", rev, e.Revision())
	}
	if d, err := e.Decide(ctx, learner); err != nil || d.Allow || d.Revision != rev {
		t.Errorf("Decide(learner query) under minimal = %+v, %v; want refused by %s", d, err, rev)
	}

	set, err := e.RevisionSet(ctx, pack)
	if err != nil {
		t.Fatalf("RevisionSet(%s) = %v", pack, err)
	}
	back, err := e.Activate(ctx, set)
	if err != nil || back != pack {
		t.Fatalf("Activate(revision %s again) = %s, %v; want the old id back", pack, back, err)
	}
	if d, err := e.Decide(ctx, learner); err != nil || !d.Allow {
		t.Errorf("Decide(learner query) after rollback = %+v, %v; want allowed", d, err)
	}
	revs, err := e.Revisions(ctx)
	if err != nil || len(revs) != 2 {
		t.Fatalf("Revisions() = %+v, %v; want 2", revs, err)
	}
	for _, r := range revs {
		wantActs, wantActive := 1, false
		if r.ID == pack {
			wantActs, wantActive = 2, true
		}
		if len(r.Activations) != wantActs || r.Active != wantActive {
			t.Errorf("revision %s: %d activations, active %v; want %d, %v", r.ID, len(r.Activations), r.Active, wantActs, wantActive)
		}
	}
	if _, err := e.RevisionSet(ctx, "0123456789abcdef"); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("RevisionSet(unknown) = %v, want NotFound", err)
	}
	if _, err := e.RevisionSet(ctx, "../x"); xapi.ErrorKind(err) != xapi.Invalid {
		t.Errorf("RevisionSet(malformed) = %v, want Invalid", err)
	}
}

// TestRevisionIsContentDerived: the id covers modules and data, tests
// included, and not the order or spacing of the data's keys.
func TestRevisionIsContentDerived(t *testing.T) {
	ctx := context.Background()
	base := governance.PolicySet{Modules: map[string]string{"authz.rego": minimal}, Data: json.RawMessage(`{"custodia": {"purposes": {}, "settings": {"admin_bypass": true, "break_glass_max_minutes": 10}}}`)}
	rev := func(set governance.PolicySet) string {
		t.Helper()
		c, err := newEngine(t).Compile(ctx, set)
		if err != nil {
			t.Fatal(err)
		}
		return c.Revision()
	}
	r0 := rev(base)
	if len(r0) != 16 {
		t.Fatalf("revision %q is not 16 hex digits", r0)
	}
	same := governance.PolicySet{Modules: base.Modules, Data: json.RawMessage(`{"custodia":{"settings":{"break_glass_max_minutes":10,"admin_bypass":true},"purposes":{}}}`)}
	if got := rev(same); got != r0 {
		t.Errorf("revision with the data keys reordered = %s, want %s", got, r0)
	}
	for name, set := range map[string]governance.PolicySet{
		"other data":  {Modules: base.Modules, Data: json.RawMessage(`{"custodia": {"purposes": {}, "settings": {"admin_bypass": true, "break_glass_max_minutes": 20}}}`)},
		"with a test": {Modules: map[string]string{"authz.rego": minimal, "minimal_test.rego": minimalTest}, Data: base.Data},
		"renamed":     {Modules: map[string]string{"main.rego": minimal}, Data: base.Data},
	} {
		if got := rev(set); got == r0 {
			t.Errorf("revision with %s = %s, the same as the base", name, got)
		}
	}
}

// TestDecideTimeout: a decision that runs past DecisionTimeout at request
// time is an error (the gate then refuses), not an answer.
func TestDecideTimeout(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	src := `package custodia.authz

decision := {"allow": true, "reasons": ["fast"]} if input.action != "slow"

decision := {"allow": ` + slow + ` > 0, "reasons": ["slow"]} if input.action == "slow"
`
	if _, err := e.Activate(ctx, governance.PolicySet{Modules: map[string]string{"authz.rego": src}}); err != nil {
		t.Fatalf("Activate = %v", err)
	}
	start := time.Now()
	d, err := e.Decide(ctx, governance.Input{Action: "slow"})
	took := time.Since(start)
	if xapi.ErrorKind(err) != xapi.Internal || d.Allow {
		t.Fatalf("Decide(slow) = %+v, %v; want an Internal error", d, err)
	}
	if took > 5*governance.DecisionTimeout {
		t.Errorf("Decide(slow) took %s, want about %s", took, governance.DecisionTimeout)
	}
	if !strings.Contains(err.Error(), "took longer than") {
		t.Errorf("Decide(slow) error = %v, want it to say it timed out", err)
	}
}

// TestRestore: revisions live in the record store; a new engine over the
// same records comes back on the revision activated last.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	st := governancetest.NewMemStore()
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }

	e1 := newEngine(t)
	pack := e1.Revision()
	if err := e1.Restore(ctx, st, now); err != nil {
		t.Fatalf("Restore(empty store) = %v", err)
	}
	if e1.Revision() != pack {
		t.Fatalf("Revision() after a first Restore = %s, want the pack %s", e1.Revision(), pack)
	}
	clock = clock.Add(time.Hour)
	rev, err := e1.Activate(ctx, governance.PolicySet{Modules: map[string]string{"authz.rego": minimal}})
	if err != nil {
		t.Fatal(err)
	}

	e2 := newEngine(t)
	if err := e2.Restore(ctx, st, now); err != nil {
		t.Fatalf("Restore(second engine) = %v", err)
	}
	if e2.Revision() != rev {
		t.Fatalf("Revision() after restart = %s, want %s", e2.Revision(), rev)
	}
	revs, err := e2.Revisions(ctx)
	if err != nil || len(revs) != 2 || revs[0].ID != pack || revs[1].ID != rev || !revs[1].Active {
		t.Fatalf("Revisions() after restart = %+v, %v; want the pack then %s (active)", revs, err, rev)
	}
	if !revs[1].Created.Equal(clock) {
		t.Errorf("revision %s created %v, want %v", rev, revs[1].Created, clock)
	}

	// A stored active revision that is corrupt stops the start: no silent
	// fallback to another policy.
	if err := st.PutRecord(ctx, "policy-active", "current", []byte(`{"revision":"0123456789abcdef"}`)); err != nil {
		t.Fatal(err)
	}
	if err := newEngine(t).Restore(ctx, st, now); err == nil {
		t.Error("Restore with an active revision that is not stored = nil, want an error")
	}
}
