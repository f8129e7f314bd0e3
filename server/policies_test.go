package server_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// auditorCreds lets auditors manage credentials, which no default rule
// does: an effect easy to observe that no pack test forbids.
const auditorCreds = `package custodia.authz

allow contains "auditors may manage credentials" if {
	input.action == "credentials.manage"
	"auditor" in roles
}
`

// freezeReads refuses every statement read.
const freezeReads = `package custodia.authz

deny contains "statement reads are frozen" if input.action == "statements.read"
`

// credentialAs creates a credential with roles and returns its
// Authorization header.
func (ts *testServer) credentialAs(t *testing.T, body string) map[string]string {
	t.Helper()
	w := ts.do(t, "POST", "/api/v1/credentials", body, nil)
	var c struct{ Key, Secret string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 201 {
		t.Fatalf("create %s = %d %s", body, w.Code, w.Body)
	}
	return map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}
}

func revisionOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var r struct{ Revision string }
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || len(r.Revision) != 16 {
		t.Fatalf("body = %s, want {\"revision\": 16 hex digits}", w.Body)
	}
	return r.Revision
}

func TestPoliciesAPI(t *testing.T) {
	ts := newTestServer(t, 0)
	compliance := ts.credentialAs(t, `{"name":"dpo","roles":["compliance"]}`)
	hr := ts.credentialAs(t, `{"name":"hr","roles":["hr"],"scopes":["all/read"]}`)
	auditor := ts.credentialAs(t, `{"name":"audit","roles":["auditor"]}`)
	text := func(h map[string]string) map[string]string {
		out := map[string]string{"Content-Type": "text/plain"}
		for k, v := range h {
			out[k] = v
		}
		return out
	}

	w := ts.do(t, "GET", "/api/v1/policies", "", compliance)
	var ov struct {
		Revision string
		Modules  []struct {
			Name string
			Test bool
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ov); err != nil || w.Code != 200 || len(ov.Modules) < 4 {
		t.Fatalf("GET /policies = %d %s", w.Code, w.Body)
	}
	pack := ov.Revision

	// The auditor may not manage credentials yet; hr and the auditor may
	// not change the policy.
	wantError(t, ts.do(t, "GET", "/api/v1/credentials", "", auditor), 403, "")
	wantError(t, ts.do(t, "GET", "/api/v1/policies", "", hr), 403, "policies.read")
	wantError(t, ts.do(t, "PUT", "/api/v1/policies/extra.rego", auditorCreds, text(hr)), 403, "policies.manage")
	wantError(t, ts.do(t, "PUT", "/api/v1/policies/extra.rego", auditorCreds, text(auditor)), 403, "policies.manage")

	w = ts.do(t, "PUT", "/api/v1/policies/extra.rego", auditorCreds, text(compliance))
	if w.Code != 200 {
		t.Fatalf("PUT extra.rego = %d %s", w.Code, w.Body)
	}
	rev := revisionOf(t, w)
	if rev == pack {
		t.Fatalf("PUT extra.rego answered the pack's revision %s", rev)
	}
	if w := ts.do(t, "GET", "/api/v1/credentials", "", auditor); w.Code != 200 {
		t.Errorf("GET /api/v1/credentials as auditor after the upload = %d %s, want 200", w.Code, w.Body)
	}
	w = ts.do(t, "GET", "/api/v1/policies/extra.rego", "", auditor)
	if w.Code != 200 || w.Body.String() != auditorCreds || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("GET extra.rego = %d %q %s, want the source as text/plain", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	wantError(t, ts.do(t, "GET", "/api/v1/policies/none.rego", "", nil), 404, "no policy module")

	// Refusals: 400 with the reason, one line, the active policy untouched.
	for _, tt := range []struct {
		name, path, body, msg string
	}{
		{"does not parse", "/api/v1/policies/bad.rego", "package custodia.authz\n\nallow contains \"x\" if {\n", "bad.rego:4"},
		{"does not compile", "/api/v1/policies/bad.rego", "package custodia.authz\n\nallow contains y if input.action == \"x\"\n", "policy does not compile: bad.rego:3"},
		{"its test fails", "/api/v1/policies/bad_test.rego", "package custodia.bad_test\n\nimport data.custodia.authz\n\ntest_learner_manages if authz.decision.allow with input as {\"principal\": {\"roles\": [\"learner\"], \"scopes\": [], \"identities\": []}, \"action\": \"policies.manage\", \"resource\": {}}\n", "custodia.bad_test.test_learner_manages (bad_test.rego:5): failed"},
		{"locks the admin out", "/api/v1/policies/lock.rego", "package custodia.authz\n\ndeny contains \"frozen\" if input.action == \"policies.manage\"\n", "no one could roll it back"},
		{"a bad name", "/api/v1/policies/Bad.rego", auditorCreds, "module name"},
		{"not UTF-8", "/api/v1/policies/bad.rego", "package x\n# \xff\n", "UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(t, "PUT", tt.path, tt.body, text(compliance))
			wantError(t, w, 400, tt.msg)
			if strings.Contains(w.Body.String(), `\n`) || strings.Contains(w.Body.String(), "goroutine") {
				t.Errorf("error body has several lines or a trace: %s", w.Body)
			}
			if w := ts.do(t, "GET", "/api/v1/policies", "", compliance); !strings.Contains(w.Body.String(), rev) {
				t.Errorf("active revision changed after a refusal: %s", w.Body)
			}
		})
	}

	// Data.
	w = ts.do(t, "GET", "/api/v1/policy-data", "", auditor)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"custodia"`) {
		t.Errorf("GET /policy-data = %d %s", w.Code, w.Body)
	}
	w = ts.do(t, "PUT", "/api/v1/policy-data", string(withPurpose(t, w.Body.Bytes(), "training")), compliance)
	dataRev := revisionOf(t, w)
	if w := ts.do(t, "GET", "/api/v1/policy-data", "", auditor); !strings.Contains(w.Body.String(), `"training":{`) {
		t.Errorf("GET /policy-data after the PUT = %s, want the new purpose", w.Body)
	}
	wantError(t, ts.do(t, "PUT", "/api/v1/policy-data", `[]`, compliance), 400, "one JSON object")
	// Strict: nothing beside custodia, and a purpose needs a controller
	// its consent receipts can name.
	wantError(t, ts.do(t, "PUT", "/api/v1/policy-data", `{"custodia":{},"extra":1}`, compliance), 400, `"extra"`)
	wantError(t, ts.do(t, "PUT", "/api/v1/policy-data", `{"custodia":{"purposes":{"p":{"title":"P","legal_basis":"contract","match":{}}},"settings":{"default_purpose":"p"}}}`, compliance), 400, "settings.controller")
	wantError(t, ts.do(t, "PUT", "/api/v1/policy-data", `{}`, map[string]string{"Content-Type": "text/plain"}), 400, "Content-Type")

	// Revisions and rollback.
	w = ts.do(t, "GET", "/api/v1/policies/revisions", "", auditor)
	var revs struct {
		Active    string
		Revisions []struct {
			Revision string
			Active   bool
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &revs); err != nil || revs.Active != dataRev || len(revs.Revisions) != 3 {
		t.Fatalf("GET /policies/revisions = %d %s; want 3 revisions, %s active", w.Code, w.Body, dataRev)
	}
	wantError(t, ts.do(t, "POST", "/api/v1/policies/rollback", `{"Revision":"`+pack+`"}`, compliance), 400, "unknown key")
	wantError(t, ts.do(t, "POST", "/api/v1/policies/rollback", `{"revision":"0123456789abcdef"}`, compliance), 404, "no policy revision")
	wantError(t, ts.do(t, "POST", "/api/v1/policies/rollback", `{"revision":"`+pack+`"}`, auditor), 403, "")
	w = ts.do(t, "POST", "/api/v1/policies/rollback", `{"revision":"`+pack+`"}`, compliance)
	if got := revisionOf(t, w); got != pack {
		t.Errorf("rollback answered %s, want %s", got, pack)
	}
	wantError(t, ts.do(t, "GET", "/api/v1/credentials", "", auditor), 403, "")

	// Delete after a forward roll.
	ts.do(t, "POST", "/api/v1/policies/rollback", `{"revision":"`+rev+`"}`, compliance)
	w = ts.do(t, "DELETE", "/api/v1/policies/extra.rego", "", compliance)
	if got := revisionOf(t, w); got != pack {
		t.Errorf("DELETE extra.rego answered %s, want the pack %s", got, pack)
	}
	wantError(t, ts.do(t, "DELETE", "/api/v1/policies/extra.rego", "", compliance), 404, "no policy module")
	// The pack's tests go with their modules.
	wantError(t, ts.do(t, "DELETE", "/api/v1/policies/authz_test.rego", "", compliance), 400, "tests go with their module")

	// Method and authentication.
	wantError(t, ts.do(t, "POST", "/api/v1/policies", "", compliance), 405, "")
	wantError(t, ts.do(t, "GET", "/api/v1/policies", "", map[string]string{"Authorization": "none"}), 401, "")
}

func TestSimulateAPI(t *testing.T) {
	ts := newTestServer(t, 0)
	for _, who := range []string{"alice", "bob"} {
		body := strings.Replace(stmt, "alice", who, 1)
		if w := ts.do(t, "POST", "/xapi/statements", body, nil); w.Code != 200 {
			t.Fatalf("POST statement = %d %s", w.Code, w.Body)
		}
	}
	data := withPurpose(t, ts.do(t, "GET", "/api/v1/policy-data", "", nil).Body.Bytes(), "simulated")
	body, _ := json.Marshal(map[string]any{"modules": map[string]string{"freeze.rego": freezeReads}, "data": json.RawMessage(data)})
	w := ts.do(t, "POST", "/api/v1/policies/simulate", string(body), nil)
	var sim struct {
		ActiveRevision    string `json:"active_revision"`
		CandidateRevision string `json:"candidate_revision"`
		Scanned           int
		Complete          bool
		Tests             struct {
			Passed int
			Failed []string
		}
		Results []struct {
			Role, Purpose string
			Read          struct {
				NewlyVisible int `json:"newly_visible"`
				NewlyHidden  int `json:"newly_hidden"`
				Unchanged    int
			}
			Write struct {
				NewlyRefused int `json:"newly_refused"`
			}
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &sim); err != nil || w.Code != 200 {
		t.Fatalf("simulate = %d %s", w.Code, w.Body)
	}
	if sim.Scanned != 2 || !sim.Complete || sim.Tests.Passed == 0 || sim.ActiveRevision == sim.CandidateRevision {
		t.Errorf("simulate = %s", w.Body)
	}
	// The pack's tests that expect reads to be allowed fail under the freeze:
	// reported, not refusing the simulation.
	if len(sim.Tests.Failed) == 0 {
		t.Errorf("simulate tests = %+v, want the read tests failing under the freeze", sim.Tests)
	}
	admin := 0
	for _, r := range sim.Results {
		if r.Role == "admin" {
			admin++
			if r.Read.NewlyHidden != 2 || r.Read.NewlyVisible != 0 || r.Read.Unchanged != 0 || r.Write.NewlyRefused != 0 {
				t.Errorf("admin/%s = %+v, want both statements newly hidden, writes unchanged", r.Purpose, r)
			}
		}
	}
	if admin < 1 || !strings.Contains(w.Body.String(), `"purpose":"simulated"`) {
		t.Errorf("no admin results, or none for the purpose of the candidate data: %s", w.Body)
	}
	if w := ts.do(t, "GET", "/api/v1/policies", "", nil); !strings.Contains(w.Body.String(), sim.ActiveRevision) {
		t.Errorf("a simulation changed the active policy: %s", w.Body)
	}
	w = ts.do(t, "POST", "/api/v1/policies/simulate", `{"limit": 1}`, nil)
	if err := json.Unmarshal(w.Body.Bytes(), &sim); err != nil || sim.Scanned != 1 || sim.Complete {
		t.Errorf("simulate with limit 1 = %d %s", w.Code, w.Body)
	}
	wantError(t, ts.do(t, "POST", "/api/v1/policies/simulate", `{"modules":{"x.rego":"package x\n\ny := z\n"}}`, nil), 400, "x.rego:3")
	wantError(t, ts.do(t, "POST", "/api/v1/policies/simulate", `{"limit":"all"}`, nil), 400, "limit")
	wantError(t, ts.do(t, "POST", "/api/v1/policies/simulate", `{"modules":{},"extra":1}`, nil), 400, "unknown key")
	wantError(t, ts.do(t, "POST", "/api/v1/policies/simulate", `{}`, map[string]string{"Authorization": "none"}), 401, "")
}

// withPurpose returns data with one more purpose, id, of the shape of the
// contract, to which nothing maps.
func withPurpose(t *testing.T, data []byte, id string) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("policy data %s: %v", data, err)
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
