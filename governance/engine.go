package governance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/util"

	"custodia/xapi"
)

// decisionQuery is the policy entry point (see package policies).
const decisionQuery = "data.custodia.authz.decision"

// DecisionTimeout bounds one policy evaluation. A decision that takes
// longer is an evaluation error, and the access it was for is refused.
// A candidate policy set must decide each of its sample inputs within it.
const DecisionTimeout = 250 * time.Millisecond

// Limits on a policy set, so that a revision stays a small record.
const (
	maxModules     = 100
	maxModuleBytes = 512 << 10
	maxDataBytes   = 4 << 20
	// testTimeout bounds a whole test run of a candidate; each test has
	// testCaseTimeout.
	testTimeout     = 60 * time.Second
	testCaseTimeout = 5 * time.Second
)

// deniedBuiltin reports whether policies may not call the Rego built-in
// function name: those that reach the network or the process environment.
// A module that calls one does not compile.
func deniedBuiltin(name string) bool {
	switch name {
	case "http.send", "net.lookup_ip_addr", "opa.runtime":
		return true
	}
	return false
}

// Input is what a policy decision is made on.
type Input struct {
	Principal Principal
	Action    string         // e.g. "statements.write"
	Resource  map[string]any // facts about what is touched
	// Context holds the state of the world the decision depends on: now,
	// the consents of the resource's subjects, legal holds (see the gate).
	Context map[string]any
}

// Decision is the outcome of a policy evaluation.
type Decision struct {
	Allow    bool
	Reasons  []string
	Revision string // the policy revision that decided
	// Obligations are what an allowing decision requires (obligations.go).
	Obligations Obligations
	// BreakGlass reports that the policy allowed the decision only because
	// the principal had opened break-glass access (breakglass.go); the Gate
	// sets Justification to that session's justification and Session to
	// its id.
	BreakGlass    bool
	Justification string
	Session       string
}

// PolicySet is a complete policy: Rego modules by file name (names ending
// in _test.rego are tests: they are run before activation and never take
// part in decisions) and one JSON data document, an object mounted at the
// root of data (so {"custodia": {"purposes": …}} is read in Rego as
// data.custodia.purposes).
type PolicySet struct {
	Modules map[string]string
	Data    json.RawMessage
}

// Engine evaluates the active policy set. Queries are prepared once per
// policy set; a new set is swapped in atomically by Commit (or Activate).
// Every set that was ever active is kept as a revision, in memory or, after
// Restore, in a RecordStore, so that it can be rolled back to.
type Engine struct {
	active atomic.Pointer[policySet]

	mu      sync.Mutex // serialises Commit and Restore
	records RecordStore
	now     func() time.Time
}

// policySet is a compiled, prepared PolicySet.
type policySet struct {
	set      PolicySet // Data in canonical form
	query    rego.PreparedEvalQuery
	revision string
	data     PolicyData  // Data decoded (ParsePolicyData)
	filter   *listFilter // the list-read filter (filter.go); nil: none
}

// Candidate is a policy set that compiled strictly, defines the decision
// and decides every sample input in time. Commit makes it active.
type Candidate struct {
	ps     *policySet
	base   string // the revision active when the candidate was compiled
	tested bool
}

// Revision reports the candidate's revision id.
func (c *Candidate) Revision() string { return c.ps.revision }

// NewEngine compiles (strictly) the policy set in fsys (see ReadPolicySet)
// and prepares the decision query. Until Restore is called its revisions
// are kept in memory.
func NewEngine(ctx context.Context, fsys fs.FS) (*Engine, error) {
	set, err := ReadPolicySet(fsys)
	if err != nil {
		return nil, err
	}
	ps, err := compileSet(ctx, set)
	if err != nil {
		return nil, err
	}
	e := &Engine{records: newMemRecords(), now: time.Now}
	e.active.Store(ps)
	if err := e.saveRevision(ctx, ps, true); err != nil {
		return nil, err
	}
	return e, nil
}

// Revision reports the active policy revision: the first 16 hex digits of
// a SHA-256 over the modules (names and sources, sorted by name, tests
// included) and the canonical data. Equal content gives an equal id, so
// rolling back to a revision makes its id active again.
func (e *Engine) Revision() string { return e.active.Load().revision }

