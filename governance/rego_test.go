package governance_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/util"

	"custodia/governance"
	"custodia/policies"
)

// minCoverage is the least share (percent) of the default pack's Rego
// lines, tests left out, that its own tests must cover.
const minCoverage = 90.0

// TestRego runs the policy pack's own tests (policies/*_test.rego) from the
// embedded file system with its data.json, as the engine loads them, and
// measures their coverage of the production modules with opa/v1/cover.
func TestRego(t *testing.T) {
	mods, err := governance.ParseModules(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	set, err := governance.ReadPolicySet(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := util.UnmarshalJSON(set.Data, &data); err != nil {
		t.Fatalf("policies/data.json: %v", err)
	}
	cov := cover.New()
	ch, err := tester.NewRunner().SetModules(mods).SetStore(inmem.NewFromObject(data)).
		SetCoverageQueryTracer(cov).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		if r.Error != nil {
			t.Errorf("%s.%s: error: %v", r.Package, r.Name, r.Error)
		} else if r.Fail {
			t.Errorf("%s.%s: failed", r.Package, r.Name)
		}
	}
	if n < 10 {
		t.Errorf("ran %d policy tests, want at least 10", n)
	}

	report := cov.Report(mods)
	covered, total := 0, 0
	var files []string
	for name, f := range report.Files {
		if strings.HasSuffix(name, "_test.rego") {
			continue
		}
		files = append(files, name)
		c, nc := f.CoveredLines, f.NotCoveredLines
		covered, total = covered+c, total+c+nc
		for _, r := range f.NotCovered {
			t.Logf("%s: lines %d-%d not covered by the policy tests", name, r.Start.Row, r.End.Row)
		}
	}
	sort.Strings(files)
	if total == 0 {
		t.Fatalf("coverage report has no lines for the production modules (files %v)", files)
	}
	pct := 100 * float64(covered) / float64(total)
	t.Logf("Rego coverage of the default pack (%s): %.1f%% (%d of %d lines)", strings.Join(files, ", "), pct, covered, total)
	if pct < minCoverage {
		t.Errorf("Rego coverage of the default pack = %.1f%%, want at least %.0f%%", pct, minCoverage)
	}
}
