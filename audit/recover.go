package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
	l.origin = origin(l.verifier)
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
	_, tree, seq, err := openCheckpointNote(last.note, l.verifier, note.VerifierList(l.verifier))
	if err != nil {
		return fmt.Errorf("current checkpoint (%s offset %d): %w; run audit verify", checkpointsFile, last.off, err)
	}
	var prev int64 // the size of the checkpoint before: the last batch is [prev, tree.N)
	if len(frames) > 1 {
		fr := frames[len(frames)-2]
		_, t, _, err := openCheckpointNote(fr.note, l.verifier, note.VerifierList(l.verifier))
		if err != nil {
			return fmt.Errorf("checkpoint before the current one (%s offset %d): %w; run audit verify", checkpointsFile, fr.off, err)
		}
		prev = t.N
	}

	offsets := []int64{0}
	var scratch []byte
	count, _, err := scanEntries(l.entries, func(i, off int64, line []byte) error {
		offsets = append(offsets, off+int64(len(line))+1)
		if i >= tree.N {
			return nil // uncommitted: moved aside below
		}
		sl, err := parseLine(line, &scratch)
		switch {
		case err != nil:
			return fmt.Errorf("entry %d: %w; run audit verify", i, err)
		case sl.isErasure():
			l.erasedAt[sl.Erase] = i
		case sl.hasBody:
			l.lastBody[sl.Bucket] = i
		}
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
	if err := l.checkTail(hr, offsets, prev, tree.N); err != nil {
		return err
	}
	l.size, l.offsets, l.checkpoint, l.seq = tree.N, offsets, last.note, seq+1
	return nil
}

// checkTail checks the entries of the last batch, [from, to), before the
// log accepts appends again: each against its stored leaf hash and, with
// the Sealer, each body against its commitment. A body that is gone counts
// only for a month the log records as erased: a month key that went
// missing stops the log here, rather than be replaced by a new key.
func (l *Log) checkTail(hr tlog.HashReader, offsets []int64, from, to int64) error {
	ctx := context.Background()
	for i := from; i < to; i++ {
		line, err := l.readLine(offsets, i)
		if err != nil {
			return err
		}
		sl, err := parseLine(line, nil)
		if err != nil {
			return fmt.Errorf("entry %d: %w; run audit verify", i, err)
		}
		stored, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return fmt.Errorf("%s: %w", hashesFile, err)
		}
		if tlog.RecordHash(appendRecord(nil, sl)) != stored[0] {
			return fmt.Errorf("entry %d does not match its stored hash; run audit verify", i)
		}
		if sl.isErasure() {
			continue
		}
		_, _, st, why := openBody(ctx, l.sealer, l.erased, sl)
		_, erased := l.erasedAt[sl.Bucket]
		switch {
		case st == bodyDamaged:
			return fmt.Errorf("entry %d: %s; run audit verify", i, why)
		case st == bodyGone && !erased:
			return fmt.Errorf("entry %d: %s, and the log records no erasure of month %s (key deleted or body removed); run audit verify", i, why, sl.Bucket)
		}
	}
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
	signed, err := l.sign(tlog.Tree{N: 0, Hash: th}, 0)
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
	l.size, l.offsets, l.checkpoint, l.seq = 0, []int64{0}, signed, 1
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
		sl, err := parseLine(line, nil)
		if err != nil {
			return fmt.Errorf("entry %d: %w; run audit verify", i, err)
		}
		hs, err := tlog.StoredHashes(i, appendRecord(nil, sl), hr)
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

// recoverWrites runs in the writer after a write failure: it opens the
// files again, cuts them back to the last checkpoint that was committed
// (whatever the failed batch left beyond it was never acknowledged), syncs
// them, checks the stored tree and the last entry against that checkpoint,
// and lets appends through again. It fails, leaving the log refusing,
// while the files still cannot be opened or written.
func (l *Log) recoverWrites() {
	l.mu.RLock()
	n, end, cp := l.size, l.offsets[l.size], l.checkpoint
	l.mu.RUnlock()
	err := func() error {
		var files [3]*os.File
		for k, name := range []string{entriesFile, hashesFile, checkpointsFile} {
			f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_RDWR, 0)
			if err != nil {
				for _, f := range files[:k] {
					f.Close()
				}
				return err
			}
			files[k] = f
		}
		l.mu.Lock()
		old := [3]*os.File{l.entries, l.hashes, l.checkpoints}
		l.entries, l.hashes, l.checkpoints = files[0], files[1], files[2]
		l.mu.Unlock()
		for _, f := range old {
			f.Close() // a reader that still holds one fails once
		}
		for _, c := range []struct {
			f    *os.File
			size int64
		}{{l.entries, end}, {l.hashes, tlog.StoredHashCount(n) * tlog.HashSize}, {l.checkpoints, l.cpEnd}} {
			if err := c.f.Truncate(c.size); err != nil {
				return err
			}
		}
		if err := l.sync(l.entries, l.hashes, l.checkpoints); err != nil {
			return err
		}
		_, tree, _, err := openCheckpointNote(cp, l.verifier, note.VerifierList(l.verifier))
		if err != nil {
			return err
		}
		hr := fileHashes{l.hashes}
		th, err := tlog.TreeHash(n, hr)
		if err != nil {
			return err
		}
		if th != tree.Hash || tree.N != n {
			return errors.New("stored tree does not match the current checkpoint")
		}
		if n > 0 {
			line, err := l.readLine(l.offsets[:n+1], n-1)
			if err != nil {
				return err
			}
			sl, err := parseLine(line, nil)
			if err != nil {
				return err
			}
			stored, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, n-1)})
			if err != nil {
				return err
			}
			if tlog.RecordHash(appendRecord(nil, sl)) != stored[0] {
				return fmt.Errorf("entry %d does not match its stored hash", n-1)
			}
		}
		return nil
	}()
	if err != nil {
		l.log.Warn("audit log still cannot be written; appends stay refused", "err", err)
		return
	}
	l.mu.Lock()
	if !l.fatal {
		l.failed = nil
	}
	l.mu.Unlock()
	l.log.Info("audit log recovered from a write failure; appends accepted again", "size", n)
}

// recordWitnesses adds the configured witnesses' verifier keys to the
// witnesses file, which Verify uses to check cosignature lines by
// witnesses it is not told to require.
func (l *Log) recordWitnesses(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	path := filepath.Join(l.dir, witnessesFile)
	b, err := readSmall(path, 64<<10)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", witnessesFile, err)
	}
	have := strings.Fields(string(b))
	add := false
	for _, k := range keys {
		if !slices.Contains(have, k) {
			have, add = append(have, k), true
		}
	}
	if !add {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(have, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if l.noSync {
		return nil
	}
	return syncDir(l.dir)
}
