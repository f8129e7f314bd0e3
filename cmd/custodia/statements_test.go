package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"custodia/xapi"
)

func statementWithID(id, verb, object string) []byte {
	return []byte(`{"id":"` + id + `","actor":{"mbox":"mailto:pat@example.com"},"verb":{"id":"` + verb + `"},"object":` + object + `}`)
}

// TestVoidingEndToEnd runs voiding through store, gate and server: a voided
// statement is found only by voidedStatementId (XAPI-00163), and a voiding
// statement is never voided (XAPI-00016).
func TestVoidingEndToEnd(t *testing.T) {
	l := startLRS(t, "")
	target, voiding, revoid := xapi.NewUUID(), xapi.NewUUID(), xapi.NewUUID()
	for _, s := range [][]byte{
		statementWithID(target, "http://adlnet.gov/expapi/verbs/attempted", `{"id":"http://example.com/voiding-e2e"}`),
		statementWithID(voiding, xapi.VerbVoided, `{"objectType":"StatementRef","id":"`+target+`"}`),
		statementWithID(revoid, xapi.VerbVoided, `{"objectType":"StatementRef","id":"`+voiding+`"}`),
	} {
		if code, b := l.admin(t, "POST", "/xapi/statements", "2.0.0", s); code != 200 {
			t.Fatalf("POST = %d %s", code, b)
		}
	}
	get := func(param, id string) int {
		t.Helper()
		code, _ := l.admin(t, "GET", "/xapi/statements?"+param+"="+id, "2.0.0", nil)
		return code
	}
	t.Run("XAPI-00163_voided_statement_only_by_voidedStatementId", func(t *testing.T) {
		if code := get("statementId", target); code != 404 {
			t.Errorf("GET statementId=<voided> = %d, want 404", code)
		}
		if code := get("voidedStatementId", target); code != 200 {
			t.Errorf("GET voidedStatementId=<voided> = %d, want 200", code)
		}
		// The voiding statements match through their target (XAPI-00162);
		// the voided one itself is left out.
		_, b := l.admin(t, "GET", "/xapi/statements?ascending=true&activity="+url.QueryEscape("http://example.com/voiding-e2e"), "2.0.0", nil)
		var r struct{ Statements []struct{ ID string } }
		_ = json.Unmarshal(b, &r)
		var ids []string
		for _, s := range r.Statements {
			ids = append(ids, s.ID)
		}
		if want := []string{voiding, revoid}; !slices.Equal(ids, want) {
			t.Errorf("query by the voided statement's activity = %v, want %v", ids, want)
		}
	})
	t.Run("XAPI-00016_XAPI-00018_a_voiding_statement_is_not_voided", func(t *testing.T) {
		if code := get("statementId", voiding); code != 200 {
			t.Errorf("GET statementId=<voiding statement targeted by another> = %d, want 200", code)
		}
		if code := get("voidedStatementId", voiding); code != 404 {
			t.Errorf("GET voidedStatementId=<voiding statement> = %d, want 404", code)
		}
	})
}

// TestStatementPaging follows `more` links through the whole server (xAPI
// Data §2.5, Communication §2.1.3).
func TestStatementPaging(t *testing.T) {
	l := startLRS(t, "")
	const verb = "http://example.com/verbs/paged"
	var sent []string
	for i := range 7 {
		id := xapi.NewUUID()
		sent = append(sent, id)
		if code, b := l.admin(t, "POST", "/xapi/statements", "1.0.3", statementWithID(id, verb, fmt.Sprintf(`{"id":"http://example.com/page/%d"}`, i))); code != 200 {
			t.Fatalf("POST = %d %s", code, b)
		}
	}
	type result struct {
		Statements []struct{ ID string }
		More       *string
	}
	page := func(t *testing.T, path string) (result, map[string]json.RawMessage) {
		t.Helper()
		code, b := l.admin(t, "GET", path, "1.0.3", nil)
		var r result
		var top map[string]json.RawMessage
		if code != 200 || json.Unmarshal(b, &r) != nil || json.Unmarshal(b, &top) != nil || r.More == nil {
			t.Fatalf("GET %s = %d %s, want a StatementResult", path, code, b)
		}
		return r, top
	}
	var got []string
	path := "/xapi/statements?ascending=true&limit=3&verb=" + url.QueryEscape(verb)
	pages := 0
	for {
		r, top := page(t, path)
		pages++
		for _, s := range r.Statements {
			got = append(got, s.ID)
		}
		t.Run(fmt.Sprintf("XAPI-00111_page_%d_has_the_same_shape", pages), func(t *testing.T) {
			if len(top) != 2 || top["statements"] == nil || top["more"] == nil {
				t.Errorf("page %d has properties %v, want statements and more only", pages, top)
			}
		})
		if *r.More == "" {
			t.Run("XAPI-00109_more_is_empty_after_the_last_page", func(t *testing.T) {
				if !slices.Equal(got, sent) {
					t.Errorf("more is empty after %v, want every statement %v first", got, sent)
				}
			})
			break
		}
		t.Run(fmt.Sprintf("XAPI-00114_XAPI-00108_page_%d_is_full_and_more_is_a_relative_IRL", pages), func(t *testing.T) {
			u, err := url.Parse(*r.More)
			if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/xapi/statements") {
				t.Errorf("more = %q, want a relative IRL to the statements resource", *r.More)
			}
			if len(r.Statements) != 3 {
				t.Errorf("page %d has %d statements and a more link, want a full page of 3", pages, len(r.Statements))
			}
		})
		if pages > 5 {
			t.Fatalf("more links did not end after %d pages", pages)
		}
		path = *r.More
	}
	if pages != 3 || !slices.Equal(got, sent) {
		t.Errorf("paged through %d pages: %v, want 3 pages with %v in order", pages, got, sent)
	}
}
