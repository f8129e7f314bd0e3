package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/rego/compile"

	"custodia/xapi"
)

// List reads are filtered by partial evaluation (DESIGN.md, "Policy
// model"). A policy set that defines data.custodia.filters.include (the
// default pack: policies/filters.rego) has it compiled with OPA's
// rego/compile, target UCAST, for the principal and the legal holds of a
// query, with the row it is about left unknown (input.row). The result is a
// condition tree over the row facts that data.custodia.authz.read_row gives
// the statements.read decision:
//
//	purpose, legal_basis   recorded at write ("" none)
//	expires_ns, now_ns     end of retention (0: never) and the instant of the read
//	own                    the row is about the reader
//	subject_held           a legal hold pins a person it is about
//	consented              every person it is about consents to its purpose
//
// The gate maps what the store can answer onto xapi.Query.Rows: recorded
// purpose, legal basis and expiry from the fact record and purpose index;
// own as "one of the statement's own agents is the reader's", from the
// agent index; subject_held likewise with the IFIs under legal hold. The
// rest (consented, anything unfamiliar) is left out, which only widens the
// conditions: every row the store returns is still decided one by one.
//
// A set with the filter must agree with its decision: before activation,
// Check verifies, for sample principals and rows, that no row the decision
// lets a principal read is excluded by the filter (checkFilter).

// Filter entry points (see policies/filters.rego).
const (
	filterQuery  = "data.custodia.filters.include"
	readRowQuery = "data.custodia.authz.read_row"
	rowUnknown   = "input.row"
)

// maxFilterCache bounds the compiled filters a policy set keeps.
const maxFilterCache = 512

// FilterTimeout bounds one compilation of the list-read filter (once per
// principal and policy revision). The filter only narrows what is decided
// row by row, so a query whose filter cannot be compiled in time is
// answered without it.
const FilterTimeout = 2 * time.Second

// listFilter is the compiled list-read filter of a policy set.
type listFilter struct {
	prep    *compile.Prepared
	readRow rego.PreparedEvalQuery

	mu    sync.Mutex
	cache map[string]rowDNF
}

// rowLeaf is one comparison of a row fact: field op value, negated when
// not. value is a JSON scalar, a []any (for "in"), or a fieldRef.
type rowLeaf struct {
	field string
	op    string
	value any
	not   bool
}

// fieldRef is a leaf value naming another row fact.
type fieldRef string

// rowDNF is a condition tree in disjunctive normal form: a row passes when
// all holds, or when every leaf of one of any holds.
type rowDNF struct {
	all bool
	any [][]rowLeaf
}

// prepareFilter prepares the list-read filter of a compiled set; nil when
// the set does not define data.custodia.filters.include.
func prepareFilter(ctx context.Context, c *ast.Compiler, opts ...func(*rego.Rego)) (*listFilter, error) {
	const op = "governance.Compile"
	if len(c.GetRulesExact(ast.MustParseRef(filterQuery))) == 0 {
		return nil, nil
	}
	if len(c.GetRulesExact(ast.MustParseRef(readRowQuery))) == 0 {
		return nil, xapi.Errorf(xapi.Invalid, op, "%s needs %s, the row facts it is compiled over", filterQuery, readRowQuery)
	}
	prep, err := compile.New(
		compile.Target("ucast", "all"),
		compile.ParsedUnknowns(ast.MustParseTerm(rowUnknown)),
		compile.ParsedQuery(ast.MustParseBody(filterQuery)),
		compile.Rego(append([]func(*rego.Rego){rego.Compiler(c)}, opts...)...),
	).Prepare(ctx)
	if err != nil {
		return nil, invalidPolicy(op, "the list-read filter does not compile", err)
	}
	rr, err := rego.New(append([]func(*rego.Rego){rego.Query(readRowQuery), rego.Compiler(c)}, opts...)...).PrepareForEval(ctx)
	if err != nil {
		return nil, invalidPolicy(op, "the row facts do not compile", err)
	}
	return &listFilter{prep: prep, readRow: rr, cache: map[string]rowDNF{}}, nil
}

