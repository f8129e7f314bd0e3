package governance_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"custodia/governance"
	"custodia/policies"
	"custodia/xapi"
)

func aliceState(mbox, id string) xapi.DocumentParams {
	return xapi.DocumentParams{Kind: xapi.StateDocument, ActivityID: "http://example.com/course/1", Agent: &xapi.Agent{Mbox: mbox}, ID: id}
}

var jsonBody = xapi.Document{ContentType: "application/json", Body: []byte(`{"bookmark":"page-7"}`)}

// TestGateDocumentsByRole checks the default policy on documents: the admin
// may do everything, a client what its scopes cover, a learner only their
// own State and Agent Profile.
func TestGateDocumentsByRole(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	stateClient := f.newPrincipal(t, governance.CredentialRequest{Name: "player", Roles: []string{"client"}, Scopes: []string{"state"}})
	actProfile := xapi.DocumentParams{Kind: xapi.ActivityProfileDocument, ActivityID: "http://example.com/course/1", ID: "p"}
	bobProfile := xapi.DocumentParams{Kind: xapi.AgentProfileDocument, Agent: &xapi.Agent{Mbox: "mailto:bob@example.com"}, ID: "p"}
	aliceProfile := xapi.DocumentParams{Kind: xapi.AgentProfileDocument, Agent: &xapi.Agent{Mbox: f.aliceID}, ID: "p"}
	tests := []struct {
		name string
		p    governance.Principal
		d    xapi.DocumentParams
		ok   bool
	}{
		{"admin state", f.admin, aliceState("mailto:bob@example.com", "s"), true},
		{"admin activity profile", f.admin, actProfile, true},
		{"state client state", stateClient, aliceState("mailto:bob@example.com", "s"), true},
		{"state client activity profile", stateClient, actProfile, false},
		{"statements client state", f.client, aliceState(f.aliceID, "s"), false},
		{"learner own state", f.alice, aliceState(f.aliceID, "s"), true},
		{"learner own agent profile", f.alice, aliceProfile, true},
		{"learner other's state", f.alice, aliceState("mailto:bob@example.com", "s"), false},
		{"learner other's agent profile", f.alice, bobProfile, false},
		{"learner activity profile", f.alice, actProfile, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.gate.PutDocument(ctx, tt.p, tt.d, jsonBody, xapi.Precondition{})
			if tt.ok != (err == nil) || !tt.ok && xapi.ErrorKind(err) != xapi.Forbidden {
				t.Fatalf("PutDocument = %v, want ok %v or Forbidden", err, tt.ok)
			}
			_, err = f.gate.GetDocument(ctx, tt.p, tt.d)
			if tt.ok != (err == nil) || !tt.ok && xapi.ErrorKind(err) != xapi.Forbidden {
				t.Errorf("GetDocument = %v, want ok %v or Forbidden", err, tt.ok)
			}
			list := tt.d
			list.ID = ""
			if _, err := f.gate.ListDocuments(ctx, tt.p, list); tt.ok != (err == nil) {
				t.Errorf("ListDocuments = %v, want ok %v", err, tt.ok)
			}
			if err := f.gate.DeleteDocument(ctx, tt.p, tt.d, xapi.Precondition{}); tt.ok != (err == nil) {
				t.Errorf("DeleteDocument = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestGateDocumentsAudit: every read and write is recorded with the kind, a
// pseudonym of the document and of its subject, and no plain identifier.
func TestGateDocumentsAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := aliceState(f.aliceID, "resume-point-SECRET")
	before := len(f.audit.Entries())
	if _, err := f.gate.PostDocument(ctx, f.alice, d, jsonBody, xapi.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.GetDocument(ctx, f.alice, d); err != nil {
		t.Fatal(err)
	}
	set := d
	set.ID = ""
	if _, err := f.gate.ListDocuments(ctx, f.alice, set); err != nil {
		t.Fatal(err)
	}
	if err := f.gate.DeleteDocuments(ctx, f.alice, set); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gate.GetDocument(ctx, f.alice, aliceState("mailto:bob@example.com", "x")); xapi.ErrorKind(err) != xapi.Forbidden {
		t.Fatalf("alice reading bob's state = %v, want Forbidden", err)
	}
	got := f.audit.Entries()[before:]
	want := []struct{ action, decision, prefix string }{
		{governance.ActionDocumentsWrite, "allow", "state/"},
		{governance.ActionDocumentsRead, "allow", "state/"},
		{governance.ActionDocumentsRead, "allow", "state/set:"},
		{governance.ActionDocumentsDelete, "allow", "state/set:"},
		{governance.ActionDocumentsRead, "deny", "state/"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d audit entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Action != w.action || e.Decision != w.decision || len(e.Resources) != 1 || !strings.HasPrefix(e.Resources[0], w.prefix) || len(e.Subjects) != 1 || e.PolicyRevision == "" {
			t.Errorf("entry %d = %+v, want %s %s on %s… with one subject", i, e, w.action, w.decision, w.prefix)
		}
	}
	if got[0].Resources[0] != got[1].Resources[0] {
		t.Errorf("the write and the read of one document name it differently: %s, %s", got[0].Resources[0], got[1].Resources[0])
	}
	b, _ := json.Marshal(got)
	for _, plain := range []string{"alice", "bob", "resume-point-SECRET", "course/1", "page-7"} {
		if strings.Contains(string(b), plain) {
			t.Errorf("audit entries contain %q in plain form", plain)
		}
	}
}

func TestGateDocumentsFailClosed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.audit.Fail = true
	if _, err := f.gate.PutDocument(ctx, f.admin, aliceState(f.aliceID, "s"), jsonBody, xapi.Precondition{}); err == nil {
		t.Fatal("PutDocument succeeded although the audit log failed")
	}
	if n := f.store.Documents(); n != 0 {
		t.Errorf("store holds %d documents, want 0", n)
	}
	f.audit.Fail = false
	if _, err := f.gate.PutDocument(ctx, f.admin, aliceState(f.aliceID, "s"), jsonBody, xapi.Precondition{}); err != nil {
		t.Fatal(err)
	}
	f.audit.Fail = true
	if doc, err := f.gate.GetDocument(ctx, f.admin, aliceState(f.aliceID, "s")); err == nil || doc.Body != nil {
		t.Errorf("GetDocument = %s, %v although the audit log failed; want an error and no data", doc.Body, err)
	}
}

func TestGateDeleteDocumentsOnlyState(t *testing.T) {
	f := newFixture(t)
	err := f.gate.DeleteDocuments(context.Background(), f.admin, xapi.DocumentParams{Kind: xapi.ActivityProfileDocument, ActivityID: "http://example.com/a"})
	if xapi.ErrorKind(err) != xapi.Invalid {
		t.Errorf("DeleteDocuments(activity profile) = %v, want Invalid", err)
	}
}

// TestGateDocumentsByPurpose: a State document serves the purpose its
// activity maps to. Writing it for a consent-based purpose needs the
// person's consent; reading it needs the request's purpose, a role that
// reads that purpose and, for consent, the consent still given; the person
// always reads their own; an activity outside every purpose's prefixes
// serves the default purpose, as before.
func TestGateDocumentsByPurpose(t *testing.T) {
	// Clients may read skills development in this data; by default only
	// HR and the learner may.
	f := newPurposeFixture(t, packWith(t, func(ps map[string]any) {
		sd := ps["skills-development"].(map[string]any)
		sd["readers"] = append(sd["readers"].([]any), "client")
	}))
	ctx := context.Background()
	player := func(purpose string) governance.Principal {
		return governance.Principal{ID: "k-player", Roles: []string{"client"}, Scopes: []string{"state"}, Purpose: purpose}
	}
	skills := xapi.DocumentParams{Kind: xapi.StateDocument, ActivityID: negotiate, Agent: &xapi.Agent{Mbox: aliceMbox}, ID: "resume"}
	plain := xapi.DocumentParams{Kind: xapi.StateDocument, ActivityID: "http://courses.example.com/other", Agent: &xapi.Agent{Mbox: aliceMbox}, ID: "resume"}
	forbidden := func(name string, err error) {
		t.Helper()
		if xapi.ErrorKind(err) != xapi.Forbidden {
			t.Errorf("%s = %v, want Forbidden", name, err)
		}
	}

	_, err := f.gate.PutDocument(ctx, player(""), skills, jsonBody, xapi.Precondition{})
	forbidden("writing a skills state without consent", err)
	if !strings.Contains(xapi.ErrorMessage(err), "consent") {
		t.Errorf("refusal %q does not name the consent", xapi.ErrorMessage(err))
	}
	f.consent(t, f.alice, "skills-development", true)
	if _, err := f.gate.PutDocument(ctx, player(""), skills, jsonBody, xapi.Precondition{}); err != nil {
		t.Fatalf("writing a skills state with consent = %v", err)
	}
	_, err = f.gate.GetDocument(ctx, player(""), skills)
	forbidden("reading it for the default purpose", err)
	if doc, err := f.gate.GetDocument(ctx, player("skills-development"), skills); err != nil || string(doc.Body) != string(jsonBody.Body) {
		t.Errorf("reading it for skills-development = %s, %v", doc.Body, err)
	}
	set := skills
	set.ID = ""
	if docs, err := f.gate.ListDocuments(ctx, player("skills-development"), set); err != nil || len(docs) != 1 {
		t.Errorf("listing the set for skills-development = %d, %v; want 1", len(docs), err)
	}
	_, err = f.gate.GetDocument(ctx, staff("compliance", "skills-development"), skills)
	forbidden("compliance reading it", err)

	f.consent(t, f.alice, "skills-development", false)
	_, err = f.gate.GetDocument(ctx, player("skills-development"), skills)
	forbidden("reading it after the withdrawal", err)
	_, err = f.gate.ListDocuments(ctx, player("skills-development"), set)
	forbidden("listing it after the withdrawal", err)
	if _, err := f.gate.GetDocument(ctx, f.alice, skills); err != nil {
		t.Errorf("alice reading her own skills state after the withdrawal = %v", err)
	}
	if err := f.gate.DeleteDocument(ctx, player(""), skills, xapi.Precondition{}); err != nil {
		t.Errorf("deleting it after the withdrawal = %v (erasing needs no consent)", err)
	}

	// An activity no purpose covers: the default purpose, no consent needed.
	if _, err := f.gate.PutDocument(ctx, player(""), plain, jsonBody, xapi.Precondition{}); err != nil {
		t.Fatalf("writing a default-purpose state = %v", err)
	}
	if _, err := f.gate.GetDocument(ctx, player(""), plain); err != nil {
		t.Errorf("reading it for the default purpose = %v", err)
	}
	// Admin is exempt (admin_bypass), as the conformance suite needs.
	if _, err := f.gate.PutDocument(ctx, f.admin, skills, jsonBody, xapi.Precondition{}); err != nil {
		t.Errorf("admin writing the skills state without consent = %v", err)
	}
	if _, err := f.gate.GetDocument(ctx, f.admin, skills); err != nil {
		t.Errorf("admin reading it = %v", err)
	}
}

// HR, which may not read documents at all, gets one answer for a person's
// document whether they consented, withdrew or never answered.
func TestGateDocumentRefusalHidesConsent(t *testing.T) {
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	hr := staff("hr", "skills-development")
	doc := xapi.DocumentParams{Kind: xapi.StateDocument, ActivityID: negotiate, Agent: &xapi.Agent{Mbox: aliceMbox}, ID: "resume"}
	refusal := func(state string) string {
		t.Helper()
		_, err := f.gate.GetDocument(ctx, hr, doc)
		if xapi.ErrorKind(err) != xapi.Forbidden {
			t.Fatalf("hr GetDocument (%s) = %v, want Forbidden", state, err)
		}
		return xapi.ErrorMessage(err)
	}
	never := refusal("never asked")
	f.consent(t, f.alice, "skills-development", true)
	granted := refusal("granted")
	f.consent(t, f.alice, "skills-development", false)
	withdrawn := refusal("withdrawn")
	if never != granted || granted != withdrawn || strings.Contains(withdrawn, "consent") {
		t.Errorf("refusals differ by consent: never %q, granted %q, withdrawn %q; want one message", never, granted, withdrawn)
	}
}
