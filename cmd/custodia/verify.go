package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"custodia/audit"
)

// runAuditVerify checks the audit log of a data directory offline and
// fails, naming the first bad entry, on any alteration.
func runAuditVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", getenv("CUSTODIA_DATA"), "data directory (env CUSTODIA_DATA)")
	key := fs.String("key", "", "the log's verifier key (default: the one stored beside the log)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *data == "" {
		return usageError{"audit verify: --data is required"}
	}
	rep, err := audit.Verify(filepath.Join(*data, "audit"), *key)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintf(stdout, "audit log verified: %d entries, checkpoint at size %d, tree hash %s\n", rep.Entries, rep.CheckpointSize, rep.TreeHash)
	return nil
}
