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
	f.Add([]byte(with("timestamp", `"2016-12-31T18:59:60.5-05:00"`)), true)
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
	})
}
