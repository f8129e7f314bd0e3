package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// multipartBody builds a multipart/mixed statements request: the JSON
// first, then each part as {hash header, data}.
func multipartBody(statements string, parts ...[2]string) (body, contentType string) {
	const boundary = "-------314159265358979323846"
	var b strings.Builder
	b.WriteString("--" + boundary + "\r\nContent-Type: application/json\r\n\r\n" + statements + "\r\n")
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + p[0] + "\r\n\r\n" + p[1] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String(), "multipart/mixed; boundary=" + boundary
}

func withAttachment(hash string) string {
	return `{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course/1"},
		"attachments":[{"usageType":"http://id.tincanapi.com/attachment/certificate-of-completion","display":{"en-US":"certificate"},"contentType":"text/plain","length":11,"sha2":"` + hash + `"}]}`
}

func TestMultipartAttachments(t *testing.T) {
	ts := newTestServer(t, 0)
	const data = "hello world"
	body, ct := multipartBody(withAttachment(sha(data)), [2]string{sha(data), data})
	w := ts.do(t, "POST", "/xapi/statements", body, map[string]string{"Content-Type": ct})
	if w.Code != 200 {
		t.Fatalf("XAPI-00130 multipart POST = %d %s", w.Code, w.Body)
	}
	var ids []string
	_ = json.Unmarshal(w.Body.Bytes(), &ids)

	w = ts.do(t, "GET", "/xapi/statements?attachments=true&statementId="+ids[0], "", nil)
	mt, params, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
	if w.Code != 200 || err != nil || mt != "multipart/mixed" {
		t.Fatalf("XAPI-00167 GET attachments=true = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	// The part header is spelled as the spec spells it: TinCanJS looks it
	// up case-sensitively.
	if raw := w.Body.String(); !strings.Contains(raw, "\r\nX-Experience-API-Hash: "+sha(data)+"\r\n") {
		t.Errorf("GET attachments=true: no part header spelled X-Experience-API-Hash in %q", raw)
	}
	mr := multipart.NewReader(w.Body, params["boundary"])
	first, err := mr.NextPart()
	if err != nil || first.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("first part: %v %v", err, first.Header)
	}
	second, err := mr.NextPart()
	if err != nil {
		t.Fatalf("no attachment part: %v", err)
	}
	got, _ := io.ReadAll(second)
	if string(got) != data || second.Header.Get("X-Experience-API-Hash") != sha(data) {
		t.Errorf("attachment part = %q with hash %q, want the data sent", got, second.Header.Get("X-Experience-API-Hash"))
	}

	t.Run("XAPI-00161_without_attachments_true_the_answer_is_JSON_without_data", func(t *testing.T) {
		for _, q := range []string{"statementId=" + ids[0], "statementId=" + ids[0] + "&attachments=false", "attachments=false"} {
			w := ts.do(t, "GET", "/xapi/statements?"+q, "", nil)
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || strings.Contains(w.Body.String(), data) {
				t.Errorf("GET ?%s = %d %q %s, want application/json without the attachment data", q, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
		}
	})
}

func TestMultipartErrors(t *testing.T) {
	ts := newTestServer(t, 0)
	const data = "hello world"
	good := withAttachment(sha(data))
	tests := []struct {
		name, body, ct, msg string
	}{
		{"XAPI-00129 attachment without its part", "", "", "no multipart part"},
		{"XAPI-00128 XAPI-00132 part whose hash matches no attachment", "", "", "matches no attachment"},
		{"hash header that does not match the data", "", "", "does not match"},
		{"XAPI-00131 missing boundary", "x", "multipart/mixed", "boundary"},
		{"XAPI-00131 boundary not in the body", "--other\r\nContent-Type: application/json\r\n\r\n" + good + "\r\n--other--\r\n", "multipart/mixed; boundary=b", "multipart"},
		{"XAPI-00134 first part not JSON", "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n", "multipart/mixed; boundary=b", "first multipart part"},
		{"XAPI-00134 first part without Content-Type", "--b\r\n\r\n" + good + "\r\n--b--\r\n", "multipart/mixed; boundary=b", "first multipart part"},
		{"XAPI-00132 part without hash header", "--b\r\nContent-Type: application/json\r\n\r\n" + good + "\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nhello world\r\n--b--\r\n", "multipart/mixed; boundary=b", "X-Experience-API-Hash"},
		{"XAPI-00133 statements split over two parts", "--b\r\nContent-Type: application/json\r\n\r\n" + good + "\r\n--b\r\nContent-Type: application/json\r\n\r\n" + good + "\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + sha(data) + "\r\n\r\n" + data + "\r\n--b--\r\n", "multipart/mixed; boundary=b", ""},
		{"XAPI-00135 part without Content-Transfer-Encoding", "--b\r\nContent-Type: application/json\r\n\r\n" + good + "\r\n--b\r\nContent-Type: text/plain\r\nX-Experience-API-Hash: " + sha(data) + "\r\n\r\n" + data + "\r\n--b--\r\n", "multipart/mixed; boundary=b", "Content-Transfer-Encoding"},
		{"XAPI-00135 part with Content-Transfer-Encoding base64", "--b\r\nContent-Type: application/json\r\n\r\n" + good + "\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\nX-Experience-API-Hash: " + sha(data) + "\r\n\r\naGVsbG8gd29ybGQ=\r\n--b--\r\n", "multipart/mixed; boundary=b", "Content-Transfer-Encoding"},
		{"XAPI-00127 multipart/form-data", "", "", "Content-Type"},
		{"XAPI-00127 text/plain", good, "text/plain", "Content-Type"},
		{"garbage after the boundary", "--b\r\nContent-Type: application/json\r\n\r\n" + good, "multipart/mixed; boundary=b", ""},
	}
	tests[0].body, tests[0].ct = multipartBody(good)
	tests[1].body, tests[1].ct = multipartBody(good, [2]string{sha(data), data}, [2]string{sha("other"), "other"})
	tests[2].body, tests[2].ct = multipartBody(good, [2]string{sha(data), "tampered!!!"})
	for i := range tests {
		if strings.HasSuffix(tests[i].name, "multipart/form-data") {
			tests[i].body, tests[i].ct = multipartBody(good, [2]string{sha(data), data})
			tests[i].ct = strings.Replace(tests[i].ct, "multipart/mixed", "multipart/form-data", 1)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(t, "POST", "/xapi/statements", tt.body, map[string]string{"Content-Type": tt.ct}), 400, tt.msg)
			wantError(t, ts.do(t, "PUT", "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", tt.body, map[string]string{"Content-Type": tt.ct}), 400, tt.msg)
		})
	}
	if n := len(ts.store.Statements()); n != 0 {
		t.Errorf("%d statements stored after rejected requests, want 0", n)
	}
}
