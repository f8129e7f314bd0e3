package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Errors returned by the log. Callers match them with errors.Is.
var (
	// ErrClosed reports use of a closed Log.
	ErrClosed = errors.New("audit: log closed")
	// ErrInvalid reports an entry that cannot be logged: a missing action, a
	// decision other than "allow" or "deny", a negative count, or an entry
	// larger than 1 MiB.
	ErrInvalid = errors.New("audit: invalid entry")
	// ErrUnavailable reports a log that refuses appends: a write or sync
	// failed (the writer retries every Options.RetryInterval and recovers
	// once the files can be written again), or the key of a month the log
	// holds entries of is missing (which needs an operator).
	ErrUnavailable = errors.New("audit: log unavailable")
	// ErrKeyMissing reports, with ErrUnavailable, that the key of a month
	// the log holds entries of does not open them (deleted or replaced).
	ErrKeyMissing = errors.New("audit: a month's key is missing")
	// ErrErased reports an append, or a read, of a month whose content was
	// erased (EraseMonth): no entry is sealed under a month once its key is
	// destroyed.
	ErrErased = errors.New("audit: month erased")
)

// Decisions recorded in Entry.Decision.
const (
	Allow = "allow"
	Deny  = "deny"
)

const maxBatch = 1024

// Entry is one access decision. Its canonical JSON (json.Marshal), salted,
// is what its leaf commits to (see the package documentation), so fields
// are only ever added, with omitempty, to keep old commitments valid. It
// holds identifiers, hashes and pseudonyms only.
type Entry struct {
	Time           time.Time `json:"time"`                    // when; Append stamps Options.Now when zero and stores UTC
	RequestID      string    `json:"request_id,omitempty"`    // the request it belongs to
	Principal      string    `json:"principal"`               // pseudonymous id of the caller
	Roles          []string  `json:"roles,omitempty"`         // the caller's roles
	Purpose        string    `json:"purpose,omitempty"`       // the purpose in force: the request's, else the credential's or the policy's default
	Action         string    `json:"action"`                  // e.g. "statements.write"
	Resources      []string  `json:"resources,omitempty"`     // statement/document ids, or a blinded query description
	Subjects       []string  `json:"subjects,omitempty"`      // pseudonymous subject ids
	Decision       string    `json:"decision"`                // Allow or Deny
	Reasons        []string  `json:"reasons,omitempty"`       // why, from the policy decision
	PolicyRevision string    `json:"policy_revision"`         // the policy revision that decided
	Count          int       `json:"count"`                   // how many records the access touched
	BreakGlass     bool      `json:"break_glass,omitempty"`   // access beyond the principal's policy, under a stated justification
	Justification  string    `json:"justification,omitempty"` // the justification stated for a break-glass access
	// Purposes are the purposes the written statements were recorded for
	// (writes only).
	Purposes []string `json:"purposes,omitempty"`
	// SubjectCounts is, per subject pseudonym, how many of the records the
	// access touched are about that person (Count is the total).
	SubjectCounts map[string]int `json:"subject_counts,omitempty"`
}

// Sealer seals and opens entry bodies. It is implemented by crypto.Keyring;
// subject names the data key (here "audit:" and the month of the entry, so
// that a month's bodies expire together when its key is destroyed) and
// recordID is the associated data the seal is bound to.
type Sealer interface {
	// Seal encrypts plaintext under the key of subject, creating the key on
	// first use.
	Seal(ctx context.Context, subject string, recordID, plaintext []byte) ([]byte, error)
	// Open reverses Seal. It fails when the subject's key was destroyed, or
	// when sealed does not authenticate under that key and recordID.
	Open(ctx context.Context, subject string, recordID, sealed []byte) ([]byte, error)
}

// Shredder destroys data keys. It is implemented by crypto.Keyring.
type Shredder interface {
	// Shred destroys the key of subject: what was sealed under it no
	// longer opens.
	Shred(ctx context.Context, subject string) error
}

