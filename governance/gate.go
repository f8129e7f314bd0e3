package governance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"custodia/xapi"
)

// StatementStore is the persistence the Gate wraps. It is implemented by
// store.DB; see there for the full contract.
type StatementStore interface {
	// PutStatements stores prepared statements atomically, setting stored,
	// with the attachment data atts (by SHA-2 hex) that they name. An id
	// stored with different content fails the batch with Conflict.
	PutStatements(ctx context.Context, stmts []*xapi.Statement, atts map[string][]byte) error
	// GetStatement returns a statement and whether it is voided, or NotFound.
	GetStatement(ctx context.Context, id string) (*xapi.Statement, bool, error)
	// QueryStatements returns up to limit statements matching q after the
	// position token after, keeping those keep accepts, and the next token.
	QueryStatements(ctx context.Context, q xapi.Query, after string, limit int, keep func(*xapi.Statement) (bool, error)) ([]*xapi.Statement, string, error)
	// ConsistentThrough reports an instant before which all statements are readable.
	ConsistentThrough() time.Time
	// Attachment returns the data with hash sha2 stored with statement id,
	// or NotFound.
	Attachment(ctx context.Context, id, sha2 string) ([]byte, error)
	// ScanStatements calls fn with every stored statement, voided ones
	// included, oldest first (stored order), until fn reports false or
	// fails; its error is returned.
	ScanStatements(ctx context.Context, fn func(*xapi.Statement) (bool, error)) error
}

// RecordStore keeps small sealed system records (credentials). Implemented
// by store.DB.
type RecordStore interface {
	PutRecord(ctx context.Context, kind, key string, value []byte) error
	GetRecord(ctx context.Context, kind, key string) ([]byte, error)
	DeleteRecord(ctx context.Context, kind, key string) error
	ListRecords(ctx context.Context, kind string) (map[string][]byte, error)
}

// DocumentStore keeps the documents of the State, Activity Profile and
// Agent Profile resources. Implemented by store.DB; see there for the full
// contract.
type DocumentStore interface {
	// GetDocument returns the document d names, or NotFound.
	GetDocument(ctx context.Context, d xapi.DocumentParams) (xapi.Document, error)
	// ListDocuments returns the documents of the set d names (updated after
	// d.Since when set), without bodies, sorted by id.
	ListDocuments(ctx context.Context, d xapi.DocumentParams) ([]xapi.Document, error)
	// PutDocument replaces the document d names with doc when cond holds;
	// the check and the write are one transaction. It returns the stored
	// document's metadata (ETag, Updated).
	PutDocument(ctx context.Context, d xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error)
	// PostDocument stores doc, or merges it into the stored JSON document
	// (Invalid when either is not a JSON object), when cond holds.
	PostDocument(ctx context.Context, d xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error)
	// DeleteDocument removes the document d names when cond holds.
	DeleteDocument(ctx context.Context, d xapi.DocumentParams, cond xapi.Precondition) error
	// DeleteDocuments removes every document of the set d names and
	// reports how many there were.
	DeleteDocuments(ctx context.Context, d xapi.DocumentParams) (int, error)
}

// RetentionStore finds and removes statements whose retention has ended.
// Implemented by store.DB; see there for the full contract.
type RetentionStore interface {
	// ScanExpired calls fn with each statement whose Recorded().Expires is
	// at or before now, carrying its Recorded; an error from fn ends the scan.
	ScanExpired(ctx context.Context, now time.Time, fn func(*xapi.Statement) error) error
	// DeleteStatements removes the statements ids with their attachments
	// and index entries and reports how many were stored.
	DeleteStatements(ctx context.Context, ids []string) (int, error)
}

// AuditEntry is one decision as recorded in the audit log. It names
// principals and subjects only by pseudonym and never holds content.
type AuditEntry struct {
	Time           time.Time
	RequestID      string
	Principal      string // pseudonym of the principal id
	Roles          []string
	Purpose        string // the purpose in force: the request's, else the credential's, else the policy's default
	Action         string
	Resources      []string // statement ids, credential keys, or a query description without values
	Subjects       []string // pseudonyms of the persons touched
	Decision       string   // "allow" or "deny"
	Reasons        []string
	PolicyRevision string
	Count          int
	BreakGlass     bool   // an access beyond the principal's policy, under a stated justification
	Justification  string // the justification stated for a break-glass access
	// Purposes are the purposes the written statements were recorded for
	// (statement writes).
	Purposes []string
	// SubjectCounts is, per subject pseudonym, how many of the Count
	// records are about that person.
	SubjectCounts map[string]int
}

