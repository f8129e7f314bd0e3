package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// loadKeys reads the note key pair, generating it for a new log.
func (l *Log) loadKeys(rnd io.Reader) error {
	skey, err := readSmall(filepath.Join(l.dir, signerFile), 4<<10)
	if errors.Is(err, fs.ErrNotExist) {
		if err := l.requireEmpty(); err != nil {
			return err
		}
		s, v, err := note.GenerateKey(rnd, keyName)
		if err != nil {
			return fmt.Errorf("generate signer key: %w", err)
		}
		if err := writeNew(l.dir, signerFile, []byte(s+"\n"), 0o600); err != nil {
			return fmt.Errorf("write signer key: %w", err)
		}
		if err := writeNew(l.dir, verifierFile, []byte(v+"\n"), 0o644); err != nil {
			return fmt.Errorf("write verifier key: %w", err)
		}
		l.log.Info("generated audit signer key", "verifier", v)
		skey = []byte(s)
	} else if err != nil {
		return fmt.Errorf("signer key: %w", err)
	}
	l.signer, err = note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return errors.New("signer key: malformed")
	}
	vkey, err := readSmall(filepath.Join(l.dir, verifierFile), 4<<10)
	if err != nil {
		return fmt.Errorf("verifier key: %w", err)
	}
	l.vkey = strings.TrimSpace(string(vkey))
	l.verifier, err = note.NewVerifier(l.vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %w", err)
	}
	// The pair must match, or every checkpoint written would fail to verify.
	probe, err := note.Sign(&note.Note{Text: "custodia audit key check\n"}, l.signer)
	if err == nil {
		_, err = note.Open(probe, note.VerifierList(l.verifier))
	}
	if err != nil {
		return fmt.Errorf("%s and %s do not match: %w", signerFile, verifierFile, err)
	}
	return nil
}

// requireEmpty refuses to start a new key pair for a log that has content.
func (l *Log) requireEmpty() error {
	for _, f := range []*os.File{l.entries, l.checkpoints} {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if st.Size() > 0 {
			return fmt.Errorf("%s missing from a log that has content", signerFile)
		}
	}
	return nil
}

// recover brings the files to the state of the last complete checkpoint and
// checks the stored tree against it.
func (l *Log) recover() error {
	frames, cpEnd, err := readFrames(l.checkpoints)
	if err != nil {
		return fmt.Errorf("%s: %w", checkpointsFile, err)
	}
	if err := l.cut(l.checkpoints, cpEnd, "torn checkpoint"); err != nil {
		return err
	}
	l.cpEnd = cpEnd

	if len(frames) == 0 {
		return l.initEmpty()
	}
	last := frames[len(frames)-1]
	n, err := note.Open(last.note, note.VerifierList(l.verifier))
	if err != nil {
		return fmt.Errorf("current checkpoint (offset %d): not signed by %s: %w", last.off, l.vkey, err)
	}
	tree, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return fmt.Errorf("current checkpoint (offset %d): %w", last.off, err)
	}

	offsets := []int64{0}
	count, _, err := scanEntries(l.entries, func(i, off int64, line []byte) error {
		offsets = append(offsets, off+int64(len(line))+1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", entriesFile, err)
	}
	if count < tree.N {
		return fmt.Errorf("%s holds %d entries but the signed checkpoint covers %d: entries were removed; run audit verify", entriesFile, count, tree.N)
	}
	if count-tree.N > maxBatch {
		return fmt.Errorf("%d entries beyond the signed checkpoint, more than one batch: checkpoints may have been removed; run audit verify", count-tree.N)
	}
	offsets = offsets[:tree.N+1]
	if err := l.quarantine(offsets[tree.N], count-tree.N); err != nil {
		return err
	}
	if err := l.repairHashes(tree.N, offsets); err != nil {
		return err
	}

	hr := fileHashes{l.hashes}
	th, err := tlog.TreeHash(tree.N, hr)
	if err != nil {
		return fmt.Errorf("%s: %w", hashesFile, err)
	}
	if th != tree.Hash {
		return errors.New("stored tree does not match the signed checkpoint; run audit verify")
	}
	if tree.N > 0 {
		line, err := l.readLine(offsets, tree.N-1)
		if err != nil {
			return err
		}
		stored, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, tree.N-1)})
		if err != nil {
			return fmt.Errorf("%s: %w", hashesFile, err)
		}
		_, c, err := parseLine(line)
		if err != nil {
			return fmt.Errorf("entry %d: %w; run audit verify", tree.N-1, err)
		}
		if tlog.RecordHash(c[:]) != stored[0] {
			return fmt.Errorf("entry %d does not match its stored hash; run audit verify", tree.N-1)
		}
	}
	l.size, l.offsets, l.checkpoint = tree.N, offsets, last.note
	return nil
}

