package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"custodia/xapi"
)

const (
	testAgent    = `{"objectType":"Agent","account":{"homePage":"http://www.example.com/agentId/1","name":"Rick James"}}`
	testActivity = "http://www.example.com/activityId/hashset"
)

// stateURL builds a State resource URL from name/value pairs; the agent and
// activity default to the test ones ("-" leaves a parameter out).
func stateURL(kv ...string) string {
	v := url.Values{"activityId": {testActivity}, "agent": {testAgent}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return "/xapi/activities/state?" + v.Encode()
}

func activityProfileURL(id string) string {
	return "/xapi/activities/profile?" + url.Values{"activityId": {testActivity}, "profileId": {id}}.Encode()
}

func agentProfileURL(id string) string {
	return "/xapi/agents/profile?" + url.Values{"agent": {testAgent}, "profileId": {id}}.Encode()
}

func v2(h map[string]string) map[string]string {
	out := map[string]string{"X-Experience-API-Version": "2.0.0"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

func wantStatus(t *testing.T, w interface {
	Result() *http.Response
}, want int, what string) {
	t.Helper()
	if got := w.Result().StatusCode; got != want {
		t.Fatalf("%s = %d, want %d", what, got, want)
	}
}

func TestStateResource(t *testing.T) {
	ts := newTestServer(t, 1<<20)
	t.Run("XAPI-00233 post to missing document stores it", func(t *testing.T) {
		u := stateURL("stateId", "s-233")
		wantStatus(t, ts.do(t, "POST", u, `{"a":1}`, nil), 204, "POST")
		w := ts.do(t, "GET", u, "", nil)
		if w.Code != 200 || w.Body.String() != `{"a":1}` {
			t.Errorf("GET = %d %s, want the posted document", w.Code, w.Body)
		}
	})
	t.Run("XAPI-00234 post merges JSON objects", func(t *testing.T) {
		u := stateURL("stateId", "s-234")
		wantStatus(t, ts.do(t, "POST", u, `{"car":"Honda"}`, nil), 204, "first POST")
		wantStatus(t, ts.do(t, "POST", u, `{"type":"Civic"}`, nil), 204, "second POST")
		if w := ts.do(t, "GET", u, "", nil); w.Body.String() != `{"car":"Honda","type":"Civic"}` {
			t.Errorf("merged = %s", w.Body)
		}
	})
	t.Run("XAPI-00229 XAPI-00182 post of non-JSON onto JSON is rejected and changes nothing", func(t *testing.T) {
		u := stateURL("stateId", "s-229")
		wantStatus(t, ts.do(t, "POST", u, `{"a":1}`, nil), 204, "POST")
		wantError(t, ts.do(t, "POST", u, "abcdefg", map[string]string{"Content-Type": "not/json"}), 400, "JSON")
		wantError(t, ts.do(t, "POST", u, `{"a":2}{`, nil), 400, "JSON")
		if w := ts.do(t, "GET", u, "", nil); w.Body.String() != `{"a":1}` {
			t.Errorf("after refused POSTs = %s, want it unchanged", w.Body)
		}
	})
	t.Run("XAPI-00188 GET returns the bytes as stored with content type, ETag and Last-Modified", func(t *testing.T) {
		u := stateURL("stateId", "s-188")
		body := "/ asdf / undefined \x01\x02"
		wantStatus(t, ts.do(t, "PUT", u, body, map[string]string{"Content-Type": "application/octet-stream"}), 204, "PUT")
		w := ts.do(t, "GET", u, "", nil)
		if w.Code != 200 || w.Body.String() != body || w.Header().Get("Content-Type") != "application/octet-stream" {
			t.Errorf("GET = %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		if got, want := w.Header().Get("ETag"), xapi.DocumentETag([]byte(body)); got != want {
			t.Errorf("ETag = %s, want %s", got, want)
		}
		if _, err := http.ParseTime(w.Header().Get("Last-Modified")); err != nil {
			t.Errorf("Last-Modified = %q: %v", w.Header().Get("Last-Modified"), err)
		}
	})
	t.Run("XAPI-00125 HEAD answers the GET headers without a body", func(t *testing.T) {
		u := stateURL("stateId", "s-125")
		wantStatus(t, ts.do(t, "PUT", u, `{"x":true}`, nil), 204, "PUT")
		get, head := ts.do(t, "GET", u, "", nil), ts.do(t, "HEAD", u, "", nil)
		if head.Code != 200 || head.Body.Len() != 0 {
			t.Errorf("HEAD = %d with %d body bytes, want 200 and none", head.Code, head.Body.Len())
		}
		for _, h := range []string{"ETag", "Last-Modified", "Content-Type", "Content-Length"} {
			if head.Header().Get(h) == "" || head.Header().Get(h) != get.Header().Get(h) {
				t.Errorf("HEAD %s = %q, GET %s = %q", h, head.Header().Get(h), h, get.Header().Get(h))
			}
		}
	})
	t.Run("XAPI-00193 list ids, XAPI-00195 since, XAPI-00194 delete all", func(t *testing.T) {
		act := "http://www.example.com/activityId/list"
		for _, id := range []string{"b", "a"} {
			wantStatus(t, ts.do(t, "PUT", stateURL("activityId", act, "stateId", id), `{}`, nil), 204, "PUT "+id)
		}
		reg := "9a8b7c6d-1234-4abc-9def-0123456789ab"
		for _, id := range []string{"c", "a"} {
			wantStatus(t, ts.do(t, "PUT", stateURL("activityId", act, "stateId", id, "registration", reg), `{}`, nil), 204, "PUT "+id+" under a registration")
		}
		list := func(kv ...string) []string {
			t.Helper()
			w := ts.do(t, "GET", stateURL(append([]string{"activityId", act}, kv...)...), "", nil)
			var ids []string
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &ids) != nil {
				t.Fatalf("list = %d %s", w.Code, w.Body)
			}
			return ids
		}
		// Without a registration the list covers every registration, and
		// names "a" (stored with and without one) once.
		if got := list(); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("list = %v, want [a b c]", got)
		}
		if got := list("registration", reg); !slices.Equal(got, []string{"a", "c"}) {
			t.Errorf("list(registration) = %v, want [a c]", got)
		}
		past := "2000-01-01T00:00:00Z" // before the test store's clock
		if got := list("since", past); len(got) != 3 {
			t.Errorf("list(since 2000) = %v, want all three", got)
		}
		if got := list("since", "2999-01-01T00:00:00Z"); len(got) != 0 {
			t.Errorf("list(since the future) = %v, want none", got)
		}
		if w := ts.do(t, "GET", stateURL("activityId", act), "", nil); w.Header().Get("Last-Modified") == "" {
			t.Error("list has no Last-Modified")
		}
		wantStatus(t, ts.do(t, "DELETE", stateURL("activityId", act), "", nil), 204, "DELETE all")
		if got := list(); len(got) != 0 {
			t.Errorf("after DELETE all: %v, want []", got)
		}
		if w := ts.do(t, "GET", stateURL("activityId", act), "", nil); w.Body.String() != "[]" {
			t.Errorf("empty list body = %s, want []", w.Body)
		}
	})
	t.Run("XAPI-00187 delete", func(t *testing.T) {
		u := stateURL("stateId", "s-187")
		wantStatus(t, ts.do(t, "PUT", u, `{}`, nil), 204, "PUT")
		wantStatus(t, ts.do(t, "DELETE", u, "", nil), 204, "DELETE")
		wantError(t, ts.do(t, "GET", u, "", nil), 404, "no such document")
	})
	t.Run("document over the size limit is 413", func(t *testing.T) {
		big := `{"a":"` + strings.Repeat("x", 1<<20) + `"}`
		wantError(t, ts.do(t, "PUT", stateURL("stateId", "big"), big, nil), 413, "size limit")
		wantError(t, ts.do(t, "GET", stateURL("stateId", "big"), "", nil), 404, "")
	})
	t.Run("method not allowed", func(t *testing.T) {
		wantError(t, ts.do(t, "PATCH", stateURL("stateId", "s"), `{}`, nil), 405, "not allowed")
	})
	params := []struct{ name, method, url, msg string }{
		{"XAPI-00210 PUT without activityId", "PUT", stateURL("activityId", "-", "stateId", "s"), "activityId"},
		{"XAPI-00213 GET without agent", "GET", stateURL("agent", "-"), "agent"},
		{"XAPI-00199 agent not JSON", "PUT", stateURL("agent", "not JSON", "stateId", "s"), "agent"},
		{"XAPI-00235 agent broken JSON", "POST", stateURL("agent", `{"objectType""Agent"}`, "stateId", "s"), "agent"},
		{"XAPI-00203 registration not a UUID", "PUT", stateURL("registration", "true", "stateId", "s"), "registration"},
		{"XAPI-00206 PUT without stateId", "PUT", stateURL(), "stateId"},
		{"XAPI-00211 POST without stateId", "POST", stateURL(), "stateId"},
		{"XAPI-00204 since not a timestamp", "GET", stateURL("since", "not a timestamp"), "since"},
		{"unknown parameter", "GET", stateURL("profileId", "p"), "profileId"},
		{"PUT with application/json that is not JSON", "PUT", stateURL("stateId", "s"), "JSON"},
	}
	for _, tt := range params {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(t, tt.method, tt.url, `{"a":`, nil), 400, tt.msg)
		})
	}
}

