package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"custodia/xapi"
)

// Break-glass access: a principal whose role the policy allows to (by
// default hr and compliance) opens, with a written justification, access
// beyond its policy for a limited time. While the session is open, the
// Gate tells the policy so (input.context.break_glass) on every decision of
// that principal; the policy may then allow what it would refuse, marking
// the decision break_glass. Every access so allowed is recorded with
// BreakGlass set and the session's justification, so that it shows in the
// audit log and in the access log of each person whose records were
// touched; the sessions themselves are listed for review. A session ends
// by itself when its time is up.

// recordKindBreakGlass is the system-record kind sessions are kept under.
const recordKindBreakGlass = "breakglass"

// Actions of break-glass sessions.
const (
	ActionBreakGlassOpen   = "break_glass.open"
	ActionBreakGlassReview = "break_glass.review"
)

// Limits of a break-glass request.
const (
	minJustification = 20   // bytes, after trimming
	maxJustification = 2000 // bytes
	maxBreakGlassMin = 24 * 60
)

// DefaultBreakGlassMaxMinutes is the longest break-glass session when the
// policy data's settings.break_glass_max_minutes is not set. The Gate
// refuses a longer request (Invalid) and policies/authn.rego reads the same
// setting with the same default.
const DefaultBreakGlassMaxMinutes = 240

// BreakGlassMaxMinutes is the longest break-glass session d allows.
func (d PolicyData) BreakGlassMaxMinutes() int {
	if m := d.Settings.BreakGlassMaxMinutes; m > 0 {
		return m
	}
	return DefaultBreakGlassMaxMinutes
}

// BreakGlass is a break-glass session.
type BreakGlass struct {
	ID            string    `json:"id"`
	Principal     string    `json:"principal"` // pseudonym, as in the audit log
	Name          string    `json:"name"`      // the credential's or issuer's display name
	Roles         []string  `json:"roles"`
	Justification string    `json:"justification"`
	Purpose       string    `json:"purpose,omitempty"`
	Opened        time.Time `json:"opened"`
	Expires       time.Time `json:"expires"`
	// Open reports whether the session was open when it was read.
	Open bool `json:"open"`
}

// BreakGlassRequest asks for a break-glass session.
type BreakGlassRequest struct {
	Justification string // why access beyond policy is needed: at least 20 bytes, at most 2000
	Minutes       int    // how long the session lasts: 1 to the policy data's BreakGlassMaxMinutes
	Purpose       string // the purpose the access serves (optional; one of the policy's purposes)
}

// breakGlassSessions keeps the sessions in memory, loaded from the record
// store on first use, so that a decision finds its principal's open session
// without reading the store.
type breakGlassSessions struct {
	mu     sync.Mutex
	loaded bool
	byID   map[string]BreakGlass // every session, open or not
	// opening serialises OpenBreakGlass, so that two concurrent requests
	// of one principal cannot both open a session.
	opening sync.Mutex
}

// load reads the stored sessions once. mu is held.
func (b *breakGlassSessions) load(ctx context.Context, rs RecordStore) error {
	if b.loaded {
		return nil
	}
	b.byID = map[string]BreakGlass{}
	if rs == nil {
		b.loaded = true
		return nil
	}
	recs, err := rs.ListRecords(ctx, recordKindBreakGlass)
	if err != nil {
		return err
	}
	for _, raw := range recs {
		var s BreakGlass
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("governance: decoding break-glass session: %w", err)
		}
		b.byID[s.ID] = s
	}
	b.loaded = true
	return nil
}

// openSession returns p's open break-glass session at now (OpenBreakGlass
// opens at most one per principal). When no session at all is open, p's
// pseudonym is not computed.
func (g *Gate) openSession(ctx context.Context, p Principal, now time.Time) (BreakGlass, bool, error) {
	b := &g.glass
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.load(ctx, g.cfg.Records); err != nil {
		return BreakGlass{}, false, err
	}
	var open []BreakGlass
	for _, s := range b.byID {
		if now.Before(s.Expires) {
			open = append(open, s)
		}
	}
	if len(open) == 0 {
		return BreakGlass{}, false, nil
	}
	who := g.principalPseudonym(p)
	var best BreakGlass
	found := false
	for _, s := range open {
		if s.Principal == who && (!found || s.Expires.After(best.Expires) || s.Expires.Equal(best.Expires) && s.ID < best.ID) {
			best, found = s, true
		}
	}
	return best, found, nil
}