// PolicyData reports the purposes and settings of the active policy set.
func (e *Engine) PolicyData() PolicyData { return e.active.Load().data }

// PolicySet returns a copy of the active policy set.
func (e *Engine) PolicySet() PolicySet { return e.active.Load().set.clone() }

// Decide evaluates the active policy for in, within DecisionTimeout. Any
// evaluation failure (a timeout included), or a result that is not a
// well-formed decision, is an error: callers fail closed.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	d, _, err := e.active.Load().eval(ctx, in)
	return d, err
}

// Activate checks set (Check) and makes it the active policy (Commit). It
// returns the new revision id. A set that fails any check is refused with
// an Invalid error saying why, and the active policy is untouched.
func (e *Engine) Activate(ctx context.Context, set PolicySet) (string, error) {
	c, err := e.Check(ctx, set)
	if err != nil {
		return "", err
	}
	if err := e.Commit(ctx, c); err != nil {
		return "", err
	}
	return c.Revision(), nil
}

// Compile checks set's data document (its purposes and settings, see
// ParsePolicyData), compiles set strictly, leaving the tests out of the
// production modules, and checks that data.custodia.authz.decision is
// defined and gives a well-formed decision (obligations included) for each
// of a few sample inputs within DecisionTimeout, one of them letting an
// admin manage policies (so that no policy can lock everyone out of rolling
// it back). Errors are Invalid (or TooLarge) with a message naming files and
// lines, or the field of the data.
func (e *Engine) Compile(ctx context.Context, set PolicySet) (*Candidate, error) {
	ps, err := compileSet(ctx, set)
	if err != nil {
		return nil, err
	}
	return &Candidate{ps: ps, base: e.Revision()}, nil
}

// Check is Compile followed by checking the list-read filter against the
// decision (checkFilter) and running every test of the candidate (the
// _test.rego modules) with its data: a filter that would hide what the
// decision shows, or any failing test or test error, refuses it.
func (e *Engine) Check(ctx context.Context, set PolicySet) (*Candidate, error) {
	c, err := e.Compile(ctx, set)
	if err != nil {
		return nil, err
	}
	if err := c.ps.checkFilter(ctx); err != nil {
		return nil, err
	}
	rep, err := c.Test(ctx)
	if err != nil {
		return nil, err
	}
	if len(rep.Failed) > 0 {
		return nil, &xapi.Error{Kind: xapi.Invalid, Op: "governance.Check",
			Msg: fmt.Sprintf("policy tests failed (%d of %d): %s", len(rep.Failed), len(rep.Failed)+rep.Passed, strings.Join(rep.Failed, "; "))}
	}
	c.tested = true
	return c, nil
}

// TestReport is the outcome of running a candidate's tests.
type TestReport struct {
	Passed int      `json:"passed"`
	Failed []string `json:"failed"` // "package.rule (file:line): failed" or ": error: …"
}

