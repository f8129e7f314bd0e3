package xapi_test

import (
	"testing"

	"custodia/xapi"
)

func TestEqual(t *testing.T) {
	const (
		sub  = `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},"timestamp":"2013-05-18T05:32:34Z"}`
		grp  = `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"},{"mbox":"mailto:b@example.com"}]}`
		grp2 = `{"objectType":"Group","member":[{"mbox":"mailto:b@example.com"},{"mbox":"mailto:a@example.com"}]}`
		att  = `[{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain","length":1,"sha2":"ab"}]`
	)
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", with(), with(), true},
		{"ignores_id", with("id", `"3e4f8f0c-4c3b-4d7a-9e7a-3b7b1c8b2a10"`), with(), true},
		{"ignores_authority_stored_version_timestamp", with("authority", `{"mbox":"mailto:x@example.com"}`, "stored", `"2013-05-18T05:32:34Z"`, "version", `"1.0.0"`, "timestamp", `"2013-05-18T05:32:34Z"`), with(), true},
		{"ignores_verb_display", with("verb", `{"id":"http://adlnet.gov/expapi/verbs/attempted","display":{"en-US":"attempted"}}`), with(), true},
		{"ignores_activity_definition", with("object", `{"id":"http://example.com/activities/1","definition":{"name":{"en":"A"}}}`), with(), true},
		{"ignores_objectType_Activity", with("object", `{"objectType":"Activity","id":"http://example.com/activities/1"}`), with(), true},
		{"ignores_context_activity_definitions", with("context", `{"contextActivities":{"parent":[{"id":"http://example.com/p","definition":{"name":{"en":"P"}}}]}}`), with("context", `{"contextActivities":{"parent":{"id":"http://example.com/p"}}}`), true},
		{"ignores_member_order", with("actor", grp), with("actor", grp2), true},
		{"ignores_attachments", with("attachments", att), with(), true},
		{"ignores_mbox_domain_case", with("actor", `{"mbox":"mailto:learner@EXAMPLE.com"}`), with(), true},
		{"ignores_sha1_case", with("actor", `{"mbox_sha1sum":"EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"}`), with("actor", `{"mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}`), true},
		{"ignores_uuid_case", with("context", `{"registration":"EC531277-B57B-4C15-8D91-D292C5B2B8F7"}`), with("context", `{"registration":"ec531277-b57b-4c15-8d91-d292c5b2b8f7"}`), true},
		{"number_text_by_value", with("result", `{"score":{"raw":1.0}}`), with("result", `{"score":{"raw":1}}`), true},
		{"duration_to_hundredths_truncated", with("result", `{"duration":"PT1.239S"}`), with("result", `{"duration":"PT1.23S"}`), true},
		{"duration_differs_at_hundredths", with("result", `{"duration":"PT1.24S"}`), with("result", `{"duration":"PT1.23S"}`), false},
		{"substatement_timezone_ignored", with("object", sub), with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},"timestamp":"2013-05-18T06:32:34+01:00"}`), true},
		{"substatement_timestamp_differs", with("object", sub), with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},"timestamp":"2013-05-18T06:32:34Z"}`), false},
		{"mbox_local_part_case_differs", with("actor", `{"mbox":"mailto:Learner@example.com"}`), with(), false},
		{"actor_name_differs", with("actor", `{"mbox":"mailto:learner@example.com","name":"A"}`), with(), false},
		{"verb_differs", with("verb", `{"id":"http://example.com/other"}`), with(), false},
		{"object_differs", with("object", `{"id":"http://example.com/other"}`), with(), false},
		{"result_differs", with("result", `{"success":true}`), with("result", `{"success":false}`), false},
		{"result_missing", with("result", `{"success":true}`), with(), false},
		{"context_activity_order_differs", with("context", `{"contextActivities":{"other":[{"id":"http://example.com/1"},{"id":"http://example.com/2"}]}}`), with("context", `{"contextActivities":{"other":[{"id":"http://example.com/2"},{"id":"http://example.com/1"}]}}`), false},
		{"extension_value_differs", with("result", `{"extensions":{"http://example.com/e":"a"}}`), with("result", `{"extensions":{"http://example.com/e":"b"}}`), false},
		{"iri_case_differs", with("verb", `{"id":"http://Example.com/v"}`), with("verb", `{"id":"http://example.com/v"}`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mustParse(t, tc.a, xapi.V103)
			b := mustParse(t, tc.b, xapi.V103)
			if got := a.Equal(b); got != tc.want {
				t.Errorf("Equal(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := b.Equal(a); got != tc.want {
				t.Errorf("Equal(%s, %s) = %v, want %v", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestEqualAfterPrepare(t *testing.T) {
	a := mustParse(t, with(), xapi.V200)
	b := mustParse(t, with("timestamp", `"2013-05-18T05:32:34-05:00"`), xapi.V200)
	a.Prepare(xapi.Prepare{Authority: xapi.Agent{Mbox: "mailto:lrs@example.com"}, Version: xapi.V200})
	a.SetStored(b.Timestamp())
	if !a.Equal(b) {
		t.Errorf("Equal(prepared, received) = false, want true")
	}
}
