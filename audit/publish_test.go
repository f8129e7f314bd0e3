package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custodia/audit"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// witness returns a new witness note key pair.
func witness(t testing.TB, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// cosign signs the text of checkpoint with s, keeping its signatures, as
// `custodia audit cosign` does.
func cosign(t testing.TB, checkpoint []byte, s note.Signer) []byte {
	t.Helper()
	n, err := note.Open(checkpoint, nil)
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		t.Fatalf("note.Open(checkpoint, nil) = %v, want an UnverifiedNoteError", err)
	}
	n = unverified.Note
	out, err := note.Sign(n, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func treeOf(t testing.TB, vkey string, msg []byte) tlog.Tree {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open(%q) = %v", msg, err)
	}
	return parseTree(t, n.Text)
}

func TestPublish(t *testing.T) {
	dir, s := t.TempDir(), newSealer()
	l := openLog(t, dir, opts(s, true))
	ctx := context.Background()
	cp, err := l.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := treeOf(t, l.VerifierKey(), cp); got.N != 0 {
		t.Errorf("Published() of a new log has size %d, want 0", got.N)
	}
	appendN(t, l, 0, 3)
	cp, fresh, err := l.Publish(ctx)
	if err != nil || !fresh || treeOf(t, l.VerifierKey(), cp).N != 3 {
		t.Fatalf("Publish() after 3 appends = size %d, %v, %v, want size 3, true", treeOf(t, l.VerifierKey(), cp).N, fresh, err)
	}
	again, fresh, err := l.Publish(ctx)
	if err != nil || fresh || !bytes.Equal(again, cp) {
		t.Errorf("Publish() without growth = %q, %v, %v, want the same checkpoint, false", again, fresh, err)
	}
	if got, _ := l.Published(ctx); !bytes.Equal(got, cp) {
		t.Errorf("Published() = %q, want %q", got, cp)
	}
	vkey := l.VerifierKey()
	l.Close()

	l2 := openLog(t, dir, opts(s, true))
	if got, _ := l2.Published(ctx); !bytes.Equal(got, cp) {
		t.Errorf("Published() after reopening = %q, want %q", got, cp)
	}
	l2.Close()
	rep, err := audit.Verify(dir, audit.VerifyOptions{Key: vkey})
	if err != nil || rep.Published != 2 || rep.PublishedSize != 3 {
		t.Errorf("Verify = %+v, %v, want 2 published checkpoints, the latest of size 3", rep, err)
	}
}

func TestCosign(t *testing.T) {
	ctx := context.Background()
	dpo, dpoKey := witness(t, "dpo")
	council, councilKey := witness(t, "works-council")
	stranger, _ := witness(t, "stranger")
	dir, s := t.TempDir(), newSealer()
	o := opts(s, true)
	o.Witnesses = []string{dpoKey, councilKey}
	l := openLog(t, dir, o)
	appendN(t, l, 0, 4)
	cp, _, err := l.Publish(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := l.Cosign(ctx, cosign(t, cp, stranger)); !errors.Is(err, audit.ErrCosignature) {
		t.Errorf("Cosign(by an unknown key) = %v, want %v", err, audit.ErrCosignature)
	}
	forged := bytes.Replace(cosign(t, cp, dpo), []byte("\n4\n"), []byte("\n3\n"), 1)
	if _, err := l.Cosign(ctx, forged); !errors.Is(err, audit.ErrCosignature) {
		t.Errorf("Cosign(text altered after signing) = %v, want %v", err, audit.ErrCosignature)
	}
	other := cosign(t, []byte(strings.Replace(string(cp), "\n4\n", "\n5\n", 1)), dpo)
	if _, err := l.Cosign(ctx, other); !errors.Is(err, audit.ErrNotPublished) {
		t.Errorf("Cosign(a checkpoint never published) = %v, want %v", err, audit.ErrNotPublished)
	}

	got, err := l.Cosign(ctx, cosign(t, cp, dpo))
	if err != nil {
		t.Fatalf("Cosign(by the DPO) = %v", err)
	}
	got, err = l.Cosign(ctx, cosign(t, got, council))
	if err != nil {
		t.Fatalf("Cosign(by the works council) = %v", err)
	}
	vs := []note.Verifier{}
	for _, k := range []string{l.VerifierKey(), dpoKey, councilKey} {
		v, _ := note.NewVerifier(k)
		vs = append(vs, v)
	}
	n, err := note.Open(got, note.VerifierList(vs...))
	if err != nil || len(n.Sigs) != 3 {
		t.Fatalf("the cosigned checkpoint = %v, %v, want the signatures of the log, the DPO and the works council", n, err)
	}
	if latest, _ := l.Published(ctx); !bytes.Equal(latest, got) {
		t.Errorf("Published() = %q, want the cosigned %q", latest, got)
	}
	vkey := l.VerifierKey()

	verify := func(witnesses []string, lag int64) (audit.Report, error) {
		return audit.Verify(dir, audit.VerifyOptions{Key: vkey, Witnesses: witnesses, MaxWitnessLag: lag})
	}
	if rep, err := verify([]string{dpoKey, councilKey}, 0); err != nil || rep.Witnesses["dpo"] != 4 {
		t.Errorf("Verify(require both witnesses) = %+v, %v, want success", rep, err)
	}
	// The log grows and a new checkpoint is published: the witnesses have
	// not cosigned it yet.
	appendN(t, l, 4, 2)
	if _, _, err := l.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err = verify([]string{dpoKey}, 0)
	var verr *audit.VerifyError
	if !errors.As(err, &verr) || !strings.Contains(verr.Reason, "not cosigned by witness dpo") {
		t.Errorf("Verify(require the DPO) after a new publication = %v, want a failure naming the witness", err)
	}
	if _, err := verify([]string{dpoKey}, 2); err != nil {
		t.Errorf("Verify(require the DPO, lag 2) = %v, want success", err)
	}
	if _, err := verify(nil, 0); err != nil {
		t.Errorf("Verify(no witness required) = %v", err)
	}
	_, strangerKey := witness(t, "stranger")
	if _, err := verify([]string{strangerKey}, 100); !errors.As(err, &verr) {
		t.Errorf("Verify(require a witness that never cosigned) = %v, want a *VerifyError", err)
	}
}

func TestCosignWithoutWitnesses(t *testing.T) {
	l := openLog(t, t.TempDir(), opts(newSealer(), true))
	dpo, _ := witness(t, "dpo")
	cp, err := l.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Cosign(context.Background(), cosign(t, cp, dpo)); !errors.Is(err, audit.ErrCosignature) {
		t.Errorf("Cosign with no witness configured = %v, want %v", err, audit.ErrCosignature)
	}
}

// TestProofs checks the proofs with tlog's checkers against the signed
// checkpoints only: not with any code of the log.
func TestProofs(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, t.TempDir(), opts(newSealer(), true))
	var cps [][]byte
	for i := range 9 {
		appendN(t, l, i, 1)
		cps = append(cps, l.Checkpoint())
	}
	trees := make([]tlog.Tree, len(cps))
	for i, cp := range cps {
		trees[i] = treeOf(t, l.VerifierKey(), cp)
	}
	recs, err := l.Entries(ctx, 0, 9)
	if err != nil {
		t.Fatal(err)
	}
	for _, tree := range trees {
		for i := range tree.N {
			p, leaf, err := l.ProveInclusion(ctx, i, tree.N)
			if err != nil {
				t.Fatalf("ProveInclusion(%d, %d) = %v", i, tree.N, err)
			}
			if leaf != tlog.RecordHash(recs[i].RecordData) {
				t.Errorf("ProveInclusion(%d, %d) leaf = %v, want the record hash of the entry's record", i, tree.N, leaf)
			}
			if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, leaf); err != nil {
				t.Errorf("CheckRecord(ProveInclusion(%d, %d)) = %v", i, tree.N, err)
			}
			for k := range p {
				bad := append(tlog.RecordProof(nil), p...)
				bad[k][0] ^= 1
				if tlog.CheckRecord(bad, tree.N, tree.Hash, i, leaf) == nil {
					t.Errorf("CheckRecord(ProveInclusion(%d, %d) with hash %d altered) = nil, want an error", i, tree.N, k)
				}
			}
			if i > 0 && tlog.CheckRecord(p, tree.N, tree.Hash, i-1, leaf) == nil {
				t.Errorf("CheckRecord(ProveInclusion(%d, %d)) at index %d = nil, want an error", i, tree.N, i-1)
			}
		}
		if got, err := l.TreeHash(ctx, tree.N); err != nil || got != tree.Hash {
			t.Errorf("TreeHash(%d) = %v, %v, want %v", tree.N, got, err, tree.Hash)
		}
	}
	for _, old := range trees {
		for _, cur := range trees {
			if old.N > cur.N {
				continue
			}
			p, err := l.ProveConsistency(ctx, old.N, cur.N)
			if err != nil {
				t.Fatalf("ProveConsistency(%d, %d) = %v", old.N, cur.N, err)
			}
			if err := tlog.CheckTree(p, cur.N, cur.Hash, old.N, old.Hash); err != nil {
				t.Errorf("CheckTree(ProveConsistency(%d, %d)) = %v", old.N, cur.N, err)
			}
			for k := range p {
				bad := append(tlog.TreeProof(nil), p...)
				bad[k][31] ^= 1
				if tlog.CheckTree(bad, cur.N, cur.Hash, old.N, old.Hash) == nil {
					t.Errorf("CheckTree(ProveConsistency(%d, %d) with hash %d altered) = nil, want an error", old.N, cur.N, k)
				}
			}
		}
	}
	for _, tt := range []struct{ index, size int64 }{{-1, 3}, {3, 3}, {0, 10}, {0, -1}} {
		if _, _, err := l.ProveInclusion(ctx, tt.index, tt.size); !errors.Is(err, audit.ErrRange) {
			t.Errorf("ProveInclusion(%d, %d) = %v, want %v", tt.index, tt.size, err, audit.ErrRange)
		}
	}
	for _, tt := range []struct{ old, cur int64 }{{0, 3}, {4, 3}, {1, 10}} {
		if _, err := l.ProveConsistency(ctx, tt.old, tt.cur); !errors.Is(err, audit.ErrRange) {
			t.Errorf("ProveConsistency(%d, %d) = %v, want %v", tt.old, tt.cur, err, audit.ErrRange)
		}
	}
}

