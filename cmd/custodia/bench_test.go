package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"custodia/audit"
	lrscrypto "custodia/crypto"
	"custodia/governance"
	"custodia/policies"
	"custodia/store"
	"custodia/xapi"
)

// BenchmarkIngest measures statements/s through the whole governed path
// over HTTP: parsing, policy decision, sealing, blind indexes, audit append
// and fsynced Badger commits. Eight clients post concurrently.
func BenchmarkIngest(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			l := startLRS(b, "")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var seed atomic.Uint64
			var stored atomic.Int64
			b.SetParallelism(4) // 4 × GOMAXPROCS clients
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(seed.Add(1), 42))
				for pb.Next() {
					var body bytes.Buffer
					body.WriteByte('[')
					for i := 0; i < batch; i++ {
						if i > 0 {
							body.WriteByte(',')
						}
						body.Write(benchCorpus{learners: 500, courses: 20}.statement(r))
					}
					body.WriteByte(']')
					req, _ := http.NewRequest("POST", l.base+"/xapi/statements", &body)
					req.SetBasicAuth(l.key, l.secret)
					req.Header.Set("X-Experience-API-Version", "2.0.0")
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("POST = %d", resp.StatusCode)
						return
					}
					stored.Add(int64(batch))
				}
			})
			b.ReportMetric(float64(stored.Load())/time.Since(start).Seconds(), "statements/s")
		})
	}
}

// noAuditor is a governance.Auditor that records nothing: the baseline of
// BenchmarkIngestAudit.
type noAuditor struct{}

func (noAuditor) Record(context.Context, governance.AuditEntry) error { return nil }

// BenchmarkIngestAudit measures statements/s through the gate (parse,
// policy decision, audit append, sealing, blind indexes, fsynced Badger
// commit), one statement per call (one audit entry each, the worst case)
// from 32 and 128 concurrent writers, with the real audit log (fsynced,
// group-committed) and with a no-op Auditor: the cost of recording every
// access.
//
//	go test ./cmd/custodia -run '^$' -bench IngestAudit -benchtime 5s
func BenchmarkIngestAudit(b *testing.B) {
	for _, c := range []struct {
		on      bool
		writers int
	}{{true, 32}, {false, 32}, {true, 128}, {false, 128}} {
		on := c.on
		name := map[bool]string{true: "on", false: "off"}[on]
		b.Run(fmt.Sprintf("%s/writers=%d", name, c.writers), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			keys, err := lrscrypto.OpenKeyring(filepath.Join(dir, "keys"), filepath.Join(dir, "root.agekey"), lrscrypto.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer keys.Close()
			db, err := store.Open(filepath.Join(dir, "store"), keys, store.Options{SyncWrites: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			engine, err := governance.NewEngine(ctx, policies.FS)
			if err != nil {
				b.Fatal(err)
			}
			var aud governance.Auditor = noAuditor{}
			if on {
				alog, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{Sealer: keys, Erased: keyDestroyed})
				if err != nil {
					b.Fatal(err)
				}
				defer alog.Close()
				aud = auditor{log: alog}
			}
			gate := governance.NewGate(governance.GateConfig{Engine: engine, Statements: db, Records: db, Activities: db, Documents: db,
				Auditor: aud, Pseudonymizer: keys, AuthorityHomePage: "http://lrs.example.com/"})
			p := governance.Principal{ID: "bench-lms", Name: "lms", Roles: []string{"client"}, Scopes: []string{"statements/write"}}
			var seed atomic.Uint64
			b.SetParallelism(max(1, c.writers/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(seed.Add(1), 7))
				for pb.Next() {
					s, err := xapi.ParseStatement(benchCorpus{learners: 500, courses: 20}.statement(r), xapi.V200)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := gate.PutStatements(ctx, p, []*xapi.Statement{s}, xapi.V200, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "statements/s")
		})
	}
}
