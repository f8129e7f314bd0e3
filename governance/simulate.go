package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"custodia/xapi"
)

// Bounds of a simulation's scan of the stored statements.
const (
	DefaultSimulationLimit = 10000
	MaxSimulationLimit     = 1000000
)

// SimulationRequest is a candidate policy change: modules to add or
// replace, modules to remove, and new policy data (nil: the active data),
// applied to a copy of the active set. Limit bounds the statements scanned
// (0: DefaultSimulationLimit).
type SimulationRequest struct {
	Modules map[string]string
	Remove  []string
	Data    json.RawMessage
	Limit   int
}

// Simulation is what a candidate policy would change on the stored
// statements, compared with the active policy. Nothing is activated.
type Simulation struct {
	ActiveRevision    string     `json:"active_revision"`
	CandidateRevision string     `json:"candidate_revision"`
	Tests             TestReport `json:"tests"` // the candidate's own tests
	Now               time.Time  `json:"now"`   // the instant retention is judged at
	Limit             int        `json:"limit"`
	Scanned           int        `json:"scanned"`  // statements scanned, oldest first
	Complete          bool       `json:"complete"` // whether every stored statement was scanned
	// EvaluationErrors counts decisions that failed (under either policy);
	// a failed decision counts as a refusal, as it does at request time.
	EvaluationErrors int                `json:"evaluation_errors"`
	Results          []SimulationResult `json:"results"`
}

// SimulationResult is the change for one role and purpose. The principal
// simulated has that role, the request purpose and the scopes a credential
// of the role usually has (SimulationScopes); a learner stands for the
// actor of each statement.
type SimulationResult struct {
	Role      string          `json:"role"`
	Purpose   string          `json:"purpose"`
	Read      ReadChange      `json:"read"`
	Write     WriteChange     `json:"write"`
	Retention RetentionChange `json:"retention"`
}

// ReadChange counts statements by how the statements.read decision changes.
type ReadChange struct {
	NewlyVisible int `json:"newly_visible"`
	NewlyHidden  int `json:"newly_hidden"`
	Unchanged    int `json:"unchanged"`
}

// WriteChange counts statements by how the statements.write decision
// changes, were they written again by the simulated principal.
type WriteChange struct {
	NewlyRefused int `json:"newly_refused"`
	NewlyAllowed int `json:"newly_allowed"`
}

// RetentionChange counts statements whose retention window, as the write
// decision's obligations.retention_days gives it from stored, would have
// ended by now under the candidate but not under the active policy.
type RetentionChange struct {
	NewlyExpired int `json:"newly_expired"`
}

// SimulationScopes reports the xAPI scopes of the principal simulated for
// role.
func SimulationScopes(role string) []string {
	switch role {
	case RoleAdmin:
		return []string{"all"}
	case RoleClient:
		return []string{"statements/write", "statements/read"}
	case RoleLearner:
		return []string{"statements/write", "statements/read/mine"}
	}
	return []string{"all/read"}
}

// simulationRoles are the roles a simulation reports on.
func simulationRoles() []string {
	return []string{RoleAdmin, RoleCompliance, RoleHR, RoleAuditor, RoleLearner, RoleClient}
}

