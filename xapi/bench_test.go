package xapi_test

import (
	"testing"

	"custodia/xapi"
)

// benchStatement is a typical statement of about 1 KB: an account actor, a
// verb with display, an Activity with a definition, a result with score and
// duration, and a context with registration, contextActivities and extensions.
const benchStatement = `{
  "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
  "actor": {"objectType": "Agent", "name": "Lee Example", "account": {"homePage": "https://lms.example.com", "name": "learner-1234"}},
  "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered", "fr-FR": "a répondu"}},
  "object": {
    "objectType": "Activity",
    "id": "https://lms.example.com/courses/go-101/quiz/q1",
    "definition": {
      "name": {"en-US": "Question 1"},
      "description": {"en-US": "Which keyword declares a constant?"},
      "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
      "interactionType": "choice",
      "correctResponsesPattern": ["const"],
      "choices": [
        {"id": "var", "description": {"en-US": "var"}},
        {"id": "const", "description": {"en-US": "const"}},
        {"id": "let", "description": {"en-US": "let"}}
      ]
    }
  },
  "result": {"score": {"scaled": 1, "raw": 10, "min": 0, "max": 10}, "success": true, "completion": true, "response": "const", "duration": "PT12.5S"},
  "context": {
    "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
    "contextActivities": {
      "parent": [{"id": "https://lms.example.com/courses/go-101/quiz"}],
      "grouping": [{"id": "https://lms.example.com/courses/go-101"}],
      "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}]
    },
    "language": "en-US",
    "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "458240298378231"}
  },
  "timestamp": "2024-05-01T09:30:00.123+02:00"
}`

func BenchmarkParseStatement(b *testing.B) {
	body := []byte(benchStatement)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := xapi.ParseStatement(body, xapi.V200); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalJSON(b *testing.B) {
	s, err := xapi.ParseStatement([]byte(benchStatement), xapi.V200)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEqual(b *testing.B) {
	s, _ := xapi.ParseStatement([]byte(benchStatement), xapi.V200)
	o, _ := xapi.ParseStatement([]byte(benchStatement), xapi.V200)
	b.ReportAllocs()
	for b.Loop() {
		if !s.Equal(o) {
			b.Fatal("not equal")
		}
	}
}
