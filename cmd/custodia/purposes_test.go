package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// offsetClock is the real clock moved forward by what the test adds.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// party is a credential of the scenario.
type party struct{ key, secret string }

// do sends a request as the party with extra headers (the version header
// and a JSON content type are always sent) and decodes a JSON answer into
// out when out is not nil.
func (l *lrs) do(t *testing.T, who party, method, path string, hdr map[string]string, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(who.key, who.secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s = %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	if buf, ok := out.(*bytes.Buffer); ok {
		buf.Write(b)
	}
	return resp.StatusCode
}

type result struct {
	Statements []json.RawMessage `json:"statements"`
	More       string            `json:"more"`
}

func (r result) ids(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range r.Statements {
		var x struct{ ID string }
		if err := json.Unmarshal(s, &x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x.ID)
	}
	return out
}

func learnerStatement(who, verb, activity, extra string) string {
	return fmt.Sprintf(`{"actor":{"objectType":"Agent","mbox":"mailto:%s@example.com"},"verb":{"id":%q},"object":{"id":%q}%s}`, who, verb, activity, extra)
}

const (
	verbCompleted = "http://adlnet.gov/expapi/verbs/completed"
	verbPaused    = "https://w3id.org/xapi/video/verbs/paused"
	skillsCourse  = "https://lms.acme.example/skills/negotiation"
	safetyCourse  = "https://lms.acme.example/compliance/fire-safety"
	introVideo    = "https://lms.acme.example/videos/intro"
	mentoringTalk = "https://mentoring.acme.example/sessions/1"
)

// revision reports the active policy revision, as who reads it.
func (l *lrs) revision(t *testing.T, who party) string {
	t.Helper()
	var ov struct{ Revision string }
	if code := l.do(t, who, "GET", "/api/v1/policies", nil, "", &ov); code != 200 || ov.Revision == "" {
		t.Fatalf("GET /api/v1/policies = %d %+v", code, ov)
	}
	return ov.Revision
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPurposesScenario walks the whole privacy story of issue 4 over HTTP
// only: HR defines the purposes (PUT /api/v1/policy-data; what loosens a
// control needs compliance too); a client writes
// for consenting and non-consenting learners; masking shows for HR and not
// for compliance; minimisation at write; a policy change is simulated, then
// activated (HR loses what the simulation said it would), then rolled back
// (HR sees it again); a learner withdraws consent and is gone from HR's very
// next read; a retention window passes (with an injected clock) and the
// data is gone, except what is on legal hold.
func TestPurposesScenario(t *testing.T) {
	clock := &offsetClock{}
	l := startLRSWith(t, "", runOptions{now: clock.Now})
	admin := party{l.key, l.secret}
	mk := func(body string) party {
		k, s := l.credential(t, body)
		return party{k, s}
	}
	lms := mk(`{"name":"course player","roles":["client"],"scopes":["statements/write"]}`)
	hr := mk(`{"name":"HR partner","roles":["hr"],"purpose":"skills-development"}`)
	compliance := mk(`{"name":"compliance office","roles":["compliance"]}`)
	alice := mk(`{"name":"Alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	bob := mk(`{"name":"Bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)

	// HR defines the purposes: from the data the LRS ships, mentoring
	// becomes a purpose of its own under the works agreement, kept 180 days.
	packRevision := l.revision(t, compliance)
	var pd map[string]any
	if code := l.do(t, hr, "GET", "/api/v1/policy-data", nil, "", &pd); code != 200 {
		t.Fatalf("HR GET /api/v1/policy-data = %d", code)
	}
	purposes := pd["custodia"].(map[string]any)["purposes"].(map[string]any)
	purposes["mentoring"] = map[string]any{
		"title": "Mentoring", "description": "Mentoring sessions agreed with the works council.",
		"legal_basis": "works_agreement", "retention_days": 180, "readers": []string{"hr", "learner"},
		"match": map[string]any{"activity_prefixes": []string{"https://mentoring.acme.example/"}},
	}
	purposes["skills-development"].(map[string]any)["match"].(map[string]any)["activity_prefixes"] = []string{"https://lms.acme.example/skills/"}
	// Mentoring no longer needs consent: that loosens a control, so HR
	// alone may not activate it; compliance, the second person, does.
	var refusal bytes.Buffer
	if code := l.do(t, hr, "PUT", "/api/v1/policy-data", nil, mustJSON(t, pd), &refusal); code != 403 || !strings.Contains(refusal.String(), "needs compliance") ||
		!strings.Contains(refusal.String(), "purposes.skills-development.match") || !strings.Contains(refusal.String(), "purposes.mentoring: added") {
		t.Fatalf("HR PUT /api/v1/policy-data (mentoring out of a consent purpose) = %d %s, want 403 naming what it loosens", code, refusal.String())
	}
	var defined struct{ Revision string }
	if code := l.do(t, compliance, "PUT", "/api/v1/policy-data", nil, mustJSON(t, pd), &defined); code != 200 || defined.Revision == packRevision {
		t.Fatalf("compliance PUT /api/v1/policy-data = %d %+v, want a new revision", code, defined)
	}
	if got := l.revision(t, compliance); got != defined.Revision {
		t.Errorf("active revision = %s, want %s", got, defined.Revision)
	}
	// HR tightens alone: the mentoring purpose kept 90 days instead of 180.
	purposes["mentoring"].(map[string]any)["retention_days"] = 90
	var tightened struct{ Revision string }
	if code := l.do(t, hr, "PUT", "/api/v1/policy-data", nil, mustJSON(t, pd), &tightened); code != 200 || tightened.Revision == defined.Revision {
		t.Fatalf("HR PUT /api/v1/policy-data (mentoring kept shorter) = %d %+v, want a new revision", code, tightened)
	}
	defined = tightened
	if code := l.do(t, hr, "PUT", "/api/v1/policies/extra.rego", map[string]string{"Content-Type": "text/plain"}, "package custodia.authz\n", nil); code != 403 {
		t.Errorf("HR PUT of a Rego module = %d, want 403: HR defines purposes, compliance the rules", code)
	}

	// The purposes, as a learner sees them.
	var consents struct {
		Consents []struct{ Purpose, LegalBasis, State string }
	}
	if code := l.do(t, alice, "GET", "/api/v1/me/consents", nil, "", &consents); code != 200 || len(consents.Consents) != 5 {
		t.Fatalf("GET /me/consents = %d %+v, want the five purposes", code, consents)
	}
	if i := slices.IndexFunc(consents.Consents, func(c struct{ Purpose, LegalBasis, State string }) bool { return c.Purpose == "mentoring" }); i < 0 || consents.Consents[i].State != "not_required" {
		t.Errorf("alice's consents = %+v, want mentoring, not_required (a works agreement)", consents.Consents)
	}
	// Alice consents to skills development and clickstream analytics; Bob to nothing.
	var receipts []string
	for _, purpose := range []string{"skills-development", "clickstream-analytics"} {
		var r struct {
			ID       string `json:"consentReceiptID"`
			Services []struct {
				Purposes []struct{ PurposeID, ConsentState string }
			}
		}
		if code := l.do(t, alice, "PUT", "/api/v1/me/consents/"+purpose, nil, `{"granted":true}`, &r); code != 200 || r.ID == "" || r.Services[0].Purposes[0].ConsentState != "granted" {
			t.Fatalf("alice consenting to %s = %d %+v", purpose, code, r)
		}
		receipts = append(receipts, r.ID)
	}
	var bobs bytes.Buffer
	if code := l.do(t, bob, "GET", "/api/v1/me/consents", nil, "", &bobs); code != 200 || !strings.Contains(bobs.String(), `"purpose":"skills-development","title"`) || !strings.Contains(bobs.String(), `"state":"not_given"`) {
		t.Errorf("bob's consents = %d %s, want skills-development not given", code, bobs.String())
	}
	var dl bytes.Buffer
	if code := l.do(t, alice, "GET", "/api/v1/me/consents/receipts/"+receipts[0], nil, "", &dl); code != 200 || !strings.Contains(dl.String(), `"consentReceiptID":"`+receipts[0]) {
		t.Errorf("downloading the receipt = %d %s", code, dl.String())
	}

	// A batch with a statement about Bob for a consent-based purpose fails whole.
	var msg bytes.Buffer
	batch := "[" + learnerStatement("alice", verbCompleted, skillsCourse, "") + "," + learnerStatement("bob", verbCompleted, skillsCourse, "") + "]"
	if code := l.do(t, lms, "POST", "/xapi/statements", nil, batch, &msg); code != 403 || !strings.Contains(msg.String(), "statements[1]") || !strings.Contains(msg.String(), "consent") {
		t.Fatalf("POST batch with bob unconsenting = %d %s, want 403 naming statements[1]", code, msg.String())
	}
	var all result
	if l.do(t, admin, "GET", "/xapi/statements", nil, "", &all); len(all.Statements) != 0 {
		t.Fatalf("after the refused batch the LRS holds %d statements, want 0", len(all.Statements))
	}

	var ids []string
	batch = "[" + strings.Join([]string{
		learnerStatement("alice", verbCompleted, skillsCourse, ""),
		learnerStatement("alice", verbPaused, introVideo, `,"result":{"response":"too slow"},"context":{"extensions":{"https://w3id.org/xapi/video/extensions/session-id":"SESSION-MARKER"}}`),
		learnerStatement("alice", verbCompleted, safetyCourse, ""),
		learnerStatement("bob", verbCompleted, safetyCourse, ""),
		learnerStatement("bob", verbCompleted, mentoringTalk, ""),
	}, ",") + "]"
	if code := l.do(t, lms, "POST", "/xapi/statements", nil, batch, &ids); code != 200 || len(ids) != 5 {
		t.Fatalf("POST = %d %v", code, ids)
	}
	aliceSkills, aliceClick, aliceSafety, bobSafety, bobMentoring := ids[0], ids[1], ids[2], ids[3], ids[4]
	// Bob's mentoring record needed no consent: HR's new purpose covers it.
	var mentoring result
	if code := l.do(t, hr, "GET", "/xapi/statements", map[string]string{"X-Custodia-Purpose": "mentoring"}, "", &mentoring); code != 200 || strings.Join(mentoring.ids(t), ",") != bobMentoring {
		t.Errorf("HR for mentoring sees %v, want [%s]", mentoring.ids(t), bobMentoring)
	}

	// HR reads for its credential's purpose: only alice's skills record.
	var r result
	if code := l.do(t, hr, "GET", "/xapi/statements", nil, "", &r); code != 200 || strings.Join(r.ids(t), ",") != aliceSkills {
		t.Errorf("HR (skills-development) sees %v, want [%s]", r.ids(t), aliceSkills)
	}
	// For clickstream analytics HR sees the response masked; compliance does not. Neither sees the minimised extensions.
	clickstream := map[string]string{"X-Custodia-Purpose": "clickstream-analytics"}
	var hrView, coView bytes.Buffer
	if code := l.do(t, hr, "GET", "/xapi/statements?statementId="+aliceClick, clickstream, "", &hrView); code != 200 ||
		!strings.Contains(hrView.String(), `"response":"[masked]"`) || strings.Contains(hrView.String(), "too slow") {
		t.Errorf("HR's view of the clickstream statement = %d %s, want the response masked", code, hrView.String())
	}
	if code := l.do(t, compliance, "GET", "/xapi/statements", clickstream, "", &coView); code != 200 || !strings.Contains(coView.String(), `"response":"too slow"`) {
		t.Errorf("compliance's view = %d %s, want the response", code, coView.String())
	}
	if strings.Contains(hrView.String()+coView.String(), "SESSION-MARKER") {
		t.Errorf("context.extensions were stored although the purpose minimises them")
	}
	if code := l.do(t, compliance, "GET", "/xapi/statements", map[string]string{"X-Custodia-Purpose": "skills-development"}, "", nil); code != 403 {
		t.Errorf("compliance reading for skills-development = %d, want 403", code)
	}

	// Compliance asks what taking skills development away from HR would
	// change on the statements stored, decided on their recorded purposes
	// and the consents given; nothing is activated.
	pd = nil
	if code := l.do(t, compliance, "GET", "/api/v1/policy-data", nil, "", &pd); code != 200 {
		t.Fatalf("GET /api/v1/policy-data = %d", code)
	}
	pd["custodia"].(map[string]any)["purposes"].(map[string]any)["skills-development"].(map[string]any)["readers"] = []string{"learner"}
	simReq, err := json.Marshal(map[string]any{"data": pd})
	if err != nil {
		t.Fatal(err)
	}
	var sim struct {
		Scanned          int
		EvaluationErrors int `json:"evaluation_errors"`
		Results          []struct {
			Role, Purpose string
			Read          struct {
				NewlyVisible int `json:"newly_visible"`
				NewlyHidden  int `json:"newly_hidden"`
			}
		}
	}
	if code := l.do(t, compliance, "POST", "/api/v1/policies/simulate", nil, string(simReq), &sim); code != 200 || sim.Scanned != 5 || sim.EvaluationErrors != 0 {
		t.Fatalf("simulate = %d %+v, want 5 statements scanned without errors", code, sim)
	}
	for _, r := range sim.Results {
		want := 0
		if r.Role == "hr" && r.Purpose == "skills-development" {
			want = 1 // alice's skills record, which she consented to
		}
		if r.Read.NewlyHidden != want || r.Read.NewlyVisible != 0 {
			t.Errorf("simulation %s/%s: read %+v, want %d newly hidden, none newly visible", r.Role, r.Purpose, r.Read, want)
		}
	}

	if l.revision(t, compliance) != defined.Revision {
		t.Errorf("the simulation changed the active policy")
	}

	// Compliance activates the change: HR loses exactly what the
	// simulation said, and alice, a reader of her own, keeps it.
	var changed struct{ Revision string }
	if code := l.do(t, compliance, "PUT", "/api/v1/policy-data", nil, mustJSON(t, pd), &changed); code != 200 || changed.Revision == defined.Revision {
		t.Fatalf("activating the change = %d %+v", code, changed)
	}
	if code := l.do(t, hr, "GET", "/xapi/statements", nil, "", nil); code != 403 {
		t.Errorf("HR reading for skills-development after the change = %d, want 403", code)
	}
	if code := l.do(t, hr, "GET", "/xapi/statements?statementId="+aliceSkills, nil, "", nil); code != 403 {
		t.Errorf("HR GET of alice's skills record after the change = %d, want 403", code)
	}
	var own result
	if l.do(t, alice, "GET", "/api/v1/me/statements", nil, "", &own); len(own.Statements) != 3 {
		t.Errorf("alice's own statements after the change = %v, want her three", own.ids(t))
	}
	// …and rolls it back: HR's revision is active again, and so is its view.
	var back struct{ Revision string }
	if code := l.do(t, compliance, "POST", "/api/v1/policies/rollback", nil, `{"revision":"`+defined.Revision+`"}`, &back); code != 200 || back.Revision != defined.Revision {
		t.Fatalf("rollback = %d %+v, want revision %s", code, back, defined.Revision)
	}
	r = result{}
	if code := l.do(t, hr, "GET", "/xapi/statements", nil, "", &r); code != 200 || strings.Join(r.ids(t), ",") != aliceSkills {
		t.Errorf("HR after the rollback = %d %v, want [%s]", code, r.ids(t), aliceSkills)
	}
	var revs struct {
		Active    string
		Revisions []struct {
			Revision    string
			Activations []string
		}
	}
	if code := l.do(t, compliance, "GET", "/api/v1/policies/revisions", nil, "", &revs); code != 200 || revs.Active != defined.Revision || len(revs.Revisions) != 4 {
		t.Errorf("revisions = %d %+v, want the pack, HR's and the change; HR's active", code, revs)
	}

	// Alice withdraws: on the very next request HR no longer sees her.
	if code := l.do(t, alice, "PUT", "/api/v1/me/consents/skills-development", nil, `{"granted":false}`, nil); code != 200 {
		t.Fatalf("withdrawing = %d", code)
	}
	r = result{}
	if l.do(t, hr, "GET", "/xapi/statements", nil, "", &r); len(r.Statements) != 0 {
		t.Errorf("HR after the withdrawal sees %v, want nothing", r.ids(t))
	}
	if code := l.do(t, hr, "GET", "/xapi/statements?statementId="+aliceSkills, nil, "", nil); code != 404 {
		t.Errorf("HR GET of the withdrawn statement = %d, want 404", code)
	}
	// Alice still sees all her own statements, page by page.
	var mine []string
	for path := "/api/v1/me/statements?limit=2"; path != ""; {
		var page result
		if code := l.do(t, alice, "GET", path, nil, "", &page); code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		mine = append(mine, page.ids(t)...)
		path = page.More
	}
	if len(mine) != 3 {
		t.Errorf("alice's own statements = %v, want her three", mine)
	}

	// A legal hold on Bob; then the compliance-training retention (3650 days) passes.
	if code := l.do(t, compliance, "POST", "/api/v1/holds", nil, `{"agent":{"mbox":"mailto:bob@example.com"},"reason":"labour court case"}`, nil); code != 201 {
		t.Fatalf("placing the hold = %d", code)
	}
	clock.Advance(91 * 24 * time.Hour)
	r = result{}
	if l.do(t, compliance, "GET", "/xapi/statements", clickstream, "", &r); len(r.Statements) != 0 {
		t.Errorf("after 91 days compliance still sees clickstream statements %v", r.ids(t))
	}
	clock.Advance(3651 * 24 * time.Hour)
	training := map[string]string{"X-Custodia-Purpose": "compliance-training"}
	r = result{}
	if l.do(t, compliance, "GET", "/xapi/statements", training, "", &r); strings.Join(r.ids(t), ",") != bobSafety {
		t.Errorf("after ten years compliance sees %v, want only bob's held record %s", r.ids(t), bobSafety)
	}
	var dry struct {
		DryRun    bool `json:"dry_run"`
		Expired   int
		Held      int
		Destroyed int
		ByPurpose map[string]struct{ Expired, Held, Destroyed int } `json:"by_purpose"`
	}
	if code := l.do(t, compliance, "POST", "/api/v1/retention/sweep", nil, `{"dry_run":true}`, &dry); code != 200 ||
		dry.Expired != 5 || dry.Held != 2 || dry.Destroyed != 3 || dry.ByPurpose["compliance-training"].Held != 1 || dry.ByPurpose["mentoring"].Held != 1 {
		t.Fatalf("dry run = %d %+v, want 5 expired, bob's two held, 3 to destroy", code, dry)
	}
	if code := l.do(t, admin, "GET", "/xapi/statements?statementId="+aliceSafety, nil, "", nil); code != 404 {
		t.Errorf("admin GET of an expired statement = %d, want 404", code)
	}
	var swept struct{ Destroyed int }
	if code := l.do(t, compliance, "POST", "/api/v1/retention/sweep", nil, `{"dry_run":false}`, &swept); code != 200 || swept.Destroyed != 3 {
		t.Fatalf("sweep = %d %+v, want 3 destroyed", code, swept)
	}
	all = result{}
	if l.do(t, admin, "GET", "/xapi/statements", nil, "", &all); strings.Join(all.ids(t), ",") != bobMentoring+","+bobSafety {
		t.Errorf("after the sweep the LRS holds %v, want only bob's held %s, %s", all.ids(t), bobMentoring, bobSafety)
	}
	var page result
	if l.do(t, alice, "GET", "/api/v1/me/statements", nil, "", &page); len(page.Statements) != 0 {
		t.Errorf("alice's statements after the sweep: %v, want none", page.ids(t))
	}
	var again struct{ Expired int }
	if l.do(t, compliance, "POST", "/api/v1/retention/sweep", nil, `{"dry_run":true}`, &again); again.Expired != 2 {
		t.Errorf("a second dry run finds %d expired, want only the two held", again.Expired)
	}
}

// TestRetentionWindowThroughAPI: compliance shortens a shipped purpose's
// retention window through PUT /api/v1/policy-data (the pack's Rego tests
// use their own data, so the change is accepted); a statement written
// afterwards expires by the new window, one written before keeps the expiry
// recorded at its write.
func TestRetentionWindowThroughAPI(t *testing.T) {
	clock := &offsetClock{}
	l := startLRSWith(t, "", runOptions{now: clock.Now})
	mk := func(body string) party {
		k, s := l.credential(t, body)
		return party{k, s}
	}
	lms := mk(`{"name":"course player","roles":["client"],"scopes":["statements/write"]}`)
	hr := mk(`{"name":"HR partner","roles":["hr"],"purpose":"skills-development"}`)
	compliance := mk(`{"name":"compliance office","roles":["compliance"]}`)
	alice := mk(`{"name":"Alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	if code := l.do(t, alice, "PUT", "/api/v1/me/consents/skills-development", nil, `{"granted":true}`, nil); code != 200 {
		t.Fatalf("consenting = %d", code)
	}
	var before []string
	if code := l.do(t, lms, "POST", "/xapi/statements", nil, learnerStatement("alice", verbCompleted, skillsCourse, ""), &before); code != 200 {
		t.Fatalf("POST = %d", code)
	}

	var pd map[string]any
	if code := l.do(t, compliance, "GET", "/api/v1/policy-data", nil, "", &pd); code != 200 {
		t.Fatalf("GET /api/v1/policy-data = %d", code)
	}
	pd["custodia"].(map[string]any)["purposes"].(map[string]any)["skills-development"].(map[string]any)["retention_days"] = 30
	var msg bytes.Buffer
	if code := l.do(t, compliance, "PUT", "/api/v1/policy-data", nil, mustJSON(t, pd), &msg); code != 200 {
		t.Fatalf("PUT /api/v1/policy-data (skills-development kept 30 days) = %d %s", code, msg.String())
	}
	var after []string
	if code := l.do(t, lms, "POST", "/xapi/statements", nil, learnerStatement("alice", verbCompleted, skillsCourse, ""), &after); code != 200 {
		t.Fatalf("POST = %d", code)
	}

	clock.Advance(31 * 24 * time.Hour)
	var r result
	if code := l.do(t, hr, "GET", "/xapi/statements", nil, "", &r); code != 200 || strings.Join(r.ids(t), ",") != before[0] {
		t.Errorf("HR after 31 days sees %v, want only the one written under 730 days (%s)", r.ids(t), before[0])
	}
	var dry struct {
		Expired   int
		ByPurpose map[string]struct{ Expired int } `json:"by_purpose"`
	}
	if code := l.do(t, compliance, "POST", "/api/v1/retention/sweep", nil, `{"dry_run":true}`, &dry); code != 200 || dry.Expired != 1 || dry.ByPurpose["skills-development"].Expired != 1 {
		t.Errorf("dry run after 31 days = %d %+v, want the new statement expired", code, dry)
	}
	if code := l.do(t, hr, "GET", "/xapi/statements?statementId="+after[0], nil, "", nil); code != 404 {
		t.Errorf("HR GET of the statement written under 30 days = %d, want 404", code)
	}
}
