package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"sort"
	"testing"
	"time"

	"custodia/store"
	"custodia/xapi"
)

// recorded returns s recorded for purpose with a retention of days.
func recorded(s *xapi.Statement, purpose string, days int) *xapi.Statement {
	s.SetRecorded(xapi.Recorded{Purpose: purpose, LegalBasis: "consent", RetentionDays: days})
	return s
}

// TestRecordedKeptWithStatement: purpose, legal basis and expiry (stored +
// retention) come back on every read, and a statement without a window
// never expires.
func TestRecordedKeptWithStatement(t *testing.T) {
	db, clk := openMem(t)
	a := recorded(stmt(t, spec{id: uuid(1)}), "skills-development", 730)
	b := stmt(t, spec{id: uuid(2)})
	put(t, db, a, b)
	stored := clk.Now().UTC().Truncate(time.Millisecond)
	want := xapi.Recorded{Purpose: "skills-development", LegalBasis: "consent", Expires: stored.AddDate(0, 0, 730)}
	if got := a.Recorded(); got != want {
		t.Errorf("Recorded() after PutStatements = %+v, want %+v", got, want)
	}
	got, _, err := db.GetStatement(ctx, uuid(1))
	if err != nil || got.Recorded() != want {
		t.Errorf("GetStatement(1).Recorded() = %+v, %v; want %+v", got.Recorded(), err, want)
	}
	page, _, err := db.QueryStatements(ctx, xapi.Query{}, "", 10, nil)
	if err != nil || len(page) != 2 {
		t.Fatalf("QueryStatements = %d, %v; want 2", len(page), err)
	}
	for _, s := range page {
		w := xapi.Recorded{}
		if s.ID() == uuid(1) {
			w = want
		}
		if s.Recorded() != w {
			t.Errorf("QueryStatements: %s Recorded() = %+v, want %+v", s.ID(), s.Recorded(), w)
		}
	}
	n := 0
	err = db.ScanStatements(ctx, func(s *xapi.Statement) (bool, error) {
		n++
		w := xapi.Recorded{}
		if s.ID() == uuid(1) {
			w = want
		}
		if s.Recorded() != w {
			t.Errorf("ScanStatements: %s Recorded() = %+v, want %+v", s.ID(), s.Recorded(), w)
		}
		return true, nil
	})
	if err != nil || n != 2 {
		t.Errorf("ScanStatements = %d statements, %v; want 2", n, err)
	}
}

