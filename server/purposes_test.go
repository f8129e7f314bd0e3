package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// credential creates a credential as the admin and returns "key:secret"
// for do's Authorization override.
func (ts *testServer) credential(t *testing.T, body string) string {
	t.Helper()
	w := ts.do(t, "POST", "/api/v1/credentials", body, nil)
	if w.Code != 201 {
		t.Fatalf("creating credential %s: %d %s", body, w.Code, w.Body)
	}
	var c struct{ Key, Secret string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	return c.Key + ":" + c.Secret
}

// as sends a request with the credential "key:secret".
func (ts *testServer) as(t *testing.T, cred, method, target, body string) (int, []byte, http.Header) {
	t.Helper()
	key, secret, _ := strings.Cut(cred, ":")
	saved := [2]string{ts.key, ts.secret}
	ts.key, ts.secret = key, secret
	defer func() { ts.key, ts.secret = saved[0], saved[1] }()
	w := ts.do(t, method, target, body, nil)
	return w.Code, w.Body.Bytes(), w.Header()
}

func TestMeConsents(t *testing.T) {
	ts := newTestServer(t, 0)
	alice := ts.credential(t, `{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	bob := ts.credential(t, `{"name":"bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)
	lms := ts.credential(t, `{"name":"lms","roles":["client"]}`)

	code, b, _ := ts.as(t, alice, "PUT", "/api/v1/me/consents/clickstream-analytics", `{"granted":true}`)
	var rec struct {
		Version, ConsentReceiptID, PIIPrincipalID string `json:"-"`
		V                                         string `json:"version"`
		ID                                        string `json:"consentReceiptID"`
		Services                                  []struct {
			Purposes []struct {
				PurposeID, LegalBasis, ConsentState string
			}
		}
	}
	if code != 200 || json.Unmarshal(b, &rec) != nil || rec.V != "KI-CR-v1.1.0" || rec.ID == "" ||
		rec.Services[0].Purposes[0].PurposeID != "clickstream-analytics" || rec.Services[0].Purposes[0].ConsentState != "granted" {
		t.Fatalf("PUT consent = %d %s, want 200 and a receipt of the grant", code, b)
	}
	code, b, hdr := ts.as(t, alice, "GET", "/api/v1/me/consents/receipts/"+rec.ID, "")
	if code != 200 || !strings.Contains(string(b), rec.ID) || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Errorf("GET own receipt = %d %s (%v), want the receipt as a download", code, b, hdr)
	}
	if code, b, _ := ts.as(t, bob, "GET", "/api/v1/me/consents/receipts/"+rec.ID, ""); code != 404 {
		t.Errorf("GET alice's receipt as bob = %d %s, want 404", code, b)
	}
	code, b, _ = ts.as(t, alice, "GET", "/api/v1/me/consents", "")
	var list struct {
		Consents []struct{ Purpose, State, LegalBasis, Receipt string }
	}
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list.Consents) != 4 {
		t.Fatalf("GET consents = %d %s, want the four purposes", code, b)
	}
	for _, c := range list.Consents {
		if c.Purpose == "clickstream-analytics" && (c.State != "granted" || c.Receipt != rec.ID) {
			t.Errorf("consent %+v, want granted with the receipt", c)
		}
	}
	for _, tc := range []struct {
		name, cred, path, body string
		status                 int
		msg                    string
	}{
		{"not a boolean", alice, "/api/v1/me/consents/clickstream-analytics", `{"granted":"yes"}`, 400, "granted"},
		{"missing member", alice, "/api/v1/me/consents/clickstream-analytics", `{}`, 400, "granted is required"},
		{"unknown member", alice, "/api/v1/me/consents/clickstream-analytics", `{"granted":true,"x":1}`, 400, "unknown key"},
		{"not consent-based", alice, "/api/v1/me/consents/compliance-training", `{"granted":true}`, 400, "not on consent"},
		{"unknown purpose", alice, "/api/v1/me/consents/marketing", `{"granted":true}`, 404, "no purpose"},
		{"not an identifier", alice, "/api/v1/me/consents/Marketing", `{"granted":true}`, 404, "no purpose"},
		{"no person", lms, "/api/v1/me/consents/clickstream-analytics", `{"granted":true}`, 403, "bound to a person"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, secret, _ := strings.Cut(tc.cred, ":")
			w := ts.do(t, "PUT", tc.path, tc.body, map[string]string{"Authorization": "Basic " + basic(key, secret)})
			wantError(t, w, tc.status, tc.msg)
		})
	}
	if code, b, _ := ts.as(t, lms, "GET", "/api/v1/me/consents", ""); code != 403 {
		t.Errorf("GET consents as a client = %d %s, want 403", code, b)
	}
}