// decide evaluates the policy for in, telling it about the principal's
// open break-glass session, if any. A decision the policy allowed only
// under break-glass carries the session's justification.
func (g *Gate) decide(ctx context.Context, in Input) (Decision, error) {
	s, open, err := g.openSession(ctx, in.Principal, g.cfg.Now())
	if err != nil {
		return Decision{}, err
	}
	if open {
		c := make(map[string]any, len(in.Context)+1)
		for k, v := range in.Context {
			c[k] = v
		}
		c["break_glass"] = map[string]any{
			"id":      s.ID,
			"opened":  s.Opened.UTC().Format(time.RFC3339Nano),
			"expires": s.Expires.UTC().Format(time.RFC3339Nano),
			"purpose": s.Purpose,
		}
		in.Context = c
	}
	d, err := g.cfg.Engine.Decide(ctx, in)
	if err != nil {
		return d, err
	}
	if d.BreakGlass {
		if !open || !d.Allow {
			// Only the gate knows whether a session is open: a policy that
			// claims break-glass without one is broken. Fail closed.
			return Decision{}, &xapi.Error{Kind: xapi.Internal, Op: "governance.Decide", Err: fmt.Errorf("policy decision for %s claims break-glass access without an open session", in.Action)}
		}
		d.Justification, d.Session = s.Justification, s.ID
		d.Reasons = append(slices.Clip(d.Reasons), sessionReason(s.ID))
	}
	return d, nil
}

// sessionReason is the reason that names the break-glass session an access
// was allowed under, so that a reviewer can link the audit entry to the
// session listed by BreakGlassSessions.
func sessionReason(id string) string { return "break-glass session " + id }

// noteBreakGlass marks e as a break-glass access when d was allowed only
// under break-glass, naming the session among its reasons.
func (e *AuditEntry) noteBreakGlass(d Decision) {
	if d.BreakGlass {
		e.BreakGlass, e.Justification = true, d.Justification
		if r := sessionReason(d.Session); !slices.Contains(e.Reasons, r) {
			e.Reasons = append(slices.Clip(e.Reasons), r)
		}
	}
}

// validJustification reports whether s (trimmed) is a justification: UTF-8
// text of the allowed length with no control characters (NUL, ESC, line
// breaks…) and no bidirectional overrides, which could disguise what a
// reviewer reads.
func validJustification(s string) bool {
	if len(s) < minJustification || len(s) > maxJustification || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			return false
		}
	}
	return true
}

