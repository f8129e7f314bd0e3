package governance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"custodia/xapi"
)

// AuditLog is the tamper-evident log as auditors, witnesses and employees
// read it. It is implemented in cmd/custodia over package audit. Errors a
// client can cause are *xapi.Error: Invalid for a malformed cursor, an
// index or size out of range, or a cosignature not made by a configured
// witness; NotFound for a cosigned checkpoint that was never published.
type AuditLog interface {
	// Query returns up to limit records matching f, oldest first, from the
	// position cursor ("" for the start), and the cursor of the next page
	// ("" at the end). A page may hold fewer records than limit, even
	// none, with more to come: the log reads a bounded number of entries
	// per call.
	Query(ctx context.Context, f AuditFilter, cursor string, limit int) ([]AuditRecord, string, error)
	// Checkpoint returns the latest published checkpoint: a signed note
	// (origin, tree size, root hash, checkpoint number) with the log's
	// signature and any cosignatures.
	Checkpoint(ctx context.Context) ([]byte, error)
	// Publish publishes the current checkpoint when the log grew since the
	// last publication, and returns the latest published checkpoint.
	Publish(ctx context.Context) ([]byte, error)
	// Cosign adds the cosignatures of configured witnesses in signed (the
	// checkpoint note with their signature lines) to the published
	// checkpoint of the same text, and returns it.
	Cosign(ctx context.Context, signed []byte) ([]byte, error)
	// VerifierKey returns the log's note verifier key.
	VerifierKey() string
	// ProveInclusion proves that the tree of size entries holds entry index.
	ProveInclusion(ctx context.Context, index, size int64) (InclusionProof, error)
	// ProveConsistency proves that the tree of size newSize extends the
	// tree of size oldSize.
	ProveConsistency(ctx context.Context, oldSize, newSize int64) (ConsistencyProof, error)
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	From, To  time.Time // entry time in [From, To)
	Principal string    // principal pseudonym
	Subjects  []string  // subject pseudonyms: entries that touched any of them
	Action    string
	Decision  string // "allow" or "deny"
	Purpose   string
}

// AuditRecord is one line of the log as an auditor sees it: an entry, or
// the record that a month's content was erased (Erasure).
type AuditRecord struct {
	Index      int64
	Entry      AuditEntry // zero when the body is gone, and for an erasure
	Month      string     // the month whose key seals the body; for an erasure, the month erased
	Erasure    bool       // the line records the erasure of Month, not an entry
	Commitment string     // base64 SHA-256(salt || body); "" for an erasure
	Salt       string     // base64, when the body is present
	Body       string     // base64 of the entry's canonical JSON exactly as committed, when the body is present
	RecordData string     // base64 of the leaf's record data: "entry <month> <commitment>\n" or "erase <month>\n"
	LeafHash   string     // base64 RFC 6962 leaf hash, SHA-256(0x00 || record data)
	Erased     bool       // the body is gone because its month was erased; the commitment stays
	Damaged    bool       // the body is gone without a recorded erasure, or does not match its commitment: run audit verify
}

// InclusionProof is an RFC 6962 inclusion proof (audit path), hashes in
// base64, as golang.org/x/mod/sumdb/tlog.CheckRecord checks it.
type InclusionProof struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	TreeHash string   `json:"tree_hash"`
	Proof    []string `json:"proof"`
}

// ConsistencyProof is an RFC 6962 consistency proof, hashes in base64, as
// golang.org/x/mod/sumdb/tlog.CheckTree checks it.
type ConsistencyProof struct {
	Old     int64    `json:"old"`
	New     int64    `json:"new"`
	OldHash string   `json:"old_hash"`
	NewHash string   `json:"new_hash"`
	Proof   []string `json:"proof"`
}

// AuditQuery is what an auditor asks of the log.
type AuditQuery struct {
	From, To  time.Time
	Principal string      // principal pseudonym
	Agent     *xapi.Agent // the person the entries touched
	Action    string
	Decision  string
	Purpose   string
}

