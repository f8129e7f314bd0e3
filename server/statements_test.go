package server_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"custodia/xapi"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// withID returns stmt with the given id.
func withID(id string) string { return `{"id":"` + id + `",` + stmt[1:] }

// TestStatementsPut covers PUT /statements (xAPI Communication §2.1.1).
func TestStatementsPut(t *testing.T) {
	ts := newTestServer(t, 0)
	const id = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
	t.Run("XAPI-00143_returns_204", func(t *testing.T) {
		w := ts.do(t, "PUT", "/xapi/statements?statementId="+id, stmt, nil)
		if w.Code != 204 || w.Body.Len() != 0 {
			t.Fatalf("PUT = %d %q, want 204 and no body", w.Code, w.Body)
		}
		if g := ts.do(t, "GET", "/xapi/statements?statementId="+id, "", nil); g.Code != 200 || !strings.Contains(g.Body.String(), id) {
			t.Errorf("GET after PUT = %d %s, want the statement under %s", g.Code, g.Body, id)
		}
	})
	t.Run("XAPI-00143_body_id_equal_to_statementId", func(t *testing.T) {
		const id2 = "7690e6c9-3ef0-4ed3-8b37-7f3964730bee"
		wantStatus(t, ts.do(t, "PUT", "/xapi/statements?statementId="+id2, withID(id2), nil), 204, "PUT with the same id in the body")
	})
	t.Run("XAPI-00145_rejected_without_statementId", func(t *testing.T) {
		before := len(ts.store.Statements())
		wantError(t, ts.do(t, "PUT", "/xapi/statements", withID("8690e6c9-3ef0-4ed3-8b37-7f3964730bee"), nil), 400, "statementId")
		if n := len(ts.store.Statements()); n != before {
			t.Errorf("%d statements stored after a refused PUT, want %d", n, before)
		}
	})
}

// TestStatementsPost covers POST /statements (xAPI Communication §2.1.2).
func TestStatementsPost(t *testing.T) {
	ts := newTestServer(t, 0)
	post := func(t *testing.T, body string) []string {
		t.Helper()
		w := ts.do(t, "POST", "/xapi/statements", body, nil)
		var ids []string
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &ids) != nil {
			t.Fatalf("POST = %d %s, want 200 and a JSON array of ids", w.Code, w.Body)
		}
		return ids
	}
	t.Run("XAPI-00147_accepts_one_statement", func(t *testing.T) {
		if ids := post(t, stmt); len(ids) != 1 || !uuidRE.MatchString(ids[0]) {
			t.Errorf("POST one = %v, want one generated UUID (XAPI-00026)", ids)
		}
	})
	t.Run("XAPI-00146_returns_every_id_in_order", func(t *testing.T) {
		const a, b = "aaaaaaaa-3ef0-4ed3-8b37-7f3964730bee", "bbbbbbbb-3ef0-4ed3-8b37-7f3964730bee"
		ids := post(t, "["+withID(b)+","+stmt+","+withID(a)+"]")
		if len(ids) != 3 || ids[0] != b || ids[2] != a || !uuidRE.MatchString(ids[1]) || ids[1] == a || ids[1] == b {
			t.Fatalf("POST [b, no id, a] = %v, want [%s <generated> %s]", ids, b, a)
		}
		for _, id := range ids {
			if w := ts.do(t, "GET", "/xapi/statements?statementId="+id, "", nil); w.Code != 200 {
				t.Errorf("GET %s = %d, want the stored statement", id, w.Code)
			}
		}
	})
	t.Run("XAPI-00147_accepts_an_empty_batch", func(t *testing.T) {
		if ids := post(t, "[]"); len(ids) != 0 {
			t.Errorf("POST [] = %v, want []", ids)
		}
	})
}

// statementResult decodes a StatementResult and reports its top-level keys.
func statementResult(t *testing.T, body []byte) (stmts []map[string]any, more string, keys []string) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("body %s is not a JSON object: %v", body, err)
	}
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := json.Unmarshal(top["statements"], &stmts); err != nil || stmts == nil {
		t.Fatalf("statements = %s, want an array", top["statements"])
	}
	if err := json.Unmarshal(top["more"], &more); err != nil {
		t.Fatalf("more = %s, want a string", top["more"])
	}
	return stmts, more, keys
}

