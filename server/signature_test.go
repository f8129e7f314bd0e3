package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// The statement the tests sign, without attachments (xAPI Data §2.6).
const signedStmt = `{"id":"2c7c2b04-59b3-4a34-a3a2-6d3b2ab3a111","actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"},"result":{"duration":"PT1M0.12S"},"timestamp":"2024-05-01T10:00:00.000Z"}`

// signingKeys holds RSA keys and certificates made once for the signature tests.
type signingKeys struct {
	rsa, other *rsa.PrivateKey
	x5c        string // base64 DER of a self-signed certificate for rsa
	otherX5c   string // the same for other
	ecX5c      string // a certificate with an ECDSA key
}

func newSigningKeys(t testing.TB) *signingKeys {
	t.Helper()
	k := &signingKeys{}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.x5c = selfSigned(t, &k.rsa.PublicKey, k.rsa)
	k.otherX5c = selfSigned(t, &k.other.PublicKey, k.other)
	k.ecX5c = selfSigned(t, &ec.PublicKey, ec)
	return k
}

func selfSigned(t testing.TB, pub, priv any) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "custodia test signer"},
		NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	b64, err := cert.Create(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(b64)
}

// sign makes a compact JWS of payload with alg and key; x5c, when set, goes
// into the protected header, and extra header parameters are added as given.
func sign(t testing.TB, alg jwa.SignatureAlgorithm, key any, payload, x5c string, extra map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	if x5c != "" {
		var chain cert.Chain
		if err := chain.AddString(x5c); err != nil {
			t.Fatal(err)
		}
		if err := h.Set(jws.X509CertChainKey, &chain); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range extra {
		if err := h.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	var opt jws.SignOption
	if alg == jwa.NoSignature {
		opt = jws.WithInsecureNoSignature(jws.WithProtectedHeaders(h))
	} else {
		opt = jws.WithKey(alg, key, jws.WithProtectedHeaders(h))
	}
	b, err := jws.Sign([]byte(payload), opt)
	if err != nil {
		t.Fatalf("jws.Sign(%s): %v", alg, err)
	}
	return string(b)
}

// signedBody builds a multipart POST of statement with sig attached as a
// signature attachment of the given contentType.
func signedBody(statement, sig, contentType string) (body, ct string) {
	att := `"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"signature"},"contentType":"` +
		contentType + `","length":` + itoa(len(sig)) + `,"sha2":"` + sha(sig) + `"}]`
	return multipartBody(strings.TrimSuffix(statement, "}")+","+att+"}", [2]string{sha(sig), sig})
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func TestSignedStatements(t *testing.T) {
	ts := newTestServer(t, 0)
	k := newSigningKeys(t)
	differentVerb := strings.Replace(signedStmt, "verbs/completed", "verbs/attempted", 1)
	longDuration := strings.Replace(signedStmt, "PT1M0.12S", "PT1M0.1299S", 1)
	otherID := strings.Replace(signedStmt, "2c7c2b04", "3c7c2b04", 1)
	otherTime := strings.Replace(signedStmt, "10:00:00.000Z", "11:00:00.000Z", 1)

	good := sign(t, jwa.RS256, k.rsa, signedStmt, "", nil)
	parts := strings.Split(sign(t, jwa.RS256, k.rsa, signedStmt, k.x5c, nil), ".")
	swappedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(differentVerb)) + "." + parts[2]

	tests := []struct {
		name, statement, sig, contentType string
		status                            int
		msg                               string
	}{
		{"XAPI-00117 RS256 accepted", signedStmt, good, "", 200, ""}, // the payload has an id, the statement none: accepted cases leave it out
		{"XAPI-00117 RS384 accepted", signedStmt, sign(t, jwa.RS384, k.rsa, signedStmt, "", nil), "", 200, ""},
		{"XAPI-00117 RS512 accepted", signedStmt, sign(t, jwa.RS512, k.rsa, signedStmt, "", nil), "", 200, ""},
		{"x5c that verifies accepted", signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, k.x5c, nil), "", 200, ""},
		{"duration compared to 0.01 s (2.0 §4.2.7)", longDuration, good, "", 200, ""},
		{"XAPI-00116 payload differs from the statement", differentVerb, good, "", 400, "payload does not match"},
		{"XAPI-00116 payload with another id", otherID, good, "", 400, "payload does not match"},
		{"XAPI-00116 payload with another timestamp", otherTime, good, "", 400, "payload does not match"},
		{"XAPI-00116 payload not JSON", signedStmt, sign(t, jwa.RS256, k.rsa, strings.Replace(signedStmt, `"`, "'", 1), "", nil), "", 400, "payload is not a valid statement"},
		{"XAPI-00116 payload not a valid statement", signedStmt, sign(t, jwa.RS256, k.rsa, `{"actor":{}}`, "", nil), "", 400, "payload is not a valid statement"},
		{"XAPI-00116 tampered payload under x5c", differentVerb, swappedPayload, "", 400, "does not verify"},
		{"XAPI-00117 HS256 rejected", signedStmt, sign(t, jwa.HS256, []byte("a shared secret of some length"), signedStmt, "", nil), "", 400, "HS256"},
		{"XAPI-00117 alg none rejected", signedStmt, sign(t, jwa.NoSignature, nil, signedStmt, "", nil), "", 400, "none"},
		{"XAPI-00117 PS256 rejected", signedStmt, sign(t, jwa.PS256, k.rsa, signedStmt, "", nil), "", 400, "PS256"},
		{"x5c of another key rejected", signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, k.otherX5c, nil), "", 400, "does not verify"},
		{"x5c that is not a certificate rejected", signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, base64.StdEncoding.EncodeToString([]byte("not a certificate")), nil), "", 400, "cannot be parsed"},
		{"x5c with an ECDSA key rejected", signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, k.ecX5c, nil), "", 400, "no RSA public key"},
		{"jwk header rejected (a key named by the token)", signedStmt, withHeader(t, sign(t, jwa.RS256, k.rsa, signedStmt, "", nil), `"jwk":{"kty":"oct","k":"c2VjcmV0"}`), "", 400, "jwk"},
		{"jku header rejected", signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, "", map[string]any{"jku": "http://keys.example.com/"}), "", 400, "jku"},
		{"empty x5c rejected", signedStmt, withHeader(t, sign(t, jwa.RS256, k.rsa, signedStmt, "", nil), `"x5c":[]`), "", 400, "x5c"},
		{"critical header rejected", signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, "", map[string]any{"crit": []string{"exp"}, "exp": 1}), "", 400, "critical"},
		{"XAPI-00115 empty signature rejected", signedStmt, base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(signedStmt)) + ".", "", 400, "empty signature"},
		{"XAPI-00115 not a JWS", signedStmt, "this is not a JWS", "", 400, "not a valid JWS"},
		{"XAPI-00115 JSON serialization rejected", signedStmt, `{"payload":"e30","signatures":[]}`, "", 400, "compact"},
		{"XAPI-00115 contentType other than application/octet-stream", signedStmt, good, "text/plain; charset=ascii", 400, "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			stmt := tt.statement
			if tt.status == 200 { // the LRS assigns an id, so accepted cases do not collide
				stmt = strings.Replace(stmt, `"id":"2c7c2b04-59b3-4a34-a3a2-6d3b2ab3a111",`, "", 1)
			}
			body, mct := signedBody(stmt, tt.sig, ct)
			w := ts.do(t, "POST", "/xapi/statements", body, map[string]string{"Content-Type": mct})
			if tt.status == 200 {
				if w.Code != 200 {
					t.Fatalf("POST signed statement = %d %s, want 200", w.Code, w.Body)
				}
				return
			}
			wantError(t, w, tt.status, tt.msg)
		})
	}
	if got, want := len(ts.store.Statements()), 5; got != want {
		t.Errorf("%d statements stored, want %d (the accepted ones only)", got, want)
	}
}

