package governance_test

import (
	"context"
	"io/fs"
	"testing"

	"custodia/governance"
	"custodia/policies"
	"custodia/xapi"
)

// BenchmarkQueryPage measures one page of 100 statements read by HR for a
// consent-based purpose: every row is decided by the policy with its
// recorded purpose, expiry and its subject's consent, and masked.
func BenchmarkQueryPage(b *testing.B) {
	t := &testing.T{}
	f := newPurposeFixture(t, policies.FS)
	ctx := context.Background()
	f.consent(t, f.alice, "clickstream-analytics", true)
	stmts := make([]*xapi.Statement, 100)
	for i := range stmts {
		stmts[i] = about(t, aliceMbox, paused, introVideo, clickExtra)
	}
	if _, err := f.gate.PutStatements(ctx, f.client, stmts, xapi.V200, nil); err != nil {
		b.Fatal(err)
	}
	hr := staff("hr", "clickstream-analytics")
	b.ResetTimer()
	for b.Loop() {
		got, _, err := f.gate.QueryStatements(ctx, hr, xapi.Query{}, "")
		if err != nil || len(got) != 100 {
			b.Fatalf("QueryStatements = %d, %v", len(got), err)
		}
	}
}

func benchDecide(b *testing.B, fsys fs.FS) {
	eng, err := governance.NewEngine(context.Background(), fsys)
	if err != nil {
		b.Fatal(err)
	}
	in := governance.Input{Principal: governance.Principal{ID: "k-hr", Roles: []string{"hr"}, Purpose: "clickstream-analytics"}, Action: "statements.read",
		Resource: map[string]any{"kind": "statement", "subjects": []any{"mbox:mailto:a@example.com"}, "about": []any{"mbox:mailto:a@example.com"}, "verb": "x",
			"purpose": "clickstream-analytics", "legal_basis": "consent", "stored": "2026-01-01T00:00:00Z", "expires": "2027-01-01T00:00:00Z"},
		Context: map[string]any{"now": "2026-02-01T00:00:00Z", "consents": map[string]any{"mbox:mailto:a@example.com": map[string]any{"clickstream-analytics": true}}, "holds": map[string]any{"subjects": []any{}, "purposes": []any{}}}}
	for b.Loop() {
		if _, err := eng.Decide(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideRead measures one statements.read decision of the default
// pack: HR reading a consent-based statement, with consents and holds.
func BenchmarkDecideRead(b *testing.B) { benchDecide(b, policies.FS) }