// Options configures a Log. Sealer is required.
type Options struct {
	Sealer Sealer // seals entry bodies; required
	// Shredder destroys a month's key for EraseMonth; nil: EraseMonth fails.
	Shredder Shredder
	// Erased reports whether an error from Sealer.Open means the body's key
	// was destroyed (its content expired or was erased) rather than that the
	// body was altered. nil: every Open failure counts as damage.
	Erased func(error) bool
	// Witnesses are note verifier keys of the witnesses whose cosignatures
	// Cosign accepts.
	Witnesses []string
	Logger    *slog.Logger     // nil: discard
	Now       func() time.Time // stamps entries with a zero Time; nil: time.Now
	Rand      io.Reader        // randomness for the signer key and the salts; nil: crypto/rand
	NoSync    bool             // skip fsync: Append is then not durable (tests only)
	// RetryInterval is how often a log that failed to write tries to
	// recover (cut its files back to the last checkpoint and check them);
	// 0: every 5 seconds.
	RetryInterval time.Duration
}

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	dir       string
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	noSync    bool
	sealer    Sealer
	shredder  Shredder
	erased    func(error) bool
	retry     time.Duration
	signer    note.Signer
	verifier  note.Verifier
	vkey      string
	origin    string // the checkpoints' origin line
	witnesses []note.Verifier
	unlock    func() // releases the directory lock

	entries, hashes, checkpoints *os.File

	pub published // checkpoints published to auditors and witnesses (publish.go)

	reqs      chan *request
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	eraseMu   sync.Mutex // one EraseMonth at a time

	cpEnd int64 // end of the checkpoints file; owned by the writer after Open
	seq   int64 // the number of the next checkpoint; owned by the writer after Open

	mu         sync.RWMutex
	size       int64
	offsets    []int64 // offsets[i]: where entry i starts; offsets[size]: the end
	checkpoint []byte  // the current signed note
	failed     error   // why appends are refused (wraps ErrUnavailable), or nil
	fatal      bool    // failed cannot be cleared by retrying the writes
	closed     bool
	erasedAt   map[string]int64 // month → index of the line erasing it
	lastBody   map[string]int64 // month → the last entry sealed under its key
	probed     map[string]bool  // months whose key was seen to open the log's entries
}

type request struct {
	line   []byte // the entries-file line (see line.go)
	record []byte // the leaf's record data
	bucket string // the entry's month, or "" for an erasure line
	erase  string // the month an erasure line erases
	done   chan result
}

type result struct {
	index int64
	err   error
}

// Open opens or creates the log in dir. A new log gets a fresh note key pair
// (signer.key 0600, verifier.key beside it) and a signed checkpoint of the
// empty tree. An existing log is checked and repaired as the package
// documentation describes; Open fails rather than accept entries that do
// not match the signed checkpoint.
func Open(dir string, o Options) (*Log, error) {
	l := &Log{dir: dir, log: o.Logger, now: o.Now, rand: o.Rand, noSync: o.NoSync, sealer: o.Sealer, shredder: o.Shredder,
		erased: o.Erased, retry: o.RetryInterval,
		erasedAt: map[string]int64{}, lastBody: map[string]int64{}, probed: map[string]bool{}}
	if l.retry <= 0 {
		l.retry = 5 * time.Second
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	if l.erased == nil {
		l.erased = func(error) bool { return false }
	}
	if dir == "" {
		return nil, errors.New("audit: open: directory required")
	}
	if l.sealer == nil {
		return nil, errors.New("audit: open: a Sealer is required")
	}
	for _, w := range o.Witnesses {
		v, err := note.NewVerifier(w)
		if err != nil {
			return nil, fmt.Errorf("audit: open: witness key %q: %w", w, err)
		}
		l.witnesses = append(l.witnesses, v)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: open: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: open: %w", err)
	}
	l.unlock = unlock
	open := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
		return f
	}
	l.entries, l.hashes, l.checkpoints = open(entriesFile), open(hashesFile), open(checkpointsFile)
	if err == nil {
		err = l.loadKeys(l.rand)
	}
	if err == nil {
		err = l.recover()
	}
	if err == nil {
		err = l.openPublished()
	}
	if err == nil {
		err = l.recordWitnesses(o.Witnesses)
	}
	if err != nil {
		l.closeFiles()
		l.unlock()
		return nil, fmt.Errorf("audit: open: %w", err)
	}
	l.reqs = make(chan *request)
	l.quit = make(chan struct{})
	l.done = make(chan struct{})
	go l.run()
	return l, nil
}

// Close stops the writer after the batch in progress and closes the files.
// Appends waiting to be written fail with ErrClosed.
func (l *Log) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.quit)
		<-l.done
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		err = l.closeFiles()
		l.unlock()
	})
	return err
}

