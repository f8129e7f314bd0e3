package crypto_test

import (
	"bytes"
	"context"
	"testing"

	lrscrypto "custodia/crypto"
)

func BenchmarkSeal1KB(b *testing.B) {
	k := openKeyring(b, b.TempDir(), lrscrypto.Options{})
	ctx := context.Background()
	pt := bytes.Repeat([]byte("x"), 1024)
	id := []byte("6690e6c9-3ef0-4ed3-8b37-7f3964730bee")
	seal(b, k, "mailto:a@example.org", "warm", "up") // create and cache the key
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(ctx, "mailto:a@example.org", id, pt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1KB(b *testing.B) {
	k := openKeyring(b, b.TempDir(), lrscrypto.Options{})
	ctx := context.Background()
	id := []byte("6690e6c9-3ef0-4ed3-8b37-7f3964730bee")
	sealed := seal(b, k, "mailto:a@example.org", string(id), string(bytes.Repeat([]byte("x"), 1024)))
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(ctx, "mailto:a@example.org", id, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenUncached measures the slow path: unwrapping a DEK with age.
func BenchmarkOpenUncached(b *testing.B) {
	k := openKeyring(b, b.TempDir(), lrscrypto.Options{CacheSize: 1})
	ctx := context.Background()
	id := []byte("r")
	sa := seal(b, k, "a", "r", "x")
	sb := seal(b, k, "b", "r", "x")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		subject, sealed := "a", sa
		if i%2 == 1 {
			subject, sealed = "b", sb
		}
		i++
		if _, err := k.Open(ctx, subject, id, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlind(b *testing.B) {
	k := openKeyring(b, b.TempDir(), lrscrypto.Options{})
	b.ReportAllocs()
	for b.Loop() {
		k.Blind("actor", "mailto:learner@example.org")
	}
}
