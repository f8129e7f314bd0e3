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
		{"alice", f.alice, []string{"statements.write", "statements.read"}, []int{3, 1}},
		{"bob", bob, []string{"statements.write"}, []int{3}},
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