// OpenBreakGlass opens a break-glass session for p, when the policy lets
// p's roles do so (action break_glass.open, resource {"kind":
// "break_glass", "minutes", "purpose"}). The session starts now and ends
// after req.Minutes. An invalid request (a justification too short, too
// long or with control characters, minutes beyond the policy data's
// BreakGlassMaxMinutes, a purpose the policy does not define) is Invalid; a
// principal with a session still open gets Conflict (at most one session
// each, so that every access is linked to one justification); a refusal is
// Forbidden.
func (g *Gate) OpenBreakGlass(ctx context.Context, p Principal, req BreakGlassRequest) (BreakGlass, error) {
	const op = "governance.OpenBreakGlass"
	req.Justification = strings.TrimSpace(req.Justification)
	data := g.cfg.Engine.PolicyData()
	maxMin := data.BreakGlassMaxMinutes()
	_, defined := data.Purposes[req.Purpose]
	switch {
	case !validJustification(req.Justification):
		return BreakGlass{}, xapi.Errorf(xapi.Invalid, op, "justification is required: %d to %d bytes of UTF-8 text without control characters, saying why access beyond policy is needed", minJustification, maxJustification)
	case req.Minutes < 1 || req.Minutes > maxMin:
		return BreakGlass{}, xapi.Errorf(xapi.Invalid, op, "minutes must be a whole number from 1 to %d", maxMin)
	case req.Purpose != "" && !ValidPurpose(req.Purpose):
		return BreakGlass{}, xapi.Errorf(xapi.Invalid, op, "purpose must be a purpose identifier: 1 to 64 of a-z, 0-9, '.', '_', '-'")
	case req.Purpose != "" && !defined:
		return BreakGlass{}, xapi.Errorf(xapi.Invalid, op, "purpose %s is not defined", req.Purpose)
	}
	g.glass.opening.Lock()
	defer g.glass.opening.Unlock()
	now := g.cfg.Now().UTC()
	if cur, open, err := g.openSession(ctx, p, now); err != nil {
		return BreakGlass{}, err
	} else if open {
		return BreakGlass{}, xapi.Errorf(xapi.Conflict, op, "a break-glass session of this principal is open until %s: it ends by itself then", cur.Expires.UTC().Format(time.RFC3339))
	}
	id := randomToken(12)
	res := map[string]any{"kind": "break_glass", "minutes": req.Minutes, "purpose": req.Purpose}
	d, err := g.cfg.Engine.Decide(ctx, Input{Principal: p, Action: ActionBreakGlassOpen, Resource: res, Context: map[string]any{"now": now.Format(time.RFC3339Nano)}})
	resources := []string{"break_glass:" + id}
	if err != nil {
		return BreakGlass{}, g.refuse(ctx, op, p, ActionBreakGlassOpen, resources, err)
	}
	e := g.entry(ctx, p, ActionBreakGlassOpen, resources, d.Revision)
	e.Reasons = d.Reasons
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return BreakGlass{}, err
		}
		return BreakGlass{}, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	s := BreakGlass{
		ID: id, Principal: g.principalPseudonym(p), Name: p.Name, Roles: append([]string(nil), p.Roles...),
		Justification: req.Justification, Purpose: req.Purpose,
		Opened: now, Expires: now.Add(time.Duration(req.Minutes) * time.Minute),
	}
	// The opening itself is flagged, with its justification, so that the
	// audit log shows why the session exists.
	e.Decision, e.Count, e.BreakGlass, e.Justification = "allow", 1, true, s.Justification
	if err := g.record(ctx, e); err != nil {
		return BreakGlass{}, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return BreakGlass{}, err
	}
	g.glass.mu.Lock()
	defer g.glass.mu.Unlock()
	if err := g.glass.load(ctx, g.cfg.Records); err != nil {
		return BreakGlass{}, err
	}
	if err := g.cfg.Records.PutRecord(ctx, recordKindBreakGlass, id, b); err != nil {
		return BreakGlass{}, err
	}
	g.glass.byID[id] = s
	s.Open = true
	return s, nil
}

// BreakGlassSessions lists every break-glass session, newest first, for
// review by p (action break_glass.review). A refusal is Forbidden.
func (g *Gate) BreakGlassSessions(ctx context.Context, p Principal) ([]BreakGlass, error) {
	const op = "governance.BreakGlassSessions"
	resources := []string{"break_glass"}
	d, err := g.decide(ctx, Input{Principal: p, Action: ActionBreakGlassReview, Resource: map[string]any{"kind": "break_glass"}})
	if err != nil {
		return nil, g.refuse(ctx, op, p, ActionBreakGlassReview, resources, err)
	}
	e := g.entry(ctx, p, ActionBreakGlassReview, resources, d.Revision)
	e.Reasons = d.Reasons
	e.noteBreakGlass(d)
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return nil, err
		}
		return nil, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	g.glass.mu.Lock()
	err = g.glass.load(ctx, g.cfg.Records)
	out := make([]BreakGlass, 0, len(g.glass.byID))
	for _, s := range g.glass.byID {
		out = append(out, s)
	}
	g.glass.mu.Unlock()
	if err != nil {
		return nil, err
	}
	now := g.cfg.Now()
	for i := range out {
		out[i].Open = now.Before(out[i].Expires)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Opened.Equal(out[j].Opened) {
			return out[i].Opened.After(out[j].Opened)
		}
		return out[i].ID < out[j].ID
	})
	e.Decision, e.Count = "allow", len(out)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}
