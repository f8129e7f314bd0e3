package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/server"
)

type testServer struct {
	h           http.Handler
	store       *governancetest.MemStore
	audit       *governancetest.MemAuditor
	key, secret string // the admin credential
}

func newTestServer(t testing.TB, maxBody int64) *testServer {
	t.Helper()
	return newTestServerConfig(t, server.Config{MaxBodyBytes: maxBody})
}

// newTestServerConfig is newTestServer with cfg (its Gate is set here).
func newTestServerConfig(t testing.TB, cfg server.Config) *testServer {
	t.Helper()
	ctx := context.Background()
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	st := governancetest.NewMemStore()
	au := &governancetest.MemAuditor{}
	gate := governance.NewGate(governance.GateConfig{
		Engine: eng, Statements: st, Records: st, Activities: st, Documents: st, Retention: st, Auditor: au,
		Pseudonymizer: governancetest.Pseudonymizer{}, AuthorityHomePage: "http://lrs.example.com/", Now: cfg.Now,
	})
	if _, _, err := gate.Bootstrap(ctx, "admin", "admin-secret"); err != nil {
		t.Fatal(err)
	}
	cfg.Gate = gate
	return &testServer{h: server.NewServer(cfg), store: st, audit: au, key: "admin", secret: "admin-secret"}
}

// do sends a request as the admin unless auth is "none" or "key:secret".
func (ts *testServer) do(t testing.TB, method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("X-Experience-API-Version", "1.0.3")
	r.Header.Set("Content-Type", "application/json")
	r.SetBasicAuth(ts.key, ts.secret)
	for k, v := range hdr {
		switch {
		case k == "Authorization" && v == "none":
			r.Header.Del("Authorization")
		case v == "":
			r.Header.Del(k)
		default:
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, r)
	return w
}

// wantError checks an xAPI error answer: the status, a JSON body naming it,
// and the version header.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, msgPart string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d (body %s)", w.Code, status, w.Body)
	}
	var b struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error.Code != status {
		t.Fatalf("body = %s, want a JSON error with code %d", w.Body, status)
	}
	if !strings.Contains(b.Error.Message, msgPart) {
		t.Errorf("message = %q, want it to mention %q", b.Error.Message, msgPart)
	}
}

const stmt = `{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"}}`

func TestErrors(t *testing.T) {
	ts := newTestServer(t, 1<<10)
	tests := []struct {
		name, method, target, body string
		hdr                        map[string]string
		status                     int
		msg                        string
	}{
		{"XAPI-00331 missing version header", "GET", "/xapi/statements", "", map[string]string{"X-Experience-API-Version": ""}, 400, "X-Experience-API-Version"},
		{"XAPI-00331 unsupported version", "GET", "/xapi/statements", "", map[string]string{"X-Experience-API-Version": "0.9.5"}, 400, "not supported"},
		{"XAPI-00129 attachment without fileUrl or data", "POST", "/xapi/statements", `{"attachments":[{"usageType":"http://example.com/u","display":{"en-US":"a"},"contentType":"text/plain","length":1,"sha2":"abc"}],` + stmt[1:], nil, 400, "attachments[0]"},
		{"XAPI-00334 no credentials", "GET", "/xapi/statements", "", map[string]string{"Authorization": "none"}, 401, "authentication"},
		{"XAPI-00334 wrong secret", "GET", "/xapi/statements", "", map[string]string{"Authorization": "Basic YWRtaW46bm9wZQ=="}, 401, "invalid credentials"},
		{"unknown route", "GET", "/xapi/nonsense", "", nil, 404, "no such resource"},
		{"method not allowed", "PATCH", "/xapi/statements", "", nil, 405, "not allowed"},
		{"XAPI-00144 PUT without statementId", "PUT", "/xapi/statements", stmt, nil, 400, "statementId"},
		{"PUT with a bad statementId", "PUT", "/xapi/statements?statementId=nope", stmt, nil, 400, "statementId"},
		{"PUT id mismatch", "PUT", "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", `{"id":"7690e6c9-3ef0-4ed3-8b37-7f3964730bee",` + stmt[1:], nil, 400, "does not match"},
		{"POST with a parameter", "POST", "/xapi/statements?foo=bar", stmt, nil, 400, "no query parameters"},
		{"wrong content type", "POST", "/xapi/statements", stmt, map[string]string{"Content-Type": "text/plain"}, 400, "Content-Type"},
		{"malformed JSON", "POST", "/xapi/statements", `{"actor":`, nil, 400, ""},
		{"XAPI-00003 missing actor", "POST", "/xapi/statements", `{"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/o"}}`, nil, 400, "actor"},
		{"oversized body", "POST", "/xapi/statements", "[" + strings.Repeat(stmt+",", 20) + stmt + "]", nil, 413, "size limit"},
		{"XAPI-00012 unknown query parameter", "GET", "/xapi/statements?foo=bar", "", nil, 400, "foo"},
		{"credentials as non-JSON", "POST", "/api/v1/credentials", "name=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(t, tt.method, tt.target, tt.body, tt.hdr)
			wantError(t, w, tt.status, tt.msg)
			if v := w.Header().Get("X-Experience-API-Version"); strings.HasPrefix(tt.target, "/xapi/") && v == "" {
				t.Error("X-Experience-API-Version missing from the error response")
			}
		})
	}
	if n := len(ts.store.Statements()); n != 0 {
		t.Errorf("%d statements stored after bad requests, want 0", n)
	}
}

