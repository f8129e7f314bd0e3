package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	lrscrypto "custodia/crypto"
	"custodia/governance"
	"custodia/policies"
	"custodia/store"
	"custodia/xapi"
)

// queryFixture is a store of many statements behind three gates: the
// default pack, the default pack without its list-read filter (how list
// reads were answered before it: every row opened and decided), and a
// permit-all policy.
type queryFixture struct {
	db                    *store.DB
	withFilter, noFilter  *governance.Gate
	permitAll             *governance.Gate
	hr, learner           governance.Principal
	learnerRows, hrTarget int // statements about the learner; consented skills rows
}

// discard records nothing: the query benchmarks measure reading, not the
// audit log (one entry per page in every case).
type discard struct{}

func (discard) Record(context.Context, governance.AuditEntry) error { return nil }

// benchPurposes spreads the statements over the default pack's purposes.
var benchPurposes = []struct {
	purpose, basis, activity string
	days                     int
}{
	{"learning-records", "legitimate_interest", "http://courses.example.com/c1", 1825},
	{"learning-records", "legitimate_interest", "http://courses.example.com/c2", 1825},
	{"compliance-training", "legal_obligation", "https://lms.acme.example/compliance/fire-safety", 3650},
	{"skills-development", "consent", "https://lms.acme.example/skills/negotiation", 730},
	{"clickstream-analytics", "consent", "https://lms.acme.example/videos/intro", 90},
}

// newQueryFixture stores n statements about learners (1000 of them) on
// disk, recorded for purposes as the default pack would record them, and
// has half the learners consent to skills development.
func newQueryFixture(b *testing.B, n int) *queryFixture {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	keys, err := lrscrypto.OpenKeyring(filepath.Join(dir, "keys"), filepath.Join(dir, "root.agekey"), lrscrypto.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { keys.Close() })
	db, err := store.Open(filepath.Join(dir, "store"), keys, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })

	const learners = 1000
	f := &queryFixture{db: db}
	auth := xapi.Agent{ObjectType: "Agent", Account: &xapi.Account{HomePage: "http://lrs.example.com/", Name: "loader"}}
	batch := make([]*xapi.Statement, 0, 500)
	for i := 0; i < n; i++ {
		who, p := i%learners, benchPurposes[(i/learners)%len(benchPurposes)]
		s, err := xapi.ParseStatement(benchStatementFor(who, p.activity, i), xapi.V200)
		if err != nil {
			b.Fatal(err)
		}
		s.Prepare(xapi.Prepare{Authority: auth, Version: xapi.V200})
		s.SetRecorded(xapi.Recorded{Purpose: p.purpose, LegalBasis: p.basis, RetentionDays: p.days})
		if who == 7 {
			f.learnerRows++
		}
		if p.purpose == "skills-development" && who%2 == 0 {
			f.hrTarget++
		}
		if batch = append(batch, s); len(batch) == cap(batch) || i == n-1 {
			if err := db.PutStatements(ctx, batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}

	gate := func(eng *governance.Engine) *governance.Gate {
		return governance.NewGate(governance.GateConfig{Engine: eng, Statements: db, Records: db, Activities: db, Documents: db, Retention: db,
			Auditor: discard{}, Pseudonymizer: keys, AuthorityHomePage: "http://lrs.example.com/"})
	}
	eng, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		b.Fatal(err)
	}
	f.withFilter = gate(eng)
	set := eng.PolicySet()
	delete(set.Modules, "filters.rego")
	delete(set.Modules, "filters_test.rego")
	noFilter, err := governance.NewEngine(ctx, mapFS(set))
	if err != nil {
		b.Fatal(err)
	}
	f.noFilter = gate(noFilter)
	permit, err := governance.NewEngine(ctx, mapFS(governance.PolicySet{Modules: map[string]string{
		"permit.rego": "package custodia.authz\n\ndecision := {\"allow\": true, \"reasons\": [\"permit all\"], \"obligations\": {}}\n",
	}, Data: []byte(`{}`)}))
	if err != nil {
		b.Fatal(err)
	}
	f.permitAll = gate(permit)

	for who := 0; who < learners; who += 2 {
		p := governance.Principal{ID: "k-" + strconv.Itoa(who), Roles: []string{"learner"}, Agent: &xapi.Agent{Mbox: benchMbox(who)}}
		if _, err := f.withFilter.SetConsent(ctx, p, "skills-development", true); err != nil {
			b.Fatal(err)
		}
	}
	f.hr = governance.Principal{ID: "k-hr", Roles: []string{"hr"}, Scopes: []string{"all/read"}, Purpose: "skills-development"}
	f.learner = governance.Principal{ID: "k-7", Roles: []string{"learner"}, Scopes: []string{"statements/read/mine"}, Agent: &xapi.Agent{Mbox: benchMbox(7)}}
	return f
}

