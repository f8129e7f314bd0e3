package governance_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

// filterRow is a stored statement as a test case describes it.
type filterRow struct {
	mbox, purpose, basis string
	expires              time.Time // zero: never
	consented            bool      // its subject consents to its purpose (recorded, else the default)
	heldSubject          bool      // a legal hold on its subject
	heldPurpose          string    // a legal hold on a purpose
}

var filterNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// input is the statements.read input the gate builds for r.
func (r filterRow) input(p governance.Principal) governance.Input {
	ifi := xapi.Agent{Mbox: r.mbox}.IFI()
	expires := ""
	if !r.expires.IsZero() {
		expires = r.expires.Format(time.RFC3339Nano)
	}
	consentTo := r.purpose
	if consentTo == "" {
		consentTo = "learning-records"
	}
	holds := map[string]any{"subjects": []any{}, "purposes": []any{}}
	if r.heldSubject {
		holds["subjects"] = []any{ifi}
	}
	if r.heldPurpose != "" {
		holds["purposes"] = []any{r.heldPurpose}
	}
	return governance.Input{Principal: p, Action: "statements.read",
		Resource: map[string]any{"kind": "statement", "subjects": []any{ifi}, "about": []any{ifi}, "verb": completed,
			"purpose": r.purpose, "legal_basis": r.basis, "stored": filterNow.AddDate(-1, 0, 0).Format(time.RFC3339Nano), "expires": expires},
		Context: map[string]any{"now": filterNow.Format(time.RFC3339Nano), "holds": holds,
			"consents": map[string]any{ifi: map[string]any{consentTo: r.consented}}}}
}

// statement is r as the store returns it, carrying its Recorded.
func (r filterRow) statement(t *testing.T) *xapi.Statement {
	s := about(t, r.mbox, completed, negotiate, "")
	s.SetRecorded(xapi.Recorded{Purpose: r.purpose, LegalBasis: r.basis, Expires: r.expires})
	return s
}

func (r filterRow) holds() []governance.Hold {
	var hs []governance.Hold
	if r.heldSubject {
		hs = append(hs, governance.Hold{Agent: &xapi.Agent{Mbox: r.mbox}})
	}
	if r.heldPurpose != "" {
		hs = append(hs, governance.Hold{Purpose: r.heldPurpose})
	}
	return hs
}

