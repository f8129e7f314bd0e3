package server_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

const meeting = "http://www.example.com/meetings/occurances/34534"

func definedStmt(def string) string {
	return `{"actor":{"name":"Pat","mbox":"mailto:pat@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended","display":{"en-US":"attended","en-GB":"attended (GB)"}},` +
		`"object":{"objectType":"Activity","id":"` + meeting + `","definition":` + def + `}}`
}

// newClient creates a client credential with scopes through the governance
// API and returns its Authorization header.
func (ts *testServer) newClient(t *testing.T, scopes string) map[string]string {
	t.Helper()
	w := ts.do(t, "POST", "/api/v1/credentials", `{"name":"lms","roles":["client"],"scopes":`+scopes+`}`, nil)
	var c struct{ Key, Secret string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); w.Code != 201 || err != nil {
		t.Fatalf("create credential = %d %s", w.Code, w.Body)
	}
	return map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}
}

func TestActivitiesResource(t *testing.T) {
	ts := newTestServer(t, 0)
	body := "[" + definedStmt(`{"name":{"en-US":"example meeting"}}`) + "," + definedStmt(`{"name":{"fr-FR":"réunion"},"type":"http://adlnet.gov/expapi/activities/meeting"}`) + "]"
	if w := ts.do(t, "POST", "/xapi/statements", body, nil); w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	get := "/xapi/activities?activityId=" + url.QueryEscape(meeting)
	t.Run("XAPI-00251_XAPI-00254_full_object_with_merged_definition", func(t *testing.T) {
		w := ts.do(t, "GET", get, "", nil)
		want := `{"definition":{"name":{"en-US":"example meeting","fr-FR":"réunion"},"type":"http://adlnet.gov/expapi/activities/meeting"},"id":"` + meeting + `","objectType":"Activity"}`
		if w.Code != 200 || w.Body.String() != want || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %d %q %s, want 200 application/json %s", get, w.Code, w.Header().Get("Content-Type"), w.Body, want)
		}
	})
	t.Run("2.0_unknown_activity_is_an_activity", func(t *testing.T) {
		for _, v := range []string{"1.0.3", "2.0.0"} {
			w := ts.do(t, "GET", "/xapi/activities?activityId="+url.QueryEscape("http://example.com/path/../x"), "", map[string]string{"X-Experience-API-Version": v})
			if want := `{"id":"http://example.com/path/../x","objectType":"Activity"}`; w.Code != 200 || w.Body.String() != want {
				t.Errorf("GET unknown (%s) = %d %s, want 200 %s (4.2.7: the IRI kept as given)", v, w.Code, w.Body, want)
			}
		}
	})
	t.Run("XAPI-00125_XAPI-00126_HEAD", func(t *testing.T) {
		g, h := ts.do(t, "GET", get, "", nil), ts.do(t, "HEAD", get, "", nil)
		if h.Code != 200 || h.Header().Get("Content-Type") != g.Header().Get("Content-Type") || h.Header().Get("Content-Length") != g.Header().Get("Content-Length") {
			t.Errorf("HEAD = %d %v, want the GET's status and headers %v", h.Code, h.Header(), g.Header())
		}
	})
	for _, tc := range []struct{ name, target, msg string }{
		{"XAPI-00250_missing_activityId", "/xapi/activities", "activityId"},
		{"activityId_not_an_IRI", "/xapi/activities?activityId=true", "IRI"},
		{"extra_parameter", get + "&since=2024-01-01T00:00:00Z", "since"},
		{"repeated_activityId", get + "&activityId=" + url.QueryEscape(meeting), "once"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantError(t, ts.do(t, "GET", tc.target, "", nil), 400, tc.msg) })
	}
	t.Run("refused_without_a_read_scope", func(t *testing.T) {
		wantError(t, ts.do(t, "GET", get, "", ts.newClient(t, `["statements/write"]`)), 403, "refused by policy")
		if w := ts.do(t, "GET", get, "", ts.newClient(t, `["define"]`)); w.Code != 200 {
			t.Errorf("GET with the define scope = %d %s, want 200", w.Code, w.Body)
		}
	})
	t.Run("needs_credentials", func(t *testing.T) {
		wantError(t, ts.do(t, "GET", get, "", map[string]string{"Authorization": "none"}), 401, "authentication")
	})
	t.Run("other_methods_not_allowed", func(t *testing.T) {
		wantError(t, ts.do(t, "POST", get, "{}", nil), 405, "not allowed")
		wantError(t, ts.do(t, "PATCH", "/xapi/statements", "", nil), 405, "not allowed")
		wantError(t, ts.do(t, "PATCH", "/api/v1/credentials", "", nil), 405, "not allowed")
	})
}

