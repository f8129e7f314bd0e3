package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// EraseMonth erases the content of every entry of month ("2026-03"): it
// appends an erasure line for the month (a leaf of the tree like any
// entry, so it is covered by the checkpoints and proofs that follow) and
// then destroys the month's key with the Shredder. The entries' leaves,
// and every proof, stay valid; their bodies no longer open, and Verify
// counts them as erased because the log itself records the erasure. A
// body that does not open without such a record is a fault.
//
// Only a month before the current one (by Options.Now) can be erased; no
// entry is appended under an erased month afterwards (ErrErased). Erasing
// a month again destroys its key again and returns the index of the first
// erasure line.
func (l *Log) EraseMonth(ctx context.Context, month string) (int64, error) {
	if l.shredder == nil {
		return -1, errors.New("audit: erase: no Shredder configured")
	}
	if !validMonth(month) {
		return -1, fmt.Errorf("%w: month %q is not YYYY-MM", ErrInvalid, month)
	}
	if cur := l.now().UTC().Format(bucketLayout); month >= cur {
		return -1, fmt.Errorf("%w: month %s is not before the current month %s: only past months can be erased", ErrInvalid, month, cur)
	}
	l.eraseMu.Lock()
	defer l.eraseMu.Unlock()
	l.mu.RLock()
	at, done := l.erasedAt[month]
	l.mu.RUnlock()
	if !done {
		sl := storedLine{Erase: month}
		line, err := json.Marshal(sl)
		if err != nil {
			return -1, fmt.Errorf("audit: erase: %w", err)
		}
		at, err = l.send(ctx, &request{line: line, record: appendRecord(nil, sl), erase: month, done: make(chan result, 1)})
		if err != nil {
			return -1, fmt.Errorf("audit: erase %s: %w", month, err)
		}
		l.log.Info("audit month erased in the log; destroying its key", "month", month, "index", at)
	}
	if err := l.shredder.Shred(ctx, sealSubject(month)); err != nil {
		return at, fmt.Errorf("audit: erase %s: the erasure is logged (entry %d) but the key was not destroyed: %w", month, at, err)
	}
	return at, nil
}

// Erased returns the months whose content was erased, with the index of
// the line recording each erasure.
func (l *Log) Erased() map[string]int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]int64, len(l.erasedAt))
	for m, i := range l.erasedAt {
		out[m] = i
	}
	return out
}