// TestListFilterAgreesWithDecision: for each case the statements.read
// decision, the list-read filter compiled by partial evaluation and
// evaluated on the row facts, and the conditions the store is given agree:
// the decision and the filter exactly; the store conditions never exclude
// an allowed row, and exclude, without opening it, each row refused for a
// reason they can express (purpose, expiry, whose row it is).
func TestListFilterAgreesWithDecision(t *testing.T) {
	eng, err := governance.NewEngine(context.Background(), policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	future, past := filterNow.AddDate(1, 0, 0), filterNow.AddDate(0, 0, -1)
	hrSkills := staff("hr", "skills-development")
	client := governance.Principal{ID: "k-app", Roles: []string{"client"}, Scopes: []string{"statements/read"}}
	admin := governance.Principal{ID: "k-admin", Roles: []string{"admin"}, Scopes: []string{"all"}}
	alice := learner("k-alice", aliceMbox)
	skills := filterRow{mbox: aliceMbox, purpose: "skills-development", basis: "consent", expires: future, consented: true}
	with := func(r filterRow, edit func(*filterRow)) filterRow { edit(&r); return r }
	for _, tc := range []struct {
		name   string
		p      governance.Principal
		row    filterRow
		allow  bool
		pruned bool // the store conditions exclude the row
	}{
		{"hr reads a consented row of its purpose", hrSkills, skills, true, false},
		{"hr: consent withdrawn", hrSkills, with(skills, func(r *filterRow) { r.consented = false }), false, false},
		{"hr: another purpose", hrSkills, with(skills, func(r *filterRow) { r.purpose, r.basis = "compliance-training", "legal_obligation" }), false, true},
		{"hr: recorded under legitimate interest, no consent needed", hrSkills, with(skills, func(r *filterRow) { r.basis, r.consented = "legitimate_interest", false }), true, false},
		{"hr: expired", hrSkills, with(skills, func(r *filterRow) { r.expires = past }), false, true},
		{"hr: expired, subject on hold", hrSkills, with(skills, func(r *filterRow) { r.expires, r.heldSubject = past, true }), true, false},
		{"hr: expired, purpose on hold", hrSkills, with(skills, func(r *filterRow) { r.expires, r.heldPurpose = past, "skills-development" }), true, false},
		{"hr: expired, another purpose on hold", hrSkills, with(skills, func(r *filterRow) { r.expires, r.heldPurpose = past, "compliance-training" }), false, true},
		{"hr for the default purpose: no recorded purpose", staff("hr", ""), filterRow{mbox: bobMbox}, true, false},
		{"hr for skills: no recorded purpose is the default", hrSkills, filterRow{mbox: bobMbox}, false, true},
		{"compliance: purpose it may not read", staff("compliance", "skills-development"), skills, false, true},
		{"learner: own row of any purpose", alice, with(skills, func(r *filterRow) { r.consented = false }), true, false},
		{"learner: someone else's row", alice, with(skills, func(r *filterRow) { r.mbox = bobMbox }), false, true},
		{"learner: own row expired", alice, with(skills, func(r *filterRow) { r.expires = past }), false, true},
		{"client: default purpose", client, filterRow{mbox: bobMbox, purpose: "learning-records", basis: "legitimate_interest", expires: future}, true, false},
		{"client: another purpose", client, skills, false, true},
		{"admin: any purpose, no consent", admin, with(skills, func(r *filterRow) { r.consented = false }), true, false},
		{"admin: expired", admin, with(skills, func(r *filterRow) { r.expires = past }), false, true},
		{"admin: kept without limit", admin, with(skills, func(r *filterRow) { r.expires = time.Time{} }), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			in := tc.row.input(tc.p)
			d, err := eng.Decide(ctx, in)
			if err != nil || d.Allow != tc.allow {
				t.Fatalf("Decide = %v (%v), %v; want allow %v", d.Allow, d.Reasons, err, tc.allow)
			}
			inc, err := eng.FilterIncludes(ctx, in)
			if err != nil || inc != tc.allow {
				t.Errorf("FilterIncludes = %v, %v; want %v, as the decision", inc, err, tc.allow)
			}
			rows, ok, err := eng.RowConditions(ctx, tc.p, tc.row.holds(), filterNow)
			if err != nil || !ok {
				t.Fatalf("RowConditions = %v, %v", ok, err)
			}
			if pruned := !governancetest.RowsMatch(rows, tc.row.statement(t)); pruned != tc.pruned {
				b, _ := json.Marshal(rows)
				t.Errorf("store conditions %s exclude the row: %v, want %v", b, pruned, tc.pruned)
			}
		})
	}
}

// TestQueryReadsOnlyCandidates: through the gate, each principal's query
// returns exactly the statements a GetStatement of each id lets it see,
// while the store skips, undecided, the rows the conditions exclude.
func TestQueryReadsOnlyCandidates(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	f.consent(t, f.alice, "skills-development", true)
	f.consent(t, f.alice, "clickstream-analytics", true)
	f.consent(t, f.bob, "skills-development", true)
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, f.put(t, f.client,
			about(t, aliceMbox, completed, negotiate, ""),
			about(t, bobMbox, completed, negotiate, ""),
			about(t, aliceMbox, paused, introVideo, clickExtra),
			about(t, bobMbox, completed, fireSafety, ""),
			about(t, aliceMbox, completed, "http://courses.example.com/other", ""))...)
	}
	f.consent(t, f.bob, "skills-development", false)
	f.clock.Advance(100 * 24 * time.Hour) // clickstream (90 days) has expired
	for _, p := range []governance.Principal{
		staff("hr", "skills-development"), staff("hr", "clickstream-analytics"), staff("compliance", "compliance-training"),
		staff("hr", ""), f.alice, f.bob, f.admin,
	} {
		before := f.store.Pruned()
		page, _, err := f.gate.QueryStatements(ctx, p, xapi.Query{}, "")
		if err != nil {
			t.Fatalf("QueryStatements(%v/%s) = %v", p.Roles, p.Purpose, err)
		}
		var got []string
		for _, s := range page {
			got = append(got, s.ID())
		}
		var want []string
		for _, id := range ids {
			if _, err := f.gate.GetStatement(ctx, p, id, false); err == nil {
				want = append(want, id)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%v/%s: query = %v, want %v (those GetStatement shows)", p.Roles, p.Purpose, got, want)
		}
		if p.ID != f.admin.ID && f.store.Pruned() == before {
			t.Errorf("%v/%s: the store skipped no row by the list-read conditions", p.Roles, p.Purpose)
		}
	}
}

