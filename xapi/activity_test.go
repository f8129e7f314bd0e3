package xapi_test

import (
	"net/url"
	"strings"
	"testing"

	"custodia/xapi"
)

// activityOf parses a statement whose object is the Activity JSON act and
// returns that Activity.
func activityOf(t *testing.T, act string) xapi.Activity {
	t.Helper()
	as := mustParse(t, with("object", act), xapi.V200).Activities()
	if len(as) != 1 {
		t.Fatalf("Activities() of %s = %d activities, want 1", act, len(as))
	}
	return as[0]
}

func activityJSON(t *testing.T, a xapi.Activity) string {
	t.Helper()
	b, err := a.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON(%s) = %v", a.ID, err)
	}
	return string(b)
}

func TestActivityMerge(t *testing.T) {
	const id = "http://example.com/act"
	tests := []struct {
		name         string
		older, newer string // definitions; "" for none
		want         string
	}{
		{"XAPI-00254_languages_from_two_statements_are_both_kept",
			`{"name":{"en-US":"example meeting"}}`, `{"name":{"fr-FR":"réunion"}}`,
			`{"definition":{"name":{"en-US":"example meeting","fr-FR":"réunion"}},"id":"http://example.com/act","objectType":"Activity"}`},
		{"newer_text_replaces_a_language_case_insensitively",
			`{"name":{"en-US":"old","de":"alt"},"description":{"en-US":"d"}}`, `{"name":{"EN-us":"new"}}`,
			`{"definition":{"description":{"en-US":"d"},"name":{"EN-us":"new","de":"alt"}},"id":"http://example.com/act","objectType":"Activity"}`},
		{"type_moreInfo_extensions_take_the_newer_value",
			`{"type":"http://example.com/t1","moreInfo":"http://example.com/m1","extensions":{"http://example.com/x":1,"http://example.com/y":2}}`,
			`{"type":"http://example.com/t2","extensions":{"http://example.com/x":3}}`,
			`{"definition":{"extensions":{"http://example.com/x":3},"moreInfo":"http://example.com/m1","type":"http://example.com/t2"},"id":"http://example.com/act","objectType":"Activity"}`},
		{"interaction_properties_are_replaced_together",
			`{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a"},{"id":"b"}]}`,
			`{"interactionType":"likert","scale":[{"id":"1"}]}`,
			`{"definition":{"interactionType":"likert","scale":[{"id":"1"}]},"id":"http://example.com/act","objectType":"Activity"}`},
		{"interaction_kept_when_the_newer_has_none",
			`{"interactionType":"true-false","correctResponsesPattern":["true"]}`, `{"name":{"en":"q"}}`,
			`{"definition":{"correctResponsesPattern":["true"],"interactionType":"true-false","name":{"en":"q"}},"id":"http://example.com/act","objectType":"Activity"}`},
		{"no_definition_yet", "", `{"name":{"en":"q"}}`,
			`{"definition":{"name":{"en":"q"}},"id":"http://example.com/act","objectType":"Activity"}`},
		{"newer_without_definition_keeps_the_canonical_copy", `{"name":{"en":"q"}}`, "",
			`{"definition":{"name":{"en":"q"}},"id":"http://example.com/act","objectType":"Activity"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			act := func(def string) string {
				if def == "" {
					return `{"id":"` + id + `"}`
				}
				return `{"id":"` + id + `","definition":` + def + `}`
			}
			older, newer := activityOf(t, act(tc.older)), activityOf(t, act(tc.newer))
			olderBefore, newerBefore := activityJSON(t, older), activityJSON(t, newer)
			got := activityJSON(t, older.Merge(newer))
			if got != tc.want {
				t.Errorf("Merge(%s, %s) = %s, want %s", tc.older, tc.newer, got, tc.want)
			}
			if activityJSON(t, older) != olderBefore || activityJSON(t, newer) != newerBefore {
				t.Errorf("Merge changed its operands")
			}
		})
	}
}

func TestStatementActivities(t *testing.T) {
	s := mustParse(t, with(
		"object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},`+
			`"object":{"id":"http://example.com/sub","definition":{"name":{"en":"sub"}}},"context":{"contextActivities":{"other":{"id":"http://example.com/sub-other"}}}}`,
		"context", `{"contextActivities":{"parent":[{"id":"http://example.com/p","definition":{"type":"http://example.com/t"}}],"category":[{"id":"http://example.com/c"}]}}`,
	), xapi.V103)
	var got []string
	for _, a := range s.Activities() {
		got = append(got, a.ID+"="+map[bool]string{true: "def", false: "bare"}[a.HasDefinition()])
	}
	want := "http://example.com/p=def http://example.com/c=bare http://example.com/sub=def http://example.com/sub-other=bare"
	if strings.Join(got, " ") != want {
		t.Errorf("Activities() = %s, want %s", strings.Join(got, " "), want)
	}
}

