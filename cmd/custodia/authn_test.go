package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCmd runs a custodia command and returns its standard output.
func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("custodia %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// idpFiles makes a signing key and an issuers file for it in dir, as the
// README walks through, and returns the issuers file.
func idpFiles(t *testing.T, dir string) string {
	t.Helper()
	runCmd(t, "keys", "jwk-gen", "--alg", "ES256", "--kid", "idp-2026", "--private", filepath.Join(dir, "idp-private.jwk"), "--public", filepath.Join(dir, "idp-jwks.json"))
	issuers := `{"issuers": [{"iss": "https://idp.example.com/", "name": "Example SSO", "audience": "custodia",
		"jwks_file": "idp-jwks.json", "algs": ["ES256"], "clock_skew": "60s", "agent": "email",
		"roles_claim": "roles", "role_map": {"learner": "learner"}, "purpose_claim": "purpose"}]}`
	path := filepath.Join(dir, "issuers.json")
	if err := os.WriteFile(path, []byte(issuers), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (l *lrs) bearer(t *testing.T, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestBearerEndToEnd follows the README: a key set made with `custodia keys
// jwk-gen`, an issuers file, `serve --issuers`, a token from `custodia keys
// jwt-sign`, and a learner who reads and writes their own records with it.
func TestBearerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	issuers := idpFiles(t, dir)
	if fi, err := os.Stat(filepath.Join(dir, "idp-private.jwk")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "idp-jwks.json"))
	if strings.Contains(string(pub), `"d"`) || !strings.Contains(string(pub), `"idp-2026"`) {
		t.Fatalf("public key set %s holds private material or lacks the kid", pub)
	}
	l := startLRS(t, "", "--issuers", issuers)
	token := strings.TrimSpace(runCmd(t, "keys", "jwt-sign", "--key", filepath.Join(dir, "idp-private.jwk"),
		"--iss", "https://idp.example.com/", "--aud", "custodia", "--sub", "employee-4711",
		"--email", "alice@example.com", "--roles", "learner", "--ttl", "10m"))
	if code, b := l.bearer(t, "GET", "/api/v1/me/statements", token, nil); code != 200 {
		t.Fatalf("GET /api/v1/me/statements with the token = %d %s", code, b)
	}
	own := []byte(`{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"}}`)
	if code, b := l.bearer(t, "POST", "/xapi/statements", token, own); code != 200 {
		t.Fatalf("POST own statement with the token = %d %s", code, b)
	}
	if code, b := l.bearer(t, "GET", "/xapi/statements", token, nil); code != 200 || !bytes.Contains(b, []byte("alice@example.com")) {
		t.Fatalf("GET /xapi/statements with the token = %d %s", code, b)
	}
	bobs := bytes.Replace(own, []byte("alice"), []byte("bob"), 1)
	if code, _ := l.bearer(t, "POST", "/xapi/statements", token, bobs); code != 403 {
		t.Errorf("POST bob's statement with alice's token = %d, want 403", code)
	}
	if code, _ := l.bearer(t, "GET", "/api/v1/me/statements", token[:len(token)-4]+"AAAA", nil); code != 401 {
		t.Errorf("tampered token = %d, want 401", code)
	}
	// A token of another key with the same kid is refused.
	other := t.TempDir()
	runCmd(t, "keys", "jwk-gen", "--alg", "ES256", "--kid", "idp-2026", "--private", filepath.Join(other, "k.jwk"), "--public", filepath.Join(other, "s.json"))
	forged := strings.TrimSpace(runCmd(t, "keys", "jwt-sign", "--key", filepath.Join(other, "k.jwk"), "--iss", "https://idp.example.com/", "--aud", "custodia", "--sub", "x", "--roles", "admin"))
	if code, _ := l.bearer(t, "GET", "/api/v1/credentials", forged, nil); code != 401 {
		t.Errorf("forged admin token = %d, want 401", code)
	}

	// A bad issuers file stops serve before it opens anything.
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"issuers":[{"iss":"https://idp.example.com/","audience":"a","jwks_file":"idp-jwks.json","algs":["none"]}]}`), 0o600)
	data := t.TempDir()
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--issuers", bad}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not accepted") {
		t.Errorf("serve with alg none in the issuers file = %v, want refused", err)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("serve with a bad issuers file created %d entries in the data directory", len(entries))
	}
}

// TestBadKeySetLeavesDataUntouched checks that an issuer's unusable
// jwks_file stops serve before the data directory or the root key is
// created, with an error naming the issuers file.
func TestBadKeySetLeavesDataUntouched(t *testing.T) {
	dir := t.TempDir()
	sets := []struct{ name, content, msg string }{
		{"missing", "", "cannot be read"},
		{"not JSON", "not json at all", "is not a JWK Set"},
		{"symmetric key", `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}]}`, "symmetric"},
		{"key without kid", `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`, "no kid"},
		{"empty set", `{"keys":[]}`, "no key"},
	}
	for i, tt := range sets {
		t.Run(tt.name, func(t *testing.T) {
			jwksName := fmt.Sprintf("jwks-%d.json", i)
			if tt.content != "" {
				if err := os.WriteFile(filepath.Join(dir, jwksName), []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			issuers := filepath.Join(dir, fmt.Sprintf("issuers-%d.json", i))
			body := `{"issuers":[{"iss":"https://idp.example.com/","audience":"custodia","jwks_file":"` + jwksName + `","algs":["ES256"],"role_map":{}}]}`
			if err := os.WriteFile(issuers, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(t.TempDir(), "data")
			rootKey := filepath.Join(t.TempDir(), "root.agekey")
			// Bounded: a serve that wrongly starts stops here instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--root-key-file", rootKey, "--issuers", issuers},
				func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), issuers) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("serve with a %s jwks_file = %v, want an error naming %s and %q", tt.name, err, issuers, tt.msg)
			}
			for _, p := range []string{data, rootKey} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("serve with a %s jwks_file created %s", tt.name, p)
				}
			}
		})
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "custodia test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// TestTLS serves HTTPS from --tls-cert/--tls-key: a client that trusts the
// certificate gets answers with Strict-Transport-Security, and plain HTTP
// is not served.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	l := startLRS(t, "", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(l.base, "https://") {
		t.Fatalf("base = %s, want https", l.base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest("GET", l.base+"/xapi/statements", nil)
	req.SetBasicAuth(l.key, l.secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET over TLS = %d, TLS %v, HSTS %q", resp.StatusCode, resp.TLS != nil, resp.Header.Get("Strict-Transport-Security"))
	}
	plain := "http://" + strings.TrimPrefix(l.base, "https://")
	if resp, err := http.Get(plain + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP was served on the TLS port")
		}
	}
	// Old protocol versions are refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(l.base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
	for _, args := range [][]string{{"--tls-cert", certFile}, {"--tls-cert", certFile, "--tls-key", filepath.Join(dir, "missing.pem")}} {
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...), func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "tls") {
			t.Errorf("serve %v = %v, want refused", args, err)
		}
	}
}

// TestRateLimitFlag checks --rate-limit end to end: 429 with Retry-After
// once a credential's burst is spent.
func TestRateLimitFlag(t *testing.T) {
	l := startLRS(t, "", "--rate-limit", "0.01", "--rate-burst", "3")
	codes := []int{}
	var last http.Header
	for range 4 {
		code, _, h := l.call(t, "GET", "/xapi/statements", l.key, l.secret, "2.0.0", nil)
		codes = append(codes, code)
		last = h
	}
	if codes[0] != 200 || codes[2] != 200 || codes[3] != 429 || last.Get("Retry-After") != "100" {
		t.Errorf("statuses %v, Retry-After %q; want 200 ×3 then 429 with Retry-After 100", codes, last.Get("Retry-After"))
	}
	if resp, err := http.Get(l.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz under the limit = %v", err)
	} else {
		resp.Body.Close()
	}
}

// TestLogsHoldNoSecrets runs a session at debug level — credentials made
// and used, wrong secrets, good and bad tokens, statements and documents
// with personal data, queries by agent, consent — and scans everything the
// server logged for the secrets and personal data it handled.
func TestLogsHoldNoSecrets(t *testing.T) {
	dir := t.TempDir()
	issuers := idpFiles(t, dir)
	l := startLRS(t, "", "--issuers", issuers, "--log-level", "debug")
	const (
		mbox     = "mailto:marker.person@example.com"
		response = "MARKER-FREE-TEXT-ANSWER"
		docBody  = "MARKER-DOCUMENT-BODY"
		wrong    = "MARKER-WRONG-SECRET"
		sub      = "MARKER-SUBJECT-4711"
	)
	key, secret := l.credential(t, `{"name":"marker learner","roles":["learner"],"agent":{"mbox":"`+mbox+`"}}`)
	lms, lmsSecret := l.credential(t, `{"name":"lms","roles":["client"],"scopes":["all"]}`)
	stmt := []byte(`{"actor":{"mbox":"` + mbox + `","name":"Marker Person"},"verb":{"id":"http://adlnet.gov/expapi/verbs/answered"},"object":{"id":"http://example.com/q1"},"result":{"response":"` + response + `"},"context":{"extensions":{"http://example.com/ext":"` + response + `"}}}`)
	if code, b, _ := l.call(t, "POST", "/xapi/statements", key, secret, "2.0.0", stmt); code != 200 {
		t.Fatalf("POST = %d %s", code, b)
	}
	agent := url.QueryEscape(`{"mbox":"` + mbox + `"}`)
	l.call(t, "GET", "/xapi/statements?agent="+agent, key, secret, "2.0.0", nil)
	l.call(t, "GET", "/xapi/statements?agent="+agent, lms, lmsSecret, "1.0.3", nil)
	l.call(t, "PUT", "/xapi/activities/state?activityId=http%3A%2F%2Fexample.com%2Fq1&stateId=s&agent="+agent, lms, lmsSecret, "2.0.0", []byte(`{"note":"`+docBody+`"}`))
	l.call(t, "GET", "/xapi/activities/state?activityId=http%3A%2F%2Fexample.com%2Fq1&stateId=s&agent="+agent, key, secret, "2.0.0", nil)
	l.call(t, "GET", "/xapi/agents?agent="+agent, key, secret, "2.0.0", nil)
	l.call(t, "PUT", "/api/v1/me/consents/skills-development", key, secret, "2.0.0", []byte(`{"granted":true}`))
	l.call(t, "GET", "/xapi/statements", key, wrong, "2.0.0", nil)
	l.call(t, "GET", "/xapi/statements", "no-such-key", wrong, "2.0.0", nil)
	token := strings.TrimSpace(runCmd(t, "keys", "jwt-sign", "--key", filepath.Join(dir, "idp-private.jwk"),
		"--iss", "https://idp.example.com/", "--aud", "custodia", "--sub", sub, "--email", "marker.person@example.com", "--roles", "learner"))
	l.bearer(t, "GET", "/api/v1/me/statements", token, nil)
	wrongAud := strings.TrimSpace(runCmd(t, "keys", "jwt-sign", "--key", filepath.Join(dir, "idp-private.jwk"),
		"--iss", "https://idp.example.com/", "--aud", "elsewhere", "--sub", sub, "--email", "marker.person@example.com", "--roles", "learner"))
	l.bearer(t, "GET", "/api/v1/me/statements", wrongAud, nil)
	l.bearer(t, "GET", "/api/v1/me/statements", token[:len(token)-6]+"AAAAAA", nil)
	var rotated struct{ Secret string }
	_, b, _ := l.call(t, "POST", "/api/v1/credentials/"+lms+"/rotate", l.key, l.secret, "2.0.0", nil)
	_ = json.Unmarshal(b, &rotated)
	l.stop()

	logs := l.stderr.String()
	if !strings.Contains(logs, "msg=request") || strings.Count(logs, "\n") < 15 {
		t.Fatalf("the log has %d lines and no request lines; the scan would prove nothing:\n%s", strings.Count(logs, "\n"), logs)
	}
	forbidden := map[string]string{
		"admin secret": l.secret, "learner secret": secret, "client secret": lmsSecret, "rotated secret": rotated.Secret,
		"wrong secret": wrong, "token": token, "token signature": token[strings.LastIndexByte(token, '.')+1:],
		"wrong-audience token": wrongAud, "mbox": "marker.person", "name": "Marker Person", "free-text answer": response,
		"document body": docBody, "token subject": sub,
	}
	for what, s := range forbidden {
		if s == "" {
			t.Fatalf("%s is empty: the session did not run", what)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the %s", what)
		}
	}
}

// TestBreakGlassInAccessLog opens break-glass access as hr, reads a
// learner's statement beyond policy, and finds the access flagged with the
// justification in that learner's access log, and the session listed for
// the auditor.
func TestBreakGlassInAccessLog(t *testing.T) {
	l := startLRS(t, "")
	bobKey, bobSecret := l.credential(t, `{"name":"bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)
	hrKey, hrSecret := l.credential(t, `{"name":"hr","roles":["hr"],"purpose":"marketing"}`)
	auKey, auSecret := l.credential(t, `{"name":"audit","roles":["auditor"]}`)
	code, b, _ := l.call(t, "POST", "/xapi/statements", bobKey, bobSecret, "2.0.0", []byte(`{"actor":{"mbox":"mailto:bob@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"}}`))
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil || code != 200 {
		t.Fatalf("bob POST = %d %s", code, b)
	}
	if code, _, _ := l.call(t, "GET", "/xapi/statements?statementId="+ids[0], hrKey, hrSecret, "2.0.0", nil); code != 403 {
		t.Fatalf("hr GET for an undefined purpose = %d, want 403", code)
	}
	const why = "Legal request LR-7: produce the training record of one employee"
	if code, b, _ := l.call(t, "POST", "/api/v1/break-glass", hrKey, hrSecret, "2.0.0", []byte(`{"justification":"`+why+`","minutes":10}`)); code != 201 {
		t.Fatalf("open break-glass = %d %s", code, b)
	}
	if code, b, _ := l.call(t, "GET", "/xapi/statements?statementId="+ids[0], hrKey, hrSecret, "2.0.0", nil); code != 200 || !bytes.Contains(b, []byte(ids[0])) {
		t.Fatalf("hr GET under break-glass = %d %s", code, b)
	}
	_, b, _ = l.call(t, "GET", "/api/v1/me/access-log", bobKey, bobSecret, "2.0.0", nil)
	var log struct {
		Entries []struct {
			Action, Decision, Justification string
			BreakGlass                      bool `json:"break_glass"`
		}
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	flagged := 0
	for _, e := range log.Entries {
		if e.BreakGlass {
			flagged++
			if e.Justification != why || e.Decision != "allow" || e.Action != "statements.read" {
				t.Errorf("flagged entry %+v, want an allowed statements.read with the justification", e)
			}
		}
	}
	if flagged != 1 {
		t.Errorf("bob's access log has %d break-glass entries, want 1: %s", flagged, b)
	}
	if code, b, _ := l.call(t, "GET", "/api/v1/break-glass", auKey, auSecret, "2.0.0", nil); code != 200 || !bytes.Contains(b, []byte(why)) {
		t.Errorf("auditor GET /api/v1/break-glass = %d %s", code, b)
	}
}
