package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Report summarises a verified log.
type Report struct {
	Entries        int64  // complete entries in the entries file
	TreeHash       string // base64 root hash of the current checkpoint
	CheckpointSize int64  // entries covered by the current checkpoint
	Checkpoints    int    // signed checkpoints checked
	Published      int    // published checkpoints checked (cosigned copies included)
	PublishedSize  int64  // size of the latest published checkpoint, or -1 when none was published
	BodiesChecked  bool   // whether bodies were opened and checked against their commitments (a Sealer was given)
	BodiesOK       int64  // bodies that opened and matched their commitments
	BodiesErased   int64  // bodies removed or whose key was destroyed (expired or erased content)
	// Witnesses holds, for each witness of VerifyOptions.Witnesses (by key
	// name), the largest published checkpoint size it cosigned, or -1.
	Witnesses map[string]int64
}

// VerifyOptions configures Verify. The zero value verifies the tree and
// checkpoints with the verifier key stored beside the log.
type VerifyOptions struct {
	// Key is the log's note verifier key, as printed at start-up. "": the
	// verifier.key stored in the directory (which an attacker who rewrote
	// the log could have replaced too).
	Key string
	// Sealer opens entry bodies to check them against their commitments.
	// nil: bodies are not checked (Report.BodiesChecked is false).
	Sealer Sealer
	// Erased reports whether a Sealer.Open error means the body's key was
	// destroyed (expired or erased) rather than that the body was altered.
	// nil: every Open failure is a fault.
	Erased func(error) bool
	// Witnesses are note verifier keys that must have cosigned the latest
	// published checkpoint (see MaxWitnessLag).
	Witnesses []string
	// MaxWitnessLag lets a witness's latest cosigned checkpoint trail the
	// latest published one by this many entries. 0: the latest published
	// checkpoint itself must be cosigned.
	MaxWitnessLag int64
}

// VerifyError describes the first fault Verify found.
type VerifyError struct {
	Index  int64  // the first bad entry, or -1 when the fault is in a checkpoint or key rather than an entry
	Reason string // what is wrong, and where
}

// Error returns "audit: verify: entry N: reason", or without the entry when
// Index is -1.
func (e *VerifyError) Error() string {
	if e.Index < 0 {
		return "audit: verify: " + e.Reason
	}
	return fmt.Sprintf("audit: verify: entry %d: %s", e.Index, e.Reason)
}

// checkpoint is one parsed, verified checkpoint.
type checkpoint struct {
	off  int64
	tree tlog.Tree
}

// maxHashesInMemory is the largest hashes file Verify reads whole.
const maxHashesInMemory = 1 << 30

// memHashes reads stored hashes from memory.
type memHashes []byte

// ReadHashes implements tlog.HashReader.
func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || (idx+1)*tlog.HashSize > int64(len(m)) {
			return nil, fmt.Errorf("stored hash %d: beyond the end of %s", idx, hashesFile)
		}
		copy(out[i][:], m[idx*tlog.HashSize:])
	}
	return out, nil
}

