package server_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

const formType = "application/x-www-form-urlencoded"

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func TestAlternateRequestSyntax(t *testing.T) {
	ts := newTestServer(t, 0)
	const id = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
	hdr := map[string]string{"Content-Type": formType}

	t.Run("XAPI-00336 PUT issued as a POST", func(t *testing.T) {
		w := ts.do(t, "POST", "/xapi/statements?method=PUT", form("statementId", id, "content", stmt), hdr)
		if w.Code != 204 {
			t.Fatalf("POST ?method=PUT = %d %s, want 204", w.Code, w.Body)
		}
		if got := ts.do(t, "GET", "/xapi/statements?statementId="+id, "", nil); got.Code != 200 || !strings.Contains(got.Body.String(), id) {
			t.Errorf("GET of the statement stored = %d %s", got.Code, got.Body)
		}
	})
	t.Run("XAPI-00148 GET issued as a POST", func(t *testing.T) {
		w := ts.do(t, "POST", "/xapi/statements?method=GET", form("limit", "1"), hdr)
		var res struct {
			Statements []json.RawMessage `json:"statements"`
			More       *string           `json:"more"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &res); w.Code != 200 || err != nil || len(res.Statements) != 1 || res.More == nil {
			t.Errorf("POST ?method=GET = %d %s, want a StatementResult with one statement", w.Code, w.Body)
		}
	})
	t.Run("XAPI-00336 headers from the form", func(t *testing.T) {
		h := map[string]string{"Content-Type": formType, "Authorization": "none", "X-Experience-API-Version": ""}
		w := ts.do(t, "POST", "/xapi/statements?method=GET", form("statementId", id, "Authorization", "Basic "+basic(ts.key, ts.secret), "X-Experience-API-Version", "1.0.1"), h)
		if w.Code != 200 || !strings.Contains(w.Body.String(), id) {
			t.Fatalf("GET with Authorization and version in the form = %d %s, want 200", w.Code, w.Body)
		}
		if v := w.Header().Get("X-Experience-API-Version"); v != "1.0.3" {
			t.Errorf("X-Experience-API-Version = %q, want 1.0.3", v)
		}
		// The form's Content-Type is the request's: this one the statements resource refuses.
		w = ts.do(t, "POST", "/xapi/statements?method=POST", form("content", stmt, "Content-Type", "text/plain"), hdr)
		wantError(t, w, 400, "Content-Type must be application/json")
	})
	t.Run("works on any resource", func(t *testing.T) {
		w := ts.do(t, "POST", "/xapi/about?method=GET", "", map[string]string{"Content-Type": ""})
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"version"`) {
			t.Errorf("POST /xapi/about?method=GET = %d %s, want the About resource", w.Code, w.Body)
		}
		wantError(t, ts.do(t, "POST", "/xapi/nonsense?method=GET", "", hdr), 404, "no such resource")
	})

	before := len(ts.store.Statements())
	tests := []struct {
		name, method, target, body string
		hdr                        map[string]string
		msg                        string
	}{
		{"XAPI-00336 version 0.8 in the form", "POST", "/xapi/statements?method=PUT", form("statementId", id, "X-Experience-API-Version", "0.8", "content", stmt), hdr, "not supported"},
		{"XAPI-00336 extra query parameter", "POST", "/xapi/statements?method=PUT&statementId=" + id, form("statementId", id, "content", stmt), hdr, "no query parameter but method"},
		{"XAPI-00336 not issued as a POST", "PUT", "/xapi/statements?method=POST", form("content", stmt), hdr, "must be sent as POST"},
		{"XAPI-00336 PUT with no content", "POST", "/xapi/statements?method=PUT", "", hdr, "needs the body in the form field content"},
		{"XAPI-00336 content not url encoded", "POST", "/xapi/statements?method=PUT", `{"statementId":"` + id + `","content":` + stmt + `}`, hdr, "needs the body in the form field content"},
		{"XAPI-00336 body that is not a form", "POST", "/xapi/statements?method=PUT", stmt, map[string]string{"Content-Type": "application/json"}, "x-www-form-urlencoded"},
		{"content with GET", "POST", "/xapi/statements?method=GET", form("content", stmt), hdr, "not allowed with method GET"},
		{"unknown method", "POST", "/xapi/statements?method=PATCH", form("content", stmt), hdr, "method must be"},
		{"field given twice", "POST", "/xapi/statements?method=PUT", form("statementId", id, "content", stmt, "content", stmt), hdr, "more than once"},
		{"2.0 header rejects the syntax", "POST", "/xapi/statements?method=GET", form("limit", "1"), map[string]string{"Content-Type": formType, "X-Experience-API-Version": "2.0.0"}, "xAPI 2.0"},
		{"2.0 in the form rejects the syntax", "POST", "/xapi/statements?method=PUT", form("statementId", "7690e6c9-3ef0-4ed3-8b37-7f3964730bee", "X-Experience-API-Version", "2.0", "content", stmt), hdr, "xAPI 2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(t, tt.method, tt.target, tt.body, tt.hdr)
			wantError(t, w, 400, tt.msg)
			if w.Header().Get("X-Experience-API-Version") == "" {
				t.Error("X-Experience-API-Version missing from the error response")
			}
		})
	}
	if n := len(ts.store.Statements()); n != before {
		t.Errorf("%d statements stored after rejected requests, want %d", n, before)
	}
}

func TestAlternateSyntaxBodyLimit(t *testing.T) {
	ts := newTestServer(t, 64)
	w := ts.do(t, "POST", "/xapi/statements?method=POST", form("content", stmt), map[string]string{"Content-Type": formType})
	wantError(t, w, 413, "size limit")
}
