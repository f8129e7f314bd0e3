package audit

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Report summarises a verified log.
type Report struct {
	Entries        int64  // lines of the entries file (entries and erasure lines)
	TreeHash       string // base64 root hash of the current checkpoint
	CheckpointSize int64  // entries covered by the current checkpoint
	Checkpoints    int    // signed checkpoints checked
	Published      int    // published checkpoints checked (cosigned copies included)
	PublishedSize  int64  // size of the latest published checkpoint, or -1 when none was published
	BodiesChecked  bool   // whether bodies were opened and checked against their commitments (a Sealer was given)
	BodiesOmitted  bool   // an export written without bodies: none could be checked
	BodiesOK       int64  // bodies that opened and matched their commitments
	BodiesErased   int64  // bodies gone (removed, or their key destroyed) of months the log records as erased
	// Erased lists the months the log records as erased, with the index
	// of each erasure line and how many entries of the month Verify found
	// without their body because of it.
	Erased []ErasedMonth
	// TrustedSize is the size of VerifyOptions.Trusted that the log was
	// proved consistent with, or -1.
	TrustedSize int64
	// Witnesses holds, for each witness of VerifyOptions.Witnesses (by key
	// name), the largest published checkpoint size it cosigned, or -1.
	Witnesses map[string]int64
	// Unchecked lists signature lines of published checkpoints by keys
	// Verify does not know (not the log's, not a required witness's, not
	// one in the log's witnesses file), which it could not check.
	Unchecked []string
}

// ErasedMonth is a month whose content the log records as erased.
type ErasedMonth struct {
	Month   string
	Index   int64 // the erasure line
	Entries int64 // entries of the month found without their body
}

// VerifyOptions configures Verify. The zero value verifies the tree and
// checkpoints with the verifier key stored beside the log.
type VerifyOptions struct {
	// Key is the log's note verifier key, as printed at start-up. "": the
	// verifier.key stored in the directory (which an attacker who rewrote
	// the log could have replaced too).
	Key string
	// Sealer opens entry bodies to check them against their commitments.
	// nil: bodies are not opened (Report.BodiesChecked is false); a body
	// missing from its line is still a fault unless its month was erased.
	Sealer Sealer
	// Erased reports whether a Sealer.Open error means the body's key does
	// not exist (rather than that the body was altered). Such a body is
	// still a fault unless the log records the erasure of its month.
	// nil: every Open failure is a fault.
	Erased func(error) bool
	// Witnesses are note verifier keys that must have cosigned the latest
	// published checkpoint (see MaxWitnessLag).
	Witnesses []string
	// MaxWitnessLag lets a witness's latest cosigned checkpoint trail the
	// latest published one by this many entries. 0: the latest published
	// checkpoint itself must be cosigned.
	MaxWitnessLag int64
	// Trusted is a checkpoint obtained outside the log (an auditor's or a
	// witness's saved copy), signed by the log's key. The log must extend
	// it: Verify proves the consistency of the current tree with it
	// (tlog.ProveTree, tlog.CheckTree) and fails when the log is shorter
	// (truncated, rolled back) or has other entries.
	Trusted []byte
}

// VerifyError describes the first fault Verify found.
type VerifyError struct {
	Index  int64  // the first bad entry, or -1 when the fault is not in one entry
	File   string // the file at fault when it is not (only) the entries file, or ""
	Offset int64  // the byte offset in File, or -1
	Reason string // what is wrong, and where
}

// Error returns "audit: verify: entry N: reason", "audit: verify: FILE
// offset N: reason", or "audit: verify: reason".
func (e *VerifyError) Error() string {
	switch {
	case e.Index >= 0:
		return fmt.Sprintf("audit: verify: entry %d: %s", e.Index, e.Reason)
	case e.File != "" && e.Offset >= 0:
		return fmt.Sprintf("audit: verify: %s offset %d: %s", e.File, e.Offset, e.Reason)
	case e.File != "":
		return fmt.Sprintf("audit: verify: %s: %s", e.File, e.Reason)
	}
	return "audit: verify: " + e.Reason
}