func TestProfileResources(t *testing.T) {
	ts := newTestServer(t, 1<<20)
	for _, res := range []struct {
		name               string
		url                func(string) string
		get, post, invalid string // requirement ids
	}{
		{"activity profile", activityProfileURL, "XAPI-00289", "XAPI-00310", "XAPI-00314"},
		{"agent profile", agentProfileURL, "XAPI-00259", "XAPI-00280", "XAPI-00281"},
	} {
		t.Run(res.name, func(t *testing.T) {
			u := res.url("p-1")
			wantStatus(t, ts.do(t, "PUT", u, `{"a":1}`, map[string]string{"If-None-Match": "*"}), 204, "XAPI-00287 PUT with If-None-Match: *")
			t.Run(res.get+"_GET_one_returns_the_document", func(t *testing.T) {
				if w := ts.do(t, "GET", u, "", nil); w.Code != 200 || w.Body.String() != `{"a":1}` || w.Header().Get("Content-Type") != "application/json" {
					t.Errorf("GET = %d %q %s, want 200 and the document", w.Code, w.Header().Get("Content-Type"), w.Body)
				}
			})
			t.Run(res.post+"_POST_to_a_new_document_stores_it", func(t *testing.T) {
				nu := res.url("p-new")
				wantStatus(t, ts.do(t, "POST", nu, `{"n":1}`, nil), 204, "POST")
				if w := ts.do(t, "GET", nu, "", nil); w.Code != 200 || w.Body.String() != `{"n":1}` {
					t.Errorf("GET after POST = %d %s, want the posted document", w.Code, w.Body)
				}
				wantStatus(t, ts.do(t, "DELETE", nu, "", map[string]string{"If-Match": "*"}), 204, "DELETE")
			})
			t.Run(res.invalid+"_POST_of_invalid_JSON_as_application/json_is_400", func(t *testing.T) {
				wantError(t, ts.do(t, "POST", u, `{"a":2}[`, nil), 400, "JSON")
				wantError(t, ts.do(t, "POST", res.url("p-invalid"), `{"a":2}[`, nil), 400, "JSON")
				wantError(t, ts.do(t, "GET", res.url("p-invalid"), "", nil), 404, "")
				if w := ts.do(t, "GET", u, "", nil); w.Body.String() != `{"a":1}` {
					t.Errorf("after refused POSTs = %s, want unchanged", w.Body)
				}
			})
			wantStatus(t, ts.do(t, "POST", u, `{"b":2}`, nil), 204, "XAPI-00310 POST merge")
			if w := ts.do(t, "GET", u, "", nil); w.Body.String() != `{"a":1,"b":2}` {
				t.Errorf("merged = %s", w.Body)
			}
			list := ts.do(t, "GET", u[:len(u)-len("&profileId=p-1")], "", nil)
			if list.Code != 200 || list.Body.String() != `["p-1"]` {
				t.Errorf("XAPI-00270 list = %d %s, want [\"p-1\"]", list.Code, list.Body)
			}
			wantStatus(t, ts.do(t, "DELETE", u, "", nil), 204, "DELETE")
			wantError(t, ts.do(t, "DELETE", u[:len(u)-len("&profileId=p-1")], "", nil), 400, "profileId")
		})
	}
	t.Run("XAPI-00258 agent profile refuses a Group", func(t *testing.T) {
		u := "/xapi/agents/profile?" + url.Values{"agent": {`{"objectType":"Group","mbox":"mailto:g@example.com"}`}}.Encode()
		wantError(t, ts.do(t, "GET", u, "", nil), 400, "Group")
	})
}

