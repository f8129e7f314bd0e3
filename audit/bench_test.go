package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"custodia/audit"
)

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppend appends serially with fsync on: one batch per entry.
func BenchmarkAppend(b *testing.B) {
	l := openLog(b, b.TempDir(), audit.Options{})
	ctx := context.Background()
	e := entry(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkAppendParallel appends from many goroutines with fsync on; the
// writer group-commits whatever is waiting.
func BenchmarkAppendParallel(b *testing.B) {
	l := openLog(b, b.TempDir(), audit.Options{})
	ctx := context.Background()
	e := entry(1)
	b.SetParallelism(32) // 32 × GOMAXPROCS goroutines, as behind a busy HTTP server
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

// fill appends n entries from 128 goroutines, so that they are committed
// in batches as under load.
func fill(b *testing.B, l *audit.Log, n int) {
	b.Helper()
	const workers = 128
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if _, err := l.Append(context.Background(), entry(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkVerify measures offline verification of a whole log, with the
// bodies opened and checked (as `custodia audit verify --root-key-file`)
// and without. entries=1000000 answers how long verifying a million
// entries takes: go test ./audit -run '^$' -bench 'Verify/entries=1000000' -benchtime 1x
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{2000, 1000000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			dir, s := b.TempDir(), newSealer()
			l := openLog(b, dir, opts(s, true))
			fill(b, l, n)
			if _, _, err := l.Publish(context.Background()); err != nil {
				b.Fatal(err)
			}
			l.Close()
			for _, bodies := range []bool{true, false} {
				b.Run(fmt.Sprintf("bodies=%v", bodies), func(b *testing.B) {
					o := audit.VerifyOptions{}
					if bodies {
						o.Sealer, o.Erased = s, isShredded
					}
					for b.Loop() {
						rep, err := audit.Verify(dir, o)
						if err != nil || rep.Entries != int64(n) {
							b.Fatalf("Verify = %+v, %v", rep, err)
						}
					}
					b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
					b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "entries/s")
				})
			}
		})
	}
}
