package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"custodia/audit"
	lrscrypto "custodia/crypto"

	"golang.org/x/mod/sumdb/note"
)

// runAudit dispatches the offline audit commands.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], getenv, stdout, stderr)
	case "export":
		return runAuditExport(args[1:], getenv, stdout, stderr)
	case "witness-key":
		return runAuditWitnessKey(args[1:], stdout, stderr)
	case "cosign":
		return runAuditCosign(args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown audit command %q\n%s", args[0], usage)}
}

// runAuditVerify checks the audit log of a data directory, or an export of
// it, offline and fails, naming the first bad entry, on any alteration.
func runAuditVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", getenv("CUSTODIA_DATA"), "data directory (env CUSTODIA_DATA)")
	export := fs.String("log", "", "an export written by custodia audit export, instead of the data directory's log (needs --key)")
	key := fs.String("key", "", "the log's verifier key, as printed at start-up (default: the one stored beside the log)")
	rootKey := fs.String("root-key-file", getenv("CUSTODIA_ROOT_KEY_FILE"), "the root key file, to open the entry bodies and check them against their commitments (needs --data for the key store; env CUSTODIA_ROOT_KEY_FILE)")
	var witnesses stringList
	fs.Var(&witnesses, "require-witness", "a witness's verifier key: fail unless it cosigned the latest published checkpoint; repeatable")
	lag := fs.Int64("max-witness-lag", 0, "entries by which a required witness's latest cosigned checkpoint may trail the latest published one")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("audit verify: unexpected argument %q", fs.Arg(0))}
	case *data == "" && *export == "":
		return usageError{"audit verify: --data or --log is required"}
	case *export != "" && *key == "":
		return usageError{"audit verify: --log needs --key, the verifier key printed when the log started"}
	case *rootKey != "" && *data == "":
		return usageError{"audit verify: --root-key-file needs --data, where the key store is"}
	case *lag < 0:
		return usageError{"audit verify: --max-witness-lag must not be negative"}
	}
	o := audit.VerifyOptions{Key: *key, Witnesses: witnesses.list, MaxWitnessLag: *lag}
	if *rootKey != "" {
		keys, err := openKeyringReadOnly(filepath.Join(*data, "keys"), *rootKey)
		if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		defer keys.Close()
		o.Sealer, o.Erased = keys, keyDestroyed
	}
	var rep audit.Report
	var err error
	if *export != "" {
		rep, err = audit.VerifyExport(*export, o)
	} else {
		rep, err = audit.Verify(filepath.Join(*data, "audit"), o)
	}
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintf(stdout, "audit log verified: %d entries, checkpoint at size %d, tree hash %s\n", rep.Entries, rep.CheckpointSize, rep.TreeHash)
	if rep.PublishedSize >= 0 {
		fmt.Fprintf(stdout, "published checkpoints: %d checked, the latest at size %d\n", rep.Published, rep.PublishedSize)
	}
	if rep.BodiesChecked {
		fmt.Fprintf(stdout, "entry bodies: %d checked against their commitments, %d expired or erased\n", rep.BodiesOK, rep.BodiesErased)
	} else {
		fmt.Fprintln(stdout, "entry bodies: not checked (give --root-key-file to open them); commitments, tree and checkpoints verified")
	}
	for name, size := range rep.Witnesses {
		fmt.Fprintf(stdout, "witness %s: cosigned up to size %d\n", name, size)
	}
	if *key == "" {
		fmt.Fprintln(stdout, "note: checked against the verifier key stored beside the log; pass --key with the key printed at start-up to rule out a replaced key")
	}
	return nil
}

// openKeyringReadOnly opens the key store without creating anything: the
// root key file and the key store must exist.
func openKeyringReadOnly(dir, rootKeyFile string) (*lrscrypto.Keyring, error) {
	for _, p := range []string{rootKeyFile, dir} {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
	}
	return lrscrypto.OpenKeyring(dir, rootKeyFile, lrscrypto.Options{})
}

// runAuditExport writes the audit log of a data directory to a
// self-contained archive.
func runAuditExport(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", getenv("CUSTODIA_DATA"), "data directory (env CUSTODIA_DATA)")
	out := fs.String("out", "", "the archive to write (must not exist)")
	noBodies := fs.Bool("no-bodies", false, "leave the sealed entry bodies out: commitments, hashes and checkpoints only")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *data == "" || *out == "" || fs.NArg() > 0 {
		return usageError{"audit export: --data and --out are required"}
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	err = audit.Export(filepath.Join(*data, "audit"), f, audit.ExportOptions{NoBodies: *noBodies})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fmt.Errorf("audit export: %w", err)
	}
	fmt.Fprintf(stdout, "audit log exported to %s\n", *out)
	return nil
}

// runAuditWitnessKey generates a witness's note key pair: the signer key
// to a new file, the verifier key to stdout.
func runAuditWitnessKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit witness-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the witness's name in its signatures, e.g. dpo or works-council")
	out := fs.String("out", "", "the file to write the secret signer key to (mode 0600, must not exist)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *name == "" || *out == "" || fs.NArg() > 0 {
		return usageError{"audit witness-key: --name and --out are required"}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err != nil {
		return usageError{fmt.Sprintf("audit witness-key: --name %q: %v (no spaces or '+')", *name, err)}
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit witness-key: %w", err)
	}
	_, err = fmt.Fprintln(f, skey)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit witness-key: %w", err)
	}
	fmt.Fprintln(stdout, vkey)
	return nil
}

// runAuditCosign signs a published checkpoint with a witness's key and
// prints the cosigned checkpoint, ready for POST
// /api/v1/audit/checkpoint/cosign.
func runAuditCosign(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit cosign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the witness's signer key file (from custodia audit witness-key)")
	cpFile := fs.String("checkpoint", "", "the checkpoint to cosign, as GET /api/v1/audit/checkpoint answers it")
	logKey := fs.String("log-key", "", "the log's verifier key: refuse a checkpoint it did not sign (recommended)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyFile == "" || *cpFile == "" || fs.NArg() > 0 {
		return usageError{"audit cosign: --key and --checkpoint are required"}
	}
	skey, err := readLimited(*keyFile, 4<<10)
	if err != nil {
		return fmt.Errorf("audit cosign: %w", err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return fmt.Errorf("audit cosign: %s is not a note signer key", *keyFile)
	}
	cp, err := readLimited(*cpFile, 64<<10)
	if err != nil {
		return fmt.Errorf("audit cosign: %w", err)
	}
	var known note.Verifiers = note.VerifierList()
	if *logKey != "" {
		v, err := note.NewVerifier(*logKey)
		if err != nil {
			return usageError{fmt.Sprintf("audit cosign: --log-key: %v", err)}
		}
		known = note.VerifierList(v)
	}
	n, err := note.Open(cp, known)
	var unverified *note.UnverifiedNoteError
	switch {
	case err == nil:
	case *logKey == "" && errors.As(err, &unverified):
		n = unverified.Note
	default:
		return fmt.Errorf("audit cosign: %s: %w", *cpFile, err)
	}
	out, err := note.Sign(n, signer)
	if err != nil {
		return fmt.Errorf("audit cosign: %w", err)
	}
	_, err = stdout.Write(out)
	return err
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}
