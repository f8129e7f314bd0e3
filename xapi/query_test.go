package xapi_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"custodia/xapi"
)

func TestParseQuery(t *testing.T) {
	const id = "8F87CCDE-BB56-4C2E-AB83-44982EF22DF0"
	since := time.Date(2013, 5, 18, 10, 32, 34, 804e6, time.UTC)
	tests := []struct {
		name  string
		query string
		v     xapi.Version
		want  *xapi.Query // nil: Invalid
	}{
		{"XAPI-00168_empty_format_absent_is_exact", "", xapi.V103, &xapi.Query{Format: xapi.FormatExact}},
		{"XAPI-00171_format_ids", "format=ids", xapi.V200, &xapi.Query{Format: xapi.FormatIDs}},
		{"XAPI-00170_format_exact", "format=exact", xapi.V200, &xapi.Query{Format: xapi.FormatExact}},
		{"XAPI-00156_statementId", "statementId=" + id, xapi.V103, &xapi.Query{StatementID: strings.ToLower(id), Format: xapi.FormatExact}},
		{"XAPI-00150_statementId_with_format_attachments", "statementId=" + id + "&format=ids&attachments=true", xapi.V103, &xapi.Query{StatementID: strings.ToLower(id), Format: xapi.FormatIDs, Attachments: true}},
		{"XAPI-00150_statementId_and_voidedStatementId_rejected", "statementId=" + id + "&voidedStatementId=" + id, xapi.V103, nil},
		{"XAPI-00151_statementId_with_verb_rejected", "statementId=" + id + "&verb=http://example.com/v", xapi.V103, nil},
		{"XAPI-00151_voidedStatementId_with_limit_rejected", "voidedStatementId=" + id + "&limit=1", xapi.V103, nil},
		{"XAPI-00155_voidedStatementId", "voidedStatementId=" + id, xapi.V200, &xapi.Query{VoidedStatementID: strings.ToLower(id), Format: xapi.FormatExact}},
		{"XAPI-00012_statementId_not_uuid_rejected", "statementId=abc", xapi.V103, nil},
		{"XAPI-00164_all_filters", "agent=" + url.QueryEscape(`{"mbox":"mailto:a@example.com"}`) +
			"&verb=http://example.com/v&activity=http://example.com/a&registration=" + id +
			"&related_activities=true&related_agents=false&since=2013-05-18T05:32:34.804-05:00&until=2014-01-01T00:00:00Z" +
			"&limit=10&format=canonical&attachments=false&ascending=true", xapi.V103,
			&xapi.Query{Agent: &xapi.Agent{Mbox: "mailto:a@example.com"}, Verb: "http://example.com/v", Activity: "http://example.com/a",
				Registration: strings.ToLower(id), RelatedActivities: true, Since: since, Until: time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC),
				Limit: 10, Format: xapi.FormatCanonical, Ascending: true}},
		{"XAPI-00324_unknown_parameter_rejected", "foo=bar", xapi.V103, nil},
		{"XAPI-00325_miscased_parameter_rejected", "Verb=http://example.com/v", xapi.V103, nil},
		{"XAPI-00325_miscased_statementid_rejected", "statementID=" + id, xapi.V200, nil},
		{"repeated_parameter_rejected", "verb=http://example.com/v&verb=http://example.com/w", xapi.V103, nil},
		{"XAPI-00012_agent_bad_json_rejected", "agent=" + url.QueryEscape(`{"mbox":`), xapi.V103, nil},
		{"XAPI-00012_agent_no_ifi_rejected", "agent=" + url.QueryEscape(`{"name":"x"}`), xapi.V103, nil},
		{"XAPI-00012_agent_two_ifis_rejected", "agent=" + url.QueryEscape(`{"mbox":"mailto:a@example.com","openid":"http://example.com/o"}`), xapi.V103, nil},
		{"XAPI-00012_agent_miscased_key_rejected", "agent=" + url.QueryEscape(`{"Mbox":"mailto:a@example.com"}`), xapi.V103, nil},
		{"XAPI-00012_agent_anonymous_group_rejected", "agent=" + url.QueryEscape(`{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`), xapi.V103, nil},
		{"XAPI-00012_agent_identified_group", "agent=" + url.QueryEscape(`{"objectType":"Group","mbox":"mailto:g@example.com"}`), xapi.V103,
			&xapi.Query{Agent: &xapi.Agent{ObjectType: "Group", Mbox: "mailto:g@example.com"}, Format: xapi.FormatExact}},
		{"XAPI-00012_verb_not_iri_rejected", "verb=attempted", xapi.V103, nil},
		{"XAPI-00012_activity_not_iri_rejected", "activity=", xapi.V103, nil},
		{"XAPI-00012_registration_not_uuid_rejected", "registration=1", xapi.V103, nil},
		{"XAPI-00012_since_bad_rejected", "since=yesterday", xapi.V103, nil},
		{"XAPI-00012_until_unknown_offset_rejected", "until=2014-01-01T00:00:00-00:00", xapi.V103, nil},
		{"since_without_zone_1.0.3", "since=2013-05-18T10:32:34.804", xapi.V103, &xapi.Query{Since: since, Format: xapi.FormatExact}},
		{"since_without_zone_2.0_rejected", "since=2013-05-18T10:32:34.804", xapi.V200, nil},
		{"XAPI-00012_limit_negative_rejected", "limit=-1", xapi.V103, nil},
		{"XAPI-00012_limit_plus_rejected", "limit=+1", xapi.V103, nil},
		{"XAPI-00012_limit_fraction_rejected", "limit=1.5", xapi.V103, nil},
		{"limit_zero", "limit=0", xapi.V103, &xapi.Query{Format: xapi.FormatExact}},
		{"XAPI-00012_format_bad_rejected", "format=Exact", xapi.V103, nil},
		{"XAPI-00012_boolean_TRUE_rejected", "ascending=TRUE", xapi.V103, nil},
		{"XAPI-00012_boolean_1_rejected", "related_agents=1", xapi.V103, nil},
		{"XAPI-00012_boolean_empty_rejected", "attachments=", xapi.V103, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := xapi.ParseQuery(vals, tc.v)
			if tc.want == nil {
				if xapi.ErrorKind(err) != xapi.Invalid {
					t.Errorf("ParseQuery(%s) = %+v, %v, want an Invalid error", tc.query, got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, *tc.want) {
				t.Errorf("ParseQuery(%s) = %+v, %v\nwant %+v", tc.query, got, err, *tc.want)
			}
			// Values re-encodes the query so that it parses back the same.
			again, err := xapi.ParseQuery(got.Values(), tc.v)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("ParseQuery(%v.Values()) = %+v, %v, want %+v", got, again, err, got)
			}
		})
	}
}

