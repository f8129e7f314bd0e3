package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"custodia/audit"

	"golang.org/x/mod/sumdb/tlog"
)

// queryLog returns a log of 20 entries: principals p0..p3 in turn, subjects
// s<i%5>, even entries denied, purpose "training" for i < 10 else "hr".
func queryLog(t *testing.T) (*audit.Log, *testSealer) {
	t.Helper()
	s := newSealer()
	l := openLog(t, t.TempDir(), opts(s, true))
	for i := range 20 {
		e := entry(i)
		e.Principal = fmt.Sprintf("p%d", i%4)
		e.Subjects = []string{fmt.Sprintf("s%d", i%5), "shared"}
		if i%2 == 0 {
			e.Decision = audit.Deny
		}
		if i >= 10 {
			e.Purpose = "hr"
		}
		if i == 7 {
			e.Action = "statements.write"
		}
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return l, s
}

func indexes(recs []audit.Record) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.Index)
	}
	return out
}

func TestQuery(t *testing.T) {
	l, _ := queryLog(t)
	tests := []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"everything", audit.Filter{}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		{"principal", audit.Filter{Principal: "p1"}, []int64{1, 5, 9, 13, 17}},
		{"subject", audit.Filter{Subjects: []string{"s2"}}, []int64{2, 7, 12, 17}},
		{"either subject", audit.Filter{Subjects: []string{"s2", "s3"}}, []int64{2, 3, 7, 8, 12, 13, 17, 18}},
		{"unknown subject", audit.Filter{Subjects: []string{"nobody"}}, nil},
		{"decision", audit.Filter{Decision: audit.Allow, Purpose: "hr"}, []int64{11, 13, 15, 17, 19}},
		{"action", audit.Filter{Action: "statements.write"}, []int64{7}},
		{"time range", audit.Filter{From: t0.Add(3 * time.Second), To: t0.Add(6 * time.Second)}, []int64{3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Pages of 3, following the cursor.
			var got []int64
			for from, pages := int64(0), 0; from >= 0; pages++ {
				recs, next, err := l.Query(context.Background(), tt.f, from, 3)
				if err != nil {
					t.Fatalf("Query(%d) = %v", from, err)
				}
				if len(recs) > 3 || pages > 20 {
					t.Fatalf("Query(%d) = %d records, page %d", from, len(recs), pages)
				}
				for _, r := range recs {
					if !tt.f.From.IsZero() && r.Entry.Time.Before(tt.f.From) {
						t.Errorf("record %d at %v, before %v", r.Index, r.Entry.Time, tt.f.From)
					}
				}
				got = append(got, indexes(recs)...)
				from = next
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Query(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		from  int64
		limit int
	}{{-1, 3}, {21, 3}, {0, 0}} {
		if _, _, err := l.Query(context.Background(), audit.Filter{}, tt.from, tt.limit); err == nil {
			t.Errorf("Query(from %d, limit %d) = nil error, want an error", tt.from, tt.limit)
		}
	}
}

// TestEraseMonth: erasing a month records the erasure in the log and
// destroys the month's key; every proof stays valid, the content is gone,
// and Verify counts the month's bodies as erased because the log says so.
func TestEraseMonth(t *testing.T) {
	ctx := context.Background()
	dir, s := t.TempDir(), newSealer()
	o := opts(s, true)
	o.Shredder = s
	now := t0.AddDate(0, 1, 0) // April 2026
	o.Now = func() time.Time { return now }
	l := openLog(t, dir, o)
	appendN(t, l, 0, 3) // March (t0)
	for i := 3; i < 6; i++ {
		e := entry(i)
		e.Time = now
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	before, err := l.Entries(ctx, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.EraseMonth(ctx, "2026-04"); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("EraseMonth(the current month) = %v, want %v", err, audit.ErrInvalid)
	}
	if _, err := l.EraseMonth(ctx, "2026-3"); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("EraseMonth(2026-3) = %v, want %v", err, audit.ErrInvalid)
	}
	at, err := l.EraseMonth(ctx, "2026-03")
	if err != nil || at != 6 {
		t.Fatalf("EraseMonth(2026-03) = %d, %v, want 6", at, err)
	}
	if again, err := l.EraseMonth(ctx, "2026-03"); err != nil || again != 6 || l.Size() != 7 {
		t.Errorf("EraseMonth(2026-03) again = %d, %v (size %d), want 6 and no new line", again, err, l.Size())
	}
	if got := l.Erased(); !reflect.DeepEqual(got, map[string]int64{"2026-03": 6}) {
		t.Errorf("Erased() = %v, want March at 6", got)
	}
	// Nothing is sealed under March again.
	if _, err := l.Append(ctx, entry(9)); !errors.Is(err, audit.ErrErased) {
		t.Errorf("Append(an entry of March) after the erasure = %v, want %v", err, audit.ErrErased)
	}
	tree := checkpointTree(t, l)
	after, err := l.Entries(ctx, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range after[:6] {
		wantErased := i < 3
		if r.Erased != wantErased || r.Damaged || r.Commitment != before[i].Commitment || (r.Entry.Action != "") == wantErased {
			t.Errorf("Entries()[%d] after March was erased = erased %v, damaged %v, action %q, want erased %v and the same commitment",
				i, r.Erased, r.Damaged, r.Entry.Action, wantErased)
		}
		p, leaf, err := l.ProveInclusion(ctx, int64(i), tree.N)
		if err != nil || leaf != before[i].LeafHash || tlog.CheckRecord(p, tree.N, tree.Hash, int64(i), leaf) != nil {
			t.Errorf("inclusion proof of entry %d after March was erased = %v, want it to check", i, err)
		}
	}
	if e := after[6]; !e.Erasure || e.Month != "2026-03" || string(e.RecordData) != "erase 2026-03\n" || e.LeafHash != tlog.RecordHash(e.RecordData) {
		t.Errorf("Entries()[6] = %+v, want the erasure line of March", e)
	}
	recs, _, err := l.Query(ctx, audit.Filter{Principal: "p001"}, 0, 10)
	if err != nil || len(recs) != 0 {
		t.Errorf("Query(principal of an erased entry) = %v, %v, want nothing", indexes(recs), err)
	}
	recs, _, err = l.Query(ctx, audit.Filter{}, 0, 10)
	if err != nil || len(recs) != 7 || !recs[0].Erased || !recs[6].Erasure {
		t.Errorf("Query(everything) = %v, %v, want all 7, the first erased, the last the erasure", indexes(recs), err)
	}
	l.Close()

	rep, err := audit.Verify(dir, audit.VerifyOptions{Sealer: s, Erased: isShredded})
	want := []audit.ErasedMonth{{Month: "2026-03", Index: 6, Entries: 3}}
	if err != nil || rep.BodiesOK != 3 || rep.BodiesErased != 3 || !reflect.DeepEqual(rep.Erased, want) {
		t.Errorf("Verify after March was erased = %+v, %v, want 3 bodies checked, 3 erased, March listed", rep, err)
	}
	// Without Erased, a body that does not open is damage.
	_, err = audit.Verify(dir, audit.VerifyOptions{Sealer: s})
	var verr *audit.VerifyError
	if !errors.As(err, &verr) || verr.Index != 0 {
		t.Errorf("Verify without Erased = %v, want a *VerifyError naming entry 0", err)
	}
	// The log reopens on the erased month; bodies of an erased month may
	// be dropped from their lines.
	lines := readLines(t, dir)
	for i := range 3 {
		sl := decodeLine(t, lines[i])
		sl.Sealed = nil
		lines[i] = encodeLine(t, sl)
	}
	writeLines(t, dir, lines)
	for _, o := range []audit.VerifyOptions{{Sealer: s, Erased: isShredded}, {}} {
		if rep, err := audit.Verify(dir, o); err != nil || rep.BodiesErased != 3 || len(rep.Erased) != 1 {
			t.Errorf("Verify(sealer %v) with March's bodies dropped = %+v, %v, want 3 erased", o.Sealer != nil, rep, err)
		}
	}
	o.Now = func() time.Time { return now.AddDate(0, 1, 0) }
	l = openLog(t, dir, o)
	if _, err := l.Append(ctx, entry(10)); !errors.Is(err, audit.ErrErased) {
		t.Errorf("Append(an entry of March) after reopening = %v, want %v", err, audit.ErrErased)
	}
	e := entry(11)
	e.Time = now
	if _, err := l.Append(ctx, e); err != nil {
		t.Errorf("Append(an entry of April) after reopening = %v", err)
	}
}

// TestContentRemovedWithoutErasure: content is erased only by a recorded
// erasure. A body removed, a month's key deleted, an entry moved to
// another month: each is a fault that names the entry, with or without
// the keys, and a server does not start on it or seal under a new key.
func TestContentRemovedWithoutErasure(t *testing.T) {
	const n = 8
	tests := []struct {
		name      string
		tamper    func(t *testing.T, dir string, s *testSealer)
		index     int64
		reason    string
		keyless   bool // Verify without the Sealer finds it too
		openFails bool
	}{
		{"body of entry 3 removed", func(t *testing.T, dir string, s *testSealer) {
			lines := readLines(t, dir)
			sl := decodeLine(t, lines[3])
			sl.Sealed = nil
			lines[3] = encodeLine(t, sl)
			writeLines(t, dir, lines)
		}, 3, "records no erasure of month 2026-03", true, false},
		{"body and month of entry 3 removed", func(t *testing.T, dir string, s *testSealer) {
			lines := readLines(t, dir)
			lines[3] = encodeLine(t, storedLine{Commitment: decodeLine(t, lines[3]).Commitment})
			writeLines(t, dir, lines)
		}, 3, "not a commitment or erasure record", true, true},
		{"month of entry 2 changed", func(t *testing.T, dir string, s *testSealer) {
			lines := readLines(t, dir)
			lines[2] = bytes.Replace(lines[2], []byte(`"bucket":"2026-03"`), []byte(`"bucket":"2025-03"`), 1)
			writeLines(t, dir, lines)
		}, 2, "does not match its stored record hash", true, false},
		{"month of the last entry changed", func(t *testing.T, dir string, s *testSealer) {
			lines := readLines(t, dir)
			lines[n-1] = bytes.Replace(lines[n-1], []byte(`"bucket":"2026-03"`), []byte(`"bucket":"2026-02"`), 1)
			writeLines(t, dir, lines)
		}, n - 1, "does not match its stored record hash", true, true},
		{"the month's key deleted", func(t *testing.T, dir string, s *testSealer) {
			s.Shred(context.Background(), "audit:2026-03")
		}, 0, "records no erasure of month 2026-03", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, s := newLog(t, n)
			tt.tamper(t, dir, s)
			for _, o := range []audit.VerifyOptions{{Sealer: s, Erased: isShredded}, {}} {
				rep, err := audit.Verify(dir, o)
				if o.Sealer == nil && !tt.keyless {
					if err != nil {
						t.Errorf("Verify without a Sealer = %v, want success (bodies not checked)", err)
					}
					continue
				}
				var verr *audit.VerifyError
				if !errors.As(err, &verr) || verr.Index != tt.index || !strings.Contains(verr.Reason, tt.reason) {
					t.Errorf("Verify(sealer %v) = %+v, %v, want entry %d and a reason with %q", o.Sealer != nil, rep, err, tt.index, tt.reason)
				}
			}
			l, err := audit.Open(dir, opts(s, true))
			if tt.openFails {
				if err == nil {
					l.Close()
					t.Errorf("Open = nil error, want a refusal")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			defer l.Close()
			// The first append of the month checks that its key still
			// opens the month's entries before sealing under it.
			if _, err := l.Append(context.Background(), entry(n)); tt.name == "the month's key deleted" && !errors.Is(err, audit.ErrUnavailable) {
				t.Errorf("Append after %s = %v, want %v", tt.name, err, audit.ErrUnavailable)
			}
		})
	}
}

func TestBreakGlassRoundTrip(t *testing.T) {
	l := openLog(t, t.TempDir(), opts(newSealer(), true))
	e := entry(1)
	e.BreakGlass, e.Justification = true, "incident 42"
	if _, err := l.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	recs, err := l.Entries(context.Background(), 0, 1)
	if err != nil || !recs[0].Entry.BreakGlass || recs[0].Entry.Justification != "incident 42" {
		t.Errorf("Entries() = %+v, %v, want the break-glass flag and justification", recs, err)
	}
}
