package governance_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"custodia/governance"
	"custodia/policies"
	"custodia/xapi"
)

// fakeStore is an in-memory StatementStore and RecordStore. It ignores
// query filters: the Gate's job is deciding, not filtering by parameter.
type fakeStore struct {
	mu      sync.Mutex
	stmts   []*xapi.Statement
	records map[string][]byte
	now     time.Time
}

func newFakeStore() *fakeStore {
	return &fakeStore{records: map[string][]byte{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeStore) PutStatements(ctx context.Context, stmts []*xapi.Statement) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range stmts {
		f.now = f.now.Add(time.Millisecond)
		s.SetStored(f.now)
		f.stmts = append(f.stmts, s)
	}
	return nil
}

func (f *fakeStore) GetStatement(ctx context.Context, id string) (*xapi.Statement, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.stmts {
		if s.ID() == id {
			return s, false, nil
		}
	}
	return nil, false, &xapi.Error{Kind: xapi.NotFound, Op: "fake"}
}

func (f *fakeStore) QueryStatements(ctx context.Context, q xapi.Query, after string, limit int, keep func(*xapi.Statement) (bool, error)) ([]*xapi.Statement, string, error) {
	f.mu.Lock()
	all := append([]*xapi.Statement(nil), f.stmts...)
	f.mu.Unlock()
	var out []*xapi.Statement
	for _, s := range all {
		ok, err := keep(s)
		if err != nil {
			return nil, "", err
		}
		if ok && len(out) < limit {
			out = append(out, s)
		}
	}
	return out, "", nil
}

func (f *fakeStore) ConsistentThrough() time.Time { return f.now }

func (f *fakeStore) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[kind+"/"+key] = append([]byte(nil), value...)
	return nil
}

func (f *fakeStore) GetRecord(ctx context.Context, kind, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.records[kind+"/"+key]
	if !ok {
		return nil, &xapi.Error{Kind: xapi.NotFound, Op: "fake"}
	}
	return v, nil
}

func (f *fakeStore) DeleteRecord(ctx context.Context, kind, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.records[kind+"/"+key]; !ok {
		return &xapi.Error{Kind: xapi.NotFound, Op: "fake"}
	}
	delete(f.records, kind+"/"+key)
	return nil
}

func (f *fakeStore) ListRecords(ctx context.Context, kind string) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range f.records {
		if rest, ok := strings.CutPrefix(k, kind+"/"); ok {
			out[rest] = v
		}
	}
	return out, nil
}

type fakeAuditor struct {
	mu      sync.Mutex
	entries []governance.AuditEntry
	fail    bool
}

func (a *fakeAuditor) Record(ctx context.Context, e governance.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("disk full")
	}
	a.entries = append(a.entries, e)
	return nil
}

type hashPseudonymizer struct{}

func (hashPseudonymizer) Pseudonym(v string) string {
	s := sha256.Sum256([]byte("test-key:" + v))
	return hex.EncodeToString(s[:8])
}

type fixture struct {
	gate    *governance.Gate
	store   *fakeStore
	audit   *fakeAuditor
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
	f := &fixture{store: newFakeStore(), audit: &fakeAuditor{}, aliceID: "mailto:alice@example.com"}
	f.gate = governance.NewGate(governance.GateConfig{
		Engine: eng, Statements: f.store, Records: f.store, Auditor: f.audit,
		Pseudonymizer: hashPseudonymizer{}, AuthorityHomePage: "http://lrs.example.com/",
	})
	admin, secret, err := f.gate.Bootstrap(ctx, "", "")
	if err != nil || secret == "" {
		t.Fatalf("Bootstrap = %v, %q; want a generated admin", err, secret)
	}
	if f.admin, err = f.gate.Authenticate(ctx, admin.Key, secret); err != nil {
		t.Fatal(err)
	}
	f.client = f.newPrincipal(t, governance.CredentialRequest{Name: "lms", Roles: []string{"client"}, Scopes: []string{"statements/write", "statements/read"}})
	agent := xapi.Agent{Mbox: f.aliceID}
	f.alice = f.newPrincipal(t, governance.CredentialRequest{Name: "alice", Roles: []string{"learner"}, Scopes: []string{"statements/write", "statements/read/mine"}, Agent: &agent})
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
	ids, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID), statement(t, "mailto:bob@example.com")}, xapi.V200)
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
	if a, ok := all[0].Authority(); !ok || a.Account == nil || a.Account.Name != f.client.ID {
		t.Errorf("authority = %+v, want the client credential's account", a)
	}
}

func TestGateRefusesWholeBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.gate.PutStatements(ctx, f.alice, []*xapi.Statement{statement(t, f.aliceID), statement(t, "mailto:bob@example.com")}, xapi.V103)
	if xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(xapi.ErrorMessage(err), "statements[1]") {
		t.Fatalf("learner writing about bob = %v, want Forbidden naming statements[1]", err)
	}
	if n := len(f.store.stmts); n != 0 {
		t.Errorf("store holds %d statements after a refused batch, want 0", n)
	}
	last := f.audit.entries[len(f.audit.entries)-1]
	if last.Decision != "deny" || last.Action != "statements.write" {
		t.Errorf("last audit entry = %+v, want a recorded denial", last)
	}
}

func TestGateFailsClosedWithoutAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.audit.fail = true
	if _, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID)}, xapi.V200); err == nil {
		t.Fatal("PutStatements succeeded although the audit log failed")
	}
	if n := len(f.store.stmts); n != 0 {
		t.Errorf("store holds %d statements, want 0", n)
	}
	if _, _, err := f.gate.QueryStatements(ctx, f.admin, xapi.Query{}, ""); err == nil {
		t.Error("QueryStatements succeeded although the audit log failed")
	}
}

func TestGateAuditEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := len(f.audit.entries)
	if _, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{statement(t, f.aliceID)}, xapi.V200); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.gate.QueryStatements(ctx, f.alice, xapi.Query{}, ""); err != nil {
		t.Fatal(err)
	}
	got := f.audit.entries[before:]
	if len(got) != 2 {
		t.Fatalf("%d audit entries for a write and a read, want 2", len(got))
	}
	for _, e := range got {
		if e.Decision != "allow" || e.PolicyRevision == "" || e.Count != 1 || len(e.Subjects) != 1 {
			t.Errorf("audit entry %+v: want allow, a policy revision, count 1 and one subject", e)
		}
	}
	b, _ := json.Marshal(f.audit.entries)
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
	for _, raw := range f.store.records {
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
