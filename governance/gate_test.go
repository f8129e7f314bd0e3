package governance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

type fixture struct {
	gate    *governance.Gate
	store   *governancetest.MemStore
	audit   *governancetest.MemAuditor
	admin   governance.Principal
	client  governance.Principal
	alice   governance.Principal
	aliceID string // alice's mbox
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: governancetest.NewMemStore(), audit: &governancetest.MemAuditor{}, aliceID: "mailto:alice@example.com"}
	f.gate = governance.NewGate(governance.GateConfig{
		Engine: eng, Statements: f.store, Records: f.store, Activities: f.store, Documents: f.store, Auditor: f.audit,
		AuditLog:      &governancetest.MemAuditLog{Auditor: f.audit},
		Pseudonymizer: governancetest.Pseudonymizer{}, AuthorityHomePage: "http://lrs.example.com/",
	})
	admin, secret, err := f.gate.Bootstrap(ctx, "", "")
	if err != nil || secret == "" {
		t.Fatalf("Bootstrap = %v, %q; want a generated admin", err, secret)
	}
	if f.admin, err = f.gate.Authenticate(ctx, admin.Key, secret); err != nil {
		t.Fatal(err)
	}
	f.client = f.newPrincipal(t, governance.CredentialRequest{Name: "lms", Roles: []string{"client"}, Scopes: []string{"statements/write", "statements/read", "define"}})
	agent := xapi.Agent{Mbox: f.aliceID}
	f.alice = f.newPrincipal(t, governance.CredentialRequest{Name: "alice", Roles: []string{"learner"}, Scopes: []string{"statements/write", "statements/read/mine", "state", "profile"}, Agent: &agent})
	return f
}

func (f *fixture) newPrincipal(t *testing.T, req governance.CredentialRequest) governance.Principal {
	t.Helper()
	ctx := context.Background()
	c, secret, err := f.gate.CreateCredential(ctx, f.admin, req)
	if err != nil {
		t.Fatalf("CreateCredential(%s) = %v", req.Name, err)
	}
	p, err := f.gate.Authenticate(ctx, c.Key, secret)
	if err != nil {
		t.Fatalf("Authenticate(%s) = %v", req.Name, err)
	}
	return p
}

func statement(t *testing.T, mbox string) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(fmt.Sprintf(`{"actor":{"mbox":%q},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"}}`, mbox)), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGateLearnerSeesOnlyOwnStatements(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID), statement(t, "mailto:bob@example.com")}, xapi.V200, nil)
	if err != nil {
		t.Fatalf("PutStatements as client = %v", err)
	}
	got, _, err := f.gate.QueryStatements(ctx, f.alice, xapi.Query{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID() != ids[0] {
		t.Fatalf("alice's query returned %d statements, want only hers (%s)", len(got), ids[0])
	}
	if _, err := f.gate.GetStatement(ctx, f.alice, ids[1], false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("alice GetStatement(bob's) = %v, want NotFound", err)
	}
	if s, err := f.gate.GetStatement(ctx, f.alice, ids[0], false); err != nil || s.ID() != ids[0] {
		t.Errorf("alice GetStatement(hers) = %v", err)
	}
	all, _, err := f.gate.QueryStatements(ctx, f.admin, xapi.Query{}, "")
	if err != nil || len(all) != 2 {
		t.Errorf("admin query = %d statements, %v; want 2", len(all), err)
	}
	// The authority is the credential, overwriting what a client may send.
	want := governancetest.Pseudonymizer{}.Pseudonym("principal:" + f.client.ID)
	if a, ok := all[0].Authority(); !ok || a.Account == nil || a.Account.Name != want {
		t.Errorf("authority = %+v, want the client credential's pseudonymous account %s", a, want)
	}
}

func TestGateRefusesWholeBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.gate.PutStatements(ctx, f.alice, []*xapi.Statement{statement(t, f.aliceID), statement(t, "mailto:bob@example.com")}, xapi.V103, nil)
	if xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(xapi.ErrorMessage(err), "statements[1]") {
		t.Fatalf("learner writing about bob = %v, want Forbidden naming statements[1]", err)
	}
	if n := len(f.store.Statements()); n != 0 {
		t.Errorf("store holds %d statements after a refused batch, want 0", n)
	}
	last := f.audit.Entries()[len(f.audit.Entries())-1]
	if last.Decision != "deny" || last.Action != "statements.write" {
		t.Errorf("last audit entry = %+v, want a recorded denial", last)
	}
}

func TestGateFailsClosedWithoutAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.audit.Fail = true
	if _, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID)}, xapi.V200, nil); err == nil {
		t.Fatal("PutStatements succeeded although the audit log failed")
	}
	if n := len(f.store.Statements()); n != 0 {
		t.Errorf("store holds %d statements, want 0", n)
	}
	if _, _, err := f.gate.QueryStatements(ctx, f.admin, xapi.Query{}, ""); err == nil {
		t.Error("QueryStatements succeeded although the audit log failed")
	}
}

func TestGateAuditEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := len(f.audit.Entries())
	if _, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID)}, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.gate.QueryStatements(ctx, f.alice, xapi.Query{}, ""); err != nil {
		t.Fatal(err)
	}
	got := f.audit.Entries()[before:]
	if len(got) != 2 {
		t.Fatalf("%d audit entries for a write and a read, want 2", len(got))
	}
	for _, e := range got {
		if e.Decision != "allow" || e.PolicyRevision == "" || e.Count != 1 || len(e.Subjects) != 1 {
			t.Errorf("audit entry %+v: want allow, a policy revision, count 1 and one subject", e)
		}
	}
	b, _ := json.Marshal(f.audit.Entries())
	for _, plain := range []string{"alice", f.client.ID, f.alice.ID} {
		if strings.Contains(string(b), plain) {
			t.Errorf("audit entries contain the plain identifier %q", plain)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, secret, err := f.gate.CreateCredential(ctx, f.admin, governance.CredentialRequest{Name: "tmp", Roles: []string{"client"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.Authenticate(ctx, c.Key, secret+"x"); xapi.ErrorKind(err) != xapi.Unauthorized {
		t.Errorf("wrong secret: err = %v, want Unauthorized", err)
	}
	if _, err := f.gate.Authenticate(ctx, "nope", secret); xapi.ErrorKind(err) != xapi.Unauthorized {
		t.Errorf("unknown key: err = %v, want Unauthorized", err)
	}
	if _, err := f.gate.Authenticate(ctx, c.Key, secret); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	if err := f.gate.RevokeCredential(ctx, f.admin, c.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.Authenticate(ctx, c.Key, secret); xapi.ErrorKind(err) != xapi.Unauthorized {
		t.Errorf("revoked: err = %v, want Unauthorized", err)
	}
	for _, raw := range f.store.Records() {
		if strings.Contains(string(raw), secret) {
			t.Error("a stored credential record contains the plain secret")
		}
	}
	if _, _, err := f.gate.CreateCredential(ctx, f.client, governance.CredentialRequest{Name: "x", Roles: []string{"admin"}}); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("client creating a credential: err = %v, want Forbidden", err)
	}
	list, err := f.gate.ListCredentials(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, c := range list {
		keys = append(keys, c.Name)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "alice,bootstrap admin,lms" {
		t.Errorf("ListCredentials names = %v", keys)
	}
}

// TestRevokeDuringVerification: a verification that began before a
// revocation must not leave the credential usable after it.
func TestRevokeDuringVerification(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		c, secret, err := f.gate.CreateCredential(ctx, f.admin, governance.CredentialRequest{Name: "race", Roles: []string{"client"}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		for i := 0; i < 4; i++ {
			go func() {
				defer func() { done <- struct{}{} }()
				_, _ = f.gate.Authenticate(ctx, c.Key, secret)
			}()
		}
		if err := f.gate.RevokeCredential(ctx, f.admin, c.Key); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			<-done
		}
		if _, err := f.gate.Authenticate(ctx, c.Key, secret); xapi.ErrorKind(err) != xapi.Unauthorized {
			t.Fatalf("round %d: Authenticate after revocation = %v, want Unauthorized", round, err)
		}
	}
}