// Auditor appends entries to the tamper-evident log. Record returns only
// once the entry is durable; an error means the access must be refused.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// Pseudonymizer maps an identifier to a stable keyed-hash pseudonym.
type Pseudonymizer interface {
	Pseudonym(value string) string
}

// GateConfig holds what a Gate is built from.
type GateConfig struct {
	Engine        *Engine
	Statements    StatementStore
	Records       RecordStore
	Activities    ActivityStore // canonical Activity definitions (activities.go)
	Documents     DocumentStore
	Retention     RetentionStore // statements past their retention (retention.go)
	Auditor       Auditor
	AuditLog      AuditLog // the log as auditors and employees read it (audit.go); nil: no audit API
	Pseudonymizer Pseudonymizer
	// AuthorityHomePage is the account homePage of the authority set on
	// statements written with a Basic credential, e.g. "http://127.0.0.1:8080/".
	AuthorityHomePage string
	// MaxLimit is the most statements one query page returns (default 100).
	MaxLimit int
	Logger   *slog.Logger
	Now      func() time.Time
}

// Gate is the only door to stored learning records. Every method decides,
// enforces and records.
type Gate struct {
	cfg   GateConfig
	creds *credentialCache
	// glass holds the break-glass sessions (breakglass.go).
	glass breakGlassSessions
	// policyMu serialises policy changes: each builds on the active set.
	policyMu sync.Mutex
}

// NewGate returns a Gate over the given store, engine and audit log.
func NewGate(cfg GateConfig) *Gate {
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gate{cfg: cfg, creds: newCredentialCache()}
}

// PolicyRevision reports the active policy revision.
func (g *Gate) PolicyRevision() string { return g.cfg.Engine.Revision() }

// ConsistentThrough reports an instant before which all stored statements
// can be read.
func (g *Gate) ConsistentThrough() time.Time { return g.cfg.Statements.ConsistentThrough() }

// PutStatements prepares, decides, records and stores a batch of statements
// on behalf of p, under the rules of version v, with the attachment data
// atts (by SHA-2 hex) they name. It returns their ids in input order. If any
// statement is refused by policy, none is stored and the error (Forbidden)
// names each refused statement by index and reason.
func (g *Gate) PutStatements(ctx context.Context, p Principal, stmts []*xapi.Statement, v xapi.Version, atts map[string][]byte) ([]string, error) {
	const op = "governance.PutStatements"
	auth := g.authority(p)
	ids := make([]string, len(stmts))
	obls := make([]Obligations, len(stmts))
	about := aboutCounts{}
	var refusals, allowReasons []string
	revision := ""
	var glass Decision // a decision allowed only under break-glass, if any
	cache := map[string]Decision{}
	rc := g.newRequestState()
	for i, s := range stmts {
		s.Prepare(xapi.Prepare{Authority: auth, Version: v})
		ids[i] = s.ID()
		f := s.Facts()
		about.add(f)
		in, err := g.writeInput(ctx, p, s, f, rc)
		if err != nil {
			return nil, g.refuse(ctx, op, p, "statements.write", ids[:i+1], err)
		}
		key, err := decisionKey(in)
		if err != nil {
			return nil, g.refuse(ctx, op, p, "statements.write", ids[:i+1], err)
		}
		d, ok := cache[key]
		if !ok {
			d, err = g.decide(ctx, in)
			if err != nil {
				return nil, g.refuse(ctx, op, p, "statements.write", ids[:i+1], err)
			}
			cache[key] = d
		}
		revision = d.Revision
		if d.Allow && d.BreakGlass {
			glass = d
		}
		if !d.Allow {
			refusals = append(refusals, fmt.Sprintf("statements[%d]: %s", i, strings.Join(d.Reasons, "; ")))
		} else if len(allowReasons) == 0 {
			allowReasons = d.Reasons
		}
		obls[i] = d.Obligations
	}
	e := g.entry(ctx, p, "statements.write", ids, revision)
	e.Subjects, e.SubjectCounts = g.subjectCounts(about)
	e.noteBreakGlass(glass)
	if len(refusals) > 0 {
		e.Decision, e.Reasons = "deny", refusals
		if err := g.record(ctx, e); err != nil {
			return nil, err
		}
		return nil, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(refusals, ", ")}
	}
	out, summary := applyWriteObligations(stmts, obls)
	e.Decision, e.Reasons, e.Count = "allow", append(append([]string(nil), allowReasons...), summary...), len(stmts)
	purposes := map[string]bool{}
	for _, o := range obls {
		if o.Purpose != "" {
			purposes[o.Purpose] = true
		}
	}
	e.Purposes = keys(purposes)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	if err := g.cfg.Statements.PutStatements(ctx, out, atts); err != nil {
		return nil, err
	}
	return ids, nil
}

