package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"custodia/xapi"
)

// Sealer seals and opens records and computes blind-index hashes. Implemented
// by crypto.Keyring.
type Sealer interface {
	// Seal encrypts plaintext under the key of subject ("" is the system
	// subject), binding recordID as associated data.
	Seal(ctx context.Context, subject string, recordID, plaintext []byte) ([]byte, error)
	// Open reverses Seal; it fails when the key is gone, the record id differs
	// or the ciphertext was altered.
	Open(ctx context.Context, subject string, recordID, sealed []byte) ([]byte, error)
	// Blind returns a keyed hash of value for the index of field; equal inputs
	// give equal outputs.
	Blind(field, value string) []byte
}

// Options configures Open.
type Options struct {
	InMemory   bool             // badger in-memory mode, for tests (dir ignored)
	SyncWrites bool             // fsync each commit (a 200 means on disk)
	Logger     *slog.Logger     // nil: discard; Badger logs warnings and errors to it
	Now        func() time.Time // nil: time.Now
}

// MaxRefDepth is how many statements a fact chain follows through
// StatementRefs, the referring statement included.
const MaxRefDepth = 8

// DB is a statement and record store. Its methods are safe for concurrent use.
type DB struct {
	bdb    *badger.DB
	sealer Sealer
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	seq     uint64         // last assigned seq
	last    time.Time      // stored floor: no later batch is stored before it
	gen     uint64         // batches enqueued so far
	recent  []*batch       // enqueued batches, oldest first, kept while in flight or needed
	writers map[uint64]int // start generations of writers planning now
}

// batch is one enqueued PutStatements transaction.
type batch struct {
	gen    uint64
	ids    map[string]struct{} // statement ids it read or wrote
	stored time.Time
	done   chan struct{} // closed when the commit callback ran
	err    error         // the commit's outcome, set before done is closed
}

func (b *batch) isDone() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// Open opens (creating if needed) the store in dir, or an in-memory store.
func Open(dir string, s Sealer, o Options) (*DB, error) {
	if s == nil {
		return nil, errors.New("store: Open: nil Sealer")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.InMemory {
		dir = ""
	}
	opts := badger.DefaultOptions(dir).
		WithInMemory(o.InMemory).
		WithSyncWrites(o.SyncWrites).
		WithLogger(badgerLogger{log}).
		WithNumCompactors(2).
		WithMemTableSize(64 << 20). // one transaction may hold 15%: a 1000-statement batch with room to spare
		WithNumMemtables(3).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(32 << 20).
		WithValueLogFileSize(256 << 20).
		WithValueThreshold(4 << 10).
		WithMetricsEnabled(false).
		// Sealed values and blind hashes do not compress; skipping it saves CPU
		// and keeps the on-disk plaintext check meaningful.
		WithCompression(options.None)
	bdb, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db := &DB{bdb: bdb, sealer: s, log: log, now: now, writers: map[uint64]int{}}
	if err := db.recover(); err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

// recover restores the last seq and stored time from the q/ order.
func (db *DB) recover() error {
	return db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(prefixSeq)})
		defer it.Close()
		it.Seek(seqKey(math.MaxUint64))
		if !it.Valid() {
			return nil
		}
		k := it.Item().Key()
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("store: recover: %w", err)
		}
		ms, _, err := decodeIdxVal(v)
		if err != nil {
			return err
		}
		db.seq = binary.BigEndian.Uint64(k[len(prefixSeq):])
		db.last = time.UnixMilli(ms).UTC()
		return nil
	})
}

// Close closes the database. Calls in progress must have returned.
func (db *DB) Close() error {
	if err := db.bdb.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// ConsistentThrough reports an instant before which every stored statement
// is readable: the stored time of the oldest batch still being committed, or
// now (to the millisecond) when none is. Later batches are never stored
// before an instant this returned.
func (db *DB) ConsistentThrough() time.Time {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, b := range db.recent {
		if !b.isDone() {
			return b.stored
		}
	}
	return db.nextStored()
}

// nextStored returns a stored time not before any returned so far. db.mu is held.
func (db *DB) nextStored() time.Time {
	t := db.now().UTC().Truncate(time.Millisecond)
	if t.Before(db.last) {
		t = db.last
	}
	db.last = t
	return t
}

// badgerLogger passes Badger's warnings and errors to slog and drops the rest.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("badger", "detail", fmt.Sprintf(f, a...))
}

func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn("badger", "detail", fmt.Sprintf(f, a...))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// Key prefixes; see the package doc.
const (
	prefixStmt   = "s/"
	prefixFacts  = "f/"
	prefixSeq    = "q/"
	prefixIndex  = "i/"
	prefixVoid   = "v/"
	prefixRef    = "r/"
	prefixRecord = "x/"
	prefixAttach = "a/"
	prefixCanon  = "c/" // canonical Activity definitions; see activities.go
	prefixDoc    = "d/"
	prefixExpiry = "e/" // statements by end of retention; see facts.go
)

func stmtKey(id string) []byte  { return []byte(prefixStmt + id) }
func factsKey(id string) []byte { return []byte(prefixFacts + id) }

// attachKey names the attachment data with hash sha2 of statement id.
func attachKey(id, sha2 string) []byte { return []byte(prefixAttach + id + "/" + sha2) }
func voidKey(id string) []byte         { return []byte(prefixVoid + id) }

func refPrefix(target string) []byte { return []byte(prefixRef + target + "\x00") }

func refKey(target, referrer string) []byte {
	return append(refPrefix(target), referrer...)
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixSeq), seq)
}

func indexPrefix(field string, blind []byte) []byte {
	k := make([]byte, 0, len(prefixIndex)+len(field)+2+len(blind)+8)
	k = append(k, prefixIndex...)
	k = append(k, field...)
	k = append(k, '/')
	k = binary.AppendUvarint(k, uint64(len(blind)))
	return append(k, blind...)
}

// idxVal is the value of q/ and i/ entries: stored (Unix ms) and the id.
func idxVal(storedMs int64, id string) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(storedMs))
	return append(v, id...)
}

func decodeIdxVal(v []byte) (int64, string, error) {
	if len(v) < 8 {
		return 0, "", errCorrupt("index entry")
	}
	return int64(binary.BigEndian.Uint64(v)), string(v[8:]), nil
}

func errCorrupt(what string) error {
	return &xapi.Error{Kind: xapi.Internal, Op: "store", Err: fmt.Errorf("store: corrupt %s", what)}
}

func internal(op string, err error) error {
	var xe *xapi.Error
	if errors.As(err, &xe) {
		return err
	}
	return &xapi.Error{Kind: xapi.Internal, Op: op, Err: err}
}
