package governance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"custodia/xapi"
)

// Retention: each statement's purpose, legal basis and expiry are fixed at
// write (stored + the purpose's retention window). Reads hide a statement
// from the instant it expires (policy: statements.read). The sweep finds
// expired statements and destroys those no legal hold pins, each decided by
// the policy (retention.expire), so that the rule is HR's and compliance's
// to change like any other.
//
// Until per-bucket data keys exist (the keys issue), destroying means
// deleting the sealed record, its attachments and its index entries; then
// the sweep will destroy the bucket's key instead, which also makes copies
// in Badger's value log and in backups unreadable.

// SweepReport is the outcome of a retention sweep.
type SweepReport struct {
	DryRun  bool      `json:"dry_run"`
	Now     time.Time `json:"now"`
	Expired int       `json:"expired"` // statements past their expiry
	Held    int       `json:"held"`    // of those, kept by the policy (a legal hold)
	// Destroyed counts the statements destroyed, or that would be in a dry run.
	Destroyed int                   `json:"destroyed"`
	ByPurpose map[string]SweepCount `json:"by_purpose"`
}

// SweepCount is the part of a sweep for one purpose.
type SweepCount struct {
	Expired   int `json:"expired"`
	Held      int `json:"held"`
	Destroyed int `json:"destroyed"`
}

// sweepProgress is how many statements pass between progress log lines.
const sweepProgress = 1000

// SweepRetention finds the statements whose retention has ended and, unless
// dryRun, destroys those the policy lets go (not under a legal hold), on
// behalf of p. The sweep is recorded in the audit log — counts per purpose,
// no statement content — before anything is destroyed, and logs its
// progress.
func (g *Gate) SweepRetention(ctx context.Context, p Principal, dryRun bool) (SweepReport, error) {
	const op = "governance.SweepRetention"
	action := "retention.sweep"
	now := g.cfg.Now().UTC()
	rep := SweepReport{DryRun: dryRun, Now: now, ByPurpose: map[string]SweepCount{}}
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: map[string]any{"kind": "retention", "dry_run": dryRun}})
	if err != nil {
		return rep, g.refuse(ctx, op, p, action, []string{"retention"}, err)
	}
	if !d.Allow {
		e := g.entry(ctx, p, action, []string{"retention"}, d.Revision)
		e.noteBreakGlass(d)
		e.Decision, e.Reasons = "deny", d.Reasons
		if err := g.record(ctx, e); err != nil {
			return rep, err
		}
		return rep, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	if g.cfg.Retention == nil {
		return rep, &xapi.Error{Kind: xapi.Internal, Op: op, Msg: "retention is not configured"}
	}
	rc := g.newRequestState()
	rc.now = now.Format(time.RFC3339Nano)
	var destroy []string
	revision := d.Revision
	err = g.cfg.Retention.ScanExpired(ctx, now, func(s *xapi.Statement) error {
		f := s.Facts()
		res := recordedResource(s, f)
		c, err := g.recordedContext(ctx, s, f, rc)
		if err != nil {
			return err
		}
		sd, err := g.decide(ctx, Input{Principal: p, Action: "retention.expire", Resource: res, Context: c})
		if err != nil {
			return err
		}
		revision = sd.Revision
		purpose := s.Recorded().Purpose
		pc := rep.ByPurpose[purpose]
		pc.Expired++
		rep.Expired++
		if sd.Allow {
			pc.Destroyed++
			rep.Destroyed++
			destroy = append(destroy, s.ID())
		} else {
			pc.Held++
			rep.Held++
		}
		rep.ByPurpose[purpose] = pc
		if rep.Expired%sweepProgress == 0 {
			g.cfg.Logger.InfoContext(ctx, "retention sweep: scanning", "expired", rep.Expired, "to_destroy", rep.Destroyed, "request_id", RequestID(ctx))
		}
		return nil
	})
	if err != nil {
		if xapi.ErrorKind(err) == xapi.Internal {
			return rep, g.refuse(ctx, op, p, action, []string{"retention"}, err)
		}
		return rep, err
	}
	if dryRun {
		action = "retention.sweep.dry_run"
	}
	e := g.entry(ctx, p, action, []string{"retention"}, revision)
	e.Decision, e.Reasons, e.Count = "allow", append(append([]string(nil), d.Reasons...), sweepSummary(rep)...), rep.Destroyed
	if err := g.record(ctx, e); err != nil {
		return rep, err
	}
	if dryRun || len(destroy) == 0 {
		return rep, nil
	}
	done := 0
	for start := 0; start < len(destroy); start += sweepProgress {
		chunk := destroy[start:min(start+sweepProgress, len(destroy))]
		if _, err := g.cfg.Retention.DeleteStatements(ctx, chunk); err != nil {
			g.cfg.Logger.ErrorContext(ctx, "retention sweep failed", "destroyed", done, "of", len(destroy), "request_id", RequestID(ctx), "err", err)
			return rep, err
		}
		done += len(chunk)
		g.cfg.Logger.InfoContext(ctx, "retention sweep: destroying", "destroyed", done, "of", len(destroy), "request_id", RequestID(ctx))
	}
	return rep, nil
}

// sweepSummary describes a sweep per purpose for the audit entry.
func sweepSummary(r SweepReport) []string {
	ps := make([]string, 0, len(r.ByPurpose))
	for p := range r.ByPurpose {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		c := r.ByPurpose[p]
		name := p
		if name == "" {
			name = "(none)"
		}
		out = append(out, fmt.Sprintf("purpose %s: %d expired, %d held, %d destroyed", name, c.Expired, c.Held, c.Destroyed))
	}
	return out
}
