package store_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"custodia/store"
	"custodia/xapi"
)

// benchStmt is a statement of about 1 KB.
func benchStmt(b *testing.B, n, agent int) *xapi.Statement {
	return stmt(b, spec{
		id:           fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		mbox:         fmt.Sprintf("mailto:learner%d@example.com", agent),
		verb:         "http://adlnet.gov/expapi/verbs/completed",
		activity:     fmt.Sprintf("http://example.com/courses/%d/module/%d", n%50, n%7),
		registration: fmt.Sprintf("11111111-2222-4333-8444-%012d", agent),
		parent:       fmt.Sprintf("http://example.com/courses/%d", n%50),
		extra:        strings.Repeat("an answer of some length ", 28),
	})
}

func openBenchDisk(b *testing.B) *store.DB {
	db, err := store.Open(b.TempDir(), newSealer(), store.Options{SyncWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkPutStatements stores batches of 100 statements of ~1 KB on disk
// with SyncWrites, one batch at a time.
func BenchmarkPutStatements(b *testing.B) {
	db := openBenchDisk(b)
	const batch = 100
	n := 0
	for b.Loop() {
		b.StopTimer()
		stmts := make([]*xapi.Statement, batch)
		for i := range stmts {
			n++
			stmts[i] = benchStmt(b, n, n%1000)
		}
		b.StartTimer()
		if err := db.PutStatements(ctx, stmts, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "stmts/s")
}

// BenchmarkPutStatementsParallel stores single statements from concurrent
// writers (on disk, SyncWrites), where group commit shares fsyncs.
func BenchmarkPutStatementsParallel(b *testing.B) {
	db := openBenchDisk(b)
	var n atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if err := db.PutStatements(ctx, []*xapi.Statement{benchStmt(b, i, i%1000)}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "stmts/s")
}

// BenchmarkQueryByAgent pages through one agent's 100 statements among
// 20,000, 25 at a time.
func BenchmarkQueryByAgent(b *testing.B) {
	db := openBenchDisk(b)
	const agents, per = 200, 100
	for i := 0; i < agents*per; i += 500 {
		stmts := make([]*xapi.Statement, 500)
		for j := range stmts {
			stmts[j] = benchStmt(b, i+j+1, (i+j)%agents)
		}
		if err := db.PutStatements(ctx, stmts, nil); err != nil {
			b.Fatal(err)
		}
	}
	returned := 0
	k := 0
	for b.Loop() {
		k++
		q := xapi.Query{Agent: &xapi.Agent{Mbox: fmt.Sprintf("mailto:learner%d@example.com", k%agents)}}
		after := ""
		for {
			got, next, err := db.QueryStatements(ctx, q, after, 25, nil)
			if err != nil {
				b.Fatal(err)
			}
			returned += len(got)
			if next == "" {
				break
			}
			after = next
		}
	}
	if returned != k*per {
		b.Fatalf("returned %d statements over %d queries, want %d", returned, k, k*per)
	}
	b.ReportMetric(float64(returned)/b.Elapsed().Seconds(), "stmts/s")
}

// BenchmarkPutDefinedParallel stores batches of 20 statements whose object
// Activities (300 ids) carry definitions, from 8 concurrent writers.
func BenchmarkPutDefinedParallel(b *testing.B) {
	db := openBenchDisk(b)
	var n atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			stmts := make([]*xapi.Statement, 20)
			for i := range stmts {
				k := int(n.Add(1))
				stmts[i] = defined(b, uuid(k), fmt.Sprintf("http://example.com/q/%d", k*7919%300), fmt.Sprintf(`{"name":{"en-US":"Question %d"},"interactionType":"choice","choices":[{"id":"a"},{"id":"b"}]}`, k%300))
			}
			if err := db.PutStatements(ctx, stmts, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "stmts/s")
}
