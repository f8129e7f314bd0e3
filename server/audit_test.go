package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/server"
)

// newAuditTestServer is newTestServer with an audit log API over the
// in-memory auditor.
func newAuditTestServer(t *testing.T) (*testServer, *governancetest.MemAuditor) {
	t.Helper()
	ctx := context.Background()
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	st, aud := governancetest.NewMemStore(), &governancetest.MemAuditor{}
	gate := governance.NewGate(governance.GateConfig{
		Engine: eng, Statements: st, Records: st, Activities: st, Documents: st, Auditor: aud,
		AuditLog:      &governancetest.MemAuditLog{Auditor: aud, Cosigned: []byte("cosigned\n")},
		Pseudonymizer: governancetest.Pseudonymizer{}, AuthorityHomePage: "http://lrs.example.com/",
	})
	if _, _, err := gate.Bootstrap(ctx, "admin", "admin-secret"); err != nil {
		t.Fatal(err)
	}
	return &testServer{h: server.NewServer(server.Config{Gate: gate}), store: st, key: "admin", secret: "admin-secret"}, aud
}

// authHeader creates a credential and returns the Authorization header for it.
func (ts *testServer) authHeader(t *testing.T, body string) map[string]string {
	t.Helper()
	w := ts.do(t, "POST", "/api/v1/credentials", body, nil)
	var c struct{ Key, Secret string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); w.Code != 201 || err != nil {
		t.Fatalf("create credential %s = %d %s", body, w.Code, w.Body)
	}
	return map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}
}

