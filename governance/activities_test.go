package governance_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"custodia/governance"
	"custodia/governance/governancetest"
	"custodia/policies"
	"custodia/xapi"
)

func definedStatement(t *testing.T, activity, def string) *xapi.Statement {
	t.Helper()
	s, err := xapi.ParseStatement([]byte(`{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"`+activity+`","definition":`+def+`}}`), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func activityJSON(t *testing.T, a xapi.Activity) string {
	t.Helper()
	b, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGateActivity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const act = "http://example.com/people/alice-onboarding"
	stmts := []*xapi.Statement{
		definedStatement(t, act, `{"name":{"en-US":"example meeting"}}`),
		definedStatement(t, act, `{"name":{"fr-FR":"réunion"}}`),
	}
	if _, err := f.gate.PutStatements(ctx, f.client, stmts, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("XAPI-00254_merged_definition", func(t *testing.T) {
		a, err := f.gate.Activity(ctx, f.client, act)
		want := `{"definition":{"name":{"en-US":"example meeting","fr-FR":"réunion"}},"id":"` + act + `","objectType":"Activity"}`
		if err != nil || activityJSON(t, a) != want {
			t.Errorf("Activity(%s) = %s, %v; want %s", act, activityJSON(t, a), err, want)
		}
		last := f.audit.Entries()[len(f.audit.Entries())-1]
		if last.Action != "activities.read" || last.Decision != "allow" || last.Count != 1 {
			t.Errorf("audit entry = %+v, want an allowed activities.read of 1", last)
		}
		if b, _ := json.Marshal(last); strings.Contains(string(b), "alice") {
			t.Errorf("audit entry names the activity id in plain form: %s", b)
		}
	})
	t.Run("2.0_unknown_activity_is_still_returned", func(t *testing.T) {
		a, err := f.gate.Activity(ctx, f.alice, "http://example.com/unknown")
		if err != nil || activityJSON(t, a) != `{"id":"http://example.com/unknown","objectType":"Activity"}` {
			t.Errorf("Activity(unknown) = %s, %v; want {objectType, id}", activityJSON(t, a), err)
		}
	})
	t.Run("refused_without_a_read_scope", func(t *testing.T) {
		writer := f.newPrincipal(t, governance.CredentialRequest{Name: "writer", Roles: []string{"client"}, Scopes: []string{"statements/write"}})
		if _, err := f.gate.Activity(ctx, writer, act); xapi.ErrorKind(err) != xapi.Forbidden {
			t.Errorf("Activity as a write-only client = %v, want Forbidden", err)
		}
		last := f.audit.Entries()[len(f.audit.Entries())-1]
		if last.Action != "activities.read" || last.Decision != "deny" {
			t.Errorf("audit entry = %+v, want a denied activities.read", last)
		}
	})
}

func TestGateDefinitions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const act = "http://example.com/course/9"
	stmts := []*xapi.Statement{
		definedStatement(t, act, `{"name":{"en":"old"},"type":"http://example.com/t"}`),
		definedStatement(t, act, `{"name":{"en":"new"}}`),
	}
	if _, err := f.gate.PutStatements(ctx, f.client, stmts, xapi.V200, nil); err != nil {
		t.Fatal(err)
	}
	page, _, err := f.gate.QueryStatements(ctx, f.client, xapi.Query{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := f.gate.Definitions(ctx, f.client, page)
	if err != nil {
		t.Fatalf("Definitions = %v", err)
	}
	got, err := page[0].WithDefinitions(defs).Format(xapi.FormatCanonical, nil)
	if err != nil || !strings.Contains(string(got), `"definition":{"name":{"en":"new"},"type":"http://example.com/t"}`) {
		t.Errorf("XAPI-00169: canonical format of %s = %s, %v; want the merged definition", page[0].ID(), got, err)
	}
	before := len(f.audit.Entries())
	if defs, err := f.gate.Definitions(ctx, f.client, nil); err != nil || len(defs) != 0 {
		t.Errorf("Definitions(empty page) = %v, %v; want none", defs, err)
	}
	if n := len(f.audit.Entries()) - before; n != 0 {
		t.Errorf("Definitions(empty page) recorded %d audit entries, want 0", n)
	}
}

func TestGateActivityWithoutStore(t *testing.T) {
	ctx := context.Background()
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	st := governancetest.NewMemStore()
	g := governance.NewGate(governance.GateConfig{Engine: eng, Statements: st, Records: st, Auditor: &governancetest.MemAuditor{}, Pseudonymizer: governancetest.Pseudonymizer{}})
	admin := governance.Principal{ID: "admin", Roles: []string{"admin"}}
	if _, err := g.Activity(ctx, admin, "http://example.com/a"); xapi.ErrorKind(err) != xapi.Internal {
		t.Errorf("Activity without an ActivityStore = %v, want Internal", err)
	}
}

func TestGatePerson(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := xapi.Agent{Name: "Alice", Mbox: f.aliceID}
	bob := xapi.Agent{Mbox: "mailto:bob@example.com"}
	tests := []struct {
		name  string
		p     governance.Principal
		agent xapi.Agent
		want  string // "" for Forbidden
	}{
		{"XAPI-00248_admin", f.admin, bob, `{"mbox":["mailto:bob@example.com"],"objectType":"Person"}`},
		{"client_with_read_scope", f.client, alice, `{"mbox":["mailto:alice@example.com"],"name":["Alice"],"objectType":"Person"}`},
		{"learner_own_agent", f.alice, alice, `{"mbox":["mailto:alice@example.com"],"name":["Alice"],"objectType":"Person"}`},
		{"learner_other_agent_refused", f.alice, bob, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			person, err := f.gate.Person(ctx, tc.p, tc.agent)
			last := f.audit.Entries()[len(f.audit.Entries())-1]
			if b, _ := json.Marshal(last); strings.Contains(string(b), "@example.com") || last.Action != "agents.read" || len(last.Subjects) != 1 {
				t.Errorf("audit entry = %s, want agents.read naming one subject by pseudonym", b)
			}
			if tc.want == "" {
				if xapi.ErrorKind(err) != xapi.Forbidden || last.Decision != "deny" {
					t.Errorf("Person = %v (audit %s), want Forbidden and a denial", err, last.Decision)
				}
				return
			}
			got, _ := person.MarshalJSON()
			if err != nil || string(got) != tc.want || last.Decision != "allow" {
				t.Errorf("Person = %s, %v (audit %s); want %s, allowed", got, err, last.Decision, tc.want)
			}
		})
	}
}
