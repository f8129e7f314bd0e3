package governance_test

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"custodia/governance"
	"custodia/policies"
)

// TestRego runs the policy pack's own tests (policies/*_test.rego) from the
// embedded file system, as the engine loads it.
func TestRego(t *testing.T) {
	mods, err := governance.ParseModules(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	data, err := governance.ReadPolicyData(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tester.NewRunner().SetModules(mods).SetStore(inmem.NewFromObject(data)).RunTests(context.Background(), nil)
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
}