func TestAuditAPI(t *testing.T) {
	ts, _ := newAuditTestServer(t)
	auditor := ts.authHeader(t, `{"name":"dpo","roles":["auditor"]}`)
	client := ts.authHeader(t, `{"name":"lms","roles":["client"],"scopes":["all"]}`)
	if w := ts.do(t, "POST", "/xapi/statements", stmt, client); w.Code != 200 {
		t.Fatalf("POST statement = %d %s", w.Code, w.Body)
	}

	w := ts.do(t, "GET", "/api/v1/audit/entries?action=statements.write&agent="+url.QueryEscape(`{"mbox":"mailto:alice@example.com"}`), "", auditor)
	var page struct {
		Entries []map[string]any `json:"entries"`
		Next    string           `json:"next"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &page); w.Code != 200 || err != nil || len(page.Entries) != 1 {
		t.Fatalf("GET entries = %d %s, want the one write", w.Code, w.Body)
	}
	if e := page.Entries[0]; e["action"] != "statements.write" || e["decision"] != "allow" || e["leaf_hash"] != governancetest.MemHash || e["count"] != 1.0 {
		t.Errorf("entry = %v", e)
	}

	// Paging: one entry a page, following next.
	seen, cursor := 0, ""
	for i := 0; i < 50; i++ {
		w := ts.do(t, "GET", "/api/v1/audit/entries?limit=1&cursor="+cursor, "", auditor)
		page.Next = ""
		if err := json.Unmarshal(w.Body.Bytes(), &page); w.Code != 200 || err != nil || len(page.Entries) > 1 {
			t.Fatalf("GET entries?limit=1 = %d %s", w.Code, w.Body)
		}
		seen += len(page.Entries)
		if page.Next == "" {
			break
		}
		if got := w.Header().Get("X-Custodia-Next-Cursor"); got != page.Next {
			t.Errorf("X-Custodia-Next-Cursor = %q, want %q", got, page.Next)
		}
		cursor = page.Next
	}
	if seen < 5 {
		t.Errorf("paged through %d entries, want every entry so far (at least 5)", seen)
	}

	for _, tt := range []struct {
		name   string
		target string
		hdr    map[string]string
	}{
		{"format=csv", "/api/v1/audit/entries?format=csv&decision=allow", auditor},
		{"Accept: text/csv", "/api/v1/audit/entries?decision=allow", map[string]string{"Authorization": auditor["Authorization"], "Accept": "text/csv"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(t, "GET", tt.target, "", tt.hdr)
			if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
				t.Fatalf("GET %s = %d %s %s", tt.target, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			rows, err := csv.NewReader(w.Body).ReadAll()
			if err != nil || len(rows) < 2 || rows[0][0] != "index" || rows[0][6] != "action" {
				t.Fatalf("CSV = %v, %v", rows, err)
			}
			for _, row := range rows[1:] {
				if row[9] != "allow" {
					t.Errorf("CSV row %v: decision %q, want allow", row, row[9])
				}
				// List columns are JSON arrays: a ';' or ',' inside a
				// value cannot be taken for a separator.
				var roles []string
				if row[4] != "" && json.Unmarshal([]byte(row[4]), &roles) != nil {
					t.Errorf("CSV roles column %q is not a JSON array", row[4])
				}
			}
		})
	}

	for _, tt := range []struct {
		target, msg string
	}{
		{"/api/v1/audit/entries?decision=maybe", "decision"},
		{"/api/v1/audit/entries?from=yesterday", "from"},
		{"/api/v1/audit/entries?agent=nope", "agent"},
		{"/api/v1/audit/entries?limit=5000", "limit"},
		{"/api/v1/audit/entries?format=xml", "format"},
		{"/api/v1/audit/entries?colour=red", "colour"},
		{"/api/v1/audit/entries?cursor=x", "cursor"},
		{"/api/v1/audit/proof/inclusion?index=1", "size"},
		{"/api/v1/audit/proof/inclusion?index=-1&size=3", "index"},
		{"/api/v1/audit/proof/inclusion?index=3&size=3", "range"},
		{"/api/v1/audit/proof/consistency?old=2", "new"},
		{"/api/v1/audit/entries?limit=0", "limit must be an integer from 1 to 1000"},
		{"/api/v1/audit/entries?limit=010", "limit"},
		{"/api/v1/me/access-log?limit=0", "limit must be an integer from 1 to 1000"},
		{"/api/v1/audit/entries?from=2026-05-01T00:00:00Z&to=2026-04-01T00:00:00Z", "from must not be after to"},
		{"/api/v1/audit/proof/inclusion?index=01&size=3", "without leading zeros"},
		{"/api/v1/audit/proof/consistency?old=3&new=2", "old (3) must not be larger than new (2)"},
	} {
		wantError(t, ts.do(t, "GET", tt.target, "", auditor), 400, tt.msg)
	}

	w = ts.do(t, "GET", "/api/v1/audit/checkpoint", "", auditor)
	if w.Code != 200 || w.Body.String() != governancetest.MemCheckpoint || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("GET checkpoint = %d %q", w.Code, w.Body)
	}
	if w := ts.do(t, "POST", "/api/v1/audit/checkpoint", "", auditor); w.Code != 200 || w.Body.String() != governancetest.MemCheckpoint {
		t.Errorf("POST checkpoint = %d %q", w.Code, w.Body)
	}
	if w := ts.do(t, "GET", "/api/v1/audit/key", "", client); w.Code != 200 || w.Body.String() != governancetest.MemVerifierKey+"\n" {
		t.Errorf("GET key as client = %d %q, want the public key", w.Code, w.Body)
	}
	text := map[string]string{"Authorization": auditor["Authorization"], "Content-Type": "text/plain"}
	if w := ts.do(t, "POST", "/api/v1/audit/checkpoint/cosign", "a note\n", text); w.Code != 200 || w.Body.String() != "cosigned\n" {
		t.Errorf("POST cosign = %d %q", w.Code, w.Body)
	}
	wantError(t, ts.do(t, "POST", "/api/v1/audit/checkpoint/cosign", "{}", auditor), 400, "text/plain")
	w = ts.do(t, "GET", "/api/v1/audit/proof/inclusion?index=1&size=3", "", auditor)
	var ip governance.InclusionProof
	if err := json.Unmarshal(w.Body.Bytes(), &ip); w.Code != 200 || err != nil || ip.Index != 1 || ip.Size != 3 || ip.LeafHash == "" || len(ip.Proof) == 0 {
		t.Errorf("GET inclusion proof = %d %s", w.Code, w.Body)
	}
	w = ts.do(t, "GET", "/api/v1/audit/proof/consistency?old=1&new=3", "", auditor)
	var cp governance.ConsistencyProof
	if err := json.Unmarshal(w.Body.Bytes(), &cp); w.Code != 200 || err != nil || cp.Old != 1 || cp.New != 3 || cp.NewHash == "" {
		t.Errorf("GET consistency proof = %d %s", w.Code, w.Body)
	}

	// Refused by policy to those who are not auditors (or admins).
	for _, target := range []string{"/api/v1/audit/entries", "/api/v1/audit/checkpoint", "/api/v1/audit/proof/inclusion?index=0&size=1", "/api/v1/audit/proof/consistency?old=1&new=1"} {
		wantError(t, ts.do(t, "GET", target, "", client), 403, "audit.")
		if w := ts.do(t, "GET", target, "", nil); w.Code != 200 {
			t.Errorf("GET %s as admin = %d %s", target, w.Code, w.Body)
		}
	}
	wantError(t, ts.do(t, "POST", "/api/v1/audit/checkpoint", "", client), 403, "audit.publish")
	wantError(t, ts.do(t, "PUT", "/api/v1/audit/checkpoint", "", auditor), 405, "not allowed")
}

func TestMeAccessLog(t *testing.T) {
	ts, _ := newAuditTestServer(t)
	alice := ts.authHeader(t, `{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	bob := ts.authHeader(t, `{"name":"bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)
	client := ts.authHeader(t, `{"name":"lms","roles":["client"],"scopes":["all"]}`)
	aboutBob := strings.Replace(stmt, "alice", "bob", 1)
	if w := ts.do(t, "POST", "/xapi/statements", "["+stmt+","+aboutBob+"]", client); w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	if w := ts.do(t, "GET", "/xapi/statements?agent="+url.QueryEscape(`{"mbox":"mailto:bob@example.com"}`), "", client); w.Code != 200 {
		t.Fatalf("GET = %d %s", w.Code, w.Body)
	}

	for _, tt := range []struct {
		name    string
		hdr     map[string]string
		actions string
	}{
		{"alice", alice, "statements.write"}, // the query returned only bob's statement
		{"bob", bob, "statements.write statements.query"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(t, "GET", "/api/v1/me/access-log", "", tt.hdr)
			var page struct {
				Entries []map[string]any `json:"entries"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &page); w.Code != 200 || err != nil {
				t.Fatalf("GET access-log = %d %s", w.Code, w.Body)
			}
			var actions []string
			for _, e := range page.Entries {
				actions = append(actions, e["action"].(string))
				for _, k := range []string{"subjects", "resources", "reasons", "request_id"} {
					if _, ok := e[k]; ok {
						t.Errorf("access-log entry has %q: %v", k, e)
					}
				}
			}
			if got := strings.Join(actions, " "); got != tt.actions {
				t.Errorf("access-log actions = %q, want %q", got, tt.actions)
			}
		})
	}
	wantError(t, ts.do(t, "GET", "/api/v1/me/access-log", "", client), 403, "audit.access_log")
	wantError(t, ts.do(t, "GET", "/api/v1/me/access-log?agent=x", "", alice), 400, "agent")
}

