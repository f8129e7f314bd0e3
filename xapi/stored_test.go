package xapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"custodia/xapi"
)

func mustParse(t testing.TB, body string, v xapi.Version) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(body), v)
	if err != nil {
		t.Fatalf("ParseStatement(%s, %s) = %v", body, v, err)
	}
	return s
}

func marshal(t testing.TB, s *xapi.Statement) string {
	t.Helper()
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON() = %v", err)
	}
	return string(b)
}

// field decodes the stored form and walks it by keys and indexes.
func field(t testing.TB, s *xapi.Statement, path ...any) any {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(marshal(t, s)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	return v
}

func TestStoredForm(t *testing.T) {
	t.Run("XAPI-00002_numbers_kept_as_received", func(t *testing.T) {
		s := mustParse(t, with("result", `{"score":{"raw":1.50,"scaled":1E-1,"max":100.000000000000000001}}`), xapi.V103)
		for k, want := range map[string]string{"raw": "1.50", "scaled": "1E-1", "max": "100.000000000000000001"} {
			if got := field(t, s, "result", "score", k); got != json.Number(want) {
				t.Errorf("stored result.score.%s = %v, want %s", k, got, want)
			}
		}
	})
	t.Run("XAPI-00096_single_context_activity_becomes_array", func(t *testing.T) {
		for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
			s := mustParse(t, with("context", `{"contextActivities":{"parent":{"id":"http://example.com/p"},"other":[{"id":"http://example.com/o"}]}}`), v)
			got := field(t, s, "context", "contextActivities")
			want := map[string]any{"parent": []any{map[string]any{"id": "http://example.com/p"}}, "other": []any{map[string]any{"id": "http://example.com/o"}}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: stored contextActivities = %v, want %v", v, got, want)
			}
		}
	})
	t.Run("XAPI-00096_single_context_activity_in_substatement_becomes_array", func(t *testing.T) {
		s := mustParse(t, with("object", `{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},"context":{"contextActivities":{"grouping":{"id":"http://example.com/g"}}}}`), xapi.V103)
		got := field(t, s, "object", "context", "contextActivities", "grouping")
		if l, ok := got.([]any); !ok || len(l) != 1 {
			t.Errorf("stored object.context.contextActivities.grouping = %v, want a one-element array", got)
		}
	})
	tsCases := []struct {
		in   string
		v    xapi.Version
		want string
	}{
		{"2013-05-18T05:32:34.804-05:00", xapi.V103, "2013-05-18T05:32:34.804-05:00"},
		{"2013-05-18T05:32:34.804-05:00", xapi.V200, "2013-05-18T10:32:34.804Z"},
		{"2013-05-18T05:32:34+00:00", xapi.V200, "2013-05-18T05:32:34Z"},
		{"2013-05-18T05:32:34.123456789123+0530", xapi.V200, "2013-05-18T00:02:34.123456789123Z"},
		{"2013-12-31T23:30:00-01", xapi.V200, "2014-01-01T00:30:00Z"},
		{"2016-12-31T18:59:60.5-05:00", xapi.V200, "2016-12-31T23:59:60.5Z"},
		{"2013-05-18T05:32:34.804Z", xapi.V200, "2013-05-18T05:32:34.804Z"},
		{"2013-05-18t05:32:34z", xapi.V200, "2013-05-18t05:32:34z"},
		{"2013-05-18T05:32:34.804", xapi.V103, "2013-05-18T05:32:34.804"},
	}
	for _, tc := range tsCases {
		t.Run("timestamp_"+tc.in+"_"+string(tc.v), func(t *testing.T) {
			s := mustParse(t, with("timestamp", `"`+tc.in+`"`, "stored", `"`+tc.in+`"`), tc.v)
			for _, k := range []string{"timestamp", "stored"} {
				if got := field(t, s, k); got != tc.want {
					t.Errorf("stored %s of %s under %s = %v, want %s", k, tc.in, tc.v, got, tc.want)
				}
			}
		})
	}
	t.Run("timestamp_instant", func(t *testing.T) {
		s := mustParse(t, with("timestamp", `"2013-05-18T05:32:34.804-05:00"`), xapi.V103)
		want := time.Date(2013, 5, 18, 10, 32, 34, 804e6, time.UTC)
		if got := s.Timestamp(); !got.Equal(want) {
			t.Errorf("Timestamp() = %v, want %v", got, want)
		}
	})
}

