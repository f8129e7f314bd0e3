package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// GetStatement returns the stored statement id and whether it is voided. An
// unknown id is a NotFound *xapi.Error.
func (db *DB) GetStatement(ctx context.Context, id string) (*xapi.Statement, bool, error) {
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	s, err := db.loadStatement(ctx, txn, id)
	if err != nil {
		return nil, false, err
	}
	rec, err := loadFacts(txn, id)
	if err != nil {
		return nil, false, err
	}
	if rec != nil {
		s.SetRecorded(rec.recorded())
	}
	if _, voiding := s.VoidTarget(); voiding {
		return s, false, nil
	}
	voided, err := exists(txn, voidKey(id))
	if err != nil {
		return nil, false, internal("store.GetStatement", err)
	}
	return s, voided, nil
}

// QueryStatements answers a GET /statements query (q.StatementID and
// q.VoidedStatementID must be unset). It returns at most limit (> 0)
// statements matching every filter of q, voided ones excluded, in stored order
// (newest first unless q.Ascending), starting after the position token after
// ("" is the start), keeping only those for which keep (which may be nil)
// returns true; an error from keep aborts the query. With q.Purpose set, only
// statements recorded for that purpose match; with q.Rows set, only those
// whose recorded facts satisfy it (see xapi.RowFilter), decided from the
// fact record before the statement is opened, and, without xAPI filters,
// read from the agent or purpose index when the conditions allow (rows.go).
// Each statement returned (and
// passed to keep) carries its Recorded. next is a short URL-safe
// token for the following page, or "" when no further statement matches.
// A malformed token, or one of the other direction, is an Invalid *xapi.Error.
func (db *DB) QueryStatements(ctx context.Context, q xapi.Query, after string, limit int,
	keep func(*xapi.Statement) (bool, error)) (stmts []*xapi.Statement, next string, err error) {
	const op = "store.QueryStatements"
	if limit <= 0 {
		return nil, "", xapi.Errorf(xapi.Invalid, op, "limit must be positive")
	}
	if q.StatementID != "" || q.VoidedStatementID != "" {
		return nil, "", xapi.Errorf(xapi.Invalid, op, "statementId and voidedStatementId are not query filters")
	}
	cur, err := parseCursor(after, q.Ascending)
	if err != nil {
		return nil, "", err
	}
	var fs []filter
	add := func(field int, v string) {
		fs = append(fs, filter{field, db.sealer.Blind(fieldNames[field], v)})
	}
	// Added from least to most selective; the last one drives the scan.
	if q.Agent != nil {
		ifi := q.Agent.IFI()
		if ifi == "" {
			return nil, "", xapi.Errorf(xapi.Invalid, op, "agent has no inverse functional identifier")
		}
		if q.RelatedAgents {
			add(fAgentRelated, ifi)
		} else {
			add(fAgent, ifi)
		}
	}
	if q.Verb != "" {
		add(fVerb, q.Verb)
	}
	if q.Activity != "" {
		if q.RelatedActivities {
			add(fActivityRelated, q.Activity)
		} else {
			add(fActivity, q.Activity)
		}
	}
	if q.Registration != "" {
		add(fRegistration, q.Registration)
	}
	rows := db.blindRows(q.Rows)
	if rows != nil && len(rows.any) == 0 {
		return nil, "", nil // the row filter passes nothing
	}
	var prefixes [][]byte
	switch {
	case len(fs) > 0:
		d := fs[len(fs)-1]
		prefixes = [][]byte{indexPrefix(fieldNames[d.field], d.blind)}
	case q.Purpose != "":
		prefixes = [][]byte{db.purposePrefix(q.Purpose)}
	default:
		prefixes = db.rowPrefixes(rows)
	}

	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	var start uint64
	switch {
	case q.Ascending:
		start = cur + 1
	case cur == 0:
		start = math.MaxUint64
	default:
		start = cur - 1
	}
	sc := newMergeScan(txn, prefixes, !q.Ascending, start)
	defer sc.close()

	var seqs []uint64
	for {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		seq, v, ok, err := sc.next()
		if err != nil {
			return nil, "", internal(op, err)
		}
		if !ok {
			break
		}
		ms, id, err := decodeIdxVal(v)
		if err != nil {
			return nil, "", err
		}
		stored := time.UnixMilli(ms)
		if !q.Since.IsZero() && !stored.After(q.Since) {
			if q.Ascending {
				continue
			}
			break // older from here on
		}
		if !q.Until.IsZero() && stored.After(q.Until) {
			if q.Ascending {
				break // newer from here on
			}
			continue
		}
		rec, err := loadFacts(txn, id)
		if err != nil {
			return nil, "", err
		}
		if rec == nil {
			return nil, "", internal(op, errCorrupt("index entry without facts"))
		}
		if !rec.matches(fs) || (q.Purpose != "" && rec.purpose != q.Purpose) || !rows.matches(rec) {
			continue
		}
		if !rec.voiding {
			voided, err := exists(txn, voidKey(id))
			if err != nil {
				return nil, "", internal(op, err)
			}
			if voided {
				continue
			}
		}
		s, err := db.loadStatement(ctx, txn, id)
		if err != nil {
			return nil, "", &xapi.Error{Kind: xapi.Internal, Op: op, Err: err}
		}
		s.SetRecorded(rec.recorded())
		if keep != nil {
			ok, err := keep(s)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				continue
			}
		}
		if len(stmts) == limit {
			// One more match exists: the page is full and has a successor.
			return stmts, formatCursor(seqs[limit-1], q.Ascending), nil
		}
		stmts = append(stmts, s)
		seqs = append(seqs, seq)
	}
	return stmts, "", nil
}