// TestConcurrency covers XAPI-00322 and XAPI-00273 (1.0.3) and the 2.0
// suite's §4.1.4.
func TestConcurrency(t *testing.T) {
	ts := newTestServer(t, 1<<20)
	etagOf := func(u string, h map[string]string) string {
		t.Helper()
		w := ts.do(t, "GET", u, "", h)
		if w.Code != 200 || w.Header().Get("ETag") == "" {
			t.Fatalf("GET = %d, ETag %q", w.Code, w.Header().Get("ETag"))
		}
		return w.Header().Get("ETag")
	}
	t.Run("XAPI-00273 1.0.3 profile PUT without a header to a new document is 400", func(t *testing.T) {
		wantError(t, ts.do(t, "PUT", activityProfileURL("new-273"), `{}`, nil), 400, "If-Match")
		wantError(t, ts.do(t, "GET", activityProfileURL("new-273"), "", nil), 404, "")
	})
	t.Run("XAPI-00273 1.0.3 profile PUT without a header to an existing document is 409", func(t *testing.T) {
		u := agentProfileURL("exists-273")
		wantStatus(t, ts.do(t, "POST", u, `{"v":1}`, nil), 204, "POST")
		wantError(t, ts.do(t, "PUT", u, `{"v":2}`, nil), 409, "If-Match")
		if w := ts.do(t, "GET", u, "", nil); w.Body.String() != `{"v":1}` {
			t.Errorf("after 409 = %s, want unchanged", w.Body)
		}
	})
	t.Run("1.0.3 State PUT overwrites without a header", func(t *testing.T) {
		u := stateURL("stateId", "overwrite")
		wantStatus(t, ts.do(t, "PUT", u, `{"v":1}`, nil), 204, "first PUT")
		wantStatus(t, ts.do(t, "PUT", u, `{"v":2}`, nil), 204, "second PUT")
	})
	t.Run("2.0 State PUT without a header to an existing document is 409", func(t *testing.T) {
		u := stateURL("stateId", "v2-409")
		wantStatus(t, ts.do(t, "PUT", u, `{"v":1}`, v2(nil)), 204, "first PUT")
		wantError(t, ts.do(t, "PUT", u, `{"v":2}`, v2(nil)), 409, "If-Match")
	})
	t.Run("XAPI-00322 ETag is the quoted SHA-1 of the body", func(t *testing.T) {
		u := activityProfileURL("sha1")
		wantStatus(t, ts.do(t, "PUT", u, `abc`, map[string]string{"If-None-Match": "*", "Content-Type": "text/plain"}), 204, "PUT")
		if got := etagOf(u, nil); got != `"a9993e364706816aba3e25717850c26c9cd0d89d"` {
			t.Errorf("ETag = %s", got)
		}
	})
	for _, res := range []struct {
		name string
		url  string
	}{{"state", stateURL("stateId", "c-414")}, {"activity profile", activityProfileURL("c-414")}, {"agent profile", agentProfileURL("c-414")}} {
		t.Run("4.1.4 "+res.name, func(t *testing.T) {
			h := v2(nil)
			wantStatus(t, ts.do(t, "POST", res.url, `{"name":"original"}`, h), 204, "POST")
			tag := etagOf(res.url, h)
			wantError(t, ts.do(t, "PUT", res.url, `{"name":"x"}`, v2(map[string]string{"If-Match": `"1234"`})), 412, "If-Match")
			wantError(t, ts.do(t, "POST", res.url, `{"name":"x"}`, v2(map[string]string{"If-Match": `"1234"`})), 412, "If-Match")
			wantError(t, ts.do(t, "DELETE", res.url, "", v2(map[string]string{"If-Match": `"1234"`})), 412, "If-Match")
			wantError(t, ts.do(t, "PUT", res.url, `{"name":"x"}`, v2(map[string]string{"If-None-Match": "*"})), 412, "If-None-Match")
			if got := etagOf(res.url, h); got != tag {
				t.Fatalf("refused writes changed the ETag: %s → %s", tag, got)
			}
			wantStatus(t, ts.do(t, "PUT", res.url, `{"name":"updated"}`, v2(map[string]string{"If-Match": tag})), 204, "PUT with the right ETag")
			tag = etagOf(res.url, h)
			wantStatus(t, ts.do(t, "POST", res.url, `{"more":1}`, v2(map[string]string{"If-Match": tag})), 204, "POST with the right ETag")
			if w := ts.do(t, "GET", res.url, "", h); w.Body.String() != `{"more":1,"name":"updated"}` {
				t.Errorf("document = %s", w.Body)
			}
			wantStatus(t, ts.do(t, "DELETE", res.url, "", v2(map[string]string{"If-Match": etagOf(res.url, h)})), 204, "DELETE with the right ETag")
			wantError(t, ts.do(t, "GET", res.url, "", h), 404, "")
		})
	}
	t.Run("malformed If-Match", func(t *testing.T) {
		wantError(t, ts.do(t, "PUT", activityProfileURL("bad"), `{}`, map[string]string{"If-Match": "no-quotes"}), 400, "If-Match")
	})
}