func (l *Log) closeFiles() error {
	var errs []error
	for _, f := range []*os.File{l.entries, l.hashes, l.checkpoints, l.pub.f} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// Append adds e as the next leaf and returns its index. It returns only once
// the entry, its stored hashes and a signed checkpoint covering it are
// durable. On any error the entry must be taken as not logged, and the
// caller must refuse the access it describes. (When ctx ends while the
// batch is being written, Append returns ctx.Err() and the entry may still
// be logged: the log then records an access that was refused.)
func (l *Log) Append(ctx context.Context, e Entry) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	if err := validate(e); err != nil {
		return -1, err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return -1, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(body) > maxEntrySize {
		return -1, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrInvalid, len(body), maxEntrySize)
	}
	if err := l.Err(); err != nil {
		return -1, err
	}
	bucket := e.Time.Format(bucketLayout)
	if err := l.checkMonth(ctx, bucket); err != nil {
		return -1, err
	}
	plain := make([]byte, saltSize, saltSize+len(body))
	if _, err := io.ReadFull(l.rand, plain); err != nil {
		return -1, fmt.Errorf("audit: append: salt: %w", err)
	}
	plain = append(plain, body...)
	c := tlog.Hash(sha256.Sum256(plain))
	sealed, err := l.sealer.Seal(ctx, sealSubject(bucket), sealRecordID(c), plain)
	if err != nil {
		return -1, fmt.Errorf("audit: append: seal: %w", err)
	}
	sl := storedLine{Commitment: c[:], Bucket: bucket, Sealed: sealed}
	line, err := json.Marshal(sl)
	if err != nil {
		return -1, fmt.Errorf("audit: append: %w", err)
	}
	return l.send(ctx, &request{line: line, record: appendRecord(nil, sl), bucket: bucket, done: make(chan result, 1)})
}

// send hands r to the writer and waits for its result.
func (l *Log) send(ctx context.Context, r *request) (int64, error) {
	select {
	case l.reqs <- r:
	case <-l.quit:
		return -1, ErrClosed
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.index, res.err
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// checkMonth refuses to seal under the key of an erased month, and checks,
// once per month, that the key of a month the log holds entries of still
// opens them: a key that went missing is not silently replaced by a new
// one (the Sealer creates keys on first use), the log fails instead.
func (l *Log) checkMonth(ctx context.Context, bucket string) error {
	l.mu.RLock()
	_, erased := l.erasedAt[bucket]
	last, known := l.lastBody[bucket]
	probed := l.probed[bucket]
	l.mu.RUnlock()
	switch {
	case erased:
		return fmt.Errorf("%w: %s", ErrErased, bucket)
	case probed || !known:
		return nil
	}
	recs, err := l.Entries(ctx, last, last+1)
	if err != nil {
		return err
	}
	if r := recs[0]; r.Erased || r.Damaged {
		err := fmt.Errorf("%w: %w: the key of month %s does not open entry %d sealed under it (deleted or replaced): refusing to seal under a new key; run audit verify",
			ErrUnavailable, ErrKeyMissing, bucket, last)
		l.log.Error("audit log key check failed", "month", bucket, "index", last)
		l.mu.Lock()
		if l.failed == nil {
			l.failed, l.fatal = err, true
		}
		l.mu.Unlock()
		return err
	}
	l.mu.Lock()
	l.probed[bucket] = true
	l.mu.Unlock()
	return nil
}

// Err reports why the log refuses appends (an error wrapping
// ErrUnavailable), or nil when it accepts them.
func (l *Log) Err() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.failed
}

func validate(e Entry) error {
	switch {
	case e.Action == "":
		return fmt.Errorf("%w: action is required", ErrInvalid)
	case e.Decision != Allow && e.Decision != Deny:
		return fmt.Errorf("%w: decision must be %q or %q", ErrInvalid, Allow, Deny)
	case e.Count < 0:
		return fmt.Errorf("%w: count is negative", ErrInvalid)
	}
	return nil
}

// Size returns the number of entries covered by the current checkpoint.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size
}

// Checkpoint returns the current signed checkpoint: a signed note whose
// text is the origin line, the size, the base64 tree hash and the
// checkpoint's number (see ParseCheckpoint).
func (l *Log) Checkpoint() []byte {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return bytes.Clone(l.checkpoint)
}

// VerifierKey returns the note verifier key (name+hash+key) that checks the
// log's checkpoints.
func (l *Log) VerifierKey() string { return l.vkey }

// run is the writer: it takes whatever Appends are waiting and commits them
// as one batch. While a write failure makes the log refuse appends, it
// tries to recover every retry interval.
func (l *Log) run() {
	defer close(l.done)
	batch := make([]*request, 0, maxBatch)
	for {
		var retry <-chan time.Time
		l.mu.RLock()
		if l.failed != nil && !l.fatal {
			retry = time.After(l.retry)
		}
		l.mu.RUnlock()
		select {
		case r := <-l.reqs:
			batch = append(batch[:0], r)
		more:
			for len(batch) < maxBatch {
				select {
				case r := <-l.reqs:
					batch = append(batch, r)
				default:
					break more
				}
			}
			l.commit(batch)
			clear(batch)
		case <-retry:
			l.recoverWrites()
		case <-l.quit:
			return
		}
	}
}

