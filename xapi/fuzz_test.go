package xapi_test

import (
	"testing"

	"custodia/xapi"
)

// FuzzParseStatement checks that ParseStatement never panics on any input
// and that a statement it accepts is stable in its stored form: parse →
// marshal → parse → marshal gives the same bytes and an Equal statement.
func FuzzParseStatement(f *testing.F) {
	for _, list := range corpus(f) {
		for _, raw := range list {
			f.Add([]byte(raw), false)
		}
	}
	for _, list := range invalidCorpus(f) {
		for _, e := range list {
			f.Add(e.body(), true)
		}
	}
	for _, seed := range []string{
		with("timestamp", `"2016-12-31T18:59:60.5-05:00"`, "stored", `"2013-05-18T05:32:34+0530"`),
		with("timestamp", `"0000-01-01T00:30:00+01"`),
		with("result", `{"score":{"scaled":-0.5e0,"raw":1.50,"min":-1E2,"max":100},"duration":"P1Y2M3DT4H5M6.789S"}`),
		with("actor", `{"objectType":"Group","member":[{"mbox":"mailto:a@EXAMPLE.com"},{"mbox_sha1sum":"EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"}]}`),
		with("context", `{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:c@example.com"},"relevantTypes":["http://example.com/t"]}],"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","mbox":"mailto:g@example.com"}}],"contextActivities":{"parent":{"id":"http://example.com/p"}},"language":"zh-Hans-CN"}`),
		with("attachments", `[{"usageType":"http://example.com/u","display":{"en-US":"S"},"contentType":"text/plain; charset=utf-8","length":27,"sha2":"ab","fileUrl":"http://example.com/f"}]`),
		with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"},"timestamp":"2013-05-18T05:32:34-05:00"}`),
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, v2 bool) {
		v := xapi.V103
		if v2 {
			v = xapi.V200
		}
		s1, err := xapi.ParseStatement(body, v)
		if err != nil {
			if k := xapi.ErrorKind(err); k != xapi.Invalid && k != xapi.TooLarge {
				t.Fatalf("ParseStatement error kind = %v, want invalid: %v", k, err)
			}
			return
		}
		b1, err := s1.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON() = %v", err)
		}
		s2, err := xapi.ParseStatement(b1, v)
		if err != nil {
			t.Fatalf("ParseStatement(MarshalJSON(%q)) = %v, want nil\nstored: %s", body, err, b1)
		}
		b2, err := s2.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON() = %v", err)
		}
		if string(b1) != string(b2) {
			t.Fatalf("second marshal differs:\n%s\n%s", b1, b2)
		}
		if !s1.Equal(s2) {
			t.Fatalf("parse→marshal→parse is not Equal: %s", b1)
		}
		for _, f := range []xapi.Format{xapi.FormatExact, xapi.FormatIDs, xapi.FormatCanonical} {
			if _, err := s2.Format(f, []string{"en"}); err != nil {
				t.Fatalf("Format(%s) = %v", f, err)
			}
		}
		_ = s2.Facts()
		// Merging the statement's definitions into canonical copies and
		// substituting them keeps a valid statement, Equal to the original.
		canon := map[string]xapi.Activity{}
		for _, a := range s2.Activities() {
			c, ok := canon[a.ID]
			if !ok {
				c = xapi.Activity{ID: a.ID}
			}
			canon[a.ID] = c.Merge(a)
		}
		b3, err := s2.WithDefinitions(canon).MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(WithDefinitions) = %v", err)
		}
		s3, err := xapi.ParseStatement(b3, v)
		if err != nil || !s3.Equal(s2) {
			t.Fatalf("WithDefinitions gave %s: %v (Equal %v)", b3, err, err == nil && s3.Equal(s2))
		}
	})
}
