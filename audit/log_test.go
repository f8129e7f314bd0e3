package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"custodia/audit"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// opts returns Options with sealer and NoSync set as given.
func opts(s *testSealer, noSync bool) audit.Options {
	return audit.Options{Sealer: s, Erased: isShredded, NoSync: noSync}
}

func openLog(t testing.TB, dir string, o audit.Options) *audit.Log {
	t.Helper()
	if o.Sealer == nil {
		o.Sealer = newSealer()
	}
	l, err := audit.Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func entry(i int) audit.Entry {
	return audit.Entry{
		Time:           t0.Add(time.Duration(i) * time.Second),
		RequestID:      fmt.Sprintf("req-%03d", i),
		Principal:      fmt.Sprintf("p%03d", i),
		Roles:          []string{"client"},
		Purpose:        "training",
		Action:         "statements.read",
		Resources:      []string{fmt.Sprintf("stmt-%03d", i)},
		Subjects:       []string{"5f2b9c0d1e3a4b6c7d8e9f0a1b2c3d4e"},
		Decision:       audit.Allow,
		PolicyRevision: "rev-1",
		Count:          1,
	}
}

func appendN(t testing.TB, l *audit.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		got, err := l.Append(context.Background(), entry(i))
		if err != nil {
			t.Fatalf("Append(entry %d) = %v", i, err)
		}
		if got != int64(i) {
			t.Fatalf("Append(entry %d) = index %d, want %d", i, got, i)
		}
	}
}

// newLog makes a closed log of n entries appended one by one (so each has
// its own checkpoint), with a published checkpoint after entry n/2 and
// after the last, and returns its directory and sealer.
func newLog(t testing.TB, n int) (string, *testSealer) {
	t.Helper()
	dir, s := t.TempDir(), newSealer()
	l, err := audit.Open(dir, opts(s, true))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 0, n/2)
	if _, _, err := l.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, n/2, n-n/2)
	if _, _, err := l.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// entriesOf returns the entries of records, failing on a record without
// its body.
func entriesOf(t testing.TB, recs []audit.Record) []audit.Entry {
	t.Helper()
	out := make([]audit.Entry, len(recs))
	for i, r := range recs {
		if r.Erased || r.Damaged {
			t.Fatalf("record %d: erased %v, damaged %v, want its body", r.Index, r.Erased, r.Damaged)
		}
		out[i] = r.Entry
	}
	return out
}

func checkpointTree(t testing.TB, l *audit.Log) tlog.Tree {
	t.Helper()
	v, err := note.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatalf("NewVerifier(VerifierKey()) = %v", err)
	}
	n, err := note.Open(l.Checkpoint(), note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open(Checkpoint()) = %v", err)
	}
	return parseTree(t, n.Text)
}

// parseTree parses the text of a checkpoint as the package documentation
// describes it (origin line, size, base64 tree hash, "commit N"), with
// none of the package's code.
func parseTree(t testing.TB, text string) tlog.Tree {
	t.Helper()
	lines := strings.Split(text, "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "custodia.audit/") || !strings.HasPrefix(lines[3], "commit ") || lines[4] != "" {
		t.Fatalf("checkpoint text %q: want origin, size, hash, commit number", text)
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint text %q: size: %v", text, err)
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		t.Fatalf("checkpoint text %q: hash: %v", text, err)
	}
	return tlog.Tree{N: n, Hash: tlog.Hash(h)}
}

