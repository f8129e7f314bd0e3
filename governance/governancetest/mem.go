// Package governancetest provides in-memory implementations of the
// interfaces the governance Gate needs, for tests of the Gate and of the
// packages that are handed one (as net/http/httptest does for handlers).
package governancetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"custodia/governance"
	"custodia/xapi"
)

// MemStore is an in-memory governance.StatementStore, RecordStore,
// ActivityStore, DocumentStore and RetentionStore. It ignores statement
// query filters and paging, except the agent (actor IFI), Purpose and Rows
// (the list-read conditions, as package store answers them): it serves
// tests of deciding, not of filtering by parameter (package store has
// those).
type MemStore struct {
	mu      sync.Mutex
	stmts   []*xapi.Statement
	records map[string][]byte
	atts    map[string][]byte // by statement id + "/" + sha2
	acts    map[string]xapi.Activity
	docs    map[string]xapi.Document
	now     time.Time
	pruned  int // statements QueryStatements skipped by their Rows
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{records: map[string][]byte{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// PutStatements implements governance.StatementStore.
func (f *MemStore) PutStatements(ctx context.Context, stmts []*xapi.Statement, atts map[string][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.atts == nil {
		f.atts = map[string][]byte{}
	}
	for _, s := range stmts {
		for _, a := range s.Attachments() {
			if data, ok := atts[a.SHA2]; ok {
				f.atts[s.ID()+"/"+a.SHA2] = data
			}
		}
		f.mergeDefinitions(s)
		f.now = f.now.Add(time.Millisecond)
		s.SetStored(f.now)
		if r := s.Recorded(); r.RetentionDays > 0 {
			r.Expires = f.now.AddDate(0, 0, r.RetentionDays)
			r.RetentionDays = 0
			s.SetRecorded(r)
		}
		f.stmts = append(f.stmts, s)
	}
	return nil
}

// GetStatement implements governance.StatementStore.
func (f *MemStore) GetStatement(ctx context.Context, id string) (*xapi.Statement, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.stmts {
		if s.ID() == id {
			return s, false, nil
		}
	}
	return nil, false, &xapi.Error{Kind: xapi.NotFound, Op: "governancetest", Msg: "no statement with that id"}
}

// QueryStatements implements governance.StatementStore.
func (f *MemStore) QueryStatements(ctx context.Context, q xapi.Query, after string, limit int, keep func(*xapi.Statement) (bool, error)) ([]*xapi.Statement, string, error) {
	f.mu.Lock()
	all := append([]*xapi.Statement(nil), f.stmts...)
	f.mu.Unlock()
	var out []*xapi.Statement
	for _, s := range all {
		if q.Purpose != "" && s.Recorded().Purpose != q.Purpose {
			continue
		}
		if q.Agent != nil && s.Actor().IFI() != q.Agent.IFI() {
			continue
		}
		if !RowsMatch(q.Rows, s) {
			f.mu.Lock()
			f.pruned++
			f.mu.Unlock()
			continue
		}
		ok, err := keep(s)
		if err != nil {
			return nil, "", err
		}
		if ok && len(out) < limit {
			out = append(out, s)
		}
	}
	return out, "", nil
}

// Pruned reports how many statements queries skipped because of their
// list-read conditions (xapi.Query.Rows), without deciding them.
func (f *MemStore) Pruned() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pruned
}

// RowsMatch reports whether the stored statement s (carrying its Recorded)
// passes the list-read conditions r, as package store decides them: its
// recorded purpose, legal basis and expiry, and the IFIs of its own agents
// (xapi.Facts.Agents). A nil r passes everything.
func RowsMatch(r *xapi.RowFilter, s *xapi.Statement) bool {
	if r == nil {
		return true
	}
	rec := s.Recorded()
	agents := s.Facts().Agents
	for _, c := range r.Any {
		if rowMatch(c, rec, agents) {
			return true
		}
	}
	return false
}

func rowMatch(c xapi.RowCondition, rec xapi.Recorded, agents []string) bool {
	if c.Purposes != nil && !slices.Contains(c.Purposes, rec.Purpose) || slices.Contains(c.NotPurposes, rec.Purpose) {
		return false
	}
	if c.Bases != nil && !slices.Contains(c.Bases, rec.LegalBasis) || slices.Contains(c.NotBases, rec.LegalBasis) {
		return false
	}
	if e := c.Expiry; e.Never || !e.After.IsZero() {
		never := rec.Expires.IsZero()
		if !(e.Never && never) && !(!e.After.IsZero() && !never && rec.Expires.After(e.After)) {
			return false
		}
	}
	for _, set := range c.Agents {
		if !slices.ContainsFunc(set, func(ifi string) bool { return slices.Contains(agents, ifi) }) {
			return false
		}
	}
	return true
}

// ScanStatements implements governance.StatementStore.
func (f *MemStore) ScanStatements(ctx context.Context, fn func(*xapi.Statement) (bool, error)) error {
	f.mu.Lock()
	all := append([]*xapi.Statement(nil), f.stmts...)
	f.mu.Unlock()
	for _, s := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := fn(s)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ScanExpired implements governance.RetentionStore.
func (f *MemStore) ScanExpired(ctx context.Context, now time.Time, fn func(*xapi.Statement) error) error {
	f.mu.Lock()
	var expired []*xapi.Statement
	for _, s := range f.stmts {
		if e := s.Recorded().Expires; !e.IsZero() && !e.After(now) {
			expired = append(expired, s)
		}
	}
	f.mu.Unlock()
	sort.SliceStable(expired, func(i, j int) bool { return expired[i].Recorded().Expires.Before(expired[j].Recorded().Expires) })
	for _, s := range expired {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// DeleteStatements implements governance.RetentionStore.
func (f *MemStore) DeleteStatements(ctx context.Context, ids []string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	kept := f.stmts[:0:0]
	n := 0
	for _, s := range f.stmts {
		if gone[s.ID()] {
			n++
			for k := range f.atts {
				if strings.HasPrefix(k, s.ID()+"/") {
					delete(f.atts, k)
				}
			}
			continue
		}
		kept = append(kept, s)
	}
	f.stmts = kept
	return n, nil
}

// mergeDefinitions merges the Activity definitions of s into the canonical
// copies, as store.DB does. f.mu is held.
func (f *MemStore) mergeDefinitions(s *xapi.Statement) {
	if f.acts == nil {
		f.acts = map[string]xapi.Activity{}
	}
	if s.Recorded().NoDefine {
		return
	}
	for _, a := range s.Activities() {
		if a.HasDefinition() {
			old, ok := f.acts[a.ID]
			if !ok {
				old = xapi.Activity{ID: a.ID}
			}
			f.acts[a.ID] = old.Merge(a)
		}
	}
}

// Activities implements governance.ActivityStore.
func (f *MemStore) Activities(ctx context.Context, ids []string) (map[string]xapi.Activity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]xapi.Activity{}
	for _, id := range ids {
		if a, ok := f.acts[id]; ok {
			out[id] = a
		}
	}
	return out, nil
}

// ConsistentThrough implements governance.StatementStore.
func (f *MemStore) ConsistentThrough() time.Time { return f.now }

// Attachment implements governance.StatementStore.
func (f *MemStore) Attachment(ctx context.Context, id, sha2 string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, ok := f.atts[id+"/"+sha2]
	if !ok {
		return nil, &xapi.Error{Kind: xapi.NotFound, Op: "governancetest", Msg: "no attachment data"}
	}
	return data, nil
}

// PutRecord implements governance.RecordStore.
func (f *MemStore) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[kind+"/"+key] = append([]byte(nil), value...)
	return nil
}

// GetRecord implements governance.RecordStore.
func (f *MemStore) GetRecord(ctx context.Context, kind, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.records[kind+"/"+key]
	if !ok {
		return nil, &xapi.Error{Kind: xapi.NotFound, Op: "governancetest", Msg: "no such record"}
	}
	return v, nil
}

// DeleteRecord implements governance.RecordStore.
func (f *MemStore) DeleteRecord(ctx context.Context, kind, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.records[kind+"/"+key]; !ok {
		return &xapi.Error{Kind: xapi.NotFound, Op: "governancetest", Msg: "no such record"}
	}
	delete(f.records, kind+"/"+key)
	return nil
}

// ListRecords implements governance.RecordStore.
func (f *MemStore) ListRecords(ctx context.Context, kind string) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range f.records {
		if rest, ok := strings.CutPrefix(k, kind+"/"); ok {
			out[rest] = v
		}
	}
	return out, nil
}

// MemAuditor keeps audit entries in memory. Set Fail to make every Record
// fail, as a full disk would; SetUnavailable to make it fail as a log that
// refuses appends until it recovers (xapi.Unavailable, and Health says so).
type MemAuditor struct {
	mu          sync.Mutex
	entries     []governance.AuditEntry
	Fail        bool
	unavailable bool
}

// errUnavailable is what Record and Health report while SetUnavailable is on.
var errUnavailable = &xapi.Error{Kind: xapi.Unavailable, Op: "governancetest", Msg: "audit log refuses appends after a write failure"}

// SetUnavailable turns the refusal of appends on or off.
func (a *MemAuditor) SetUnavailable(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unavailable = on
}

// Health implements governance.AuditHealth.
func (a *MemAuditor) Health() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unavailable {
		return errUnavailable
	}
	return nil
}

// Record implements governance.Auditor.
func (a *MemAuditor) Record(ctx context.Context, e governance.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail {
		return errors.New("disk full")
	}
	if a.unavailable {
		return errUnavailable
	}
	a.entries = append(a.entries, e)
	return nil
}

// Pseudonymizer is a keyed-hash pseudonymizer with a fixed test key.
type Pseudonymizer struct{}

// Pseudonym implements governance.Pseudonymizer.
func (Pseudonymizer) Pseudonym(v string) string {
	s := sha256.Sum256([]byte("test-key:" + v))
	return hex.EncodeToString(s[:8])
}

// Statements reports the stored statements in order.
func (f *MemStore) Statements() []*xapi.Statement {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*xapi.Statement(nil), f.stmts...)
}

// Records reports the stored system records, keyed kind/key.
func (f *MemStore) Records() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string][]byte, len(f.records))
	for k, v := range f.records {
		out[k] = v
	}
	return out
}

