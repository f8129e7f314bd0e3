package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// TestSignedStatementEndToEnd stores a signed statement and reads its
// signature back with attachments=true; a tampered one is refused and leaves
// nothing behind (xAPI Data §2.6).
func TestSignedStatementEndToEnd(t *testing.T) {
	l := startLRS(t, "")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const id = "5d2f0e0a-9a6c-4d7e-8f3b-1b2c3d4e5f60"
	statement := `{"id":"` + id + `","actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/passed"},"object":{"id":"http://example.com/exam"}}`
	sig, err := jws.Sign([]byte(statement), jws.WithKey(jwa.RS384, key))
	if err != nil {
		t.Fatal(err)
	}
	post := func(stmt string) (int, []byte) {
		sum := sha256.Sum256(sig)
		hash := hex.EncodeToString(sum[:])
		full := strings.TrimSuffix(stmt, "}") + `,"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"signature"},"contentType":"application/octet-stream","length":` + strconv.Itoa(len(sig)) + `,"sha2":"` + hash + `"}]}`
		const boundary = "sig-boundary"
		body := "--" + boundary + "\r\nContent-Type: application/json\r\n\r\n" + full + "\r\n--" + boundary +
			"\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + hash + "\r\n\r\n" + string(sig) + "\r\n--" + boundary + "--\r\n"
		req, _ := http.NewRequest("POST", l.base+"/xapi/statements", strings.NewReader(body))
		req.SetBasicAuth(l.key, l.secret)
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		req.Header.Set("Content-Type", "multipart/mixed; boundary="+boundary)
		code, _, b := send(t, req)
		return code, b
	}
	tampered := strings.Replace(statement, "verbs/passed", "verbs/failed", 1)
	tampered = strings.Replace(tampered, id, "6d2f0e0a-9a6c-4d7e-8f3b-1b2c3d4e5f60", 1)
	if code, b := post(tampered); code != 400 {
		t.Errorf("tampered signed statement = %d %s, want 400", code, b)
	}
	if code, b := l.admin(t, "GET", "/xapi/statements?statementId=6d2f0e0a-9a6c-4d7e-8f3b-1b2c3d4e5f60", "2.0.0", nil); code != 404 {
		t.Errorf("GET of the refused statement = %d %s, want 404", code, b)
	}
	if code, b := post(statement); code != 200 {
		t.Fatalf("signed statement = %d %s, want 200", code, b)
	}
	req, _ := http.NewRequest("GET", l.base+"/xapi/statements?attachments=true&statementId="+id, nil)
	req.SetBasicAuth(l.key, l.secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	code, h, body := send(t, req)
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if code != 200 || err != nil || mt != "multipart/mixed" {
		t.Fatalf("GET attachments=true = %d %q", code, h.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	if _, err := mr.NextPart(); err != nil {
		t.Fatal(err)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatalf("no signature part: %v", err)
	}
	got, _ := io.ReadAll(p)
	if !bytes.Equal(got, sig) {
		t.Errorf("signature part = %q, want the JWS sent", got)
	}
}
