package governance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

// policyFixture is a gate with principals of every role.
type policyFixture struct {
	now    time.Time // the gate's clock
	gate   *governance.Gate
	engine *governance.Engine
	store  *governancetest.MemStore
	audit  *governancetest.MemAuditor
	role   map[string]governance.Principal
}

func newPolicyFixture(t *testing.T) *policyFixture {
	t.Helper()
	ctx := context.Background()
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	st := governancetest.NewMemStore()
	if err := eng.Restore(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	f := &policyFixture{engine: eng, store: st, audit: &governancetest.MemAuditor{}, role: map[string]governance.Principal{}}
	f.now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.gate = governance.NewGate(governance.GateConfig{
		Engine: eng, Statements: st, Records: st, Activities: st, Documents: st, Auditor: f.audit,
		Pseudonymizer: governancetest.Pseudonymizer{}, AuthorityHomePage: "http://lrs.example.com/",
		Now: func() time.Time { return f.now },
	})
	for _, role := range []string{"admin", "compliance", "hr", "auditor", "learner", "client"} {
		f.role[role] = governance.Principal{ID: "k-" + role, Roles: []string{role}, Scopes: governance.SimulationScopes(role)}
	}
	alice := xapi.Agent{Mbox: "mailto:alice@example.com"}
	l := f.role["learner"]
	l.Agent = &alice
	f.role["learner"] = l
	return f
}

// lastEntry returns the last audit entry.
func (f *policyFixture) lastEntry(t *testing.T) governance.AuditEntry {
	t.Helper()
	es := f.audit.Entries()
	if len(es) == 0 {
		t.Fatal("no audit entry")
	}
	return es[len(es)-1]
}

// extraModule lets auditors manage credentials, which no default rule
// does: an effect that is easy to observe and that no pack test forbids.
const extraModule = `package custodia.authz

# Auditors may manage credentials in this test policy.
allow contains "auditors may manage credentials" if {
	input.action == "credentials.manage"
	"auditor" in roles
}
`

func TestPolicyManagementByRole(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		role         string
		read, manage bool
	}{
		{"admin", true, true},
		{"compliance", true, true},
		{"auditor", true, false},
		{"hr", false, false},
		{"learner", false, false},
		{"client", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			f := newPolicyFixture(t)
			p := f.role[tt.role]
			_, err := f.gate.Policies(ctx, p)
			if got := err == nil; got != tt.read {
				t.Errorf("Policies(%s) = %v, want allowed %v", tt.role, err, tt.read)
			}
			if !tt.read && xapi.ErrorKind(err) != xapi.Forbidden {
				t.Errorf("Policies(%s) = %v, want Forbidden", tt.role, err)
			}
			// HR also reads the revisions (not the modules).
			_, err = f.gate.PolicyRevisions(ctx, p)
			if want := tt.read || tt.role == "hr"; (err == nil) != want {
				t.Errorf("PolicyRevisions(%s) = %v, want allowed %v", tt.role, err, want)
			}
			// HR defines the purposes: it reads and replaces the policy data.
			dataRead, dataManage := tt.read || tt.role == "hr", tt.manage || tt.role == "hr"
			data, err := f.gate.PolicyData(ctx, p)
			if got := err == nil; got != dataRead {
				t.Errorf("PolicyData(%s) = %v, want allowed %v", tt.role, err, dataRead)
			}
			if data == nil {
				data = f.engine.PolicySet().Data
			}
			_, err = f.gate.PutPolicyData(ctx, p, data)
			if got := err == nil; got != dataManage {
				t.Errorf("PutPolicyData(%s) = %v, want allowed %v", tt.role, err, dataManage)
			}
			before := f.engine.Revision()
			_, err = f.gate.PutPolicyModule(ctx, p, "extra.rego", extraModule)
			if got := err == nil; got != tt.manage {
				t.Errorf("PutPolicyModule(%s) = %v, want allowed %v", tt.role, err, tt.manage)
			}
			if changed := f.engine.Revision() != before; changed != tt.manage {
				t.Errorf("PutPolicyModule(%s) changed the revision: %v, want %v", tt.role, changed, tt.manage)
			}
			if e := f.lastEntry(t); e.Action != governance.ActionPoliciesManage || (e.Decision == "allow") != tt.manage {
				t.Errorf("last audit entry = %s %s, want policies.manage allowed %v", e.Action, e.Decision, tt.manage)
			}
		})
	}
}

