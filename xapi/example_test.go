package xapi_test

import (
	"fmt"

	"custodia/xapi"
)

func ExampleParseStatement() {
	body := []byte(`{
		"actor": {"mbox": "mailto:pat@example.com", "name": "Pat Example"},
		"verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
		"object": {"id": "http://example.com/courses/go-101"},
		"result": {"score": {"scaled": 0.90}, "duration": "PT1H30M"},
		"context": {"contextActivities": {"parent": {"id": "http://example.com/programmes/go"}}},
		"timestamp": "2024-05-01T09:30:00+02:00"
	}`)
	s, err := xapi.ParseStatement(body, xapi.V200)
	if err != nil {
		fmt.Println(err)
		return
	}
	f := s.Facts()
	fmt.Println(f.Subjects, f.Verb)
	fmt.Println(f.RelatedActivities)
	out, _ := s.MarshalJSON()
	fmt.Println(string(out))

	_, err = xapi.ParseStatement([]byte(`{"actor":{"mbox":"pat@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/courses/go-101"}}`), xapi.V103)
	fmt.Println(xapi.ErrorMessage(err))
	// Output:
	// [mbox:mailto:pat@example.com] http://adlnet.gov/expapi/verbs/completed
	// [http://example.com/courses/go-101 http://example.com/programmes/go]
	// {"actor":{"mbox":"mailto:pat@example.com","name":"Pat Example"},"context":{"contextActivities":{"parent":[{"id":"http://example.com/programmes/go"}]}},"object":{"id":"http://example.com/courses/go-101"},"result":{"duration":"PT1H30M","score":{"scaled":0.90}},"timestamp":"2024-05-01T07:30:00Z","verb":{"display":{"en-US":"completed"},"id":"http://adlnet.gov/expapi/verbs/completed"}}
	// actor.mbox: must be a mailto IRI (mailto:name@example.com)
}

func ExampleActivity_Merge() {
	parse := func(def string) xapi.Activity {
		s, err := xapi.ParseStatement([]byte(`{"actor":{"mbox":"mailto:pat@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},`+
			`"object":{"id":"http://example.com/meetings/1","definition":`+def+`}}`), xapi.V200)
		if err != nil {
			panic(err)
		}
		return s.Activities()[0]
	}
	canonical := xapi.Activity{ID: "http://example.com/meetings/1"} // nothing known yet
	canonical = canonical.Merge(parse(`{"name":{"en-US":"example meeting"},"type":"http://adlnet.gov/expapi/activities/meeting"}`))
	canonical = canonical.Merge(parse(`{"name":{"fr-FR":"réunion"}}`))
	out, _ := canonical.MarshalJSON()
	fmt.Println(string(out))
	// Output:
	// {"definition":{"name":{"en-US":"example meeting","fr-FR":"réunion"},"type":"http://adlnet.gov/expapi/activities/meeting"},"id":"http://example.com/meetings/1","objectType":"Activity"}
}
