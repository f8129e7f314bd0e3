package store_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"custodia/store"
	"custodia/xapi"
)

// fakeSealer really encrypts: AES-GCM under a key derived from a secret and
// the subject, the record id as associated data; Blind is HMAC-SHA256 keyed
// per field. It is a test double for crypto.Keyring, not a design.
type fakeSealer struct {
	secret string
	rand   io.Reader
}

func newSealer() *fakeSealer { return &fakeSealer{secret: "test secret", rand: rand.Reader} }

func (f *fakeSealer) aead(subject string) cipher.AEAD {
	k := sha256.Sum256([]byte(f.secret + "\x00seal\x00" + subject))
	b, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

func (f *fakeSealer) Seal(_ context.Context, subject string, recordID, plaintext []byte) ([]byte, error) {
	g := f.aead(subject)
	nonce := make([]byte, g.NonceSize())
	if _, err := io.ReadFull(f.rand, nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plaintext, recordID), nil
}

func (f *fakeSealer) Open(_ context.Context, subject string, recordID, sealed []byte) ([]byte, error) {
	g := f.aead(subject)
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("fake sealer: short ciphertext")
	}
	return g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], recordID)
}

func (f *fakeSealer) Blind(field, value string) []byte {
	m := hmac.New(sha256.New, []byte(f.secret+"\x00blind\x00"+field))
	m.Write([]byte(value))
	return m.Sum(nil)
}

// clock is an injected clock that the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openMem(t testing.TB) (*store.DB, *clock) {
	t.Helper()
	c := newClock()
	db, err := store.Open("", newSealer(), store.Options{InMemory: true, Now: c.Now})
	if err != nil {
		t.Fatalf("Open(in-memory) = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return db, c
}

var authority = xapi.Agent{ObjectType: "Agent", Name: "LRS client", Account: &xapi.Account{HomePage: "https://lrs.example.com", Name: "client-1"}}

// prepared parses JSON text into a prepared statement.
func prepared(t testing.TB, js string) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(js), xapi.V103)
	if err != nil {
		t.Fatalf("ParseStatement(%s) = %v", js, err)
	}
	s.Prepare(xapi.Prepare{Authority: authority, Version: xapi.V103})
	return s
}

// spec describes a test statement; zero fields take defaults.
type spec struct {
	id, mbox, verb, activity, registration, parent string
	refTarget                                      string // object is a StatementRef to this id
	objectAgent                                    string // object is an Agent with this mbox
	instructor                                     string // context.instructor mbox
	extra                                          string // a result.response value
}

func uuid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func stmt(t testing.TB, s spec) *xapi.Statement {
	t.Helper()
	if s.mbox == "" {
		s.mbox = "mailto:learner@example.com"
	}
	if s.verb == "" {
		s.verb = "http://adlnet.gov/expapi/verbs/experienced"
	}
	object := fmt.Sprintf(`{"objectType":"Activity","id":%q}`, s.activity)
	switch {
	case s.refTarget != "":
		object = fmt.Sprintf(`{"objectType":"StatementRef","id":%q}`, s.refTarget)
	case s.objectAgent != "":
		object = fmt.Sprintf(`{"objectType":"Agent","mbox":%q}`, s.objectAgent)
	case s.activity == "":
		object = `{"objectType":"Activity","id":"http://example.com/activities/default"}`
	}
	ctx := ""
	var parts []string
	if s.registration != "" {
		parts = append(parts, fmt.Sprintf(`"registration":%q`, s.registration))
	}
	if s.parent != "" {
		parts = append(parts, fmt.Sprintf(`"contextActivities":{"parent":[{"id":%q}]}`, s.parent))
	}
	if s.instructor != "" {
		parts = append(parts, fmt.Sprintf(`"instructor":{"mbox":%q}`, s.instructor))
	}
	if len(parts) > 0 {
		ctx = `,"context":{`
		for i, p := range parts {
			if i > 0 {
				ctx += ","
			}
			ctx += p
		}
		ctx += "}"
	}
	result := ""
	if s.extra != "" {
		result = fmt.Sprintf(`,"result":{"response":%q}`, s.extra)
	}
	return prepared(t, fmt.Sprintf(`{"id":%q,"actor":{"objectType":"Agent","mbox":%q},"verb":{"id":%q,"display":{"en-US":"did"}},"object":%s%s%s}`,
		s.id, s.mbox, s.verb, object, ctx, result))
}

func put(t testing.TB, db *store.DB, stmts ...*xapi.Statement) {
	t.Helper()
	if err := db.PutStatements(context.Background(), stmts, nil); err != nil {
		t.Fatalf("PutStatements(%d statements) = %v", len(stmts), err)
	}
}

func ids(stmts []*xapi.Statement) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.ID()
	}
	return out
}

// queryAll pages through q with the given page size and returns every id.
func queryAll(t testing.TB, db *store.DB, q xapi.Query, limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for page := 0; ; page++ {
		got, next, err := db.QueryStatements(context.Background(), q, after, limit, nil)
		if err != nil {
			t.Fatalf("QueryStatements(page %d) = %v", page, err)
		}
		if len(got) == 0 && page > 0 {
			t.Fatalf("QueryStatements(page %d) returned an empty page after a token", page)
		}
		if next != "" && len(got) != limit {
			t.Fatalf("QueryStatements(page %d) = %d statements and a token, want a full page of %d", page, len(got), limit)
		}
		all = append(all, ids(got)...)
		if next == "" {
			return all
		}
		after = next
	}
}

func kindOf(err error) xapi.Kind { return xapi.ErrorKind(err) }