// Test runs the candidate's _test.rego modules with its data through OPA's
// tester. An error means the tests could not run (they do not compile).
func (c *Candidate) Test(ctx context.Context) (TestReport, error) {
	const op = "governance.Test"
	rep := TestReport{Failed: []string{}}
	mods, err := parseModules(c.ps.set.Modules, true)
	if err != nil {
		return rep, err
	}
	st, err := dataStore(c.ps.set.Data)
	if err != nil {
		return rep, err
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	ch, err := tester.NewRunner().SetCompiler(newCompiler()).SetStore(st).SetModules(mods).
		SetTimeout(testCaseTimeout).SetDefaultRegoVersion(ast.RegoV1).RunTests(ctx, nil)
	if err != nil {
		return rep, invalidPolicy(op, "policy tests do not compile", err)
	}
	for r := range ch {
		if r.Skip {
			continue
		}
		name := fmt.Sprintf("%s.%s", strings.TrimPrefix(r.Package, "data."), r.Name)
		if r.Location != nil {
			name += fmt.Sprintf(" (%s:%d)", r.Location.File, r.Location.Row)
		}
		switch {
		case r.Error != nil:
			rep.Failed = append(rep.Failed, name+": error: "+firstLine(r.Error.Error()))
		case r.Fail:
			rep.Failed = append(rep.Failed, name+": failed")
		default:
			rep.Passed++
		}
	}
	if err := ctx.Err(); err != nil {
		rep.Failed = append(rep.Failed, fmt.Sprintf("the tests did not finish within %s", testTimeout))
	}
	sort.Strings(rep.Failed)
	return rep, nil
}

// Commit persists c as a revision, records its activation, and swaps it in
// as the active policy. c must have passed Check. If another policy was
// activated since c was compiled, Commit fails with Conflict: c was
// checked against a set that is no longer the one it replaces.
func (e *Engine) Commit(ctx context.Context, c *Candidate) error {
	const op = "governance.Commit"
	if !c.tested {
		return &xapi.Error{Kind: xapi.Internal, Op: op, Err: errors.New("governance: committing an untested candidate")}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if cur := e.Revision(); cur != c.base && cur != c.ps.revision {
		return xapi.Errorf(xapi.Conflict, op, "the active policy changed while this one was being checked; retry")
	}
	if err := e.saveRevision(ctx, c.ps, true); err != nil {
		return err
	}
	e.active.Store(c.ps)
	return nil
}

// System record kinds of the policy revisions.
const (
	recordKindRevision = "policy-revision" // key: revision id; value: revisionRecord
	recordKindActive   = "policy-active"   // key: "current"; value: activeRecord
	activeKey          = "current"
)

type revisionRecord struct {
	Revision    string            `json:"revision"`
	Modules     map[string]string `json:"modules"`
	Data        json.RawMessage   `json:"data"`
	Created     time.Time         `json:"created"`
	Activations []time.Time       `json:"activations"`
}

type activeRecord struct {
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
}

// Revision describes a stored policy revision, without its sources.
type Revision struct {
	ID          string      `json:"revision"`
	Modules     []string    `json:"modules"`
	Created     time.Time   `json:"created"`
	Activations []time.Time `json:"activations"` // the latest 100, oldest first
	Active      bool        `json:"active"`
}

// Restore makes rs the home of the policy revisions (system records of
// kinds "policy-revision" and "policy-active") and brings back the revision
// that was active there: a restart resumes on the policy last activated,
// not on the embedded pack. The set the engine was created with is stored
// as a revision too, so that it can be rolled back to. On a first start it
// becomes the active revision. A stored active revision that no longer
// compiles is an error: the engine does not fall back to another policy.
// now (nil: time.Now) timestamps revisions and activations.
func (e *Engine) Restore(ctx context.Context, rs RecordStore, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.records, e.now = rs, now
	cur := e.active.Load()
	raw, err := rs.GetRecord(ctx, recordKindActive, activeKey)
	if xapi.ErrorKind(err) == xapi.NotFound {
		return e.saveRevision(ctx, cur, true)
	}
	if err != nil {
		return err
	}
	if err := e.saveRevision(ctx, cur, false); err != nil {
		return err
	}
	var a activeRecord
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("governance: decoding the active policy record: %w", err)
	}
	if a.Revision == cur.revision {
		return nil
	}
	set, err := e.revisionSet(ctx, a.Revision)
	if err != nil {
		return fmt.Errorf("governance: loading the active policy revision %s: %w", a.Revision, err)
	}
	ps, err := compileSet(ctx, set)
	if err != nil {
		return fmt.Errorf("governance: the active policy revision %s does not compile: %w", a.Revision, err)
	}
	if ps.revision != a.Revision {
		return fmt.Errorf("governance: policy revision %s is stored with content of revision %s", a.Revision, ps.revision)
	}
	e.active.Store(ps)
	return nil
}

// Revisions lists the stored policy revisions, oldest first.
func (e *Engine) Revisions(ctx context.Context) ([]Revision, error) {
	e.mu.Lock()
	rs := e.records
	e.mu.Unlock()
	recs, err := rs.ListRecords(ctx, recordKindRevision)
	if err != nil {
		return nil, err
	}
	active := e.Revision()
	out := make([]Revision, 0, len(recs))
	for _, raw := range recs {
		var r revisionRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("governance: decoding a policy revision: %w", err)
		}
		out = append(out, Revision{ID: r.Revision, Modules: sortedNames(r.Modules), Created: r.Created, Activations: r.Activations, Active: r.Revision == active})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || (out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID)
	})
	return out, nil
}