func TestSignatureByFileURLRejected(t *testing.T) {
	ts := newTestServer(t, 0)
	body := strings.TrimSuffix(signedStmt, "}") + `,"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"signature"},"contentType":"application/octet-stream","length":10,"sha2":"` + sha("x") + `","fileUrl":"http://example.com/sig"}]}`
	wantError(t, ts.do(t, "POST", "/xapi/statements", body, nil), 400, "multipart part")
}

func TestSignedStatementPut(t *testing.T) {
	ts := newTestServer(t, 0)
	k := newSigningKeys(t)
	body, ct := signedBody(signedStmt, sign(t, jwa.RS256, k.rsa, signedStmt, k.x5c, nil), "application/octet-stream")
	if w := ts.do(t, "PUT", "/xapi/statements?statementId=2c7c2b04-59b3-4a34-a3a2-6d3b2ab3a111", body, map[string]string{"Content-Type": ct}); w.Code != 204 {
		t.Fatalf("XAPI-00117 PUT signed statement = %d %s, want 204", w.Code, w.Body)
	}
	tampered, ct := signedBody(strings.Replace(signedStmt, "course/1", "course/2", 1), sign(t, jwa.RS256, k.rsa, signedStmt, "", nil), "application/octet-stream")
	wantError(t, ts.do(t, "PUT", "/xapi/statements?statementId=2c7c2b04-59b3-4a34-a3a2-6d3b2ab3a111", tampered, map[string]string{"Content-Type": ct}), 400, "payload does not match")
}

// withHeader adds a raw member to a compact JWS's protected header, keeping
// the old signature (the LRS must refuse the header before checking it).
func withHeader(t *testing.T, compact, member string) string {
	t.Helper()
	parts := strings.Split(compact, ".")
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	h = append(h[:len(h)-1], []byte(","+member+"}")...)
	parts[0] = base64.RawURLEncoding.EncodeToString(h)
	return strings.Join(parts, ".")
}
