package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestErasedBodies: destroying the key of a month's bodies leaves every
// proof and the verification of the tree intact; the content is gone.
func TestErasedBodies(t *testing.T) {
	ctx := context.Background()
	dir, s := t.TempDir(), newSealer()
	l := openLog(t, dir, opts(s, true))
	appendN(t, l, 0, 3) // March 2026 (t0)
	for i := 3; i < 6; i++ {
		e := entry(i)
		e.Time = t0.AddDate(0, 1, 0) // April
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	cp := l.Checkpoint()
	tree := treeOf(t, l.VerifierKey(), cp)
	before, err := l.Entries(ctx, 0, 6)
	if err != nil {
		t.Fatal(err)
	}

	s.Shred("audit:2026-03") // March expires

	after, err := l.Entries(ctx, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range after {
		wantErased := i < 3
		if r.Erased != wantErased || r.Damaged || r.Commitment != before[i].Commitment || (r.Entry.Action != "") == wantErased {
			t.Errorf("Entries()[%d] after March expired = erased %v, damaged %v, action %q, want erased %v and the same commitment",
				i, r.Erased, r.Damaged, r.Entry.Action, wantErased)
		}
		p, leaf, err := l.ProveInclusion(ctx, int64(i), tree.N)
		if err != nil || leaf != before[i].LeafHash || tlog.CheckRecord(p, tree.N, tree.Hash, int64(i), leaf) != nil {
			t.Errorf("inclusion proof of entry %d after March expired = %v, want it to check", i, err)
		}
	}
	recs, _, err := l.Query(ctx, audit.Filter{Principal: "p001"}, 0, 10)
	if err != nil || len(recs) != 0 {
		t.Errorf("Query(principal of an expired entry) = %v, %v, want nothing", indexes(recs), err)
	}
	recs, _, err = l.Query(ctx, audit.Filter{}, 0, 10)
	if err != nil || len(recs) != 6 || !recs[0].Erased {
		t.Errorf("Query(everything) = %v, %v, want all 6, the first erased", indexes(recs), err)
	}
	l.Close()

	rep, err := audit.Verify(dir, audit.VerifyOptions{Sealer: s, Erased: isShredded})
	if err != nil || rep.BodiesOK != 3 || rep.BodiesErased != 3 {
		t.Errorf("Verify after March expired = %+v, %v, want 3 bodies checked and 3 erased", rep, err)
	}
	// Without Erased, a body that does not open is damage.
	_, err = audit.Verify(dir, audit.VerifyOptions{Sealer: s})
	var verr *audit.VerifyError
	if !errors.As(err, &verr) || verr.Index != 0 {
		t.Errorf("Verify without Erased = %v, want a *VerifyError naming entry 0", err)
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