func TestPutPolicyModule(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	compliance, auditor := f.role["compliance"], f.role["auditor"]
	pack := f.engine.Revision()
	if _, err := f.gate.ListCredentials(ctx, auditor); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Fatalf("ListCredentials(auditor) under the pack = %v, want Forbidden", err)
	}

	rev, err := f.gate.PutPolicyModule(ctx, compliance, "extra.rego", extraModule)
	if err != nil {
		t.Fatalf("PutPolicyModule = %v", err)
	}
	if rev == pack || f.gate.PolicyRevision() != rev {
		t.Fatalf("PutPolicyModule = %s; active %s; want a new active revision", rev, f.gate.PolicyRevision())
	}
	e := f.lastEntry(t)
	if e.Decision != "allow" || e.PolicyRevision != pack || !contains(e.Resources, "policy:extra.rego") || !contains(e.Resources, "revision:"+rev) {
		t.Errorf("audit entry = %+v; want allowed under %s naming the module and revision %s", e, pack, rev)
	}
	src, err := f.gate.PolicyModule(ctx, compliance, "extra.rego")
	if err != nil || src != extraModule {
		t.Errorf("PolicyModule(extra.rego) = %q, %v; want the source uploaded", src, err)
	}
	ov, err := f.gate.Policies(ctx, compliance)
	if err != nil || ov.Revision != rev {
		t.Fatalf("Policies() = %+v, %v; want revision %s", ov, err, rev)
	}
	var names []string
	for _, m := range ov.Modules {
		names = append(names, fmt.Sprintf("%s:%v", m.Name, m.Test))
		if m.Test != strings.HasSuffix(m.Name, "_test.rego") || m.Bytes == 0 {
			t.Errorf("Policies().Modules has %+v", m)
		}
	}
	for _, want := range []string{"authz.rego:false", "authz_test.rego:true", "extra.rego:false", "manage.rego:false", "manage_test.rego:true"} {
		if !contains(names, want) {
			t.Errorf("Policies().Modules = %v, want %s among them", names, want)
		}
	}
	// The new rule decides: auditors may now list credentials.
	if _, err := f.gate.ListCredentials(ctx, auditor); err != nil {
		t.Errorf("ListCredentials(auditor) under the new policy = %v, want allowed", err)
	}

	// A module that does not compile is refused, with the line, and the
	// refusal is recorded without the source.
	bad := "package custodia.authz\n\nallow contains \"secret-rule-text\" if {\n\tinput.action == unknown_var\n}\n"
	_, err = f.gate.PutPolicyModule(ctx, compliance, "bad.rego", bad)
	if xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), "bad.rego:4") {
		t.Fatalf("PutPolicyModule(bad) = %v, want Invalid naming bad.rego:4", err)
	}
	if f.gate.PolicyRevision() != rev {
		t.Errorf("active revision after a refused module = %s, want %s", f.gate.PolicyRevision(), rev)
	}
	e = f.lastEntry(t)
	if e.Decision != "deny" || !contains(e.Reasons, "policy change refused: policy does not compile") {
		t.Errorf("audit entry of the refusal = %+v, want deny, policy does not compile", e)
	}
	if _, err := f.gate.PolicyModule(ctx, compliance, "bad.rego"); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("PolicyModule(bad.rego) = %v, want NotFound", err)
	}
	for _, e := range f.audit.Entries() {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), "secret-rule-text") || strings.Contains(string(b), "in this test policy") {
			t.Errorf("audit entry holds policy source: %s", b)
		}
	}

	// Names are checked before anything else.
	for _, name := range []string{"Extra.rego", "extra", "../extra.rego", "_x.rego", ".rego"} {
		if _, err := f.gate.PutPolicyModule(ctx, compliance, name, extraModule); xapi.ErrorKind(err) != xapi.Invalid {
			t.Errorf("PutPolicyModule(%q) = %v, want Invalid", name, err)
		}
	}

	// Deleting brings the earlier content, and so the earlier id, back.
	back, err := f.gate.DeletePolicyModule(ctx, compliance, "extra.rego")
	if err != nil || back != pack {
		t.Errorf("DeletePolicyModule(extra.rego) = %s, %v; want %s", back, err, pack)
	}
	if _, err := f.gate.DeletePolicyModule(ctx, compliance, "extra.rego"); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("DeletePolicyModule(missing) = %v, want NotFound", err)
	}
	// Deleting the module that defines the decision is refused.
	if _, err := f.gate.DeletePolicyModule(ctx, compliance, "authz.rego"); xapi.ErrorKind(err) != xapi.Invalid {
		t.Errorf("DeletePolicyModule(authz.rego) = %v, want Invalid", err)
	}
}

