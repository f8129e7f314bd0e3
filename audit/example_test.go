package audit_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"custodia/audit"
)

func ExampleLog() {
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// In production the Sealer is the crypto.Keyring: entry bodies are
	// sealed under a key per month, and the leaves commit to them.
	sealer := newSealer()
	l, err := audit.Open(dir, audit.Options{Sealer: sealer})
	if err != nil {
		fmt.Println(err)
		return
	}
	i, err := l.Append(context.Background(), audit.Entry{
		Time:           time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		Principal:      "3f1c0e9a6b2d4c58",
		Purpose:        "training",
		Action:         "statements.read",
		Resources:      []string{"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
		Decision:       audit.Allow,
		PolicyRevision: "rev-7",
		Count:          1,
	})
	fmt.Println(i, err)
	vkey := l.VerifierKey()
	l.Close()

	rep, err := audit.Verify(dir, audit.VerifyOptions{Key: vkey, Sealer: sealer})
	fmt.Println(rep.Entries, rep.CheckpointSize, rep.BodiesOK, err)
	// Output:
	// 0 <nil>
	// 1 1 1 <nil>
}