func TestAppendVerify(t *testing.T) {
	dir, s := t.TempDir(), newSealer()
	l := openLog(t, dir, opts(s, false))
	if got := checkpointTree(t, l); got.N != 0 {
		t.Errorf("checkpoint of a new log has size %d, want 0", got.N)
	}
	const n = 20
	appendN(t, l, 0, n)
	if got := l.Size(); got != n {
		t.Errorf("Size() = %d, want %d", got, n)
	}
	tree := checkpointTree(t, l)
	if tree.N != n {
		t.Errorf("checkpoint size = %d, want %d", tree.N, n)
	}
	recs, err := l.Entries(context.Background(), 0, n)
	if err != nil {
		t.Fatalf("Entries(0, %d) = %v", n, err)
	}
	got := entriesOf(t, recs)
	for i := range n {
		if !reflect.DeepEqual(got[i], entry(i)) {
			t.Errorf("Entries()[%d] = %+v, want %+v", i, got[i], entry(i))
		}
		r := recs[i]
		wantRecord := "entry 2026-03 " + base64.StdEncoding.EncodeToString(r.Commitment[:]) + "\n"
		if r.Index != int64(i) || string(r.RecordData) != wantRecord || r.LeafHash != tlog.RecordHash(r.RecordData) || len(r.Salt) != 32 ||
			r.Commitment != sha256.Sum256(append(slices.Clone(r.Salt), r.Body...)) || r.Month != "2026-03" {
			t.Errorf("Entries()[%d] = index %d, record %q, leaf %v, salt %d bytes, want index %d, record %q, its record hash, 32 bytes, commitment SHA-256(salt || body)",
				i, r.Index, r.RecordData, r.LeafHash, len(r.Salt), i, wantRecord)
		}
		if canon, _ := json.Marshal(entry(i)); !bytes.Equal(r.Body, canon) {
			t.Errorf("Entries()[%d].Body = %s, want the canonical JSON %s", i, r.Body, canon)
		}
	}
	for _, o := range []audit.VerifyOptions{{}, {Key: l.VerifierKey()}, {Key: l.VerifierKey(), Sealer: s}} {
		rep, err := audit.Verify(dir, o)
		if err != nil {
			t.Fatalf("Verify(%+v) = %v", o, err)
		}
		want := audit.Report{Entries: n, TreeHash: tree.Hash.String(), CheckpointSize: n, Checkpoints: n + 1, PublishedSize: -1, TrustedSize: -1}
		if o.Sealer != nil {
			want.BodiesChecked, want.BodiesOK = true, n
		}
		if !reflect.DeepEqual(rep, want) {
			t.Errorf("Verify(%+v) = %+v, want %+v", o, rep, want)
		}
	}
}