// filterInput is the known input of a filter compilation: the principal,
// and the purposes under legal hold. It has no instant (now is a row fact),
// so that one compilation serves every query of the principal.
func filterInput(p Principal, heldPurposes []string) map[string]any {
	in := Input{Principal: p, Action: "statements.read", Context: map[string]any{
		"holds": map[string]any{"subjects": []any{}, "purposes": strs(heldPurposes)},
	}}.value()
	delete(in, "resource")
	return in
}

// conditions compiles the filter for in (see filterInput), remembering the
// result by input.
func (f *listFilter) conditions(ctx context.Context, in map[string]any) (rowDNF, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return rowDNF{}, err
	}
	key := string(b)
	f.mu.Lock()
	d, ok := f.cache[key]
	f.mu.Unlock()
	if ok {
		return d, nil
	}
	ctx, cancel := context.WithTimeout(ctx, FilterTimeout)
	defer cancel()
	fs, err := f.prep.Compile(ctx, rego.EvalInput(in))
	if err != nil {
		return rowDNF{}, fmt.Errorf("governance: compiling the list-read filter: %w", err)
	}
	if d, err = parseUCAST(fs.One().Query); err != nil {
		return rowDNF{}, err
	}
	f.mu.Lock()
	if len(f.cache) >= maxFilterCache {
		clear(f.cache)
	}
	f.cache[key] = d
	f.mu.Unlock()
	return d, nil
}

// rowFacts evaluates data.custodia.authz.read_row for a statements.read
// input: the row facts the decision sees.
func (f *listFilter) rowFacts(ctx context.Context, in Input) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, DecisionTimeout)
	defer cancel()
	rs, err := f.readRow.Eval(ctx, rego.EvalInput(in.value()))
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("%s is undefined", readRowQuery)
	}
	m, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", readRowQuery)
	}
	return m, nil
}

// parseUCAST reads the UCAST tree rego/compile gives (nil: no row passes;
// an empty object: every row passes) into a rowDNF.
func parseUCAST(q any) (rowDNF, error) {
	if q == nil {
		return rowDNF{}, nil
	}
	m, ok := q.(map[string]any)
	if !ok {
		return rowDNF{}, fmt.Errorf("governance: list-read filter: %T is not a condition tree", q)
	}
	if len(m) == 0 {
		return rowDNF{all: true}, nil
	}
	if m["type"] == "compound" && m["operator"] == "or" {
		var d rowDNF
		for _, c := range children(m) {
			conj, err := parseConj(c)
			if err != nil {
				return rowDNF{}, err
			}
			d.any = append(d.any, conj)
		}
		return d, nil
	}
	conj, err := parseConj(m)
	if err != nil {
		return rowDNF{}, err
	}
	return rowDNF{any: [][]rowLeaf{conj}}, nil
}

func children(m map[string]any) []any {
	v, _ := m["value"].([]any)
	return v
}