// AccessLogEntry is an access to the caller's records, as the caller sees
// it: who, when, what, why and how many records, never whom else it
// touched.
type AccessLogEntry struct {
	Index         int64     `json:"index"`
	Time          time.Time `json:"time"`
	Principal     string    `json:"principal"` // pseudonym of who accessed
	Roles         []string  `json:"roles,omitempty"`
	Action        string    `json:"action"`
	Purpose       string    `json:"purpose,omitempty"`  // the purpose in force
	Purposes      []string  `json:"purposes,omitempty"` // for a write: the purposes the statements were recorded for
	Decision      string    `json:"decision"`
	Count         int       `json:"count"` // how many of the records the access touched are about the caller
	BreakGlass    bool      `json:"break_glass,omitempty"`
	Justification string    `json:"justification,omitempty"`
}

// Limits of one page of audit entries.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AuditEntries answers an auditor's query: one page of entries matching q
// from cursor, and the next cursor ("" at the end). The read is recorded;
// when q names a person, so does the entry recording it.
func (g *Gate) AuditEntries(ctx context.Context, p Principal, q AuditQuery, cursor string, limit int) ([]AuditRecord, string, error) {
	const op, action = "governance.AuditEntries", "audit.read"
	f := AuditFilter{From: q.From, To: q.To, Principal: q.Principal, Action: q.Action, Decision: q.Decision, Purpose: q.Purpose}
	if q.Agent != nil {
		f.Subjects = g.pseudonyms(Principal{Agent: q.Agent}.Identities())
	}
	e, err := g.decideAudit(ctx, op, p, action, []string{describeAuditQuery(q)})
	if err != nil {
		return nil, "", err
	}
	recs, next, err := g.cfg.AuditLog.Query(ctx, f, cursor, clampLimit(limit))
	if err != nil {
		return nil, "", err
	}
	e.Subjects, e.Count = f.Subjects, len(recs)
	if err := g.record(ctx, e); err != nil {
		return nil, "", err
	}
	return recs, next, nil
}

// AccessLog returns one page of the accesses to the records of p's person
// (every audit entry whose subjects include one of p's pseudonyms), from
// cursor, and the next cursor. Each is stripped to what concerns the
// caller: no resources, no other subjects.
func (g *Gate) AccessLog(ctx context.Context, p Principal, cursor string, limit int) ([]AccessLogEntry, string, error) {
	const op, action = "governance.AccessLog", "audit.access_log"
	e, err := g.decideAudit(ctx, op, p, action, []string{"access-log"})
	if err != nil {
		return nil, "", err
	}
	mine := g.pseudonyms(p.Identities())
	if len(mine) == 0 {
		return nil, "", &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "the credential stands for no person"}
	}
	recs, next, err := g.cfg.AuditLog.Query(ctx, AuditFilter{Subjects: mine}, cursor, clampLimit(limit))
	if err != nil {
		return nil, "", err
	}
	out := make([]AccessLogEntry, 0, len(recs))
	for _, r := range recs {
		x := r.Entry
		out = append(out, AccessLogEntry{Index: r.Index, Time: x.Time, Principal: x.Principal, Roles: x.Roles, Action: x.Action,
			Purpose: x.Purpose, Purposes: x.Purposes, Decision: x.Decision, Count: countFor(x, mine), BreakGlass: x.BreakGlass, Justification: x.Justification})
	}
	e.Count = len(out)
	if err := g.record(ctx, e); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// AuditCheckpoint returns the latest published checkpoint of the log.
func (g *Gate) AuditCheckpoint(ctx context.Context, p Principal) ([]byte, error) {
	return g.auditNote(ctx, p, "governance.AuditCheckpoint", "audit.read", "checkpoint", func(ctx context.Context) ([]byte, error) {
		return g.cfg.AuditLog.Checkpoint(ctx)
	})
}

// PublishAuditCheckpoint publishes the current checkpoint now (when the log
// grew) and returns the latest published checkpoint.
func (g *Gate) PublishAuditCheckpoint(ctx context.Context, p Principal) ([]byte, error) {
	return g.auditNote(ctx, p, "governance.PublishAuditCheckpoint", "audit.publish", "checkpoint", func(ctx context.Context) ([]byte, error) {
		return g.cfg.AuditLog.Publish(ctx)
	})
}

// CosignAuditCheckpoint records a witness's cosignature of a published
// checkpoint and returns the checkpoint with it.
func (g *Gate) CosignAuditCheckpoint(ctx context.Context, p Principal, signed []byte) ([]byte, error) {
	return g.auditNote(ctx, p, "governance.CosignAuditCheckpoint", "audit.cosign", "checkpoint", func(ctx context.Context) ([]byte, error) {
		return g.cfg.AuditLog.Cosign(ctx, signed)
	})
}

