package main

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"custodia/audit"
	lrscrypto "custodia/crypto"
	"custodia/governance"
	"custodia/xapi"

	"golang.org/x/mod/sumdb/tlog"
)

// keyDestroyed reports whether an error opening an audit entry body means
// its key was destroyed (the content expired or was erased), for
// audit.Options.Erased.
func keyDestroyed(err error) bool { return errors.Is(err, lrscrypto.ErrShredded) }

// publishCheckpoints publishes the audit log's checkpoint every interval
// when the log grew, until ctx ends.
func publishCheckpoints(ctx context.Context, l *audit.Log, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cp, fresh, err := l.Publish(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Error("publishing the audit checkpoint failed", "err", err)
			case fresh:
				logger.Debug("published audit checkpoint", "bytes", len(cp))
			}
		}
	}
}

// auditLog adapts the audit log to governance.AuditLog: cursors are entry
// indexes in decimal, hashes base64.
type auditLog struct{ log *audit.Log }

const auditOp = "audit"

// auditError maps errors a client can cause to xapi errors.
func auditError(err error) error {
	switch {
	case errors.Is(err, audit.ErrRange):
		// The message names only sizes and positions.
		msg := strings.TrimPrefix(err.Error(), audit.ErrRange.Error()+": ")
		return &xapi.Error{Kind: xapi.Invalid, Op: auditOp, Msg: msg, Err: err}
	case errors.Is(err, audit.ErrCosignature):
		return &xapi.Error{Kind: xapi.Invalid, Op: auditOp, Msg: "not a valid cosignature by a configured witness over a published checkpoint", Err: err}
	case errors.Is(err, audit.ErrNotPublished):
		return &xapi.Error{Kind: xapi.NotFound, Op: auditOp, Msg: "no published checkpoint has that text", Err: err}
	}
	return err
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// Query implements governance.AuditLog.
func (a auditLog) Query(ctx context.Context, f governance.AuditFilter, cursor string, limit int) ([]governance.AuditRecord, string, error) {
	var from int64
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != cursor {
			return nil, "", xapi.Errorf(xapi.Invalid, auditOp, "cursor is malformed: pass the next cursor of the previous page")
		}
		if n > a.log.Size() {
			return nil, "", xapi.Errorf(xapi.Invalid, auditOp, "cursor %d is beyond the end of the log (%d entries): pass the next cursor of the previous page", n, a.log.Size())
		}
		from = n
	}
	recs, next, err := a.log.Query(ctx, audit.Filter{From: f.From, To: f.To, Principal: f.Principal, Subjects: f.Subjects,
		Action: f.Action, Decision: f.Decision, Purpose: f.Purpose}, from, limit)
	if err != nil {
		return nil, "", auditError(err)
	}
	out := make([]governance.AuditRecord, 0, len(recs))
	for _, r := range recs {
		e := r.Entry
		gr := governance.AuditRecord{Index: r.Index, Month: r.Month, Erasure: r.Erasure, LeafHash: b64(r.LeafHash),
			RecordData: base64.StdEncoding.EncodeToString(r.RecordData), Erased: r.Erased, Damaged: r.Damaged}
		if !r.Erasure {
			gr.Commitment = b64(r.Commitment)
		}
		if r.Body != nil {
			gr.Salt = base64.StdEncoding.EncodeToString(r.Salt)
			gr.Body = base64.StdEncoding.EncodeToString(r.Body)
			gr.Entry = governance.AuditEntry{Time: e.Time, RequestID: e.RequestID, Principal: e.Principal, Roles: e.Roles, Purpose: e.Purpose,
				Action: e.Action, Resources: e.Resources, Subjects: e.Subjects, Decision: e.Decision, Reasons: e.Reasons,
				PolicyRevision: e.PolicyRevision, Count: e.Count, BreakGlass: e.BreakGlass, Justification: e.Justification,
				Purposes: e.Purposes, SubjectCounts: e.SubjectCounts}
		}
		out = append(out, gr)
	}
	nextCursor := ""
	if next >= 0 {
		nextCursor = strconv.FormatInt(next, 10)
	}
	return out, nextCursor, nil
}

// Checkpoint implements governance.AuditLog.
func (a auditLog) Checkpoint(ctx context.Context) ([]byte, error) { return a.log.Published(ctx) }

// Publish implements governance.AuditLog.
func (a auditLog) Publish(ctx context.Context) ([]byte, error) {
	cp, _, err := a.log.Publish(ctx)
	return cp, err
}

// Cosign implements governance.AuditLog.
func (a auditLog) Cosign(ctx context.Context, signed []byte) ([]byte, error) {
	cp, err := a.log.Cosign(ctx, signed)
	return cp, auditError(err)
}

// VerifierKey implements governance.AuditLog.
func (a auditLog) VerifierKey() string { return a.log.VerifierKey() }

// ProveInclusion implements governance.AuditLog.
func (a auditLog) ProveInclusion(ctx context.Context, index, size int64) (governance.InclusionProof, error) {
	p, leaf, err := a.log.ProveInclusion(ctx, index, size)
	if err != nil {
		return governance.InclusionProof{}, auditError(err)
	}
	th, err := a.log.TreeHash(ctx, size)
	if err != nil {
		return governance.InclusionProof{}, auditError(err)
	}
	out := governance.InclusionProof{Index: index, Size: size, LeafHash: b64(leaf), TreeHash: b64(th), Proof: []string{}}
	for _, h := range p {
		out.Proof = append(out.Proof, b64(h))
	}
	return out, nil
}

// ProveConsistency implements governance.AuditLog.
func (a auditLog) ProveConsistency(ctx context.Context, oldSize, newSize int64) (governance.ConsistencyProof, error) {
	p, err := a.log.ProveConsistency(ctx, oldSize, newSize)
	if err != nil {
		return governance.ConsistencyProof{}, auditError(err)
	}
	oh, err := a.log.TreeHash(ctx, oldSize)
	if err != nil {
		return governance.ConsistencyProof{}, auditError(err)
	}
	nh, err := a.log.TreeHash(ctx, newSize)
	if err != nil {
		return governance.ConsistencyProof{}, auditError(err)
	}
	out := governance.ConsistencyProof{Old: oldSize, New: newSize, OldHash: b64(oh), NewHash: b64(nh), Proof: []string{}}
	for _, h := range p {
		out.Proof = append(out.Proof, b64(h))
	}
	return out, nil
}