func (l *Log) commit(batch []*request) {
	if err := l.Err(); err != nil {
		for _, r := range batch {
			r.done <- result{-1, err}
		}
		return
	}
	// Entries of a month erased before them (or earlier in the batch) are
	// refused; a repeated erasure of a month is answered with the first
	// (EraseMonth runs one at a time, so one batch never holds two).
	l.mu.RLock()
	erasing := map[string]bool{}
	keep := batch[:0:0]
	for _, r := range batch {
		month := r.bucket + r.erase
		at, erased := l.erasedAt[month]
		switch {
		case erased && r.erase != "":
			r.done <- result{at, nil}
		case erased || erasing[month]:
			r.done <- result{-1, fmt.Errorf("%w: %s", ErrErased, month)}
		default:
			keep = append(keep, r)
			erasing[month] = erasing[month] || r.erase != ""
		}
	}
	l.mu.RUnlock()
	if len(keep) == 0 {
		return
	}
	first, err := l.write(keep)
	if err != nil {
		err = fmt.Errorf("%w: append: %v", ErrUnavailable, err)
		l.log.Error("audit log write failed; refusing appends until the files can be written again", "err", err)
		l.mu.Lock()
		if l.failed == nil {
			l.failed = err
		}
		l.mu.Unlock()
	}
	for i, r := range keep {
		if err != nil {
			r.done <- result{-1, err}
		} else {
			r.done <- result{first + int64(i), nil}
		}
	}
}

// write appends batch after the current end: entries and stored hashes,
// synced, then a signed checkpoint, synced. It returns the index of the
// first entry.
func (l *Log) write(batch []*request) (int64, error) {
	l.mu.RLock()
	n, end := l.size, l.offsets[l.size]
	l.mu.RUnlock()

	base := tlog.StoredHashCount(n)
	var pending []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			switch {
			case idx >= base+int64(len(pending)):
				return nil, fmt.Errorf("stored hash %d not yet written", idx)
			case idx >= base:
				out[i] = pending[idx-base]
			default:
				if _, err := l.hashes.ReadAt(out[i][:], idx*tlog.HashSize); err != nil {
					return nil, fmt.Errorf("stored hash %d: %w", idx, err)
				}
			}
		}
		return out, nil
	})

	var lines []byte
	ends := make([]int64, len(batch))
	for i, r := range batch {
		hs, err := tlog.StoredHashes(n+int64(i), r.record, reader)
		if err != nil {
			return 0, err
		}
		pending = append(pending, hs...)
		lines = append(append(lines, r.line...), '\n')
		ends[i] = end + int64(len(lines))
	}
	if want := tlog.StoredHashCount(n + int64(len(batch))); base+int64(len(pending)) != want {
		panic(fmt.Sprintf("audit: %d stored hashes for %d entries, want %d", base+int64(len(pending)), n+int64(len(batch)), want))
	}
	hb := make([]byte, 0, len(pending)*tlog.HashSize)
	for _, h := range pending {
		hb = append(hb, h[:]...)
	}
	if _, err := l.entries.WriteAt(lines, end); err != nil {
		return 0, err
	}
	if _, err := l.hashes.WriteAt(hb, base*tlog.HashSize); err != nil {
		return 0, err
	}
	if err := l.sync(l.entries, l.hashes); err != nil {
		return 0, err
	}

	size := n + int64(len(batch))
	th, err := tlog.TreeHash(size, reader)
	if err != nil {
		return 0, err
	}
	signed, err := l.sign(tlog.Tree{N: size, Hash: th}, l.seq)
	if err != nil {
		return 0, err
	}
	fb := appendFrame(nil, signed)
	if _, err := l.checkpoints.WriteAt(fb, l.cpEnd); err != nil {
		return 0, err
	}
	if err := l.sync(l.checkpoints); err != nil {
		return 0, err
	}
	l.cpEnd += int64(len(fb))
	l.seq++

	l.mu.Lock()
	l.size = size
	l.offsets = append(l.offsets, ends...)
	l.checkpoint = signed
	for i, r := range batch {
		if r.erase != "" {
			l.erasedAt[r.erase] = n + int64(i)
		} else {
			l.lastBody[r.bucket] = n + int64(i)
		}
	}
	l.mu.Unlock()
	return n, nil
}

// sync fsyncs files concurrently, unless NoSync is set.
func (l *Log) sync(files ...*os.File) error {
	if l.noSync {
		return nil
	}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files[1:] {
		wg.Go(func() { errs[i+1] = f.Sync() })
	}
	errs[0] = files[0].Sync()
	wg.Wait()
	return errors.Join(errs...)
}

func (l *Log) sign(t tlog.Tree, seq int64) ([]byte, error) {
	return note.Sign(&note.Note{Text: formatCheckpoint(l.origin, t, seq)}, l.signer)
}