// PutStatement stores one statement under id (a PUT with statementId): as
// PutStatements, with the id set when the statement carries none.
func (g *Gate) PutStatement(ctx context.Context, p Principal, id string, s *xapi.Statement, v xapi.Version, atts map[string][]byte) error {
	s.Prepare(xapi.Prepare{NewID: func() string { return id }, Authority: g.authority(p), Version: v})
	_, err := g.PutStatements(ctx, p, []*xapi.Statement{s}, v, atts)
	return err
}

// Attachments returns the attachment data of statements that p was given
// by GetStatement or QueryStatements, by SHA-2 hex: each statement is
// decided again, and the read is recorded. Attachments known only by
// fileUrl have no data and are left out.
func (g *Gate) Attachments(ctx context.Context, p Principal, stmts []*xapi.Statement) (map[string][]byte, error) {
	const op = "governance.Attachments"
	const action = "statements.attachments"
	out := map[string][]byte{}
	var ids []string
	about := aboutCounts{}
	revision := g.cfg.Engine.Revision()
	var glass Decision
	rc := g.newRequestState()
	for _, s := range stmts {
		atts := s.Attachments()
		if len(atts) == 0 {
			continue
		}
		f := s.Facts()
		in, err := g.readInput(ctx, p, s, f, rc)
		if err != nil {
			return nil, g.refuse(ctx, op, p, action, []string{s.ID()}, err)
		}
		d, err := g.decide(ctx, in)
		if err != nil {
			return nil, g.refuse(ctx, op, p, action, []string{s.ID()}, err)
		}
		revision = d.Revision
		if !d.Allow {
			continue
		}
		if d.BreakGlass {
			glass = d
		}
		found := false
		for _, a := range atts {
			if _, ok := out[a.SHA2]; ok {
				continue
			}
			data, err := g.cfg.Statements.Attachment(ctx, s.ID(), a.SHA2)
			if xapi.ErrorKind(err) == xapi.NotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[a.SHA2], found = data, true
		}
		if found {
			ids = append(ids, s.ID())
			about.add(f)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	e := g.entry(ctx, p, action, ids, revision)
	e.Subjects, e.SubjectCounts = g.subjectCounts(about)
	e.noteBreakGlass(glass)
	e.Decision, e.Count = "allow", len(out)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

// GetStatement returns one statement for p: by statement id, or, when
// voided is true, a voided statement by its id. A statement that exists but
// that p may not see is reported as NotFound, so that its existence does not
// leak; a principal that may not read statements at all gets Forbidden.
func (g *Gate) GetStatement(ctx context.Context, p Principal, id string, voided bool) (*xapi.Statement, error) {
	const op = "governance.GetStatement"
	action := "statements.read"
	coarse, err := g.decide(ctx, Input{Principal: p, Action: "statements.query", Resource: map[string]any{"kind": "statement"}})
	if err != nil {
		return nil, g.refuse(ctx, op, p, action, []string{id}, err)
	}
	e := g.entry(ctx, p, action, []string{id}, coarse.Revision)
	e.noteBreakGlass(coarse)
	if !coarse.Allow {
		e.Decision, e.Reasons = "deny", coarse.Reasons
		if err := g.record(ctx, e); err != nil {
			return nil, err
		}
		return nil, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(coarse.Reasons, "; ")}
	}
	notFound := &xapi.Error{Kind: xapi.NotFound, Op: op, Msg: "no statement with that id"}
	s, isVoided, err := g.cfg.Statements.GetStatement(ctx, id)
	switch {
	case xapi.ErrorKind(err) == xapi.NotFound || (err == nil && isVoided != voided):
		e.Decision, e.Reasons = "allow", coarse.Reasons
		if err := g.record(ctx, e); err != nil {
			return nil, err
		}
		return nil, notFound
	case err != nil:
		return nil, err
	}
	f := s.Facts()
	in, err := g.readInput(ctx, p, s, f, g.newRequestState())
	if err != nil {
		return nil, g.refuse(ctx, op, p, action, []string{id}, err)
	}
	d, err := g.decide(ctx, in)
	if err != nil {
		return nil, g.refuse(ctx, op, p, action, []string{id}, err)
	}
	about := aboutCounts{}
	about.add(f)
	e.Subjects, e.SubjectCounts = g.subjectCounts(about)
	e.Reasons = d.Reasons
	e.noteBreakGlass(d)
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return nil, err
		}
		return nil, notFound
	}
	e.Decision, e.Count = "allow", 1
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	if len(d.Obligations.Mask) > 0 {
		s = s.Masked(d.Obligations.Mask)
	}
	return s, nil
}

