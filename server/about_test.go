package server_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
)

var versionRE = regexp.MustCompile(`^(1|2)\.0\.\d+$`)

// TestAbout covers the About resource (xAPI Communication §2.8).
func TestAbout(t *testing.T) {
	ts := newTestServer(t, 0)
	for name, version := range map[string]string{"1.0.3": "1.0.3", "2.0.0": "2.0.0", "no_version_header": ""} {
		t.Run(name, func(t *testing.T) {
			w := ts.do(t, "GET", "/xapi/about", "", map[string]string{"X-Experience-API-Version": version})
			if w.Code != 200 {
				t.Fatalf("XAPI-00319: GET /about = %d %s, want 200", w.Code, w.Body)
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &top); err != nil {
				t.Fatalf("GET /about = %s: %v", w.Body, err)
			}
			t.Run("XAPI-00319_has_a_version_property", func(t *testing.T) {
				for k := range top {
					if k != "version" && k != "extensions" {
						t.Errorf("about has property %q, want only version and extensions", k)
					}
				}
				if _, ok := top["version"]; !ok {
					t.Errorf("about = %s, want a version property", w.Body)
				}
			})
			var versions []string
			t.Run("XAPI-00318_version_is_an_array_of_strings", func(t *testing.T) {
				if err := json.Unmarshal(top["version"], &versions); err != nil || len(versions) == 0 {
					t.Errorf("version = %s, want a non-empty array of strings", top["version"])
				}
			})
			t.Run("XAPI-00316_every_version_is_one_this_LRS_speaks", func(t *testing.T) {
				for _, v := range versions {
					if !versionRE.MatchString(v) {
						t.Errorf("version lists %q, want only 1.0.x and 2.0.x versions", v)
					}
				}
			})
			t.Run("XAPI-00317_lists_1.0.3_and_2.0.0", func(t *testing.T) {
				if !slices.Contains(versions, "1.0.3") || !slices.Contains(versions, "2.0.0") {
					t.Errorf("version = %v, want it to list 1.0.3 and 2.0.0", versions)
				}
			})
		})
	}
}

// TestBasicAuthentication covers XAPI-00335: HTTP Basic credentials
// (RFC 7617) are accepted on every xAPI resource.
func TestBasicAuthentication(t *testing.T) {
	ts := newTestServer(t, 0)
	for name, target := range map[string]string{
		"statements": "/xapi/statements",
		"activities": "/xapi/activities?activityId=http://example.com/a",
		"state":      stateURL(),
	} {
		t.Run("XAPI-00335_"+name, func(t *testing.T) {
			if w := ts.do(t, "GET", target, "", map[string]string{"Authorization": "Basic " + basic(ts.key, ts.secret)}); w.Code != 200 {
				t.Errorf("GET %s with Basic credentials = %d %s, want 200", target, w.Code, w.Body)
			}
			wantError(t, ts.do(t, "GET", target, "", map[string]string{"Authorization": "Basic " + basic(ts.key, "wrong")}), 401, "invalid credentials")
		})
	}
}
