package server_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMalformedQueryNeverWidensARequest: a query pair that cannot be parsed
// is refused, not dropped — dropping stateId would turn a DELETE of one
// document into a DELETE of every document.
func TestMalformedQueryNeverWidensARequest(t *testing.T) {
	ts := newTestServer(t, 0)
	wantStatus(t, ts.do(t, "PUT", stateURL("stateId", "keep"), `{"a":1}`, nil), 204, "PUT state")
	for _, target := range []string{
		stateURL() + "&stateId=%zz",
		stateURL() + "&stateId=a;b",
		stateURL("stateId", "\xff\xfe"),
		"/xapi/activities?activityId=%zz",
		"/xapi/agents?agent=%zz",
	} {
		method := "DELETE"
		if strings.Contains(target, "/activities?") || strings.Contains(target, "/agents?") {
			method = "GET"
		}
		wantError(t, ts.do(t, method, target, "", nil), 400, "")
	}
	// If-Match guards one document; it cannot guard a delete of several.
	wantError(t, ts.do(t, "DELETE", stateURL(), "", map[string]string{"If-Match": `"abc"`}), 400, "one document")
	if w := ts.do(t, "GET", stateURL("stateId", "keep"), "", nil); w.Code != 200 {
		t.Errorf("the document was deleted by a refused request: GET = %d", w.Code)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		p[0] = '{'
		return 1, nil
	}
	return 0, errors.New("connection reset")
}

func TestTruncatedDocumentBody(t *testing.T) {
	ts := newTestServer(t, 0)
	r := httptest.NewRequest("PUT", stateURL("stateId", "t"), &failingReader{n: 1})
	r.Header.Set("X-Experience-API-Version", "2.0.0")
	r.Header.Set("Content-Type", "application/json")
	r.SetBasicAuth(ts.key, ts.secret)
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, r)
	wantError(t, w, 400, "reading the request body failed")
}

func TestAlternateSyntaxHeaderCaseAndHead(t *testing.T) {
	ts := newTestServer(t, 0)
	hdr := map[string]string{"Content-Type": formType, "X-Experience-API-Version": "1.0.3"}
	w := ts.do(t, "POST", "/xapi/statements?method=GET", form("Authorization", "Basic "+basic(ts.key, ts.secret), "authorization", "Basic eDp5"), hdr)
	wantError(t, w, 400, "more than once")
	wantStatus(t, ts.do(t, "PUT", stateURL("stateId", "h"), `{"page":14}`, nil), 204, "PUT state")
	q := strings.TrimPrefix(stateURL("stateId", "h"), "/xapi/activities/state?")
	w = ts.do(t, "POST", "/xapi/activities/state?method=HEAD", q, hdr)
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("ETag") == "" {
		t.Errorf("alternate-syntax HEAD = %d with %d body bytes, ETag %q; want 200, no body, the GET's headers", w.Code, w.Body.Len(), w.Header().Get("ETag"))
	}
}

func TestStoredDocumentsAreNotSniffed(t *testing.T) {
	ts := newTestServer(t, 0)
	wantStatus(t, ts.do(t, "PUT", stateURL("stateId", "page"), "<script>alert(1)</script>", map[string]string{"Content-Type": "text/html"}), 204, "PUT html")
	w := ts.do(t, "GET", stateURL("stateId", "page"), "", nil)
	if w.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("GET of a stored text/html document: nosniff %q, CSP %q; want nosniff and a sandboxing CSP",
			w.Header().Get("X-Content-Type-Options"), w.Header().Get("Content-Security-Policy"))
	}
}