// Tests go with their module: compliance cannot delete the tests of a
// module that stays (the pack's or an upload's); deleting the module takes
// its tests with it.
func TestDeleteTestModuleWithItsModule(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	compliance := f.role["compliance"]
	pack := f.engine.Revision()
	const extraTest = `package custodia.authz_test

test_extra_ok if { true }
`
	if _, err := f.gate.PutPolicyModule(ctx, compliance, "extra.rego", extraModule); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.PutPolicyModule(ctx, compliance, "extra_test.rego", extraTest); err != nil {
		t.Fatal(err)
	}
	withExtra := f.engine.Revision()
	for _, tc := range []struct{ test, module string }{
		{"authz_test.rego", "authz.rego"},
		{"purposes_test.rego", "purposes.rego"},
		{"manage_test.rego", "manage.rego"},
		{"extra_test.rego", "extra.rego"},
	} {
		t.Run(tc.test, func(t *testing.T) {
			_, err := f.gate.DeletePolicyModule(ctx, compliance, tc.test)
			if xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), "tests go with their module") || !strings.Contains(xapi.ErrorMessage(err), tc.module) {
				t.Errorf("DeletePolicyModule(%s) = %v, want Invalid: tests go with their module, naming %s", tc.test, err, tc.module)
			}
			if _, ok := f.engine.PolicySet().Modules[tc.test]; !ok || f.engine.Revision() != withExtra {
				t.Errorf("after the refused delete of %s: present %v, revision %s; want it kept and %s active", tc.test, ok, f.engine.Revision(), withExtra)
			}
			if e := f.audit.Entries()[len(f.audit.Entries())-1]; e.Decision != "deny" {
				t.Errorf("audit entry of the refused delete: %s, want deny", e.Decision)
			}
		})
	}
	rev, err := f.gate.DeletePolicyModule(ctx, compliance, "extra.rego")
	if err != nil || rev != pack {
		t.Errorf("DeletePolicyModule(extra.rego) = %s, %v; want the pack %s again, its tests gone with it", rev, err, pack)
	}
	if _, ok := f.engine.PolicySet().Modules["extra_test.rego"]; ok {
		t.Errorf("extra_test.rego is still present after extra.rego was deleted")
	}
}

func TestPutPolicyData(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	compliance := f.role["compliance"]
	data := withPurpose(t, f.engine.PolicySet().Data, "training")
	rev, err := f.gate.PutPolicyData(ctx, compliance, data)
	if err != nil {
		t.Fatalf("PutPolicyData = %v", err)
	}
	got, err := f.gate.PolicyData(ctx, compliance)
	if err != nil || string(got) != string(data) {
		t.Errorf("PolicyData() = %s, %v; want %s", got, err, data)
	}
	if f.gate.PolicyRevision() != rev {
		t.Errorf("active revision = %s, want %s", f.gate.PolicyRevision(), rev)
	}
	if _, err := f.gate.PutPolicyData(ctx, compliance, json.RawMessage(`"purposes"`)); xapi.ErrorKind(err) != xapi.Invalid {
		t.Errorf("PutPolicyData(a string) = %v, want Invalid", err)
	}
	if e := f.lastEntry(t); e.Decision != "deny" || !contains(e.Resources, "policy-data") {
		t.Errorf("audit entry = %+v, want a refused policy-data change", e)
	}
	// Purposes are checked (ParsePolicyData) before anything else: one with
	// an unknown legal basis never becomes active.
	var d map[string]any
	if err := json.Unmarshal(withPurpose(t, data, "whims"), &d); err != nil {
		t.Fatal(err)
	}
	d["custodia"].(map[string]any)["purposes"].(map[string]any)["whims"].(map[string]any)["legal_basis"] = "whim"
	bad, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.PutPolicyData(ctx, compliance, bad); xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), "purposes.whims: legal_basis") {
		t.Errorf("PutPolicyData(a purpose with legal basis whim) = %v, want Invalid naming purposes.whims: legal_basis", err)
	}
	if f.gate.PolicyRevision() != rev || f.engine.PolicyData().Purposes["whims"].ID != "" || f.engine.PolicyData().Purposes["training"].ID != "training" {
		t.Errorf("after a refused data change: revision %s, purposes %v; want %s and training unchanged", f.gate.PolicyRevision(), f.engine.PolicyData().PurposeIDs(), rev)
	}
}

