package xapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"custodia/xapi"
)

// base is the smallest valid statement; with replaces its top-level members.
var base = map[string]string{
	"actor":  `{"mbox":"mailto:learner@example.com"}`,
	"verb":   `{"id":"http://adlnet.gov/expapi/verbs/attempted"}`,
	"object": `{"id":"http://example.com/activities/1"}`,
}

// with builds a statement from base with the given top-level members
// replaced (a value of "" removes the member).
func with(kv ...string) string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	var b strings.Builder
	b.WriteString("{")
	first := true
	for _, k := range []string{"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments"} {
		if v, ok := m[k]; ok {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + k + `":` + v)
			delete(m, k)
		}
	}
	for k, v := range m { // anything else, e.g. unknown keys
		b.WriteString(`,"` + k + `":` + v)
	}
	b.WriteString("}")
	return b.String()
}

// vcase is one validation case: the body and whether each version accepts it.
type vcase struct {
	name       string
	body       string
	v103, v200 bool
}

func both(name, body string, ok bool) vcase { return vcase{name, body, ok, ok} }

func runCases(t *testing.T, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.body)) && (tc.v103 || tc.v200) {
				t.Fatalf("test body is not JSON: %s", tc.body)
			}
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				want := tc.v103
				if v == xapi.V200 {
					want = tc.v200
				}
				_, err := xapi.ParseStatement([]byte(tc.body), v)
				switch {
				case want && err != nil:
					t.Errorf("ParseStatement(%s, %s) = %v, want nil", tc.body, v, err)
				case !want && err == nil:
					t.Errorf("ParseStatement(%s, %s) = nil, want an Invalid error", tc.body, v)
				case !want && xapi.ErrorKind(err) != xapi.Invalid:
					t.Errorf("ParseStatement(%s, %s) kind = %v, want invalid", tc.body, v, xapi.ErrorKind(err))
				}
			}
		})
	}
}

