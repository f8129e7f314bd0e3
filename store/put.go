package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// prep is what PutStatements derives from a statement before planning.
type prep struct {
	id      string
	subject string
	target  string // StatementRef target, or ""
	voiding bool
	own     factSet
	defs    []canonDef    // Activity definitions to merge into the canonical copies
	rec     xapi.Recorded // purpose, legal basis and retention set by the writer
}

// PutStatements stores a batch atomically. Each statement must be prepared
// (id, authority, version set). In commit order it sets stored (SetStored;
// non-decreasing across commits, one value per batch), seals each statement's
// MarshalJSON under its Subject() with the id as associated data, and writes
// it with its blind index entries in one Badger transaction.
//
// A statement whose id is already stored (or earlier in the batch) is a no-op
// when it Equal()s the stored one (its stored is left unset); when it differs,
// the batch fails with a Conflict *xapi.Error naming the id and nothing is
// written. Voiding statements mark their target voided, stored or not. A batch
// too large for one transaction is a TooLarge *xapi.Error. PutStatements
// returns once the batch is durable (with Options.SyncWrites).
//
// atts holds attachment data by the lower-case hex SHA-2 of its bytes. Each
// new statement's attachments whose hash is in atts are stored with it,
// sealed under its subject with the statement id and hash as associated
// data; data shared by several statements is stored once for each, so that
// each person's copy goes with their key.
func (db *DB) PutStatements(ctx context.Context, stmts []*xapi.Statement, atts map[string][]byte) error {
	const op = "store.PutStatements"
	if len(stmts) == 0 {
		return nil
	}
	pre := make([]prep, len(stmts))
	for i, s := range stmts {
		id := s.ID()
		if id == "" {
			return xapi.Errorf(xapi.Invalid, op, "statements[%d]: id is required", i)
		}
		p := prep{id: id, subject: s.Subject()}
		p.target, _ = s.RefTarget()
		_, p.voiding = s.VoidTarget()
		p.own = blindFacts(db.sealer, id, s.Facts())
		p.defs = canonDefs(db.sealer, s)
		p.rec = s.Recorded()
		pre[i] = p
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, wait, err := db.tryPut(ctx, stmts, pre, atts)
		if err != nil {
			return err
		}
		if wait != nil {
			// The plan touched a batch this transaction cannot see: plan again
			// once it is committed.
			select {
			case <-wait:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if b == nil {
			return nil // every statement was a no-op
		}
		<-b.done // the commit is enqueued: wait for it even if ctx ends
		if b.err != nil {
			if errors.Is(b.err, badger.ErrTxnTooBig) {
				return xapi.Errorf(xapi.TooLarge, op, "batch is too large")
			}
			return internal(op, fmt.Errorf("store: commit: %w", b.err))
		}
		return nil
	}
}

// tryPut plans and enqueues one attempt. It returns the enqueued batch, or a
// channel to wait on before retrying, or an error.
func (db *DB) tryPut(ctx context.Context, stmts []*xapi.Statement, pre []prep, atts map[string][]byte) (*batch, <-chan struct{}, error) {
	db.mu.Lock()
	start := db.gen
	db.writers[start]++
	db.mu.Unlock()

	txn := db.bdb.NewTransaction(true) // waits for commits enqueued so far
	committed := false
	defer func() {
		if !committed {
			txn.Discard()
		}
	}()

	db.mu.Lock()
	defer db.mu.Unlock()
	defer db.leave(start)

	p, err := db.plan(ctx, txn, stmts, pre)
	if err != nil {
		return nil, nil, err
	}
	if len(db.recent) > 0 && db.recent[0].gen > start+1 {
		// Batches this transaction may not see were forgotten; cannot happen
		// while this writer is registered, but stay safe.
		retry := make(chan struct{})
		close(retry)
		return nil, retry, nil
	}
	for _, b := range db.recent {
		if b.gen <= start {
			continue
		}
		for id := range p.touched {
			if _, ok := b.ids[id]; ok {
				return nil, b.done, nil
			}
		}
	}
	if len(p.newIdx) == 0 {
		return nil, nil, nil
	}

	b := &batch{gen: db.gen + 1, ids: p.touched, done: make(chan struct{})}
	if err := db.fill(ctx, txn, stmts, pre, atts, p, b); err != nil {
		return nil, nil, err
	}
	db.gen++
	db.recent = append(db.recent, b)
	committed = true
	txn.CommitWith(func(err error) {
		b.err = err
		close(b.done)
	})
	return b, nil, nil
}

// leave unregisters a writer and forgets batches no writer needs. db.mu is held.
func (db *DB) leave(start uint64) {
	if db.writers[start]--; db.writers[start] == 0 {
		delete(db.writers, start)
	}
	min := uint64(math.MaxUint64)
	for g := range db.writers {
		if g < min {
			min = g
		}
	}
	n := 0
	for n < len(db.recent) && db.recent[n].gen <= min && db.recent[n].isDone() {
		n++
	}
	if n > 0 {
		db.recent = append(db.recent[:0:0], db.recent[n:]...)
	}
}

// plan is the outcome of reading what a batch depends on.
type plan struct {
	touched map[string]struct{} // ids whose keys were read or will be written
	newIdx  []int               // statements to store, in batch order
	recs    map[string]*factRec // fact records loaded or created (nil: unknown id)
	edges   map[string][]string // new StatementRef edges: target → referrers
	dirty   []string            // stored statements whose chain grew, in order
}

func (p *plan) touch(id string) { p.touched[id] = struct{}{} }

// plan checks duplicates and computes fact chains without changing anything.
func (db *DB) plan(ctx context.Context, txn *badger.Txn, stmts []*xapi.Statement, pre []prep) (*plan, error) {
	const op = "store.PutStatements"
	p := &plan{
		touched: map[string]struct{}{},
		recs:    map[string]*factRec{},
		edges:   map[string][]string{},
	}
	first := map[string]int{}
	for i, s := range stmts {
		id := pre[i].id
		p.touch(id)
		if j, ok := first[id]; ok {
			if stmts[j].Equal(s) {
				continue
			}
			return nil, xapi.Errorf(xapi.Conflict, op, "statements[%d]: has the id of statements[%d] but different content", i, j)
		}
		old, err := db.loadStatement(ctx, txn, id)
		if err != nil && xapi.ErrorKind(err) != xapi.NotFound {
			return nil, err
		}
		if old != nil {
			if old.Equal(s) {
				continue
			}
			return nil, xapi.Errorf(xapi.Conflict, op, "statements[%d]: a statement with this id is already stored with different content", i)
		}
		first[id] = i
		p.newIdx = append(p.newIdx, i)
	}
	for _, i := range p.newIdx {
		pr := &pre[i]
		rec := &factRec{voiding: pr.voiding, chain: []factSet{pr.own}, isNew: true, purpose: pr.rec.Purpose, basis: pr.rec.LegalBasis}
		p.recs[pr.id] = rec
		if pr.target != "" {
			p.touch(pr.target)
			p.edges[pr.target] = append(p.edges[pr.target], pr.id)
			t, err := p.rec(txn, pr.target)
			if err != nil {
				return nil, err
			}
			if t != nil {
				rec.chain = compose(pr.own, t.chain)
			}
		}
		if err := p.propagate(txn, pr.id); err != nil {
			return nil, err
		}
		for _, d := range pr.defs {
			p.touch(string(d.key)) // a batch writing the same canonical copy is waited for
		}
	}
	return p, nil
}

// rec returns the fact record of id from the plan or the store, nil if unknown.
func (p *plan) rec(txn *badger.Txn, id string) (*factRec, error) {
	if r, ok := p.recs[id]; ok {
		return r, nil
	}
	r, err := loadFacts(txn, id)
	if err != nil {
		return nil, err
	}
	p.recs[id] = r
	return r, nil
}

// propagate extends the chains of the statements referring to id, transitively.
func (p *plan) propagate(txn *badger.Txn, id string) error {
	queue := []string{id}
	for len(queue) > 0 {
		y := queue[0]
		queue = queue[1:]
		yr := p.recs[y]
		refs, err := referrers(txn, y)
		if err != nil {
			return err
		}
		refs = append(refs, p.edges[y]...)
		for _, r := range refs {
			p.touch(r)
			rr, err := p.rec(txn, r)
			if err != nil {
				return err
			}
			if rr == nil {
				continue // an edge without a stored referrer: cannot happen
			}
			chain := compose(rr.chain[0], yr.chain)
			if sameChain(chain, rr.chain) {
				continue
			}
			if !rr.isNew && rr.oldChain == nil {
				rr.oldChain = rr.chain
				p.dirty = append(p.dirty, r)
			}
			rr.chain = chain
			queue = append(queue, r)
		}
	}
	return nil
}

// fill assigns seq and stored, seals and writes the batch into txn. db.mu is held.
func (db *DB) fill(ctx context.Context, txn *badger.Txn, stmts []*xapi.Statement, pre []prep, atts map[string][]byte, p *plan, b *batch) error {
	const op = "store.PutStatements"
	set := func(k, v []byte) error {
		if err := txn.Set(k, v); err != nil {
			if errors.Is(err, badger.ErrTxnTooBig) {
				return xapi.Errorf(xapi.TooLarge, op, "batch is too large")
			}
			return internal(op, fmt.Errorf("store: write: %w", err))
		}
		return nil
	}
	stored := db.nextStored()
	b.stored = stored
	ms := stored.UnixMilli()
	seq := db.seq
	for _, i := range p.newIdx {
		s, pr := stmts[i], &pre[i]
		seq++
		rec := p.recs[pr.id]
		rec.seq, rec.stored = seq, ms
		if pr.rec.RetentionDays > 0 {
			rec.expires = stored.AddDate(0, 0, pr.rec.RetentionDays).UnixMilli()
		}
		s.SetStored(stored)
		s.SetRecorded(rec.recorded())
		body, err := s.MarshalJSON()
		if err != nil {
			return internal(op, fmt.Errorf("store: marshal %s: %w", pr.id, err))
		}
		sealedBody, err := db.sealer.Seal(ctx, pr.subject, []byte(pr.id), body)
		if err != nil {
			return internal(op, fmt.Errorf("store: seal %s: %w", pr.id, err))
		}
		sealedSubject, err := db.sealer.Seal(ctx, "", subjectAAD(pr.id), []byte(pr.subject))
		if err != nil {
			return internal(op, fmt.Errorf("store: seal subject of %s: %w", pr.id, err))
		}
		if err := set(stmtKey(pr.id), encodeStmt(sealedSubject, sealedBody)); err != nil {
			return err
		}
		for _, a := range s.Attachments() {
			data, ok := atts[a.SHA2]
			if !ok {
				continue
			}
			sealed, err := db.sealer.Seal(ctx, pr.subject, attachKey(pr.id, a.SHA2), data)
			if err != nil {
				return internal(op, fmt.Errorf("store: seal attachment of %s: %w", pr.id, err))
			}
			if err := set(attachKey(pr.id, a.SHA2), sealed); err != nil {
				return err
			}
		}
		val := idxVal(ms, pr.id)
		if err := set(seqKey(seq), val); err != nil {
			return err
		}
		if pr.voiding {
			if err := set(voidKey(pr.target), []byte(pr.id)); err != nil {
				return err
			}
		}
		if pr.target != "" {
			if err := set(refKey(pr.target, pr.id), nil); err != nil {
				return err
			}
		}
	}
	if err := db.mergeDefinitions(ctx, txn, pre, p.newIdx, set); err != nil {
		return err
	}
	// Fact records and index entries, after every chain is final.
	for _, i := range p.newIdx {
		id := pre[i].id
		rec := p.recs[id]
		if err := set(factsKey(id), rec.encode()); err != nil {
			return err
		}
		val := idxVal(rec.stored, id)
		for k := range indexKeys(rec.chain) {
			if err := set(seqSuffix(k, rec.seq), val); err != nil {
				return err
			}
		}
		if rec.purpose != "" {
			if err := set(db.purposeKey(rec.purpose, rec.seq), val); err != nil {
				return err
			}
		}
		if rec.expires != 0 {
			if err := set(expiryKey(rec.expires, rec.seq), []byte(id)); err != nil {
				return err
			}
		}
	}
	for _, id := range p.dirty {
		rec := p.recs[id]
		if err := set(factsKey(id), rec.encode()); err != nil {
			return err
		}
		old := indexKeys(rec.oldChain)
		val := idxVal(rec.stored, id)
		for k := range indexKeys(rec.chain) {
			if _, ok := old[k]; ok {
				continue
			}
			if err := set(seqSuffix(k, rec.seq), val); err != nil {
				return err
			}
		}
	}
	db.seq = seq
	return nil
}

func seqSuffix(prefix string, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+8)
	k = append(k, prefix...)
	return binary.BigEndian.AppendUint64(k, seq)
}