// TestConsentOfRecordedBasis: a statement recorded under consent is read
// under consent even after its purpose moved to another legal basis: the
// gate loads the consent to its recorded purpose, so a consent given still
// shows it and a withdrawn one still hides it.
func TestConsentOfRecordedBasis(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	f.consent(t, f.alice, "skills-development", true)
	f.consent(t, f.bob, "skills-development", true)
	ids := f.put(t, f.client, about(t, aliceMbox, completed, negotiate, ""), about(t, bobMbox, completed, negotiate, ""))
	f.consent(t, f.bob, "skills-development", false)

	data := policyData(t)
	data["custodia"].(map[string]any)["purposes"].(map[string]any)["skills-development"].(map[string]any)["legal_basis"] = "legitimate_interest"
	b, _ := json.Marshal(data)
	if _, err := f.gate.PutPolicyData(ctx, f.admin, b); err != nil {
		t.Fatalf("PutPolicyData = %v", err)
	}
	later := f.put(t, f.client, about(t, bobMbox, completed, negotiate, ""))

	hr := staff("hr", "skills-development")
	got, _ := f.visible(t, hr)
	want := []string{ids[0], later[0]} // bob's consent-based one stays hidden
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("hr sees %v, want %v: alice's consented row and bob's row under the new basis", got, want)
	}
	if _, err := f.gate.GetStatement(ctx, hr, ids[0], false); err != nil {
		t.Errorf("GetStatement(alice's consented row) = %v", err)
	}
	if _, err := f.gate.GetStatement(ctx, hr, ids[1], false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("GetStatement(bob's withdrawn row) = %v, want NotFound", err)
	}
}

// policyData is the default pack's data document.
func policyData(t *testing.T) map[string]any {
	t.Helper()
	raw, err := fs.ReadFile(policies.FS, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestCheckRefusesDisagreeingFilter: a list-read filter that would hide
// statements the decision shows is refused before activation, naming the
// filter; a policy set without one activates and lists by deciding every
// row.
func TestCheckRefusesDisagreeingFilter(t *testing.T) {
	ctx := context.Background()
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	set := eng.PolicySet()
	narrow := set
	narrow.Modules = maps(set.Modules, "filters.rego", "package custodia.filters\n\ninclude if input.row.purpose == \"compliance-training\"\n")
	_, err = eng.Check(ctx, narrow)
	if xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), "list-read filter") || !strings.Contains(xapi.ErrorMessage(err), "must agree") {
		t.Errorf("Check(a filter narrower than the decision) = %v, want Invalid naming the filter", err)
	}
	untranslatable := set
	untranslatable.Modules = maps(set.Modules, "filters.rego", "package custodia.filters\n\ninclude if count(input.row.purpose) > 3\n")
	if _, err := eng.Check(ctx, untranslatable); xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), "list-read filter") {
		t.Errorf("Check(a filter partial evaluation cannot translate) = %v, want Invalid naming the filter", err)
	}

	none := set
	none.Modules = maps(set.Modules, "filters.rego", "")
	delete(none.Modules, "filters.rego")
	delete(none.Modules, "filters_test.rego")
	if _, err := eng.Activate(ctx, none); err != nil {
		t.Fatalf("Activate(without a filter) = %v", err)
	}
	if rows, ok, err := eng.RowConditions(ctx, staff("hr", "skills-development"), nil, filterNow); ok || rows != nil || err != nil {
		t.Errorf("RowConditions without a filter = %v, %v, %v; want none", rows, ok, err)
	}
}

func maps(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for x, y := range m {
		out[x] = y
	}
	out[k] = v
	return out
}

// TestQueryWithoutUsableFilter: a filter that compiles but cannot be
// translated for a principal (here loaded without Check) does not fail
// the query: every row is decided instead, with the same answer.
func TestQueryWithoutUsableFilter(t *testing.T) {
	m := fstest.MapFS{}
	entries, err := fs.ReadDir(policies.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := fs.ReadFile(policies.FS, e.Name())
		m[e.Name()] = &fstest.MapFile{Data: b}
	}
	m["filters.rego"] = &fstest.MapFile{Data: []byte("package custodia.filters\n\ninclude if count(input.row.purpose) > 3\n")}
	delete(m, "filters_test.rego")
	f := newPurposeFixture(t, m)
	f.consent(t, f.alice, "skills-development", true)
	ids := f.put(t, f.client, about(t, aliceMbox, completed, negotiate, ""), about(t, bobMbox, completed, fireSafety, ""))
	got, _ := f.visible(t, staff("hr", "skills-development"))
	if !slices.Equal(got, ids[:1]) || f.store.Pruned() != 0 {
		t.Errorf("hr sees %v with %d rows pruned, want %v, every row decided", got, f.store.Pruned(), ids[:1])
	}
}
