package xapi_test

import (
	"net/url"
	"reflect"
	"testing"

	"custodia/xapi"
)

// FuzzParseQuery checks that the query parameters of GET /statements never
// make ParseQuery panic, and that a query it accepts survives Values (the
// "more" links): parse → Values → parse gives the same query.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"",
		"statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee&format=canonical&attachments=true",
		"voidedStatementId=6690E6C9-3EF0-4ED3-8B37-7F3964730BEE",
		"agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D&related_agents=true",
		"agent=%7B%22objectType%22%3A%22Group%22%2C%22account%22%3A%7B%22homePage%22%3A%22http%3A%2F%2Fx.example%22%2C%22name%22%3A%22g%22%7D%7D",
		"verb=http%3A%2F%2Fadlnet.gov%2Fexpapi%2Fverbs%2Fcompleted&activity=http%3A%2F%2Fexample.com%2Fa&related_activities=true",
		"registration=9a1c3b52-1f0e-4c1e-9d4a-0b5e6e7f8a9b&since=2016-12-31T18%3A59%3A60.5-05%3A00&until=2026-01-01T00%3A00%3A00Z",
		"limit=0&ascending=false&format=ids",
		"limit=-1", "limit=99999999999999999999", "Agent=x", "since=2013-05-18T05:32:34+0530", "format=exact&format=ids",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, v2 bool) {
		v := xapi.V103
		if v2 {
			v = xapi.V200
		}
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q1, err := xapi.ParseQuery(vals, v)
		if err != nil {
			if xapi.ErrorKind(err) != xapi.Invalid {
				t.Fatalf("ParseQuery(%q) = %v, want an Invalid error", raw, err)
			}
			return
		}
		q2, err := xapi.ParseQuery(q1.Values(), v)
		if err != nil {
			t.Fatalf("ParseQuery(Values(ParseQuery(%q))) = %v; Values = %v", raw, err, q1.Values())
		}
		if !reflect.DeepEqual(q1.Values(), q2.Values()) {
			t.Fatalf("round trip of %q: %v, then %v", raw, q1.Values(), q2.Values())
		}
	})
}
