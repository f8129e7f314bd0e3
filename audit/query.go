package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Record is a line of the log as read back: an entry, with its index, its
// month, its commitment and, while its body can be opened, the entry and
// the salt it was committed with; or an erasure line (Erasure set), which
// records that the content of Month was erased.
type Record struct {
	Index      int64
	Month      string    // the month whose key seals the entry's body; for an erasure line, the month erased
	Erasure    bool      // an erasure line: no entry, no commitment
	Commitment tlog.Hash // SHA-256(Salt || Body): zero for an erasure line
	// RecordData is what the leaf hashes: "entry <Month> <base64
	// Commitment>\n", or "erase <Month>\n" for an erasure line.
	RecordData []byte
	LeafHash   tlog.Hash // tlog.RecordHash(RecordData): the RFC 6962 leaf hash
	Entry      Entry     // zero unless the body is intact
	Body       []byte    // the canonical JSON of Entry exactly as committed; nil unless the body is intact
	Salt       []byte    // nil unless the body is intact
	Erased     bool      // the body is gone and the log records the erasure of its month
	Damaged    bool      // the body is gone without a recorded erasure, does not open, or does not match the commitment (audit verify names it)
}

// Filter selects entries. Zero fields match everything; an entry whose
// body is gone, and an erasure line, match only the zero Filter.
type Filter struct {
	From, To  time.Time // entry time in [From, To); zero: unbounded
	Principal string    // pseudonym of the principal
	Subjects  []string  // pseudonyms: the entry touched at least one of them
	Action    string
	Decision  string // Allow or Deny
	Purpose   string // the purpose in force, or one the written statements were recorded for
}

func (f Filter) zero() bool {
	return f.From.IsZero() && f.To.IsZero() && f.Principal == "" && len(f.Subjects) == 0 &&
		f.Action == "" && f.Decision == "" && f.Purpose == ""
}

func (f Filter) match(e Entry) bool {
	switch {
	case !f.From.IsZero() && e.Time.Before(f.From),
		!f.To.IsZero() && !e.Time.Before(f.To),
		f.Principal != "" && e.Principal != f.Principal,
		f.Action != "" && e.Action != f.Action,
		f.Decision != "" && e.Decision != f.Decision,
		f.Purpose != "" && e.Purpose != f.Purpose && !slices.Contains(e.Purposes, f.Purpose):
		return false
	}
	if len(f.Subjects) == 0 {
		return true
	}
	for _, s := range f.Subjects {
		if slices.Contains(e.Subjects, s) {
			return true
		}
	}
	return false
}

// maxScan bounds the entries one Query reads, so that a selective filter
// over a large log answers in bounded time; the caller continues from the
// position it returns.
const maxScan = 50000

// Query returns up to limit records matching f, in index order, starting at
// index from, and the index to continue from: -1 when the log (as of the
// current checkpoint) has no more. It reads at most a bounded number of
// entries per call, so a page may hold fewer than limit records, even none,
// with more to come.
func (l *Log) Query(ctx context.Context, f Filter, from int64, limit int) ([]Record, int64, error) {
	size := l.Size()
	if from < 0 || from > size {
		return nil, -1, fmt.Errorf("%w: position %d is beyond the end of the log (%d entries)", ErrRange, from, size)
	}
	if limit <= 0 {
		return nil, -1, fmt.Errorf("audit: query: limit %d must be positive", limit)
	}
	var out []Record
	const chunk = 1024
	stop := min(size, from+maxScan)
	i := from
	for i < stop && len(out) < limit {
		to := min(stop, i+chunk)
		recs, err := l.Entries(ctx, i, to)
		if err != nil {
			return nil, -1, err
		}
		for _, r := range recs {
			i = r.Index + 1
			gone := r.Erasure || r.Erased || r.Damaged
			if gone && !f.zero() || !gone && !f.match(r.Entry) {
				continue
			}
			out = append(out, r)
			if len(out) == limit {
				break
			}
		}
	}
	if i >= size {
		i = -1
	}
	return out, i, nil
}

// Entries reads the records with indexes in [from, to), opening their
// bodies.
func (l *Log) Entries(ctx context.Context, from, to int64) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	closed, size, ef := l.closed, l.size, l.entries
	var start, stop int64
	if from >= 0 && from <= to && to <= size {
		start, stop = l.offsets[from], l.offsets[to]
	}
	l.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if from < 0 || from > to || to > size {
		return nil, fmt.Errorf("audit: entries [%d, %d): out of range [0, %d)", from, to, size)
	}
	buf := make([]byte, stop-start)
	if _, err := ef.ReadAt(buf, start); err != nil {
		return nil, fmt.Errorf("audit: entries: %w", err)
	}
	out := make([]Record, 0, to-from)
	for i := from; len(buf) > 0; i++ {
		line, rest, _ := bytes.Cut(buf, []byte{'\n'})
		buf = rest
		sl, err := parseLine(line, nil)
		if err != nil {
			return nil, fmt.Errorf("audit: entry %d: %w", i, err)
		}
		rd := appendRecord(nil, sl)
		r := Record{Index: i, Month: sl.Bucket, RecordData: rd, LeafHash: tlog.RecordHash(rd)}
		if sl.isErasure() {
			r.Month, r.Erasure = sl.Erase, true
			out = append(out, r)
			continue
		}
		r.Commitment = sl.commitment()
		salt, body, st, why := openBody(ctx, l.sealer, l.erased, sl)
		switch st {
		case bodyOK:
			if err := json.Unmarshal(body, &r.Entry); err != nil {
				r.Damaged = true
			} else {
				r.Salt, r.Body = salt, body
			}
		case bodyGone:
			l.mu.RLock()
			_, erased := l.erasedAt[sl.Bucket]
			l.mu.RUnlock()
			if erased {
				r.Erased = true
				break
			}
			l.log.Warn("audit entry body gone without a recorded erasure; run audit verify", "index", i, "why", why)
			r.Damaged = true
		case bodyDamaged:
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			l.log.Warn("audit entry body damaged; run audit verify", "index", i, "why", why)
			r.Damaged = true
		}
		out = append(out, r)
	}
	return out, nil
}
