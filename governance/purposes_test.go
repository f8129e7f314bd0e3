package governance_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// pf is a Gate on the default pack (or fsys) with principals for each role.
type pf struct {
	gate   *governance.Gate
	store  *governancetest.MemStore
	audit  *governancetest.MemAuditor
	clock  *testClock
	client governance.Principal
	alice  governance.Principal // learner
	bob    governance.Principal // learner
	admin  governance.Principal
}

const (
	aliceMbox = "mailto:alice@example.com"
	bobMbox   = "mailto:bob@example.com"
)

func newPurposeFixture(t *testing.T, fsys fs.FS) *pf {
	t.Helper()
	eng, err := governance.NewEngine(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	f := &pf{store: governancetest.NewMemStore(), audit: &governancetest.MemAuditor{}, clock: &testClock{t: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)}}
	f.gate = governance.NewGate(governance.GateConfig{
		Engine: eng, Statements: f.store, Records: f.store, Activities: f.store, Documents: f.store, Retention: f.store,
		Auditor: f.audit, Pseudonymizer: governancetest.Pseudonymizer{}, AuthorityHomePage: "http://lrs.example.com/", Now: f.clock.Now,
	})
	f.client = governance.Principal{ID: "k-lms", Roles: []string{"client"}, Scopes: []string{"statements/write"}}
	f.admin = governance.Principal{ID: "k-admin", Roles: []string{"admin"}, Scopes: []string{"all"}}
	f.alice = learner("k-alice", aliceMbox)
	f.bob = learner("k-bob", bobMbox)
	return f
}

func learner(id, mbox string) governance.Principal {
	return governance.Principal{ID: id, Roles: []string{"learner"}, Scopes: []string{"statements/write", "statements/read/mine", "state", "profile"}, Agent: &xapi.Agent{Mbox: mbox}}
}

func staff(role, purpose string) governance.Principal {
	return governance.Principal{ID: "k-" + role, Roles: []string{role}, Purpose: purpose}
}

// about is a statement about mbox on activity with verb, and extra JSON
// members (",…") appended.
func about(t *testing.T, mbox, verb, activity, extra string) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(fmt.Sprintf(`{"actor":{"mbox":%q},"verb":{"id":%q},"object":{"id":%q}%s}`, mbox, verb, activity, extra)), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	completed  = "http://adlnet.gov/expapi/verbs/completed"
	paused     = "https://w3id.org/xapi/video/verbs/paused"
	fireSafety = "https://lms.acme.example/compliance/fire-safety"
	negotiate  = "https://lms.acme.example/skills/negotiation"
	introVideo = "https://lms.acme.example/videos/intro"
	clickExtra = `,"result":{"response":"too long"},"context":{"extensions":{"https://w3id.org/xapi/video/extensions/session-id":"s-1"}}`
)

func (f *pf) put(t *testing.T, p governance.Principal, stmts ...*xapi.Statement) []string {
	t.Helper()
	ids, err := f.gate.PutStatements(context.Background(), p, stmts, xapi.V200, nil)
	if err != nil {
		t.Fatalf("PutStatements = %v", err)
	}
	return ids
}

func (f *pf) consent(t *testing.T, p governance.Principal, purpose string, granted bool) governance.ConsentReceipt {
	t.Helper()
	r, err := f.gate.SetConsent(context.Background(), p, purpose, granted)
	if err != nil {
		t.Fatalf("SetConsent(%s, %v) = %v", purpose, granted, err)
	}
	return r
}

// visible returns the ids p's query returns, and the statements.
func (f *pf) visible(t *testing.T, p governance.Principal) ([]string, []*xapi.Statement) {
	t.Helper()
	got, _, err := f.gate.QueryStatements(context.Background(), p, xapi.Query{}, "")
	if err != nil {
		t.Fatalf("QueryStatements as %s/%s = %v", p.Roles, p.Purpose, err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID())
	}
	return ids, got
}

func TestWriteRecordsPurposeBasisAndExpiry(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	f.consent(t, f.alice, "skills-development", true)
	f.put(t, f.client,
		about(t, aliceMbox, completed, fireSafety, ""),
		about(t, aliceMbox, completed, negotiate, ""),
		about(t, aliceMbox, completed, "http://courses.example.com/other", ""))
	want := []struct {
		purpose, basis string
		days           int
	}{{"compliance-training", "legal_obligation", 3650}, {"skills-development", "consent", 730}, {"learning-records", "legitimate_interest", 1825}}
	for i, s := range f.store.Statements() {
		r := s.Recorded()
		if r.Purpose != want[i].purpose || r.LegalBasis != want[i].basis || !r.Expires.Equal(s.Stored().AddDate(0, 0, want[i].days)) {
			t.Errorf("statement %d recorded %+v (stored %v), want %s/%s expiring after %d days", i, r, s.Stored(), want[i].purpose, want[i].basis, want[i].days)
		}
	}
	last := f.audit.Entries()[len(f.audit.Entries())-1]
	if !strings.Contains(strings.Join(last.Reasons, "|"), "recorded for purpose skills-development: 1") {
		t.Errorf("audit reasons = %q, want a count per purpose", last.Reasons)
	}
}