func benchMbox(who int) string { return fmt.Sprintf("mailto:learner%d@example.com", who) }

// benchStatementFor is a statement of about 1 KB by learner who.
func benchStatementFor(who int, activity string, i int) []byte {
	return []byte(fmt.Sprintf(`{"actor":{"objectType":"Agent","name":"Learner %d","mbox":%q},
"verb":{"id":"http://adlnet.gov/expapi/verbs/answered","display":{"en-US":"answered"}},
"object":{"objectType":"Activity","id":%q,"definition":{"name":{"en-US":"Question"},"description":{"en-US":"A multiple choice question about workplace safety procedures, long enough to be realistic."},"type":"http://adlnet.gov/expapi/activities/cmi.interaction","interactionType":"choice","correctResponsesPattern":["b"],"choices":[{"id":"a","description":{"en-US":"Option A"}},{"id":"b","description":{"en-US":"Option B"}},{"id":"c","description":{"en-US":"Option C"}}]}},
"result":{"score":{"scaled":0.8,"raw":8,"min":0,"max":10},"success":true,"completion":true,"response":"b","duration":"PT%dS"},
"context":{"registration":"%08x-1234-4abc-8def-0123456789ab","platform":"Example LMS","language":"en-US","contextActivities":{"parent":[{"id":"http://courses.example.com/c%d"}]}},
"timestamp":"2026-11-01T10:00:00Z"}`, who, benchMbox(who), activity, 5+i%100, i, i%20))
}

// mapFS turns a policy set into the files NewEngine reads.
func mapFS(set governance.PolicySet) fstest.MapFS {
	m := fstest.MapFS{"data.json": {Data: set.Data}}
	for name, src := range set.Modules {
		m[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}

// BenchmarkQuery100k measures one page (100 statements) of a statement
// query over 100 000 stored statements, through the gate on disk, for HR
// reading for a consent-based purpose and for a learner listing
// GET /statements (only their own 100 rows are theirs): with the default
// pack (list-read filter compiled by partial evaluation onto the indexes),
// the default pack without its filter (every row opened and decided, as
// before), and a permit-all policy.
//
// The first query of a principal also compiles the filter for it (about
// 10 ms, then cached per policy revision); it is left out, as are the
// other caches a first query warms.
//
//	go test ./cmd/custodia -run '^$' -bench BenchmarkQuery100k -benchtime 5x -timeout 60m
func BenchmarkQuery100k(b *testing.B) {
	n := 100000
	if s := os.Getenv("CUSTODIA_BENCH_STATEMENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	start := time.Now()
	f := newQueryFixture(b, n)
	b.Logf("stored %d statements in %s", n, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	for _, who := range []struct {
		name string
		p    governance.Principal
		want int // statements on the first page under the default pack
	}{{"hr", f.hr, min(100, f.hrTarget)}, {"learner", f.learner, min(100, f.learnerRows)}} {
		var first []string
		for _, g := range []struct {
			name string
			gate *governance.Gate
		}{{"default", f.withFilter}, {"nofilter", f.noFilter}, {"permitall", f.permitAll}} {
			b.Run(who.name+"/"+g.name, func(b *testing.B) {
				// A first query warms the caches (data keys, the filter
				// compiled for the principal) outside the measurement.
				if _, _, err := g.gate.QueryStatements(ctx, who.p, xapi.Query{}, ""); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					page, _, err := g.gate.QueryStatements(ctx, who.p, xapi.Query{}, "")
					if err != nil {
						b.Fatal(err)
					}
					if g.name == "permitall" {
						if len(page) != 100 {
							b.Fatalf("permit-all page = %d statements, want 100", len(page))
						}
						continue
					}
					ids := make([]string, len(page))
					for i, s := range page {
						ids[i] = s.ID()
					}
					if len(ids) != who.want {
						b.Fatalf("page = %d statements, want %d", len(ids), who.want)
					}
					if first == nil {
						first = ids
					} else if !slices.Equal(first, ids) {
						b.Fatalf("with and without the filter the pages differ")
					}
				}
			})
		}
	}
}
