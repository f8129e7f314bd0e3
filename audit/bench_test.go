package audit_test

import (
	"context"
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

// BenchmarkVerify measures offline verification per entry.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	l := openLog(b, dir, audit.Options{NoSync: true})
	appendN(b, l, 0, 2000)
	l.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := audit.Verify(dir, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "entries/s")
}
