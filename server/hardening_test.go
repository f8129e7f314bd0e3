package server_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"custodia/server"
)

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRateLimit checks the per-credential limit: a burst passes, the next
// request gets 429 with Retry-After, other credentials are not affected,
// and the bucket refills with time.
func TestRateLimit(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ts := newTestServerConfig(t, server.Config{RateLimit: server.RateLimit{Rate: 0.5, Burst: 3}, Now: c.now})
	lms := ts.credentialAs(t, `{"name":"lms","roles":["client"],"scopes":["statements/read"]}`)
	for i := range 3 {
		wantStatus(t, ts.do(t, "GET", "/xapi/statements", "", lms), 200, "request "+strconv.Itoa(i+1)+" of the burst")
	}
	w := ts.do(t, "GET", "/xapi/statements", "", lms)
	wantError(t, w, 429, "too many requests")
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (one token every 2 s)", got)
	}
	// The admin has a bucket of its own (it made 2 requests creating lms).
	wantStatus(t, ts.do(t, "GET", "/xapi/statements", "", nil), 200, "another credential")
	c.advance(2 * time.Second)
	wantStatus(t, ts.do(t, "GET", "/xapi/statements", "", lms), 200, "after Retry-After")
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", lms), 429, "too many requests")
	// Without a limit (the default) nothing is limited.
	free := newTestServer(t, 0)
	for range 50 {
		wantStatus(t, free.do(t, "GET", "/xapi/statements", "", nil), 200, "unlimited")
	}
}

// TestSecurityHeaders checks the headers every answer carries.
func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t, 0)
	for _, target := range []string{"/xapi/statements", "/api/v1/credentials", "/healthz", "/xapi/about"} {
		w := ts.do(t, "GET", target, "", nil)
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := w.Header().Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", target, k, got, want)
			}
		}
		if strings.HasPrefix(target, "/api/") && w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q, want no-store", target, w.Header().Get("Cache-Control"))
		}
		if target != "/healthz" && !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("GET %s: Content-Security-Policy = %q", target, w.Header().Get("Content-Security-Policy"))
		}
	}
}