func parseConj(n any) ([]rowLeaf, error) {
	m, _ := n.(map[string]any)
	if m["type"] == "compound" && m["operator"] == "and" {
		var out []rowLeaf
		for _, c := range children(m) {
			l, err := parseLeaf(c)
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		return out, nil
	}
	l, err := parseLeaf(m)
	if err != nil {
		return nil, err
	}
	return []rowLeaf{l}, nil
}

func parseLeaf(n any) (rowLeaf, error) {
	m, _ := n.(map[string]any)
	if m["type"] == "compound" && m["operator"] == "not" {
		c := children(m)
		if len(c) != 1 {
			return rowLeaf{}, errors.New("governance: list-read filter: a negation of several conditions")
		}
		l, err := parseLeaf(c[0])
		l.not = !l.not
		return l, err
	}
	field, _ := m["field"].(string)
	op, _ := m["operator"].(string)
	name, ok := strings.CutPrefix(field, "row.")
	if m["type"] != "field" || !ok || op == "" {
		return rowLeaf{}, fmt.Errorf("governance: list-read filter: unexpected condition %v", m)
	}
	v := m["value"]
	if ref, ok := v.(map[string]any); ok {
		f, _ := ref["field"].(string)
		rn, ok := strings.CutPrefix(f, "row.")
		if !ok {
			return rowLeaf{}, fmt.Errorf("governance: list-read filter: unexpected field reference %v", ref)
		}
		v = fieldRef(rn)
	}
	return rowLeaf{field: name, op: op, value: v}, nil
}

// match reports whether row facts (as read_row gives them) pass d: the
// exact meaning of the tree, for checking it against the decision.
func (d rowDNF) match(facts map[string]any) bool {
	if d.all {
		return true
	}
	for _, conj := range d.any {
		ok := true
		for _, l := range conj {
			if l.eval(facts) == l.not {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (l rowLeaf) eval(facts map[string]any) bool {
	a := facts[l.field]
	b := l.value
	if r, ok := b.(fieldRef); ok {
		b = facts[string(r)]
	}
	switch l.op {
	case "eq":
		return equalJSON(a, b)
	case "ne":
		return !equalJSON(a, b)
	case "in":
		xs, _ := b.([]any)
		return slices.ContainsFunc(xs, func(x any) bool { return equalJSON(a, x) })
	case "lt", "lte", "gt", "gte":
		c, ok := compareNumbers(a, b)
		if !ok {
			return false
		}
		switch l.op {
		case "lt":
			return c < 0
		case "lte":
			return c <= 0
		case "gt":
			return c > 0
		}
		return c >= 0
	case "startswith", "endswith", "contains":
		s, ok1 := a.(string)
		t, ok2 := b.(string)
		if !ok1 || !ok2 {
			return false
		}
		switch l.op {
		case "startswith":
			return strings.HasPrefix(s, t)
		case "endswith":
			return strings.HasSuffix(s, t)
		}
		return strings.Contains(s, t)
	}
	return false
}

// number converts a JSON number (json.Number, float64, int) to an int64
// when exact, or a float64.
func number(v any) (i int64, f float64, exact, ok bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, float64(i), true, true
		}
		f, err := n.Float64()
		return 0, f, false, err == nil
	case float64:
		return 0, n, false, true
	case int:
		return int64(n), float64(n), true, true
	case int64:
		return n, float64(n), true, true
	}
	return 0, 0, false, false
}

func compareNumbers(a, b any) (int, bool) {
	ai, af, ae, ok1 := number(a)
	bi, bf, be, ok2 := number(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if ae && be {
		switch {
		case ai < bi:
			return -1, true
		case ai > bi:
			return 1, true
		}
		return 0, true
	}
	switch {
	case af < bf:
		return -1, true
	case af > bf:
		return 1, true
	}
	return 0, true
}

func equalJSON(a, b any) bool {
	if c, ok := compareNumbers(a, b); ok {
		return c == 0
	}
	return a == b
}

// storeFilter maps d onto the conditions the store answers (nil: no
// restriction): own as an agent of the statement among identities,
// subject_held as one among held (the IFIs under legal hold), and the
// recorded purpose, legal basis and expiry, with now the instant of the
// read. Leaves the store cannot answer are left out, so every row that
// passes d passes the result.
func (d rowDNF) storeFilter(identities, held []string, now time.Time) *xapi.RowFilter {
	if d.all {
		return nil
	}
	out := &xapi.RowFilter{Any: []xapi.RowCondition{}}
	seen := map[string]bool{}
	for _, conj := range d.any {
		c, ok := conjCondition(conj, identities, held, now)
		if !ok {
			continue // no row passes this conjunction
		}
		if isUnrestricted(c) {
			return nil
		}
		b, _ := json.Marshal(c)
		if !seen[string(b)] {
			seen[string(b)] = true
			out.Any = append(out.Any, c)
		}
	}
	out.Any = mergeExpiry(out.Any)
	for _, c := range out.Any {
		if isUnrestricted(c) {
			return nil
		}
	}
	return out
}

// strSet is a restriction to a set of strings; nil: none.
type strSet map[string]bool

func (s strSet) intersect(vs ...string) strSet {
	out := strSet{}
	for _, v := range vs {
		if s == nil || s[v] {
			out[v] = true
		}
	}
	return out
}

func (s strSet) list() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// conjCondition maps one conjunction; ok is false when no row can pass it.
func conjCondition(conj []rowLeaf, identities, held []string, now time.Time) (xapi.RowCondition, bool) {
	var c xapi.RowCondition
	var purposes, bases strSet
	notPurposes, notBases := strSet{}, strSet{}
	never, after := false, time.Time{}
	agentSets := map[string]bool{}
	for _, l := range conj {
		switch l.field {
		case "purpose", "legal_basis":
			in, not := &purposes, notPurposes
			if l.field == "legal_basis" {
				in, not = &bases, notBases
			}
			vals, ok := stringValues(l)
			if !ok {
				continue
			}
			if (l.op == "eq" || l.op == "in") != l.not {
				*in = in.intersect(vals...)
			} else {
				for _, v := range vals {
					not[v] = true
				}
			}
		case "expires_ns":
			if l.not {
				continue
			}
			switch {
			case l.op == "eq" && isZero(l.value):
				never = true
			case (l.op == "gt" || l.op == "gte") && l.value == fieldRef("now_ns"):
				t := now
				if l.op == "gte" {
					t = now.Add(-time.Nanosecond)
				}
				after = latest(after, t)
			case l.op == "gt" || l.op == "gte":
				// A literal instant; UCAST carries numbers as float64, so
				// leave a microsecond for rounding.
				if _, f, _, ok := number(l.value); ok && f < math.MaxInt64 {
					after = latest(after, time.Unix(0, int64(f)).Add(-time.Microsecond))
				}
			}
		case "own", "subject_held":
			if l.not || l.op != "eq" || l.value != true {
				continue
			}
			set := identities
			if l.field == "subject_held" {
				set = held
			}
			if len(set) == 0 {
				return c, false
			}
			if !agentSets[l.field] {
				agentSets[l.field] = true
				c.Agents = append(c.Agents, append([]string(nil), set...))
			}
		}
	}
	if purposes != nil {
		for v := range notPurposes {
			delete(purposes, v)
		}
		if len(purposes) == 0 {
			return c, false
		}
	}
	if bases != nil {
		for v := range notBases {
			delete(bases, v)
		}
		if len(bases) == 0 {
			return c, false
		}
	}
	if never && !after.IsZero() {
		return c, false // kept without limit and expiring after now
	}
	c.Purposes, c.Bases = purposes.list(), bases.list()
	if purposes == nil {
		c.NotPurposes = notPurposes.list()
	}
	if bases == nil {
		c.NotBases = notBases.list()
	}
	if len(c.NotPurposes) == 0 {
		c.NotPurposes = nil
	}
	if len(c.NotBases) == 0 {
		c.NotBases = nil
	}
	c.Expiry = xapi.Expiry{Never: never, After: after}
	return c, true
}

func stringValues(l rowLeaf) ([]string, bool) {
	switch v := l.value.(type) {
	case string:
		if l.op == "eq" || l.op == "ne" {
			return []string{v}, true
		}
	case []any:
		if l.op != "in" {
			return nil, false
		}
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func isZero(v any) bool {
	c, ok := compareNumbers(v, 0)
	return ok && c == 0
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func isUnrestricted(c xapi.RowCondition) bool {
	return c.Purposes == nil && c.NotPurposes == nil && c.Bases == nil && c.NotBases == nil &&
		len(c.Agents) == 0 && !c.Expiry.Never && c.Expiry.After.IsZero()
}

// mergeExpiry joins conditions that differ only in their expiry into one
// that accepts the expiries either accepts: "not expired" comes out of the
// tree as two conjunctions, one kept without limit, one expiring after now.
func mergeExpiry(cs []xapi.RowCondition) []xapi.RowCondition {
	key := func(c xapi.RowCondition) string {
		c.Expiry = xapi.Expiry{}
		b, _ := json.Marshal(c)
		return string(b)
	}
	var out []xapi.RowCondition
	at := map[string]int{}
	for _, c := range cs {
		k := key(c)
		if i, ok := at[k]; ok {
			out[i].Expiry = unionExpiry(out[i].Expiry, c.Expiry)
			continue
		}
		at[k] = len(out)
		out = append(out, c)
	}
	return out
}

// unionExpiry is the expiry condition accepting what a or b accepts.
func unionExpiry(a, b xapi.Expiry) xapi.Expiry {
	if a == (xapi.Expiry{}) || b == (xapi.Expiry{}) {
		return xapi.Expiry{}
	}
	out := xapi.Expiry{Never: a.Never || b.Never, After: a.After}
	if out.After.IsZero() || (!b.After.IsZero() && b.After.Before(out.After)) {
		out.After = b.After
	}
	return out
}

// checkFilter checks the list-read filter against the statements.read
// decision on sample principals (each role; HR for each purpose) and rows
// (each purpose and none, about the reader or not, expired or not, with
// consent or without, under legal hold or not): every row the decision lets
// a principal read must pass the filter compiled for that principal, or
// list reads would silently miss it. Errors are Invalid.
func (ps *policySet) checkFilter(ctx context.Context) error {
	const op = "governance.Check"
	f := ps.filter
	if f == nil {
		return nil
	}
	alice, bob := xapi.Agent{Mbox: "mailto:alice@example.com"}, xapi.Agent{Mbox: "mailto:bob@example.com"}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ids := ps.data.PurposeIDs()
	var principals []Principal
	for _, role := range simulationRoles() {
		p := Principal{ID: "check-" + role, Roles: []string{role}, Scopes: SimulationScopes(role)}
		if role == RoleLearner {
			p.Agent = &alice
		}
		principals = append(principals, p)
	}
	for _, id := range ids {
		principals = append(principals, Principal{ID: "check-hr", Roles: []string{RoleHR}, Scopes: SimulationScopes(RoleHR), Purpose: id})
	}
	// One held purpose (the first), and rows whose subject is under hold.
	var heldPurposes []string
	if len(ids) > 0 {
		heldPurposes = ids[:1]
	}
	type sampleRow struct{ res, ctx map[string]any }
	var rows []sampleRow
	for _, id := range append([]string{""}, ids...) {
		basis := ""
		if id != "" {
			basis = ps.data.Purposes[id].LegalBasis
		}
		rowPurpose := id
		if rowPurpose == "" {
			rowPurpose = ps.data.Settings.DefaultPurpose
		}
		for _, who := range []xapi.Agent{alice, bob} {
			ifi := who.IFI()
			for _, expires := range []time.Time{{}, now.AddDate(1, 0, 0), now.AddDate(0, 0, -1)} {
				for _, consented := range []bool{true, false} {
					if !consented && ps.data.Purposes[rowPurpose].LegalBasis != BasisConsent && basis != BasisConsent {
						continue // consent matters only for purposes based on it
					}
					held := expires.Before(now) && !expires.IsZero() && consented // an expired row, held or not
					res := map[string]any{"kind": "statement", "subjects": []any{ifi}, "about": []any{ifi}, "verb": "http://adlnet.gov/expapi/verbs/completed",
						"purpose": id, "legal_basis": basis, "stored": now.AddDate(-1, 0, 0).Format(time.RFC3339Nano), "expires": ""}
					if !expires.IsZero() {
						res["expires"] = expires.Format(time.RFC3339Nano)
					}
					subjects := []any{}
					if held {
						subjects = []any{ifi}
					}
					c := map[string]any{"now": now.Format(time.RFC3339Nano),
						"holds":    map[string]any{"subjects": subjects, "purposes": strs(heldPurposes)},
						"consents": map[string]any{ifi: map[string]any{rowPurpose: consented}}}
					rows = append(rows, sampleRow{res: res, ctx: c})
				}
			}
		}
	}
	for _, p := range principals {
		d, err := f.conditions(ctx, filterInput(p, heldPurposes))
		if err != nil {
			return xapi.Errorf(xapi.Invalid, op, "the list-read filter (%s) does not compile for a sample %s: %s", filterQuery, strings.Join(p.Roles, ","), firstLine(err.Error()))
		}
		for _, r := range rows {
			in := Input{Principal: p, Action: "statements.read", Resource: r.res, Context: r.ctx}
			dec, _, err := ps.eval(ctx, in)
			if err != nil || !dec.Allow {
				continue // the sample decisions are checked by Compile
			}
			facts, err := f.rowFacts(ctx, in)
			if err != nil {
				return xapi.Errorf(xapi.Invalid, op, "the row facts (%s) of a sample statement: %s", readRowQuery, firstLine(err.Error()))
			}
			if !d.match(facts) {
				return xapi.Errorf(xapi.Invalid, op, "the list-read filter (%s) excludes a statement that statements.read lets a sample %s read (request purpose %q, statement purpose %q): filter and decision must agree",
					filterQuery, strings.Join(p.Roles, ","), p.Purpose, r.res["purpose"])
			}
		}
	}
	return nil
}

// RowConditions returns the conditions the store is given for the list
// reads of p at now under holds (see xapi.Query.Rows; nil restricts
// nothing), and whether the active policy has a list-read filter at all.
func (e *Engine) RowConditions(ctx context.Context, p Principal, holds []Hold, now time.Time) (*xapi.RowFilter, bool, error) {
	f := e.active.Load().filter
	if f == nil {
		return nil, false, nil
	}
	var purposes, subjects []string
	for _, h := range holds {
		if h.Purpose != "" {
			purposes = append(purposes, h.Purpose)
		}
		if h.Agent != nil {
			subjects = append(subjects, (Principal{Agent: h.Agent}).Identities()...)
		}
	}
	sort.Strings(purposes)
	d, err := f.conditions(ctx, filterInput(p, slices.Compact(purposes)))
	if err != nil {
		return nil, true, err
	}
	return d.storeFilter(p.Identities(), subjects, now), true, nil
}

// FilterIncludes reports whether the list-read filter of the active
// policy, compiled for in.Principal and the held purposes of in.Context,
// passes the statement in describes (an input of statements.read, as the
// gate builds it): the condition tree evaluated on the row facts the
// decision sees. Without a filter it passes everything. The statements.read
// decision never allows what this excludes (Check refuses a policy where
// it would).
func (e *Engine) FilterIncludes(ctx context.Context, in Input) (bool, error) {
	f := e.active.Load().filter
	if f == nil {
		return true, nil
	}
	var purposes []string
	holds, _ := in.Context["holds"].(map[string]any)
	switch ps := holds["purposes"].(type) {
	case []string:
		purposes = ps
	case []any:
		for _, p := range ps {
			if s, ok := p.(string); ok {
				purposes = append(purposes, s)
			}
		}
	}
	d, err := f.conditions(ctx, filterInput(in.Principal, purposes))
	if err != nil {
		return false, err
	}
	facts, err := f.rowFacts(ctx, in)
	if err != nil {
		return false, err
	}
	return d.match(facts), nil
}

// listRows returns the row conditions of p's list reads in the state of rc
// (its holds and instant), and whether the active policy has a list-read
// filter at all. A filter that cannot be compiled (in time) restricts
// nothing: every row is then decided, as the decision is the final check
// anyway; the failure is logged.
func (g *Gate) listRows(ctx context.Context, p Principal, rc *requestState) (*xapi.RowFilter, bool, error) {
	if _, err := g.holdsContext(ctx, nil, rc); err != nil {
		return nil, false, err
	}
	now, err := time.Parse(time.RFC3339Nano, rc.now)
	if err != nil {
		return nil, false, err
	}
	rows, ok, err := g.cfg.Engine.RowConditions(ctx, p, rc.holds, now)
	if err != nil {
		if ctx.Err() != nil {
			return nil, true, ctx.Err()
		}
		g.cfg.Logger.WarnContext(ctx, "list-read filter unavailable; deciding every row", "request_id", RequestID(ctx), "err", err)
		return nil, true, nil
	}
	return rows, ok, nil
}