func TestPrepareAndSetStored(t *testing.T) {
	auth := xapi.Agent{ObjectType: "Agent", Account: &xapi.Account{HomePage: "https://lrs.example.com", Name: "client-1"}}
	now := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.FixedZone("", 3600))
	tests := []struct {
		name                   string
		body                   string
		v                      xapi.Version
		wantID, wantVer, wantT string
	}{
		{"id_and_version_set", with("authority", `{"mbox":"mailto:forged@example.com"}`), xapi.V103, "00000000-0000-4000-8000-000000000001", "1.0.0", "2024-03-01T11:00:00.123Z"},
		{"version_2.0", with(), xapi.V200, "00000000-0000-4000-8000-000000000001", "2.0.0", "2024-03-01T11:00:00.123Z"},
		{"XAPI-00332_client_values_kept", with("id", `"AAAAAAAA-0000-4000-8000-000000000002"`, "version", `"1.0.1"`, "timestamp", `"2020-01-01T00:00:00Z"`), xapi.V103, "aaaaaaaa-0000-4000-8000-000000000002", "1.0.1", "2020-01-01T00:00:00Z"},
		{"XAPI-00332_version_2.0.0_kept", with("version", `"2.0.0"`), xapi.V200, "00000000-0000-4000-8000-000000000001", "2.0.0", "2024-03-01T11:00:00.123Z"},
		{"XAPI-00332_version_1.0.0_kept_under_2.0", with("version", `"1.0.0"`), xapi.V200, "00000000-0000-4000-8000-000000000001", "1.0.0", "2024-03-01T11:00:00.123Z"},
		// The client's stored is accepted and replaced by the LRS's; the
		// missing timestamp takes the LRS's stored, not the client's.
		{"XAPI-00097_client_stored_accepted_and_replaced", with("stored", `"2013-05-18T05:32:34.804Z"`), xapi.V103, "00000000-0000-4000-8000-000000000001", "1.0.0", "2024-03-01T11:00:00.123Z"},
		{"XAPI-00097_client_stored_replaced_2.0", with("stored", `"2999-01-01T00:00:00Z"`, "timestamp", `"2020-01-01T00:00:00Z"`), xapi.V200, "00000000-0000-4000-8000-000000000001", "2.0.0", "2020-01-01T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.body, tc.v)
			s.Prepare(xapi.Prepare{NewID: func() string { return "00000000-0000-4000-8000-000000000001" }, Authority: auth, Version: tc.v})
			s.SetStored(now)
			if got := s.ID(); got != tc.wantID {
				t.Errorf("ID() = %q, want %q", got, tc.wantID)
			}
			if got := field(t, s, "version"); got != tc.wantVer {
				t.Errorf("version = %v, want %s", got, tc.wantVer)
			}
			if got := field(t, s, "timestamp"); got != tc.wantT {
				t.Errorf("timestamp = %v, want %s", got, tc.wantT)
			}
			if got, want := field(t, s, "stored"), "2024-03-01T11:00:00.123Z"; got != want {
				t.Errorf("stored = %v, want %s", got, want)
			}
			if got := s.Stored(); !got.Equal(time.Date(2024, 3, 1, 11, 0, 0, 123e6, time.UTC)) {
				t.Errorf("Stored() = %v, want 2024-03-01T11:00:00.123Z", got)
			}
			if a, ok := s.Authority(); !ok || a.IFI() != auth.IFI() {
				t.Errorf("Authority() = %v, %v, want %v", a, ok, auth)
			}
			// The prepared statement is what the store keeps: it decodes and
			// validates again.
			b := marshal(t, s)
			if _, err := xapi.ParseStatement([]byte(b), tc.v); err != nil {
				t.Errorf("ParseStatement(prepared %s) = %v, want nil", b, err)
			}
			d, err := xapi.DecodeStored([]byte(b))
			if err != nil || marshal(t, d) != b {
				t.Errorf("DecodeStored(%s) = %v, %v; want the same statement", b, d, err)
			}
		})
	}
	t.Run("XAPI-00026_id_generated_when_absent", func(t *testing.T) {
		seen := map[string]bool{}
		for range 3 {
			s := mustParse(t, with(), xapi.V103)
			if id := s.ID(); id != "" {
				t.Fatalf("ID() before Prepare = %q, want none", id)
			}
			s.Prepare(xapi.Prepare{Authority: auth, Version: xapi.V103})
			id := s.ID()
			if len(id) != 36 || id[14] != '4' || seen[id] {
				t.Errorf("ID() = %q, want a new UUID v4", id)
			}
			if _, err := xapi.ParseStatement([]byte(marshal(t, s)), xapi.V103); err != nil || field(t, s, "id") != id {
				t.Errorf("prepared statement %s does not carry its id %s as a valid UUID: %v", marshal(t, s), id, err)
			}
			seen[id] = true
		}
	})
	t.Run("XAPI-00122_timestamps_keep_milliseconds", func(t *testing.T) {
		s := mustParse(t, with("timestamp", `"2013-05-18T05:32:34.123456Z"`), xapi.V200)
		s.Prepare(xapi.Prepare{Authority: auth, Version: xapi.V200})
		s.SetStored(time.Date(2024, 3, 1, 11, 0, 0, 987654321, time.UTC))
		if got, want := field(t, s, "timestamp"), "2013-05-18T05:32:34.123456Z"; got != want {
			t.Errorf("timestamp = %v, want %s (at least milliseconds kept)", got, want)
		}
		if got, want := field(t, s, "stored"), "2024-03-01T11:00:00.987Z"; got != want {
			t.Errorf("stored = %v, want %s (milliseconds)", got, want)
		}
		if got, want := s.Timestamp(), time.Date(2013, 5, 18, 5, 32, 34, 123456000, time.UTC); !got.Equal(want) {
			t.Errorf("Timestamp() = %v, want %v", got, want)
		}
	})
}

