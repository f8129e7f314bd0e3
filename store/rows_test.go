package store_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"custodia/xapi"
)

// TestQueryRows: q.Rows keeps the statements whose recorded facts satisfy
// one of its conditions — recorded purpose, legal basis, expiry and the
// statement's own agents (not those of a StatementRef target) — alone or
// with xAPI filters, in both orders and across pages, and no statement that
// fails them is opened (keep never sees it).
func TestQueryRows(t *testing.T) {
	db, clk := openMem(t)
	const alice, bob, carol, dave = "mailto:alice@example.com", "mailto:bob@example.com", "mailto:carol@example.com", "mailto:dave@example.com"
	rec := func(s *xapi.Statement, purpose, basis string, days int) *xapi.Statement {
		s.SetRecorded(xapi.Recorded{Purpose: purpose, LegalBasis: basis, RetentionDays: days})
		return s
	}
	put(t, db, rec(stmt(t, spec{id: uuid(1), mbox: alice}), "skills", "consent", 1))
	put(t, db, rec(stmt(t, spec{id: uuid(2), mbox: bob}), "training", "legal_obligation", 0))
	put(t, db, rec(stmt(t, spec{id: uuid(3), mbox: alice}), "training", "legal_obligation", 10))
	put(t, db, stmt(t, spec{id: uuid(4), mbox: carol, objectAgent: alice}))
	put(t, db, rec(stmt(t, spec{id: uuid(5), mbox: bob, refTarget: uuid(1)}), "skills", "consent", 0))
	put(t, db, rec(stmt(t, spec{id: uuid(6), mbox: dave}), "skills", "consent", 0))
	clk.Advance(48 * time.Hour) // 1 has expired, 3 has not
	now := clk.Now()
	ifi := func(mbox string) string { return xapi.Agent{Mbox: mbox}.IFI() }
	one := func(c xapi.RowCondition) *xapi.RowFilter { return &xapi.RowFilter{Any: []xapi.RowCondition{c}} }

	for _, tc := range []struct {
		name string
		q    xapi.Query
		want []string // newest first
	}{
		{"no row filter", xapi.Query{}, []string{uuid(6), uuid(5), uuid(4), uuid(3), uuid(2), uuid(1)}},
		{"no condition passes nothing", xapi.Query{Rows: &xapi.RowFilter{}}, nil},
		{"purpose", xapi.Query{Rows: one(xapi.RowCondition{Purposes: []string{"skills"}})}, []string{uuid(6), uuid(5), uuid(1)}},
		{"two purposes", xapi.Query{Rows: one(xapi.RowCondition{Purposes: []string{"skills", "training"}})}, []string{uuid(6), uuid(5), uuid(3), uuid(2), uuid(1)}},
		{"no recorded purpose", xapi.Query{Rows: one(xapi.RowCondition{Purposes: []string{""}})}, []string{uuid(4)}},
		{"not a purpose", xapi.Query{Rows: one(xapi.RowCondition{NotPurposes: []string{"skills"}})}, []string{uuid(4), uuid(3), uuid(2)}},
		{"legal basis", xapi.Query{Rows: one(xapi.RowCondition{Bases: []string{"legal_obligation"}})}, []string{uuid(3), uuid(2)}},
		{"not a legal basis", xapi.Query{Rows: one(xapi.RowCondition{NotBases: []string{"consent", ""}})}, []string{uuid(3), uuid(2)}},
		{"own agent, not a ref target's", xapi.Query{Rows: one(xapi.RowCondition{Agents: [][]string{{ifi(alice)}}})}, []string{uuid(4), uuid(3), uuid(1)}},
		{"one of two agents", xapi.Query{Rows: one(xapi.RowCondition{Agents: [][]string{{ifi(dave), ifi(alice)}}})}, []string{uuid(6), uuid(4), uuid(3), uuid(1)}},
		{"an agent of each set", xapi.Query{Rows: one(xapi.RowCondition{Agents: [][]string{{ifi(carol)}, {ifi(alice)}}})}, []string{uuid(4)}},
		{"an empty agent set", xapi.Query{Rows: one(xapi.RowCondition{Agents: [][]string{{}}})}, nil},
		{"kept without limit", xapi.Query{Rows: one(xapi.RowCondition{Expiry: xapi.Expiry{Never: true}})}, []string{uuid(6), uuid(5), uuid(4), uuid(2)}},
		{"expiring after now", xapi.Query{Rows: one(xapi.RowCondition{Expiry: xapi.Expiry{After: now}})}, []string{uuid(3)}},
		{"not expired", xapi.Query{Rows: one(xapi.RowCondition{Expiry: xapi.Expiry{Never: true, After: now}})}, []string{uuid(6), uuid(5), uuid(4), uuid(3), uuid(2)}},
		{"everything expired by then", xapi.Query{Rows: one(xapi.RowCondition{Expiry: xapi.Expiry{After: now.AddDate(0, 0, 9)}})}, nil},
		{"a conjunction", xapi.Query{Rows: one(xapi.RowCondition{Purposes: []string{"training"}, Agents: [][]string{{ifi(alice)}}, Expiry: xapi.Expiry{After: now}})}, []string{uuid(3)}},
		{"a disjunction", xapi.Query{Rows: &xapi.RowFilter{Any: []xapi.RowCondition{{Purposes: []string{"training"}}, {Agents: [][]string{{ifi(dave)}}}}}}, []string{uuid(6), uuid(3), uuid(2)}},
		{"with an xAPI agent filter", xapi.Query{Agent: &xapi.Agent{Mbox: alice}, Rows: one(xapi.RowCondition{Purposes: []string{"skills"}})}, []string{uuid(5), uuid(1)}},
		{"ascending", xapi.Query{Ascending: true, Rows: one(xapi.RowCondition{Agents: [][]string{{ifi(dave), ifi(alice)}}})}, []string{uuid(1), uuid(3), uuid(4), uuid(6)}},
		{"ascending by purposes", xapi.Query{Ascending: true, Rows: one(xapi.RowCondition{Purposes: []string{"training", "skills"}})}, []string{uuid(1), uuid(2), uuid(3), uuid(5), uuid(6)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 10} {
				if got := queryAll(t, db, tc.q, limit); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("QueryStatements(%s, limit %d) = %v, want %v", tc.name, limit, got, tc.want)
				}
			}
			var opened []string
			got, _, err := db.QueryStatements(context.Background(), tc.q, "", 10, func(s *xapi.Statement) (bool, error) {
				opened = append(opened, s.ID())
				return true, nil
			})
			if err != nil || !slices.Equal(ids(got), tc.want) || !slices.Equal(opened, tc.want) {
				t.Errorf("QueryStatements(%s) = %v, %v, keep saw %v; want %v, each once", tc.name, ids(got), err, opened, tc.want)
			}
		})
	}
}
