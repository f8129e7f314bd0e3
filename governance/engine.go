package governance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"custodia/xapi"
)

// decisionQuery is the policy entry point (see package policies).
const decisionQuery = "data.custodia.authz.decision"

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
}

// Engine evaluates the active policy set. Queries are prepared once per
// policy set; a new set is swapped in atomically.
type Engine struct {
	active atomic.Pointer[policySet]
}

type policySet struct {
	query    rego.PreparedEvalQuery
	revision string
	data     PolicyData
}

// NewEngine compiles (strictly) the policy modules in fsys, leaving out the
// _test.rego files, with the policy data document data.json of fsys (see
// ParsePolicyData), and prepares the decision query.
func NewEngine(ctx context.Context, fsys fs.FS) (*Engine, error) {
	mods, err := readModules(fsys, false)
	if err != nil {
		return nil, err
	}
	data, err := readData(fsys)
	if err != nil {
		return nil, err
	}
	ps, err := preparePolicySet(ctx, mods, data)
	if err != nil {
		return nil, err
	}
	e := &Engine{}
	e.active.Store(ps)
	return e, nil
}

// Revision reports the active policy revision: a digest of the modules.
func (e *Engine) Revision() string { return e.active.Load().revision }

// PolicyData reports the purposes and settings of the active policy set.
func (e *Engine) PolicyData() PolicyData { return e.active.Load().data }

// Decide evaluates the active policy for in. Any evaluation failure, or a
// result that is not a well-formed decision, is an error: callers fail closed.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	ps := e.active.Load()
	rs, err := ps.query.Eval(ctx, rego.EvalInput(in.value()))
	if err != nil {
		return Decision{}, &xapi.Error{Kind: xapi.Internal, Op: "governance.Decide", Err: err}
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, &xapi.Error{Kind: xapi.Internal, Op: "governance.Decide", Err: fmt.Errorf("policy gave %d results for %s", len(rs), in.Action)}
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{}, &xapi.Error{Kind: xapi.Internal, Op: "governance.Decide", Err: fmt.Errorf("policy decision is not an object")}
	}
	allow, ok := obj["allow"].(bool)
	if !ok {
		return Decision{}, &xapi.Error{Kind: xapi.Internal, Op: "governance.Decide", Err: fmt.Errorf("policy decision has no boolean allow")}
	}
	d := Decision{Allow: allow, Revision: ps.revision}
	if rs, ok := obj["reasons"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				d.Reasons = append(d.Reasons, s)
			}
		}
	}
	if d.Obligations, err = decodeObligations(obj["obligations"]); err != nil {
		return Decision{}, &xapi.Error{Kind: xapi.Internal, Op: "governance.Decide", Err: fmt.Errorf("policy decision for %s: %w", in.Action, err)}
	}
	return d, nil
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

func preparePolicySet(ctx context.Context, mods map[string]string, data map[string]any) (*policySet, error) {
	pd, err := ParsePolicyData(data)
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){rego.Query(decisionQuery), rego.Strict(true), rego.Store(inmem.NewFromObject(data))}
	names := make([]string, 0, len(mods))
	for name := range mods {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		opts = append(opts, rego.Module(name, mods[name]))
		fmt.Fprintf(h, "%s\x00%d\x00%s", name, len(mods[name]), mods[name])
	}
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, &xapi.Error{Kind: xapi.Invalid, Op: "governance.NewEngine", Msg: "policy does not compile", Err: err}
	}
	return &policySet{query: q, revision: hex.EncodeToString(h.Sum(nil))[:16], data: pd}, nil
}

// readModules reads the .rego files of fsys: without tests, or with them.
func readModules(fsys fs.FS, withTests bool) (map[string]string, error) {
	mods := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		if !withTests && strings.HasSuffix(path, "_test.rego") {
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