func TestGeneral(t *testing.T) {
	runCases(t, []vcase{
		both("minimal_accepted", with(), true),
		both("XAPI-00001_null_rejected", with("result", `{"success":null}`), false),
		both("XAPI-00001_null_in_extension_accepted", with("result", `{"extensions":{"http://example.com/x":null}}`), true),
		both("XAPI-00001_null_top_level_rejected", with("timestamp", `null`), false),
		both("XAPI-00006_string_for_boolean_rejected", with("result", `{"success":"true"}`), false),
		both("XAPI-00006_string_for_number_rejected", with("result", `{"score":{"raw":"1"}}`), false),
		both("XAPI-00006_number_accepted", with("result", `{"score":{"raw":1}}`), true),
		both("XAPI-00008_miscased_key_rejected", with("Actor", base["actor"], "actor", ""), false),
		both("XAPI-00008_miscased_nested_key_rejected", with("verb", `{"ID":"http://example.com/v"}`), false),
		both("XAPI-00009_miscased_enum_rejected", with("actor", `{"objectType":"agent","mbox":"mailto:a@example.com"}`), false),
		both("XAPI-00010_unknown_top_level_key_rejected", with("foo", `1`), false),
		both("XAPI-00010_unknown_nested_key_rejected", with("result", `{"passed":true}`), false),
		both("XAPI-00010_empty_key_rejected", with("result", `{"":true}`), false),
		both("XAPI-00118_empty_extension_key_rejected", with("result", `{"extensions":{"":1}}`), false),
		both("XAPI-00003_actor_missing_rejected", with("actor", ""), false),
		both("XAPI-00004_verb_missing_rejected", with("verb", ""), false),
		both("XAPI-00005_object_missing_rejected", with("object", ""), false),
		both("XAPI-00015_invalid_utf8_rejected", "{\"actor\":{\"mbox\":\"mailto:a@example.com\",\"name\":\"\xff\"},\"verb\":"+base["verb"]+",\"object\":"+base["object"]+"}", false),
		both("trailing_data_rejected", with()+" {}", false),
		both("trailing_whitespace_accepted", with()+" \n\t", true),
		both("not_an_object_rejected", `[]`, false),
		both("not_json_rejected", `{"actor":`, false),
		both("deep_nesting_rejected", with("result", `{"extensions":{"http://example.com/x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}}`), false),
		both("moderate_nesting_in_extension_accepted", with("result", `{"extensions":{"http://example.com/x":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)+`}}`), true),
		both("XAPI-00027_id_uuid_accepted", with("id", `"3e4f8f0c-4c3b-4d7a-9e7a-3b7b1c8b2a10"`), true),
		both("XAPI-00027_id_uppercase_uuid_accepted", with("id", `"3E4F8F0C-4C3B-4D7A-9E7A-3B7B1C8B2A10"`), true),
		both("XAPI-00028_id_not_uuid_rejected", with("id", `"3e4f8f0c4c3b4d7a9e7a3b7b1c8b2a10"`), false),
		both("XAPI-00029_id_number_rejected", with("id", `12`), false),
		both("XAPI-00030_id_empty_rejected", with("id", `""`), false),
		both("XAPI-00007_id_too_many_digits_rejected", with("id", `"3e4f8f0c-4c3b-4d7a-9e7a-3b7b1c8b2a100"`), false),
		both("XAPI-00007_id_non_hex_letter_rejected", with("id", `"3e4f8f0c-4c3b-4d7a-9e7a-3b7b1c8b2a1g"`), false),
		both("XAPI-00007_id_object_rejected", with("id", `{}`), false),
		both("XAPI-00007_mbox_empty_rejected", with("actor", `{"mbox":""}`), false),
		both("XAPI-00007_account_homePage_empty_rejected", with("actor", `{"account":{"homePage":"","name":"42"}}`), false),
		both("XAPI-00007_verb_id_empty_rejected", with("verb", `{"id":""}`), false),
		both("XAPI-00007_activity_id_empty_rejected", with("object", `{"id":""}`), false),
		both("XAPI-00007_registration_empty_rejected", with("context", `{"registration":""}`), false),
		both("XAPI-00007_registration_not_uuid_rejected", with("context", `{"registration":"not-a-uuid"}`), false),
		both("XAPI-00007_timestamp_empty_rejected", with("timestamp", `""`), false),
		both("XAPI-00007_duration_empty_rejected", with("result", `{"duration":""}`), false),
	})
}

func TestBodyTooLarge(t *testing.T) {
	body := make([]byte, xapi.MaxBodyBytes+1)
	_, err := xapi.ParseStatement(body, xapi.V103)
	if got := xapi.ErrorKind(err); got != xapi.TooLarge {
		t.Errorf("ParseStatement(%d bytes) kind = %v, want %v", len(body), got, xapi.TooLarge)
	}
}

func TestActor(t *testing.T) {
	runCases(t, []vcase{
		both("XAPI-00031_objectType_Agent_accepted", with("actor", `{"objectType":"Agent","mbox":"mailto:a@example.com"}`), true),
		both("XAPI-00032_objectType_Person_rejected", with("actor", `{"objectType":"Person","mbox":"mailto:a@example.com"}`), false),
		both("XAPI-00033_name_string_accepted", with("actor", `{"name":"Pat","mbox":"mailto:a@example.com"}`), true),
		both("XAPI-00033_name_number_rejected", with("actor", `{"name":7,"mbox":"mailto:a@example.com"}`), false),
		both("XAPI-00034_no_IFI_rejected", with("actor", `{"name":"Pat"}`), false),
		both("XAPI-00034_two_IFIs_rejected", with("actor", `{"mbox":"mailto:a@example.com","openid":"http://openid.example.com/a"}`), false),
		both("XAPI-00034_mbox_sha1sum_accepted", with("actor", `{"mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}`), true),
		both("XAPI-00039_mbox_sha1sum_short_rejected", with("actor", `{"mbox_sha1sum":"ebd31e95054c018b"}`), false),
		both("XAPI-00039_mbox_sha1sum_not_hex_rejected", with("actor", `{"mbox_sha1sum":"zbd31e95054c018b10727ccffd2ef2ec3a016ee9"}`), false),
		both("XAPI-00038_mbox_without_mailto_rejected", with("actor", `{"mbox":"a@example.com"}`), false),
		both("XAPI-00038_mbox_without_address_rejected", with("actor", `{"mbox":"mailto:"}`), false),
		both("XAPI-00038_mbox_MAILTO_rejected", with("actor", `{"mbox":"MAILTO:a@example.com"}`), false),
		both("XAPI-00040_openid_accepted", with("actor", `{"openid":"http://openid.example.com/342"}`), true),
		both("XAPI-00040_openid_no_scheme_rejected", with("actor", `{"openid":"openid.example.com/342"}`), false),
		both("XAPI-00041_account_accepted", with("actor", `{"account":{"homePage":"http://example.com","name":"42"}}`), true),
		both("XAPI-00042_account_homePage_missing_rejected", with("actor", `{"account":{"name":"42"}}`), false),
		both("XAPI-00042_account_homePage_not_IRL_rejected", with("actor", `{"account":{"homePage":"example.com","name":"42"}}`), false),
		both("XAPI-00043_account_name_missing_rejected", with("actor", `{"account":{"homePage":"http://example.com"}}`), false),
		both("XAPI-00043_account_name_number_rejected", with("actor", `{"account":{"homePage":"http://example.com","name":42}}`), false),
		both("XAPI-00043_account_unknown_key_rejected", with("actor", `{"account":{"homePage":"http://example.com","name":"42","id":1}}`), false),
		both("XAPI-00035_anonymous_group_accepted", with("actor", `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"},{"account":{"homePage":"http://example.com","name":"b"}}]}`), true),
		both("XAPI-00035_anonymous_group_without_member_rejected", with("actor", `{"objectType":"Group","name":"G"}`), false),
		both("XAPI-00035_anonymous_group_empty_member_rejected", with("actor", `{"objectType":"Group","member":[]}`), false),
		both("XAPI-00036_group_in_group_rejected", with("actor", `{"objectType":"Group","member":[{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}]}`), false),
		both("XAPI-00036_member_without_IFI_rejected", with("actor", `{"objectType":"Group","member":[{"name":"x"}]}`), false),
		both("identified_group_without_members_accepted", with("actor", `{"objectType":"Group","mbox":"mailto:team@example.com"}`), true),
		both("identified_group_two_IFIs_rejected", with("actor", `{"objectType":"Group","mbox":"mailto:team@example.com","openid":"http://example.com/g"}`), false),
		both("agent_with_member_rejected", with("actor", `{"mbox":"mailto:a@example.com","member":[]}`), false),
		both("member_not_array_rejected", with("actor", `{"objectType":"Group","member":{"mbox":"mailto:a@example.com"}}`), false),
		both("actor_not_object_rejected", with("actor", `"mailto:a@example.com"`), false),
	})
}

func TestVerb(t *testing.T) {
	runCases(t, []vcase{
		both("XAPI-00044_id_accepted", with("verb", `{"id":"http://example.com/v","display":{"en-US":"did"}}`), true),
		both("XAPI-00044_id_missing_rejected", with("verb", `{"display":{"en-US":"did"}}`), false),
		both("XAPI-00044_id_not_IRI_rejected", with("verb", `{"id":"did"}`), false),
		both("XAPI-00044_id_bad_scheme_rejected", with("verb", `{"id":"ab=c://should.fail.com"}`), false),
		both("XAPI-00045_display_string_rejected", with("verb", `{"id":"http://example.com/v","display":"did"}`), false),
		both("XAPI-00045_display_value_number_rejected", with("verb", `{"id":"http://example.com/v","display":{"en-US":1}}`), false),
		both("XAPI-00013_display_bad_language_tag_rejected", with("verb", `{"id":"http://example.com/v","display":{"en_US":"did"}}`), false),
	})
}

func TestLanguageMap(t *testing.T) {
	obj := func(tag string) string {
		return with("object", `{"id":"http://example.com/a","definition":{"name":{`+tag+`:"x"}}}`)
	}
	runCases(t, []vcase{
		both("XAPI-00121_en_accepted", obj(`"en"`), true),
		both("XAPI-00121_zh-Hans-CN_accepted", obj(`"zh-Hans-CN"`), true),
		both("XAPI-00121_es-419_accepted", obj(`"es-419"`), true),
		both("XAPI-00121_de-CH-1996_accepted", obj(`"de-CH-1996"`), true),
		both("XAPI-00121_und_accepted", obj(`"und"`), true),
		both("XAPI-00121_private_use_accepted", obj(`"x-klingon"`), true),
		both("XAPI-00121_extension_accepted", obj(`"en-US-u-ca-gregory"`), true),
		both("XAPI-00013_empty_tag_rejected", obj(`""`), false),
		both("XAPI-00013_subtag_too_long_rejected", obj(`"englishlanguage"`), false),
		both("XAPI-00013_underscore_rejected", obj(`"en_US"`), false),
		both("XAPI-00013_trailing_hyphen_rejected", obj(`"en-"`), false),
		both("XAPI-00013_single_letter_rejected", obj(`"e"`), false),
		both("XAPI-00121_value_null_rejected", with("object", `{"id":"http://example.com/a","definition":{"name":{"en":null}}}`), false),
	})
}

func TestObject(t *testing.T) {
	runCases(t, []vcase{
		both("XAPI-00046_objectType_Activity_accepted", with("object", `{"objectType":"Activity","id":"http://example.com/a"}`), true),
		both("XAPI-00046_objectType_miscased_rejected", with("object", `{"objectType":"activity","id":"http://example.com/a"}`), false),
		both("XAPI-00046_objectType_unknown_rejected", with("object", `{"objectType":"Statement","id":"http://example.com/a"}`), false),
		both("XAPI-00047_activity_id_missing_rejected", with("object", `{"objectType":"Activity"}`), false),
		both("XAPI-00047_activity_id_not_IRI_rejected", with("object", `{"id":"activity 1"}`), false),
		both("XAPI-00048_definition_string_rejected", with("object", `{"id":"http://example.com/a","definition":"x"}`), false),
		both("XAPI-00056_definition_name_accepted", with("object", `{"id":"http://example.com/a","definition":{"name":{"en-US":"A"},"description":{"en-US":"B"},"type":"http://adlnet.gov/expapi/activities/course","moreInfo":"http://example.com/more"}}`), true),
		both("XAPI-00059_definition_description_number_rejected", with("object", `{"id":"http://example.com/a","definition":{"description":12345}}`), false),
		both("XAPI-00060_definition_type_not_IRI_rejected", with("object", `{"id":"http://example.com/a","definition":{"type":"should error"}}`), false),
		both("XAPI-00061_definition_moreInfo_not_IRL_rejected", with("object", `{"id":"http://example.com/a","definition":{"moreInfo":"should error"}}`), false),
		both("XAPI-00057_definition_extensions_not_object_rejected", with("object", `{"id":"http://example.com/a","definition":{"extensions":"x"}}`), false),
		both("XAPI-00118_extension_key_not_IRI_rejected", with("object", `{"id":"http://example.com/a","definition":{"extensions":{"id":"valid"}}}`), false),
		both("XAPI-00119_extension_values_any_accepted", with("object", `{"id":"http://example.com/a","definition":{"extensions":{"http://example.com/a":null,"http://example.com/b":"","http://example.com/c":{},"http://example.com/d":[1,{"Any":null}]}}}`), true),
		both("extensions_on_activity_rejected", with("object", `{"id":"http://example.com/a","extensions":{}}`), false),
		both("XAPI-00065_agent_object_accepted", with("object", `{"objectType":"Agent","mbox":"mailto:b@example.com"}`), true),
		both("XAPI-00065_agent_object_without_objectType_rejected", with("object", `{"mbox":"mailto:b@example.com"}`), false),
		both("XAPI-00065_group_object_accepted", with("object", `{"objectType":"Group","member":[{"mbox":"mailto:b@example.com"}]}`), true),
		both("XAPI-00065_agent_object_no_IFI_rejected", with("object", `{"objectType":"Agent","name":"x"}`), false),
		both("XAPI-00072_statementref_accepted", with("object", `{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}`), true),
		both("XAPI-00073_statementref_id_missing_rejected", with("object", `{"objectType":"StatementRef"}`), false),
		both("XAPI-00073_statementref_id_not_uuid_rejected", with("object", `{"objectType":"StatementRef","id":"http://example.com/s"}`), false),
		both("statementref_extra_key_rejected", with("object", `{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0","definition":{}}`), false),
	})
}

func TestSubStatement(t *testing.T) {
	sub := func(extra string) string {
		return with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}`+extra+`}`)
	}
	runCases(t, []vcase{
		both("XAPI-00066_substatement_accepted", sub(``), true),
		both("XAPI-00066_substatement_invalid_actor_rejected", with("object", `{"objectType":"SubStatement","actor":{"name":"x"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), false),
		both("XAPI-00066_substatement_missing_verb_rejected", with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"object":{"id":"http://example.com/a"}}`), false),
		both("XAPI-00070_substatement_id_rejected", sub(`,"id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"`), false),
		both("XAPI-00069_substatement_stored_rejected", sub(`,"stored":"2013-05-18T05:32:34.804Z"`), false),
		both("XAPI-00068_substatement_version_rejected", sub(`,"version":"1.0.0"`), false),
		both("XAPI-00067_substatement_authority_rejected", sub(`,"authority":{"mbox":"mailto:c@example.com"}`), false),
		both("XAPI-00071_nested_substatement_rejected", with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}}`), false),
		both("substatement_future_timestamp_accepted", sub(`,"timestamp":"2999-01-01T00:00:00Z"`), true),
		both("substatement_result_context_accepted", sub(`,"result":{"success":true},"context":{"contextActivities":{"parent":{"id":"http://example.com/p"}}}`), true),
		both("substatement_statementref_object_accepted", with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}`), true),
		vcase{"substatement_contextAgents_by_version", sub(`,"context":{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"}}]}`), false, true},
	})
}