func TestWriteWithoutConsentRefusesWholeBatch(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	f.consent(t, f.alice, "skills-development", true)
	_, err := f.gate.PutStatements(context.Background(), f.client, []*xapi.Statement{
		about(t, aliceMbox, completed, negotiate, ""),
		about(t, bobMbox, completed, negotiate, ""),
	}, xapi.V200, nil)
	msg := xapi.ErrorMessage(err)
	if xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(msg, "statements[1]") || strings.Contains(msg, "statements[0]") ||
		!strings.Contains(msg, "purpose skills-development needs the consent") {
		t.Fatalf("PutStatements(alice consented, bob not) = %v, want Forbidden naming statements[1] and the reason", err)
	}
	if n := len(f.store.Statements()); n != 0 {
		t.Errorf("%d statements stored after a refused batch, want 0", n)
	}
	// After withdrawal, alice's are refused too.
	f.consent(t, f.alice, "skills-development", false)
	if _, err := f.gate.PutStatements(context.Background(), f.client, []*xapi.Statement{about(t, aliceMbox, completed, negotiate, "")}, xapi.V200, nil); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("PutStatements after withdrawal = %v, want Forbidden", err)
	}
}

// "Bob mentored Alice" is about Alice as well as Bob: it needs her consent
// to be written, and her withdrawal hides it from HR.
func TestConsentOfTheObjectAgent(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	mentoredAlice := func() *xapi.Statement {
		s, err := xapi.ParseStatement([]byte(fmt.Sprintf(`{"actor":{"mbox":%q},"verb":{"id":"http://id.tincanapi.com/verb/mentored"},"object":{"objectType":"Agent","mbox":%q},"context":{"contextActivities":{"parent":[{"id":"https://mentoring.acme.example/programme"}]}}}`, bobMbox, aliceMbox)), xapi.V200)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.consent(t, f.bob, "skills-development", true)
	_, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{mentoredAlice()}, xapi.V200, nil)
	if msg := xapi.ErrorMessage(err); xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(msg, "statements[0]") || !strings.Contains(msg, "needs the consent") {
		t.Fatalf("PutStatements(bob mentored alice, alice never consented) = %v, want Forbidden naming statements[0]", err)
	}
	f.consent(t, f.alice, "skills-development", true)
	ids := f.put(t, f.client, mentoredAlice())
	hr := staff("hr", "skills-development")
	if got, _ := f.visible(t, hr); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("hr sees %v before withdrawal, want [%s]", got, ids[0])
	}
	f.consent(t, f.alice, "skills-development", false)
	if got, _ := f.visible(t, hr); len(got) != 0 {
		t.Errorf("hr sees %v after alice (the object) withdrew, want nothing", got)
	}
	if _, err := f.gate.GetStatement(ctx, hr, ids[0], false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("hr GetStatement after alice withdrew = %v, want NotFound", err)
	}
	_, err = f.gate.PutStatements(ctx, f.client, []*xapi.Statement{mentoredAlice()}, xapi.V200, nil)
	if xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("PutStatements after alice withdrew = %v, want Forbidden", err)
	}
}

func TestWriteMinimises(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	f.consent(t, f.alice, "clickstream-analytics", true)
	orig := about(t, aliceMbox, paused, introVideo, clickExtra)
	f.put(t, f.client, orig)
	stored := f.store.Statements()[0]
	b, _ := stored.MarshalJSON()
	if strings.Contains(string(b), "session-id") || !strings.Contains(string(b), "too long") {
		t.Errorf("stored %s, want context.extensions removed and the rest kept", b)
	}
	if last := f.audit.Entries()[len(f.audit.Entries())-1]; !strings.Contains(strings.Join(last.Reasons, "|"), "minimised before storing: 1") {
		t.Errorf("audit reasons = %q, want the minimisation counted", last.Reasons)
	}
	// Sending the same statement again is the same statement, not a conflict.
	again := about(t, aliceMbox, paused, introVideo, clickExtra)
	if err := f.gate.PutStatement(context.Background(), f.client, stored.ID(), again, xapi.V200, nil); err != nil {
		t.Errorf("PutStatement(same statement again) = %v", err)
	}
}