// Entries reports the recorded audit entries in order.
func (a *MemAuditor) Entries() []governance.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]governance.AuditEntry(nil), a.entries...)
}

// docKey names a document of d in MemStore.
func docKey(d xapi.DocumentParams) string {
	return strings.Join([]string{string(d.Kind), d.ActivityID, d.Subject(), d.Registration, d.ID}, "\x00")
}

// inSet reports whether the document stored under key belongs to the set
// d names (d.ID ""; any registration unless d.Registration is set).
func inSet(key string, d xapi.DocumentParams) bool {
	parts := strings.Split(key, "\x00")
	return parts[0] == string(d.Kind) && parts[1] == d.ActivityID && parts[2] == d.Subject() &&
		(d.Registration == "" || parts[3] == d.Registration)
}

// GetDocument implements governance.DocumentStore.
func (f *MemStore) GetDocument(ctx context.Context, d xapi.DocumentParams) (xapi.Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, ok := f.docs[docKey(d)]
	if !ok {
		return xapi.Document{}, &xapi.Error{Kind: xapi.NotFound, Op: "governancetest", Msg: "no such document"}
	}
	return doc, nil
}

// ListDocuments implements governance.DocumentStore.
func (f *MemStore) ListDocuments(ctx context.Context, d xapi.DocumentParams) ([]xapi.Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []xapi.Document
	for k, doc := range f.docs {
		if inSet(k, d) && (d.Since.IsZero() || doc.Updated.After(d.Since)) {
			doc.Body = nil
			out = append(out, doc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// PutDocument implements governance.DocumentStore.
func (f *MemStore) PutDocument(ctx context.Context, d xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error) {
	return f.writeDoc(d, cond, func(*xapi.Document) (xapi.Document, error) { return doc, nil })
}

// PostDocument implements governance.DocumentStore.
func (f *MemStore) PostDocument(ctx context.Context, d xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error) {
	return f.writeDoc(d, cond, func(old *xapi.Document) (xapi.Document, error) {
		if old == nil {
			return doc, nil
		}
		return xapi.MergeDocuments(*old, doc)
	})
}

func (f *MemStore) writeDoc(d xapi.DocumentParams, cond xapi.Precondition, next func(*xapi.Document) (xapi.Document, error)) (xapi.Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := docKey(d)
	var old *xapi.Document
	if doc, ok := f.docs[k]; ok {
		old = &doc
	}
	etag := ""
	if old != nil {
		etag = old.ETag
	}
	if err := cond.Check(etag, old != nil); err != nil {
		return xapi.Document{}, err
	}
	doc, err := next(old)
	if err != nil {
		return xapi.Document{}, err
	}
	f.now = f.now.Add(time.Millisecond)
	doc = xapi.Document{ID: d.ID, ContentType: doc.ContentType, Body: append([]byte(nil), doc.Body...), Updated: f.now, ETag: xapi.DocumentETag(doc.Body)}
	if f.docs == nil {
		f.docs = map[string]xapi.Document{}
	}
	f.docs[k] = doc
	doc.Body = nil
	return doc, nil
}

// DeleteDocument implements governance.DocumentStore.
func (f *MemStore) DeleteDocument(ctx context.Context, d xapi.DocumentParams, cond xapi.Precondition) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, ok := f.docs[docKey(d)]
	if err := cond.Check(doc.ETag, ok); err != nil {
		return err
	}
	delete(f.docs, docKey(d))
	return nil
}

// DeleteDocuments implements governance.DocumentStore.
func (f *MemStore) DeleteDocuments(ctx context.Context, d xapi.DocumentParams) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.docs {
		if inSet(k, d) {
			delete(f.docs, k)
			n++
		}
	}
	return n, nil
}

// Documents reports how many documents are stored.
func (f *MemStore) Documents() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.docs)
}
