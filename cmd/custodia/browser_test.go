package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// send sends req and returns the status, headers and body.
func send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestCORSByDefault checks that `custodia serve` answers browser clients of
// any origin by default: a preflight without credentials, and the xAPI
// headers exposed on the actual answer.
func TestCORSByDefault(t *testing.T) {
	l := startLRS(t, "")
	req, _ := http.NewRequest("OPTIONS", l.base+"/xapi/statements", nil)
	req.Header.Set("Origin", "https://course.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-experience-api-version")
	code, h, body := send(t, req)
	if code != 204 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Experience-API-Version") {
		t.Fatalf("preflight = %d %v %s, want 204 allowing any origin and the xAPI headers", code, h, body)
	}
	req, _ = http.NewRequest("GET", l.base+"/xapi/statements", nil)
	req.SetBasicAuth(l.key, l.secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Origin", "https://course.example.com")
	code, h, _ = send(t, req)
	if code != 200 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Experience-API-Consistent-Through") {
		t.Errorf("GET = %d, Allow-Origin %q, Expose-Headers %q", code, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Expose-Headers"))
	}
}

func TestCORSOriginsFlag(t *testing.T) {
	for _, bad := range []string{"ftp://x.example", "https://x.example/path", "course.example.com", "https://x.example/"} {
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--cors-origins", bad}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--cors-origins") {
			t.Errorf("serve --cors-origins %q = %v, want a usage error", bad, err)
		}
	}
}

// TestAlternateSyntaxEndToEnd stores a statement with the 1.0.3 alternate
// request syntax, credentials in the form only, and reads it back (XAPI-00336).
func TestAlternateSyntaxEndToEnd(t *testing.T) {
	l := startLRS(t, "")
	const id = "0b1e7c9e-5a43-4d7e-9c21-3f1c2f9d6a10"
	auth := "Basic " + base64Basic(l.key, l.secret)
	f := url.Values{"statementId": {id}, "Authorization": {auth}, "X-Experience-API-Version": {"1.0.3"},
		"content": {`{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attempted"},"object":{"id":"http://example.com/a"}}`}}
	req, _ := http.NewRequest("POST", l.base+"/xapi/statements?method=PUT", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _, body := send(t, req); code != 204 {
		t.Fatalf("POST ?method=PUT = %d %s, want 204", code, body)
	}
	if code, body := l.admin(t, "GET", "/xapi/statements?statementId="+id, "1.0.3", nil); code != 200 || !bytes.Contains(body, []byte(id)) {
		t.Errorf("GET = %d %s, want the statement", code, body)
	}
	f.Set("X-Experience-API-Version", "2.0.0")
	req, _ = http.NewRequest("POST", l.base+"/xapi/statements?method=PUT", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _, body := send(t, req); code != 400 {
		t.Errorf("2.0 alternate syntax = %d %s, want 400", code, body)
	}
}

func base64Basic(key, secret string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(key, secret)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