// fragments reads the spec fragments (Appendix C interactions and others).
func fragments(t *testing.T) []struct {
	Kind    string          `json:"kind"`
	Wrapped bool            `json:"wrapped_in_braces"`
	JSON    json.RawMessage `json:"json"`
} {
	t.Helper()
	var out []struct {
		Kind    string          `json:"kind"`
		Wrapped bool            `json:"wrapped_in_braces"`
		JSON    json.RawMessage `json:"json"`
	}
	b := readFile(t, corpusDir+"/fragments/xapi-spec-1.0.3.json")
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInteraction(t *testing.T) {
	// Every Appendix C interaction definition of the spec is accepted as an
	// Activity definition, and broken variants of it are rejected.
	n := 0
	for _, f := range fragments(t) {
		if !strings.HasPrefix(f.Kind, "cmi.interaction") {
			continue
		}
		n++
		var w struct {
			Definition map[string]any `json:"definition"`
		}
		if err := json.Unmarshal(f.JSON, &w); err != nil {
			t.Fatal(err)
		}
		it := w.Definition["interactionType"].(string)
		def, _ := json.Marshal(w.Definition)
		act := func(d []byte) string {
			return with("object", `{"id":"http://example.com/q","definition":`+string(d)+`}`)
		}
		cases := []vcase{both("XAPI-00049_"+it+"_accepted", act(def), true)}

		mut := func(name string, f func(d map[string]any)) {
			var d map[string]any
			_ = json.Unmarshal(def, &d)
			f(d)
			b, _ := json.Marshal(d)
			cases = append(cases, both(name, act(b), false))
		}
		mut("XAPI-00049_"+it+"_miscased_type_rejected", func(d map[string]any) { d["interactionType"] = strings.ToUpper(it) })
		mut("XAPI-00064_"+it+"_without_interactionType_rejected", func(d map[string]any) {
			delete(d, "interactionType")
			if d["correctResponsesPattern"] == nil {
				d["correctResponsesPattern"] = []any{"x"}
			}
		})
		mut("XAPI-00049_"+it+"_pattern_number_rejected", func(d map[string]any) { d["correctResponsesPattern"] = []any{1} })
		for _, k := range []string{"choices", "scale", "source", "target", "steps"} {
			comps, ok := w.Definition[k].([]any)
			if !ok {
				mut("XAPI-00049_"+it+"_foreign_"+k+"_rejected", func(d map[string]any) { d[k] = []any{map[string]any{"id": "a"}} })
				continue
			}
			mut("XAPI-00049_"+it+"_"+k+"_duplicate_id_rejected", func(d map[string]any) { d[k] = append(d[k].([]any), comps[0]) })
			mut("XAPI-00049_"+it+"_"+k+"_id_missing_rejected", func(d map[string]any) {
				d[k] = append(d[k].([]any), map[string]any{"description": map[string]any{"en-US": "x"}})
			})
			mut("XAPI-00049_"+it+"_"+k+"_description_string_rejected", func(d map[string]any) {
				d[k] = append(d[k].([]any), map[string]any{"id": "zz-new", "description": "x"})
			})
		}
		t.Run(it, func(t *testing.T) { runCases(t, cases) })
	}
	if n != 10 {
		t.Errorf("found %d interaction fragments, want 10", n)
	}
}

func TestResult(t *testing.T) {
	res := func(r string) string { return with("result", r) }
	runCases(t, []vcase{
		both("full_result_accepted", res(`{"score":{"scaled":0.95,"raw":95,"min":0,"max":100},"success":true,"completion":false,"response":"x","duration":"PT1H0M0S","extensions":{"http://example.com/e":1}}`), true),
		both("XAPI-00074_success_number_rejected", res(`{"success":1}`), false),
		both("XAPI-00075_completion_string_rejected", res(`{"completion":"false"}`), false),
		both("XAPI-00076_response_number_rejected", res(`{"response":1}`), false),
		both("XAPI-00078_extensions_array_rejected", res(`{"extensions":[]}`), false),
		both("XAPI-00078_extensions_number_rejected", res(`{"extensions":12}`), false),
		both("XAPI-00078_extensions_string_rejected", res(`{"extensions":"http://example.com/e"}`), false),
		both("XAPI-00078_substatement_result_extensions_string_rejected", with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},"result":{"extensions":"x"}}`), false),
		both("XAPI-00078_extensions_object_accepted", res(`{"extensions":{"http://example.com/e":{"k":[1]}}}`), true),
		both("XAPI-00079_score_not_object_rejected", res(`{"score":1}`), false),
		both("XAPI-00077_duration_number_rejected", res(`{"duration":1}`), false),
		both("XAPI-00077_duration_not_ISO_8601_rejected", res(`{"duration":"1 hour"}`), false),
		both("XAPI-00083_scaled_above_one_rejected", res(`{"score":{"scaled":1.01}}`), false),
		both("XAPI-00083_scaled_below_minus_one_rejected", res(`{"score":{"scaled":-1.5}}`), false),
		both("XAPI-00083_scaled_minus_one_accepted", res(`{"score":{"scaled":-1}}`), true),
		both("XAPI-00083_scaled_exponent_accepted", res(`{"score":{"scaled":5e-1}}`), true),
		both("XAPI-00081_min_equals_max_rejected", res(`{"score":{"min":5,"max":5}}`), false),
		both("XAPI-00081_min_above_max_rejected", res(`{"score":{"min":6,"max":5}}`), false),
		both("XAPI-00082_raw_below_min_rejected", res(`{"score":{"raw":-1,"min":0}}`), false),
		both("XAPI-00082_raw_above_max_rejected", res(`{"score":{"raw":101,"max":100}}`), false),
		both("XAPI-00082_raw_equals_max_accepted", res(`{"score":{"raw":100,"min":0,"max":100}}`), true),
		both("score_unknown_key_rejected", res(`{"score":{"percent":1}}`), false),
		both("score_number_out_of_range_rejected", res(`{"score":{"raw":1e999}}`), false),
	})
}

func TestDuration(t *testing.T) {
	res := func(d string) string { return with("result", `{"duration":"`+d+`"}`) }
	accept := []string{"PT1H", "P1Y2M3DT4H5M6S", "PT0.5S", "PT1.123456S", "P4W", "P1D", "PT36H", "P0D", "PT1,5S", "P1DT12H"}
	reject := []string{"P", "PT", "1H", "PT1H30", "P1W2D", "P1DT", "PT-1S", "PT1.S", "PT.5S", "PT1.5H30M", "P0003-02-01T00:00:00", "PT1S1M", "pt1h", "P1Y1Y", ""}
	var cases []vcase
	for _, d := range accept {
		cases = append(cases, both("XAPI-00124_"+d+"_accepted", res(d), true))
	}
	for _, d := range reject {
		cases = append(cases, both("XAPI-00124_"+d+"_rejected", res(d), false))
	}
	runCases(t, cases)
}

func TestContext(t *testing.T) {
	ctx := func(c string) string { return with("context", c) }
	runCases(t, []vcase{
		both("XAPI-00087_registration_accepted", ctx(`{"registration":"ec531277-b57b-4c15-8d91-d292c5b2b8f7"}`), true),
		both("XAPI-00087_registration_not_uuid_rejected", ctx(`{"registration":"ec531277"}`), false),
		both("XAPI-00088_instructor_agent_accepted", ctx(`{"instructor":{"mbox":"mailto:i@example.com"}}`), true),
		both("XAPI-00088_instructor_group_accepted", ctx(`{"instructor":{"objectType":"Group","member":[{"mbox":"mailto:i@example.com"}]}}`), true),
		both("XAPI-00088_instructor_invalid_rejected", ctx(`{"instructor":{"name":"x"}}`), false),
		both("XAPI-00088_team_group_accepted", ctx(`{"team":{"objectType":"Group","mbox":"mailto:team@example.com"}}`), true),
		both("XAPI-00088_team_agent_rejected", ctx(`{"team":{"mbox":"mailto:team@example.com"}}`), false),
		both("XAPI-00089_revision_number_rejected", ctx(`{"revision":1}`), false),
		both("XAPI-00090_platform_accepted", ctx(`{"platform":"Example","revision":"1"}`), true),
		both("XAPI-00084_revision_with_agent_object_rejected", with("object", `{"objectType":"Agent","mbox":"mailto:b@example.com"}`, "context", `{"revision":"1"}`), false),
		both("XAPI-00085_platform_with_statementref_rejected", with("object", `{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}`, "context", `{"platform":"x"}`), false),
		both("XAPI-00091_language_accepted", ctx(`{"language":"en-GB"}`), true),
		both("XAPI-00091_language_bad_rejected", ctx(`{"language":"english language"}`), false),
		both("XAPI-00092_statement_ref_accepted", ctx(`{"statement":{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}`), true),
		both("XAPI-00092_statement_without_objectType_rejected", ctx(`{"statement":{"id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}`), false),
		both("XAPI-00086_contextActivities_all_keys_accepted", ctx(`{"contextActivities":{"parent":[{"id":"http://example.com/p"}],"grouping":{"id":"http://example.com/g"},"category":[],"other":[{"objectType":"Activity","id":"http://example.com/o"}]}}`), true),
		both("XAPI-00093_contextActivities_unknown_key_rejected", ctx(`{"contextActivities":{"sibling":[{"id":"http://example.com/p"}]}}`), false),
		both("XAPI-00093_contextActivities_miscased_key_rejected", ctx(`{"contextActivities":{"Parent":[{"id":"http://example.com/p"}]}}`), false),
		both("XAPI-00094_contextActivities_value_string_rejected", ctx(`{"contextActivities":{"parent":"http://example.com/p"}}`), false),
		both("XAPI-00094_contextActivities_activity_no_id_rejected", ctx(`{"contextActivities":{"parent":[{"definition":{}}]}}`), false),
		both("context_extensions_accepted", ctx(`{"extensions":{"http://example.com/e":{"k":[1,2]}}}`), true),
		both("context_extension_key_directly_rejected", ctx(`{"http://example.com/e":1}`), false),
	})
}

func TestContextAgents(t *testing.T) {
	ctx := func(c string) string { return with("context", c) }
	ca := func(entry string) string { return ctx(`{"contextAgents":[` + entry + `]}`) }
	cg := func(entry string) string { return ctx(`{"contextGroups":[` + entry + `]}`) }
	runCases(t, []vcase{
		{"contextAgents_accepted_in_2.0_rejected_in_1.0.3", ca(`{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"},"relevantTypes":["http://example.com/types/mentor"]}`), false, true},
		{"contextAgents_without_relevantTypes_accepted_in_2.0", ca(`{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"}}`), false, true},
		both("contextAgents_wrong_objectType_rejected", ca(`{"objectType":"ContextAgent","agent":{"mbox":"mailto:c@example.com"}}`), false),
		both("contextAgents_objectType_missing_rejected", ca(`{"agent":{"mbox":"mailto:c@example.com"}}`), false),
		both("contextAgents_agent_invalid_rejected", ca(`{"objectType":"contextAgent","agent":{"name":"x"}}`), false),
		both("contextAgents_agent_group_rejected", ca(`{"objectType":"contextAgent","agent":{"objectType":"Group","mbox":"mailto:g@example.com"}}`), false),
		both("contextAgents_relevantTypes_empty_rejected", ca(`{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"},"relevantTypes":[]}`), false),
		both("contextAgents_relevantTypes_not_IRI_rejected", ca(`{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"},"relevantTypes":["mentor"]}`), false),
		both("contextAgents_not_array_rejected", ctx(`{"contextAgents":{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"}}}`), false),
		{"contextGroups_accepted_in_2.0_rejected_in_1.0.3", cg(`{"objectType":"contextGroup","group":{"objectType":"Group","member":[{"mbox":"mailto:c@example.com"}]},"relevantTypes":["http://example.com/types/class"]}`), false, true},
		both("contextGroups_wrong_objectType_rejected", cg(`{"objectType":"contextAgent","group":{"objectType":"Group","mbox":"mailto:g@example.com"}}`), false),
		both("contextGroups_group_is_agent_rejected", cg(`{"objectType":"contextGroup","group":{"mbox":"mailto:g@example.com"}}`), false),
		both("contextGroups_group_in_group_rejected", cg(`{"objectType":"contextGroup","group":{"objectType":"Group","member":[{"objectType":"Group","mbox":"mailto:g@example.com"}]}}`), false),
	})
}

func TestTimestamp(t *testing.T) {
	ts := func(s string) string { return with("timestamp", `"`+s+`"`) }
	runCases(t, []vcase{
		both("XAPI-00022_utc_accepted", ts("2013-05-18T05:32:34.804Z"), true),
		both("XAPI-00022_no_fraction_accepted", ts("2013-05-18T05:32:34Z"), true),
		both("XAPI-00022_offset_accepted", ts("2013-05-18T05:32:34.804-05:00"), true),
		both("XAPI-00022_plus_zero_offset_accepted", ts("2013-05-18T05:32:34+00:00"), true),
		both("XAPI-00022_basic_offset_accepted", ts("2013-05-18T05:32:34+0530"), true),
		both("XAPI-00022_hour_offset_accepted", ts("2013-05-18T05:32:34+01"), true),
		both("XAPI-00022_microseconds_accepted", ts("2013-05-18T05:32:34.123456Z"), true),
		both("XAPI-00022_leap_second_accepted", ts("2016-12-31T23:59:60Z"), true),
		both("XAPI-00022_future_accepted", ts("2999-01-01T00:00:00Z"), true),
		{"XAPI-00022_no_zone_accepted_in_1.0.3_only", ts("2013-05-18T05:32:34.804"), true, false},
		both("XAPI-00022_minus_00_rejected", ts("2013-05-18T05:32:34-00"), false),
		both("XAPI-00022_minus_0000_rejected", ts("2013-05-18T05:32:34-0000"), false),
		both("XAPI-00022_minus_00:00_rejected", ts("2013-05-18T05:32:34-00:00"), false),
		both("XAPI-00022_date_only_rejected", ts("2013-05-18"), false),
		both("XAPI-00022_bad_month_rejected", ts("2013-13-18T05:32:34Z"), false),
		both("XAPI-00022_feb_30_rejected", ts("2013-02-30T05:32:34Z"), false),
		both("XAPI-00022_feb_29_leap_year_accepted", ts("2012-02-29T05:32:34Z"), true),
		both("XAPI-00022_hour_24_rejected", ts("2013-05-18T24:00:00Z"), false),
		both("XAPI-00022_second_61_rejected", ts("2013-05-18T05:32:61Z"), false),
		both("XAPI-00022_placeholder_rejected", ts("**TIMESTAMP**"), false),
		both("XAPI-00022_empty_fraction_rejected", ts("2013-05-18T05:32:34.Z"), false),
		both("XAPI-00022_bad_offset_rejected", ts("2013-05-18T05:32:34+25:00"), false),
		both("XAPI-00022_number_rejected", with("timestamp", `1368855154`), false),
		both("XAPI-00023_stored_accepted", with("stored", `"2013-05-18T05:32:34.804Z"`), true),
		both("XAPI-00023_stored_bad_rejected", with("stored", `"yesterday"`), false),
		{"year_0_offset_out_of_range_in_UTC_rejected_in_2.0", ts("0000-01-01T00:00:00+01:00"), true, false},
	})
}

func TestAuthority(t *testing.T) {
	runCases(t, []vcase{
		both("XAPI-00024_agent_accepted", with("authority", `{"objectType":"Agent","mbox":"mailto:auth@example.com"}`), true),
		both("XAPI-00024_agent_without_IFI_rejected", with("authority", `{"objectType":"Agent","name":"x"}`), false),
		both("XAPI-00098_oauth_group_of_two_accepted", with("authority", `{"objectType":"Group","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}`), true),
		both("XAPI-00100_group_of_one_rejected", with("authority", `{"objectType":"Group","member":[{"mbox":"mailto:bob@example.com"}]}`), false),
		both("XAPI-00100_group_of_three_rejected", with("authority", `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"},{"mbox":"mailto:b@example.com"},{"mbox":"mailto:c@example.com"}]}`), false),
		both("XAPI-00100_identified_group_of_two_rejected", with("authority", `{"objectType":"Group","mbox":"mailto:g@example.com","member":[{"mbox":"mailto:a@example.com"},{"mbox":"mailto:b@example.com"}]}`), false),
		both("XAPI-00017_voiding_with_activity_object_rejected", with("verb", `{"id":"http://adlnet.gov/expapi/verbs/voided"}`), false),
		both("XAPI-00100_identified_group_without_members_rejected", with("authority", `{"objectType":"Group","mbox":"mailto:g@example.com"}`), false),
	})
}

// TestVoidingStatement covers the form of a voiding statement (xAPI Data
// §2.3.2); what voiding does to the voided statement is the store's
// (store.TestVoiding) and the whole server's (cmd/custodia TestVoidingEndToEnd).
// The suite words XAPI-00019 as a verb IRI "ending with voided"; the spec
// reserves exactly xapi.VerbVoided, and only that verb voids here.
func TestVoidingStatement(t *testing.T) {
	const voided = `{"id":"` + xapi.VerbVoided + `"}`
	runCases(t, []vcase{
		both("XAPI-00019_voiding_statement_accepted", with("verb", voided, "object", `{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}`), true),
		both("XAPI-00019_voiding_statement_with_display_accepted", with("verb", `{"id":"`+xapi.VerbVoided+`","display":{"en-US":"voided"}}`, "object", `{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}`), true),
		both("XAPI-00020_voiding_object_activity_rejected", with("verb", voided, "object", `{"objectType":"Activity","id":"http://example.com/a"}`), false),
		both("XAPI-00020_voiding_object_without_objectType_rejected", with("verb", voided, "object", `{"id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}`), false),
		both("XAPI-00020_voiding_object_agent_rejected", with("verb", voided, "object", `{"objectType":"Agent","mbox":"mailto:b@example.com"}`), false),
		both("XAPI-00020_voiding_object_substatement_rejected", with("verb", voided, "object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), false),
	})
}

func TestStatementVersion(t *testing.T) {
	ver := func(s string) string { return with("version", `"`+s+`"`) }
	runCases(t, []vcase{
		both("XAPI-00101_1.0_accepted", ver("1.0"), true),
		both("XAPI-00101_1.0.0_accepted", ver("1.0.0"), true),
		both("XAPI-00101_1.0.9_accepted", ver("1.0.9"), true),
		{"XAPI-00101_2.0.0_accepted_in_2.0_only", ver("2.0.0"), false, true},
		{"XAPI-00101_2.0_accepted_in_2.0_only", ver("2.0"), false, true},
		{"XAPI-00101_semver_suffix_accepted_in_1.0.3_only", ver("1.0.3-rc1"), true, false},
		both("XAPI-00101_0.9.9_rejected", ver("0.9.9"), false),
		both("XAPI-00101_1.1.0_rejected", ver("1.1.0"), false),
		both("XAPI-00101_3.0.0_rejected", ver("3.0.0"), false),
		both("XAPI-00101_1.0._rejected", ver("1.0."), false),
		both("XAPI-00101_junk_rejected", ver("bad version"), false),
		both("XAPI-00101_number_rejected", with("version", `1.0`), false),
	})
}

func TestAttachments(t *testing.T) {
	att := func(a string) string { return with("attachments", `[`+a+`]`) }
	const good = `"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"Signature"},"contentType":"application/octet-stream","length":4235,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"`
	runCases(t, []vcase{
		both("attachment_accepted", att(`{`+good+`}`), true),
		both("attachment_with_optional_accepted", att(`{`+good+`,"description":{"en-US":"d"},"fileUrl":"http://example.com/f"}`), true),
		both("XAPI-00025_attachments_not_array_rejected", with("attachments", `{`+good+`}`), false),
		both("XAPI-00107_usageType_missing_rejected", att(`{"display":{"en-US":"S"},"contentType":"text/plain","length":1,"sha2":"ab"}`), false),
		both("XAPI-00107_usageType_not_IRI_rejected", att(`{"usageType":"signature","display":{"en-US":"S"},"contentType":"text/plain","length":1,"sha2":"ab"}`), false),
		both("XAPI-00106_display_missing_rejected", att(`{"usageType":"http://example.com/u","contentType":"text/plain","length":1,"sha2":"ab"}`), false),
		both("XAPI-00105_contentType_bad_rejected", att(`{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"plain","length":1,"sha2":"ab"}`), false),
		both("XAPI-00102_length_string_rejected", att(`{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain","length":"1","sha2":"ab"}`), false),
		both("XAPI-00102_length_fraction_rejected", att(`{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain","length":1.5,"sha2":"ab"}`), false),
		both("XAPI-00102_length_negative_rejected", att(`{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain","length":-1,"sha2":"ab"}`), false),
		both("XAPI-00103_sha2_missing_with_fileUrl_rejected", att(`{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain","length":1,"fileUrl":"http://example.com/f"}`), false),
		both("XAPI-00103_sha2_number_rejected", att(`{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain","length":1,"sha2":12}`), false),
		both("XAPI-00104_fileUrl_not_IRL_rejected", att(`{`+good+`,"fileUrl":"f"}`), false),
		both("XAPI-00106_display_string_rejected", att(`{"usageType":"http://example.com/u","display":"S","contentType":"text/plain","length":1,"sha2":"ab"}`), false),
		both("description_not_langmap_rejected", att(`{`+good+`,"description":"d"}`), false),
	})
}

func TestIRI(t *testing.T) {
	verb := func(id string) string { return with("verb", `{"id":`+id+`}`) }
	runCases(t, []vcase{
		both("XAPI-00011_http_accepted", verb(`"http://example.com/v"`), true),
		both("XAPI-00011_urn_accepted", verb(`"urn:uuid:8f87ccde-bb56-4c2e-ab83-44982ef22df0"`), true),
		both("XAPI-00011_unicode_accepted", verb(`"http://example.com/verbs/übte"`), true),
		both("XAPI-00011_no_scheme_rejected", verb(`"example.com/v"`), false),
		both("XAPI-00011_space_rejected", verb(`"http://example.com/a verb"`), false),
		both("XAPI-00011_angle_brackets_rejected", verb(`"http://<DOMAIN>/v"`), false),
		both("XAPI-00011_empty_rejected", verb(`""`), false),
		both("XAPI-00011_scheme_only_rejected", verb(`"http:"`), false),
		both("XAPI-00011_scheme_starting_with_digit_rejected", verb(`"1http://example.com"`), false),
	})
}

func TestErrorPaths(t *testing.T) {
	stmt := with("object", `{"id":"http://example.com/q","definition":{"interactionType":"Choice"}}`)
	body := `[` + with() + `,` + with() + `,` + stmt + `]`
	_, err := xapi.ParseStatements([]byte(body), xapi.V103)
	const want = "statements[2].object.definition.interactionType: must be one of"
	if got := xapi.ErrorMessage(err); !strings.HasPrefix(got, want) {
		t.Errorf("ParseStatements(bad third) message = %q, want prefix %q", got, want)
	}
	_, err = xapi.ParseStatement([]byte(with("actor", `{"mbox":"mailto:secret.person@example.com","name":1}`)), xapi.V103)
	if got := xapi.ErrorMessage(err); got != "actor.name: must be a string" || strings.Contains(err.Error(), "secret.person") {
		t.Errorf("ParseStatement(name number) message = %q, want %q without content", got, "actor.name: must be a string")
	}
	_, err = xapi.ParseStatement([]byte(with("Actor", base["actor"], "actor", "")), xapi.V103)
	if got := xapi.ErrorMessage(err); !strings.Contains(got, `"Actor"`) || !strings.Contains(got, "case-sensitive") {
		t.Errorf("ParseStatement(mis-cased key) message = %q, want the key named and case-sensitivity explained", got)
	}
}

func TestErrorMessageStable(t *testing.T) {
	body := with("result", `{"zeta":1,"alpha":2,"success":null,"Beta":3}`)
	const want = `result: unknown property "Beta"`
	for i := 0; i < 20; i++ {
		_, err := xapi.ParseStatement([]byte(body), xapi.V103)
		if got := xapi.ErrorMessage(err); got != want {
			t.Fatalf("ParseStatement(%s) message = %q, want %q", body, got, want)
		}
	}
}

func TestParseStatements(t *testing.T) {
	const id = `"3e4f8f0c-4c3b-4d7a-9e7a-3b7b1c8b2a10"`
	tests := []struct {
		name string
		body string
		n    int // statements parsed; -1 for an error
	}{
		{"single_object", with(), 1},
		{"array", `[` + with() + `,` + with() + `]`, 2},
		{"empty_array", `[]`, 0},
		{"array_with_non_object", `[` + with() + `,1]`, -1},
		{"XAPI-00326_one_bad_rejects_batch", `[` + with() + `,` + with("verb", "") + `]`, -1},
		{"duplicate_ids_rejected", `[` + with("id", id) + `,` + with("id", id) + `]`, -1},
		{"duplicate_ids_differing_in_case_rejected", `[` + with("id", id) + `,` + with("id", strings.ToUpper(id)) + `]`, -1},
		{"distinct_ids_accepted", `[` + with("id", id) + `,` + with("id", `"3e4f8f0c-4c3b-4d7a-9e7a-3b7b1c8b2a11"`) + `]`, 2},
		{"string_body", `"x"`, -1},
		{"trailing_data", `[]]`, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				got, err := xapi.ParseStatements([]byte(tc.body), v)
				n := len(got)
				if err != nil {
					n = -1
					if xapi.ErrorKind(err) != xapi.Invalid {
						t.Errorf("ParseStatements(%s, %s) kind = %v, want invalid", tc.body, v, xapi.ErrorKind(err))
					}
				}
				if n != tc.n {
					t.Errorf("ParseStatements(%s, %s) = %d statements (err %v), want %d", tc.body, v, n, err, tc.n)
				}
			}
		})
	}
}
