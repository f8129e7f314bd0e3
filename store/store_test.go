package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"custodia/store"
	"custodia/xapi"
)

var ctx = context.Background()

func TestPutGet(t *testing.T) {
	db, clk := openMem(t)
	s := stmt(t, spec{id: uuid(1), activity: "http://example.com/a1", extra: "hello"})
	put(t, db, s)
	want := clk.Now().UTC().Truncate(time.Millisecond)
	if got := s.Stored(); !got.Equal(want) {
		t.Errorf("Stored() after PutStatements = %v, want %v", got, want)
	}
	got, voided, err := db.GetStatement(ctx, uuid(1))
	if err != nil {
		t.Fatalf("GetStatement(%s) = %v", uuid(1), err)
	}
	if voided {
		t.Errorf("GetStatement(%s) voided = true, want false", uuid(1))
	}
	gj, _ := got.MarshalJSON()
	sj, _ := s.MarshalJSON()
	if string(gj) != string(sj) {
		t.Errorf("GetStatement(%s) = %s, want %s", uuid(1), gj, sj)
	}
	if !got.Stored().Equal(want) {
		t.Errorf("GetStatement(%s).Stored() = %v, want %v", uuid(1), got.Stored(), want)
	}
}

func TestGetUnknown(t *testing.T) {
	db, _ := openMem(t)
	_, _, err := db.GetStatement(ctx, uuid(404))
	if kindOf(err) != xapi.NotFound {
		t.Errorf("GetStatement(unknown) = %v, want a NotFound error", err)
	}
}

func TestPutEmptyBatch(t *testing.T) {
	db, _ := openMem(t)
	if err := db.PutStatements(ctx, nil, nil); err != nil {
		t.Errorf("PutStatements(nil) = %v, want nil", err)
	}
}

// TestDuplicateEqualIsNoOp covers XAPI-00142: a statement whose id is
// stored changes nothing, not even the canonical Activity definition, though
// definitions are left out of the comparison.
func TestDuplicateEqualIsNoOp(t *testing.T) {
	db, clk := openMem(t)
	const act = "http://example.com/a"
	put(t, db, defined(t, uuid(1), act, `{"name":{"en-US":"first"}}`))
	first, _, _ := db.GetStatement(ctx, uuid(1))
	firstJSON, _ := first.MarshalJSON()
	clk.Advance(time.Hour)
	again := defined(t, uuid(1), act, `{"name":{"en-US":"changed","de":"geändert"}}`)
	if !again.Equal(first) {
		t.Fatal("the duplicate must Equal the stored statement for this test")
	}
	put(t, db, again, stmt(t, spec{id: uuid(2)}))
	t.Run("XAPI-00142_statement_unchanged", func(t *testing.T) {
		got, _, err := db.GetStatement(ctx, uuid(1))
		if err != nil {
			t.Fatalf("GetStatement = %v", err)
		}
		if gotJSON, _ := got.MarshalJSON(); string(gotJSON) != string(firstJSON) {
			t.Errorf("GetStatement after a duplicate put = %s, want unchanged %s", gotJSON, firstJSON)
		}
		if !got.Stored().Equal(first.Stored()) {
			t.Errorf("Stored() after a duplicate put = %v, want unchanged %v", got.Stored(), first.Stored())
		}
	})
	t.Run("XAPI-00142_activity_definition_unchanged", func(t *testing.T) {
		want := `{"definition":{"name":{"en-US":"first"}},"id":"http://example.com/a","objectType":"Activity"}`
		if got := canonical(t, db, act); got != want {
			t.Errorf("canonical(%s) after a duplicate put = %s, want %s", act, got, want)
		}
	})
	t.Run("XAPI-00142_listed_once", func(t *testing.T) {
		if all := queryAll(t, db, xapi.Query{}, 10); !slices.Equal(all, []string{uuid(2), uuid(1)}) {
			t.Errorf("query after duplicate = %v, want [%s %s]", all, uuid(2), uuid(1))
		}
	})
}