// SimulatePolicy compiles the candidate req describes (not activating it),
// runs its tests, and compares, for each role and each purpose (those of
// the active and of the candidate data; "" when there are none), the read
// and write decisions of the active and of the candidate policy on the
// stored statements, oldest first, at most req.Limit of them. The decision
// inputs are built as the Gate builds them for requests. The simulation is
// decided (policies.manage) and recorded before any statement is read.
func (g *Gate) SimulatePolicy(ctx context.Context, p Principal, req SimulationRequest) (Simulation, error) {
	const op = "governance.SimulatePolicy"
	limit := req.Limit
	if limit == 0 {
		limit = DefaultSimulationLimit
	}
	if limit < 0 || limit > MaxSimulationLimit {
		return Simulation{}, xapi.Errorf(xapi.Invalid, op, "limit must be between 1 and %d", MaxSimulationLimit)
	}
	for name := range req.Modules {
		if !ValidModuleName(name) {
			return Simulation{}, xapi.Errorf(xapi.Invalid, op, "modules: name %q must be 1 to 64 of a-z, 0-9 and '_', starting with a letter, then .rego", name)
		}
	}
	resources := []string{"simulation"}
	e, err := g.decidePolicy(ctx, op, p, ActionPoliciesManage, resources, map[string]any{"kind": "policy_simulation"})
	if err != nil {
		return Simulation{}, err
	}
	active := g.cfg.Engine.active.Load()
	set := active.set.clone()
	for name, src := range req.Modules {
		set.Modules[name] = src
	}
	for _, name := range req.Remove {
		if _, ok := set.Modules[name]; !ok {
			err = xapi.Errorf(xapi.Invalid, op, "remove: no policy module %s", name)
		}
		delete(set.Modules, name)
	}
	if req.Data != nil {
		set.Data = req.Data
	}
	var cand *Candidate
	if err == nil {
		cand, err = g.cfg.Engine.Compile(ctx, set)
	}
	var tests TestReport
	if err == nil {
		tests, err = cand.Test(ctx)
	}
	if err != nil {
		e.Decision = "deny"
		e.Reasons = append(append([]string(nil), e.Reasons...), "simulation refused: "+refusalClass(err))
		if rerr := g.record(ctx, e); rerr != nil {
			return Simulation{}, rerr
		}
		return Simulation{}, err
	}
	e.Resources = append(e.Resources, "revision:"+cand.Revision())
	e.Reasons = append(append([]string(nil), e.Reasons...), "simulation of revision "+cand.Revision()+" against "+active.revision+"; nothing activated")
	if err := g.record(ctx, e); err != nil {
		return Simulation{}, err
	}

	sim := Simulation{ActiveRevision: active.revision, CandidateRevision: cand.Revision(), Tests: tests, Now: g.cfg.Now().UTC(), Limit: limit, Complete: true}
	sm := newSimulator(g, active, cand.ps, sim.Now)
	purposes := unionSorted(purposesOf(active.set.Data), purposesOf(cand.ps.set.Data))
	if len(purposes) == 0 {
		purposes = []string{""}
	}
	for _, role := range simulationRoles() {
		for _, purpose := range purposes {
			sim.Results = append(sim.Results, SimulationResult{Role: role, Purpose: purpose})
		}
	}
	err = g.cfg.Statements.ScanStatements(ctx, func(s *xapi.Statement) (bool, error) {
		if sim.Scanned == limit {
			sim.Complete = false
			return false, nil
		}
		sim.Scanned++
		for i := range sim.Results {
			if err := sm.compare(ctx, &sim.Results[i], s); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return Simulation{}, err
	}
	sim.EvaluationErrors = sm.errors
	return sim, nil
}

// simulator decides statements under the active and the candidate policy,
// remembering decisions by input.
type simulator struct {
	g                 *Gate
	active, candidate *policySet
	now               time.Time
	cache             map[string]simDecision
	errors            int
	// rc is the state every decision of the simulation is made in: one
	// instant (now) and the consents and holds, read once.
	rc *requestState
}

type simDecision struct {
	allow         bool
	retentionDays int
}

func newSimulator(g *Gate, active, candidate *policySet, now time.Time) *simulator {
	rc := g.newRequestState()
	rc.now = now.UTC().Format(time.RFC3339Nano)
	// The consents of the purposes based on consent under either policy,
	// so that a purpose the candidate adds, or bases on consent again, is
	// decided with the consents already given.
	rc.consentPurposes = unionSorted(consentPurposes(active.data), consentPurposes(candidate.data))
	return &simulator{g: g, active: active, candidate: candidate, now: now, cache: map[string]simDecision{}, rc: rc}
}

// compare adds the change for statement s to r.
func (sm *simulator) compare(ctx context.Context, r *SimulationResult, s *xapi.Statement) error {
	p := Principal{ID: "simulation-" + r.Role, Name: "simulation", Roles: []string{r.Role}, Scopes: SimulationScopes(r.Role), Purpose: r.Purpose}
	if r.Role == RoleLearner {
		if a := s.Actor(); !a.IsGroup() && a.IFI() != "" {
			p.Agent = &a
		}
	}
	f := s.Facts()
	in, err := sm.g.readInput(ctx, p, s, f, sm.rc)
	if err != nil {
		return err
	}
	before, after, err := sm.decide(ctx, in)
	if err != nil {
		return err
	}
	switch {
	case !before.allow && after.allow:
		r.Read.NewlyVisible++
	case before.allow && !after.allow:
		r.Read.NewlyHidden++
	default:
		r.Read.Unchanged++
	}
	if in, err = sm.g.writeInput(ctx, p, s, f, sm.rc); err != nil {
		return err
	}
	if before, after, err = sm.decide(ctx, in); err != nil {
		return err
	}
	switch {
	case before.allow && !after.allow:
		r.Write.NewlyRefused++
	case !before.allow && after.allow:
		r.Write.NewlyAllowed++
	}
	if sm.expired(after, s) && !sm.expired(before, s) {
		r.Retention.NewlyExpired++
	}
	return nil
}

// expired reports whether d gives s a retention window that has ended.
func (sm *simulator) expired(d simDecision, s *xapi.Statement) bool {
	return d.allow && d.retentionDays > 0 && !s.Stored().AddDate(0, 0, d.retentionDays).After(sm.now)
}

// decide evaluates in under the active and the candidate policy. A failed
// evaluation counts as a refusal and is counted; only a cancelled context
// stops the simulation.
func (sm *simulator) decide(ctx context.Context, in Input) (before, after simDecision, err error) {
	b, err := json.Marshal(in.value())
	if err != nil {
		return before, after, err
	}
	key := string(b)
	if len(sm.cache) > 200000 {
		clear(sm.cache)
	}
	one := func(ps *policySet, tag string) (simDecision, error) {
		if d, ok := sm.cache[tag+key]; ok {
			return d, nil
		}
		d, raw, err := ps.eval(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return simDecision{}, ctx.Err()
			}
			sm.errors++
			return simDecision{}, nil
		}
		out := simDecision{allow: d.Allow, retentionDays: retentionDays(raw)}
		sm.cache[tag+key] = out
		return out, nil
	}
	if before, err = one(sm.active, "a"); err != nil {
		return before, after, err
	}
	after, err = one(sm.candidate, "c")
	return before, after, err
}

// retentionDays reads obligations.retention_days from a raw decision; 0
// when absent or not a positive whole number.
func retentionDays(raw map[string]any) int {
	ob, _ := raw["obligations"].(map[string]any)
	var n int
	switch v := ob["retention_days"].(type) {
	case json.Number:
		i, err := v.Int64()
		if err != nil || i <= 0 || i > 1<<20 {
			return 0
		}
		n = int(i)
	case float64:
		if v <= 0 || v > 1<<20 || v != float64(int(v)) {
			return 0
		}
		n = int(v)
	case int:
		n = v
	}
	return max(n, 0)
}

// purposesOf lists the purpose ids of policy data: the keys of
// custodia.purposes.
func purposesOf(data json.RawMessage) []string {
	var d struct {
		Custodia struct {
			Purposes map[string]json.RawMessage `json:"purposes"`
		} `json:"custodia"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil
	}
	out := make([]string, 0, len(d.Custodia.Purposes))
	for k := range d.Custodia.Purposes {
		out = append(out, k)
	}
	return out
}

func unionSorted(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// String summarises r for logs and test failures.
func (r SimulationResult) String() string {
	return fmt.Sprintf("%s/%s: read +%d -%d =%d, write refused %d allowed %d, expired %d", r.Role, r.Purpose,
		r.Read.NewlyVisible, r.Read.NewlyHidden, r.Read.Unchanged, r.Write.NewlyRefused, r.Write.NewlyAllowed, r.Retention.NewlyExpired)
}