// QueryStatements answers a statement query for p: one page of at most
// q.Limit (or the maximum) statements that match and that p may see, and
// the position token of the next page ("" at the end).
func (g *Gate) QueryStatements(ctx context.Context, p Principal, q xapi.Query, after string) ([]*xapi.Statement, string, error) {
	return g.queryStatements(ctx, p, q, after, nil)
}

// queryStatements is QueryStatements; when own is not empty, it keeps only
// statements one of whose own agents (actor, Agent or Group object,
// members) has an IFI in own.
func (g *Gate) queryStatements(ctx context.Context, p Principal, q xapi.Query, after string, own []string) ([]*xapi.Statement, string, error) {
	const op = "governance.QueryStatements"
	action := "statements.query"
	desc := describeQuery(q)
	coarse, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: map[string]any{"kind": "query"}})
	if err != nil {
		return nil, "", g.refuse(ctx, op, p, action, desc, err)
	}
	if !coarse.Allow {
		e := g.entry(ctx, p, action, desc, coarse.Revision)
		e.Decision, e.Reasons = "deny", coarse.Reasons
		if err := g.record(ctx, e); err != nil {
			return nil, "", err
		}
		return nil, "", &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(coarse.Reasons, "; ")}
	}
	limit := q.Limit
	if limit <= 0 || limit > g.cfg.MaxLimit {
		limit = g.cfg.MaxLimit
	}
	rc := g.newRequestState()
	// The list-read filter restricts the rows read to candidates, from the
	// store's indexes; without one, a query's purpose obligation does. An
	// open break-glass session lifts read refusals, so then no row is pruned
	// in advance: every row is decided (and the access flagged).
	_, glassOpen, err := g.openSession(ctx, p, g.cfg.Now())
	if err != nil {
		return nil, "", g.refuse(ctx, op, p, action, desc, err)
	}
	if !glassOpen {
		rows, filtered, err := g.listRows(ctx, p, rc)
		if err != nil {
			return nil, "", g.refuse(ctx, op, p, action, desc, err)
		}
		if filtered {
			q.Rows = rows
		} else if coarse.Obligations.Purpose != "" {
			q.Purpose = coarse.Obligations.Purpose
		}
	}
	if len(own) > 0 {
		q.Rows = restrictAgents(q.Rows, own)
	}
	cache := map[string]Decision{}
	masks := map[string][]string{}
	withheld := 0
	glass := coarse
	keep := func(s *xapi.Statement) (bool, error) {
		f := s.Facts()
		if len(own) > 0 && !slices.ContainsFunc(f.Agents, func(a string) bool { return slices.Contains(own, a) }) {
			return false, nil
		}
		in, err := g.readInput(ctx, p, s, f, rc)
		if err != nil {
			return false, err
		}
		key, err := decisionKey(in)
		if err != nil {
			return false, err
		}
		d, seen := cache[key]
		if !seen {
			if d, err = g.decide(ctx, in); err != nil {
				return false, err
			}
			cache[key] = d
		}
		if d.Allow && d.BreakGlass {
			glass = d
		}
		if !d.Allow {
			withheld++
		} else if len(d.Obligations.Mask) > 0 {
			masks[s.ID()] = d.Obligations.Mask
		}
		return d.Allow, nil
	}
	stmts, next, err := g.cfg.Statements.QueryStatements(ctx, q, after, limit, keep)
	if err != nil {
		if xapi.ErrorKind(err) == xapi.Internal {
			return nil, "", g.refuse(ctx, op, p, action, desc, err)
		}
		return nil, "", err
	}
	e := g.entry(ctx, p, action, desc, coarse.Revision)
	about := aboutCounts{}
	for _, s := range stmts {
		e.Resources = append(e.Resources, s.ID())
		about.add(s.Facts())
	}
	e.Subjects, e.SubjectCounts = g.subjectCounts(about)
	e.Decision, e.Reasons, e.Count = "allow", coarse.Reasons, len(stmts)
	if withheld > 0 {
		e.Reasons = append(append([]string(nil), e.Reasons...), fmt.Sprintf("%d statements withheld by policy", withheld))
	}
	e.noteBreakGlass(glass) // after the reasons: it adds the session's
	if err := g.record(ctx, e); err != nil {
		return nil, "", err
	}
	for i, s := range stmts {
		if m := masks[s.ID()]; len(m) > 0 {
			stmts[i] = s.Masked(m)
		}
	}
	return stmts, next, nil
}

