package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"custodia/xapi"
)

// This file builds the policy input of statement decisions (the resource
// facts and the context: now, consents, legal holds) and applies the
// obligations of write decisions.

// fieldDepth is how deep Statement.Fields goes for the policy's view of
// which paths a statement has (enough for "context.contextActivities.parent").
const fieldDepth = 3

// requestState caches, for one request, what decisions need from the
// record store: the consents of each subject and the legal holds, read
// once so that a consent withdrawn before the request counts, and one
// withdrawn during it does not half-count.
//
// All decisions of a request are made at one instant, now, so that they
// agree with each other (and equal inputs can share a decision).
type requestState struct {
	now      string                    // RFC 3339, as the policy sees it
	consents map[string]map[string]any // subject IFI → purpose → granted
	asked    map[[2]string]bool        // (subject, purpose) whose consent was read
	holds    []Hold
	loaded   bool // holds loaded
	// consentPurposes are the purposes whose consents are read; nil: those
	// of the active policy based on consent (a simulation names those of
	// the active and the candidate policy).
	consentPurposes []string
}

func (g *Gate) newRequestState() *requestState {
	return &requestState{now: g.cfg.Now().UTC().Format(time.RFC3339Nano), consents: map[string]map[string]any{}, asked: map[[2]string]bool{}}
}

