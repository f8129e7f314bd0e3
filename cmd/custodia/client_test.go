package main

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The real-client tests: each runs a script of clients/node with node, as
// a course player, app or LMS would drive an LRS with a published npm
// library, against a server started through run, and checks the one JSON
// object the script prints. .ci/run installs the packages (npm ci in
// clients/node); without them the tests skip, except in CI (CI set), where
// they fail.

// nodeClients returns the node binary and the clients/node directory, or
// skips the test (fails it in CI) when node or one of pkgs is not there.
func nodeClients(t *testing.T, pkgs ...string) (node, dir string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "clients", "node"))
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	var missing []string
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(p))); err != nil {
			missing = append(missing, p)
		}
	}
	if err != nil || len(missing) > 0 {
		what := fmt.Sprintf("packages %q not installed in clients/node/node_modules", missing)
		if err != nil {
			what = fmt.Sprintf("node not found (%v)", err)
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s in CI; .ci/run installs them with npm ci in clients/node", what)
		}
		t.Skipf("%s: run `npm ci` in clients/node (or .ci/run once)", what)
	}
	return node, dir
}

// runScript runs `node script` in dir with env added to the environment
// and returns the fields of the JSON object it printed. It fails the test
// when the script fails or reports an error.
func runScript(t *testing.T, node, dir, script string, env ...string) map[string]json.RawMessage {
	t.Helper()
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r map[string]json.RawMessage
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("node %s printed %q: %v (run error %v; stderr %s)", script, out, jerr, err, stderr.String())
	}
	if err != nil || r["error"] != nil {
		t.Fatalf("node %s failed: %v: %s\nstderr: %s", script, err, r["error"], stderr.String())
	}
	return r
}

// field decodes the field name of a script's output into v.
func field(t *testing.T, r map[string]json.RawMessage, name string, v any) {
	t.Helper()
	raw, ok := r[name]
	if !ok {
		t.Fatalf("the script printed no %q", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s = %s: %v", name, raw, err)
	}
}

// checkFields compares fields of a script's output with the JSON values of
// want (compared as decoded JSON, so key order and spacing do not matter).
func checkFields(t *testing.T, r map[string]json.RawMessage, want map[string]string) {
	t.Helper()
	for name, w := range want {
		raw, ok := r[name]
		if !ok {
			t.Errorf("the script printed no %q", name)
			continue
		}
		var got, wantV any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Errorf("%s = %s: %v", name, raw, err)
			continue
		}
		if err := json.Unmarshal([]byte(w), &wantV); err != nil {
			t.Fatalf("bad want for %s: %v", name, err)
		}
		if !reflect.DeepEqual(got, wantV) {
			t.Errorf("%s = %s, want %s", name, raw, w)
		}
	}
}

