package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestXAPIJSClient drives the server with the @xapi/xapi npm package, as a
// course player would: statements one by one and in a batch, a fetch by id,
// paging with `more`, an agent+verb query, voiding and About. .ci/run
// installs the package (npm ci in clients/node).
func TestXAPIJSClient(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "clients", "node"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "@xapi", "xapi")); err != nil || statErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node or @xapi/xapi missing in CI (node: %v, package: %v); .ci/run installs them", err, statErr)
		}
		t.Skip("needs node and `npm ci` in clients/node (run .ci/run once)")
	}
	l := startLRS(t, "")
	key, secret := l.credential(t, `{"name":"course player","roles":["client"],"scopes":["statements/write","statements/read"]}`)
	for _, version := range []string{"1.0.3", "2.0.0"} {
		t.Run(version, func(t *testing.T) {
			cmd := exec.Command(node, "course-player.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"CUSTODIA_ENDPOINT="+l.base+"/xapi/", "CUSTODIA_KEY="+key, "CUSTODIA_SECRET="+secret,
				"XAPI_VERSION="+version, "LEARNER_MBOX=mailto:player."+version+"@example.com")
			out, err := cmd.Output()
			var r struct {
				Error                 string
				Initialized           string
				Answered              []string
				Completed             string
				CompletedScore        float64
				CompletedHasAuthority bool
				Pages                 int
				RegistrationIDs       []string
				AnsweredByAgent       int
				Voiding               string
				VoidedBackID          string
				AnsweredAfterVoid     int
				VoidingMatches        bool
				AboutVersions         []string
			}
			if jerr := json.Unmarshal(out, &r); jerr != nil {
				t.Fatalf("client output %q: %v (run error %v)", out, jerr, err)
			}
			if err != nil || r.Error != "" {
				t.Fatalf("client failed: %v: %s", err, r.Error)
			}
			if len(r.Answered) != 3 || r.Initialized == "" || r.Completed == "" {
				t.Errorf("ids = %q %q %q, want 1+3+1", r.Initialized, r.Answered, r.Completed)
			}
			if r.CompletedScore != 0.67 || !r.CompletedHasAuthority {
				t.Errorf("fetched statement: score %v, authority %v", r.CompletedScore, r.CompletedHasAuthority)
			}
			if len(r.RegistrationIDs) != 5 || r.Pages != 3 {
				t.Errorf("paging by 2 through 5 statements gave %d ids in %d pages, want 5 in 3", len(r.RegistrationIDs), r.Pages)
			}
			seen := map[string]bool{}
			for _, id := range r.RegistrationIDs {
				if seen[id] {
					t.Errorf("paging returned %s twice", id)
				}
				seen[id] = true
			}
			if r.AnsweredByAgent != 3 || r.AnsweredAfterVoid != 2 || r.VoidedBackID != r.Answered[1] || !r.VoidingMatches {
				t.Errorf("answered %d, after voiding %d (voided back %q); want 3, 2 and the voided id; voiding statement listed: %v (XAPI-00162)", r.AnsweredByAgent, r.AnsweredAfterVoid, r.VoidedBackID, r.VoidingMatches)
			}
			if len(r.AboutVersions) != 2 {
				t.Errorf("about versions = %v", r.AboutVersions)
			}
		})
	}
}
