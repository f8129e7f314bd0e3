package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"custodia/server"
)

// tokenNow is the clock of the token tests.
var tokenNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testIss = "https://idp.example.com/"
	testAud = "custodia-test"
)

// idp is an identity provider of the tests: an RSA signing key with kid.
type idp struct {
	key *rsa.PrivateKey
	kid string
}

func newIDP(t testing.TB, kid string) *idp {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &idp{key: k, kid: kid}
}

// jwks is the public JWK Set of the providers.
func jwks(t testing.TB, ps ...*idp) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, p := range ps {
		k, err := jwk.FromRaw(p.key.Public())
		if err != nil {
			t.Fatal(err)
		}
		_ = k.Set(jwk.KeyIDKey, p.kid)
		_ = k.Set(jwk.AlgorithmKey, jwa.RS256)
		_ = k.Set(jwk.KeyUsageKey, jwk.ForSignature)
		if err := set.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claims are valid claims for tokenNow, changed by with.
func claims(with map[string]any) map[string]any {
	c := map[string]any{
		"iss": testIss, "aud": testAud, "sub": "employee-4711",
		"iat": tokenNow.Add(-time.Minute).Unix(), "nbf": tokenNow.Add(-time.Minute).Unix(), "exp": tokenNow.Add(10 * time.Minute).Unix(),
		"email": "alice@example.com", "roles": []string{"learner"}, "scope": "statements/write statements/read/mine",
	}
	for k, v := range with {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// sign makes a compact JWS of payload with RS256 under the idp's key and
// the header fields hdr (kid defaults to the idp's).
func (p *idp) sign(t testing.TB, payload map[string]any, hdr map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, p.kid)
	_ = h.Set(jws.TypeKey, "JWT")
	for k, v := range hdr {
		if err := h.Set(k, v); err != nil {
			t.Fatalf("header %s: %v", k, err)
		}
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Sign(b, jws.WithKey(jwa.RS256, p.key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// issuersFile writes an issuers file for one issuer over a JWKS file.
func issuersFile(t testing.TB, set []byte, extra map[string]any) []server.Issuer {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), set, 0o600); err != nil {
		t.Fatal(err)
	}
	is := map[string]any{"iss": testIss, "name": "Example SSO", "audience": testAud, "jwks_file": filepath.Join(dir, "jwks.json"), "algs": []string{"RS256"}, "clock_skew": "30s", "agent": "email", "role_map": map[string]string{"learner": "learner"}}
	for k, v := range extra {
		is[k] = v
	}
	b, _ := json.Marshal(map[string]any{"issuers": []any{is}})
	out, err := server.ParseIssuers(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newTokenServer is a test server that accepts the tokens of issuers.
func newTokenServer(t testing.TB, issuers []server.Issuer, client *http.Client) *testServer {
	t.Helper()
	v, err := server.NewTokenVerifier(t.Context(), issuers, server.TokenOptions{Now: func() time.Time { return tokenNow }, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return newTestServerConfig(t, server.Config{Tokens: v})
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// TestBearerAdversarial sends the tokens an attacker would try. Each is
// refused with 401 before the Gate is reached: no audit entry is written.
func TestBearerAdversarial(t *testing.T) {
	good := newIDP(t, "k1")
	attacker := newIDP(t, "k1") // same kid, another key
	ts := newTokenServer(t, issuersFile(t, jwks(t, good), nil), nil)

	// A server that must never be asked for keys.
	var fetched atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks(t, attacker))
	}))
	defer evil.Close()

	pubDER, err := x509.MarshalPKIXPublicKey(good.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs256 := func(key []byte) string {
		signing := b64JSON(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1"}) + "." + b64JSON(t, claims(nil))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(signing))
		return signing + "." + b64(m.Sum(nil))
	}
	valid := good.sign(t, claims(nil), nil)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64JSON(t, claims(map[string]any{"roles": []string{"admin"}})) + "." + parts[2]
	attackerJWK, _ := jwk.FromRaw(attacker.key.Public())
	_ = attackerJWK.Set(jwk.KeyIDKey, "k1")
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	tests := []struct {
		name, token string
	}{
		{"alg none, empty signature", b64JSON(t, map[string]any{"alg": "none", "kid": "k1"}) + "." + b64JSON(t, claims(nil)) + "."},
		{"alg none, some signature", b64JSON(t, map[string]any{"alg": "none", "kid": "k1"}) + "." + b64JSON(t, claims(nil)) + ".AAAA"},
		{"HS256 signed with the RSA public key (PEM)", hs256(pubPEM)},
		{"HS256 signed with the RSA public key (DER)", hs256(pubDER)},
		{"expired", good.sign(t, claims(map[string]any{"exp": tokenNow.Add(-31 * time.Second).Unix()}), nil)},
		{"not yet valid", good.sign(t, claims(map[string]any{"nbf": tokenNow.Add(31 * time.Second).Unix()}), nil)},
		{"issued in the future", good.sign(t, claims(map[string]any{"iat": tokenNow.Add(time.Hour).Unix()}), nil)},
		{"no exp", good.sign(t, claims(map[string]any{"exp": nil}), nil)},
		{"no sub", good.sign(t, claims(map[string]any{"sub": nil}), nil)},
		{"wrong aud", good.sign(t, claims(map[string]any{"aud": "another-service"}), nil)},
		{"wrong iss", good.sign(t, claims(map[string]any{"iss": "https://evil.example.com/"}), nil)},
		{"unknown kid", good.sign(t, claims(nil), map[string]any{"kid": "k2"})},
		{"no kid", b64JSON(t, map[string]any{"alg": "RS256"}) + "." + strings.SplitN(valid, ".", 2)[1]},
		{"tampered payload", tampered},
		{"tampered header", b64JSON(t, map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT", "x": 1}) + "." + parts[1] + "." + parts[2]},
		{"signed by another key with the same kid", attacker.sign(t, claims(nil), nil)},
		{"jku pointing elsewhere", attacker.sign(t, claims(nil), map[string]any{"jku": evil.URL})},
		{"jku on a validly signed token", good.sign(t, claims(nil), map[string]any{"jku": evil.URL})},
		{"x5u pointing elsewhere", attacker.sign(t, claims(nil), map[string]any{"x5u": evil.URL})},
		{"embedded jwk", attacker.sign(t, claims(nil), map[string]any{"jwk": attackerJWK})},
		{"critical extension", good.sign(t, claims(nil), map[string]any{"crit": []string{"exp"}})},
		{"alg not on the issuer's list", func() string {
			h := jws.NewHeaders()
			_ = h.Set(jws.KeyIDKey, "k1")
			b, _ := json.Marshal(claims(nil))
			tok, _ := jws.Sign(b, jws.WithKey(jwa.ES256, ecKey, jws.WithProtectedHeaders(h)))
			return string(tok)
		}()},
		{"oversized token", good.sign(t, claims(map[string]any{"pad": strings.Repeat("a", server.MaxTokenBytes)}), nil)},
		{"JSON serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`},
		{"JWE-shaped", "a.b.c.d.e"},
		{"garbage", "not-a-token"},
		{"empty", ""},
		{"wrong typ", good.sign(t, claims(nil), map[string]any{"typ": "secevent+jwt"})},
		{"email not verified", good.sign(t, claims(map[string]any{"email_verified": false}), nil)},
		{"learner without an agent claim", good.sign(t, claims(map[string]any{"email": nil}), nil)},
		{"purpose claim that is free text", good.sign(t, claims(map[string]any{"purpose": "Free text!"}), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(ts.audit.Entries())
			for _, target := range []string{"/xapi/statements", "/api/v1/me/statements"} {
				w := ts.do(t, "GET", target, "", bearer(tt.token))
				wantError(t, w, 401, "")
				if h := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", h)
				}
			}
			if n := len(ts.audit.Entries()); n != before {
				t.Errorf("%d audit entries written: the request reached the gate", n-before)
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the key server named by tokens was asked %d times, want never", n)
	}
	// The same tokens as Basic credentials get nowhere either.
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Authorization": "Bearer"}), 401, "")
	wantError(t, ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Authorization": "Token " + valid}), 401, "")
	// And the valid token is accepted, so the refusals are not vacuous.
	if w := ts.do(t, "GET", "/api/v1/me/statements", "", bearer(valid)); w.Code != 200 {
		t.Fatalf("valid token = %d %s, want 200", w.Code, w.Body)
	}
}

// TestBearerPrincipal checks the claim mapping: roles (through role_map),
// scopes, the agent (email → mbox, sub → account under the issuer), the
// default purpose, and that a token's learner reads and writes only about
// themself.
func TestBearerPrincipal(t *testing.T) {
	p := newIDP(t, "k1")
	ts := newTokenServer(t, issuersFile(t, jwks(t, p), map[string]any{"role_map": map[string]string{"lrs-learners": "learner", "lrs-hr": "hr"}}), nil)
	alice := p.sign(t, claims(map[string]any{"roles": "lrs-learners other-group"}), nil)
	own := `{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"}}`
	bobs := strings.Replace(own, "alice", "bob", 1)
	wantStatus(t, ts.do(t, "POST", "/xapi/statements", own, bearer(alice)), 200, "token learner POST own statement")
	wantStatus(t, ts.do(t, "POST", "/xapi/statements", bobs, bearer(alice)), 403, "token learner POST bob's statement")
	w := ts.do(t, "GET", "/api/v1/me/statements", "", bearer(alice))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "alice@example.com") {
		t.Fatalf("GET /me/statements with the token = %d %s", w.Code, w.Body)
	}
	// The authority of what the token wrote names the issuer, not the person.
	if s := ts.store.Statements(); len(s) != 1 {
		t.Fatalf("store holds %d statements, want 1", len(s))
	} else if a, _ := s[0].Authority(); a.Name != "Example SSO" || a.Account == nil || strings.Contains(a.Account.Name, "4711") {
		t.Errorf("authority = %+v, want the issuer's name and a pseudonymous account", a)
	}
	// Scopes come from the token: without a read scope, no statement reads.
	writer := p.sign(t, claims(map[string]any{"roles": []string{"lrs-learners"}, "scope": "statements/write"}), nil)
	wantStatus(t, ts.do(t, "GET", "/xapi/statements", "", bearer(writer)), 403, "token without a read scope GET statements")
	// Unmapped roles count for nothing: "admin" is not in role_map.
	notAdmin := p.sign(t, claims(map[string]any{"roles": []string{"admin", "lrs-learners"}}), nil)
	wantStatus(t, ts.do(t, "GET", "/api/v1/credentials", "", bearer(notAdmin)), 403, "token claiming admin outside role_map")
	// A purpose claim is the default purpose: hr reading for an undefined one is refused by purpose.
	hr := p.sign(t, claims(map[string]any{"roles": []string{"lrs-hr"}, "purpose": "marketing"}), nil)
	w = ts.do(t, "GET", "/xapi/statements", "", bearer(hr))
	wantError(t, w, 403, "purpose marketing is not defined")

	// agent "sub": the person is an account of the issuer.
	ts2 := newTokenServer(t, issuersFile(t, jwks(t, p), map[string]any{"agent": "sub"}), nil)
	subOwn := `{"actor":{"account":{"homePage":"` + testIss + `","name":"employee-4711"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"}}`
	wantStatus(t, ts2.do(t, "POST", "/xapi/statements", subOwn, bearer(alice)), 403, "lrs-learners is not in this issuer's role_map: no role")
	learner := p.sign(t, claims(nil), nil)
	wantStatus(t, ts2.do(t, "POST", "/xapi/statements", subOwn, bearer(learner)), 200, "sub-mapped learner POST own statement")
	wantStatus(t, ts2.do(t, "POST", "/xapi/statements", own, bearer(learner)), 403, "sub-mapped learner POST as the email agent")
}

// TestBearerJWKSURL fetches the key set from the configured URL only,
// caches it, and refreshes it when a token names a new kid (key rotation
// at the identity provider) — at most once a minute.
func TestBearerJWKSURL(t *testing.T) {
	k1, k2 := newIDP(t, "k1"), newIDP(t, "k2")
	var served atomic.Pointer[[]byte]
	first := jwks(t, k1)
	served.Store(&first)
	var fetches atomic.Int32
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks.json" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*served.Load())
	}))
	defer keys.Close()
	is, err := server.ParseIssuers([]byte(`{"issuers":[{"iss":"` + testIss + `","audience":"` + testAud + `","jwks_url":"` + keys.URL + `/jwks.json","algs":["RS256"],"agent":"email","role_map":{"learner":"learner"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ts := newTokenServer(t, is, keys.Client())
	afterStart := fetches.Load()
	if afterStart != 1 {
		t.Fatalf("key set fetched %d times at start, want 1", afterStart)
	}
	for range 3 {
		wantStatus(t, ts.do(t, "GET", "/api/v1/me/statements", "", bearer(k1.sign(t, claims(nil), nil))), 200, "token of k1")
	}
	if n := fetches.Load(); n != afterStart {
		t.Errorf("key set fetched %d more times for known kids, want 0 (cached)", n-afterStart)
	}
	// The provider rotates to k2: the unknown kid refreshes the set once.
	rotated := jwks(t, k2)
	served.Store(&rotated)
	wantStatus(t, ts.do(t, "GET", "/api/v1/me/statements", "", bearer(k2.sign(t, claims(nil), nil))), 200, "token of k2 after rotation")
	if n := fetches.Load(); n != afterStart+1 {
		t.Errorf("key set fetched %d more times after rotation, want 1", n-afterStart)
	}
	// k1 is gone from the set; and unknown kids do not refetch again within a minute.
	wantStatus(t, ts.do(t, "GET", "/api/v1/me/statements", "", bearer(k1.sign(t, claims(nil), nil))), 401, "token of the retired k1")
	wantStatus(t, ts.do(t, "GET", "/api/v1/me/statements", "", bearer(newIDP(t, "k9").sign(t, claims(nil), nil))), 401, "token of an unknown kid")
	if n := fetches.Load(); n != afterStart+1 {
		t.Errorf("key set fetched %d more times in all, want 1 (refreshes are throttled)", n-afterStart)
	}
}

// TestParseIssuers checks that a bad issuer configuration is refused.
func TestParseIssuers(t *testing.T) {
	base := `"iss":"https://idp.example.com/","audience":"a","jwks_file":"k.json","role_map":{}`
	tests := []struct{ name, body, msg string }{
		{"alg none", `{"issuers":[{` + base + `,"algs":["none"]}]}`, "not accepted"},
		{"HMAC", `{"issuers":[{` + base + `,"algs":["HS256"]}]}`, "not accepted"},
		{"no algs", `{"issuers":[{` + base + `}]}`, "algs"},
		{"two key sources", `{"issuers":[{` + base + `,"jwks_url":"https://idp.example.com/k","algs":["RS256"]}]}`, "exactly one"},
		{"plain http URL", `{"issuers":[{"iss":"x","audience":"a","jwks_url":"http://idp.example.com/k","algs":["RS256"],"agent":"email"}]}`, "https"},
		{"skew too large", `{"issuers":[{` + base + `,"algs":["RS256"],"clock_skew":"1h"}]}`, "clock_skew"},
		{"unknown key", `{"issuers":[{` + base + `,"algs":["RS256"],"alg":"RS256"}]}`, "unknown field"},
		{"role_map to no role", `{"issuers":[{"iss":"https://idp.example.com/","audience":"a","jwks_file":"k.json","algs":["RS256"],"role_map":{"x":"wizard"}}]}`, "not a role"},
		// Without role_map an IdP group named "admin" would be Custodia's admin.
		{"no role_map", `{"issuers":[{"iss":"https://idp.example.com/","audience":"a","jwks_file":"k.json","algs":["RS256"]}]}`, "role_map is required"},
		{"sub agent needs a URL iss", `{"issuers":[{"iss":"idp","audience":"a","jwks_file":"k.json","algs":["RS256"]}]}`, "absolute URL"},
		{"twice", `{"issuers":[{` + base + `,"algs":["RS256"]},{` + base + `,"algs":["RS256"]}]}`, "twice"},
	}
	for _, tt := range tests {
		if _, err := server.ParseIssuers([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseIssuers(%s) = %v, want an error mentioning %q", tt.name, err, tt.msg)
		}
	}
	// A symmetric key in the key set is refused when loading.
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "k.json"), []byte(`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}`), 0o600)
	is, err := server.ParseIssuers([]byte(`{"issuers":[{` + base + `,"algs":["RS256"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.NewTokenVerifier(context.Background(), is, server.TokenOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "symmetric") {
		t.Errorf("NewTokenVerifier with an oct key = %v, want it refused", err)
	}
	// role_map {} grants no role, whatever the token claims.
	p := newIDP(t, "k1")
	ts := newTokenServer(t, issuersFile(t, jwks(t, p), map[string]any{"role_map": map[string]string{}, "agent": "sub"}), nil)
	admin := p.sign(t, claims(map[string]any{"roles": []string{"admin"}}), nil)
	wantStatus(t, ts.do(t, "GET", "/api/v1/credentials", "", bearer(admin)), 403, "token claiming admin with role_map {}")
}

// TestBearerRefusalLog checks that a refused token is logged by a fixed
// reason, never by the JWT library's error text, which quotes claim values.
func TestBearerRefusalLog(t *testing.T) {
	p := newIDP(t, "k1")
	const marker = "claim-value-7f3a"
	tests := []struct{ name, token, reason string }{
		{"wrong aud", p.sign(t, claims(map[string]any{"aud": marker}), nil), "wrong audience"},
		{"wrong iss", p.sign(t, claims(map[string]any{"iss": "https://" + marker + ".example/"}), nil), "wrong issuer"},
		{"expired", p.sign(t, claims(map[string]any{"exp": tokenNow.Add(-time.Hour).Unix(), "sub": marker}), nil), "expired"},
		{"not yet valid", p.sign(t, claims(map[string]any{"nbf": tokenNow.Add(time.Hour).Unix(), "sub": marker}), nil), "not yet valid"},
		{"no sub", p.sign(t, claims(map[string]any{"sub": nil, "email": marker + "@example.com"}), nil), "a required claim"},
		{"bad signature", newIDP(t, "k1").sign(t, claims(map[string]any{"sub": marker}), nil), "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			v, err := server.NewTokenVerifier(t.Context(), issuersFile(t, jwks(t, p), nil), server.TokenOptions{Now: func() time.Time { return tokenNow }, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(t.Context(), tt.token); err == nil {
				t.Fatalf("Verify(%s) = nil error, want refused", tt.name)
			}
			if got := logs.String(); strings.Contains(got, marker) || !strings.Contains(strings.ReplaceAll(got, `"`, ""), "reason="+tt.reason) {
				t.Errorf("log of Verify(%s) = %q, want reason %q and no claim value", tt.name, got, tt.reason)
			}
		})
	}
}