// initEmpty starts a new log with a checkpoint of the empty tree.
func (l *Log) initEmpty() error {
	st, err := l.entries.Stat()
	if err != nil {
		return err
	}
	if st.Size() > 0 {
		return fmt.Errorf("%s has entries but there is no checkpoint; run audit verify", entriesFile)
	}
	if err := l.cut(l.hashes, 0, "stored hashes without entries"); err != nil {
		return err
	}
	th, err := tlog.TreeHash(0, fileHashes{l.hashes})
	if err != nil {
		return err
	}
	signed, err := l.sign(tlog.Tree{N: 0, Hash: th})
	if err != nil {
		return err
	}
	fb := appendFrame(nil, signed)
	if _, err := l.checkpoints.WriteAt(fb, 0); err != nil {
		return err
	}
	if err := l.sync(l.checkpoints, l.entries, l.hashes); err != nil {
		return err
	}
	if !l.noSync {
		if err := syncDir(l.dir); err != nil {
			return err
		}
	}
	l.cpEnd = int64(len(fb))
	l.size, l.offsets, l.checkpoint = 0, []int64{0}, signed
	return nil
}

// repairHashes makes the hashes file hold exactly the stored hashes of n
// entries: it drops extra hashes and computes missing ones from the entries.
func (l *Log) repairHashes(n int64, offsets []int64) error {
	st, err := l.hashes.Stat()
	if err != nil {
		return err
	}
	need := tlog.StoredHashCount(n)
	have := st.Size() / tlog.HashSize
	if have >= need {
		return l.cut(l.hashes, need*tlog.HashSize, "uncommitted stored hashes")
	}
	// The first m entries have all their hashes; rebuild from there.
	m := int64(sort.Search(int(n)+1, func(m int) bool { return tlog.StoredHashCount(int64(m)) > have })) - 1
	if err := l.cut(l.hashes, tlog.StoredHashCount(m)*tlog.HashSize, "torn stored hashes"); err != nil {
		return err
	}
	l.log.Warn("rebuilding audit stored hashes from entries", "from", m, "to", n)
	hr := fileHashes{l.hashes}
	for i := m; i < n; i++ {
		line, err := l.readLine(offsets, i)
		if err != nil {
			return err
		}
		_, c, err := parseLine(line)
		if err != nil {
			return fmt.Errorf("entry %d: %w; run audit verify", i, err)
		}
		hs, err := tlog.StoredHashes(i, c[:], hr)
		if err != nil {
			return fmt.Errorf("rebuild stored hashes: %w", err)
		}
		buf := make([]byte, 0, len(hs)*tlog.HashSize)
		for _, h := range hs {
			buf = append(buf, h[:]...)
		}
		if _, err := l.hashes.WriteAt(buf, tlog.StoredHashIndex(0, i)*tlog.HashSize); err != nil {
			return err
		}
	}
	return l.sync(l.hashes)
}

func (l *Log) readLine(offsets []int64, i int64) ([]byte, error) {
	buf := make([]byte, offsets[i+1]-offsets[i])
	if _, err := l.entries.ReadAt(buf, offsets[i]); err != nil {
		return nil, fmt.Errorf("%s: entry %d: %w", entriesFile, i, err)
	}
	return buf[:len(buf)-1], nil
}

// cut truncates f to size when it is longer, and syncs it.
func (l *Log) cut(f *os.File, size int64, what string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() <= size {
		return nil
	}
	l.log.Warn("cutting audit file tail", "file", filepath.Base(f.Name()), "what", what, "bytes", st.Size()-size)
	if err := f.Truncate(size); err != nil {
		return err
	}
	return l.sync(f)
}

// quarantine moves the entries file's tail from off (entries of an append
// that never succeeded, or a torn record) to cutFile, keeping it for
// inspection without accepting it into the log.
func (l *Log) quarantine(off, entries int64) error {
	st, err := l.entries.Stat()
	if err != nil {
		return err
	}
	if st.Size() <= off {
		return nil
	}
	tail := make([]byte, st.Size()-off)
	if _, err := l.entries.ReadAt(tail, off); err != nil {
		return err
	}
	l.log.Warn("moving audit entries beyond the signed checkpoint aside; their appends never succeeded",
		"entries", entries, "bytes", len(tail), "file", cutFile)
	f, err := os.OpenFile(filepath.Join(l.dir, cutFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if len(tail) > 0 && tail[len(tail)-1] != '\n' {
		tail = append(tail, '\n')
	}
	_, err = f.Write(tail)
	if err == nil && !l.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cutFile, err)
	}
	return l.cut(l.entries, off, "uncommitted entries")
}