// withPurpose returns data (canonical: sorted keys, no spaces) with one
// more purpose, id, of the shape of the contract, which maps nothing to it.
func withPurpose(t *testing.T, data json.RawMessage, id string) json.RawMessage {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	c, _ := d["custodia"].(map[string]any)
	if c == nil {
		c = map[string]any{}
		d["custodia"] = c
	}
	ps, _ := c["purposes"].(map[string]any)
	if ps == nil {
		ps = map[string]any{}
		c["purposes"] = ps
	}
	ps[id] = map[string]any{
		"title": "Training", "description": "A purpose added by a test.", "legal_basis": "contract", "retention_days": 365,
		"readers": []string{"hr"}, "masks": map[string]any{}, "minimise": []string{}, "signed_statements": "keep_whole",
		"match": map[string]any{"clients": []string{}, "activity_prefixes": []string{}, "verbs": []string{}, "activity_types": []string{}},
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRollbackPolicy(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	compliance := f.role["compliance"]
	pack := f.engine.Revision()
	rev, err := f.gate.PutPolicyModule(ctx, compliance, "extra.rego", extraModule)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.gate.RollbackPolicy(ctx, compliance, pack)
	if err != nil || got != pack || f.gate.PolicyRevision() != pack {
		t.Fatalf("RollbackPolicy(%s) = %s, %v; active %s", pack, got, err, f.gate.PolicyRevision())
	}
	e := f.lastEntry(t)
	if e.Decision != "allow" || e.PolicyRevision != rev || !contains(e.Resources, "revision:"+pack) || !contains(e.Resources, "from:"+rev) {
		t.Errorf("audit entry of the rollback = %+v", e)
	}
	// Forward again to the uploaded revision.
	if got, err := f.gate.RollbackPolicy(ctx, compliance, rev); err != nil || got != rev {
		t.Errorf("RollbackPolicy(%s) = %s, %v", rev, got, err)
	}
	revs, err := f.gate.PolicyRevisions(ctx, compliance)
	if err != nil || len(revs) != 2 || !revs[1].Active || len(revs[0].Activations) != 2 || len(revs[1].Activations) != 2 {
		t.Errorf("PolicyRevisions() = %+v, %v; want 2 revisions activated twice each, the second active", revs, err)
	}
	for _, tt := range []struct {
		id   string
		kind xapi.Kind
	}{{"0123456789abcdef", xapi.NotFound}, {"nope", xapi.Invalid}} {
		if _, err := f.gate.RollbackPolicy(ctx, compliance, tt.id); xapi.ErrorKind(err) != tt.kind {
			t.Errorf("RollbackPolicy(%q) = %v, want %v", tt.id, err, tt.kind)
		}
	}
	if _, err := f.gate.RollbackPolicy(ctx, f.role["auditor"], pack); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("RollbackPolicy as auditor = %v, want Forbidden", err)
	}
}

// TestEvaluationTimeoutFailsClosed: a policy too slow for a request makes
// the gate refuse it and record the refusal.
func TestEvaluationTimeoutFailsClosed(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	admin := f.role["admin"]
	s, err := xapi.ParseStatement([]byte(`{"actor":{"mbox":"mailto:bob@example.com"},"verb":{"id":"http://example.com/verbs/slow"},"object":{"id":"http://example.com/course/1"}}`), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.gate.PutStatements(ctx, admin, []*xapi.Statement{s}, xapi.V200, nil)
	if err != nil {
		t.Fatal(err)
	}
	slowRead := `package custodia.authz

allow contains "slow" if {
	input.action == "statements.read"
	input.resource.verb == "http://example.com/verbs/slow"
	` + slow + ` > 0
}
`
	if _, err := f.gate.PutPolicyModule(ctx, admin, "slow.rego", slowRead); err != nil {
		t.Fatalf("PutPolicyModule(slow) = %v", err)
	}
	_, err = f.gate.GetStatement(ctx, admin, ids[0], false)
	if xapi.ErrorKind(err) != xapi.Unavailable {
		t.Fatalf("GetStatement under a slow policy = %v, want a refusal (Unavailable: 503)", err)
	}
	if e := f.lastEntry(t); e.Decision != "deny" || !contains(e.Reasons, "policy evaluation failed") {
		t.Errorf("audit entry = %+v, want a recorded denial", e)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// editPurposes returns data with edit applied to its purposes.
func editPurposes(t *testing.T, data json.RawMessage, edit func(ps map[string]any)) json.RawMessage {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	edit(d["custodia"].(map[string]any)["purposes"].(map[string]any))
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The pack's tests run on their own fixture data, so ordinary purpose
// edits through the API pass them: each is activated, by HR, one after
// the other.
func TestPolicyDataEditsPassThePackTests(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	purpose := func(ps map[string]any, id string) map[string]any { return ps[id].(map[string]any) }
	edits := []struct {
		name string
		edit func(ps map[string]any)
	}{
		{"hr mask on skills-development", func(ps map[string]any) {
			purpose(ps, "skills-development")["masks"] = map[string]any{"hr": []any{"result.response"}}
		}},
		{"hr no longer reads learning-records", func(ps map[string]any) {
			purpose(ps, "learning-records")["readers"] = []any{"compliance", "learner", "client"}
		}},
		{"learning-records based on consent", func(ps map[string]any) {
			purpose(ps, "learning-records")["legal_basis"] = "consent"
		}},
		{"clickstream-analytics kept shorter", func(ps map[string]any) {
			purpose(ps, "clickstream-analytics")["retention_days"] = 60
		}},
	}
	for _, tc := range edits {
		t.Run(tc.name, func(t *testing.T) {
			data := editPurposes(t, f.engine.PolicySet().Data, tc.edit)
			rev, err := f.gate.PutPolicyData(ctx, f.role["hr"], data)
			if err != nil {
				t.Fatalf("PutPolicyData(%s) = %v, want it activated", tc.name, err)
			}
			if f.gate.PolicyRevision() != rev {
				t.Errorf("active revision = %s, want %s", f.gate.PolicyRevision(), rev)
			}
		})
	}
}

func TestLoosenings(t *testing.T) {
	base := func() governance.PolicyData {
		return governance.PolicyData{
			Purposes: map[string]governance.Purpose{
				"law": {ID: "law", LegalBasis: governance.BasisLegalObligation, RetentionDays: 100, Readers: []string{"hr"}},
				"opt": {ID: "opt", LegalBasis: governance.BasisConsent, RetentionDays: 30, Readers: []string{"hr"},
					Masks: map[string][]string{"hr": {"result.response"}}, Minimise: []string{"context.extensions"},
					Match: governance.PurposeMatch{Verbs: []string{"v"}}},
			},
			Settings: governance.Settings{DefaultPurpose: "law"},
		}
	}
	tests := []struct {
		name string
		edit func(d *governance.PolicyData)
		want []string
	}{
		{"nothing", func(d *governance.PolicyData) {}, nil},
		{"tightening", func(d *governance.PolicyData) {
			o := d.Purposes["opt"]
			o.RetentionDays, o.Readers, o.Masks = 10, nil, map[string][]string{"hr": {"result.response", "result.score"}}
			d.Purposes["opt"] = o
			l := d.Purposes["law"]
			l.RetentionDays = 200
			d.Purposes["law"] = l
		}, []string{"purposes.law.retention_days: lengthened"}},
		{"mask removed", func(d *governance.PolicyData) {
			o := d.Purposes["opt"]
			o.Masks = nil
			d.Purposes["opt"] = o
		}, []string{"purposes.opt.masks.hr: result.response removed"}},
		{"reader added, minimise removed", func(d *governance.PolicyData) {
			o := d.Purposes["opt"]
			o.Readers, o.Minimise = []string{"hr", "client"}, nil
			d.Purposes["opt"] = o
		}, []string{"purposes.opt.readers: client added", "purposes.opt.minimise: context.extensions removed"}},
		{"basis away from consent", func(d *governance.PolicyData) {
			o := d.Purposes["opt"]
			o.LegalBasis = governance.BasisLegitimate
			d.Purposes["opt"] = o
		}, []string{"purposes.opt.legal_basis: legitimate_interest instead of consent"}},
		{"legal obligation shortened, unlimited elsewhere", func(d *governance.PolicyData) {
			l, o := d.Purposes["law"], d.Purposes["opt"]
			l.RetentionDays, o.RetentionDays = 50, 0
			d.Purposes["law"], d.Purposes["opt"] = l, o
		}, []string{"purposes.law.retention_days: shortened under legal obligation", "purposes.opt.retention_days: lengthened"}},
		{"consent match changed, new purpose, settings", func(d *governance.PolicyData) {
			o := d.Purposes["opt"]
			o.Match = governance.PurposeMatch{Verbs: []string{"w"}}
			d.Purposes["opt"] = o
			d.Purposes["new"] = governance.Purpose{ID: "new", LegalBasis: governance.BasisContract, Match: governance.PurposeMatch{Verbs: []string{"v"}}}
			d.Settings = governance.Settings{DefaultPurpose: "new", AdminBypass: true}
		}, []string{"purposes.opt.match: changed on a purpose based on consent", "purposes.new: added, mapping statements without consent",
			"settings.default_purpose: changed", "settings.admin_bypass: turned on"}},
		{"consent purpose removed", func(d *governance.PolicyData) { delete(d.Purposes, "opt") }, []string{"purposes.opt: removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := base()
			tt.edit(&n)
			if got := governance.Loosenings(base(), n); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Loosenings = %q, want %q", got, tt.want)
			}
		})
	}
}

// HR may tighten the purposes alone; a change that loosens a control needs
// compliance. HR may simulate, not roll back.
func TestHRLooseningNeedsCompliance(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t)
	hr, compliance := f.role["hr"], f.role["compliance"]
	start := f.gate.PolicyRevision()
	purpose := func(ps map[string]any, id string) map[string]any { return ps[id].(map[string]any) }
	loosen := []struct {
		name string
		edit func(ps map[string]any)
	}{
		{"mask removed", func(ps map[string]any) { purpose(ps, "clickstream-analytics")["masks"] = map[string]any{} }},
		{"legal obligation kept shorter", func(ps map[string]any) { purpose(ps, "compliance-training")["retention_days"] = 30 }},
		{"consent basis changed", func(ps map[string]any) { purpose(ps, "skills-development")["legal_basis"] = "legitimate_interest" }},
		{"reader added", func(ps map[string]any) {
			purpose(ps, "skills-development")["readers"] = []any{"hr", "learner", "client"}
		}},
		{"minimise removed", func(ps map[string]any) { purpose(ps, "clickstream-analytics")["minimise"] = []any{} }},
	}
	for _, tc := range loosen {
		t.Run(tc.name, func(t *testing.T) {
			data := editPurposes(t, f.engine.PolicySet().Data, tc.edit)
			before := f.gate.PolicyRevision()
			_, err := f.gate.PutPolicyData(ctx, hr, data)
			if xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(xapi.ErrorMessage(err), "needs compliance") {
				t.Fatalf("PutPolicyData(hr, %s) = %v, want Forbidden: needs compliance", tc.name, err)
			}
			if f.gate.PolicyRevision() != before {
				t.Errorf("a refused change became active")
			}
			if e := f.lastEntry(t); e.Decision != "deny" {
				t.Errorf("audit entry %s, want deny", e.Decision)
			}
			if _, err := f.gate.PutPolicyData(ctx, compliance, data); err != nil {
				t.Errorf("PutPolicyData(compliance, %s) = %v, want activated", tc.name, err)
			}
		})
	}
	if _, err := f.gate.SimulatePolicy(ctx, hr, governance.SimulationRequest{Data: f.engine.PolicySet().Data}); err != nil {
		t.Errorf("SimulatePolicy(hr) = %v, want allowed", err)
	}
	if _, err := f.gate.RollbackPolicy(ctx, hr, start); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("RollbackPolicy(hr) = %v, want Forbidden", err)
	}
}
