package governance_test

import (
	"context"
	"slices"
	"testing"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/xapi"
)

// TestAccessLog: a read that returned a statement about a person appears in
// that person's access log, stripped of everything about anyone else; a
// read that did not, does not.
func TestAccessLog(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bobID := "mailto:bob@example.com"
	bob := f.newPrincipal(t, governance.CredentialRequest{Name: "bob", Roles: []string{"learner"}, Scopes: []string{"statements/read/mine"}, Agent: &xapi.Agent{Mbox: bobID}})
	ids, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID), statement(t, bobID), statement(t, "mailto:carol@example.com")}, xapi.V200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.GetStatement(ctx, f.client, ids[0], false); err != nil { // about alice
		t.Fatal(err)
	}
	if _, err := f.gate.GetStatement(ctx, f.client, ids[2], false); err != nil { // about carol
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name    string
		p       governance.Principal
		actions []string // in order
		counts  []int
	}{
		// The write stored 3 statements, one about each: the count is hers.
		{"alice", f.alice, []string{"statements.write", "statements.read"}, []int{1, 1}},
		{"bob", bob, []string{"statements.write"}, []int{1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := f.gate.AccessLog(ctx, tt.p, "", 0)
			if err != nil || next != "" {
				t.Fatalf("AccessLog(%s) = %v, %q", tt.name, err, next)
			}
			var actions []string
			var counts []int
			client := (governancetest.Pseudonymizer{}).Pseudonym("principal:" + f.client.ID)
			for _, e := range got {
				actions, counts = append(actions, e.Action), append(counts, e.Count)
				if e.Principal != client || e.Decision != "allow" {
					t.Errorf("AccessLog(%s) entry %d = principal %q, decision %q, want the client's pseudonym, allow", tt.name, e.Index, e.Principal, e.Decision)
				}
			}
			if !slices.Equal(actions, tt.actions) || !slices.Equal(counts, tt.counts) {
				t.Errorf("AccessLog(%s) = actions %v, counts %v, want %v, %v", tt.name, actions, counts, tt.actions, tt.counts)
			}
		})
	}

	// The access-log reads are recorded, without subjects.
	last := f.audit.Entries()[len(f.audit.Entries())-1]
	if last.Action != "audit.access_log" || last.Decision != "allow" || len(last.Subjects) != 0 {
		t.Errorf("last audit entry = %+v, want an allowed audit.access_log without subjects", last)
	}
	// A principal that stands for no person has no access log.
	if _, _, err := f.gate.AccessLog(ctx, f.client, "", 0); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("AccessLog(client) = %v, want Forbidden", err)
	}
}

func TestAuditEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	auditor := f.newPrincipal(t, governance.CredentialRequest{Name: "dpo", Roles: []string{"auditor"}})
	ids, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, "mailto:bob@example.com")}, xapi.V200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.GetStatement(ctx, f.client, ids[0], false); err != nil {
		t.Fatal(err)
	}

	recs, _, err := f.gate.AuditEntries(ctx, auditor, governance.AuditQuery{Agent: &xapi.Agent{Mbox: "mailto:bob@example.com"}}, "", 10)
	if err != nil {
		t.Fatalf("AuditEntries(agent bob) = %v", err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Entry.Action)
	}
	if want := []string{"statements.write", "statements.read"}; !slices.Equal(actions, want) {
		t.Errorf("AuditEntries(agent bob) = %v, want %v", actions, want)
	}
	last := f.audit.Entries()[len(f.audit.Entries())-1]
	bobPseudonym := governancetest.Pseudonymizer{}.Pseudonym("subject:mbox:mailto:bob@example.com")
	if last.Action != "audit.read" || last.Count != 2 || !slices.Contains(last.Subjects, bobPseudonym) || last.Resources[0] != "audit(agent)" {
		t.Errorf("audit entry of the read = %+v, want audit.read of 2 entries about bob, naming the filters only", last)
	}

	recs, _, err = f.gate.AuditEntries(ctx, auditor, governance.AuditQuery{Action: "audit.read", Decision: "allow"}, "", 10)
	if err != nil || len(recs) != 1 {
		t.Errorf("AuditEntries(action audit.read) = %d records, %v, want 1", len(recs), err)
	}

	for name, call := range map[string]func(governance.Principal) error{
		"entries": func(p governance.Principal) error {
			_, _, err := f.gate.AuditEntries(ctx, p, governance.AuditQuery{}, "", 1)
			return err
		},
		"checkpoint":  func(p governance.Principal) error { _, err := f.gate.AuditCheckpoint(ctx, p); return err },
		"publish":     func(p governance.Principal) error { _, err := f.gate.PublishAuditCheckpoint(ctx, p); return err },
		"inclusion":   func(p governance.Principal) error { _, err := f.gate.AuditInclusionProof(ctx, p, 0, 1); return err },
		"consistency": func(p governance.Principal) error { _, err := f.gate.AuditConsistencyProof(ctx, p, 1, 1); return err },
	} {
		if err := call(auditor); err != nil {
			t.Errorf("%s as auditor = %v", name, err)
		}
		if err := call(f.admin); err != nil {
			t.Errorf("%s as admin = %v", name, err)
		}
		n := len(f.audit.Entries())
		if err := call(f.client); xapi.ErrorKind(err) != xapi.Forbidden {
			t.Errorf("%s as client = %v, want Forbidden", name, err)
		}
		if got := f.audit.Entries(); len(got) != n+1 || got[n].Decision != "deny" {
			t.Errorf("%s as client: the refusal was not recorded", name)
		}
		if err := call(f.alice); xapi.ErrorKind(err) != xapi.Forbidden {
			t.Errorf("%s as learner = %v, want Forbidden", name, err)
		}
	}
	if key, err := f.gate.AuditKey(ctx, f.alice); err != nil || key != governancetest.MemVerifierKey {
		t.Errorf("AuditKey(learner) = %q, %v, want the verifier key", key, err)
	}
	if _, err := f.gate.CosignAuditCheckpoint(ctx, auditor, []byte("not a note")); xapi.ErrorKind(err) != xapi.Invalid {
		t.Errorf("CosignAuditCheckpoint(garbage) = %v, want Invalid", err)
	}
}

func TestAuditWithoutLog(t *testing.T) {
	f := newFixture(t)
	g := governance.NewGate(governance.GateConfig{Engine: nil, Auditor: f.audit, Pseudonymizer: governancetest.Pseudonymizer{}})
	if _, err := g.AuditCheckpoint(context.Background(), f.admin); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("AuditCheckpoint without an AuditLog = %v, want NotFound", err)
	}
}