func entryFault(i int64, reason string, args ...any) *VerifyError {
	return &VerifyError{Index: i, Offset: -1, Reason: fmt.Sprintf(reason, args...)}
}

func fileFault(file string, off int64, reason string, args ...any) *VerifyError {
	return &VerifyError{Index: -1, File: file, Offset: off, Reason: fmt.Sprintf(reason, args...)}
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

// Verify checks the log stored in dir offline. It verifies the signature,
// origin and number of every checkpoint with the log's verifier key,
// recomputes every line's stored hashes with tlog from its record data and
// compares them with the hashes file, and compares the tree hash at each
// checkpoint's size (the commit checkpoints and the published ones) with
// the one it signs. Every file must hold exactly what the log wrote:
// trailing or incomplete data is a fault.
//
// An entry's body may be gone (removed from its line, or its key
// destroyed) only when the log records the erasure of its month (see
// EraseMonth); those are counted and listed, any other is a fault. With a
// Sealer every present body is opened and checked against its commitment.
// With Witnesses their cosignatures on the published checkpoints are
// required; with Trusted the log must extend that checkpoint.
//
// Content faults are reported as a *VerifyError naming the first bad entry
// (or the file and offset); I/O failures as other errors. Entries beyond
// the current checkpoint are a fault too: after a crash, Open moves them
// aside; Verify is meant for a log no writer has open (or an export).
func Verify(dir string, o VerifyOptions) (Report, error) {
	return verify(dir, o, false)
}

// verify is Verify; bodiesOmitted is set for an export written without
// bodies.
func verify(dir string, o VerifyOptions, bodiesOmitted bool) (Report, error) {
	rep := Report{PublishedSize: -1, TrustedSize: -1, BodiesChecked: o.Sealer != nil && !bodiesOmitted, BodiesOmitted: bodiesOmitted}
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
		return rep, &VerifyError{Index: -1, Offset: -1, Reason: fmt.Sprintf("verifier key: %v", err)}
	}
	var witnesses []note.Verifier
	for _, w := range o.Witnesses {
		wv, err := note.NewVerifier(w)
		if err != nil {
			return rep, &VerifyError{Index: -1, Offset: -1, Reason: fmt.Sprintf("witness key %q: %v", w, err)}
		}
		witnesses = append(witnesses, wv)
	}
	var trusted *tlog.Tree
	if o.Trusted != nil {
		_, t, _, err := openCheckpointNote(o.Trusted, v, note.VerifierList(append([]note.Verifier{v}, witnesses...)...))
		if err != nil {
			return rep, &VerifyError{Index: -1, Offset: -1, Reason: fmt.Sprintf("trusted checkpoint: %v", err)}
		}
		trusted = &t
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
	hst, err := hf.Stat()
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	var hr tlog.HashReader = fileHashes{hf}
	if hst.Size() <= maxHashesInMemory {
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
				return &VerifyError{Index: prev, File: checkpointsFile, Offset: c.off, Reason: fmt.Sprintf(
					"entries [%d, %d) do not match signed checkpoint %d (size %d, %s offset %d): the entries were altered and their stored hashes rewritten, or the checkpoint was forged with the log's key",
					prev, c.tree.N, next, c.tree.N, checkpointsFile, c.off)}
			}
			prev = c.tree.N
		}
		return nil
	}
	if verr := checkTrees(0); verr != nil {
		return rep, verr
	}

	// Entries whose body is gone are set aside until the erasure lines are
	// known: an erasure is recorded after the month's entries.
	type gone struct {
		index int64
		month string
		why   string
	}
	var pending []gone
	erasedAt := map[string]int64{}
	var scratch, rec []byte
	count, end, err := scanEntries(ef, func(i, _ int64, line []byte) error {
		if i >= cur.N {
			return nil // uncommitted; counted only
		}
		var sp *[]byte
		if o.Sealer != nil {
			sp = &scratch
		}
		sl, err := parseLine(line, sp)
		if err != nil {
			return entryFault(i, "entry line is not a commitment or erasure record: entry altered")
		}
		rec = appendRecord(rec[:0], sl)
		h := tlog.RecordHash(rec)
		at := tlog.StoredHashIndex(0, i)
		stored, err := hr.ReadHashes([]int64{at})
		if err != nil {
			return entryFault(i, "%s ends before the entry's hashes (truncated)", hashesFile)
		}
		if stored[0] != h {
			return entryFault(i, "entry's record (month and commitment) does not match its stored record hash: entry altered, moved to another month, removed or reordered, or the stored hash altered")
		}
		// The earlier hashes these read are already checked against the entries.
		hs, err := tlog.StoredHashesForRecordHash(i, h, hr)
		if err != nil {
			return entryFault(i, "%s: %v", hashesFile, err)
		}
		idx := make([]int64, len(hs))
		for k := range idx {
			idx[k] = at + int64(k)
		}
		stored, err = hr.ReadHashes(idx)
		if err != nil {
			return entryFault(i, "%s ends before the entry's hashes (truncated)", hashesFile)
		}
		for k := range hs {
			if stored[k] != hs[k] {
				return &VerifyError{Index: i, File: hashesFile, Offset: (at + int64(k)) * tlog.HashSize, Reason: fmt.Sprintf(
					"stored hash %d (%s offset %d) does not match the entries: hash file altered", at+int64(k), hashesFile, (at+int64(k))*tlog.HashSize)}
			}
		}
		if verr := checkTrees(i + 1); verr != nil {
			return verr
		}
		if sl.isErasure() {
			if first, ok := erasedAt[sl.Erase]; ok {
				return entryFault(i, "a second erasure of month %s (the first is entry %d)", sl.Erase, first)
			}
			erasedAt[sl.Erase] = i
			return nil
		}
		if at, ok := erasedAt[sl.Bucket]; ok {
			return entryFault(i, "entry of month %s after entry %d erased that month: sealed under a key made after the erasure", sl.Bucket, at)
		}
		switch {
		case !sl.hasBody && bodiesOmitted:
		case !sl.hasBody:
			pending = append(pending, gone{i, sl.Bucket, "body removed"})
		case o.Sealer != nil && !bodiesOmitted:
			_, _, st, why := openBody(ctx, o.Sealer, erased, sl)
			switch st {
			case bodyOK:
				rep.BodiesOK++
			case bodyGone:
				pending = append(pending, gone{i, sl.Bucket, why})
			case bodyDamaged:
				return entryFault(i, "%s", why)
			}
		}
		return nil
	})
	rep.Entries = count
	// A gone body before the first other fault is the first fault, unless
	// an erasure line before that fault accounts for it.
	firstGone := func(before int64) *VerifyError {
		for _, g := range pending {
			if g.index >= before {
				break
			}
			if _, ok := erasedAt[g.month]; !ok {
				return entryFault(g.index, "%s, but the log records no erasure of month %s: the body was removed or its key deleted", g.why, g.month)
			}
		}
		return nil
	}
	var verr *VerifyError
	if errors.As(err, &verr) {
		if gerr := firstGone(max(verr.Index, 0)); gerr != nil && verr.Index >= 0 {
			return rep, gerr
		}
		return rep, verr
	}
	if err != nil {
		return rep, entryFault(count, "%s: %v", entriesFile, err)
	}
	if count < cur.N {
		if gerr := firstGone(count); gerr != nil {
			return rep, gerr
		}
		return rep, entryFault(count, "missing: %s holds %d entries but the signed checkpoint covers %d (log truncated or entries removed)",
			entriesFile, count, cur.N)
	}
	if gerr := firstGone(cur.N); gerr != nil {
		return rep, gerr
	}
	if count > cur.N {
		return rep, entryFault(cur.N, "%d entries beyond the signed checkpoint: never acknowledged (a crash, or a writer still running; Open moves them aside) or checkpoints removed",
			count-cur.N)
	}
	if st, err := ef.Stat(); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	} else if st.Size() > end {
		return rep, &VerifyError{Index: count, File: entriesFile, Offset: end, Reason: fmt.Sprintf(
			"torn record: %d bytes after the last complete entry (%s offset %d; a crash: Open moves them aside)", st.Size()-end, entriesFile, end)}
	}
	if want := tlog.StoredHashCount(cur.N) * tlog.HashSize; hst.Size() > want {
		return rep, fileFault(hashesFile, want, "%d bytes beyond the %d stored hashes of the checkpoint's %d entries (appended data)",
			hst.Size()-want, want/tlog.HashSize, cur.N)
	}
	if next < len(cps) {
		// Only reachable with a checkpoint larger than the current one.
		return rep, fileFault(checkpointsFile, cps[next].off, "checkpoint %d (size %d) was not reached", next, cps[next].tree.N)
	}
	counts := map[string]int64{}
	for _, g := range pending {
		counts[g.month]++
		rep.BodiesErased++
	}
	for m, at := range erasedAt {
		rep.Erased = append(rep.Erased, ErasedMonth{Month: m, Index: at, Entries: counts[m]})
	}
	sort.Slice(rep.Erased, func(a, b int) bool { return rep.Erased[a].Index < rep.Erased[b].Index })

	if trusted != nil {
		if err := checkTrusted(*trusted, cur, hr); err != nil {
			return rep, err
		}
		rep.TrustedSize = trusted.N
	}
	if err := verifyPublished(dir, v, witnesses, o.MaxWitnessLag, cur.N, hr, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// checkTrusted proves that the verified tree cur extends the trusted tree t.
func checkTrusted(t, cur tlog.Tree, hr tlog.HashReader) error {
	if t.N > cur.N {
		return &VerifyError{Index: cur.N, Offset: -1, Reason: fmt.Sprintf(
			"the log ends at %d entries but the trusted checkpoint covers %d: entries [%d, %d) removed (log truncated or rolled back)", cur.N, t.N, cur.N, t.N)}
	}
	if t.N == 0 {
		return nil
	}
	p, err := tlog.ProveTree(cur.N, t.N, hr)
	if err == nil {
		err = tlog.CheckTree(p, cur.N, cur.Hash, t.N, t.Hash)
	}
	if err != nil {
		return &VerifyError{Index: -1, Offset: -1, Reason: fmt.Sprintf(
			"the log of %d entries is not consistent with the trusted checkpoint of size %d (%v): its first %d entries were rewritten", cur.N, t.N, err, t.N)}
	}
	return nil
}

// readFramesStrict reads a checkpoints or published file whole; anything
// but complete frames to the end is a fault naming the file and offset.
func readFramesStrict(dir, name string) ([]frame, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fileFault(name, -1, "the %s file is missing (the log always has one)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var frames []frame
	var off int64
	for {
		var hdr [frameHeader]byte
		n, err := io.ReadFull(br, hdr[:])
		switch {
		case err == io.EOF:
			return frames, nil
		case err == io.ErrUnexpectedEOF:
			return nil, fileFault(name, off, "%d trailing bytes: an incomplete frame header", n)
		case err != nil:
			return nil, fmt.Errorf("audit: verify: %s: %w", name, err)
		}
		size := int64(binary.BigEndian.Uint32(hdr[:]))
		if size == 0 || size > maxCheckpointSize {
			return nil, fileFault(name, off, "frame of length %d (not 1 to %d)", size, maxCheckpointSize)
		}
		buf := make([]byte, size)
		if n, err := io.ReadFull(br, buf); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return nil, fileFault(name, off, "incomplete frame: %d of %d bytes (file cut, or data appended)", n, size)
			}
			return nil, fmt.Errorf("audit: verify: %s: %w", name, err)
		}
		frames = append(frames, frame{off: off, note: buf})
		off += frameHeader + size
	}
}