func TestDecodeStoredCorrupt(t *testing.T) {
	for _, in := range []string{"", "[]", "{", `"x"`} {
		if _, err := xapi.DecodeStored([]byte(in)); xapi.ErrorKind(err) != xapi.Internal {
			t.Errorf("DecodeStored(%q) = %v, want an Internal error", in, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for file, list := range corpus(t) {
		for i, raw := range list {
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				s1, err := xapi.ParseStatement(raw, v)
				if err != nil {
					t.Fatalf("ParseStatement(%s[%d]) = %v", file, i, err)
				}
				b1 := marshal(t, s1)
				s2, err := xapi.ParseStatement([]byte(b1), v)
				if err != nil {
					t.Errorf("ParseStatement(MarshalJSON(%s[%d]), %s) = %v, want nil", file, i, v, err)
					continue
				}
				if !s1.Equal(s2) || !s2.Equal(s1) {
					t.Errorf("%s[%d] %s: parse→marshal→parse is not Equal", file, i, v)
				}
				if b2 := marshal(t, s2); b1 != b2 {
					t.Errorf("%s[%d] %s: second marshal differs:\n%s\n%s", file, i, v, b1, b2)
				}
				// Nothing but key order and insignificant white space changes
				// from what the client sent, except the stored-form rules.
				var a, b any
				_ = json.Unmarshal(raw, &a)
				_ = json.Unmarshal([]byte(b1), &b)
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				if v == xapi.V103 && !bytes.Contains(raw, []byte(`"contextActivities"`)) && string(ja) != string(jb) {
					t.Errorf("%s[%d]: stored form changed a value:\n%s\n%s", file, i, ja, jb)
				}
			}
		}
	}
}