// aboutStatement parses a statement with the given actor and object (JSON).
func aboutStatement(t *testing.T, actor, object string) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(`{"actor":`+actor+`,"verb":{"id":"http://adlnet.gov/expapi/verbs/mentored"},"object":`+object+`}`), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAccessLogObjectAndGroups: a statement is about everyone the read
// policy counts it as about — its actor, an Agent or Group object, and
// the members of a Group — so each of them sees the writes, reads,
// queries and attachment reads of it in their access log, with their own
// count; nobody else's read is credited to them.
func TestAccessLogObjectAndGroups(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	person := func(name string) governance.Principal {
		return f.newPrincipal(t, governance.CredentialRequest{Name: name, Roles: []string{"learner"}, Scopes: []string{"statements/read/mine"},
			Agent: &xapi.Agent{Mbox: "mailto:" + name + "@example.com"}})
	}
	bob, carol, dave := person("bob"), person("carol"), person("dave")
	stmts := []*xapi.Statement{
		// alice mentored bob: about alice (actor) and bob (object).
		aboutStatement(t, `{"mbox":"mailto:alice@example.com"}`, `{"objectType":"Agent","mbox":"mailto:bob@example.com"}`),
		// alice mentored a group with carol in it.
		aboutStatement(t, `{"mbox":"mailto:alice@example.com"}`, `{"objectType":"Group","member":[{"mbox":"mailto:carol@example.com"}]}`),
		// a group with bob and carol completed a course.
		aboutStatement(t, `{"objectType":"Group","member":[{"mbox":"mailto:bob@example.com"},{"mbox":"mailto:carol@example.com"}]}`, `{"id":"http://example.com/course/1"}`),
	}
	ids, err := f.gate.PutStatements(ctx, f.client, stmts, xapi.V200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.GetStatement(ctx, f.client, ids[0], false); err != nil { // about alice and bob
		t.Fatal(err)
	}
	page, _, err := f.gate.QueryStatements(ctx, f.client, xapi.Query{}, "") // all three
	if err != nil || len(page) != 3 {
		t.Fatalf("QueryStatements = %d statements, %v", len(page), err)
	}
	type seen struct {
		action string
		count  int
	}
	for _, tt := range []struct {
		name string
		p    governance.Principal
		want []seen
	}{
		{"alice", f.alice, []seen{{"statements.write", 2}, {"statements.read", 1}, {"statements.query", 2}}},
		{"bob", bob, []seen{{"statements.write", 2}, {"statements.read", 1}, {"statements.query", 2}}},
		{"carol", carol, []seen{{"statements.write", 2}, {"statements.query", 2}}},
		{"dave", dave, nil},
	} {
		got, _, err := f.gate.AccessLog(ctx, tt.p, "", 0)
		if err != nil {
			t.Fatalf("AccessLog(%s) = %v", tt.name, err)
		}
		var have []seen
		for _, e := range got {
			have = append(have, seen{e.Action, e.Count})
		}
		if !slices.Equal(have, tt.want) {
			t.Errorf("AccessLog(%s) = %v, want %v", tt.name, have, tt.want)
		}
	}
	// The entries name every subject and count per subject.
	bobPs := governancetest.Pseudonymizer{}.Pseudonym("subject:mbox:mailto:bob@example.com")
	for _, e := range f.audit.Entries() {
		if e.Action == "statements.query" && (len(e.Subjects) != 3 || e.SubjectCounts[bobPs] != 2 || e.Count != 3) {
			t.Errorf("query entry = subjects %v, counts %v, count %d, want alice, bob and carol, bob in 2 of 3", e.Subjects, e.SubjectCounts, e.Count)
		}
	}
}

// TestAuditEntryPurpose: every entry names the purpose in force — the
// request's, else the credential's default, else the policy's default
// purpose — and a write also the purposes its statements were recorded
// for.
func TestAuditEntryPurpose(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const def = "learning-records" // settings.default_purpose of the default policy data
	withDefault := f.newPrincipal(t, governance.CredentialRequest{Name: "hr-tool", Roles: []string{"hr"}, Purpose: def})
	named := f.client
	named.Purpose = def
	for _, tt := range []struct {
		name string
		p    governance.Principal
	}{{"no purpose named", f.client}, {"the credential's default", withDefault}, {"the request's", named}} {
		n := len(f.audit.Entries())
		if _, _, err := f.gate.QueryStatements(ctx, tt.p, xapi.Query{}, ""); err != nil {
			t.Fatalf("%s: QueryStatements = %v", tt.name, err)
		}
		if e := f.audit.Entries()[n]; e.Purpose != def {
			t.Errorf("%s: entry purpose = %q, want %q", tt.name, e.Purpose, def)
		}
	}
	n := len(f.audit.Entries())
	if _, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, "mailto:bob@example.com")}, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	if e := f.audit.Entries()[n]; e.Purpose != def || !slices.Equal(e.Purposes, []string{def}) {
		t.Errorf("write entry = purpose %q, purposes %v, want %q and the recorded purpose", e.Purpose, e.Purposes, def)
	}
}

// TestAuditUnavailable: while the audit log refuses appends, accesses are
// refused as Unavailable (503), and Health says why.
func TestAuditUnavailable(t *testing.T) {
	f := newFixture(t)
	if err := f.gate.Health(); err != nil {
		t.Errorf("Health() = %v, want nil", err)
	}
	f.audit.SetUnavailable(true)
	if err := f.gate.Health(); err == nil {
		t.Errorf("Health() with the log failed = nil, want the reason")
	}
	_, err := f.gate.PutStatements(context.Background(), f.client, []*xapi.Statement{statement(t, f.aliceID)}, xapi.V200, nil)
	if xapi.ErrorKind(err) != xapi.Unavailable {
		t.Errorf("PutStatements with the log failed = %v, want Unavailable", err)
	}
	f.audit.SetUnavailable(false)
	if _, err := f.gate.PutStatements(context.Background(), f.client, []*xapi.Statement{statement(t, f.aliceID)}, xapi.V200, nil); err != nil {
		t.Errorf("PutStatements after recovery = %v", err)
	}
}