const signature = `,"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"signature"},"contentType":"application/octet-stream","length":12,"sha2":"` +
	"6c0ff7b50c0bb2cb1d6c0e5c2e3e4b0c6b7f1e0f4c1c0a5f9d2e1b3c4d5e6f70" + `"}]`

// packWith returns the default pack with its data changed by edit.
func packWith(t *testing.T, edit func(purposes map[string]any)) fs.FS {
	t.Helper()
	raw, err := fs.ReadFile(policies.FS, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc["custodia"].(map[string]any)["purposes"].(map[string]any))
	b, _ := json.Marshal(doc)
	m := fstest.MapFS{"data.json": {Data: b}}
	entries, _ := fs.ReadDir(policies.FS, ".")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".rego") {
			src, _ := fs.ReadFile(policies.FS, e.Name())
			m[e.Name()] = &fstest.MapFile{Data: src}
		}
	}
	return m
}

// TestSignedStatements: minimisation would break a signature; the purpose's
// signed_statements setting decides between refusing and keeping it whole.
func TestSignedStatements(t *testing.T) {
	for _, tc := range []struct {
		setting string
		stored  bool
	}{{"reject", false}, {"keep_whole", true}} {
		t.Run(tc.setting, func(t *testing.T) {
			f := newPurposeFixture(t, packWith(t, func(ps map[string]any) {
				ps["clickstream-analytics"].(map[string]any)["signed_statements"] = tc.setting
			}))
			f.consent(t, f.alice, "clickstream-analytics", true)
			signed := about(t, aliceMbox, paused, introVideo, clickExtra+signature)
			_, err := f.gate.PutStatements(context.Background(), f.client, []*xapi.Statement{signed}, xapi.V200, nil)
			if !tc.stored {
				if xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(xapi.ErrorMessage(err), "signed statement cannot be minimised") {
					t.Fatalf("PutStatements(signed) = %v, want Forbidden for the signature", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PutStatements(signed) = %v", err)
			}
			b, _ := f.store.Statements()[0].MarshalJSON()
			if !strings.Contains(string(b), "session-id") {
				t.Errorf("stored %s, want it whole", b)
			}
			// An unsigned one is still minimised.
			f.put(t, f.client, about(t, aliceMbox, paused, introVideo, clickExtra))
			if b, _ := f.store.Statements()[1].MarshalJSON(); strings.Contains(string(b), "session-id") {
				t.Errorf("unsigned statement stored %s, want it minimised", b)
			}
		})
	}
}

// TestReadsByPurposeConsentAndMask walks the read rules: HR sees a
// purpose's rows only for that purpose, a withdrawn consent hides rows on
// the very next request, masks apply per role, and the person keeps seeing
// their own statements.
func TestReadsByPurposeConsentAndMask(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	f.consent(t, f.alice, "skills-development", true)
	f.consent(t, f.alice, "clickstream-analytics", true)
	ids := f.put(t, f.client,
		about(t, aliceMbox, completed, negotiate, ""),
		about(t, aliceMbox, paused, introVideo, clickExtra),
		about(t, bobMbox, completed, fireSafety, ""))
	skills, click, training := ids[0], ids[1], ids[2]

	hrSkills := staff("hr", "skills-development")
	if got, _ := f.visible(t, hrSkills); len(got) != 1 || got[0] != skills {
		t.Errorf("hr for skills-development sees %v, want [%s]", got, skills)
	}
	if got, _ := f.visible(t, staff("compliance", "compliance-training")); len(got) != 1 || got[0] != training {
		t.Errorf("compliance for compliance-training sees %v, want [%s]", got, training)
	}
	if _, _, err := f.gate.QueryStatements(ctx, staff("compliance", "skills-development"), xapi.Query{}, ""); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("compliance querying for skills-development = %v, want Forbidden", err)
	}
	if _, err := f.gate.GetStatement(ctx, staff("hr", "compliance-training"), skills, false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("hr for compliance-training GET of a skills statement = %v, want NotFound", err)
	}

	// Masks: hr sees "[masked]", compliance the response.
	_, hrRows := f.visible(t, staff("hr", "clickstream-analytics"))
	_, coRows := f.visible(t, staff("compliance", "clickstream-analytics"))
	if len(hrRows) != 1 || len(coRows) != 1 {
		t.Fatalf("clickstream rows: hr %d, compliance %d; want 1 each", len(hrRows), len(coRows))
	}
	if b, _ := hrRows[0].MarshalJSON(); !strings.Contains(string(b), `"response":"[masked]"`) {
		t.Errorf("hr sees %s, want result.response masked", b)
	}
	if b, _ := coRows[0].MarshalJSON(); !strings.Contains(string(b), `"response":"too long"`) {
		t.Errorf("compliance sees %s, want result.response", b)
	}
	one, err := f.gate.GetStatement(ctx, staff("hr", "clickstream-analytics"), click, false)
	if b, _ := one.MarshalJSON(); err != nil || !strings.Contains(string(b), xapi.MaskedValue) {
		t.Errorf("hr GetStatement(click) = %s, %v; want it masked", b, err)
	}
	if b, _ := f.store.Statements()[1].MarshalJSON(); !strings.Contains(string(b), "too long") {
		t.Errorf("masking changed the stored statement: %s", b)
	}

	// Withdrawal hides at once, from HR; alice still sees her own.
	f.consent(t, f.alice, "skills-development", false)
	if got, _ := f.visible(t, hrSkills); len(got) != 0 {
		t.Errorf("hr after withdrawal sees %v, want nothing", got)
	}
	if _, err := f.gate.GetStatement(ctx, hrSkills, skills, false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("hr GetStatement after withdrawal = %v, want NotFound", err)
	}
	mine, _, err := f.gate.MyStatements(ctx, f.alice, "", 10)
	if err != nil || len(mine) != 2 {
		t.Errorf("alice's own statements = %d, %v; want 2 (withdrawal does not hide them from her)", len(mine), err)
	}
	for _, s := range mine {
		if b, _ := s.MarshalJSON(); strings.Contains(string(b), xapi.MaskedValue) {
			t.Errorf("alice sees her own statement masked: %s", b)
		}
	}
	if _, _, err := f.gate.MyStatements(ctx, f.client, "", 10); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("MyStatements for a client = %v, want Forbidden", err)
	}
	// Granting again shows it again.
	f.consent(t, f.alice, "skills-development", true)
	if got, _ := f.visible(t, hrSkills); len(got) != 1 {
		t.Errorf("hr after a new grant sees %v, want the statement again", got)
	}
}

