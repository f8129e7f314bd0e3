package governance_test

import (
	"fmt"
	"testing"

	"custodia/governance"
)

// TestShippedPolicyData checks the default pack's data.json, the realistic
// example set of the issue: compliance training under legal obligation,
// kept long; skills development under consent; clickstream analytics under
// consent, kept briefly, free-text responses masked from HR and session
// extensions not kept; everything else under legitimate interest. (The
// pack's Rego tests use their own fixture data, so that the rules are
// tested and these values may change through the API.)
func TestShippedPolicyData(t *testing.T) {
	d, err := governance.ParsePolicyData(policyData(t))
	if err != nil {
		t.Fatalf("ParsePolicyData(data.json) = %v", err)
	}
	type want struct {
		basis    string
		days     int
		readers  []string
		masks    map[string][]string
		minimise []string
		signed   string
		match    governance.PurposeMatch
	}
	for id, w := range map[string]want{
		"compliance-training": {"legal_obligation", 3650, []string{"hr", "compliance", "learner"}, map[string][]string{}, []string{}, "keep_whole",
			governance.PurposeMatch{ActivityPrefixes: []string{"https://lms.acme.example/compliance/"}}},
		"skills-development": {"consent", 730, []string{"hr", "learner"}, map[string][]string{}, []string{}, "keep_whole",
			governance.PurposeMatch{ActivityPrefixes: []string{"https://lms.acme.example/skills/", "https://mentoring.acme.example/"}}},
		"clickstream-analytics": {"consent", 90, []string{"hr", "compliance"}, map[string][]string{"hr": {"result.response"}}, []string{"context.extensions"}, "reject",
			governance.PurposeMatch{Verbs: []string{"http://id.tincanapi.com/verb/viewed", "https://w3id.org/xapi/video/verbs/played", "https://w3id.org/xapi/video/verbs/paused", "https://w3id.org/xapi/video/verbs/seeked"}}},
		"learning-records": {"legitimate_interest", 1825, []string{"hr", "compliance", "learner", "client"}, map[string][]string{}, []string{}, "keep_whole", governance.PurposeMatch{}},
	} {
		p, ok := d.Purposes[id]
		if !ok {
			t.Errorf("data.json has no purpose %s", id)
			continue
		}
		got := want{p.LegalBasis, p.RetentionDays, p.Readers, p.Masks, p.Minimise, p.SignedStatements, p.Match}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", w) { // nil and empty lists alike
			t.Errorf("purpose %s = %+v, want %+v", id, got, w)
		}
		if p.Title == "" || p.Description == "" {
			t.Errorf("purpose %s has no title or description", id)
		}
	}
	if n := len(d.Purposes); n != 4 {
		t.Errorf("data.json has %d purposes, want 4", n)
	}
	if s := d.Settings; s.DefaultPurpose != "learning-records" || !s.AdminBypass || s.Controller.Name == "" || s.Controller.Email == "" {
		t.Errorf("settings = %+v, want learning-records by default, admin bypass (the conformance suite runs as admin), a named controller", s)
	}
}
