package audit

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// plainSealer "seals" by copying: enough for tests of the files.
type plainSealer struct{}

func (plainSealer) Seal(_ context.Context, _ string, _, p []byte) ([]byte, error) {
	return bytes.Clone(p), nil
}

func (plainSealer) Open(_ context.Context, _ string, _, sealed []byte) ([]byte, error) {
	return bytes.Clone(sealed), nil
}

// TestRecoverAfterWriteFailure: a write that fails (here the checkpoints
// file goes away under the writer, after the batch's entries and hashes
// were written) makes the log refuse appends with ErrUnavailable and say
// why; once the files can be written again the writer recovers by itself,
// without leaving the failed batch in the log.
func TestRecoverAfterWriteFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(dir, Options{Sealer: plainSealer{}, NoSync: true, RetryInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e := Entry{Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Principal: "p", Action: "statements.read", Decision: Allow}
	for range 2 {
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.RLock()
	cpf := l.checkpoints
	l.mu.RUnlock()
	cpf.Close() // the next checkpoint write fails

	if _, err := l.Append(ctx, e); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Append with the checkpoints file failing = %v, want %v", err, ErrUnavailable)
	}
	if err := l.Err(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Err() after the failure = %v, want %v", err, ErrUnavailable)
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Err() = %v 5s after the failure, want recovery", l.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	i, err := l.Append(ctx, e)
	if err != nil || i != 2 {
		t.Fatalf("Append after recovery = %d, %v, want index 2: the failed entry is not in the log", i, err)
	}
	vkey := l.VerifierKey()
	l.Close()
	if rep, err := Verify(dir, VerifyOptions{Key: vkey, Sealer: plainSealer{}}); err != nil || rep.Entries != 3 || rep.BodiesOK != 3 {
		t.Errorf("Verify after recovery = %+v, %v, want 3 entries", rep, err)
	}
}
