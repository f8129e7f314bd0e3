package xapi_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"custodia/xapi"
)

const governed = `{"id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
	"actor":{"mbox":"mailto:alice@example.com","name":"Alice"},
	"verb":{"id":"https://w3id.org/xapi/video/verbs/paused","display":{"en-US":"paused"}},
	"object":{"id":"https://lms.acme.example/videos/intro","definition":{"type":"https://w3id.org/xapi/video/activity-type/video","name":{"en-US":"Intro"}}},
	"result":{"response":"I found this boring","success":true,"extensions":{"https://w3id.org/xapi/video/extensions/time":12.5}},
	"context":{"extensions":{"https://w3id.org/xapi/video/extensions/session-id":"abc"},
		"contextActivities":{"parent":[{"id":"https://lms.acme.example/courses/1"},{"id":"https://lms.acme.example/courses/2","definition":{"type":"http://adlnet.gov/expapi/activities/course"}}]}}}`

func parse(t *testing.T, body string) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(body), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tree decodes s's JSON for comparisons.
func tree(t *testing.T, s *xapi.Statement) map[string]any {
	t.Helper()
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func at(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestWithout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		paths   []string
		changed bool
		gone    []string // paths absent afterwards
		kept    []string // paths still present
	}{
		{"one string field", []string{"result.response"}, true, []string{"result.response"}, []string{"result.success", "context.extensions"}},
		{"a whole object", []string{"context.extensions"}, true, []string{"context.extensions"}, []string{"context.contextActivities", "result.response"}},
		{"several", []string{"result.response", "context.extensions"}, true, []string{"result.response", "context.extensions"}, []string{"result.success"}},
		{"absent path", []string{"result.duration", "context.instructor"}, false, nil, []string{"result.response", "context.extensions"}},
		{"path below a string", []string{"result.response.x"}, false, nil, []string{"result.response"}},
		{"empty path ignored", []string{""}, false, nil, []string{"result"}},
		{"nothing", nil, false, nil, []string{"result.response"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := parse(t, governed)
			before, _ := s.MarshalJSON()
			out, changed := s.Without(tc.paths)
			if changed != tc.changed {
				t.Errorf("Without(%q) changed = %v, want %v", tc.paths, changed, tc.changed)
			}
			m := tree(t, out)
			for _, p := range tc.gone {
				if _, ok := at(m, p); ok {
					t.Errorf("Without(%q): %s still present", tc.paths, p)
				}
			}
			for _, p := range tc.kept {
				if _, ok := at(m, p); !ok {
					t.Errorf("Without(%q): %s removed, want kept", tc.paths, p)
				}
			}
			if after, _ := s.MarshalJSON(); string(after) != string(before) {
				t.Errorf("Without changed its receiver")
			}
		})
	}
}

func TestWithoutCrossesArrays(t *testing.T) {
	s := parse(t, governed)
	out, changed := s.Without([]string{"context.contextActivities.parent.definition"})
	if !changed {
		t.Fatal("Without(parent.definition) changed = false, want true")
	}
	b, _ := out.MarshalJSON()
	if strings.Contains(string(b), "activities/course") {
		t.Errorf("Without(parent.definition) = %s, want the parent definitions gone", b)
	}
	if !strings.Contains(string(b), "https://lms.acme.example/courses/2") {
		t.Errorf("Without(parent.definition) = %s, want the parent ids kept", b)
	}
}

func TestMasked(t *testing.T) {
	s := parse(t, governed)
	out := s.Masked([]string{"result.response", "context.extensions", "result.duration"})
	m := tree(t, out)
	if v, _ := at(m, "result.response"); v != xapi.MaskedValue {
		t.Errorf("Masked: result.response = %v, want %q", v, xapi.MaskedValue)
	}
	if _, ok := at(m, "context.extensions"); ok {
		t.Errorf("Masked: context.extensions (an object) still present, want removed")
	}
	if _, ok := at(m, "result.duration"); ok {
		t.Errorf("Masked: an absent path appeared")
	}
	if v, _ := at(tree(t, s), "result.response"); v != "I found this boring" {
		t.Errorf("Masked changed its receiver: result.response = %v", v)
	}
	if b, _ := out.MarshalJSON(); strings.Contains(string(b), "boring") {
		t.Errorf("Masked output %s still holds the response", b)
	}
}

func TestFields(t *testing.T) {
	s := parse(t, governed)
	got := s.Fields(2)
	for _, want := range []string{"actor", "actor.mbox", "result", "result.response", "result.extensions", "context.extensions", "context.contextActivities", "object.definition", "verb.display"} {
		if !contains(got, want) {
			t.Errorf("Fields(2) = %q, want it to hold %q", got, want)
		}
	}
	for _, not := range []string{"context.contextActivities.parent", "verb.display.en-US", "result.extensions.https://w3id.org/xapi/video/extensions/time"} {
		if contains(got, not) {
			t.Errorf("Fields(2) holds %q, want it left out", not)
		}
	}
	if got := s.Fields(3); !contains(got, "context.contextActivities.parent") || contains(got, "verb.display.en-US") {
		t.Errorf("Fields(3) = %q, want context.contextActivities.parent and no language tags", got)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSignedAndActivityTypes(t *testing.T) {
	s := parse(t, governed)
	if s.Signed() {
		t.Errorf("Signed() = true for a statement without attachments")
	}
	var types []string
	for _, a := range s.Activities() {
		if a.Type() != "" {
			types = append(types, a.Type())
		}
	}
	want := []string{"https://w3id.org/xapi/video/activity-type/video", "http://adlnet.gov/expapi/activities/course"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("activity types = %q, want %q", types, want)
	}
	signed := parse(t, `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},
		"object":{"id":"http://example.com/a"},
		"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"sig"},
			"contentType":"application/octet-stream","length":10,"sha2":"`+strings.Repeat("ab", 32)+`"}]}`)
	if !signed.Signed() {
		t.Errorf("Signed() = false for a statement with a signature attachment")
	}
}

func TestRecordedIsNotContent(t *testing.T) {
	s := parse(t, governed)
	before, _ := s.MarshalJSON()
	r := xapi.Recorded{Purpose: "clickstream-analytics", LegalBasis: "consent", RetentionDays: 90, Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.SetRecorded(r)
	if got := s.Recorded(); got != r {
		t.Errorf("Recorded() = %+v, want %+v", got, r)
	}
	if after, _ := s.MarshalJSON(); string(after) != string(before) {
		t.Errorf("SetRecorded changed the JSON: %s", after)
	}
	if !s.Equal(parse(t, governed)) {
		t.Errorf("Equal is affected by Recorded")
	}
	masked := s.Masked([]string{"result.response"})
	minimised, _ := s.Without([]string{"result.response"})
	canon := s.WithDefinitions(nil)
	for name, c := range map[string]*xapi.Statement{"Masked": masked, "Without": minimised, "WithDefinitions": canon} {
		if c.Recorded() != r {
			t.Errorf("%s lost Recorded: %+v", name, c.Recorded())
		}
	}
}