func TestStatementsRoundTrip(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "POST", "/xapi/statements", stmt, nil)
	if w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	var ids []string
	if err := json.Unmarshal(w.Body.Bytes(), &ids); err != nil || len(ids) != 1 {
		t.Fatalf("POST body = %s, want one id", w.Body)
	}
	for _, h := range []string{"X-Experience-API-Consistent-Through", "X-Experience-API-Version"} {
		if w.Header().Get(h) == "" {
			t.Errorf("POST response lacks %s (XAPI-00153/00333)", h)
		}
	}
	w = ts.do(t, "GET", "/xapi/statements?statementId="+ids[0], "", nil)
	if w.Code != 200 || w.Header().Get("Last-Modified") == "" || !strings.Contains(w.Body.String(), ids[0]) {
		t.Fatalf("GET = %d %s, want the statement with Last-Modified", w.Code, w.Body)
	}
	head := ts.do(t, "HEAD", "/xapi/statements?statementId="+ids[0], "", nil)
	if head.Code != 200 || head.Header().Get("Content-Type") != "application/json" {
		t.Errorf("HEAD = %d, %q; want 200 with the GET's headers (XAPI-00125)", head.Code, head.Header().Get("Content-Type"))
	}
	w = ts.do(t, "GET", "/xapi/statements", "", nil)
	var res struct {
		Statements []json.RawMessage `json:"statements"`
		More       *string           `json:"more"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || len(res.Statements) != 1 || res.More == nil {
		t.Fatalf("query = %d %s, want a StatementResult with one statement and more", w.Code, w.Body)
	}
	w = ts.do(t, "GET", "/xapi/statements?statementId="+ids[0]+"&attachments=true", "", nil)
	if ct := w.Header().Get("Content-Type"); w.Code != 200 || !strings.HasPrefix(ct, "multipart/mixed; boundary=") {
		t.Errorf("attachments=true: %d %q, want multipart/mixed", w.Code, ct)
	}
}

func TestAboutNeedsNoCredentials(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "GET", "/xapi/about", "", map[string]string{"Authorization": "none", "X-Experience-API-Version": ""})
	var about struct {
		Version []string `json:"version"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &about); w.Code != 200 || err != nil || strings.Join(about.Version, ",") != "1.0.3,2.0.0" {
		t.Errorf("about = %d %s, want versions 1.0.3 and 2.0.0 (XAPI-00316/00321)", w.Code, w.Body)
	}
}