// Verify checks the log stored in dir offline. It verifies the signature of
// every checkpoint with the log's verifier key, recomputes every entry's
// stored hashes with tlog from its commitment and compares them with the
// hashes file, and compares the tree hash at each checkpoint's size (the
// commit checkpoints and the published ones) with the one it signs. With a
// Sealer it also opens every body and checks it against its commitment;
// bodies that are gone (expired or erased) are counted, not faults. With
// Witnesses it checks their cosignatures on the published checkpoints.
// Content faults are reported as a *VerifyError naming the first bad entry;
// I/O failures as other errors. Entries beyond the current checkpoint are a
// fault too: after a crash, Open moves them aside; Verify is meant for a
// log no writer has open (or an export).
func Verify(dir string, o VerifyOptions) (Report, error) {
	rep := Report{PublishedSize: -1, BodiesChecked: o.Sealer != nil}
	verifierKey := o.Key
	if verifierKey == "" {
		b, err := readSmall(filepath.Join(dir, verifierFile), 4<<10)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		verifierKey = strings.TrimSpace(string(b))
	}
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return rep, &VerifyError{-1, fmt.Sprintf("verifier key: %v", err)}
	}
	var witnesses []note.Verifier
	for _, w := range o.Witnesses {
		wv, err := note.NewVerifier(w)
		if err != nil {
			return rep, &VerifyError{-1, fmt.Sprintf("witness key %q: %v", w, err)}
		}
		witnesses = append(witnesses, wv)
	}
	erased := o.Erased
	if erased == nil {
		erased = func(error) bool { return false }
	}
	ctx := context.Background()

	cps, err := readCheckpoints(dir, v)
	if err != nil {
		return rep, err
	}
	cur := cps[len(cps)-1].tree
	rep.Checkpoints, rep.CheckpointSize, rep.TreeHash = len(cps), cur.N, cur.Hash.String()

	ef, err := os.Open(filepath.Join(dir, entriesFile))
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	defer ef.Close()
	hf, err := os.Open(filepath.Join(dir, hashesFile))
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	defer hf.Close()
	var hr tlog.HashReader = fileHashes{hf}
	if st, err := hf.Stat(); err == nil && st.Size() <= maxHashesInMemory {
		b, err := io.ReadAll(hf)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		hr = memHashes(b[:len(b)/tlog.HashSize*tlog.HashSize])
	}

	next := 0 // the next checkpoint to compare
	prev := int64(0)
	checkTrees := func(size int64) *VerifyError {
		for ; next < len(cps) && cps[next].tree.N <= size; next++ {
			c := cps[next]
			th, err := tlog.TreeHash(c.tree.N, hr)
			if err != nil || th != c.tree.Hash {
				return &VerifyError{prev, fmt.Sprintf(
					"entries [%d, %d) do not match signed checkpoint %d (size %d, offset %d): entries altered and stored hashes rewritten",
					prev, c.tree.N, next, c.tree.N, c.off)}
			}
			prev = c.tree.N
		}
		return nil
	}
	if verr := checkTrees(0); verr != nil {
		return rep, verr
	}

	count, end, err := scanEntries(ef, func(i, _ int64, line []byte) error {
		if i >= cur.N {
			return nil // uncommitted; counted only
		}
		sl, c, err := parseLine(line)
		if err != nil {
			return &VerifyError{i, "entry line is not a commitment record: entry altered"}
		}
		h := tlog.RecordHash(c[:])
		at := tlog.StoredHashIndex(0, i)
		stored, err := hr.ReadHashes([]int64{at})
		if err != nil {
			return &VerifyError{i, fmt.Sprintf("%s ends before the entry's hashes (truncated)", hashesFile)}
		}
		if stored[0] != h {
			return &VerifyError{i, "entry's commitment does not match its stored record hash: entry altered, removed or reordered, or the stored hash altered"}
		}
		// The earlier hashes these read are already checked against the entries.
		hs, err := tlog.StoredHashesForRecordHash(i, h, hr)
		if err != nil {
			return &VerifyError{i, fmt.Sprintf("%s: %v", hashesFile, err)}
		}
		idx := make([]int64, len(hs))
		for k := range idx {
			idx[k] = at + int64(k)
		}
		stored, err = hr.ReadHashes(idx)
		if err != nil {
			return &VerifyError{i, fmt.Sprintf("%s ends before the entry's hashes (truncated)", hashesFile)}
		}
		for k := range hs {
			if stored[k] != hs[k] {
				return &VerifyError{i, fmt.Sprintf("stored hash %d (%s offset %d) does not match the entries: hash file altered",
					at+int64(k), hashesFile, (at+int64(k))*tlog.HashSize)}
			}
		}
		if verr := checkTrees(i + 1); verr != nil {
			return verr
		}
		if o.Sealer != nil {
			_, _, st, why := openBody(ctx, o.Sealer, erased, sl, c)
			switch st {
			case bodyOK:
				rep.BodiesOK++
			case bodyErased:
				rep.BodiesErased++
			case bodyDamaged:
				return &VerifyError{i, why}
			}
		}
		return nil
	})
	rep.Entries = count
	var verr *VerifyError
	if errors.As(err, &verr) {
		return rep, verr
	}
	if err != nil {
		return rep, &VerifyError{count, fmt.Sprintf("%s: %v", entriesFile, err)}
	}
	if count < cur.N {
		return rep, &VerifyError{count, fmt.Sprintf("missing: %s holds %d entries but the signed checkpoint covers %d (log truncated or entries removed)",
			entriesFile, count, cur.N)}
	}
	if count > cur.N {
		return rep, &VerifyError{cur.N, fmt.Sprintf("%d entries beyond the signed checkpoint: never acknowledged (a crash, or a writer still running; Open moves them aside) or checkpoints removed",
			count-cur.N)}
	}
	if st, err := ef.Stat(); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	} else if st.Size() > end {
		return rep, &VerifyError{count, fmt.Sprintf("torn record: %d bytes after the last complete entry (a crash; Open moves them aside)", st.Size()-end)}
	}
	if next < len(cps) {
		// Only reachable with a checkpoint larger than the current one.
		return rep, &VerifyError{-1, fmt.Sprintf("checkpoint %d (size %d) was not reached", next, cps[next].tree.N)}
	}
	if err := verifyPublished(dir, v, witnesses, o.MaxWitnessLag, cur.N, hr, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// verifyPublished checks the published checkpoints against the verified
// tree, and the witnesses' cosignatures on them.
func verifyPublished(dir string, v note.Verifier, witnesses []note.Verifier, lag, size int64, hr tlog.HashReader, rep *Report) error {
	f, err := os.Open(filepath.Join(dir, publishedFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: verify: %w", err)
	}
	var frames []frame
	if err == nil {
		defer f.Close()
		frames, _, err = readFrames(f)
		if err != nil {
			return &VerifyError{-1, fmt.Sprintf("%s: %v", publishedFile, err)}
		}
	}
	cosigned := make([]int64, len(witnesses))
	for k := range cosigned {
		cosigned[k] = -1
	}
	verifiers := note.VerifierList(append([]note.Verifier{v}, witnesses...)...)
	for k, fr := range frames {
		n, err := note.Open(fr.note, verifiers)
		if err == nil && !signedBy(n, v) {
			err = errors.New("no signature by the log's key")
		}
		if err != nil {
			return &VerifyError{-1, fmt.Sprintf("published checkpoint %d (%s offset %d): signature not verified: %v", k, publishedFile, fr.off, err)}
		}
		t, err := tlog.ParseTree([]byte(n.Text))
		if err != nil {
			return &VerifyError{-1, fmt.Sprintf("published checkpoint %d (%s offset %d): %v", k, publishedFile, fr.off, err)}
		}
		if t.N > size {
			return &VerifyError{-1, fmt.Sprintf("published checkpoint %d (%s offset %d): size %d beyond the log's %d: entries removed", k, publishedFile, fr.off, t.N, size)}
		}
		if th, err := tlog.TreeHash(t.N, hr); err != nil || th != t.Hash {
			return &VerifyError{-1, fmt.Sprintf("published checkpoint %d (%s offset %d, size %d) does not match the entries: a checkpoint replaced or entries rewritten", k, publishedFile, fr.off, t.N)}
		}
		rep.Published++
		if t.N >= rep.PublishedSize {
			rep.PublishedSize = t.N
		}
		for w, wv := range witnesses {
			if signedBy(n, wv) && t.N > cosigned[w] {
				cosigned[w] = t.N
			}
		}
	}
	if len(witnesses) == 0 {
		return nil
	}
	rep.Witnesses = map[string]int64{}
	for w, wv := range witnesses {
		rep.Witnesses[wv.Name()] = cosigned[w]
	}
	if rep.PublishedSize < 0 {
		return &VerifyError{-1, "no published checkpoint, so none is cosigned by the required witnesses"}
	}
	for w, wv := range witnesses {
		if cosigned[w] < 0 || cosigned[w] < rep.PublishedSize-lag {
			return &VerifyError{-1, fmt.Sprintf("the latest published checkpoint (size %d) is not cosigned by witness %s (its latest cosignature covers size %d)",
				rep.PublishedSize, wv.Name(), cosigned[w])}
		}
	}
	return nil
}

// readCheckpoints reads and verifies every checkpoint in dir.
func readCheckpoints(dir string, v note.Verifier) ([]checkpoint, error) {
	f, err := os.Open(filepath.Join(dir, checkpointsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &VerifyError{-1, checkpointsFile + " is missing"}
	}
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer f.Close()
	frames, _, err := readFrames(f)
	if err != nil {
		return nil, &VerifyError{-1, fmt.Sprintf("%s: %v", checkpointsFile, err)}
	}
	if len(frames) == 0 {
		return nil, &VerifyError{-1, checkpointsFile + " holds no checkpoint"}
	}
	// Check the signatures on every core; report the first bad one.
	notes := make([]*note.Note, len(frames))
	errs := make([]error, len(frames))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(frames); k += workers {
				notes[k], errs[k] = note.Open(frames[k].note, note.VerifierList(v))
			}
		})
	}
	wg.Wait()
	cps := make([]checkpoint, 0, len(frames))
	for k, fr := range frames {
		n, err := notes[k], errs[k]
		if err != nil {
			return nil, &VerifyError{-1, fmt.Sprintf("checkpoint %d of %d (%s offset %d): signature not verified by %s: %v",
				k, len(frames), checkpointsFile, fr.off, v.Name(), err)}
		}
		t, err := tlog.ParseTree([]byte(n.Text))
		if err != nil {
			return nil, &VerifyError{-1, fmt.Sprintf("checkpoint %d (%s offset %d): %v", k, checkpointsFile, fr.off, err)}
		}
		if k > 0 && t.N < cps[k-1].tree.N {
			return nil, &VerifyError{-1, fmt.Sprintf("checkpoint %d (%s offset %d): size %d is below the previous checkpoint's %d",
				k, checkpointsFile, fr.off, t.N, cps[k-1].tree.N)}
		}
		cps = append(cps, checkpoint{off: fr.off, tree: t})
	}
	return cps, nil
}
