package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const publishedFile = "published"

// Errors of Cosign. Callers match them with errors.Is.
var (
	// ErrCosignature reports a cosignature that is not a valid signature by
	// a configured witness.
	ErrCosignature = errors.New("audit: not cosigned by a configured witness")
	// ErrNotPublished reports a cosigned checkpoint whose text is not that of
	// a published checkpoint.
	ErrNotPublished = errors.New("audit: no such published checkpoint")
)

// published is the state of the published-checkpoints file.
type published struct {
	mu     sync.Mutex
	f      *os.File
	end    int64  // end of the file
	latest []byte // the latest published checkpoint: largest size, last written
	size   int64  // its tree size
	any    bool   // whether anything was published
}

// openPublished opens the published-checkpoints file, cuts a torn tail and
// finds the latest checkpoint. Every frame must carry the log's signature.
func (l *Log) openPublished() error {
	f, err := os.OpenFile(filepath.Join(l.dir, publishedFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	l.pub.f = f
	frames, end, err := readFrames(f)
	if err != nil {
		return fmt.Errorf("%s: %w", publishedFile, err)
	}
	if err := l.cut(f, end, "torn published checkpoint"); err != nil {
		return err
	}
	l.pub.end = end
	for _, fr := range frames {
		t, err := l.openCheckpoint(fr.note)
		if err != nil {
			return fmt.Errorf("%s offset %d: %w; run audit verify", publishedFile, fr.off, err)
		}
		if t.N > l.size {
			return fmt.Errorf("%s offset %d: size %d beyond the log's %d; run audit verify", publishedFile, fr.off, t.N, l.size)
		}
		if !l.pub.any || t.N >= l.pub.size {
			l.pub.latest, l.pub.size, l.pub.any = fr.note, t.N, true
		}
	}
	return nil
}

// openCheckpoint checks the log's signature on a checkpoint and parses it.
func (l *Log) openCheckpoint(msg []byte) (tlog.Tree, error) {
	_, t, _, err := openCheckpointNote(msg, l.verifier, note.VerifierList(append([]note.Verifier{l.verifier}, l.witnesses...)...))
	return t, err
}

// Publish publishes the current checkpoint when the log grew since the last
// publication, or when nothing was published yet. It returns the latest
// published checkpoint (a signed note, with the cosignatures it has) and
// whether it was published by this call.
func (l *Log) Publish(ctx context.Context) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	l.pub.mu.Lock()
	defer l.pub.mu.Unlock()
	l.mu.RLock()
	cp, size, closed := l.checkpoint, l.size, l.closed
	l.mu.RUnlock()
	if closed {
		return nil, false, ErrClosed
	}
	if l.pub.any && size <= l.pub.size {
		return bytes.Clone(l.pub.latest), false, nil
	}
	if err := l.appendPublished(cp, size); err != nil {
		return nil, false, err
	}
	return bytes.Clone(cp), true, nil
}

// Published returns the latest published checkpoint, publishing the current
// one when nothing was published yet.
func (l *Log) Published(ctx context.Context) ([]byte, error) {
	l.pub.mu.Lock()
	latest, any := bytes.Clone(l.pub.latest), l.pub.any
	l.pub.mu.Unlock()
	if any {
		return latest, nil
	}
	cp, _, err := l.Publish(ctx)
	return cp, err
}

// appendPublished appends a published checkpoint of the given size; l.pub.mu
// is held.
func (l *Log) appendPublished(msg []byte, size int64) error {
	fb := appendFrame(nil, msg)
	if _, err := l.pub.f.WriteAt(fb, l.pub.end); err != nil {
		return fmt.Errorf("audit: publish: %w", err)
	}
	if err := l.sync(l.pub.f); err != nil {
		return fmt.Errorf("audit: publish: %w", err)
	}
	l.pub.end += int64(len(fb))
	if !l.pub.any || size >= l.pub.size {
		l.pub.latest, l.pub.size, l.pub.any = msg, size, true
	}
	return nil
}

// Cosign records the witness cosignatures of signed: a signed note whose
// text is that of a published checkpoint, carrying signatures by one or
// more of the configured witnesses (Options.Witnesses) over that text.
// Other signatures in it are ignored. The published checkpoint is
// republished with the cosignatures added, and returned; when it already
// carries them all, it is returned as it is. It fails with
// ErrCosignature when no configured witness signed validly, and with
// ErrNotPublished when the text was never published.
func (l *Log) Cosign(ctx context.Context, signed []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(l.witnesses) == 0 {
		return nil, fmt.Errorf("%w: no witnesses are configured", ErrCosignature)
	}
	if len(signed) > maxCheckpointSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrCosignature, maxCheckpointSize)
	}
	n, err := note.Open(signed, note.VerifierList(l.witnesses...))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCosignature, err)
	}
	l.pub.mu.Lock()
	defer l.pub.mu.Unlock()
	frames, _, err := readFrames(l.pub.f)
	if err != nil {
		return nil, fmt.Errorf("audit: cosign: %s: %w", publishedFile, err)
	}
	var prev *note.Note
	var prevMsg []byte
	for i := len(frames) - 1; i >= 0 && prev == nil; i-- {
		m, err := note.Open(frames[i].note, note.VerifierList(append([]note.Verifier{l.verifier}, l.witnesses...)...))
		if err == nil && m.Text == n.Text {
			prev, prevMsg = m, frames[i].note
		}
	}
	if prev == nil {
		return nil, ErrNotPublished
	}
	t, _, err := ParseCheckpoint(prev.Text, l.origin)
	if err != nil {
		return nil, fmt.Errorf("audit: cosign: %w", err)
	}
	merged := &note.Note{Text: prev.Text, Sigs: prev.Sigs}
	added := false
	for _, s := range n.Sigs {
		dup := false
		for _, p := range merged.Sigs {
			dup = dup || (p.Name == s.Name && p.Hash == s.Hash)
		}
		if !dup {
			merged.Sigs, added = append(merged.Sigs, s), true
		}
	}
	if !added {
		// Every cosignature is there already: nothing to publish again.
		return bytes.Clone(prevMsg), nil
	}
	msg, err := note.Sign(merged)
	if err != nil {
		return nil, fmt.Errorf("audit: cosign: %w", err)
	}
	if err := l.appendPublished(msg, t.N); err != nil {
		return nil, err
	}
	return msg, nil
}