func TestParseQueryErrorNamesParameter(t *testing.T) {
	for q, name := range map[string]string{
		"Verb=http://example.com/v": `"Verb"`,
		"since=yesterday":           "since",
		"limit=x":                   "limit",
		"statementId=" + "8f87ccde-bb56-4c2e-ab83-44982ef22df0" + "&agent=" + url.QueryEscape(`{"mbox":"mailto:a@example.com"}`): "agent",
	} {
		vals, _ := url.ParseQuery(q)
		_, err := xapi.ParseQuery(vals, xapi.V103)
		if msg := xapi.ErrorMessage(err); !strings.Contains(msg, name) {
			t.Errorf("ParseQuery(%s) message = %q, want it to name %s", q, msg, name)
		}
	}
}

func TestParseVersionHeader(t *testing.T) {
	tests := []struct {
		h    string
		want xapi.Version // "": Invalid
	}{
		{"1.0", xapi.V103}, {"1.0.0", xapi.V103}, {"1.0.3", xapi.V103}, {"1.0.9", xapi.V103}, {"1.0.10", xapi.V103},
		{"2.0", xapi.V200}, {"2.0.0", xapi.V200}, {"2.0.1", xapi.V200},
		{"", ""}, {"0.9.5", ""}, {"0.95", ""}, {"1.1.0", ""}, {"1", ""}, {"1.0.", ""}, {"1.0.x", ""}, {"2", ""},
		{"3.0", ""}, {"3.0.0", ""}, {"2.1.0", ""}, {"junk", ""}, {" 1.0.3", ""}, {"1.0.3 ", ""}, {"1.00", ""}, {"1.0.3.1", ""},
	}
	for _, tc := range tests {
		got, err := xapi.ParseVersionHeader(tc.h)
		switch {
		case tc.want == "" && (err == nil || xapi.ErrorKind(err) != xapi.Invalid || xapi.ErrorMessage(err) == ""):
			t.Errorf("ParseVersionHeader(%q) = %q, %v, want an Invalid error with a message", tc.h, got, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("ParseVersionHeader(%q) = %q, %v, want %q", tc.h, got, err, tc.want)
		}
	}
}

func TestParseAgent(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
		ifi  string
	}{
		{"agent", `{"mbox":"mailto:a@example.com"}`, true, "mbox:mailto:a@example.com"},
		{"agent_objectType", `{"objectType":"Agent","account":{"homePage":"http://example.com","name":"a"}}`, true, "account:http://example.com a"},
		{"identified_group", `{"objectType":"Group","openid":"http://example.com/g"}`, true, "openid:http://example.com/g"},
		{"anonymous_group", `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`, true, ""},
		{"XAPI-00034_no_ifi", `{"name":"a"}`, false, ""},
		{"XAPI-00008_miscased", `{"mbox_SHA1SUM":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}`, false, ""},
		{"XAPI-00001_null", `{"mbox":"mailto:a@example.com","name":null}`, false, ""},
		{"not_object", `"mailto:a@example.com"`, false, ""},
		{"trailing", `{"mbox":"mailto:a@example.com"}x`, false, ""},
		{"not_json", `{mbox:1}`, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				a, err := xapi.ParseAgent([]byte(tc.in), v)
				if tc.ok != (err == nil) || err != nil && xapi.ErrorKind(err) != xapi.Invalid {
					t.Fatalf("ParseAgent(%s, %s) = %v, want ok %v", tc.in, v, err, tc.ok)
				}
				if got := a.IFI(); tc.ok && got != tc.ifi {
					t.Errorf("ParseAgent(%s).IFI() = %q, want %q", tc.in, got, tc.ifi)
				}
				if tc.ok {
					b, err := a.MarshalJSON()
					if err != nil {
						t.Fatal(err)
					}
					back, err := xapi.ParseAgent(b, v)
					if err != nil || !reflect.DeepEqual(back, a) {
						t.Errorf("ParseAgent(MarshalJSON(%+v)) = %+v, %v, want the same Agent", a, back, err)
					}
				}
			}
		})
	}
}