// TestXAPIJSClient drives the server with the @xapi/xapi npm package, as a
// course player would: statements one by one and in a batch, a fetch by id,
// paging with `more`, an agent+verb query, voiding and About.
func TestXAPIJSClient(t *testing.T) {
	node, dir := nodeClients(t, "@xapi/xapi")
	l := startLRS(t, "")
	key, secret := l.credential(t, `{"name":"course player","roles":["client"],"scopes":["statements/write","statements/read"]}`)
	for _, version := range []string{"1.0.3", "2.0.0"} {
		t.Run(version, func(t *testing.T) {
			out := runScript(t, node, dir, "course-player.mjs",
				"CUSTODIA_ENDPOINT="+l.base+"/xapi/", "CUSTODIA_KEY="+key, "CUSTODIA_SECRET="+secret,
				"XAPI_VERSION="+version, "LEARNER_MBOX=mailto:player."+version+"@example.com")
			var r struct {
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
			b, _ := json.Marshal(out)
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Answered) != 3 || r.Initialized == "" || r.Completed == "" {
				t.Fatalf("ids = %q %q %q, want 1+3+1", r.Initialized, r.Answered, r.Completed)
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
			if !reflect.DeepEqual(r.AboutVersions, []string{"1.0.3", "2.0.0"}) {
				t.Errorf("about versions = %v", r.AboutVersions)
			}
		})
	}
}

// TestXAPIJSDocuments drives State, Activity Profile, Agent Profile and
// About with @xapi/xapi (clients/node/documents.mjs) under both versions:
// JSON merge on POST, non-JSON documents byte-exact, registration-scoped
// State, lists with since, multiple delete, and the library's ETag support
// against the concurrency rules, including the one a 2.0 client meets: a
// PUT with neither If-Match nor If-None-Match to an existing document is
// 409, and GET-then-If-Match succeeds.
func TestXAPIJSDocuments(t *testing.T) {
	node, dir := nodeClients(t, "@xapi/xapi")
	l := startLRS(t, "")
	key, secret := l.credential(t, `{"name":"course app","roles":["client"],"scopes":["state","profile"]}`)
	for _, version := range []string{"1.0.3", "2.0.0"} {
		t.Run(version, func(t *testing.T) {
			out := runScript(t, node, dir, "documents.mjs",
				"CUSTODIA_ENDPOINT="+l.base+"/xapi/", "CUSTODIA_KEY="+key, "CUSTODIA_SECRET="+secret,
				"XAPI_VERSION="+version, "LEARNER_MBOX=mailto:docs."+version+"@example.com",
				"ACTIVITY_ID=http://courses.example.com/documents/"+version)
			sum := sha1.Sum([]byte(`{"page":1,"chapter":"intro"}`))
			firstETag := `"\"` + hex.EncodeToString(sum[:]) + `\""`
			blindPut, afterBlindPut := "204", `{"page":4}` // 1.0.3: State allows a PUT without precondition
			if version == "2.0.0" {
				blindPut, afterBlindPut = "409", `{"page":3}` // 2.0: 409, nothing changed
			}
			checkFields(t, out, map[string]string{
				"stateCreate":            "204",
				"stateFirst":             `{"page":1,"chapter":"intro"}`,
				"stateFirstLastModified": "true",
				"stateMerge":             "204",
				"stateMerged":            `{"page":2,"chapter":"intro","score":10}`,
				"stateMergedETagChanged": "true",
				// XAPI-00230-style preconditions, through the library's etag/matchHeader.
				"stateStalePut":            "412",
				"stateStalePost":           "412",
				"stateIfNoneMatchExisting": "412",
				"stateMatchedPut":          "204",
				"stateAfterMatchedPut":     `{"page":3}`,
				"stateBlindPut":            blindPut,
				"stateAfterBlindPut":       afterBlindPut,
				"stateRetryPut":            "204",
				"stateAfterRetry":          `{"page":5}`,
				"stateText":                `"a=1;b=2|ü"`,
				"stateTextType":            `"text/plain; charset=utf-8"`,
				"stateRegistered":          `{"page":50}`,
				"stateUnregistered":        `{"page":5}`,
				// Without registration the list covers every registration, each id once.
				"stateIds":                        `["bookmark","suspend_data"]`,
				"stateIdsRegistration":            `["bookmark"]`,
				"stateIdsSince":                   `["bookmark"]`,
				"stateDeleteStale":                "412",
				"stateDelete":                     "204",
				"stateGetDeleted":                 "404",
				"stateDeleteRegistration":         "204",
				"stateIdsAfterRegistrationDelete": `["suspend_data"]`,
				"stateDeleteAll":                  "204",
				"stateIdsAfterDeleteAll":          `[]`,

				"apCreate":         "204",
				"apCreateAgain":    "412",
				"apMerge":          "204",
				"apMerged":         `{"theme":"dark","lang":"de"}`,
				"apStalePut":       "412",
				"apMatchedPut":     "204",
				"apAfterPut":       `{"theme":"blue"}`,
				"apIds":            `["glossary","settings"]`,
				"apIdsSince":       `["glossary"]`,
				"apText":           `"term=definition"`,
				"apDeleteStale":    "412",
				"apDelete":         "204",
				"apGetDeleted":     "404",
				"apIdsAfterDelete": `[]`,

				"agpCreate":         "204",
				"agpBlindPost":      "204",
				"agpMerged":         `{"language":"de-DE","audio":"off"}`,
				"agpStalePost":      "412",
				"agpMatchedPost":    "204",
				"agpAfterPost":      `{"language":"de-DE","audio":"off","captions":true}`,
				"agpIds":            `["preferences"]`,
				"agpDeleteStale":    "412",
				"agpDelete":         "204",
				"agpIdsAfterDelete": `[]`,
				"aboutVersions":     `["1.0.3","2.0.0"]`,
				"aboutHeader":       `"` + version + `"`,
				// The ETag of the PUT's answer and of the GET: the quoted SHA-1
				// of the body as the library sent it.
				"stateCreateETag": firstETag,
				"stateFirstETag":  firstETag,
			})
		})
	}
}

// TestTinCanJSClient drives the server with Rustici's TinCanJS (npm
// tincanjs, its Node build) through its LRS calls (clients/node/tincan.mjs),
// under the 1.0.x versions it knows: it sends X-Experience-API-Version
// 1.0.0 or 1.0.2, which Custodia answers under the 1.0.3 rules.
func TestTinCanJSClient(t *testing.T) {
	node, dir := nodeClients(t, "tincanjs", "xhr2")
	l := startLRS(t, "")
	key, secret := l.credential(t, `{"name":"tincan course","roles":["client"],"scopes":["statements/write","statements/read","state","profile"]}`)
	for _, version := range []string{"1.0.0", "1.0.2"} {
		t.Run(version, func(t *testing.T) {
			out := runScript(t, node, dir, "tincan.mjs",
				"CUSTODIA_ENDPOINT="+l.base+"/xapi/", "CUSTODIA_KEY="+key, "CUSTODIA_SECRET="+secret,
				"XAPI_VERSION="+version, "LEARNER_MBOX=mailto:tincan."+version+"@example.com",
				"ACTIVITY_ID=http://courses.example.com/tincan/"+version)
			var attempted, completed, voidedBack string
			var sent, stored, registrationIDs, experienced []string
			field(t, out, "attempted", &attempted)
			field(t, out, "completed", &completed)
			field(t, out, "batchSent", &sent)
			field(t, out, "batchStored", &stored)
			field(t, out, "registrationIds", &registrationIDs)
			field(t, out, "experiencedPage2", &experienced)
			field(t, out, "voidedBack", &voidedBack)
			if len(sent) != 4 || !reflect.DeepEqual(stored, sent) {
				t.Fatalf("saveStatements sent %q, stored %q; want the 4 ids sent", sent, stored)
			}
			// Oldest first: attempted, the batch, completed; two per page.
			want := append(append([]string{attempted}, sent...), completed)
			if !reflect.DeepEqual(registrationIDs, want) {
				t.Errorf("queryStatements+moreStatements = %q, want %q", registrationIDs, want)
			}
			if !reflect.DeepEqual(experienced, []string{sent[1]}) {
				t.Errorf("query agent+verb+activity = %q, want [%s]", experienced, sent[1])
			}
			if voidedBack != sent[0] {
				t.Errorf("retrieveVoidedStatement = %q, want %q", voidedBack, sent[0])
			}
			checkFields(t, out, map[string]string{
				"version":                   `"` + version + `"`,
				"completedScore":            "0.8",
				"completedAttachmentSha2":   `"b7a3ca502be869a7f026bde8c6f255c3ef94d086f76017a3a2dbaaaf59a4b1e6"`, // sha256 of the content
				"completedAttachmentLength": "25",
				"completedStored":           "true",
				"completedAuthority":        `"Agent"`,
				// The attachment's data back through TinCanJS's multipart parser.
				"completedAttachmentContent": `"Certificate of completion"`,
				"pages":                      "3",
				"retrieveVoidedAsStatement":  "404", // XAPI-00106
				"stateFirst":                 `{"page":1}`,
				"stateStale":                 "412",
				"stateMerged":                `{"page":2,"visited":[1,2]}`,
				"stateText":                  `"raw;bytes"`,
				"stateIds":                   `["bookmark","suspend_data"]`,
				"stateAfterDrop":             "null",
				"stateIdsAfterDropAll":       `[]`,
				"apFirst":                    `{"theme":"dark"}`,
				"apCreateAgain":              "412", // TinCanJS sends If-None-Match: * without lastSHA1
				"apStale":                    "412",
				"apSecond":                   `{"theme":"light"}`,
				"apIds":                      `["settings"]`,
				"apAfterDrop":                "null",
				"agpFirst":                   `{"language":"fr-FR"}`,
				"agpSecond":                  `{"language":"de-DE"}`,
				"agpIds":                     `["preferences"]`,
				"agpAfterDrop":               "null",
				"aboutVersions":              `["1.0.3","2.0.0"]`,
			})
		})
	}
}

// TestCmi5Launch runs a cmi5 launch from the LMS's launch to the AU's
// terminate (clients/node/cmi5.mjs): the LMS, emulated with @xapi/xapi,
// writes LMS.LaunchData and cmi5LearnerPreferences and hands the AU a
// learner credential through the fetch URL; the AU is @xapi/cmi5. The LMS
// then reads the registration's statements, which must follow the cmi5
// statement rules (cmi5 Quartz §9): in order launched, initialized,
// passed, completed, terminated, satisfied; each with the cmi5 category,
// the registration, the session id and the publisher grouping of the
// context template; passed and completed with the moveon category.
func TestCmi5Launch(t *testing.T) {
	node, dir := nodeClients(t, "@xapi/xapi", "@xapi/cmi5", "xhr2")
	l := startLRS(t, "")
	lmsKey, lmsSecret := l.credential(t, `{"name":"lms","roles":["client"],"scopes":["statements/write","statements/read","state","profile"]}`)
	for _, version := range []string{"1.0.3", "2.0.0"} {
		t.Run(version, func(t *testing.T) {
			account := "cmi5-learner-" + version
			auKey, auSecret := l.credential(t, `{"name":"cmi5 AU session","roles":["learner"],"agent":{"account":{"homePage":"https://lms.example.com","name":"`+account+`"}}}`)
			course := "http://courses.example.com/cmi5/" + version
			out := runScript(t, node, dir, "cmi5.mjs",
				"CUSTODIA_ENDPOINT="+l.base+"/xapi/", "CUSTODIA_KEY="+lmsKey, "CUSTODIA_SECRET="+lmsSecret,
				"AU_KEY="+auKey, "AU_SECRET="+auSecret, "XAPI_VERSION="+version,
				"LEARNER_ACCOUNT="+account, "COURSE_ID="+course)
			var registration, sessionID string
			field(t, out, "registration", &registration)
			field(t, out, "sessionId", &sessionID)
			checkFields(t, out, map[string]string{
				"fetchCalls":         "1",
				"auVersion":          `"1.0.3"`, // @xapi/cmi5 speaks 1.0.3 whatever the LMS uses
				"learnerPreferences": `{"languagePreference":"de-DE,en-US","audioPreference":"off"}`,
				"launchData": `{"contextTemplate":{"contextActivities":{"grouping":[{"objectType":"Activity","id":"` + course + `/publisher"}]},
					"extensions":{"https://w3id.org/xapi/cmi5/context/extensions/sessionid":"` + sessionID + `"}},
					"launchMode":"Normal","launchMethod":"AnyWindow","moveOn":"CompletedAndPassed","masteryScore":0.8,"returnURL":"` + course + `/return"}`,
				"auOtherLearner": "403", // the AU's credential writes only about its learner
			})
			var stmts []struct {
				Verb, Object, ActorAccount, Registration, SessionID, Authority string
				MasteryScore                                                   *float64
				Categories, Grouping                                           []string
				Result                                                         map[string]any
				HasTimestamp                                                   bool
			}
			field(t, out, "statements", &stmts)
			const (
				adl      = "http://adlnet.gov/expapi/verbs/"
				cmi5Cat  = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
				moveOn   = "https://w3id.org/xapi/cmi5/context/categories/moveon"
				auObject = "/au/1"
			)
			want := []struct {
				verb, object string
				categories   []string
				byLMS        bool
			}{
				{adl + "launched", course + auObject, []string{cmi5Cat}, true},
				{adl + "initialized", course + auObject, []string{cmi5Cat}, false},
				{adl + "passed", course + auObject, []string{cmi5Cat, moveOn}, false},
				{adl + "completed", course + auObject, []string{cmi5Cat, moveOn}, false},
				{adl + "terminated", course + auObject, []string{cmi5Cat}, false},
				{"https://w3id.org/xapi/adl/verbs/satisfied", course, []string{cmi5Cat}, true},
			}
			if len(stmts) != len(want) {
				t.Fatalf("the registration has %d statements, want %d: %+v", len(stmts), len(want), stmts)
			}
			authority := map[bool]string{}
			for i, w := range want {
				s := stmts[i]
				if s.Verb != w.verb || s.Object != w.object {
					t.Errorf("statement %d = %s %s, want %s %s", i, s.Verb, s.Object, w.verb, w.object)
				}
				if s.ActorAccount != account || s.Registration != registration || s.SessionID != sessionID || !s.HasTimestamp {
					t.Errorf("statement %d (%s): actor %q, registration %q, sessionid %q, timestamp %v; want %q, %q, %q, true",
						i, w.verb, s.ActorAccount, s.Registration, s.SessionID, s.HasTimestamp, account, registration, sessionID)
				}
				if !reflect.DeepEqual(s.Categories, w.categories) || !reflect.DeepEqual(s.Grouping, []string{course + "/publisher"}) {
					t.Errorf("statement %d (%s): categories %q, grouping %q; want %q and the publisher", i, w.verb, s.Categories, s.Grouping, w.categories)
				}
				if a, ok := authority[w.byLMS]; ok && a != s.Authority {
					t.Errorf("statement %d (%s): authority %q, want %q like the others of the same credential", i, w.verb, s.Authority, a)
				}
				authority[w.byLMS] = s.Authority
			}
			if authority[true] == "" || authority[true] == authority[false] {
				t.Errorf("authorities: LMS %q, AU %q; want two different credential pseudonyms", authority[true], authority[false])
			}
			passed, completed, terminated := stmts[2], stmts[3], stmts[4]
			if score, _ := passed.Result["score"].(map[string]any); passed.Result["success"] != true || score["scaled"] != 0.9 ||
				passed.MasteryScore == nil || *passed.MasteryScore != 0.8 || passed.Result["duration"] == nil {
				t.Errorf("passed: result %v, masteryscore %v; want success, scaled 0.9, a duration and masteryscore 0.8", passed.Result, passed.MasteryScore)
			}
			if completed.Result["completion"] != true || completed.Result["duration"] == nil {
				t.Errorf("completed: result %v, want completion and a duration", completed.Result)
			}
			if terminated.Result["duration"] == nil {
				t.Errorf("terminated: result %v, want a duration", terminated.Result)
			}
		})
	}
}