// restrictAgents returns rows (nil: every row) narrowed to statements one
// of whose own agents has an IFI in ids.
func restrictAgents(rows *xapi.RowFilter, ids []string) *xapi.RowFilter {
	if rows == nil {
		return &xapi.RowFilter{Any: []xapi.RowCondition{{Agents: [][]string{ids}}}}
	}
	out := &xapi.RowFilter{Any: make([]xapi.RowCondition, len(rows.Any))}
	for i, c := range rows.Any {
		c.Agents = append(slices.Clone(c.Agents), ids)
		out.Any[i] = c
	}
	return out
}

// describeQuery names the filters of q without their values, which may be
// personal data.
func describeQuery(q xapi.Query) []string {
	var parts []string
	add := func(set bool, name string) {
		if set {
			parts = append(parts, name)
		}
	}
	add(q.Agent != nil, "agent")
	add(q.Verb != "", "verb")
	add(q.Activity != "", "activity")
	add(q.Registration != "", "registration")
	add(q.RelatedActivities, "related_activities")
	add(q.RelatedAgents, "related_agents")
	add(!q.Since.IsZero(), "since")
	add(!q.Until.IsZero(), "until")
	return []string{"query(" + strings.Join(parts, ",") + ")"}
}

// authority is the Agent recorded as a statement's authority for p
// (xAPI Data §2.4.9: with Basic auth, the credential's user). The account
// name is the principal's pseudonym, as in the audit log, not the Basic
// key: anyone who may read a statement sees its authority.
func (g *Gate) authority(p Principal) xapi.Agent {
	return xapi.Agent{ObjectType: "Agent", Name: p.Name, Account: &xapi.Account{HomePage: g.cfg.AuthorityHomePage, Name: g.principalPseudonym(p)}}
}

func (g *Gate) principalPseudonym(p Principal) string {
	return g.cfg.Pseudonymizer.Pseudonym("principal:" + p.ID)
}

func (g *Gate) entry(ctx context.Context, p Principal, action string, resources []string, revision string) AuditEntry {
	return AuditEntry{
		Time:           g.cfg.Now().UTC(),
		RequestID:      RequestID(ctx),
		Principal:      g.principalPseudonym(p),
		Roles:          p.Roles,
		Purpose:        g.purposeInForce(p),
		Action:         action,
		Resources:      resources,
		PolicyRevision: revision,
	}
}