// RevisionSet returns the policy set of a stored revision, or NotFound.
func (e *Engine) RevisionSet(ctx context.Context, id string) (PolicySet, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.revisionSet(ctx, id)
}

func (e *Engine) revisionSet(ctx context.Context, id string) (PolicySet, error) {
	const op = "governance.RevisionSet"
	if !validRevision(id) {
		return PolicySet{}, xapi.Errorf(xapi.Invalid, op, "revision must be 16 lower-case hex digits")
	}
	raw, err := e.records.GetRecord(ctx, recordKindRevision, id)
	if xapi.ErrorKind(err) == xapi.NotFound {
		return PolicySet{}, xapi.Errorf(xapi.NotFound, op, "no policy revision %s", id)
	}
	if err != nil {
		return PolicySet{}, err
	}
	var r revisionRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return PolicySet{}, fmt.Errorf("governance: decoding policy revision %s: %w", id, err)
	}
	return PolicySet{Modules: r.Modules, Data: r.Data}, nil
}

// saveRevision stores ps as a revision (kept as it is when already stored)
// and, when activated, records its activation and makes it the active
// revision record. e.mu is held (or e is not shared yet).
func (e *Engine) saveRevision(ctx context.Context, ps *policySet, activated bool) error {
	now := e.now().UTC()
	r := revisionRecord{Revision: ps.revision, Modules: ps.set.Modules, Data: ps.set.Data, Created: now, Activations: []time.Time{}}
	raw, err := e.records.GetRecord(ctx, recordKindRevision, ps.revision)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("governance: decoding policy revision %s: %w", ps.revision, err)
		}
		if !activated {
			return nil
		}
	case xapi.ErrorKind(err) != xapi.NotFound:
		return err
	}
	if activated {
		r.Activations = append(r.Activations, now)
		if n := len(r.Activations); n > 100 {
			r.Activations = r.Activations[n-100:]
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := e.records.PutRecord(ctx, recordKindRevision, ps.revision, b); err != nil {
		return err
	}
	if !activated {
		return nil
	}
	b, err = json.Marshal(activeRecord{Revision: ps.revision, Since: now})
	if err != nil {
		return err
	}
	return e.records.PutRecord(ctx, recordKindActive, activeKey, b)
}

// errDecisionTimeout marks a policy evaluation that did not finish within
// DecisionTimeout: the request is refused as Unavailable (503), the
// server being too slow now, rather than Internal.
var errDecisionTimeout = errors.New("policy evaluation timed out")

// eval evaluates the policy for in within DecisionTimeout and returns the
// decision and the raw decision object.
func (ps *policySet) eval(ctx context.Context, in Input) (Decision, map[string]any, error) {
	const op = "governance.Decide"
	ctx, cancel := context.WithTimeout(ctx, DecisionTimeout)
	defer cancel()
	rs, err := ps.query.Eval(ctx, rego.EvalInput(in.value()))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %s took longer than %s: %w", errDecisionTimeout, in.Action, DecisionTimeout, err)
		}
		return Decision{}, nil, &xapi.Error{Kind: xapi.Internal, Op: op, Err: err}
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, nil, &xapi.Error{Kind: xapi.Internal, Op: op, Err: fmt.Errorf("policy gave %d results for %s", len(rs), in.Action)}
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{}, nil, &xapi.Error{Kind: xapi.Internal, Op: op, Err: fmt.Errorf("policy decision is not an object")}
	}
	allow, ok := obj["allow"].(bool)
	if !ok {
		return Decision{}, nil, &xapi.Error{Kind: xapi.Internal, Op: op, Err: fmt.Errorf("policy decision has no boolean allow")}
	}
	d := Decision{Allow: allow, Revision: ps.revision}
	if rs, ok := obj["reasons"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				d.Reasons = append(d.Reasons, s)
			}
		}
	}
	if bg, ok := obj["break_glass"]; ok {
		if d.BreakGlass, ok = bg.(bool); !ok {
			return Decision{}, nil, &xapi.Error{Kind: xapi.Internal, Op: op, Err: fmt.Errorf("policy decision for %s has a break_glass that is not a boolean", in.Action)}
		}
	}
	if d.Obligations, err = decodeObligations(obj["obligations"]); err != nil {
		return Decision{}, nil, &xapi.Error{Kind: xapi.Internal, Op: op, Err: fmt.Errorf("policy decision for %s: %w", in.Action, err)}
	}
	return d, obj, nil
}