// AuditKey returns the log's note verifier key.
func (g *Gate) AuditKey(ctx context.Context, p Principal) (string, error) {
	b, err := g.auditNote(ctx, p, "governance.AuditKey", "audit.key", "key", func(context.Context) ([]byte, error) {
		return []byte(g.cfg.AuditLog.VerifierKey()), nil
	})
	return string(b), err
}

// AuditInclusionProof proves that the tree of size entries holds entry
// index.
func (g *Gate) AuditInclusionProof(ctx context.Context, p Principal, index, size int64) (InclusionProof, error) {
	const op = "governance.AuditInclusionProof"
	e, err := g.decideAudit(ctx, op, p, "audit.read", []string{fmt.Sprintf("proof:inclusion(%d,%d)", index, size)})
	if err != nil {
		return InclusionProof{}, err
	}
	pr, err := g.cfg.AuditLog.ProveInclusion(ctx, index, size)
	if err != nil {
		return InclusionProof{}, err
	}
	e.Count = 1
	return pr, g.record(ctx, e)
}

// AuditConsistencyProof proves that the tree of size newSize extends the
// tree of size oldSize.
func (g *Gate) AuditConsistencyProof(ctx context.Context, p Principal, oldSize, newSize int64) (ConsistencyProof, error) {
	const op = "governance.AuditConsistencyProof"
	e, err := g.decideAudit(ctx, op, p, "audit.read", []string{fmt.Sprintf("proof:consistency(%d,%d)", oldSize, newSize)})
	if err != nil {
		return ConsistencyProof{}, err
	}
	pr, err := g.cfg.AuditLog.ProveConsistency(ctx, oldSize, newSize)
	if err != nil {
		return ConsistencyProof{}, err
	}
	e.Count = 1
	return pr, g.record(ctx, e)
}

// auditNote decides action, runs get and records the access.
func (g *Gate) auditNote(ctx context.Context, p Principal, op, action, resource string, get func(context.Context) ([]byte, error)) ([]byte, error) {
	e, err := g.decideAudit(ctx, op, p, action, []string{resource})
	if err != nil {
		return nil, err
	}
	b, err := get(ctx)
	if err != nil {
		return nil, err
	}
	e.Count = 1
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return b, nil
}

// decideAudit decides an action on the audit log for p. A refusal is
// recorded and returned as Forbidden; an allowed access returns the entry
// to record once it is done.
func (g *Gate) decideAudit(ctx context.Context, op string, p Principal, action string, resources []string) (AuditEntry, error) {
	if g.cfg.AuditLog == nil {
		return AuditEntry{}, &xapi.Error{Kind: xapi.NotFound, Op: op, Msg: "this server has no audit log API"}
	}
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: map[string]any{"kind": "audit"}})
	if err != nil {
		return AuditEntry{}, g.refuse(ctx, op, p, action, resources, err)
	}
	e := g.entry(ctx, p, action, resources, d.Revision)
	e.Reasons = d.Reasons
	e.noteBreakGlass(d)
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{}, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	e.Decision = "allow"
	return e, nil
}

// countFor is how many of the records e touched are about the person
// known by the pseudonyms mine (entries without per-subject counts: all).
func countFor(e AuditEntry, mine []string) int {
	if e.SubjectCounts == nil {
		return e.Count
	}
	n := 0
	for _, ps := range mine {
		n += e.SubjectCounts[ps]
	}
	return n
}

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultAuditLimit
	}
	return min(n, MaxAuditLimit)
}

// describeAuditQuery names the filters of q without their values.
func describeAuditQuery(q AuditQuery) string {
	var parts []string
	add := func(set bool, name string) {
		if set {
			parts = append(parts, name)
		}
	}
	add(!q.From.IsZero(), "from")
	add(!q.To.IsZero(), "to")
	add(q.Principal != "", "principal")
	add(q.Agent != nil, "agent")
	add(q.Action != "", "action")
	add(q.Decision != "", "decision")
	add(q.Purpose != "", "purpose")
	return "audit(" + strings.Join(parts, ",") + ")"
}