func TestOpenRequiresSealer(t *testing.T) {
	if l, err := audit.Open(t.TempDir(), audit.Options{}); err == nil {
		l.Close()
		t.Errorf("Open without a Sealer = nil error, want an error")
	}
	_, vkey := witness(t, "dpo")
	o := opts(newSealer(), true)
	o.Witnesses = []string{vkey, "not a key"}
	if l, err := audit.Open(t.TempDir(), o); err == nil {
		l.Close()
		t.Errorf("Open with a malformed witness key = nil error, want an error")
	}
}

// TestExport: an export verifies on its own with the log's key, with or
// without its bodies, and an altered export does not.
func TestExport(t *testing.T) {
	dir, s := newLog(t, 10)
	vkey, err := os.ReadFile(filepath.Join(dir, "verifier.key"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(vkey))
	for _, noBodies := range []bool{false, true} {
		var buf bytes.Buffer
		if err := audit.Export(dir, &buf, audit.ExportOptions{NoBodies: noBodies}); err != nil {
			t.Fatalf("Export(NoBodies %v) = %v", noBodies, err)
		}
		file := filepath.Join(t.TempDir(), "audit.tar")
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.VerifyExport(file, audit.VerifyOptions{Key: key, Sealer: s, Erased: isShredded})
		wantOK := int64(10)
		if noBodies {
			wantOK = 0
		}
		if err != nil || rep.Entries != 10 || rep.BodiesOK != wantOK || rep.BodiesErased != 0 || rep.BodiesOmitted != noBodies ||
			rep.BodiesChecked == noBodies || rep.Published != 2 {
			t.Errorf("VerifyExport(NoBodies %v) = %+v, %v, want 10 entries, %d bodies checked, none erased, bodies omitted %v, 2 published",
				noBodies, rep, err, wantOK, noBodies)
		}
		if _, err := audit.VerifyExport(file, audit.VerifyOptions{}); err == nil {
			t.Errorf("VerifyExport without the log's key = nil error, want an error")
		}

		// Alter one byte of the entries inside the archive.
		b := buf.Bytes()
		at := bytes.Index(b, []byte(`{"commitment":"`)) + 20
		b[at] ^= 1
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = audit.VerifyExport(file, audit.VerifyOptions{Key: key})
		var verr *audit.VerifyError
		if !errors.As(err, &verr) || verr.Index != 0 {
			t.Errorf("VerifyExport(altered entry 0) = %v, want a *VerifyError naming entry 0", err)
		}
	}
}

// TestVerifyTrusted: a log truncated or rolled back consistently — entries,
// stored hashes, checkpoints and published checkpoints cut back to an
// earlier checkpoint, which needs no key — verifies on its own, but not
// against a checkpoint the auditor kept from before; nor does a log
// rewritten with the log's own key.
func TestVerifyTrusted(t *testing.T) {
	const n = 12
	dir, s := newLog(t, n)
	key := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(dir, "verifier.key")))))
	pub := readFrames(t, dir, "published")
	saved := pub[len(pub)-1] // the auditor's copy of the latest published checkpoint, size 12
	early := pub[0]          // size 6

	for _, tc := range []struct {
		trusted []byte
		want    int64
	}{{saved, n}, {early, n / 2}} {
		rep, err := audit.Verify(dir, audit.VerifyOptions{Key: key, Trusted: tc.trusted})
		if err != nil || rep.TrustedSize != tc.want {
			t.Errorf("Verify(trusted size %d) of the untouched log = %+v, %v", tc.want, rep, err)
		}
	}

	// Roll back to the published checkpoint of size 6.
	writeLines(t, dir, readLines(t, dir)[:n/2])
	if err := os.Truncate(filepath.Join(dir, "hashes"), tlog.StoredHashCount(n/2)*tlog.HashSize); err != nil {
		t.Fatal(err)
	}
	writeFrames(t, dir, "checkpoints", readFrames(t, dir, "checkpoints")[:n/2+1])
	writeFrames(t, dir, "published", pub[:1])
	if _, err := audit.Verify(dir, audit.VerifyOptions{Key: key, Sealer: s}); err != nil {
		t.Fatalf("Verify(rolled-back log) without a trusted checkpoint = %v; the test expects the rollback to be consistent", err)
	}
	_, err := audit.Verify(dir, audit.VerifyOptions{Key: key, Trusted: saved})
	var verr *audit.VerifyError
	if !errors.As(err, &verr) || verr.Index != n/2 || !strings.Contains(verr.Reason, "truncated or rolled back") {
		t.Errorf("Verify(rolled-back log, trusted size %d) = %v, want a failure naming entry %d", n, err, n/2)
	}

	// Another log under the same key: as long, signed, but other entries.
	other := t.TempDir()
	for _, f := range []string{"signer.key", "verifier.key"} {
		if err := os.WriteFile(filepath.Join(other, f), must(os.ReadFile(filepath.Join(dir, f))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l := openLog(t, other, opts(newSealer(), true))
	for i := range n {
		if _, err := l.Append(context.Background(), entry(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	_, err = audit.Verify(other, audit.VerifyOptions{Key: key, Trusted: saved})
	if !errors.As(err, &verr) || !strings.Contains(verr.Reason, "not consistent with the trusted checkpoint") {
		t.Errorf("Verify(rewritten log, trusted) = %v, want an inconsistency", err)
	}
	// A trusted checkpoint must be signed by the log's key.
	forged, _ := resign(t, [][]byte{saved})
	if _, err := audit.Verify(dir, audit.VerifyOptions{Key: key, Trusted: forged[0]}); !errors.As(err, &verr) || !strings.Contains(verr.Reason, "trusted checkpoint") {
		t.Errorf("Verify(trusted checkpoint signed by another key) = %v, want a refusal", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestVerifyCosignatureLines: a cosignature line by a witness the log was
// configured with is checked even when that witness is not required; one
// by a key Verify does not know is reported, not silently passed.
func TestVerifyCosignatureLines(t *testing.T) {
	ctx := context.Background()
	dpo, dpoKey := witness(t, "dpo")
	dir, s := t.TempDir(), newSealer()
	o := opts(s, true)
	o.Witnesses = []string{dpoKey}
	l := openLog(t, dir, o)
	appendN(t, l, 0, 3)
	cp, _, err := l.Publish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := l.Cosign(ctx, cosign(t, cp, dpo))
	if err != nil {
		t.Fatal(err)
	}
	// The same cosignature again is not published again.
	again, err := l.Cosign(ctx, cosign(t, cp, dpo))
	if err != nil || !bytes.Equal(again, first) || len(readFrames(t, dir, "published")) != 2 {
		t.Errorf("Cosign(the same cosignature again) = %v, %d published frames, want the same checkpoint and no new frame", err, len(readFrames(t, dir, "published")))
	}
	key := l.VerifierKey()
	l.Close()

	rep, err := audit.Verify(dir, audit.VerifyOptions{Key: key})
	if err != nil || len(rep.Unchecked) != 0 {
		t.Fatalf("Verify = %+v, %v, want success with every signature checked", rep, err)
	}
	// Flip one bit of the DPO's signature, which Verify is not told to require.
	notes := readFrames(t, dir, "published")
	lines := strings.Split(string(notes[1]), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "— dpo ") {
			b := []byte(line)
			b[len(b)-5] ^= 1
			if b[len(b)-5] == '=' || !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", rune(b[len(b)-5])) {
				b[len(b)-5] = 'A'
			}
			lines[i] = string(b)
		}
	}
	notes[1] = []byte(strings.Join(lines, "\n"))
	writeFrames(t, dir, "published", notes)
	_, err = audit.Verify(dir, audit.VerifyOptions{Key: key})
	var verr *audit.VerifyError
	if !errors.As(err, &verr) || verr.File != "published" || !strings.Contains(verr.Reason, "published checkpoint 1") {
		t.Errorf("Verify(a witness's cosignature altered) = %v, want a failure naming published checkpoint 1", err)
	}
	// Without the witnesses file the line cannot be checked: it is reported.
	if err := os.Remove(filepath.Join(dir, "witnesses")); err != nil {
		t.Fatal(err)
	}
	rep, err = audit.Verify(dir, audit.VerifyOptions{Key: key})
	if err != nil || len(rep.Unchecked) != 1 || !strings.Contains(rep.Unchecked[0], "signature by dpo+") {
		t.Errorf("Verify(an unknown key's signature line) = %+v, %v, want it listed as unchecked", rep, err)
	}
	// Requiring a witness that never cosigned says so.
	_, strangerKey := witness(t, "stranger")
	_, err = audit.Verify(dir, audit.VerifyOptions{Key: key, Witnesses: []string{strangerKey}})
	if !errors.As(err, &verr) || !strings.Contains(verr.Reason, "witness stranger never cosigned") {
		t.Errorf("Verify(require a witness that never cosigned) = %v, want a failure saying so", err)
	}
}

// TestCheckpointOrigin: checkpoints name this log, not "go.sum database
// tree", and are numbered.
func TestCheckpointOrigin(t *testing.T) {
	l := openLog(t, t.TempDir(), opts(newSealer(), true))
	appendN(t, l, 0, 2)
	v, err := note.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(l.Checkpoint(), note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("custodia.audit/%08x\n2\n%s\ncommit 2\n", v.KeyHash(), checkpointTree(t, l).Hash)
	if n.Text != want {
		t.Errorf("checkpoint text = %q, want %q", n.Text, want)
	}
	origin, err := audit.Origin(l.VerifierKey())
	if err != nil || origin != fmt.Sprintf("custodia.audit/%08x", v.KeyHash()) {
		t.Errorf("Origin(VerifierKey()) = %q, %v", origin, err)
	}
	tree, seq, err := audit.ParseCheckpoint(n.Text, origin)
	if err != nil || tree != checkpointTree(t, l) || seq != 2 {
		t.Errorf("ParseCheckpoint(%q) = %v, %d, %v", n.Text, tree, seq, err)
	}
	for _, bad := range []string{
		strings.Replace(want, "\n2\n", "\n02\n", 1),
		strings.Replace(want, "commit 2", "commit 02", 1),
		strings.Replace(want, "custodia.audit/", "custodia.audit/0", 1),
		want + "extra\n",
		"go.sum database tree\n2\n" + tree.Hash.String() + "\n",
	} {
		if _, _, err := audit.ParseCheckpoint(bad, origin); err == nil {
			t.Errorf("ParseCheckpoint(%q) = nil error, want an error", bad)
		}
	}
}
