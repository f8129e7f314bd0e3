package server_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"custodia/server"
	"custodia/xapi"
)

// FuzzAuthorization sends arbitrary Authorization headers. None may cause
// a 5xx; only the admin's Basic credential or a token of the configured
// issuer may pass; a refused Bearer token never reaches the gate.
func FuzzAuthorization(f *testing.F) {
	p := newIDP(f, "k1")
	ts := newTokenServer(f, issuersFile(f, jwks(f, p), nil), nil)
	valid := p.sign(f, claims(nil), nil)
	admin := "Basic " + basic("admin", "admin-secret")
	for _, seed := range []string{
		admin, "Bearer " + valid, "bearer " + valid, "BASIC " + basic("admin", "admin-secret"),
		"Basic " + basic("admin", "wrong"), "Basic Og==", "Basic", "Basic !!!", "Basic " + basic("", "x"),
		"Bearer", "Bearer ", "Bearer a.b.c", "Bearer " + valid + "x", "Bearer  " + valid, "Digest username=\"admin\"",
		"Bearer " + strings.Repeat("A", server.MaxTokenBytes+1),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		before := len(ts.audit.Entries())
		r := httptest.NewRequest("GET", "/api/v1/me/statements", nil)
		r.Header.Set("Authorization", h)
		w := httptest.NewRecorder()
		ts.h.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("Authorization %q answered %d: %s", h, w.Code, w.Body)
		case w.Code < 300 || w.Code == 403:
			// Authenticated: the header must carry a real credential.
			scheme, rest, _ := strings.Cut(h, " ")
			switch strings.ToLower(scheme) {
			case "basic":
				if b, err := base64.StdEncoding.DecodeString(rest); err != nil || string(b) != "admin:admin-secret" {
					t.Fatalf("Authorization %q was accepted (%d)", h, w.Code)
				}
			case "bearer":
				if strings.TrimSpace(rest) != valid {
					t.Fatalf("Authorization %q was accepted (%d)", h, w.Code)
				}
			default:
				t.Fatalf("Authorization %q was accepted (%d)", h, w.Code)
			}
		case w.Code == 401:
			if strings.HasPrefix(strings.ToLower(h), "bearer") && len(ts.audit.Entries()) != before {
				t.Fatalf("refused Bearer %q reached the gate", h)
			}
		}
	})
}

// FuzzBearerToken hands arbitrary tokens to the verifier. It must never
// panic, and it may accept only a token that verifies under the issuer's
// key with an allowed algorithm.
func FuzzBearerToken(f *testing.F) {
	p := newIDP(f, "k1")
	v, err := server.NewTokenVerifier(context.Background(), issuersFile(f, jwks(f, p), nil), server.TokenOptions{Now: func() time.Time { return tokenNow }})
	if err != nil {
		f.Fatal(err)
	}
	valid := p.sign(f, claims(nil), nil)
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid, parts[0] + "." + parts[1] + ".", parts[0] + ".." + parts[2], "..", "a.b.c", "",
		b64JSON(f, map[string]any{"alg": "none", "kid": "k1"}) + "." + parts[1] + ".",
		b64JSON(f, map[string]any{"alg": "HS256", "kid": "k1"}) + "." + parts[1] + "." + parts[2],
		b64JSON(f, map[string]any{"alg": "RS256", "kid": "k1", "jku": "http://127.0.0.1:1/"}) + "." + parts[1] + "." + parts[2],
		p.sign(f, claims(map[string]any{"aud": []string{"x", testAud}}), nil),
		p.sign(f, claims(map[string]any{"roles": 7, "scope": []any{1, "all"}, "email": false}), nil),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		pr, err := v.Verify(context.Background(), tok)
		if err != nil {
			if xapi.ErrorKind(err) != xapi.Unauthorized {
				t.Fatalf("Verify(%q) = %v, want Unauthorized", tok, err)
			}
			return
		}
		msg, err := jws.Parse([]byte(tok), jws.WithCompact())
		if err != nil || len(msg.Signatures()) != 1 || msg.Signatures()[0].ProtectedHeaders().Algorithm() != jwa.RS256 {
			t.Fatalf("Verify accepted %q, which is no RS256 compact JWS", tok)
		}
		if _, err := jws.Verify([]byte(tok), jws.WithKey(jwa.RS256, p.key.Public())); err != nil {
			t.Fatalf("Verify accepted %q (principal %+v), which the issuer's key does not verify", tok, pr)
		}
	})
}

