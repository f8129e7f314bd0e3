package xapi_test

import (
	"net/url"
	"testing"
	"time"

	"custodia/xapi"
)

const (
	docAgent    = `{"objectType":"Agent","account":{"homePage":"http://www.example.com/agentId/1","name":"Rick James"}}`
	docActivity = "http://www.example.com/activityId/hashset"
	docReg      = "9A8B7C6D-1234-4ABC-9DEF-0123456789AB"
)

func TestParseDocumentParams(t *testing.T) {
	state := func(kv ...string) url.Values {
		v := url.Values{"activityId": {docActivity}, "agent": {docAgent}, "stateId": {"s1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	tests := []struct {
		name   string
		kind   xapi.DocumentKind
		method string
		vals   url.Values
		ok     bool
	}{
		{"XAPI-00190 state PUT", xapi.StateDocument, "PUT", state(), true},
		{"XAPI-00218 state PUT with registration", xapi.StateDocument, "PUT", state("registration", docReg), true},
		{"XAPI-00210 state PUT without activityId", xapi.StateDocument, "PUT", state("activityId", "-"), false},
		{"XAPI-00209 state POST without activityId", xapi.StateDocument, "POST", state("activityId", "-"), false},
		{"XAPI-00208 state GET without activityId", xapi.StateDocument, "GET", state("activityId", "-"), false},
		{"XAPI-00207 state DELETE without activityId", xapi.StateDocument, "DELETE", state("activityId", "-"), false},
		{"state activityId not an IRI", xapi.StateDocument, "GET", state("activityId", "not an iri"), false},
		{"XAPI-00215 state PUT without agent", xapi.StateDocument, "PUT", state("agent", "-"), false},
		{"XAPI-00214 state POST without agent", xapi.StateDocument, "POST", state("agent", "-"), false},
		{"XAPI-00213 state GET without agent", xapi.StateDocument, "GET", state("agent", "-"), false},
		{"XAPI-00212 state DELETE without agent", xapi.StateDocument, "DELETE", state("agent", "-"), false},
		{"XAPI-00199 state PUT agent not JSON", xapi.StateDocument, "PUT", state("agent", "not JSON"), false},
		{"XAPI-00198 state POST agent true", xapi.StateDocument, "POST", state("agent", "true"), false},
		{"XAPI-00197 state GET agent true", xapi.StateDocument, "GET", state("agent", "true"), false},
		{"XAPI-00196 state DELETE agent true", xapi.StateDocument, "DELETE", state("agent", "true"), false},
		{"XAPI-00235 state agent broken JSON", xapi.StateDocument, "POST", state("agent", `{"objectType""Agent"}`), false},
		{"state agent without IFI", xapi.StateDocument, "GET", state("agent", `{"name":"x"}`), false},
		{"state agent a Group", xapi.StateDocument, "GET", state("agent", `{"objectType":"Group","mbox":"mailto:g@example.com"}`), false},
		{"XAPI-00203 state PUT registration not a UUID", xapi.StateDocument, "PUT", state("registration", "true"), false},
		{"XAPI-00202 state POST registration not a UUID", xapi.StateDocument, "POST", state("registration", "true"), false},
		{"XAPI-00201 state GET registration not a UUID", xapi.StateDocument, "GET", state("registration", "true"), false},
		{"XAPI-00200 state DELETE registration not a UUID", xapi.StateDocument, "DELETE", state("registration", "true"), false},
		{"XAPI-00206 state PUT without stateId", xapi.StateDocument, "PUT", state("stateId", "-"), false},
		{"XAPI-00211 state POST without stateId", xapi.StateDocument, "POST", state("stateId", "-"), false},
		{"XAPI-00193 state GET without stateId lists", xapi.StateDocument, "GET", state("stateId", "-"), true},
		{"XAPI-00194 state DELETE without stateId deletes all", xapi.StateDocument, "DELETE", state("stateId", "-"), true},
		{"XAPI-00221 state GET list with since", xapi.StateDocument, "GET", state("stateId", "-", "since", "2024-05-01T12:00:00.000Z"), true},
		{"XAPI-00204 state since not a timestamp", xapi.StateDocument, "GET", state("stateId", "-", "since", "not a timestamp"), false},
		{"XAPI-00205 state DELETE with since", xapi.StateDocument, "DELETE", state("stateId", "-", "since", "2024-05-01T12:00:00Z"), false},
		{"state since with stateId", xapi.StateDocument, "GET", state("since", "2024-05-01T12:00:00Z"), false},
		{"state unknown parameter", xapi.StateDocument, "GET", state("profileId", "p"), false},
		{"state mis-cased parameter", xapi.StateDocument, "GET", state("stateid", "p"), false},
		{"state repeated parameter", xapi.StateDocument, "GET", url.Values{"activityId": {docActivity, docActivity}, "agent": {docAgent}}, false},
		{"XAPI-00311 activity profile PUT", xapi.ActivityProfileDocument, "PUT", url.Values{"activityId": {docActivity}, "profileId": {"p"}}, true},
		{"XAPI-00299 activity profile PUT without activityId", xapi.ActivityProfileDocument, "PUT", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00302 activity profile PUT without profileId", xapi.ActivityProfileDocument, "PUT", url.Values{"activityId": {docActivity}}, false},
		{"XAPI-00297 activity profile DELETE without activityId", xapi.ActivityProfileDocument, "DELETE", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00298 activity profile POST without activityId", xapi.ActivityProfileDocument, "POST", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00301 activity profile POST without profileId", xapi.ActivityProfileDocument, "POST", url.Values{"activityId": {docActivity}}, false},
		{"activity profile POST", xapi.ActivityProfileDocument, "POST", url.Values{"activityId": {docActivity}, "profileId": {"p"}}, true},
		{"XAPI-00300 activity profile DELETE without profileId", xapi.ActivityProfileDocument, "DELETE", url.Values{"activityId": {docActivity}}, false},
		{"activity profile list since", xapi.ActivityProfileDocument, "GET", url.Values{"activityId": {docActivity}, "since": {"2024-05-01T12:00:00Z"}}, true},
		{"XAPI-00296 activity profile GET without activityId", xapi.ActivityProfileDocument, "GET", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00296 activity profile list without activityId", xapi.ActivityProfileDocument, "GET", url.Values{}, false},
		{"XAPI-00295 activity profile since not a timestamp", xapi.ActivityProfileDocument, "GET", url.Values{"activityId": {docActivity}, "since": {"true"}}, false},
		{"activity profile with agent", xapi.ActivityProfileDocument, "GET", url.Values{"activityId": {docActivity}, "agent": {docAgent}}, false},
		{"XAPI-00282 agent profile PUT", xapi.AgentProfileDocument, "PUT", url.Values{"agent": {docAgent}, "profileId": {"p"}}, true},
		{"XAPI-00264 agent profile PUT without agent", xapi.AgentProfileDocument, "PUT", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00257 agent profile agent true", xapi.AgentProfileDocument, "PUT", url.Values{"agent": {"true"}, "profileId": {"p"}}, false},
		{"XAPI-00255 agent profile DELETE agent not an Agent", xapi.AgentProfileDocument, "DELETE", url.Values{"agent": {`{"name":"no IFI"}`}, "profileId": {"p"}}, false},
		{"XAPI-00255 agent profile DELETE agent a Group", xapi.AgentProfileDocument, "DELETE", url.Values{"agent": {`{"objectType":"Group","mbox":"mailto:g@example.com"}`}, "profileId": {"p"}}, false},
		{"XAPI-00256 agent profile POST agent not an Agent", xapi.AgentProfileDocument, "POST", url.Values{"agent": {"true"}, "profileId": {"p"}}, false},
		{"XAPI-00256 agent profile POST agent a Group", xapi.AgentProfileDocument, "POST", url.Values{"agent": {`{"objectType":"Group","mbox":"mailto:g@example.com"}`}, "profileId": {"p"}}, false},
		{"XAPI-00261 agent profile GET without agent", xapi.AgentProfileDocument, "GET", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00262 agent profile DELETE without agent", xapi.AgentProfileDocument, "DELETE", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00263 agent profile POST without agent", xapi.AgentProfileDocument, "POST", url.Values{"profileId": {"p"}}, false},
		{"XAPI-00266 agent profile POST without profileId", xapi.AgentProfileDocument, "POST", url.Values{"agent": {docAgent}}, false},
		{"XAPI-00259 agent profile GET one", xapi.AgentProfileDocument, "GET", url.Values{"agent": {docAgent}, "profileId": {"p"}}, true},
		{"agent profile POST", xapi.AgentProfileDocument, "POST", url.Values{"agent": {docAgent}, "profileId": {"p"}}, true},
		{"agent profile DELETE", xapi.AgentProfileDocument, "DELETE", url.Values{"agent": {docAgent}, "profileId": {"p"}}, true},
		{"XAPI-00258 agent profile GET agent a Group", xapi.AgentProfileDocument, "GET", url.Values{"agent": {`{"objectType":"Group","mbox":"mailto:g@example.com"}`}}, false},
		{"XAPI-00267 agent profile PUT without profileId", xapi.AgentProfileDocument, "PUT", url.Values{"agent": {docAgent}}, false},
		{"XAPI-00265 agent profile DELETE without profileId", xapi.AgentProfileDocument, "DELETE", url.Values{"agent": {docAgent}}, false},
		{"XAPI-00270 agent profile list", xapi.AgentProfileDocument, "GET", url.Values{"agent": {docAgent}}, true},
		{"XAPI-00260 agent profile since true", xapi.AgentProfileDocument, "GET", url.Values{"agent": {docAgent}, "since": {"true"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				_, err := xapi.ParseDocumentParams(tt.kind, tt.method, tt.vals, v)
				if tt.ok != (err == nil) {
					t.Errorf("ParseDocumentParams(%s %s %v, %s) = %v, want ok %v", tt.kind, tt.method, tt.vals, v, err, tt.ok)
				}
				if err != nil && xapi.ErrorKind(err) != xapi.Invalid {
					t.Errorf("ParseDocumentParams error kind = %v, want Invalid", xapi.ErrorKind(err))
				}
			}
		})
	}
}

func TestParseDocumentParamsValues(t *testing.T) {
	vals := url.Values{"activityId": {docActivity}, "agent": {`{"mbox":"mailto:A@Example.COM"}`}, "registration": {docReg}, "stateId": {"s1"}}
	p, err := xapi.ParseDocumentParams(xapi.StateDocument, "GET", vals, xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	if p.ActivityID != docActivity || p.ID != "s1" || p.Registration != "9a8b7c6d-1234-4abc-9def-0123456789ab" || p.Subject() != "mbox:mailto:A@example.com" {
		t.Errorf("ParseDocumentParams = %+v (subject %q)", p, p.Subject())
	}
	ap := xapi.DocumentParams{Kind: xapi.ActivityProfileDocument, ActivityID: docActivity, Agent: p.Agent}
	if ap.Subject() != "" {
		t.Errorf("activity profile Subject() = %q, want the system subject", ap.Subject())
	}
	since := url.Values{"activityId": {docActivity}, "since": {"2024-05-01T14:00:00+02:00"}}
	sp, err := xapi.ParseDocumentParams(xapi.ActivityProfileDocument, "HEAD", since, xapi.V200)
	if want := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC); err != nil || !sp.Since.Equal(want) {
		t.Errorf("since = %v, %v, want %v", sp.Since, err, want)
	}
}

func TestDocumentETag(t *testing.T) {
	// sha1("abc"), the value 1.0.3 requires (XAPI-00322).
	if got, want := xapi.DocumentETag([]byte("abc")), `"a9993e364706816aba3e25717850c26c9cd0d89d"`; got != want {
		t.Errorf("DocumentETag(abc) = %s, want %s", got, want)
	}
}

func TestMergeDocuments(t *testing.T) {
	j := func(s string) xapi.Document { return xapi.Document{ContentType: "application/json", Body: []byte(s)} }
	tests := []struct {
		name           string
		stored, posted xapi.Document
		want           string
		ok             bool
	}{
		{"XAPI-00234 adds keys", j(`{"car":"Honda"}`), j(`{"type":"Civic"}`), `{"car":"Honda","type":"Civic"}`, true},
		{"XAPI-00184 overwrites", j(`{"car":"MKX"}`), j(`{"car":"MKZ"}`), `{"car":"MKZ"}`, true},
		{"XAPI-00183 one level deep", j(`{"a":{"x":1,"y":2}}`), j(`{"a":{"x":3}}`), `{"a":{"x":3}}`, true},
		{"XAPI-00232 stored not JSON", xapi.Document{ContentType: "text/plain", Body: []byte(`{}`)}, j(`{"a":1}`), "", false},
		{"XAPI-00229 posted not JSON", j(`{}`), xapi.Document{ContentType: "application/octet-stream", Body: []byte(`{}`)}, "", false},
		{"XAPI-00229 posted invalid", j(`{}`), j(`{"a":`), "", false},
		{"posted array", j(`{}`), j(`[]`), "", false},
		{"stored array", j(`[]`), j(`{}`), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := xapi.MergeDocuments(tt.stored, tt.posted)
			if tt.ok != (err == nil) || tt.ok && string(got.Body) != tt.want {
				t.Errorf("MergeDocuments = %s, %v, want %s (ok %v)", got.Body, err, tt.want, tt.ok)
			}
			if !tt.ok && xapi.ErrorKind(err) != xapi.Invalid {
				t.Errorf("MergeDocuments error kind = %v, want Invalid", xapi.ErrorKind(err))
			}
		})
	}
}

func TestPrecondition(t *testing.T) {
	const tag = `"a9993e364706816aba3e25717850c26c9cd0d89d"`
	tests := []struct {
		name                 string
		ifMatch, ifNoneMatch string
		require, requireNew  bool
		etag                 string
		exists               bool
		want                 xapi.Kind
		ok                   bool
	}{
		{"If-Match matches", tag, "", false, false, tag, true, 0, true},
		{"If-Match list matches", `"x", ` + tag, "", false, false, tag, true, 0, true},
		{"If-Match differs", `"1234"`, "", false, false, tag, true, xapi.PreconditionFailed, false},
		{"If-Match on missing", "*", "", false, false, "", false, xapi.PreconditionFailed, false},
		{"If-None-Match star on existing", "", "*", false, false, tag, true, xapi.PreconditionFailed, false},
		{"If-None-Match star on missing", "", "*", false, false, "", false, 0, true},
		{"If-None-Match weak tag matches", "", "W/" + tag, false, false, tag, true, xapi.PreconditionFailed, false},
		{"XAPI-00273 no header, existing, required", "", "", true, false, tag, true, xapi.Conflict, false},
		{"XAPI-00273 no header, missing, 1.0.3 profile", "", "", true, true, "", false, xapi.Invalid, false},
		{"no header, missing, required only if exists", "", "", true, false, "", false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := xapi.ParsePrecondition(tt.ifMatch, tt.ifNoneMatch)
			if err != nil {
				t.Fatalf("ParsePrecondition(%q, %q) = %v", tt.ifMatch, tt.ifNoneMatch, err)
			}
			c.RequireIfExists, c.RequireIfMissing = tt.require, tt.requireNew
			err = c.Check(tt.etag, tt.exists)
			if tt.ok != (err == nil) || !tt.ok && xapi.ErrorKind(err) != tt.want {
				t.Errorf("Check(%s, %v) = %v, want ok %v or kind %v", tt.etag, tt.exists, err, tt.ok, tt.want)
			}
		})
	}
	for _, bad := range []string{"abc", `"unterminated`, `"a"b"`, `"a",`} {
		if _, err := xapi.ParsePrecondition(bad, ""); xapi.ErrorKind(err) != xapi.Invalid {
			t.Errorf("ParsePrecondition(%q) = %v, want Invalid", bad, err)
		}
	}
}