// TestSaltedCommitments: two identical entries get different commitments,
// and no entry content is stored in the clear.
func TestSaltedCommitments(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{NoSync: true})
	ctx := context.Background()
	for range 2 {
		if _, err := l.Append(ctx, entry(7)); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := l.Entries(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Commitment == recs[1].Commitment {
		t.Errorf("two identical entries have the same commitment %v, want different salts", recs[0].Commitment)
	}
	b, err := os.ReadFile(filepath.Join(dir, "entries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"p007", "statements.read", "stmt-007", "training", "rev-1"} {
		if bytes.Contains(b, []byte(plain)) {
			t.Errorf("entries.jsonl holds %q in the clear", plain)
		}
	}
}

func TestReopenContinues(t *testing.T) {
	dir, s := t.TempDir(), newSealer()
	l, err := audit.Open(dir, opts(s, false))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 0, 5)
	cp, vkey := l.Checkpoint(), l.VerifierKey()
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	l2 := openLog(t, dir, opts(s, false))
	if got := l2.Size(); got != 5 {
		t.Errorf("Size() after reopen = %d, want 5", got)
	}
	if got := l2.Checkpoint(); !bytes.Equal(got, cp) {
		t.Errorf("Checkpoint() after reopen = %q, want %q", got, cp)
	}
	if got := l2.VerifierKey(); got != vkey {
		t.Errorf("VerifierKey() after reopen = %q, want %q", got, vkey)
	}
	appendN(t, l2, 5, 3)
	if rep, err := audit.Verify(dir, audit.VerifyOptions{Key: vkey, Sealer: s}); err != nil || rep.Entries != 8 || rep.BodiesOK != 8 {
		t.Errorf("Verify after reopen and append = %+v, %v, want 8 entries", rep, err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, audit.Options{})
	st, err := os.Stat(filepath.Join(dir, "signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("signer.key mode = %v, want %v", got, os.FileMode(0o600))
	}
	b, err := os.ReadFile(filepath.Join(dir, "verifier.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(bytes.TrimSpace(b)); got != l.VerifierKey() {
		t.Errorf("verifier.key = %q, want VerifierKey() = %q", got, l.VerifierKey())
	}
	if _, err := note.NewVerifier(l.VerifierKey()); err != nil {
		t.Errorf("note.NewVerifier(VerifierKey()) = %v", err)
	}
}

func TestAppendInvalid(t *testing.T) {
	l := openLog(t, t.TempDir(), audit.Options{NoSync: true})
	tests := []struct {
		name   string
		change func(*audit.Entry)
	}{
		{"no action", func(e *audit.Entry) { e.Action = "" }},
		{"no decision", func(e *audit.Entry) { e.Decision = "" }},
		{"unknown decision", func(e *audit.Entry) { e.Decision = "maybe" }},
		{"negative count", func(e *audit.Entry) { e.Count = -1 }},
		{"too large", func(e *audit.Entry) { e.Resources = []string{string(bytes.Repeat([]byte("x"), 1<<20))} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := entry(0)
			tt.change(&e)
			if i, err := l.Append(context.Background(), e); !errors.Is(err, audit.ErrInvalid) {
				t.Errorf("Append(%s) = %d, %v, want %v", tt.name, i, err, audit.ErrInvalid)
			}
		})
	}
	if got := l.Size(); got != 0 {
		t.Errorf("Size() after invalid appends = %d, want 0", got)
	}
}

func TestAppendStampsTime(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	l := openLog(t, t.TempDir(), audit.Options{NoSync: true, Now: func() time.Time { return now }})
	e := entry(0)
	e.Time = time.Time{}
	if _, err := l.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	recs, err := l.Entries(context.Background(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := entriesOf(t, recs)
	if want := now.UTC(); !got[0].Time.Equal(want) || got[0].Time.Location() != time.UTC {
		t.Errorf("Entries()[0].Time = %v, want %v", got[0].Time, want)
	}
}

func TestEntriesRange(t *testing.T) {
	l := openLog(t, t.TempDir(), audit.Options{NoSync: true})
	appendN(t, l, 0, 4)
	ctx := context.Background()
	tests := []struct {
		from, to int64
		want     int // entries, or -1 for an error
	}{
		{0, 4, 4}, {1, 3, 2}, {2, 2, 0}, {4, 4, 0},
		{-1, 2, -1}, {3, 2, -1}, {0, 5, -1},
	}
	for _, tt := range tests {
		got, err := l.Entries(ctx, tt.from, tt.to)
		switch {
		case tt.want < 0 && err == nil:
			t.Errorf("Entries(%d, %d) = %d entries, want an error", tt.from, tt.to, len(got))
		case tt.want >= 0 && (err != nil || len(got) != tt.want):
			t.Errorf("Entries(%d, %d) = %d entries, %v, want %d", tt.from, tt.to, len(got), err, tt.want)
		case tt.want > 0 && got[0].Entry.Principal != entry(int(tt.from)).Principal:
			t.Errorf("Entries(%d, %d)[0].Principal = %q, want %q", tt.from, tt.to, got[0].Entry.Principal, entry(int(tt.from)).Principal)
		}
	}
}

func TestClosed(t *testing.T) {
	l, err := audit.Open(t.TempDir(), opts(newSealer(), true))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 0, 1)
	if err := l.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := l.Append(context.Background(), entry(1)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Append after Close = %v, want %v", err, audit.ErrClosed)
	}
	if _, err := l.Entries(context.Background(), 0, 1); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Entries after Close = %v, want %v", err, audit.ErrClosed)
	}
}

func TestAppendCanceled(t *testing.T) {
	l := openLog(t, t.TempDir(), audit.Options{NoSync: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, entry(0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append(canceled) = %v, want %v", err, context.Canceled)
	}
}

func TestConcurrentAppend(t *testing.T) {
	dir, s := t.TempDir(), newSealer()
	l := openLog(t, dir, opts(s, false))
	const workers, each = 8, 25
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[int64]string{} // index → principal
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e := entry(w*each + i)
				idx, err := l.Append(context.Background(), e)
				mu.Lock()
				if err != nil {
					t.Errorf("Append = %v", err)
				} else if prev, dup := got[idx]; dup {
					t.Errorf("Append(%s) = index %d, already given to %s", e.Principal, idx, prev)
				} else {
					got[idx] = e.Principal
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const n = workers * each
	if size := l.Size(); size != n || len(got) != n {
		t.Fatalf("Size() = %d with %d distinct indexes, want %d", size, len(got), n)
	}
	recs, err := l.Entries(context.Background(), 0, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entriesOf(t, recs) {
		if e.Principal != got[int64(i)] {
			t.Errorf("Entries()[%d].Principal = %q, want %q", i, e.Principal, got[int64(i)])
		}
	}
	rep, err := audit.Verify(dir, audit.VerifyOptions{Key: l.VerifierKey(), Sealer: s})
	if err != nil || rep.Entries != n || rep.CheckpointSize != n || rep.BodiesOK != n {
		t.Errorf("Verify = %+v, %v, want %d entries", rep, err, n)
	}
	t.Logf("%d concurrent appends in %d checkpoints", n, rep.Checkpoints-1)
}