// TestDocumentsPolicy: a learner credential reaches only its own State and
// Agent Profile; a client without the state scope reaches no State.
func TestDocumentsPolicy(t *testing.T) {
	ts := newTestServer(t, 1<<20)
	cred := func(body string) map[string]string {
		t.Helper()
		w := ts.do(t, "POST", "/api/v1/credentials", body, nil)
		var c struct{ Key, Secret string }
		if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &c) != nil {
			t.Fatalf("create credential = %d %s", w.Code, w.Body)
		}
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Key+":"+c.Secret))}
	}
	learner := cred(`{"name":"rick","roles":["learner"],"agent":` + testAgent + `}`)
	lms := cred(`{"name":"lms","roles":["client"],"scopes":["statements/write"]}`)
	other := "/xapi/activities/state?" + url.Values{"activityId": {testActivity}, "agent": {`{"mbox":"mailto:bob@example.com"}`}, "stateId": {"s"}}.Encode()
	wantStatus(t, ts.do(t, "PUT", stateURL("stateId", "own"), `{}`, learner), 204, "learner PUT own state")
	wantStatus(t, ts.do(t, "GET", stateURL("stateId", "own"), "", learner), 200, "learner GET own state")
	wantError(t, ts.do(t, "PUT", other, `{}`, learner), 403, "refused by policy")
	wantError(t, ts.do(t, "GET", other, "", learner), 403, "refused by policy")
	wantError(t, ts.do(t, "GET", activityProfileURL("p"), "", learner), 403, "refused by policy")
	wantError(t, ts.do(t, "GET", stateURL("stateId", "own"), "", lms), 403, "refused by policy")
}
