package governance_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

const justification = "Investigating incident INC-2041: a suspected data export by a compromised LMS account."

// lastEntry returns the last audit entry of f.
func (f *pf) lastEntry(t *testing.T) governance.AuditEntry {
	t.Helper()
	es := f.audit.Entries()
	if len(es) == 0 {
		t.Fatal("no audit entry")
	}
	return es[len(es)-1]
}

// TestBreakGlass opens a session for hr and checks that it lets hr read
// beyond its policy, flags each such access with the justification, never
// lets hr write, ends by itself, and is listed for review.
func TestBreakGlass(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	s, err := xapi.ParseStatement([]byte(`{"actor":{"mbox":"`+bobMbox+`"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.acme.example/compliance/fire-safety"}}`), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{s}, xapi.V200, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr := staff("hr", "learning-records")
	read := func() error {
		_, err := f.gate.GetStatement(ctx, hr, ids[0], false)
		return err
	}
	if err := read(); xapi.ErrorKind(err) != xapi.NotFound {
		t.Fatalf("hr GetStatement(compliance-training row) without break-glass = %v, want NotFound", err)
	}
	if e := f.lastEntry(t); e.BreakGlass || e.Decision != "deny" {
		t.Fatalf("audit entry = %+v, want a denial without break-glass", e)
	}

	refusals := []struct {
		name string
		p    governance.Principal
		req  governance.BreakGlassRequest
		kind xapi.Kind
	}{
		{"learner", f.bob, governance.BreakGlassRequest{Justification: justification, Minutes: 30}, xapi.Forbidden},
		{"auditor", staff("auditor", ""), governance.BreakGlassRequest{Justification: justification, Minutes: 30}, xapi.Forbidden},
		{"short justification", hr, governance.BreakGlassRequest{Justification: "because", Minutes: 30}, xapi.Invalid},
		{"blank justification", hr, governance.BreakGlassRequest{Justification: strings.Repeat(" ", 40), Minutes: 30}, xapi.Invalid},
		{"no minutes", hr, governance.BreakGlassRequest{Justification: justification}, xapi.Invalid},
		{"beyond the policy's maximum", hr, governance.BreakGlassRequest{Justification: justification, Minutes: 241}, xapi.Invalid},
		{"bad purpose", hr, governance.BreakGlassRequest{Justification: justification, Minutes: 30, Purpose: "Free Text"}, xapi.Invalid},
		{"undefined purpose", hr, governance.BreakGlassRequest{Justification: justification, Minutes: 30, Purpose: "investigation"}, xapi.Invalid},
		{"NUL in justification", hr, governance.BreakGlassRequest{Justification: justification + "\x00", Minutes: 30}, xapi.Invalid},
		{"ESC in justification", hr, governance.BreakGlassRequest{Justification: "\x1b[2J" + justification, Minutes: 30}, xapi.Invalid},
		{"newline in justification", hr, governance.BreakGlassRequest{Justification: justification + "\nforged line", Minutes: 30}, xapi.Invalid},
		{"bidi override in justification", hr, governance.BreakGlassRequest{Justification: justification + "\u202e", Minutes: 30}, xapi.Invalid},
	}
	for _, tt := range refusals {
		if _, err := f.gate.OpenBreakGlass(ctx, tt.p, tt.req); xapi.ErrorKind(err) != tt.kind {
			t.Errorf("OpenBreakGlass(%s) = %v, want %v", tt.name, err, tt.kind)
		}
	}
	// One limit, one message: the Gate's, from the policy data (default 240).
	if _, err := f.gate.OpenBreakGlass(ctx, hr, governance.BreakGlassRequest{Justification: justification, Minutes: 1440}); err == nil || !strings.Contains(err.Error(), "from 1 to 240") {
		t.Errorf("OpenBreakGlass(1440 minutes) = %v, want the message naming 1 to 240", err)
	}
	if err := read(); xapi.ErrorKind(err) != xapi.NotFound {
		t.Fatalf("hr GetStatement after refused openings = %v, want NotFound", err)
	}

	opened, err := f.gate.OpenBreakGlass(ctx, hr, governance.BreakGlassRequest{Justification: "  " + justification + "\n", Minutes: 30, Purpose: "compliance-training"})
	if err != nil {
		t.Fatal(err)
	}
	if !opened.Open || opened.Justification != justification || !opened.Expires.Equal(f.clock.Now().Add(30*time.Minute)) || opened.Purpose != "compliance-training" {
		t.Fatalf("OpenBreakGlass = %+v, want an open session of 30 minutes with the trimmed justification", opened)
	}
	if e := f.lastEntry(t); e.Action != governance.ActionBreakGlassOpen || !e.BreakGlass || e.Justification != justification {
		t.Errorf("audit entry of the opening = %+v, want break_glass.open flagged with its justification", e)
	}

	// At most one open session per principal: a second is a conflict
	// naming when the first ends, so every access links to one justification.
	_, err = f.gate.OpenBreakGlass(ctx, hr, governance.BreakGlassRequest{Justification: "A second, different reason for looking at the records.", Minutes: 60})
	if xapi.ErrorKind(err) != xapi.Conflict || !strings.Contains(err.Error(), opened.Expires.UTC().Format(time.RFC3339)) {
		t.Errorf("second OpenBreakGlass while one is open = %v, want Conflict naming %s", err, opened.Expires.UTC().Format(time.RFC3339))
	}
	sessionReason := "break-glass session " + opened.ID

	if err := read(); err != nil {
		t.Fatalf("hr GetStatement under break-glass = %v, want the statement", err)
	}
	if e := f.lastEntry(t); !e.BreakGlass || e.Justification != justification || e.Decision != "allow" || len(e.Subjects) != 1 || !slices.Contains(e.Reasons, sessionReason) {
		t.Errorf("audit entry of the read = %+v, want an allowed read of bob flagged with the justification and reason %q", e, sessionReason)
	}
	got, _, err := f.gate.QueryStatements(ctx, hr, xapi.Query{}, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("hr QueryStatements under break-glass = %d statements, %v; want 1", len(got), err)
	}
	if e := f.lastEntry(t); !e.BreakGlass || e.Count != 1 || !slices.Contains(e.Reasons, sessionReason) {
		t.Errorf("audit entry of the query = %+v, want flagged, count 1, reason %q", e, sessionReason)
	}
	// Break-glass reads; it never writes.
	if _, err := f.gate.PutStatements(ctx, hr, []*xapi.Statement{s}, xapi.V200, nil); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("hr PutStatements under break-glass = %v, want Forbidden", err)
	}
	if e := f.lastEntry(t); e.BreakGlass {
		t.Errorf("refused write flagged as break-glass: %+v", e)
	}
	// The session is hr's own: another hr principal gains nothing.
	other := hr
	other.ID = "k-hr-2"
	if _, err := f.gate.GetStatement(ctx, other, ids[0], false); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("another hr principal GetStatement = %v, want NotFound", err)
	}
	// A restarted gate over the same records sees the open session.
	restarted := governance.NewGate(governance.GateConfig{
		Engine: newEngine(t), Statements: f.store, Records: f.store, Activities: f.store, Documents: f.store,
		Auditor: f.audit, Pseudonymizer: governancetest.Pseudonymizer{}, Now: f.clock.Now,
	})
	if _, err := restarted.GetStatement(ctx, hr, ids[0], false); err != nil {
		t.Errorf("GetStatement through a restarted gate = %v, want the statement", err)
	}

	f.clock.Advance(30 * time.Minute)
	if err := read(); xapi.ErrorKind(err) != xapi.NotFound {
		t.Fatalf("hr GetStatement after the session expired = %v, want NotFound", err)
	}
	if e := f.lastEntry(t); e.BreakGlass {
		t.Errorf("audit entry after expiry = %+v, want no break-glass", e)
	}

	if _, err := f.gate.BreakGlassSessions(ctx, hr); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("BreakGlassSessions(hr) = %v, want Forbidden", err)
	}
	for _, role := range []string{"compliance", "auditor"} {
		list, err := f.gate.BreakGlassSessions(ctx, staff(role, ""))
		if err != nil || len(list) != 1 {
			t.Fatalf("BreakGlassSessions(%s) = %d sessions, %v; want 1", role, len(list), err)
		}
		if l := list[0]; l.ID != opened.ID || l.Open || l.Justification != justification || l.Principal != opened.Principal || l.Principal == hr.ID {
			t.Errorf("BreakGlassSessions(%s)[0] = %+v, want the closed session under hr's pseudonym", role, l)
		}
	}
}