// purposeInForce is the purpose a request of p is made for: the one it
// names (X-Custodia-Purpose), else the credential's default, else the
// policy's default purpose (settings.default_purpose), as the policies
// decide it.
func (g *Gate) purposeInForce(p Principal) string {
	if p.Purpose != "" {
		return p.Purpose
	}
	return g.cfg.Engine.PolicyData().Settings.DefaultPurpose
}

// record appends e to the audit log; failing that, the access is refused:
// with Unavailable (503) while the log refuses appends, else Internal.
func (g *Gate) record(ctx context.Context, e AuditEntry) error {
	if err := g.cfg.Auditor.Record(ctx, e); err != nil {
		g.cfg.Logger.ErrorContext(ctx, "audit append failed; access refused", "action", e.Action, "request_id", e.RequestID, "err", err)
		if xapi.ErrorKind(err) == xapi.Unavailable {
			return &xapi.Error{Kind: xapi.Unavailable, Op: "governance.audit", Msg: "the audit log is unavailable, so the access was refused; try again later", Err: err}
		}
		return &xapi.Error{Kind: xapi.Internal, Op: "governance.audit", Msg: "the access could not be recorded, so it was refused", Err: err}
	}
	return nil
}

// AuditHealth is implemented by an Auditor that can tell whether it
// accepts entries.
type AuditHealth interface {
	// Health returns nil while entries can be recorded, else a reason
	// that is safe to show to anyone (no paths, no content).
	Health() error
}

// Health reports nil while accesses can be recorded (and so allowed), or
// why not.
func (g *Gate) Health() error {
	if h, ok := g.cfg.Auditor.(AuditHealth); ok {
		return h.Health()
	}
	return nil
}

// aboutCounts counts, per person (IFI), the records an access touched
// that are about them: everyone a statement is about under the read
// policy (xapi Facts.Agents: the actor and an Agent or Group object, with
// group members).
type aboutCounts map[string]int

func (c aboutCounts) add(f xapi.Facts) {
	for _, a := range f.Agents {
		c[a]++
	}
}

// subjectCounts returns the sorted pseudonyms of the persons in c and
// each one's count.
func (g *Gate) subjectCounts(c aboutCounts) ([]string, map[string]int) {
	if len(c) == 0 {
		return nil, nil
	}
	counts := make(map[string]int, len(c))
	for id, n := range c {
		counts[g.cfg.Pseudonymizer.Pseudonym("subject:"+id)] += n
	}
	subjects := make([]string, 0, len(counts))
	for ps := range counts {
		subjects = append(subjects, ps)
	}
	sort.Strings(subjects)
	return subjects, counts
}

// refuse records a failed decision as a denial and returns a fail-closed
// error. A policy that cannot be evaluated refuses the access: Unavailable
// (503) when it ran out of time, else Internal.
func (g *Gate) refuse(ctx context.Context, op string, p Principal, action string, resources []string, cause error) error {
	e := g.entry(ctx, p, action, resources, g.cfg.Engine.Revision())
	e.Decision, e.Reasons = "deny", []string{"policy evaluation failed"}
	g.cfg.Logger.ErrorContext(ctx, "policy evaluation failed; access refused", "action", action, "request_id", e.RequestID, "err", cause)
	if err := g.record(ctx, e); err != nil {
		return err
	}
	if errors.Is(cause, errDecisionTimeout) {
		return &xapi.Error{Kind: xapi.Unavailable, Op: op, Msg: "the policy could not be evaluated in time, so the access was refused; try again later", Err: cause}
	}
	var xe *xapi.Error
	if errors.As(cause, &xe) && xe.Kind != xapi.Internal {
		return cause
	}
	return &xapi.Error{Kind: xapi.Internal, Op: op, Msg: "the policy could not be evaluated, so the access was refused", Err: cause}
}

func (g *Gate) pseudonyms(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, g.cfg.Pseudonymizer.Pseudonym("subject:"+id))
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type ctxKey int

const requestIDKey ctxKey = 0

// WithRequestID returns a context carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID reports the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