func TestConsentsAndReceipts(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	r := f.consent(t, f.alice, "clickstream-analytics", true)
	p := r.Services[0].Purposes[0]
	if r.Version != governance.ReceiptVersion || r.ConsentReceiptID == "" || r.Jurisdiction != "EU" || r.ConsentTimestamp != f.clock.Now().Unix() ||
		r.PIIPrincipalID != (governancetest.Pseudonymizer{}).Pseudonym("subject:mbox:"+aliceMbox) || r.PIIControllers[0].PIIController != "ACME Learning GmbH" ||
		p.PurposeID != "clickstream-analytics" || p.LegalBasis != "consent" || p.ConsentState != "granted" || p.RetentionDays != 90 || p.ConsentType != "EXPLICIT" {
		t.Errorf("receipt = %+v, want a Kantara-shaped receipt of the grant", r)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "alice") {
		t.Errorf("receipt %s names the person in plain form", b)
	}
	got, err := f.gate.ConsentReceipt(ctx, f.alice, r.ConsentReceiptID)
	if err != nil || got.ConsentReceiptID != r.ConsentReceiptID || got.Services[0].Purposes[0].ConsentState != "granted" {
		t.Errorf("ConsentReceipt(own) = %+v, %v", got, err)
	}
	if _, err := f.gate.ConsentReceipt(ctx, f.bob, r.ConsentReceiptID); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("ConsentReceipt(alice's) as bob = %v, want NotFound", err)
	}
	f.clock.Advance(time.Hour)
	w := f.consent(t, f.alice, "clickstream-analytics", false)
	if w.Services[0].Purposes[0].ConsentState != "withdrawn" || w.ConsentReceiptID == r.ConsentReceiptID {
		t.Errorf("withdrawal receipt = %+v, want a new receipt, withdrawn", w)
	}
	states, err := f.gate.Consents(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]governance.ConsentState{}
	for _, s := range states {
		byID[s.Purpose] = s
	}
	want := map[string]string{"clickstream-analytics": "withdrawn", "skills-development": "not_given", "compliance-training": "not_required", "learning-records": "not_required"}
	for id, st := range want {
		if byID[id].State != st {
			t.Errorf("Consents()[%s].State = %q, want %q", id, byID[id].State, st)
		}
	}
	if c := byID["clickstream-analytics"]; c.Receipt != w.ConsentReceiptID || c.Changed == nil || !c.Changed.Equal(f.clock.Now()) || c.Title == "" || c.RetentionDays != 90 {
		t.Errorf("Consents()[clickstream] = %+v, want the withdrawal's receipt and time", c)
	}
	for _, tc := range []struct {
		name    string
		p       governance.Principal
		purpose string
		want    xapi.Kind
	}{
		{"unknown purpose", f.alice, "marketing", xapi.NotFound},
		{"purpose not based on consent", f.alice, "compliance-training", xapi.Invalid},
		{"no person", f.client, "clickstream-analytics", xapi.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.gate.SetConsent(ctx, tc.p, tc.purpose, true); xapi.ErrorKind(err) != tc.want {
				t.Errorf("SetConsent = %v, want %v", err, tc.want)
			}
		})
	}
	for _, raw := range f.store.Records() {
		if strings.Contains(string(raw), "alice@") {
			// Records are sealed by the real store; even so, consent records hold no identifier.
			t.Errorf("a consent or receipt record names alice in plain form: %s", raw)
		}
	}
}