func TestDecodeActivity(t *testing.T) {
	a := activityOf(t, `{"id":"http://example.com/act","definition":{"name":{"en":"q"},"extensions":{"http://example.com/x":1.50}}}`)
	b, err := xapi.DecodeActivity([]byte(activityJSON(t, a)))
	if err != nil || activityJSON(t, b) != activityJSON(t, a) {
		t.Errorf("DecodeActivity(MarshalJSON(a)) = %s, %v; want %s", activityJSON(t, b), err, activityJSON(t, a))
	}
	for _, bad := range []string{`[]`, `{"objectType":"Activity"}`, `{`} {
		if _, err := xapi.DecodeActivity([]byte(bad)); xapi.ErrorKind(err) != xapi.Internal {
			t.Errorf("DecodeActivity(%s) = %v, want an Internal error", bad, err)
		}
	}
	bare := activityJSON(t, xapi.Activity{ID: "http://example.com/unknown"})
	if bare != `{"id":"http://example.com/unknown","objectType":"Activity"}` {
		t.Errorf("MarshalJSON(Activity{ID}) = %s", bare)
	}
}

func TestWithDefinitions(t *testing.T) {
	s := mustParse(t, with(
		"verb", `{"id":"http://example.com/v","display":{"en-US":"did","en-GB":"did (GB)"}}`,
		"object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/sub","definition":{"name":{"en-US":"own"}}}}`,
		"context", `{"contextActivities":{"parent":[{"id":"http://example.com/p"}]}}`,
	), xapi.V103)
	exact := marshal(t, s)
	canon := map[string]xapi.Activity{
		"http://example.com/sub": activityOf(t, `{"id":"http://example.com/sub","definition":{"name":{"en-US":"canonical","en-GB":"canonical (GB)"}}}`),
		"http://example.com/p":   activityOf(t, `{"id":"http://example.com/p","definition":{"type":"http://example.com/t"}}`),
		"http://example.com/x":   {ID: "http://example.com/x"},
	}
	got, err := s.WithDefinitions(canon).Format(xapi.FormatCanonical, []string{"en-GB"})
	want := `{"actor":{"mbox":"mailto:learner@example.com"},` +
		`"context":{"contextActivities":{"parent":[{"definition":{"type":"http://example.com/t"},"id":"http://example.com/p"}]}},` +
		`"object":{"actor":{"mbox":"mailto:a@example.com"},"object":{"definition":{"name":{"en-GB":"canonical (GB)"}},"id":"http://example.com/sub"},"objectType":"SubStatement","verb":{"id":"http://example.com/v"}},` +
		`"verb":{"display":{"en-GB":"did (GB)"},"id":"http://example.com/v"}}`
	if err != nil || string(got) != want {
		t.Errorf("XAPI-00169: WithDefinitions(canon).Format(canonical, en-GB) = %s, %v\nwant %s", got, err, want)
	}
	if marshal(t, s) != exact {
		t.Errorf("WithDefinitions changed the statement: %s, want %s", marshal(t, s), exact)
	}
}

func TestParseActivitiesQuery(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string // "" for Invalid
	}{
		{"XAPI-00253_activityId", "activityId=http%3A%2F%2Fexample.com%2Fa", "http://example.com/a"},
		{"4.2.7_iri_kept_as_given", "activityId=http%3A%2F%2Fexample.com%2Fpath%2F..%2Fx", "http://example.com/path/../x"},
		{"XAPI-00250_missing", "", ""},
		{"repeated", "activityId=http%3A%2F%2Fexample.com%2Fa&activityId=http%3A%2F%2Fexample.com%2Fb", ""},
		{"not_an_iri", "activityId=true", ""},
		{"extra_parameter", "activityId=http%3A%2F%2Fexample.com%2Fa&agent=x", ""},
		{"mis-cased", "activityID=http%3A%2F%2Fexample.com%2Fa", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, _ := url.ParseQuery(tc.query)
			got, err := xapi.ParseActivitiesQuery(vals)
			if tc.want == "" {
				if xapi.ErrorKind(err) != xapi.Invalid {
					t.Errorf("ParseActivitiesQuery(%s) = %q, %v; want an Invalid error", tc.query, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseActivitiesQuery(%s) = %q, %v; want %q", tc.query, got, err, tc.want)
			}
		})
	}
}

func TestParseAgentsQuery(t *testing.T) {
	tests := []struct {
		name  string
		agent []string
		extra string
		ok    bool
	}{
		{"XAPI-00236_account", []string{`{"objectType":"Agent","name":"Rick","account":{"homePage":"http://www.example.com/agentId/1","name":"Rick"}}`}, "", true},
		{"mbox", []string{`{"mbox":"mailto:a@example.com"}`}, "", true},
		{"XAPI-00243_missing", nil, "", false},
		{"XAPI-00249_no_ifi", []string{`{"objectType":"Agent","name":"Rick"}`}, "", false},
		{"XAPI-00249_not_json", []string{`mailto:a@example.com`}, "", false},
		{"two_ifis", []string{`{"mbox":"mailto:a@example.com","openid":"http://example.com/a"}`}, "", false},
		{"group", []string{`{"objectType":"Group","mbox":"mailto:g@example.com"}`}, "", false},
		{"repeated", []string{`{"mbox":"mailto:a@example.com"}`, `{"mbox":"mailto:a@example.com"}`}, "", false},
		{"extra_parameter", []string{`{"mbox":"mailto:a@example.com"}`}, "since", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals := url.Values{}
			for _, a := range tc.agent {
				vals.Add("agent", a)
			}
			if tc.extra != "" {
				vals.Set(tc.extra, "x")
			}
			a, err := xapi.ParseAgentsQuery(vals, xapi.V200)
			if tc.ok != (err == nil) {
				t.Errorf("ParseAgentsQuery(%v) = %+v, %v; want ok=%v", vals, a, err, tc.ok)
			}
			if err != nil && xapi.ErrorKind(err) != xapi.Invalid {
				t.Errorf("ParseAgentsQuery(%v) error kind = %v, want Invalid", vals, xapi.ErrorKind(err))
			}
		})
	}
}

func TestPerson(t *testing.T) {
	tests := []struct {
		name  string
		agent string
		want  string
	}{
		{"XAPI-00238_XAPI-00239_XAPI-00244_mbox", `{"name":"Pat","mbox":"mailto:pat@example.com"}`,
			`{"mbox":["mailto:pat@example.com"],"name":["Pat"],"objectType":"Person"}`},
		{"XAPI-00240_mbox_sha1sum", `{"mbox_sha1sum":"cd9b00a5611f94eaa7b1661edab976068e364975"}`,
			`{"mbox_sha1sum":["cd9b00a5611f94eaa7b1661edab976068e364975"],"objectType":"Person"}`},
		{"XAPI-00241_openid", `{"objectType":"Agent","openid":"http://openid.example.org/12345"}`,
			`{"objectType":"Person","openid":["http://openid.example.org/12345"]}`},
		{"XAPI-00242_account", `{"account":{"homePage":"http://example.com","name":"pat"}}`,
			`{"account":[{"homePage":"http://example.com","name":"pat"}],"objectType":"Person"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := xapi.ParseAgent([]byte(tc.agent), xapi.V103)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Person().MarshalJSON()
			if err != nil || string(got) != tc.want {
				t.Errorf("XAPI-00237/00248: Person(%s) = %s, %v; want %s", tc.agent, got, err, tc.want)
			}
		})
	}
}
