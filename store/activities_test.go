package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"custodia/store"
	"custodia/xapi"
)

// defined returns a statement id whose object is activity with the definition def (JSON).
func defined(t testing.TB, id, activity, def string) *xapi.Statement {
	t.Helper()
	return prepared(t, fmt.Sprintf(`{"id":%q,"actor":{"mbox":"mailto:learner@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":%q,"definition":%s}}`, id, activity, def))
}

// canonical returns the JSON of the canonical copy of id, or "" when none.
func canonical(t testing.TB, db *store.DB, id string) string {
	t.Helper()
	defs, err := db.Activities(ctx, []string{id})
	if err != nil {
		t.Fatalf("Activities(%s) = %v", id, err)
	}
	a, ok := defs[id]
	if !ok {
		return ""
	}
	b, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCanonicalDefinitions(t *testing.T) {
	const act = "http://example.com/meeting"
	t.Run("XAPI-00254_languages_of_two_statements_merge", func(t *testing.T) {
		db, clk := openMem(t)
		put(t, db, defined(t, uuid(1), act, `{"name":{"en-US":"example meeting"},"type":"http://example.com/t1"}`))
		clk.Advance(time.Millisecond)
		put(t, db, defined(t, uuid(2), act, `{"name":{"fr-FR":"réunion"},"type":"http://example.com/t2"}`))
		want := `{"definition":{"name":{"en-US":"example meeting","fr-FR":"réunion"},"type":"http://example.com/t2"},"id":"http://example.com/meeting","objectType":"Activity"}`
		if got := canonical(t, db, act); got != want {
			t.Errorf("canonical(%s) = %s, want %s", act, got, want)
		}
	})
	t.Run("XAPI-00254_one_batch_merges_in_order", func(t *testing.T) {
		db, _ := openMem(t)
		put(t, db,
			defined(t, uuid(1), act, `{"name":{"en-US":"first"}}`),
			defined(t, uuid(2), act, `{"name":{"en-US":"second","de":"zweite"}}`))
		want := `{"definition":{"name":{"de":"zweite","en-US":"second"}},"id":"http://example.com/meeting","objectType":"Activity"}`
		if got := canonical(t, db, act); got != want {
			t.Errorf("canonical(%s) = %s, want %s", act, got, want)
		}
	})
	t.Run("context_and_substatement_activities", func(t *testing.T) {
		db, _ := openMem(t)
		put(t, db, prepared(t, `{"id":"`+uuid(1)+`","actor":{"mbox":"mailto:learner@example.com"},"verb":{"id":"http://example.com/v"},
			"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},
				"object":{"id":"http://example.com/sub","definition":{"name":{"en":"sub"}}}},
			"context":{"contextActivities":{"category":[{"id":"http://example.com/cat","definition":{"type":"http://example.com/t"}}],"parent":[{"id":"http://example.com/bare"}]}}}`))
		for id, want := range map[string]string{
			"http://example.com/sub":  `{"definition":{"name":{"en":"sub"}},"id":"http://example.com/sub","objectType":"Activity"}`,
			"http://example.com/cat":  `{"definition":{"type":"http://example.com/t"},"id":"http://example.com/cat","objectType":"Activity"}`,
			"http://example.com/bare": "",
		} {
			if got := canonical(t, db, id); got != want {
				t.Errorf("canonical(%s) = %q, want %q", id, got, want)
			}
		}
	})
	t.Run("XAPI-00182_rejected_batch_leaves_no_definition", func(t *testing.T) {
		db, _ := openMem(t)
		put(t, db, stmt(t, spec{id: uuid(1)}))
		conflicting := stmt(t, spec{id: uuid(1), verb: "http://example.com/other"})
		err := db.PutStatements(ctx, []*xapi.Statement{defined(t, uuid(2), act, `{"name":{"en":"x"}}`), conflicting}, nil)
		if kindOf(err) != xapi.Conflict {
			t.Fatalf("PutStatements(new, conflicting) = %v, want Conflict", err)
		}
		if got := canonical(t, db, act); got != "" {
			t.Errorf("canonical(%s) after a rejected batch = %s, want none", act, got)
		}
	})
	t.Run("unknown_ids_are_left_out", func(t *testing.T) {
		db, _ := openMem(t)
		put(t, db, defined(t, uuid(1), act, `{"name":{"en":"x"}}`))
		defs, err := db.Activities(ctx, []string{act, "http://example.com/unknown", act})
		if err != nil || len(defs) != 1 {
			t.Errorf("Activities(known, unknown, known) = %v, %v; want the known one only", defs, err)
		}
	})
}

// TestConcurrentDefinitions races writers that define the same Activity in
// different languages: no batch fails and no language is lost.
func TestConcurrentDefinitions(t *testing.T) {
	db, clk := openMem(t)
	const act = "http://example.com/shared"
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				clk.Advance(time.Millisecond)
				s := defined(t, uuid(w*each+i+1), act, fmt.Sprintf(`{"name":{"x-w%d":"writer %d"},"description":{"x-w%d-%d":"d"}}`, w, w, w, i))
				if err := db.PutStatements(ctx, []*xapi.Statement{s}, nil); err != nil {
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
	defs, err := db.Activities(ctx, []string{act})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := defs[act].MarshalJSON()
	for w := range writers {
		for i := range each {
			if want := fmt.Sprintf(`"x-w%d-%d":"d"`, w, i); !strings.Contains(string(b), want) {
				t.Errorf("canonical definition lost %s: %s", want, b)
			}
		}
	}
}

// countingSealer counts the records it opens.
type countingSealer struct {
	*fakeSealer
	opens atomic.Int64
}

func (c *countingSealer) Open(ctx context.Context, subject string, recordID, sealed []byte) ([]byte, error) {
	c.opens.Add(1)
	return c.fakeSealer.Open(ctx, subject, recordID, sealed)
}

// TestRelatedQueriesReadOnlyMatches checks that related_agents and
// related_activities are answered from the indexes written with the
// statements (XAPI-REQUIREMENTS §3.5.3): among 20,000 statements, a query
// opens only the rows that match (a statement is two sealed records: its
// subject header and its body).
func TestRelatedQueriesReadOnlyMatches(t *testing.T) {
	cs := &countingSealer{fakeSealer: newSealer()}
	clk := newClock()
	db, err := store.Open("", cs, store.Options{InMemory: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const total, batch, every = 20000, 500, 1000
	const instructor = "mailto:instructor@example.com"
	const parent = "http://example.com/course/rare"
	for start := 0; start < total; start += batch {
		stmts := make([]*xapi.Statement, 0, batch)
		for n := start; n < start+batch; n++ {
			sp := spec{id: uuid(n + 1), mbox: fmt.Sprintf("mailto:learner%d@example.com", n%97), activity: fmt.Sprintf("http://example.com/a/%d", n%31)}
			if n%every == 0 {
				sp.instructor = instructor
				sp.parent = parent
			}
			stmts = append(stmts, stmt(t, sp))
		}
		clk.Advance(time.Millisecond)
		put(t, db, stmts...)
	}
	want := total / every
	for _, tc := range []struct {
		name string
		q    xapi.Query
	}{
		{"related_agents_instructor", xapi.Query{Agent: &xapi.Agent{Mbox: instructor}, RelatedAgents: true}},
		{"related_activities_parent", xapi.Query{Activity: parent, RelatedActivities: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cs.opens.Load()
			got := queryAll(t, db, tc.q, 100)
			opened := cs.opens.Load() - before
			if len(got) != want {
				t.Errorf("query = %d statements, want %d", len(got), want)
			}
			if opened != int64(2*want) {
				t.Errorf("query opened %d records, want %d (two per matching statement)", opened, 2*want)
			}
		})
	}
	// Without related_*, the same agent and activity match nothing.
	if got := queryAll(t, db, xapi.Query{Agent: &xapi.Agent{Mbox: instructor}}, 100); len(got) != 0 {
		t.Errorf("query(agent=instructor) = %d statements, want 0", len(got))
	}
}

// TestRelatedAgentsContextAgents checks the 2.0 rule that contextAgents and
// contextGroups (members included) count for related_agents, not for agent.
func TestRelatedAgentsContextAgents(t *testing.T) {
	db, _ := openMem(t)
	s, err := xapi.ParseStatement([]byte(`{"id":"`+uuid(1)+`","actor":{"mbox":"mailto:learner@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"},
		"context":{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:coach@example.com"}}],
			"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","member":[{"mbox":"mailto:peer@example.com"}]}}]}}`), xapi.V200)
	if err != nil {
		t.Fatal(err)
	}
	s.Prepare(xapi.Prepare{Authority: authority, Version: xapi.V200})
	put(t, db, s)
	for _, mbox := range []string{"mailto:coach@example.com", "mailto:peer@example.com"} {
		if got := queryAll(t, db, xapi.Query{Agent: &xapi.Agent{Mbox: mbox}, RelatedAgents: true}, 10); len(got) != 1 {
			t.Errorf("query(related_agents, %s) = %v, want the statement", mbox, got)
		}
		if got := queryAll(t, db, xapi.Query{Agent: &xapi.Agent{Mbox: mbox}}, 10); len(got) != 0 {
			t.Errorf("query(agent, %s) = %v, want none", mbox, got)
		}
	}
}