// TestStatementsGet covers the StatementResult of GET /statements (xAPI
// Data §2.5, Communication §2.1.3). Paging through `more` needs the real
// store: see cmd/custodia TestStatementPaging.
func TestStatementsGet(t *testing.T) {
	ts := newTestServer(t, 0)
	t.Run("XAPI-00149_empty_result_is_200_with_an_empty_array", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements", "", nil)
		if w.Code != 200 {
			t.Fatalf("GET on an empty store = %d %s, want 200", w.Code, w.Body)
		}
		stmts, more, _ := statementResult(t, w.Body.Bytes())
		if len(stmts) != 0 || more != "" {
			t.Errorf("GET on an empty store = %s, want no statements and more \"\"", w.Body)
		}
	})
	sent := `{"actor":{"objectType":"Agent","name":"Alice","mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"completed"}},` +
		`"object":{"objectType":"Activity","id":"http://example.com/course/1","definition":{"name":{"en-US":"Course"}}},"result":{"score":{"raw":1.50}}}`
	wantStatus(t, ts.do(t, "POST", "/xapi/statements", sent, nil), 200, "POST")
	t.Run("XAPI-00154_XAPI-00113_statement_result_with_statements_and_more_only", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements", "", nil)
		stmts, _, keys := statementResult(t, w.Body.Bytes())
		if w.Code != 200 || len(stmts) != 1 || !slices.Equal(keys, []string{"more", "statements"}) {
			t.Errorf("GET = %d %s, want 200 and exactly statements (one) and more", w.Code, w.Body)
		}
		if strings.Count(w.Body.String(), `"statements"`) != 1 || strings.Count(w.Body.String(), `"more"`) != 1 {
			t.Errorf("GET = %s, want a single statements and a single more property", w.Body)
		}
	})
	t.Run("XAPI-00110_statements_is_an_array_of_statements", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements", "", nil)
		var r struct{ Statements []json.RawMessage }
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || len(r.Statements) != 1 {
			t.Fatalf("GET = %s, want statements to be an array of one", w.Body)
		}
		for _, raw := range r.Statements {
			if _, err := xapi.ParseStatement(raw, xapi.V103); err != nil {
				t.Errorf("statements[] entry %s is not a valid statement: %v", raw, err)
			}
		}
	})
	t.Run("XAPI-00165_Content-Type_on_every_GET", func(t *testing.T) {
		for _, target := range []string{"/xapi/statements", "/xapi/statements?format=ids", "/xapi/statements?statementId=" + ts.store.Statements()[0].ID(), "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", "/xapi/statements?bad=1"} {
			if w := ts.do(t, "GET", target, "", nil); !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("GET %s = %d with Content-Type %q, want application/json", target, w.Code, w.Header().Get("Content-Type"))
			}
		}
	})
	t.Run("XAPI-00168_format_absent_returns_the_statement_as_sent", func(t *testing.T) {
		for _, target := range []string{"/xapi/statements", "/xapi/statements?format=exact"} {
			w := ts.do(t, "GET", target, "", nil)
			stmts, _, _ := statementResult(t, w.Body.Bytes())
			var want map[string]any
			_ = json.Unmarshal([]byte(sent), &want)
			if len(stmts) != 1 {
				t.Fatalf("GET %s = %s, want one statement", target, w.Body)
			}
			for _, k := range []string{"actor", "verb", "object", "result"} {
				if !reflect.DeepEqual(stmts[0][k], want[k]) {
					t.Errorf("GET %s: %s = %v, want %v as sent", target, k, stmts[0][k], want[k])
				}
			}
		}
	})
	t.Run("XAPI-00171_format_ids_returns_identifiers_only", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements?format=ids", "", nil)
		stmts, _, _ := statementResult(t, w.Body.Bytes())
		if len(stmts) != 1 {
			t.Fatalf("GET format=ids = %s, want one statement", w.Body)
		}
		s := stmts[0]
		if !reflect.DeepEqual(s["verb"], map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed"}) ||
			!reflect.DeepEqual(s["object"], map[string]any{"id": "http://example.com/course/1"}) ||
			s["actor"].(map[string]any)["name"] != nil || s["actor"].(map[string]any)["mbox"] != "mailto:alice@example.com" {
			t.Errorf("GET format=ids = %s, want only the identifiers of actor, verb and object", w.Body)
		}
	})
}

// TestStatementsQueryParameters checks that GET /statements takes each
// query parameter and answers a StatementResult. Which statements each
// filter selects is the store's to test (store.TestQueryFilters; the test
// double here ignores filters).
func TestStatementsQueryParameters(t *testing.T) {
	ts := newTestServer(t, 0)
	wantStatus(t, ts.do(t, "POST", "/xapi/statements", stmt, nil), 200, "POST")
	agent := url.QueryEscape(`{"mbox":"mailto:alice@example.com"}`)
	tests := []struct{ name, query string }{
		{"XAPI-00181_agent", "agent=" + agent},
		{"XAPI-00180_verb", "verb=http://adlnet.gov/expapi/verbs/completed"},
		{"XAPI-00179_activity", "activity=http://example.com/course/1"},
		{"XAPI-00178_registration", "registration=ec531277-b57b-4c15-8d91-d292c5b2b8f7"},
		{"XAPI-00177_related_activities", "activity=http://example.com/course/1&related_activities=true"},
		{"XAPI-00176_related_agents", "agent=" + agent + "&related_agents=true"},
		{"XAPI-00175_since", "since=2013-05-18T05:32:34.804Z"},
		{"XAPI-00174_until", "until=2999-01-01T00:00:00Z"},
		{"XAPI-00173_limit", "limit=1"},
		{"XAPI-00168_format_absent", ""},
		{"XAPI-00171_format_ids", "format=ids"},
		{"XAPI-00166_ascending", "ascending=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(t, "GET", "/xapi/statements?"+tt.query, "", nil)
			if w.Code != 200 {
				t.Fatalf("GET ?%s = %d %s, want 200", tt.query, w.Code, w.Body)
			}
			statementResult(t, w.Body.Bytes())
		})
	}
}