// verifyPublished checks the published checkpoints against the verified
// tree, and the witnesses' cosignatures on them.
func verifyPublished(dir string, v note.Verifier, witnesses []note.Verifier, lag, size int64, hr tlog.HashReader, rep *Report) error {
	frames, err := readFramesStrict(dir, publishedFile)
	if err != nil {
		return err
	}
	// Witness keys the log was configured with are checked too when they
	// sign; only the required ones must sign.
	known := append([]note.Verifier{v}, witnesses...)
	if b, err := readSmall(filepath.Join(dir, witnessesFile), 64<<10); err == nil {
		for _, k := range strings.Fields(string(b)) {
			if wv, err := note.NewVerifier(k); err == nil && !isKnown(known, wv) {
				known = append(known, wv)
			}
		}
	}
	cosigned := make([]int64, len(witnesses))
	for k := range cosigned {
		cosigned[k] = -1
	}
	for k, fr := range frames {
		n, t, _, err := openCheckpointNote(fr.note, v, note.VerifierList(known...))
		if err != nil {
			return fileFault(publishedFile, fr.off, "published checkpoint %d: signature or text not verified: %v", k, err)
		}
		if t.N > size {
			return fileFault(publishedFile, fr.off, "published checkpoint %d: size %d beyond the log's %d: entries removed", k, t.N, size)
		}
		if th, err := tlog.TreeHash(t.N, hr); err != nil || th != t.Hash {
			return fileFault(publishedFile, fr.off, "published checkpoint %d (size %d) does not match the entries: a checkpoint replaced or entries rewritten", k, t.N)
		}
		for _, s := range n.UnverifiedSigs {
			rep.Unchecked = append(rep.Unchecked, fmt.Sprintf("published checkpoint %d (%s offset %d): signature by %s+%08x not checked (its key was not given)",
				k, publishedFile, fr.off, s.Name, s.Hash))
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
		return fileFault(publishedFile, -1, "no published checkpoint, so none is cosigned by the required witnesses")
	}
	for w, wv := range witnesses {
		if cosigned[w] < 0 {
			return fileFault(publishedFile, -1, "witness %s never cosigned a published checkpoint (the latest is of size %d)", wv.Name(), rep.PublishedSize)
		}
		if cosigned[w] < rep.PublishedSize-lag {
			return fileFault(publishedFile, -1, "the latest published checkpoint (size %d) is not cosigned by witness %s: its latest cosignature covers size %d, more than %d entries behind",
				rep.PublishedSize, wv.Name(), cosigned[w], lag)
		}
	}
	return nil
}

func isKnown(vs []note.Verifier, v note.Verifier) bool {
	for _, k := range vs {
		if k.Name() == v.Name() && k.KeyHash() == v.KeyHash() {
			return true
		}
	}
	return false
}

// readCheckpoints reads and verifies every checkpoint in dir: signed by v,
// of this log's origin, numbered 0, 1, 2… in order (a frame removed from
// the middle leaves a gap), the first of the empty tree, sizes growing.
func readCheckpoints(dir string, v note.Verifier) ([]checkpoint, error) {
	frames, err := readFramesStrict(dir, checkpointsFile)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 {
		return nil, fileFault(checkpointsFile, 0, "holds no checkpoint")
	}
	// Check the signatures on every core; report the first bad one.
	type opened struct {
		tree tlog.Tree
		seq  int64
		err  error
	}
	res := make([]opened, len(frames))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(frames); k += workers {
				_, t, seq, err := openCheckpointNote(frames[k].note, v, note.VerifierList(v))
				res[k] = opened{t, seq, err}
			}
		})
	}
	wg.Wait()
	cps := make([]checkpoint, 0, len(frames))
	for k, fr := range frames {
		r := res[k]
		switch {
		case r.err != nil:
			return nil, fileFault(checkpointsFile, fr.off, "checkpoint %d of %d: signature or text not verified by %s: %v", k, len(frames), v.Name(), r.err)
		case r.seq != int64(k):
			return nil, fileFault(checkpointsFile, fr.off, "checkpoint %d is numbered %d: checkpoints removed or reordered before it", k, r.seq)
		case k == 0 && r.tree.N != 0:
			return nil, fileFault(checkpointsFile, fr.off, "the first checkpoint has size %d, not 0", r.tree.N)
		case k > 0 && r.tree.N <= cps[k-1].tree.N:
			return nil, fileFault(checkpointsFile, fr.off, "checkpoint %d: size %d is not above the previous checkpoint's %d", k, r.tree.N, cps[k-1].tree.N)
		}
		cps = append(cps, checkpoint{off: fr.off, tree: r.tree})
	}
	return cps, nil
}