func (in Input) value() map[string]any {
	res := in.Resource
	if res == nil {
		res = map[string]any{}
	}
	c := in.Context
	if c == nil {
		c = map[string]any{}
	}
	return map[string]any{
		"context": c,
		"principal": map[string]any{
			"id":         in.Principal.ID,
			"roles":      strs(in.Principal.Roles),
			"scopes":     strs(in.Principal.Scopes),
			"identities": strs(in.Principal.Identities()),
			"purpose":    in.Principal.Purpose,
		},
		"action":   in.Action,
		"resource": res,
	}
}

// strs returns s as []any so that OPA need not reflect on it.
func strs(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// newCompiler returns the strict compiler every policy set is compiled
// with, without the denied built-ins.
func newCompiler() *ast.Compiler {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0:0]
	for _, b := range caps.Builtins {
		if !deniedBuiltin(b.Name) {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	return ast.NewCompiler().WithCapabilities(caps).WithStrict(true).WithDefaultRegoVersion(ast.RegoV1)
}

// compileSet validates, compiles and prepares set and runs the sample
// decisions (see Engine.Compile).
func compileSet(ctx context.Context, set PolicySet) (*policySet, error) {
	const op = "governance.Compile"
	canon, err := validateSet(set)
	if err != nil {
		return nil, err
	}
	// The purposes and settings must be well formed (ParsePolicyData), so
	// that a purpose with an unknown legal basis or role never becomes active.
	var doc map[string]any
	if err := util.UnmarshalJSON(canon.Data, &doc); err != nil {
		return nil, &xapi.Error{Kind: xapi.Invalid, Op: op, Msg: "policy data must be one JSON object", Err: err}
	}
	pd, err := ParsePolicyData(doc)
	if err != nil {
		return nil, err
	}
	mods, err := parseModules(canon.Modules, false)
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, xapi.Errorf(xapi.Invalid, op, "the policy set has no modules besides tests")
	}
	// The test modules must parse too, before anything is activated.
	if _, err := parseModules(canon.Modules, true); err != nil {
		return nil, err
	}
	c := newCompiler()
	if c.Compile(mods); c.Failed() {
		return nil, invalidPolicy(op, "policy does not compile", c.Errors)
	}
	if len(c.GetRulesExact(ast.MustParseRef(decisionQuery))) == 0 {
		return nil, xapi.Errorf(xapi.Invalid, op, "no rule defines %s, the decision every request needs", decisionQuery)
	}
	st, err := dataStore(canon.Data)
	if err != nil {
		return nil, err
	}
	q, err := rego.New(rego.Query(decisionQuery), rego.Compiler(c), rego.Store(st)).PrepareForEval(ctx)
	if err != nil {
		return nil, invalidPolicy(op, "policy does not compile", err)
	}
	filter, err := prepareFilter(ctx, c, rego.Store(st))
	if err != nil {
		return nil, err
	}
	ps := &policySet{set: canon, query: q, revision: revisionOf(canon), data: pd, filter: filter}
	if err := ps.sample(ctx); err != nil {
		return nil, err
	}
	return ps, nil
}

// sample evaluates the decision for sample inputs: each role and a few
// actions, on a statement. Each must give a well-formed decision in time,
// and the admin must be allowed to manage policies.
func (ps *policySet) sample(ctx context.Context) error {
	const op = "governance.Compile"
	agent := xapi.Agent{Mbox: "mailto:learner@example.com"}
	ifi := agent.IFI()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res := map[string]any{
		"kind": "statement", "subjects": []any{ifi}, "about": []any{ifi}, "voiding": false,
		"verb": "http://adlnet.gov/expapi/verbs/completed", "activities": []any{"http://example.com/course/1"},
		"activity_types": []any{}, "client": "sample-client", "signed": false, "purpose": "", "legal_basis": "",
		"stored": now.Format(time.RFC3339), "expires": now.AddDate(1, 0, 0).Format(time.RFC3339),
	}
	for _, role := range []string{RoleAdmin, RoleCompliance, RoleHR, RoleAuditor, RoleLearner, RoleClient} {
		p := Principal{ID: "sample-" + role, Roles: []string{role}, Scopes: []string{"all"}}
		if role == RoleLearner {
			p.Agent = &agent
		}
		for _, action := range []string{"statements.write", "statements.read", "statements.query", "policies.manage"} {
			in := Input{Principal: p, Action: action, Resource: res, Context: map[string]any{
				"now": now.Format(time.RFC3339Nano), "consents": map[string]any{ifi: map[string]any{}},
				"holds": map[string]any{"subjects": []any{}, "purposes": []any{}},
			}}
			d, _, err := ps.eval(ctx, in)
			if err != nil {
				msg := "policy does not give a well-formed decision"
				var xe *xapi.Error
				if errors.As(err, &xe) && xe.Err != nil {
					msg += ": " + firstLine(xe.Err.Error())
				}
				return xapi.Errorf(xapi.Invalid, op, "%s for a sample input (role %s, action %s)", msg, role, action)
			}
			if role == RoleAdmin && action == "policies.manage" && !d.Allow {
				return xapi.Errorf(xapi.Invalid, op, "policy refuses the admin policies.manage, so no one could roll it back")
			}
		}
	}
	return nil
}

// validateSet checks names, sizes and the data document and returns the
// set with its data in canonical form (object keys sorted, no spaces).
func validateSet(set PolicySet) (PolicySet, error) {
	const op = "governance.Compile"
	if len(set.Modules) > maxModules {
		return PolicySet{}, xapi.Errorf(xapi.TooLarge, op, "a policy set has at most %d modules", maxModules)
	}
	for name, src := range set.Modules {
		if !strings.HasSuffix(name, ".rego") || strings.ContainsAny(name, "\x00\\") || strings.HasPrefix(name, "/") {
			return PolicySet{}, xapi.Errorf(xapi.Invalid, op, "module name %q must be a relative file name ending in .rego", name)
		}
		if len(src) > maxModuleBytes {
			return PolicySet{}, xapi.Errorf(xapi.TooLarge, op, "module %s is over %d KiB", name, maxModuleBytes>>10)
		}
	}
	data := set.Data
	if len(bytes.TrimSpace(data)) == 0 {
		data = json.RawMessage(`{}`)
	}
	if len(data) > maxDataBytes {
		return PolicySet{}, xapi.Errorf(xapi.TooLarge, op, "policy data is over %d MiB", maxDataBytes>>20)
	}
	canon, err := canonicalData(data)
	if err != nil {
		return PolicySet{}, err
	}
	return PolicySet{Modules: cloneModules(set.Modules), Data: canon}, nil
}

// canonicalData checks that data is one JSON object and re-encodes it with
// sorted keys, numbers kept as written.
func canonicalData(data []byte) (json.RawMessage, error) {
	const op = "governance.Compile"
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, xapi.Errorf(xapi.Invalid, op, "policy data must be one JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, xapi.Errorf(xapi.Invalid, op, "policy data must be one JSON object, with nothing after it")
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, xapi.Errorf(xapi.Invalid, op, "policy data must be one JSON object")
	}
	return b, nil
}

// dataStore returns an OPA store holding data (canonical, an object).
func dataStore(data json.RawMessage) (storage.Store, error) {
	var obj map[string]any
	if err := util.UnmarshalJSON(data, &obj); err != nil {
		return nil, &xapi.Error{Kind: xapi.Invalid, Op: "governance.Compile", Msg: "policy data must be one JSON object", Err: err}
	}
	return inmem.NewFromObjectWithOpts(obj, inmem.OptRoundTripOnWrite(false)), nil
}

// revisionOf is the content-derived id of a canonical set.
func revisionOf(set PolicySet) string {
	h := sha256.New()
	for _, name := range sortedNames(set.Modules) {
		fmt.Fprintf(h, "%s\x00%d\x00%s", name, len(set.Modules[name]), set.Modules[name])
	}
	fmt.Fprintf(h, "\x00data\x00%d\x00%s", len(set.Data), set.Data)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func validRevision(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// parseModules parses the modules of a set: the production modules, or,
// with tests, all of them.
func parseModules(mods map[string]string, withTests bool) (map[string]*ast.Module, error) {
	out := map[string]*ast.Module{}
	for _, name := range sortedNames(mods) {
		if !withTests && isTestModule(name) {
			continue
		}
		m, err := ast.ParseModuleWithOpts(name, mods[name], ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, invalidPolicy("governance.Compile", "policy does not parse", err)
		}
		out[name] = m
	}
	return out, nil
}

func isTestModule(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// invalidPolicy turns an OPA compile or parse error into an Invalid error
// whose message lists each problem as file:line:column: message, without
// the source excerpts OPA adds.
func invalidPolicy(op, what string, err error) error {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		var one *ast.Error
		if errors.As(err, &one) {
			errs = ast.Errors{one}
		}
	}
	if len(errs) == 0 {
		return &xapi.Error{Kind: xapi.Invalid, Op: op, Msg: what + ": " + firstLine(err.Error()), Err: err}
	}
	var parts []string
	for i, e := range errs {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-10))
			break
		}
		loc := ""
		if e.Location != nil {
			loc = fmt.Sprintf("%s:%d:%d: ", e.Location.File, e.Location.Row, e.Location.Col)
		}
		parts = append(parts, loc+e.Code+": "+e.Message)
	}
	return &xapi.Error{Kind: xapi.Invalid, Op: op, Msg: what + ": " + strings.Join(parts, "; "), Err: err}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func cloneModules(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s PolicySet) clone() PolicySet {
	return PolicySet{Modules: cloneModules(s.Modules), Data: append(json.RawMessage(nil), s.Data...)}
}

// ReadPolicySet reads a policy set from fsys: every .rego file (tests
// included) and data.json at the root, when present (otherwise the data is
// the empty object).
func ReadPolicySet(fsys fs.FS) (PolicySet, error) {
	mods, err := readModules(fsys, true)
	if err != nil {
		return PolicySet{}, err
	}
	data, err := fs.ReadFile(fsys, dataFile)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = []byte(`{}`), nil
	}
	if err != nil {
		return PolicySet{}, fmt.Errorf("governance: reading policy data: %w", err)
	}
	return PolicySet{Modules: mods, Data: data}, nil
}