func TestMeStatements(t *testing.T) {
	ts := newTestServer(t, 0)
	alice := ts.credential(t, `{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	for i, who := range []string{"alice", "bob", "alice", "alice"} {
		body := fmt.Sprintf(`{"actor":{"mbox":"mailto:%s@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/c/%d"}}`, who, i)
		if w := ts.do(t, "POST", "/xapi/statements", body, nil); w.Code != 200 {
			t.Fatalf("POST = %d %s", w.Code, w.Body)
		}
	}
	var page struct {
		Statements []struct{ Actor struct{ Mbox string } }
		More       string
	}
	// (Paging and the more link are tested end to end on the real store.)
	code, b, _ := ts.as(t, alice, "GET", "/api/v1/me/statements?limit=2", "")
	if code != 200 || json.Unmarshal(b, &page) != nil || len(page.Statements) != 2 {
		t.Fatalf("GET /me/statements?limit=2 = %d %s, want 2", code, b)
	}
	code, b, _ = ts.as(t, alice, "GET", "/api/v1/me/statements", "")
	if code != 200 || json.Unmarshal(b, &page) != nil || len(page.Statements) != 3 || page.More != "" {
		t.Fatalf("GET /me/statements = %d %s, want alice's three", code, b)
	}
	for _, s := range page.Statements {
		if s.Actor.Mbox != "mailto:alice@example.com" {
			t.Errorf("GET /me/statements returned a statement about %s", s.Actor.Mbox)
		}
	}
	for _, q := range []string{"?limit=x", "?agent=x", "?limit=1&limit=2"} {
		key, secret, _ := strings.Cut(alice, ":")
		w := ts.do(t, "GET", "/api/v1/me/statements"+q, "", map[string]string{"Authorization": "Basic " + basic(key, secret)})
		wantError(t, w, 400, "")
	}
	// The admin credential stands for no person.
	wantError(t, ts.do(t, "GET", "/api/v1/me/statements", "", nil), 403, "bound to a person")
}

func TestHoldsAndSweep(t *testing.T) {
	ts := newTestServer(t, 0)
	compliance := ts.credential(t, `{"name":"dpo","roles":["compliance"]}`)
	hr := ts.credential(t, `{"name":"hr","roles":["hr"]}`)
	code, b, _ := ts.as(t, compliance, "POST", "/api/v1/holds", `{"agent":{"mbox":"mailto:bob@example.com"},"reason":"case 7"}`)
	var h struct {
		ID    string
		Agent struct{ Mbox string }
	}
	if code != 201 || json.Unmarshal(b, &h) != nil || h.ID == "" || h.Agent.Mbox != "mailto:bob@example.com" {
		t.Fatalf("POST hold = %d %s, want 201 with the hold", code, b)
	}
	if code, b, _ := ts.as(t, compliance, "POST", "/api/v1/holds", `{"purpose":"skills-development"}`); code != 201 {
		t.Errorf("POST purpose hold = %d %s", code, b)
	}
	code, b, _ = ts.as(t, compliance, "GET", "/api/v1/holds", "")
	var list struct {
		Holds []struct{ ID, Purpose string }
	}
	if code != 200 || json.Unmarshal(b, &list) != nil || len(list.Holds) != 2 {
		t.Fatalf("GET holds = %d %s, want two", code, b)
	}
	if code, _, _ := ts.as(t, hr, "GET", "/api/v1/holds", ""); code != 403 {
		t.Errorf("GET holds as hr = %d, want 403", code)
	}
	if code, b, _ := ts.as(t, compliance, "DELETE", "/api/v1/holds/"+h.ID, ""); code != 204 {
		t.Errorf("DELETE hold = %d %s, want 204", code, b)
	}
	if code, _, _ := ts.as(t, compliance, "DELETE", "/api/v1/holds/"+h.ID, ""); code != 404 {
		t.Errorf("DELETE released hold = %d, want 404", code)
	}
	for _, body := range []string{`{}`, `{"agent":{"mbox":"bob"}}`, `{"purpose":"x","agent":{"mbox":"mailto:b@example.com"}}`, `{"purpose":7}`, `[]`} {
		wantError(t, ts.do(t, "POST", "/api/v1/holds", body, nil), 400, "")
	}
	// A hold on a purpose the active policy data does not define would pin
	// nothing: refused, naming it.
	wantError(t, ts.do(t, "POST", "/api/v1/holds", `{"purpose":"no-such-purpose"}`, nil), 400, "no-such-purpose")
	code, b, _ = ts.as(t, compliance, "POST", "/api/v1/retention/sweep", `{"dry_run":true}`)
	var rep struct {
		DryRun    bool `json:"dry_run"`
		Expired   int
		ByPurpose map[string]any `json:"by_purpose"`
	}
	if code != 200 || json.Unmarshal(b, &rep) != nil || !rep.DryRun || rep.Expired != 0 || rep.ByPurpose == nil {
		t.Errorf("POST sweep = %d %s, want an empty dry-run report", code, b)
	}
	if code, _, _ := ts.as(t, hr, "POST", "/api/v1/retention/sweep", `{"dry_run":true}`); code != 403 {
		t.Errorf("sweep as hr = %d, want 403", code)
	}
	wantError(t, ts.do(t, "POST", "/api/v1/retention/sweep", `{}`, nil), 400, "dry_run is required")
	wantError(t, ts.do(t, "GET", "/api/v1/retention/sweep", ``, nil), 405, "")
}
