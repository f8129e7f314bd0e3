package xapi_test

import (
	"reflect"
	"testing"

	"custodia/xapi"
)

func TestFacts(t *testing.T) {
	full := with(
		"actor", `{"objectType":"Group","mbox":"mailto:team@example.com","member":[{"mbox":"mailto:A@Example.com"},{"openid":"http://openid.example.com/b"}]}`,
		"verb", `{"id":"http://example.com/v"}`,
		"object", `{"objectType":"SubStatement","actor":{"mbox_sha1sum":"EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},"verb":{"id":"http://example.com/sv"},"object":{"id":"http://example.com/sub-object"},"context":{"instructor":{"mbox":"mailto:sub-instructor@example.com"},"contextActivities":{"parent":{"id":"http://example.com/sub-parent"}}}}`,
		"context", `{"registration":"EC531277-B57B-4C15-8D91-D292C5B2B8F7","instructor":{"account":{"homePage":"http://example.com","name":"teacher"}},"team":{"objectType":"Group","member":[{"mbox":"mailto:t1@example.com"}]},"contextActivities":{"parent":[{"id":"http://example.com/p"}],"grouping":[{"id":"http://example.com/g"}],"category":[{"id":"http://example.com/c"}],"other":[{"id":"http://example.com/o"}]}}`,
		"authority", `{"mbox":"mailto:auth@example.com"}`,
	)
	ctx2 := with(
		"object", `{"objectType":"Agent","mbox":"mailto:object@example.com"}`,
		"context", `{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:ca@example.com"}}],"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","mbox":"mailto:cg@example.com","member":[{"mbox":"mailto:cgm@example.com"}]}}]}`,
	)
	tests := []struct {
		name string
		body string
		v    xapi.Version
		want xapi.Facts
	}{
		{"activity_object", with(), xapi.V103, xapi.Facts{
			Verb:              "http://adlnet.gov/expapi/verbs/attempted",
			Agents:            []string{"mbox:mailto:learner@example.com"},
			RelatedAgents:     []string{"mbox:mailto:learner@example.com"},
			Activities:        []string{"http://example.com/activities/1"},
			RelatedActivities: []string{"http://example.com/activities/1"},
			Subjects:          []string{"mbox:mailto:learner@example.com"},
		}},
		{"group_actor_substatement_context", full, xapi.V103, xapi.Facts{
			Verb:         "http://example.com/v",
			Registration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
			Agents:       []string{"mbox:mailto:A@example.com", "mbox:mailto:team@example.com", "openid:http://openid.example.com/b"},
			RelatedAgents: []string{
				"account:http://example.com teacher",
				"mbox:mailto:A@example.com",
				"mbox:mailto:auth@example.com",
				"mbox:mailto:sub-instructor@example.com",
				"mbox:mailto:t1@example.com",
				"mbox:mailto:team@example.com",
				"mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
				"openid:http://openid.example.com/b",
			},
			RelatedActivities: []string{
				"http://example.com/c", "http://example.com/g", "http://example.com/o", "http://example.com/p",
				"http://example.com/sub-object", "http://example.com/sub-parent",
			},
			Subjects: []string{"mbox:mailto:A@example.com", "mbox:mailto:team@example.com", "openid:http://openid.example.com/b"},
		}},
		{"agent_object_context_agents_2.0", ctx2, xapi.V200, xapi.Facts{
			Verb:   "http://adlnet.gov/expapi/verbs/attempted",
			Agents: []string{"mbox:mailto:learner@example.com", "mbox:mailto:object@example.com"},
			RelatedAgents: []string{
				"mbox:mailto:ca@example.com", "mbox:mailto:cg@example.com", "mbox:mailto:cgm@example.com",
				"mbox:mailto:learner@example.com", "mbox:mailto:object@example.com",
			},
			Subjects: []string{"mbox:mailto:learner@example.com"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, tc.body, tc.v).Facts()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Facts() = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct{ body, want string }{
		{with(), "mbox:mailto:learner@example.com"},
		{with("actor", `{"objectType":"Group","member":[{"mbox":"mailto:z@example.com"},{"mbox":"mailto:b@example.com"}]}`), "mbox:mailto:b@example.com"},
		{with("actor", `{"objectType":"Group","account":{"homePage":"http://example.com","name":"g"},"member":[{"mbox":"mailto:b@example.com"}]}`), "account:http://example.com g"},
	}
	for _, tc := range tests {
		if got := mustParse(t, tc.body, xapi.V103).Subject(); got != tc.want {
			t.Errorf("Subject(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestAgentIFI(t *testing.T) {
	tests := []struct {
		a    xapi.Agent
		want string
	}{
		{xapi.Agent{Mbox: "mailto:Pat.Example@Example.COM"}, "mbox:mailto:Pat.Example@example.com"},
		{xapi.Agent{MboxSHA1Sum: "ABCDEF0123456789ABCDEF0123456789ABCDEF01"}, "mbox_sha1sum:abcdef0123456789abcdef0123456789abcdef01"},
		{xapi.Agent{OpenID: "http://openid.example.com/A"}, "openid:http://openid.example.com/A"},
		{xapi.Agent{Account: &xapi.Account{HomePage: "http://example.com", Name: "N"}}, "account:http://example.com N"},
		{xapi.Agent{ObjectType: "Group", Member: []xapi.Agent{{Mbox: "mailto:a@example.com"}}}, ""},
	}
	for _, tc := range tests {
		if got := tc.a.IFI(); got != tc.want {
			t.Errorf("%+v.IFI() = %q, want %q", tc.a, got, tc.want)
		}
	}
}

func TestVoidTarget(t *testing.T) {
	const ref = `{"objectType":"StatementRef","id":"8F87CCDE-BB56-4C2E-AB83-44982EF22DF0"}`
	tests := []struct {
		name       string
		body       string
		void, ref  string
		isV, isRef bool
	}{
		{"XAPI-00019_voiding", with("verb", `{"id":"`+xapi.VerbVoided+`"}`, "object", ref), "8f87ccde-bb56-4c2e-ab83-44982ef22df0", "8f87ccde-bb56-4c2e-ab83-44982ef22df0", true, true},
		{"ref_not_voiding", with("object", ref), "", "8f87ccde-bb56-4c2e-ab83-44982ef22df0", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.body, xapi.V103)
			if got, ok := s.VoidTarget(); got != tc.void || ok != tc.isV {
				t.Errorf("VoidTarget() = %q, %v, want %q, %v", got, ok, tc.void, tc.isV)
			}
			if got, ok := s.RefTarget(); got != tc.ref || ok != tc.isRef {
				t.Errorf("RefTarget() = %q, %v, want %q, %v", got, ok, tc.ref, tc.isRef)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	s := mustParse(t, with(
		"actor", `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`,
		"attachments", `[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"S"},"contentType":"application/octet-stream","length":4235,"sha2":"672fa5fa","fileUrl":"http://example.com/f"}]`,
	), xapi.V103)
	if got, want := s.Verb(), "http://adlnet.gov/expapi/verbs/attempted"; got != want {
		t.Errorf("Verb() = %q, want %q", got, want)
	}
	if !s.Actor().IsGroup() {
		t.Errorf("Actor().IsGroup() = false, want true")
	}
	want := []xapi.Attachment{{UsageType: "http://adlnet.gov/expapi/attachments/signature", ContentType: "application/octet-stream", Length: 4235, SHA2: "672fa5fa", FileURL: "http://example.com/f"}}
	if got := s.Attachments(); !reflect.DeepEqual(got, want) {
		t.Errorf("Attachments() = %+v, want %+v", got, want)
	}
	if _, ok := s.Authority(); ok {
		t.Errorf("Authority() ok = true before Prepare, want false")
	}
	if got := s.Stored(); !got.IsZero() {
		t.Errorf("Stored() = %v before SetStored, want zero", got)
	}
}