// TestQueryByPurpose: q.Purpose keeps only the statements recorded for it,
// alone (from the purpose index) or with other filters, and a referrer is
// judged by its own purpose, not its target's.
func TestQueryByPurpose(t *testing.T) {
	db, _ := openMem(t)
	const verb = "http://adlnet.gov/expapi/verbs/attempted"
	var want []string
	for i := 1; i <= 9; i++ {
		p := "compliance-training"
		if i%3 == 0 {
			p = "clickstream-analytics"
			want = append(want, uuid(i))
		}
		put(t, db, recorded(stmt(t, spec{id: uuid(i), verb: verb}), p, 0))
	}
	put(t, db, recorded(stmt(t, spec{id: uuid(10), refTarget: uuid(3)}), "compliance-training", 0))
	put(t, db, stmt(t, spec{id: uuid(11), verb: verb}))
	sort.Sort(sort.Reverse(sort.StringSlice(want)))
	for _, tc := range []struct {
		name string
		q    xapi.Query
		want []string
	}{
		{"purpose alone", xapi.Query{Purpose: "clickstream-analytics"}, want},
		{"purpose and verb", xapi.Query{Purpose: "clickstream-analytics", Verb: verb}, want},
		{"other purpose with verb, referrer included", xapi.Query{Purpose: "compliance-training", Verb: verb}, []string{uuid(10), uuid(8), uuid(7), uuid(5), uuid(4), uuid(2), uuid(1)}},
		{"unknown purpose", xapi.Query{Purpose: "nothing"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := queryAll(t, db, tc.q, 2)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("QueryStatements(%+v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestScanExpiredAndDelete: the scan finds exactly the statements whose
// retention ended, in expiry order; deleting them removes the statement,
// its attachment data and every index entry (a query through any index
// finds nothing and does not fail), and leaves the others alone.
func TestScanExpiredAndDelete(t *testing.T) {
	db, clk := openMem(t)
	data := []byte("certificate")
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	short := recorded(attachmentStatement(t, uuid(1), "mailto:a@example.com", sha, false), "clickstream-analytics", 1)
	if err := db.PutStatements(ctx, []*xapi.Statement{short}, map[string][]byte{sha: data}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	shorter := recorded(stmt(t, spec{id: uuid(2), mbox: "mailto:b@example.com", verb: "http://adlnet.gov/expapi/verbs/attended", activity: "http://example.com/x", registration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7", parent: "http://example.com/p"}), "clickstream-analytics", 1)
	long := recorded(stmt(t, spec{id: uuid(3)}), "compliance-training", 10)
	forever := stmt(t, spec{id: uuid(4)})
	put(t, db, shorter, long, forever)

	scan := func(at time.Time) []string {
		t.Helper()
		var got []string
		err := db.ScanExpired(ctx, at, func(s *xapi.Statement) error {
			if s.Recorded().Expires.After(at) {
				t.Errorf("ScanExpired(%v) passed %s expiring %v", at, s.ID(), s.Recorded().Expires)
			}
			got = append(got, s.ID())
			return nil
		})
		if err != nil {
			t.Fatalf("ScanExpired(%v) = %v", at, err)
		}
		return got
	}
	if got := scan(clk.Now()); len(got) != 0 {
		t.Errorf("ScanExpired(now) = %v, want none", got)
	}
	clk.Advance(48 * time.Hour)
	if got, want := scan(clk.Now()), []string{uuid(1), uuid(2)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ScanExpired(+2 days) = %v, want %v", got, want)
	}
	n, err := db.DeleteStatements(ctx, []string{uuid(1), uuid(2), uuid(99)})
	if err != nil || n != 2 {
		t.Fatalf("DeleteStatements = %d, %v; want 2", n, err)
	}
	for _, id := range []string{uuid(1), uuid(2)} {
		if _, _, err := db.GetStatement(ctx, id); kindOf(err) != xapi.NotFound {
			t.Errorf("GetStatement(%s) after delete = %v, want NotFound", id, err)
		}
	}
	if _, err := db.Attachment(ctx, uuid(1), sha); kindOf(err) != xapi.NotFound {
		t.Errorf("Attachment after delete = %v, want NotFound", err)
	}
	b := xapi.Agent{Mbox: "mailto:b@example.com"}
	for _, q := range []xapi.Query{
		{}, {Agent: &b}, {Agent: &b, RelatedAgents: true}, {Verb: "http://adlnet.gov/expapi/verbs/attended"},
		{Activity: "http://example.com/x"}, {Activity: "http://example.com/p", RelatedActivities: true},
		{Registration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7"}, {Purpose: "clickstream-analytics"},
	} {
		got := queryAll(t, db, q, 10)
		for _, id := range got {
			if id == uuid(1) || id == uuid(2) {
				t.Errorf("QueryStatements(%+v) after delete returned %s", q, id)
			}
		}
	}
	if got := queryAll(t, db, xapi.Query{}, 10); !reflect.DeepEqual(got, []string{uuid(4), uuid(3)}) {
		t.Errorf("QueryStatements after delete = %v, want the two others", got)
	}
	if got := scan(clk.Now()); len(got) != 0 {
		t.Errorf("ScanExpired after delete = %v, want none", got)
	}
	clk.Advance(10 * 24 * time.Hour)
	if got := scan(clk.Now()); !reflect.DeepEqual(got, []string{uuid(3)}) {
		t.Errorf("ScanExpired(+12 days) = %v, want [%s] (never the statement without a window)", got, uuid(3))
	}
	// A deleted id may be stored again.
	put(t, db, stmt(t, spec{id: uuid(1)}))
	if _, _, err := db.GetStatement(ctx, uuid(1)); err != nil {
		t.Errorf("GetStatement after storing a deleted id again = %v", err)
	}
}

// TestRecordedSurvivesReopen: the fact record with its governance fields is
// read back after the database is closed and opened again.
func TestRecordedSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	db, err := store.Open(dir, newSealer(), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	put(t, db, recorded(stmt(t, spec{id: uuid(1)}), "skills-development", 30))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(dir, newSealer(), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, _, err := db.GetStatement(context.Background(), uuid(1))
	want := c.Now().UTC().Truncate(time.Millisecond).AddDate(0, 0, 30)
	if err != nil || got.Recorded().Purpose != "skills-development" || !got.Recorded().Expires.Equal(want) {
		t.Errorf("GetStatement after reopen = %+v, %v; want skills-development expiring %v", got.Recorded(), err, want)
	}
}