// TestCredentialRotate checks POST /api/v1/credentials/{key}/rotate: a new
// secret, the old one refused on the next request.
func TestCredentialRotate(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "POST", "/api/v1/credentials", `{"name":"lms","roles":["client"],"scopes":["statements/read"]}`, nil)
	var c struct{ Key, Secret string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 201 {
		t.Fatalf("create = %d %s", w.Code, w.Body)
	}
	old := map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}
	wantStatus(t, ts.do(t, "GET", "/xapi/statements", "", old), 200, "GET with the first secret")
	learner := ts.credentialAs(t, `{"name":"pat","roles":["learner"],"agent":{"mbox":"mailto:pat@example.com"}}`)
	wantError(t, ts.do(t, "POST", "/api/v1/credentials/"+c.Key+"/rotate", "", learner), 403, "refused by policy")
	wantError(t, ts.do(t, "POST", "/api/v1/credentials/nope/rotate", "", nil), 404, "no credential")
	w = ts.do(t, "POST", "/api/v1/credentials/"+c.Key+"/rotate", "", nil)
	var r struct {
		Key, Secret string
		Scopes      []string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || w.Code != 200 || r.Key != c.Key || r.Secret == "" || r.Secret == c.Secret || len(r.Scopes) != 1 {
		t.Fatalf("rotate = %d %s, want 200 with the same key and a new secret", w.Code, w.Body)
	}
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", old), 401, "invalid credentials")
	wantStatus(t, ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Authorization": "Basic " + basic(r.Key, r.Secret)}), 200, "GET with the new secret")
	// Revocation, too, takes effect on the next request.
	wantStatus(t, ts.do(t, "DELETE", "/api/v1/credentials/"+c.Key, "", nil), 204, "revoke")
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Authorization": "Basic " + basic(r.Key, r.Secret)}), 401, "invalid credentials")
}

// TestBreakGlassAPI opens a session over HTTP as hr, reads beyond policy
// while it is open, and lists it for review once it has expired.
func TestBreakGlassAPI(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ts := newTestServerConfig(t, server.Config{Now: c.now})
	hr := ts.credentialAs(t, `{"name":"hr desk","roles":["hr"],"purpose":"marketing"}`)
	auditor := ts.credentialAs(t, `{"name":"audit","roles":["auditor"]}`)
	compliance := ts.credentialAs(t, `{"name":"dpo","roles":["compliance"]}`)
	wantStatus(t, ts.do(t, "POST", "/xapi/statements", stmt, nil), 200, "admin POST")
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", hr), 403, "purpose marketing is not defined")

	body := `{"justification":"Works council request WC-12: check the fire-safety records of a team","minutes":15,"purpose":"compliance-training"}`
	wantError(t, ts.do(t, "POST", "/api/v1/break-glass", body, auditor), 403, "refused by policy")
	wantError(t, ts.do(t, "POST", "/api/v1/break-glass", `{"justification":"x","minutes":15}`, hr), 400, "justification")
	wantError(t, ts.do(t, "POST", "/api/v1/break-glass", `{"justification":"long enough justification text here","minutes":15,"why":1}`, hr), 400, "one JSON object")
	for _, bad := range []struct{ name, body, msg string }{
		{"NUL", `{"justification":"Works council request WC-12\u0000 hidden","minutes":15}`, "control characters"},
		{"ESC", `{"justification":"Works council request WC-12 \u001b[1A\u001b[2K","minutes":15}`, "control characters"},
		{"newline", `{"justification":"Works council request WC-12\nAPPROVED BY DPO","minutes":15}`, "control characters"},
		{"undefined purpose", `{"justification":"Works council request WC-12: fire-safety records","minutes":15,"purpose":"investigation"}`, "purpose investigation is not defined"},
		// One limit and one message, from 1 up to the policy's maximum.
		{"0 minutes", `{"justification":"Works council request WC-12: fire-safety records","minutes":0}`, "minutes must be a whole number from 1 to 240"},
		{"241 minutes", `{"justification":"Works council request WC-12: fire-safety records","minutes":241}`, "minutes must be a whole number from 1 to 240"},
		{"1440 minutes", `{"justification":"Works council request WC-12: fire-safety records","minutes":1440}`, "minutes must be a whole number from 1 to 240"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			wantError(t, ts.do(t, "POST", "/api/v1/break-glass", bad.body, hr), 400, bad.msg)
		})
	}
	w := ts.do(t, "POST", "/api/v1/break-glass", body, hr)
	var s struct {
		ID, Justification string
		Open              bool
		Expires           time.Time
	}
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || w.Code != 201 || !s.Open || !s.Expires.Equal(c.now().Add(15*time.Minute)) {
		t.Fatalf("open = %d %s, want 201 with an open session of 15 minutes", w.Code, w.Body)
	}
	// One open session at a time: a second is 409, naming when the first ends.
	wantError(t, ts.do(t, "POST", "/api/v1/break-glass", `{"justification":"Another reason, to blur which one a read served","minutes":60}`, hr),
		409, "open until "+s.Expires.UTC().Format(time.RFC3339))
	w = ts.do(t, "GET", "/xapi/statements", "", hr)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "alice@example.com") {
		t.Fatalf("hr GET statements under break-glass = %d %s", w.Code, w.Body)
	}
	last := ts.audit.Entries()[len(ts.audit.Entries())-1]
	if !last.BreakGlass || !strings.HasPrefix(last.Justification, "Works council request WC-12") || !slices.Contains(last.Reasons, "break-glass session "+s.ID) {
		t.Errorf("audit entry = %+v, want break-glass with the justification and the session id", last)
	}
	wantError(t, ts.do(t, "POST", "/xapi/statements", stmt, hr), 403, "refused by policy")
	wantError(t, ts.do(t, "GET", "/api/v1/break-glass", "", hr), 403, "refused by policy")

	c.advance(15 * time.Minute)
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", hr), 403, "purpose marketing is not defined")
	for _, reviewer := range []map[string]string{auditor, compliance} {
		w = ts.do(t, "GET", "/api/v1/break-glass", "", reviewer)
		var l struct {
			Sessions []struct {
				ID, Justification, Purpose string
				Open                       bool
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || w.Code != 200 || len(l.Sessions) != 1 || l.Sessions[0].ID != s.ID || l.Sessions[0].Open || l.Sessions[0].Purpose != "compliance-training" {
			t.Errorf("GET /api/v1/break-glass = %d %s, want the closed session", w.Code, w.Body)
		}
	}
}

// TestEncodedDotSegments checks that a path whose escaped slashes decode to
// dot segments is answered with a JSON 404, not an empty redirect to the
// cleaned path.
func TestEncodedDotSegments(t *testing.T) {
	ts := newTestServer(t, 0)
	for _, tt := range []struct{ method, target string }{
		{"DELETE", "/api/v1/credentials/..%2F..%2Fx"},
		{"DELETE", "/api/v1/credentials/..%2Fx"},
		{"POST", "/api/v1/credentials/..%2F..%2Fx/rotate"},
		{"GET", "/api/v1/policies/..%2F..%2Fhealthz"},
		{"GET", "/xapi/..%2Fapi/v1/credentials"},
	} {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			w := ts.do(t, tt.method, tt.target, "", nil)
			wantError(t, w, 404, "")
			if loc := w.Header().Get("Location"); loc != "" {
				t.Errorf("Location = %q, want none", loc)
			}
		})
	}
}