// TestRetention: expired statements disappear from reads at once, the
// sweep reports (dry run) and destroys them, and legal holds — on a person
// or a purpose — keep what they pin.
func TestRetention(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	for _, p := range []governance.Principal{f.alice, f.bob} {
		f.consent(t, p, "clickstream-analytics", true)
	}
	ids := f.put(t, f.client,
		about(t, aliceMbox, paused, introVideo, ""),
		about(t, bobMbox, paused, introVideo, ""),
		about(t, aliceMbox, completed, fireSafety, ""))
	co := staff("compliance", "clickstream-analytics")
	compliance := staff("compliance", "")
	if _, err := f.gate.PlaceHold(ctx, f.client, governance.HoldRequest{Purpose: "clickstream-analytics"}); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("PlaceHold as a client = %v, want Forbidden", err)
	}
	hold, err := f.gate.PlaceHold(ctx, compliance, governance.HoldRequest{Agent: &xapi.Agent{Mbox: bobMbox}, Reason: "litigation 2026-7"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.visible(t, co); len(got) != 2 {
		t.Fatalf("compliance sees %v, want both clickstream statements", got)
	}
	f.clock.Advance(91 * 24 * time.Hour)
	if got, _ := f.visible(t, co); len(got) != 1 || got[0] != ids[1] {
		t.Errorf("after 91 days compliance sees %v, want only bob's (held)", got)
	}
	if _, err := f.gate.GetStatement(ctx, f.admin, ids[0], false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("admin GetStatement(expired) = %v, want NotFound", err)
	}
	if _, err := f.gate.SweepRetention(ctx, staff("hr", ""), true); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("SweepRetention as hr = %v, want Forbidden", err)
	}
	dry, err := f.gate.SweepRetention(ctx, compliance, true)
	want := governance.SweepCount{Expired: 2, Held: 1, Destroyed: 1}
	if err != nil || !dry.DryRun || dry.Expired != 2 || dry.Held != 1 || dry.Destroyed != 1 || dry.ByPurpose["clickstream-analytics"] != want {
		t.Fatalf("dry run = %+v, %v; want 2 expired, 1 held, 1 to destroy", dry, err)
	}
	if n := len(f.store.Statements()); n != 3 {
		t.Fatalf("a dry run left %d statements, want 3", n)
	}
	rep, err := f.gate.SweepRetention(ctx, compliance, false)
	if err != nil || rep.Destroyed != 1 || rep.DryRun {
		t.Fatalf("sweep = %+v, %v; want 1 destroyed", rep, err)
	}
	var left []string
	for _, s := range f.store.Statements() {
		left = append(left, s.ID())
	}
	if strings.Join(left, ",") != ids[1]+","+ids[2] {
		t.Errorf("after the sweep the store holds %v, want bob's held statement and the training record", left)
	}
	last := f.audit.Entries()[len(f.audit.Entries())-1]
	if last.Action != "retention.sweep" || last.Count != 1 || !strings.Contains(strings.Join(last.Reasons, "|"), "purpose clickstream-analytics: 2 expired, 1 held, 1 destroyed") {
		t.Errorf("sweep audit entry = %+v", last)
	}
	// A hold on the purpose works the same way; releasing the person's
	// hold then lets the sweep take bob's.
	ph, err := f.gate.PlaceHold(ctx, compliance, governance.HoldRequest{Purpose: "clickstream-analytics"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gate.ReleaseHold(ctx, compliance, hold.ID); err != nil {
		t.Fatal(err)
	}
	if rep, _ := f.gate.SweepRetention(ctx, compliance, false); rep.Destroyed != 0 || rep.Held != 1 {
		t.Errorf("sweep under a purpose hold = %+v, want nothing destroyed", rep)
	}
	if err := f.gate.ReleaseHold(ctx, compliance, ph.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.gate.ReleaseHold(ctx, compliance, ph.ID); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("releasing a released hold = %v, want NotFound", err)
	}
	if got, _ := f.visible(t, co); len(got) != 0 {
		t.Errorf("after release compliance sees %v, want nothing", got)
	}
	if rep, _ := f.gate.SweepRetention(ctx, compliance, false); rep.Destroyed != 1 {
		t.Errorf("sweep after release = %+v, want bob's destroyed", rep)
	}
	holds, err := f.gate.Holds(ctx, compliance)
	if err != nil || len(holds) != 0 {
		t.Errorf("Holds = %v, %v; want none left", holds, err)
	}
}

func TestHoldRequests(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	co := staff("compliance", "")
	for _, tc := range []struct {
		name string
		req  governance.HoldRequest
	}{
		{"neither", governance.HoldRequest{}},
		{"both", governance.HoldRequest{Agent: &xapi.Agent{Mbox: aliceMbox}, Purpose: "skills-development"}},
		{"bad purpose", governance.HoldRequest{Purpose: "Not A Purpose"}},
		{"agent without IFI", governance.HoldRequest{Agent: &xapi.Agent{Name: "x"}}},
		{"long reason", governance.HoldRequest{Purpose: "skills-development", Reason: strings.Repeat("x", 501)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.gate.PlaceHold(ctx, co, tc.req); xapi.ErrorKind(err) != xapi.Invalid {
				t.Errorf("PlaceHold(%+v) = %v, want Invalid", tc.req, err)
			}
		})
	}
	h, err := f.gate.PlaceHold(ctx, co, governance.HoldRequest{Agent: &xapi.Agent{Mbox: aliceMbox}, Reason: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.gate.Holds(ctx, co)
	if err != nil || len(list) != 1 || list[0].ID != h.ID || list[0].Agent == nil || list[0].Agent.Mbox != aliceMbox || list[0].Reason != "audit" {
		t.Errorf("Holds = %+v, %v; want the hold on alice", list, err)
	}
	if _, err := f.gate.Holds(ctx, staff("hr", "")); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("Holds as hr = %v, want Forbidden", err)
	}
}

// TestBadObligationsFailClosed: a policy whose obligations are malformed
// refuses the access (and records it) rather than storing unminimised data.
// The engine refuses, before activation, a policy that gives malformed
// obligations for its sample inputs; one that gives them only for inputs the
// samples do not have (here: the writing client k-lms) becomes active, and
// each request it decides that way must still fail closed.
func TestBadObligationsFailClosed(t *testing.T) {
	for _, tc := range []struct{ name, obligations, want string }{
		{"not an object", `"x"`, "obligations is not an object"},
		{"unknown member", `{"purpos": "x"}`, `unknown member "purpos"`},
		{"bad purpose", `{"purpose": "Not Valid"}`, "obligations.purpose"},
		{"bad basis", `{"legal_basis": "whim"}`, "obligations.legal_basis"},
		{"bad days", `{"retention_days": -1}`, "obligations.retention_days"},
		{"fractional days", `{"retention_days": 1.5}`, "obligations.retention_days"},
		{"minimise not a list", `{"minimise": "context"}`, "obligations.minimise"},
		{"minimise the actor", `{"minimise": ["actor"]}`, "obligations.minimise"},
		{"mask empty path", `{"mask": ["result..response"]}`, "obligations.mask"},
	} {
		t.Run(tc.name+"/refused at activation", func(t *testing.T) {
			mod := "package custodia.authz\n\ndecision := {\"allow\": true, \"reasons\": [], \"obligations\": " + tc.obligations + "}\n"
			_, err := governance.NewEngine(context.Background(), fstest.MapFS{"authz.rego": {Data: []byte(mod)}})
			if xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), tc.want) {
				t.Errorf("NewEngine(obligations %s) = %v, want Invalid naming %q", tc.obligations, err, tc.want)
			}
		})
		t.Run(tc.name+"/fails closed at request time", func(t *testing.T) {
			mod := "package custodia.authz\n\ndefault decision := {\"allow\": true, \"reasons\": []}\n\n" +
				"decision := {\"allow\": true, \"reasons\": [], \"obligations\": " + tc.obligations + "} if input.principal.id == \"k-lms\"\n"
			f := newPurposeFixture(t, fstest.MapFS{"authz.rego": {Data: []byte(mod)}})
			_, err := f.gate.PutStatements(context.Background(), f.client, []*xapi.Statement{about(t, aliceMbox, completed, negotiate, "")}, xapi.V200, nil)
			if xapi.ErrorKind(err) != xapi.Internal || len(f.store.Statements()) != 0 {
				t.Errorf("PutStatements under obligations %s = %v, want Internal and nothing stored", tc.obligations, err)
			}
			if last := f.audit.Entries()[len(f.audit.Entries())-1]; last.Decision != "deny" {
				t.Errorf("last audit entry = %+v, want the refusal recorded", last)
			}
		})
	}
}

func TestParsePolicyData(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{"custodia": map[string]any{
			"purposes": map[string]any{"p": map[string]any{"title": "P", "legal_basis": "consent", "retention_days": 30, "readers": []any{"hr"}, "match": map[string]any{}}},
			"settings": map[string]any{"default_purpose": "p", "controller": map[string]any{"name": "C", "email": "dpo@c.example", "policy_url": "https://c.example/privacy"}},
		}}
	}
	if d, err := governance.ParsePolicyData(valid()); err != nil || d.Purposes["p"].RetentionDays != 30 || d.Settings.DefaultPurpose != "p" {
		t.Fatalf("ParsePolicyData(valid) = %+v, %v", d, err)
	}
	if d, err := governance.ParsePolicyData(map[string]any{}); err != nil || len(d.Purposes) != 0 {
		t.Errorf("ParsePolicyData(no data) = %+v, %v; want no purposes", d, err)
	}
	for _, tc := range []struct {
		name string
		edit func(p, settings map[string]any)
		want string
	}{
		{"unknown legal basis", func(p, _ map[string]any) { p["legal_basis"] = "whim" }, "legal_basis"},
		{"unknown member", func(p, _ map[string]any) { p["retention"] = 3 }, "unknown field"},
		{"unknown reader", func(p, _ map[string]any) { p["readers"] = []any{"boss"} }, "readers"},
		{"negative retention", func(p, _ map[string]any) { p["retention_days"] = -1 }, "retention_days"},
		{"minimise actor", func(p, _ map[string]any) { p["minimise"] = []any{"actor.mbox"} }, "may not be removed"},
		{"mask for unknown role", func(p, _ map[string]any) { p["masks"] = map[string]any{"boss": []any{"result"}} }, "masks"},
		{"bad signed setting", func(p, _ map[string]any) { p["signed_statements"] = "maybe" }, "signed_statements"},
		{"no title", func(p, _ map[string]any) { delete(p, "title") }, "title"},
		{"unknown default", func(_, s map[string]any) { s["default_purpose"] = "q" }, "default_purpose"},
		{"no default", func(_, s map[string]any) { delete(s, "default_purpose") }, "default_purpose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := valid()
			c := doc["custodia"].(map[string]any)
			tc.edit(c["purposes"].(map[string]any)["p"].(map[string]any), c["settings"].(map[string]any))
			_, err := governance.ParsePolicyData(doc)
			if xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), tc.want) {
				t.Errorf("ParsePolicyData = %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}
}

// TestParsePolicyDataStrict: what the policy data may not hold — keys
// beside custodia, a controller consent receipts cannot name, match
// conditions that are not IRIs (or would match everything), masks and
// minimisation of the fields that make a statement's identity.
func TestParsePolicyDataStrict(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{"custodia": map[string]any{
			"purposes": map[string]any{"p": map[string]any{"title": "P", "legal_basis": "consent", "readers": []any{"hr"}, "match": map[string]any{
				"verbs": []any{"http://adlnet.gov/expapi/verbs/completed"}, "activity_types": []any{"http://adlnet.gov/expapi/activities/course"},
				"activity_prefixes": []any{"https://lms.example/"}}}},
			"settings": map[string]any{"default_purpose": "p", "controller": map[string]any{
				"name": "ACME", "contact": "DPO", "email": "dpo@acme.example", "address": "1 Example Street", "policy_url": "https://acme.example/privacy"}},
		}}
	}
	if _, err := governance.ParsePolicyData(valid()); err != nil {
		t.Fatalf("ParsePolicyData(valid) = %v", err)
	}
	purpose := func(d map[string]any) map[string]any {
		return d["custodia"].(map[string]any)["purposes"].(map[string]any)["p"].(map[string]any)
	}
	match := func(d map[string]any) map[string]any { return purpose(d)["match"].(map[string]any) }
	controller := func(d map[string]any) map[string]any {
		return d["custodia"].(map[string]any)["settings"].(map[string]any)["controller"].(map[string]any)
	}
	type tc struct {
		name string
		edit func(d map[string]any)
		want string
	}
	cases := []tc{
		{"top-level key besides custodia", func(d map[string]any) { d["extra"] = map[string]any{"x": 1} }, `"extra"`},
		{"no controller", func(d map[string]any) {
			delete(d["custodia"].(map[string]any)["settings"].(map[string]any), "controller")
		}, "settings.controller: name"},
		{"blank controller name", func(d map[string]any) { controller(d)["name"] = "  " }, "settings.controller: name"},
		{"controller without contact or email", func(d map[string]any) { delete(controller(d), "contact"); controller(d)["email"] = "" }, "contact or email"},
		{"controller without address or policy url", func(d map[string]any) { delete(controller(d), "address"); delete(controller(d), "policy_url") }, "address or policy_url"},
		{"verb not an IRI", func(d map[string]any) { match(d)["verbs"] = []any{"completed"} }, "match.verbs"},
		{"empty verb", func(d map[string]any) { match(d)["verbs"] = []any{""} }, "match.verbs"},
		{"activity type not an IRI", func(d map[string]any) { match(d)["activity_types"] = []any{"course"} }, "match.activity_types"},
		{"empty activity prefix", func(d map[string]any) { match(d)["activity_prefixes"] = []any{""} }, "match.activity_prefixes"},
		{"blank activity prefix", func(d map[string]any) { match(d)["activity_prefixes"] = []any{" "} }, "match.activity_prefixes"},
	}
	for _, path := range []string{"id", "actor", "actor.mbox", "verb", "object.id", "stored", "authority", "authority.name", "version"} {
		cases = append(cases,
			tc{"mask " + path, func(d map[string]any) { purpose(d)["masks"] = map[string]any{"hr": []any{path}} }, "may not be masked"},
			tc{"minimise " + path, func(d map[string]any) { purpose(d)["minimise"] = []any{path} }, "may not be removed"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := valid()
			c.edit(doc)
			_, err := governance.ParsePolicyData(doc)
			if xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(xapi.ErrorMessage(err), c.want) {
				t.Errorf("ParsePolicyData = %v, want Invalid mentioning %q", err, c.want)
			}
		})
	}
}

// A write that names a purpose needs it defined: "nope" is refused, not
// recorded as the purpose in force of an allowed write.
func TestWriteNamedPurposeMustBeDefined(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	named := f.client
	named.Purpose = "nope"
	_, err := f.gate.PutStatements(context.Background(), named, []*xapi.Statement{about(t, aliceMbox, completed, fireSafety, "")}, xapi.V200, nil)
	if xapi.ErrorKind(err) != xapi.Forbidden || !strings.Contains(xapi.ErrorMessage(err), "purpose nope is not defined") {
		t.Fatalf("PutStatements naming purpose nope = %v, want Forbidden: purpose nope is not defined", err)
	}
	if e := f.audit.Entries()[len(f.audit.Entries())-1]; e.Decision != "deny" {
		t.Errorf("audit entry %s for purpose %s, want deny", e.Decision, e.Purpose)
	}
	if n := len(f.store.Statements()); n != 0 {
		t.Errorf("%d statements stored, want 0", n)
	}
	named.Purpose = "compliance-training"
	f.put(t, named, about(t, aliceMbox, completed, fireSafety, ""))
}

// A person's own statements include those that name them by the
// mbox_sha1sum of their mbox, as actor or object.
func TestMyStatementsBySHA1Sum(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	sum := sha1.Sum([]byte(aliceMbox))
	hashed, err := xapi.ParseStatement([]byte(fmt.Sprintf(`{"actor":{"mbox_sha1sum":%q},"verb":{"id":%q},"object":{"id":%q}}`, hex.EncodeToString(sum[:]), completed, fireSafety)), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	ids := f.put(t, f.client, about(t, aliceMbox, completed, fireSafety, ""), hashed, about(t, bobMbox, completed, fireSafety, ""))
	mine, _, err := f.gate.MyStatements(context.Background(), f.alice, "", 10)
	var got []string
	for _, s := range mine {
		got = append(got, s.ID())
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids[:2]))
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("MyStatements(alice) = %v, %v; want %v (by mbox and by mbox_sha1sum)", got, err, want)
	}
}