// TestRotateCredential checks that a rotated credential's old secret stops
// working at once, even when it was cached, and the new one works.
func TestRotateCredential(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, old, err := f.gate.CreateCredential(ctx, f.admin, governance.CredentialRequest{Name: "lms", Roles: []string{"client"}, Scopes: []string{"statements/write"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.Authenticate(ctx, c.Key, old); err != nil { // now cached
		t.Fatal(err)
	}
	if _, _, err := f.gate.RotateCredential(ctx, f.alice, c.Key); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Errorf("RotateCredential by a learner = %v, want Forbidden", err)
	}
	if _, _, err := f.gate.RotateCredential(ctx, f.admin, "no-such-key"); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("RotateCredential(unknown) = %v, want NotFound", err)
	}
	rc, fresh, err := f.gate.RotateCredential(ctx, f.admin, c.Key)
	if err != nil || fresh == "" || fresh == old || rc.Key != c.Key || strings.Join(rc.Scopes, ",") != "statements/write" {
		t.Fatalf("RotateCredential = %+v, %q, %v; want the same credential with a new secret", rc, fresh, err)
	}
	if _, err := f.gate.Authenticate(ctx, c.Key, old); xapi.ErrorKind(err) != xapi.Unauthorized {
		t.Errorf("Authenticate(old secret) after rotation = %v, want Unauthorized", err)
	}
	if p, err := f.gate.Authenticate(ctx, c.Key, fresh); err != nil || p.ID != c.Key {
		t.Errorf("Authenticate(new secret) = %+v, %v", p, err)
	}
}

// TestDefineScope checks the xAPI scope define: a writer without it stores
// its statements, but their Activity definitions leave the canonical copy
// alone (xAPI Communication §4.2).
func TestDefineScope(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	const act = "http://courses.example.com/define-test"
	def := func(name string) *xapi.Statement {
		s, err := xapi.ParseStatement([]byte(`{"actor":{"mbox":"`+aliceMbox+`"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"`+act+`","definition":{"name":{"en-US":"`+name+`"}}}}`), xapi.V200)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	name := func() string {
		a, err := f.gate.Activity(ctx, f.admin, act)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := a.MarshalJSON()
		return string(b)
	}
	definer := f.client
	definer.Scopes = []string{"statements/write", "define"}
	if _, err := f.gate.PutStatements(ctx, definer, []*xapi.Statement{def("by definer")}, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	if got := name(); !strings.Contains(got, "by definer") {
		t.Fatalf("canonical definition after a write with define = %s, want it", got)
	}
	if _, err := f.gate.PutStatements(ctx, f.client, []*xapi.Statement{def("by plain writer")}, xapi.V200, nil); err != nil {
		t.Fatalf("PutStatements without define = %v, want stored", err)
	}
	if n := len(f.store.Statements()); n != 2 {
		t.Errorf("store holds %d statements, want 2", n)
	}
	if got := name(); !strings.Contains(got, "by definer") || strings.Contains(got, "plain") {
		t.Errorf("canonical definition after a write without define = %s, want unchanged", got)
	}
}

// TestBreakGlassMaxMinutesSetting checks that the longest session comes from
// the policy data's settings.break_glass_max_minutes, for the Gate's check
// and its message alike, and that the setting is bounded.
func TestBreakGlassMaxMinutesSetting(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	hr := staff("hr", "learning-records")
	set := func(v any) error {
		data := policyData(t)
		data["custodia"].(map[string]any)["settings"].(map[string]any)["break_glass_max_minutes"] = v
		b, _ := json.Marshal(data)
		_, err := f.gate.PutPolicyData(ctx, f.admin, b)
		return err
	}
	for _, bad := range []any{-1, 1441} {
		if err := set(bad); xapi.ErrorKind(err) != xapi.Invalid {
			t.Errorf("PutPolicyData(break_glass_max_minutes %v) = %v, want Invalid", bad, err)
		}
	}
	if err := set(60); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.OpenBreakGlass(ctx, hr, governance.BreakGlassRequest{Justification: justification, Minutes: 61}); xapi.ErrorKind(err) != xapi.Invalid || !strings.Contains(err.Error(), "from 1 to 60") {
		t.Errorf("OpenBreakGlass(61 minutes, limit 60) = %v, want Invalid naming 1 to 60", err)
	}
	if _, err := f.gate.OpenBreakGlass(ctx, hr, governance.BreakGlassRequest{Justification: justification, Minutes: 60}); err != nil {
		t.Errorf("OpenBreakGlass(60 minutes, limit 60) = %v, want a session", err)
	}
}