// loadStatement reads and opens s/<id>; NotFound when absent.
func (db *DB) loadStatement(ctx context.Context, txn *badger.Txn, id string) (*xapi.Statement, error) {
	const op = "store.GetStatement"
	subject, sealedBody, err := db.loadRecord(ctx, txn, op, id)
	if err != nil {
		return nil, err
	}
	body, err := db.sealer.Open(ctx, subject, []byte(id), sealedBody)
	if err != nil {
		return nil, internal(op, fmt.Errorf("store: open %s: %w", id, err))
	}
	s, err := xapi.DecodeStored(body)
	if err != nil {
		return nil, internal(op, err)
	}
	return s, nil
}

// loadRecord reads statement id's record: the subject it is sealed under
// (opened) and its sealed body. An unknown id is a NotFound *xapi.Error.
func (db *DB) loadRecord(ctx context.Context, txn *badger.Txn, op, id string) (subject string, sealedBody []byte, err error) {
	item, err := txn.Get(stmtKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return "", nil, xapi.Errorf(xapi.NotFound, op, "no statement with this id")
	}
	if err != nil {
		return "", nil, internal(op, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return "", nil, internal(op, err)
	}
	sealedSubject, sealedBody, err := decodeStmt(v)
	if err != nil {
		return "", nil, err
	}
	sub, err := db.sealer.Open(ctx, "", subjectAAD(id), sealedSubject)
	if err != nil {
		return "", nil, internal(op, fmt.Errorf("store: open subject of %s: %w", id, err))
	}
	return string(sub), sealedBody, nil
}

// loadFacts reads f/<id>; nil when absent.
func loadFacts(txn *badger.Txn, id string) (*factRec, error) {
	item, err := txn.Get(factsKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("store", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, internal("store", err)
	}
	return decodeFactRec(v)
}

// referrers lists the stored statements whose object is a StatementRef to id.
func referrers(txn *badger.Txn, id string) ([]string, error) {
	p := refPrefix(id)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: p})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, string(it.Item().Key()[len(p):]))
	}
	return out, nil
}

func exists(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// A cursor token is base64url (unpadded) of a direction byte ('a' or 'd')
// followed by the uvarint seq of the last statement returned.
func formatCursor(seq uint64, ascending bool) string {
	dir := byte('d')
	if ascending {
		dir = 'a'
	}
	return base64.RawURLEncoding.EncodeToString(binary.AppendUvarint([]byte{dir}, seq))
}

func parseCursor(tok string, ascending bool) (uint64, error) {
	if tok == "" {
		return 0, nil
	}
	bad := xapi.Errorf(xapi.Invalid, "store.QueryStatements", "the position token is not valid for this query")
	if len(tok) > 16 {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) < 2 {
		return 0, bad
	}
	want := byte('d')
	if ascending {
		want = 'a'
	}
	seq, n := binary.Uvarint(b[1:])
	if b[0] != want || n <= 0 || n != len(b)-1 || seq == 0 {
		return 0, bad
	}
	return seq, nil
}
