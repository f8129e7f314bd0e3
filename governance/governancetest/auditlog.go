package governancetest

import (
	"context"
	"slices"
	"strconv"

	"custodia/governance"
	"custodia/xapi"
)

// MemAuditLog is a governance.AuditLog over the entries a MemAuditor
// recorded. Its checkpoints, keys and proofs are fixed strings: it serves
// tests of deciding and filtering, not of the Merkle log (package audit has
// those).
type MemAuditLog struct {
	Auditor *MemAuditor
	// Cosigned is what Cosign answers; nil makes Cosign fail with Invalid,
	// as for a signature by no configured witness.
	Cosigned []byte
}

// Checkpoint text, verifier key and hashes that MemAuditLog answers.
const (
	MemCheckpoint  = "custodia.audit/00000000\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ncommit 0\n\n— custodia-audit AAAAAA==\n"
	MemVerifierKey = "custodia-audit+00000000+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	MemHash        = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
)

// Query implements governance.AuditLog; the cursor is the next index.
func (l *MemAuditLog) Query(ctx context.Context, f governance.AuditFilter, cursor string, limit int) ([]governance.AuditRecord, string, error) {
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return nil, "", xapi.Errorf(xapi.Invalid, "governancetest", "cursor: malformed")
		}
		from = n
	}
	entries := l.Auditor.Entries()
	var out []governance.AuditRecord
	for i := from; i < len(entries); i++ {
		if len(out) == limit {
			return out, strconv.Itoa(i), nil
		}
		if e := entries[i]; match(f, e) {
			out = append(out, governance.AuditRecord{Index: int64(i), Entry: e, Commitment: MemHash, LeafHash: MemHash})
		}
	}
	return out, "", nil
}

func match(f governance.AuditFilter, e governance.AuditEntry) bool {
	switch {
	case !f.From.IsZero() && e.Time.Before(f.From), !f.To.IsZero() && !e.Time.Before(f.To),
		f.Principal != "" && e.Principal != f.Principal, f.Action != "" && e.Action != f.Action,
		f.Decision != "" && e.Decision != f.Decision, f.Purpose != "" && e.Purpose != f.Purpose:
		return false
	}
	if len(f.Subjects) == 0 {
		return true
	}
	for _, s := range f.Subjects {
		if slices.Contains(e.Subjects, s) {
			return true
		}
	}
	return false
}

// Checkpoint implements governance.AuditLog.
func (l *MemAuditLog) Checkpoint(ctx context.Context) ([]byte, error) {
	return []byte(MemCheckpoint), nil
}

// Publish implements governance.AuditLog.
func (l *MemAuditLog) Publish(ctx context.Context) ([]byte, error) { return []byte(MemCheckpoint), nil }

// Cosign implements governance.AuditLog.
func (l *MemAuditLog) Cosign(ctx context.Context, signed []byte) ([]byte, error) {
	if l.Cosigned == nil {
		return nil, xapi.Errorf(xapi.Invalid, "governancetest", "not cosigned by a configured witness")
	}
	return l.Cosigned, nil
}

// VerifierKey implements governance.AuditLog.
func (l *MemAuditLog) VerifierKey() string { return MemVerifierKey }

// ProveInclusion implements governance.AuditLog.
func (l *MemAuditLog) ProveInclusion(ctx context.Context, index, size int64) (governance.InclusionProof, error) {
	if index < 0 || index >= size {
		return governance.InclusionProof{}, xapi.Errorf(xapi.Invalid, "governancetest", "index out of range")
	}
	return governance.InclusionProof{Index: index, Size: size, LeafHash: MemHash, TreeHash: MemHash, Proof: []string{MemHash}}, nil
}

// ProveConsistency implements governance.AuditLog.
func (l *MemAuditLog) ProveConsistency(ctx context.Context, oldSize, newSize int64) (governance.ConsistencyProof, error) {
	if oldSize < 1 || oldSize > newSize {
		return governance.ConsistencyProof{}, xapi.Errorf(xapi.Invalid, "governancetest", "old out of range")
	}
	return governance.ConsistencyProof{Old: oldSize, New: newSize, OldHash: MemHash, NewHash: MemHash, Proof: []string{MemHash}}, nil
}