func TestDuplicateDifferentConflicts(t *testing.T) {
	tests := []struct {
		name  string
		setup []*xapi.Statement
		batch []*xapi.Statement
	}{
		{
			name:  "XAPI-00142 stored id with different content changes nothing",
			setup: []*xapi.Statement{stmt(t, spec{id: uuid(1), activity: "http://example.com/a"})},
			batch: []*xapi.Statement{
				stmt(t, spec{id: uuid(2)}),
				stmt(t, spec{id: uuid(1), activity: "http://example.com/other"}),
			},
		},
		{
			name: "same batch",
			batch: []*xapi.Statement{
				stmt(t, spec{id: uuid(2)}),
				stmt(t, spec{id: uuid(1), activity: "http://example.com/a"}),
				stmt(t, spec{id: uuid(1), activity: "http://example.com/other"}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openMem(t)
			if len(tt.setup) > 0 {
				put(t, db, tt.setup...)
			}
			err := db.PutStatements(ctx, tt.batch, nil)
			if kindOf(err) != xapi.Conflict || !strings.Contains(xapi.ErrorMessage(err), "statements[") || strings.Contains(xapi.ErrorMessage(err), uuid(1)) {
				t.Fatalf("PutStatements(conflicting batch) = %v, want a Conflict naming the statement by index, not by id", err)
			}
			if _, _, err := db.GetStatement(ctx, uuid(2)); kindOf(err) != xapi.NotFound {
				t.Errorf("GetStatement(%s) after failed batch = %v, want NotFound", uuid(2), err)
			}
			want := len(tt.setup)
			if all := queryAll(t, db, xapi.Query{}, 10); len(all) != want {
				t.Errorf("query after failed batch = %v, want %d statements", all, want)
			}
		})
	}
}

func TestAtomicBatchTooLarge(t *testing.T) {
	db, _ := openMem(t)
	big := strings.Repeat("x", 3000)
	var batch []*xapi.Statement
	for i := range 4000 {
		batch = append(batch, stmt(t, spec{id: uuid(i + 1), activity: fmt.Sprintf("http://example.com/a%d", i), extra: big}))
	}
	err := db.PutStatements(ctx, batch, nil)
	if kindOf(err) != xapi.TooLarge {
		t.Fatalf("PutStatements(4000 large statements) = %v, want TooLarge", err)
	}
	if all := queryAll(t, db, xapi.Query{}, 100); len(all) != 0 {
		t.Errorf("query after a too-large batch = %d statements, want 0", len(all))
	}
	put(t, db, batch[:50]...)
	if all := queryAll(t, db, xapi.Query{}, 100); len(all) != 50 {
		t.Errorf("query after storing 50 = %d statements, want 50", len(all))
	}
}

func TestVoiding(t *testing.T) {
	db, _ := openMem(t)
	target := stmt(t, spec{id: uuid(1), activity: "http://example.com/a"})
	voiding := stmt(t, spec{id: uuid(2), verb: xapi.VerbVoided, refTarget: uuid(1)})
	revoid := stmt(t, spec{id: uuid(3), verb: xapi.VerbVoided, refTarget: uuid(2)})
	early := stmt(t, spec{id: uuid(4), verb: xapi.VerbVoided, refTarget: uuid(5)})
	late := stmt(t, spec{id: uuid(5), activity: "http://example.com/late"})
	put(t, db, target)
	put(t, db, voiding)
	put(t, db, revoid)
	put(t, db, early) // target unknown: accepted (put fails the test otherwise)
	put(t, db, late)

	wantVoided := func(t *testing.T, id string, want bool) {
		t.Helper()
		_, voided, err := db.GetStatement(ctx, id)
		if err != nil || voided != want {
			t.Errorf("GetStatement(%s) voided = %v, %v; want %v, nil", id, voided, err, want)
		}
	}
	t.Run("XAPI-00018_target_of_a_voiding_statement_is_voided", func(t *testing.T) {
		wantVoided(t, uuid(1), true)
		wantVoided(t, uuid(5), true) // voided before it arrived
		all := queryAll(t, db, xapi.Query{}, 10)
		if slices.Contains(all, uuid(1)) || slices.Contains(all, uuid(5)) {
			t.Errorf("query() = %v, want no voided statement in it", all)
		}
	})
	t.Run("XAPI-00016_voiding_statement_cannot_be_voided", func(t *testing.T) {
		wantVoided(t, uuid(2), false)
		wantVoided(t, uuid(3), false)
		all := queryAll(t, db, xapi.Query{}, 10)
		if want := []string{uuid(4), uuid(3), uuid(2)}; !slices.Equal(all, want) {
			t.Errorf("query() = %v, want %v", all, want)
		}
	})
	t.Run("XAPI-00016_voiding_an_unknown_statement_is_accepted", func(t *testing.T) {
		wantVoided(t, uuid(4), false)
	})
	t.Run("XAPI-00162_voiding_statement_matches_through_its_voided_target", func(t *testing.T) {
		got := queryAll(t, db, xapi.Query{Activity: "http://example.com/a"}, 10)
		if want := []string{uuid(3), uuid(2)}; !slices.Equal(got, want) {
			t.Errorf("query(activity of voided target) = %v, want %v", got, want)
		}
	})
}

// corpus is a set of statements covering every filter.
func corpus(t *testing.T, db *store.DB, clk *clock) []time.Time {
	t.Helper()
	reg := "11111111-2222-4333-8444-555555555555"
	specs := []spec{
		{id: uuid(1), mbox: "mailto:ann@example.com", verb: "http://example.com/verbs/a", activity: "http://example.com/act/1"},
		{id: uuid(2), mbox: "mailto:bob@example.com", verb: "http://example.com/verbs/a", activity: "http://example.com/act/2", parent: "http://example.com/act/1"},
		{id: uuid(3), mbox: "mailto:ann@example.com", verb: "http://example.com/verbs/b", activity: "http://example.com/act/2", registration: reg},
		{id: uuid(4), mbox: "mailto:bob@example.com", verb: "http://example.com/verbs/b", objectAgent: "mailto:ann@example.com"},
		{id: uuid(5), mbox: "mailto:cid@example.com", verb: "http://example.com/verbs/a", activity: "http://example.com/act/1", instructor: "mailto:ann@example.com", registration: reg},
	}
	var times []time.Time
	for _, s := range specs {
		put(t, db, stmt(t, s))
		times = append(times, clk.Now())
		clk.Advance(time.Second)
	}
	return times
}

func TestQueryFilters(t *testing.T) {
	db, clk := openMem(t)
	times := corpus(t, db, clk)
	ann := &xapi.Agent{Mbox: "mailto:ann@example.com"}
	tests := []struct {
		name string
		q    xapi.Query
		want []int
	}{
		{"all", xapi.Query{}, []int{5, 4, 3, 2, 1}},
		{"XAPI-00166 ascending", xapi.Query{Ascending: true}, []int{1, 2, 3, 4, 5}},
		{"XAPI-00181 agent", xapi.Query{Agent: ann}, []int{4, 3, 1}},
		{"XAPI-00181 agent group by its IFI", xapi.Query{Agent: &xapi.Agent{ObjectType: "Group", Mbox: "mailto:cid@example.com"}}, []int{5}},
		{"authority is not an agent", xapi.Query{Agent: &xapi.Agent{Account: authority.Account}}, nil},
		{"XAPI-00176 related_agents", xapi.Query{Agent: &xapi.Agent{Account: authority.Account}, RelatedAgents: true}, []int{5, 4, 3, 2, 1}},
		{"related_agents and verb", xapi.Query{Agent: &xapi.Agent{Account: authority.Account}, RelatedAgents: true, Verb: "http://example.com/verbs/b"}, []int{4, 3}},
		{"XAPI-00180 verb", xapi.Query{Verb: "http://example.com/verbs/a"}, []int{5, 2, 1}},
		{"XAPI-00179 activity", xapi.Query{Activity: "http://example.com/act/1"}, []int{5, 1}},
		{"XAPI-00177 related_activities", xapi.Query{Activity: "http://example.com/act/1", RelatedActivities: true}, []int{5, 2, 1}},
		{"XAPI-00178 registration", xapi.Query{Registration: "11111111-2222-4333-8444-555555555555"}, []int{5, 3}},
		{"XAPI-00175 since exclusive", xapi.Query{Since: times[2]}, []int{5, 4}},
		{"XAPI-00174 until inclusive", xapi.Query{Until: times[2]}, []int{3, 2, 1}},
		{"since until ascending", xapi.Query{Since: times[0], Until: times[3], Ascending: true}, []int{2, 3, 4}},
		{"agent and verb", xapi.Query{Agent: ann, Verb: "http://example.com/verbs/b"}, []int{4, 3}},
		{"verb and activity and registration", xapi.Query{Verb: "http://example.com/verbs/a", Activity: "http://example.com/act/1", Registration: "11111111-2222-4333-8444-555555555555"}, []int{5}},
		{"no match", xapi.Query{Verb: "http://example.com/verbs/none"}, nil},
		{"agent since", xapi.Query{Agent: ann, Since: times[0]}, []int{4, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, n := range tt.want {
				want = append(want, uuid(n))
			}
			if got := queryAll(t, db, tt.q, 100); !slices.Equal(got, want) {
				t.Errorf("QueryStatements(%+v) = %v, want %v", tt.q, got, want)
			}
			// The same through pages of one.
			if got := queryAll(t, db, tt.q, 1); !slices.Equal(got, want) {
				t.Errorf("QueryStatements(%+v) by pages of 1 = %v, want %v", tt.q, got, want)
			}
		})
	}
}

func TestQueryLimit(t *testing.T) {
	db, clk := openMem(t)
	corpus(t, db, clk)
	t.Run("XAPI-00173_limit_caps_a_page", func(t *testing.T) {
		got, next, err := db.QueryStatements(ctx, xapi.Query{}, "", 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{uuid(5), uuid(4)}; !slices.Equal(ids(got), want) || next == "" {
			t.Errorf("QueryStatements(limit 2) = %v, %q; want %v and a token", ids(got), next, want)
		}
		if len(next) > 16 {
			t.Errorf("token %q is %d characters, want a short one", next, len(next))
		}
	})
	got, next, err := db.QueryStatements(ctx, xapi.Query{}, "", 5, nil)
	if err != nil || len(got) != 5 || next != "" {
		t.Errorf("QueryStatements(limit = all 5) = %d, %q, %v; want 5 and no token", len(got), next, err)
	}
}

func TestStatementRefRule(t *testing.T) {
	target := spec{id: uuid(1), mbox: "mailto:ann@example.com", verb: "http://example.com/verbs/a", activity: "http://example.com/act/1"}
	ref := spec{id: uuid(2), mbox: "mailto:bob@example.com", verb: "http://example.com/verbs/commented", refTarget: uuid(1)}
	refref := spec{id: uuid(3), mbox: "mailto:cid@example.com", verb: "http://example.com/verbs/liked", refTarget: uuid(2)}
	orders := map[string][][]spec{
		"target first":         {{target}, {ref}, {refref}},
		"referrers first":      {{refref}, {ref}, {target}},
		"one batch, reversed":  {{refref, ref, target}},
		"middle last":          {{target}, {refref}, {ref}},
		"one batch, in order":  {{target, ref, refref}},
		"referrer before both": {{ref}, {refref, target}},
	}
	ann := &xapi.Agent{Mbox: "mailto:ann@example.com"}
	tests := []struct {
		name string
		q    xapi.Query
		want []string
	}{
		{"activity", xapi.Query{Activity: "http://example.com/act/1", Ascending: true}, []string{uuid(1), uuid(2), uuid(3)}},
		{"agent", xapi.Query{Agent: ann, Ascending: true}, []string{uuid(1), uuid(2), uuid(3)}},
		{"verb of middle", xapi.Query{Verb: "http://example.com/verbs/commented", Ascending: true}, []string{uuid(2), uuid(3)}},
		{"own verb", xapi.Query{Verb: "http://example.com/verbs/liked"}, []string{uuid(3)}},
		// Each statement of the chain must satisfy every filter by itself.
		{"mixed levels", xapi.Query{Verb: "http://example.com/verbs/liked", Agent: ann}, nil},
		{"agent of middle, verb of target", xapi.Query{Verb: "http://example.com/verbs/a", Agent: &xapi.Agent{Mbox: "mailto:bob@example.com"}}, nil},
	}
	for name, batches := range orders {
		t.Run(name, func(t *testing.T) {
			db, clk := openMem(t)
			for _, b := range batches {
				var stmts []*xapi.Statement
				for _, s := range b {
					stmts = append(stmts, stmt(t, s))
				}
				put(t, db, stmts...)
				clk.Advance(time.Second)
			}
			for _, tt := range tests {
				got := queryAll(t, db, tt.q, 10)
				if !slices.ContainsFunc(tt.want, func(string) bool { return true }) && len(got) == 0 {
					continue
				}
				// Order by stored depends on arrival; compare as sets.
				slices.Sort(got)
				want := slices.Clone(tt.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: QueryStatements(%+v) = %v, want %v", tt.name, tt.q, got, want)
				}
			}
		})
	}
}

func TestStatementRefCycle(t *testing.T) {
	db, _ := openMem(t)
	a := spec{id: uuid(1), verb: "http://example.com/verbs/a", refTarget: uuid(2)}
	b := spec{id: uuid(2), verb: "http://example.com/verbs/b", refTarget: uuid(1)}
	put(t, db, stmt(t, a))
	put(t, db, stmt(t, b))
	for _, v := range []string{"http://example.com/verbs/a", "http://example.com/verbs/b"} {
		got := queryAll(t, db, xapi.Query{Verb: v, Ascending: true}, 10)
		if want := []string{uuid(1), uuid(2)}; !slices.Equal(got, want) {
			t.Errorf("QueryStatements(verb %s) over a reference cycle = %v, want %v", v, got, want)
		}
	}
}

func TestPagingStable(t *testing.T) {
	db, clk := openMem(t)
	for i := 1; i <= 23; i++ {
		put(t, db, stmt(t, spec{id: uuid(i), verb: "http://example.com/verbs/a"}))
		if i%5 == 0 {
			clk.Advance(time.Millisecond) // several statements share a stored time
		}
	}
	for _, asc := range []bool{false, true} {
		for _, limit := range []int{1, 2, 5, 7, 23, 24} {
			got := queryAll(t, db, xapi.Query{Verb: "http://example.com/verbs/a", Ascending: asc}, limit)
			var want []string
			for i := 1; i <= 23; i++ {
				want = append(want, uuid(i))
			}
			if !asc {
				slices.Reverse(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("paging(ascending %v, limit %d) = %v, want %v", asc, limit, got, want)
			}
		}
	}

	// New statements between pages do not shift a descending listing.
	var seen []string
	after := ""
	for n := 100; ; n++ {
		page, next, err := db.QueryStatements(ctx, xapi.Query{}, after, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ids(page)...)
		if next == "" {
			break
		}
		after = next
		put(t, db, stmt(t, spec{id: uuid(n)}))
	}
	var want []string
	for i := 23; i >= 1; i-- {
		want = append(want, uuid(i))
	}
	if !slices.Equal(seen, want) {
		t.Errorf("descending pages with inserts between = %v, want %v", seen, want)
	}
}

func TestKeepFillsPages(t *testing.T) {
	db, _ := openMem(t)
	for i := 1; i <= 20; i++ {
		put(t, db, stmt(t, spec{id: uuid(i)}))
	}
	even := func(s *xapi.Statement) (bool, error) {
		var n int
		fmt.Sscanf(s.ID()[len(s.ID())-2:], "%d", &n)
		return n%2 == 0, nil
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		p, next, err := db.QueryStatements(ctx, xapi.Query{Ascending: true}, after, 3, even)
		if err != nil {
			t.Fatal(err)
		}
		if next != "" && len(p) != 3 {
			t.Fatalf("page %d = %v with a token, want 3 statements", page, ids(p))
		}
		if len(p) == 0 && page > 0 {
			t.Fatalf("page %d is empty after a token", page)
		}
		got = append(got, ids(p)...)
		if next == "" {
			break
		}
		after = next
	}
	var want []string
	for i := 2; i <= 20; i += 2 {
		want = append(want, uuid(i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages with keep(even) = %v, want %v", got, want)
	}

	boom := errors.New("boom")
	_, _, err := db.QueryStatements(ctx, xapi.Query{}, "", 3, func(*xapi.Statement) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Errorf("QueryStatements(keep fails) = %v, want %v", err, boom)
	}
}

func TestQueryInvalid(t *testing.T) {
	db, _ := openMem(t)
	put(t, db, stmt(t, spec{id: uuid(1)}), stmt(t, spec{id: uuid(2)}))
	_, desc, err := db.QueryStatements(ctx, xapi.Query{}, "", 1, nil)
	if err != nil || desc == "" {
		t.Fatalf("QueryStatements(limit 1) = %q, %v", desc, err)
	}
	tests := []struct {
		name  string
		q     xapi.Query
		after string
		limit int
	}{
		{"garbage token", xapi.Query{}, "not a token!", 10},
		{"base64 garbage", xapi.Query{}, "AAAA", 10},
		{"long token", xapi.Query{}, strings.Repeat("A", 40), 10},
		{"token of other direction", xapi.Query{Ascending: true}, desc, 10},
		{"zero limit", xapi.Query{}, "", 0},
		{"statementId", xapi.Query{StatementID: uuid(1)}, "", 10},
		{"anonymous group", xapi.Query{Agent: &xapi.Agent{ObjectType: "Group"}}, "", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := db.QueryStatements(ctx, tt.q, tt.after, tt.limit, nil)
			if kindOf(err) != xapi.Invalid {
				t.Errorf("QueryStatements(%q, %d) = %v, want an Invalid error", tt.after, tt.limit, err)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	db, _ := openMem(t)
	if _, err := db.GetRecord(ctx, "credential", "k1"); kindOf(err) != xapi.NotFound {
		t.Errorf("GetRecord(absent) = %v, want NotFound", err)
	}
	if err := db.DeleteRecord(ctx, "credential", "k1"); kindOf(err) != xapi.NotFound {
		t.Errorf("DeleteRecord(absent) = %v, want NotFound", err)
	}
	for k, v := range map[string]string{"k1": "one", "k2": "two"} {
		if err := db.PutRecord(ctx, "credential", k, []byte(v)); err != nil {
			t.Fatalf("PutRecord(%s) = %v", k, err)
		}
	}
	if err := db.PutRecord(ctx, "consent", "k1", []byte("other kind")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRecord(ctx, "credential", "k2", []byte("two again")); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetRecord(ctx, "credential", "k2"); err != nil || string(got) != "two again" {
		t.Errorf("GetRecord(k2) = %q, %v; want %q", got, err, "two again")
	}
	list, err := db.ListRecords(ctx, "credential")
	if err != nil || len(list) != 2 || string(list["k1"]) != "one" || string(list["k2"]) != "two again" {
		t.Errorf("ListRecords(credential) = %q, %v; want k1=one, k2=two again", list, err)
	}
	if err := db.DeleteRecord(ctx, "credential", "k1"); err != nil {
		t.Fatalf("DeleteRecord(k1) = %v", err)
	}
	if _, err := db.GetRecord(ctx, "credential", "k1"); kindOf(err) != xapi.NotFound {
		t.Errorf("GetRecord(deleted) = %v, want NotFound", err)
	}
	if got, err := db.GetRecord(ctx, "consent", "k1"); err != nil || string(got) != "other kind" {
		t.Errorf("GetRecord(consent, k1) = %q, %v; want %q", got, err, "other kind")
	}
	if err := db.PutRecord(ctx, "bad/kind", "k", nil); kindOf(err) != xapi.Invalid {
		t.Errorf("PutRecord(bad kind) = %v, want Invalid", err)
	}
}

func TestConsistentThrough(t *testing.T) {
	db, clk := openMem(t)
	clk.Advance(1500 * time.Microsecond)
	want := clk.Now().Truncate(time.Millisecond)
	if got := db.ConsistentThrough(); !got.Equal(want) {
		t.Errorf("ConsistentThrough() idle = %v, want %v", got, want)
	}
	put(t, db, stmt(t, spec{id: uuid(1)}))
	clk.Advance(-time.Minute) // the clock steps back
	if got := db.ConsistentThrough(); got.Before(want) {
		t.Errorf("ConsistentThrough() after the clock stepped back = %v, want not before %v", got, want)
	}
	s := stmt(t, spec{id: uuid(2)})
	put(t, db, s)
	if s.Stored().Before(want) {
		t.Errorf("Stored() after the clock stepped back = %v, want not before %v", s.Stored(), want)
	}
}

func TestConcurrentPuts(t *testing.T) {
	t.Run("in memory", func(t *testing.T) {
		db, clk := openMem(t)
		testConcurrentPuts(t, db, clk)
	})
	t.Run("on disk, synced", func(t *testing.T) {
		clk := newClock()
		db, err := store.Open(t.TempDir(), newSealer(), store.Options{SyncWrites: true, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testConcurrentPuts(t, db, clk)
	})
}

func testConcurrentPuts(t *testing.T, db *store.DB, clk *clock) {
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i + 1
				clk.Advance(time.Millisecond)
				// Every writer also races on one shared id and on references.
				batch := []*xapi.Statement{
					stmt(t, spec{id: uuid(n), verb: "http://example.com/verbs/a", refTarget: uuid(n + 1000)}),
					stmt(t, spec{id: uuid(n + 1000), activity: "http://example.com/shared"}),
				}
				if err := db.PutStatements(ctx, batch, nil); err != nil {
					errs <- err
				}
				if err := db.PutStatements(ctx, []*xapi.Statement{stmt(t, spec{id: uuid(9999), activity: "http://example.com/once"})}, nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent PutStatements = %v", err)
	}
	all, _, err := db.QueryStatements(ctx, xapi.Query{Ascending: true}, "", 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := writers*each*2 + 1; len(all) != want {
		t.Errorf("stored %d statements, want %d", len(all), want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Stored().Before(all[i-1].Stored()) {
			t.Fatalf("stored order breaks at %d: %v after %v", i, all[i].Stored(), all[i-1].Stored())
		}
	}
	// Every referrer matches through its target, whichever committed first.
	if got := queryAll(t, db, xapi.Query{Activity: "http://example.com/shared"}, 1000); len(got) != writers*each*2 {
		t.Errorf("query(activity shared) = %d statements, want %d", len(got), writers*each*2)
	}
}

// TestConcurrentReferenceCycles races writers on the same ids, whose
// statements refer to each other in a cycle, so that planning has to wait
// for batches it cannot see yet.
func TestConcurrentReferenceCycles(t *testing.T) {
	clk := newClock()
	db, err := store.Open(t.TempDir(), newSealer(), store.Options{SyncWrites: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const rounds, writers, ring = 30, 16, 4
	verb := func(n int) string { return fmt.Sprintf("http://example.com/verbs/v%d", n) }
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				n, next := round*100+w%ring, round*100+(w+1)%ring
				s := stmt(t, spec{id: uuid(n), verb: verb(n), refTarget: uuid(next)})
				<-start
				if err := db.PutStatements(ctx, []*xapi.Statement{s}, nil); err != nil {
					t.Errorf("PutStatements(%s) = %v", uuid(n), err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	if got := queryAll(t, db, xapi.Query{}, 1000); len(got) != rounds*ring {
		t.Errorf("stored %d statements, want %d", len(got), rounds*ring)
	}
	for round := range rounds {
		for i := range ring {
			n := round*100 + i
			if got := queryAll(t, db, xapi.Query{Verb: verb(n)}, 10); len(got) != ring {
				t.Errorf("QueryStatements(verb of %s) = %v, want the %d statements of its cycle", uuid(n), got, ring)
			}
		}
	}
}
