package server_test

import (
	"strings"
	"testing"
)

// FuzzStatementsPost sends arbitrary bodies, content types and query
// strings to the statements resource: no input may cause a 5xx or a panic,
// and a refused request stores nothing.
func FuzzStatementsPost(f *testing.F) {
	body, ct := multipartBody(withAttachment(sha("hello world")), [2]string{sha("hello world"), "hello world"})
	f.Add(stmt, "application/json", "")
	f.Add("["+stmt+","+stmt+"]", "application/json", "")
	f.Add(body, ct, "")
	f.Add(`{"actor":{"mbox":"mailto:a@b"},"verb":{"id":"x:y"},"object":{"objectType":"SubStatement"}}`, "application/json", "")
	f.Add("--b\r\n\r\n--b--", "multipart/mixed; boundary=b", "")
	f.Add(stmt, "application/json", "statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee")
	f.Add("", "", "agent=%7B%22mbox%22%3A1%7D&since=x")
	ts := newTestServer(f, 1<<20)
	f.Fuzz(func(t *testing.T, body, contentType, query string) {
		// A request line cannot hold spaces, controls or a fragment: net/http
		// refuses those before any handler runs.
		query = strings.Map(func(r rune) rune {
			if r <= ' ' || r == '#' || r == 0x7f {
				return -1
			}
			return r
		}, query)
		for _, method := range []string{"POST", "PUT", "GET"} {
			before := len(ts.store.Statements())
			w := ts.do(t, method, "/xapi/statements?"+query, body, map[string]string{"Content-Type": contentType})
			if w.Code >= 500 {
				t.Fatalf("%s with Content-Type %q, query %q and body %q answered %d: %s", method, contentType, query, body, w.Code, w.Body)
			}
			if w.Code >= 400 && len(ts.store.Statements()) != before {
				t.Fatalf("%s answered %d but stored something", method, w.Code)
			}
		}
	})
}
