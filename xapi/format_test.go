package xapi_test

import (
	"testing"

	"custodia/xapi"
)

func TestFormat(t *testing.T) {
	body := with(
		"actor", `{"objectType":"Group","name":"G","member":[{"name":"Pat","mbox":"mailto:pat@example.com"}]}`,
		"verb", `{"id":"http://example.com/v","display":{"en-US":"did","fr":"a fait","und":"done"}}`,
		"object", `{"id":"http://example.com/q","definition":{"name":{"en-GB":"colour","en-US":"color"},"description":{"de":"Frage"},"interactionType":"choice","choices":[{"id":"a","description":{"en-US":"A","fr":"Á"}}]}}`,
		"context", `{"instructor":{"name":"Jo","account":{"homePage":"http://example.com","name":"jo"}},"team":{"objectType":"Group","name":"T","mbox":"mailto:t@example.com","member":[{"mbox":"mailto:m@example.com"}]},"contextActivities":{"parent":{"objectType":"Activity","id":"http://example.com/p","definition":{"name":{"en-US":"P","es":"P-es"}}}}}`,
		"result", `{"score":{"raw":1.50}}`,
	)
	s := mustParse(t, body, xapi.V103)
	tests := []struct {
		name  string
		f     xapi.Format
		langs []string
		want  string
	}{
		{"exact", xapi.FormatExact, nil, marshal(t, s)},
		{"XAPI-00171_ids", xapi.FormatIDs, nil,
			`{"actor":{"member":[{"mbox":"mailto:pat@example.com"}],"objectType":"Group"},` +
				`"context":{"contextActivities":{"parent":[{"id":"http://example.com/p"}]},"instructor":{"account":{"homePage":"http://example.com","name":"jo"}},"team":{"mbox":"mailto:t@example.com","objectType":"Group"}},` +
				`"object":{"id":"http://example.com/q"},"result":{"score":{"raw":1.50}},"verb":{"id":"http://example.com/v"}}`},
		{"XAPI-00172_canonical_fr", xapi.FormatCanonical, []string{"fr-CA", "en"},
			`{"actor":{"member":[{"mbox":"mailto:pat@example.com","name":"Pat"}],"name":"G","objectType":"Group"},` +
				`"context":{"contextActivities":{"parent":[{"definition":{"name":{"en-US":"P"}},"id":"http://example.com/p","objectType":"Activity"}]},"instructor":{"account":{"homePage":"http://example.com","name":"jo"},"name":"Jo"},"team":{"mbox":"mailto:t@example.com","member":[{"mbox":"mailto:m@example.com"}],"name":"T","objectType":"Group"}},` +
				`"object":{"definition":{"choices":[{"description":{"fr":"Á"},"id":"a"}],"description":{"de":"Frage"},"interactionType":"choice","name":{"en-GB":"colour"}},"id":"http://example.com/q"},"result":{"score":{"raw":1.50}},"verb":{"display":{"fr":"a fait"},"id":"http://example.com/v"}}`},
		{"XAPI-00172_canonical_fallback_und", xapi.FormatCanonical, []string{"ja"},
			`{"actor":{"member":[{"mbox":"mailto:pat@example.com","name":"Pat"}],"name":"G","objectType":"Group"},` +
				`"context":{"contextActivities":{"parent":[{"definition":{"name":{"en-US":"P"}},"id":"http://example.com/p","objectType":"Activity"}]},"instructor":{"account":{"homePage":"http://example.com","name":"jo"},"name":"Jo"},"team":{"mbox":"mailto:t@example.com","member":[{"mbox":"mailto:m@example.com"}],"name":"T","objectType":"Group"}},` +
				`"object":{"definition":{"choices":[{"description":{"en-US":"A"},"id":"a"}],"description":{"de":"Frage"},"interactionType":"choice","name":{"en-US":"color"}},"id":"http://example.com/q"},"result":{"score":{"raw":1.50}},"verb":{"display":{"und":"done"},"id":"http://example.com/v"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Format(tc.f, tc.langs)
			if err != nil || string(got) != tc.want {
				t.Errorf("Format(%s, %q) = %s, %v\nwant %s", tc.f, tc.langs, got, err, tc.want)
			}
		})
	}
	if _, err := s.Format("full", nil); xapi.ErrorKind(err) != xapi.Invalid {
		t.Errorf("Format(full) = %v, want an Invalid error", err)
	}
	// Formatting leaves the statement unchanged.
	if got := marshal(t, s); got != tests[0].want {
		t.Errorf("MarshalJSON after Format = %s, want %s", got, tests[0].want)
	}
}

func TestFormatIDsSubStatement(t *testing.T) {
	s := mustParse(t, with("object", `{"objectType":"SubStatement","actor":{"name":"B","mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v","display":{"en":"v"}},"object":{"objectType":"Agent","name":"C","mbox":"mailto:c@example.com"}}`), xapi.V103)
	got, err := s.Format(xapi.FormatIDs, nil)
	want := `{"actor":{"mbox":"mailto:learner@example.com"},"object":{"actor":{"mbox":"mailto:b@example.com"},"object":{"mbox":"mailto:c@example.com","objectType":"Agent"},"objectType":"SubStatement","verb":{"id":"http://example.com/v"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/attempted"}}`
	if err != nil || string(got) != want {
		t.Errorf("Format(ids) = %s, %v\nwant %s", got, err, want)
	}
}

func TestBestLanguage(t *testing.T) {
	tests := []struct {
		have, want []string
		best       string
	}{
		{[]string{"en-US", "fr"}, []string{"fr"}, "fr"},
		{[]string{"en-US", "fr"}, []string{"FR"}, "fr"},
		{[]string{"en-US", "fr-FR"}, []string{"fr"}, "fr-FR"},
		{[]string{"en", "de"}, []string{"en-GB"}, "en"},
		{[]string{"zh-Hant", "zh-Hans-CN"}, []string{"zh-Hans-CN-x-private"}, "zh-Hans-CN"},
		{[]string{"de", "fr"}, []string{"ja", "fr;q=0.5"}, "fr"},
		{[]string{"de", "fr"}, []string{"fr;q=0", "de;q=0.1"}, "de"},
		{[]string{"de", "fr"}, []string{"*"}, "de"},
		{[]string{"de", "und", "en-US"}, []string{"ja"}, "und"},
		{[]string{"de", "en-US", "en"}, nil, "en-US"},
		{[]string{"de", "en"}, nil, "en"},
		{[]string{"fr", "de"}, nil, "de"},
		{nil, []string{"en"}, ""},
	}
	for _, tc := range tests {
		if got := xapi.BestLanguage(tc.have, tc.want); got != tc.best {
			t.Errorf("BestLanguage(%q, %q) = %q, want %q", tc.have, tc.want, got, tc.best)
		}
	}
}
