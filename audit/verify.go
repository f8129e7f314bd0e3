package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Report summarises a verified log.
type Report struct {
	Entries        int64  // complete entries in the entries file
	TreeHash       string // base64 root hash of the current checkpoint
	CheckpointSize int64  // entries covered by the current checkpoint
	Checkpoints    int    // signed checkpoints checked
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

// Verify checks the log stored in dir offline. It verifies the signature of
// every checkpoint (with verifierKey, or the verifier.key stored in dir when
// verifierKey is empty), recomputes every entry's stored hashes with tlog and
// compares them with the hashes file, and compares the tree hash at each
// checkpoint's size with the one it signs. Content faults are reported as a
// *VerifyError naming the first bad entry; I/O failures as other errors.
// Entries beyond the current checkpoint are a fault too: after a crash, Open
// moves them aside; Verify is meant for a log no writer has open.
func Verify(dir, verifierKey string) (Report, error) {
	var rep Report
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
	hr := fileHashes{hf}

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
		h := tlog.RecordHash(line)
		at := tlog.StoredHashIndex(0, i)
		stored, err := hr.ReadHashes([]int64{at})
		if err != nil {
			return &VerifyError{i, fmt.Sprintf("%s ends before the entry's hashes (truncated)", hashesFile)}
		}
		if stored[0] != h {
			return &VerifyError{i, "entry does not match its stored record hash: entry altered, removed or reordered, or the stored hash altered"}
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
	return rep, nil
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
	cps := make([]checkpoint, 0, len(frames))
	for k, fr := range frames {
		n, err := note.Open(fr.note, note.VerifierList(v))
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
