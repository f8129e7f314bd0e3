// Package policies holds Custodia's default Rego policy pack.
//
// Every read and write of learning records is decided by these modules,
// evaluated in-process by the OPA engine in package governance. Each module
// x.rego has its tests beside it in x_test.rego; the engine loads the tests
// only when running them (governance.TestRego), never into the production
// policy set.
//
// The entry point is data.custodia.authz.decision, an object
//
//	{"allow": bool, "reasons": [string], "obligations": {...}}
//
// evaluated with an input of the form
//
//	{"principal": {"id", "roles", "scopes", "identities", "purpose"},
//	 "action": "statements.write" | "statements.read" | "statements.query" | "credentials.manage" |
//	           "policies.read" | "policies.manage" | …,
//	 "resource": {...facts about what is touched...},
//	 "context": {"now", "consents", "holds"}}
//
// data.json is the policy data, mounted at the root of data: the purposes of
// processing (data.custodia.purposes) and settings (data.custodia.settings).
// purposes.rego holds the rules that use them and the obligations of an
// allowing decision: for a write, the purpose, legal basis, retention and the
// paths to minimise; for a read, the paths to mask. Its read rules are
// functions of a row's facts (read_row), which filters.rego reuses for the
// list-read filter data.custodia.filters.include, compiled by partial
// evaluation with the row unknown.
//
// The tests run on their own fixture data (fixture_test.rego), not on
// data.json, so that HR may change the shipped purposes.
//
// authn.rego holds break-glass access (break_glass.open, break_glass.review,
// and the decisions an open session lifts, marked "break_glass": true) and
// the xAPI scope define (the write obligation "define").
//
// Identities are agent IFIs in the canonical form of xapi.Agent.IFI. They
// are personal data: they exist only in memory during a decision.
package policies

import "embed"

// FS holds the default policy modules, their tests, and data.json: the
// policy data, mounted at the root of data (so that Rego reads
// data.custodia.purposes).
//
//go:embed *.rego *.json
var FS embed.FS
