//go:build unix

package audit

import "testing"

// TestLockDir: a second Open of a log directory fails while the first has
// it open.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Sealer: plainSealer{}, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := Open(dir, Options{Sealer: plainSealer{}, NoSync: true}); err == nil {
		l2.Close()
		t.Errorf("second Open of an open log = nil error, want a refusal")
	}
	l.Close()
	l2, err := Open(dir, Options{Sealer: plainSealer{}, NoSync: true})
	if err != nil {
		t.Fatalf("Open after Close = %v", err)
	}
	l2.Close()
}