// readModules reads the .rego files of fsys: without tests, or with them.
func readModules(fsys fs.FS, withTests bool) (map[string]string, error) {
	mods := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		if !withTests && isTestModule(path) {
			return nil
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		mods[path] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("governance: reading policies: %w", err)
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("governance: no policy modules found")
	}
	return mods, nil
}

// ParseModules parses the .rego files of fsys, tests included, for running
// the policy tests.
func ParseModules(fsys fs.FS) (map[string]*ast.Module, error) {
	mods, err := readModules(fsys, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ast.Module, len(mods))
	for name, src := range mods {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("governance: %w", err)
		}
		out[name] = m
	}
	return out, nil
}

// memRecords keeps revisions in memory until Restore names a RecordStore.
type memRecords struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemRecords() *memRecords { return &memRecords{m: map[string][]byte{}} }

func (r *memRecords) PutRecord(_ context.Context, kind, key string, value []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[kind+"/"+key] = append([]byte(nil), value...)
	return nil
}

func (r *memRecords) GetRecord(_ context.Context, kind, key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[kind+"/"+key]
	if !ok {
		return nil, xapi.Errorf(xapi.NotFound, "governance", "no %s record with this key", kind)
	}
	return v, nil
}

func (r *memRecords) DeleteRecord(_ context.Context, kind, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, kind+"/"+key)
	return nil
}

func (r *memRecords) ListRecords(_ context.Context, kind string) (map[string][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range r.m {
		if key, ok := strings.CutPrefix(k, kind+"/"); ok {
			out[key] = v
		}
	}
	return out, nil
}