// TestAuditUnavailable: while the audit log refuses appends, /healthz
// answers 503 with the reason and every access is refused with 503; both
// recover with the log.
func TestAuditUnavailable(t *testing.T) {
	ts, aud := newAuditTestServer(t)
	if w := ts.do(t, "GET", "/healthz", "", nil); w.Code != 200 {
		t.Fatalf("GET /healthz = %d %s", w.Code, w.Body)
	}
	aud.SetUnavailable(true)
	w := ts.do(t, "GET", "/healthz", "", nil)
	var h struct{ Status, Reason string }
	if err := json.Unmarshal(w.Body.Bytes(), &h); w.Code != 503 || err != nil || h.Status != "unavailable" || !strings.Contains(h.Reason, "audit log") {
		t.Errorf("GET /healthz with the audit log failed = %d %s, want 503 with the reason", w.Code, w.Body)
	}
	wantError(t, ts.do(t, "POST", "/xapi/statements", stmt, nil), 503, "audit log is unavailable")
	aud.SetUnavailable(false)
	if w := ts.do(t, "GET", "/healthz", "", nil); w.Code != 200 {
		t.Errorf("GET /healthz after recovery = %d %s", w.Code, w.Body)
	}
	if w := ts.do(t, "POST", "/xapi/statements", stmt, nil); w.Code != 200 {
		t.Errorf("POST statement after recovery = %d %s", w.Code, w.Body)
	}
}