func TestCredentialsAPI(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "POST", "/api/v1/credentials", `{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`, nil)
	if w.Code != 201 {
		t.Fatalf("create = %d %s", w.Code, w.Body)
	}
	var c struct {
		Key, Secret string
		Scopes      []string
		Agent       map[string]any
	}
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || c.Key == "" || c.Secret == "" || c.Agent["mbox"] != "mailto:alice@example.com" {
		t.Fatalf("create body = %s", w.Body)
	}
	if strings.Join(c.Scopes, " ") != "statements/write statements/read/mine state profile" {
		t.Errorf("default scopes = %v", c.Scopes)
	}
	for _, tc := range []struct{ roles, want string }{
		{`["hr"]`, "statements/read/mine"},
		{`["compliance","auditor"]`, "statements/read/mine"},
		{`["client"]`, "statements/write statements/read/mine"},
		{`["client","hr"]`, "statements/write statements/read/mine"},
	} {
		w := ts.do(t, "POST", "/api/v1/credentials", `{"name":"staff","roles":`+tc.roles+`}`, nil)
		var got struct{ Scopes []string }
		if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != 201 || err != nil || strings.Join(got.Scopes, " ") != tc.want {
			t.Errorf("default scopes of roles %s = %d %v, want %s", tc.roles, w.Code, got.Scopes, tc.want)
		}
	}
	learner := map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}
	wantError(t, ts.do(t, "GET", "/api/v1/credentials", "", learner), 403, "credentials.manage")
	wantError(t, ts.do(t, "POST", "/api/v1/credentials", `{"name":"x","roles":["wizard"]}`, nil), 400, "wizard")
	wantError(t, ts.do(t, "POST", "/api/v1/credentials", `{"name":"x","roles":["learner"]}`, nil), 400, "agent")
	wantError(t, ts.do(t, "POST", "/api/v1/credentials", `{"name":"x","roles":["client"],"extra":1}`, nil), 400, "")
	if w := ts.do(t, "GET", "/api/v1/credentials", "", nil); w.Code != 200 || strings.Contains(w.Body.String(), c.Secret) {
		t.Errorf("list = %d; it must answer 200 and never show a secret", w.Code)
	}
	if w := ts.do(t, "DELETE", "/api/v1/credentials/"+c.Key, "", nil); w.Code != 204 {
		t.Fatalf("revoke = %d %s", w.Code, w.Body)
	}
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", learner), 401, "invalid credentials")
	wantError(t, ts.do(t, "DELETE", "/api/v1/credentials/"+c.Key, "", nil), 404, "no credential")
}

func basic(key, secret string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(key, secret)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestHardening(t *testing.T) {
	ts := newTestServer(t, 0)
	big := "[" + strings.Repeat(stmt+",", server.MaxBatch) + stmt + "]"
	wantError(t, ts.do(t, "POST", "/xapi/statements", big, nil), 413, "at most")
	wantError(t, ts.do(t, "GET", "/xapi/statements?limit=%zz", "", nil), 400, "malformed")
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", map[string]string{"X-Custodia-Purpose": "a person's free text"}), 400, "X-Custodia-Purpose")

	w := ts.do(t, "GET", "/xapi/statements", "", map[string]string{"X-Experience-API-Version": ""})
	if w.Code != 400 || w.Header().Get("X-Experience-API-Consistent-Through") == "" {
		t.Errorf("XAPI-00153 missing version: %d, Consistent-Through %q; want 400 with the header", w.Code, w.Header().Get("X-Experience-API-Consistent-Through"))
	}
	w = ts.do(t, "DELETE", "/xapi/statements", "", nil)
	if w.Code != 405 || w.Header().Get("Allow") != "PUT, POST, GET, HEAD" || w.Header().Get("X-Experience-API-Consistent-Through") == "" {
		t.Errorf("DELETE /statements: %d, Allow %q; want 405 listing PUT, POST, GET, HEAD", w.Code, w.Header().Get("Allow"))
	}

	for _, body := range []string{
		`{"name":"x","roles":["client"],"Scopes":["statements/read"]}`,
		`{"name":"x","roles":["client"]}{"name":"y"}`,
		`{"name":"x","roles":["client","client"]}`,
		`{"name":"x","roles":["client"],"purpose":"Free Text"}`,
		`{"name":"x","roles":"client"}`,
	} {
		wantError(t, ts.do(t, "POST", "/api/v1/credentials", body, nil), 400, "")
	}
	w = ts.do(t, "POST", "/api/v1/credentials", `{"name":"lms","roles":["client"]}`, nil)
	var c struct{ Key, Secret string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 201 {
		t.Fatalf("create = %d %s", w.Code, w.Body)
	}
	// A caller that may not manage credentials learns nothing about the body.
	wantError(t, ts.do(t, "POST", "/api/v1/credentials", `{"name":"","roles":["x"]}`, map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}), 403, "")
}