// FuzzSignedStatement posts the signed statement with an arbitrary
// signature (JWS, xAPI Data §2.6). No input may cause a 5xx, and a stored
// statement's signature must carry that statement as its payload.
func FuzzSignedStatement(f *testing.F) {
	k := newSigningKeys(f)
	good := sign(f, jwa.RS256, k.rsa, signedStmt, "", nil)
	withX5c := sign(f, jwa.RS256, k.rsa, signedStmt, k.x5c, nil)
	parts := strings.Split(withX5c, ".")
	for _, seed := range []string{
		good, withX5c, parts[0] + "." + parts[1] + ".", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{}`)) + "." + parts[2],
		"", "a.b.c", `{"payload":"x"}`, sign(f, jwa.RS256, k.other, signedStmt, k.x5c, nil),
		sign(f, jwa.RS256, k.rsa, signedStmt, "", map[string]any{"jku": "http://127.0.0.1:1/"}),
	} {
		f.Add(seed)
	}
	want, err := xapi.ParseStatement([]byte(signedStmt), xapi.V103)
	if err != nil {
		f.Fatal(err)
	}
	ts := newTestServer(f, 1<<20)
	f.Fuzz(func(t *testing.T, sig string) {
		body, ct := signedBody(signedStmt, sig, "application/octet-stream")
		w := ts.do(t, "POST", "/xapi/statements", body, map[string]string{"Content-Type": ct})
		if w.Code >= 500 {
			t.Fatalf("signature %q answered %d: %s", sig, w.Code, w.Body)
		}
		if w.Code != 200 {
			return
		}
		ps := strings.Split(strings.TrimSpace(sig), ".")
		if len(ps) != 3 {
			t.Fatalf("signature %q accepted, not a compact JWS", sig)
		}
		payload, err := base64.RawURLEncoding.DecodeString(ps[1])
		if err != nil {
			t.Fatalf("signature %q accepted with an undecodable payload", sig)
		}
		got, err := xapi.ParseStatement(payload, xapi.V103)
		if err != nil || !got.Equal(want) {
			t.Fatalf("signature %q accepted, but its payload is not the statement: %v", sig, err)
		}
	})
}

// FuzzMultipart posts arbitrary multipart/mixed bodies under a fixed
// boundary: no 5xx, and a refused request stores nothing.
func FuzzMultipart(f *testing.F) {
	const data = "hello world"
	body, ct := multipartBody(withAttachment(sha(data)), [2]string{sha(data), data})
	boundary := strings.TrimPrefix(ct, "multipart/mixed; boundary=")
	f.Add(body)
	f.Add(strings.Replace(body, "X-Experience-API-Hash", "x-experience-api-hash", 1))
	f.Add(strings.Replace(body, "binary", "base64", 1))
	f.Add("--" + boundary + "\r\nContent-Type: application/json\r\n\r\n" + stmt + "\r\n--" + boundary + "--\r\n")
	f.Add("--" + boundary + "\r\n\r\n--" + boundary + "--")
	f.Add("--" + boundary + "\r\nContent-Type: application/json\r\n\r\n[" + withAttachment(sha(data)) + "," + withAttachment(sha(data)) + "]\r\n--" + boundary + "\r\nX-Experience-API-Hash: " + sha(data) + "\r\n\r\n" + data + "\r\n--" + boundary + "--\r\n")
	ts := newTestServer(f, 1<<20)
	f.Fuzz(func(t *testing.T, body string) {
		before := len(ts.store.Statements())
		w := ts.do(t, "POST", "/xapi/statements", body, map[string]string{"Content-Type": ct})
		if w.Code >= 500 {
			t.Fatalf("multipart body %q answered %d: %s", body, w.Code, w.Body)
		}
		if w.Code >= 400 && len(ts.store.Statements()) != before {
			t.Fatalf("answered %d but stored something", w.Code)
		}
	})
}