// writeInput is the input of the statements.write decision for s. The
// consents are those of everyone s is about (xapi Facts.Agents), not only
// its actor: "Bob mentored Alice" is about Alice too.
func (g *Gate) writeInput(ctx context.Context, p Principal, s *xapi.Statement, f xapi.Facts, rc *requestState) (Input, error) {
	_, voiding := s.VoidTarget()
	var types []string
	seen := map[string]bool{}
	for _, a := range s.Activities() {
		if t := a.Type(); t != "" && !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	sort.Strings(types)
	res := map[string]any{
		"kind": "statement", "subjects": strs(f.Subjects), "about": strs(f.Agents), "voiding": voiding, "verb": f.Verb,
		"activities": strs(f.RelatedActivities), "activity_types": strs(types), "client": p.ID,
		"signed": s.Signed(), "fields": strs(s.Fields(fieldDepth)),
	}
	consents, err := g.consentsOf(ctx, f.Agents, rc)
	if err != nil {
		return Input{}, err
	}
	return Input{Principal: p, Action: "statements.write", Resource: res, Context: map[string]any{"now": rc.now, "consents": consents}}, nil
}

// readInput is the input of the statements.read decision for s, a stored
// statement carrying its Recorded.
func (g *Gate) readInput(ctx context.Context, p Principal, s *xapi.Statement, f xapi.Facts, rc *requestState) (Input, error) {
	res := recordedResource(s, f)
	c, err := g.recordedContext(ctx, s, f, rc)
	if err != nil {
		return Input{}, err
	}
	return Input{Principal: p, Action: "statements.read", Resource: res, Context: c}, nil
}

// recordedResource describes a stored statement: who it is about and what
// was recorded about its processing.
func recordedResource(s *xapi.Statement, f xapi.Facts) map[string]any {
	r := s.Recorded()
	expires := ""
	if !r.Expires.IsZero() {
		expires = r.Expires.UTC().Format(time.RFC3339Nano)
	}
	stored := ""
	if t := s.Stored(); !t.IsZero() {
		stored = t.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{
		"kind": "statement", "subjects": strs(f.Subjects), "about": strs(f.Agents), "verb": f.Verb,
		"purpose": r.Purpose, "legal_basis": r.LegalBasis, "stored": stored, "expires": expires,
	}
}

// recordedContext is the context of a decision on a stored statement s:
// now, the consents of everyone it is about (xapi Facts.Agents: the actor,
// an Agent or Group object, group members) and the legal holds that
// concern them. The
// consents are those to the purposes based on consent now and, when s was
// recorded under consent, to its recorded purpose: the read rule follows
// the legal basis recorded at write.
func (g *Gate) recordedContext(ctx context.Context, s *xapi.Statement, f xapi.Facts, rc *requestState) (map[string]any, error) {
	var extra []string
	if r := s.Recorded(); r.LegalBasis == BasisConsent && r.Purpose != "" {
		extra = []string{r.Purpose}
	}
	consents, err := g.consentsOf(ctx, f.Agents, rc, extra...)
	if err != nil {
		return nil, err
	}
	holds, err := g.holdsContext(ctx, f.Agents, rc)
	if err != nil {
		return nil, err
	}
	return map[string]any{"now": rc.now, "consents": consents, "holds": holds}, nil
}

// consentsOf returns the current consents of subjects to the purposes based
// on consent and to extra: {subject: {purpose: granted}}, only purposes
// with a record. Each consent is read once per request.
func (g *Gate) consentsOf(ctx context.Context, subjects []string, rc *requestState, extra ...string) (map[string]any, error) {
	out := make(map[string]any, len(subjects))
	purposes := rc.consentPurposes
	if purposes == nil {
		purposes = consentPurposes(g.cfg.Engine.PolicyData())
	}
	for _, sub := range subjects {
		m, ok := rc.consents[sub]
		if !ok {
			m = map[string]any{}
			rc.consents[sub] = m
		}
		for _, list := range [][]string{purposes, extra} {
			for _, purpose := range list {
				if rc.asked[[2]string{sub, purpose}] {
					continue
				}
				st, err := g.consentState(ctx, sub, purpose)
				if err != nil {
					return nil, err
				}
				if len(st.History) > 0 {
					m[purpose] = st.granted()
				}
				rc.asked[[2]string{sub, purpose}] = true
			}
		}
		out[sub] = m
	}
	return out, nil
}

// consentPurposes lists, in order, the purposes of d based on consent.
func consentPurposes(d PolicyData) []string {
	var out []string
	for _, id := range d.PurposeIDs() {
		if d.Purposes[id].LegalBasis == BasisConsent {
			out = append(out, id)
		}
	}
	return out
}

// holdsContext returns {"subjects": [those of subjects a hold pins],
// "purposes": [every purpose a hold pins]}.
func (g *Gate) holdsContext(ctx context.Context, subjects []string, rc *requestState) (map[string]any, error) {
	if !rc.loaded {
		hs, err := g.loadHolds(ctx)
		if err != nil {
			return nil, err
		}
		rc.holds, rc.loaded = hs, true
	}
	held := map[string]bool{}
	purposes := map[string]bool{}
	for _, h := range rc.holds {
		if h.Purpose != "" {
			purposes[h.Purpose] = true
		}
		if h.Agent != nil {
			for _, id := range (Principal{Agent: h.Agent}).Identities() {
				held[id] = true
			}
		}
	}
	var subs []string
	for _, s := range subjects {
		if held[s] {
			subs = append(subs, s)
		}
	}
	return map[string]any{"subjects": strs(subs), "purposes": strs(keys(purposes))}, nil
}

// decisionKey identifies a decision input for caching within a request.
func decisionKey(in Input) (string, error) {
	b, err := json.Marshal([]any{in.Action, in.Resource, in.Context})
	if err != nil {
		return "", fmt.Errorf("governance: decision key: %w", err)
	}
	return string(b), nil
}

// applyWriteObligations returns the statements to store: each minimised as
// its decision requires and carrying its purpose, legal basis and
// retention; and a summary for the audit entry (counts per purpose, no
// content).
func applyWriteObligations(stmts []*xapi.Statement, obls []Obligations) ([]*xapi.Statement, []string) {
	out := make([]*xapi.Statement, len(stmts))
	perPurpose := map[string]int{}
	minimised := 0
	for i, s := range stmts {
		o := obls[i]
		if len(o.Minimise) > 0 {
			if m, changed := s.Without(o.Minimise); changed {
				s = m
				minimised++
			}
		}
		s.SetRecorded(xapi.Recorded{Purpose: o.Purpose, LegalBasis: o.LegalBasis, RetentionDays: o.RetentionDays, NoDefine: o.NoDefine})
		out[i] = s
		if o.Purpose != "" {
			perPurpose[o.Purpose]++
		}
	}
	ps := make([]string, 0, len(perPurpose))
	for p := range perPurpose {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	var summary []string
	for _, p := range ps {
		summary = append(summary, fmt.Sprintf("recorded for purpose %s: %d", p, perPurpose[p]))
	}
	if minimised > 0 {
		summary = append(summary, fmt.Sprintf("minimised before storing: %d", minimised))
	}
	return out, summary
}