func TestAgentsResource(t *testing.T) {
	ts := newTestServer(t, 0)
	agentQ := func(a string) string { return "/xapi/agents?agent=" + url.QueryEscape(a) }
	tests := []struct {
		name, agent string
		want        string
	}{
		{"XAPI-00236_XAPI-00248_account", `{"objectType":"Agent","name":"Rick James","account":{"homePage":"http://www.example.com/agentId/1","name":"Rick James"}}`,
			`{"account":[{"homePage":"http://www.example.com/agentId/1","name":"Rick James"}],"name":["Rick James"],"objectType":"Person"}`},
		{"XAPI-00237_XAPI-00239_XAPI-00244_mbox", `{"name":"xAPI mbox","mbox":"mailto:xapi@adlnet.gov"}`,
			`{"mbox":["mailto:xapi@adlnet.gov"],"name":["xAPI mbox"],"objectType":"Person"}`},
		{"XAPI-00240_mbox_sha1sum", `{"mbox_sha1sum":"cd9b00a5611f94eaa7b1661edab976068e364975"}`,
			`{"mbox_sha1sum":["cd9b00a5611f94eaa7b1661edab976068e364975"],"objectType":"Person"}`},
		{"XAPI-00241_openid", `{"openid":"http://openid.example.org/12345"}`,
			`{"objectType":"Person","openid":["http://openid.example.org/12345"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := ts.do(t, "GET", agentQ(tc.agent), "", nil)
			if w.Code != 200 || w.Body.String() != tc.want {
				t.Errorf("GET /agents?agent=%s = %d %s, want 200 %s", tc.agent, w.Code, w.Body, tc.want)
			}
			if h := ts.do(t, "HEAD", agentQ(tc.agent), "", nil); h.Code != 200 || h.Header().Get("Content-Length") != w.Header().Get("Content-Length") {
				t.Errorf("XAPI-00125: HEAD = %d, want 200 with the GET's headers", h.Code)
			}
		})
	}
	for _, tc := range []struct{ name, target, msg string }{
		{"XAPI-00243_missing_agent", "/xapi/agents", "agent"},
		{"XAPI-00249_agent_without_ifi", agentQ(`{"objectType":"Agent","name":"Rick James"}`), "inverse functional identifier"},
		{"XAPI-00249_agent_not_json", agentQ(`mailto:xapi@adlnet.gov`), "JSON"},
		{"group", agentQ(`{"objectType":"Group","mbox":"mailto:team@example.com"}`), "not a Group"},
		{"extra_parameter", agentQ(`{"mbox":"mailto:a@example.com"}`) + "&profileId=x", "profileId"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantError(t, ts.do(t, "GET", tc.target, "", nil), 400, tc.msg) })
	}
	t.Run("learner_reads_only_their_own_agent", func(t *testing.T) {
		w := ts.do(t, "POST", "/api/v1/credentials", `{"name":"pat","roles":["learner"],"agent":{"mbox":"mailto:pat@example.com"}}`, nil)
		var c struct{ Key, Secret string }
		if err := json.Unmarshal(w.Body.Bytes(), &c); w.Code != 201 || err != nil {
			t.Fatalf("create credential = %d %s", w.Code, w.Body)
		}
		pat := map[string]string{"Authorization": "Basic " + basic(c.Key, c.Secret)}
		if w := ts.do(t, "GET", agentQ(`{"mbox":"mailto:pat@example.com"}`), "", pat); w.Code != 200 {
			t.Errorf("learner GET own agent = %d %s, want 200", w.Code, w.Body)
		}
		wantError(t, ts.do(t, "GET", agentQ(`{"mbox":"mailto:sam@example.com"}`), "", pat), 403, "refused by policy")
	})
}

func TestStatementsCanonicalFormat(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "POST", "/xapi/statements", definedStmt(`{"name":{"en-US":"example meeting","en-GB":"example meeting (GB)"},"description":{"en-US":"a meeting"}}`), nil)
	var ids []string
	if err := json.Unmarshal(w.Body.Bytes(), &ids); w.Code != 200 || err != nil {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	// A later statement adds a language: the earlier one shows it in canonical form.
	if w := ts.do(t, "POST", "/xapi/statements", definedStmt(`{"description":{"en-GB":"a meeting (GB)"}}`), nil); w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	gb := map[string]string{"Accept-Language": "en-GB, en;q=0.5"}
	wantObject := `"object":{"definition":{"description":{"en-GB":"a meeting (GB)"},"name":{"en-GB":"example meeting (GB)"}},"id":"` + meeting + `","objectType":"Activity"}`
	wantVerb := `"verb":{"display":{"en-GB":"attended (GB)"}`
	t.Run("XAPI-00169_XAPI-00172_single_statement", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements?format=canonical&statementId="+ids[0], "", gb)
		if w.Code != 200 || !strings.Contains(w.Body.String(), wantObject) || !strings.Contains(w.Body.String(), wantVerb) {
			t.Errorf("GET canonical = %d %s\nwant it to contain %s and %s", w.Code, w.Body, wantObject, wantVerb)
		}
	})
	t.Run("XAPI-00169_XAPI-00172_query", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements?format=canonical", "", gb)
		if n := strings.Count(w.Body.String(), wantObject); w.Code != 200 || n != 2 {
			t.Errorf("GET canonical query = %d, %d statements in canonical form, want 2: %s", w.Code, n, w.Body)
		}
	})
	t.Run("XAPI-00170_exact_is_as_received", func(t *testing.T) {
		w := ts.do(t, "GET", "/xapi/statements?statementId="+ids[0], "", gb)
		if want := `"name":{"en-GB":"example meeting (GB)","en-US":"example meeting"}`; w.Code != 200 || !strings.Contains(w.Body.String(), want) || strings.Contains(w.Body.String(), "a meeting (GB)") {
			t.Errorf("GET exact = %d %s, want the definition as received", w.Code, w.Body)
		}
	})
}
