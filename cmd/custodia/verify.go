package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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
	"golang.org/x/mod/sumdb/tlog"
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
	case "erase":
		return runAuditErase(ctx, args[1:], getenv, stdout, stderr)
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
	trusted := fs.String("checkpoint", "", "a checkpoint kept outside the log (an auditor's saved copy, or a witness's state file), signed by the log's key: fail unless the log extends it")
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
	if *trusted != "" {
		b, err := readLimited(*trusted, 64<<10)
		if err != nil {
			return fmt.Errorf("audit verify: --checkpoint: %w", err)
		}
		o.Trusted = b
	}
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
	if rep.TrustedSize >= 0 {
		fmt.Fprintf(stdout, "the log extends the trusted checkpoint of size %d (consistency proved)\n", rep.TrustedSize)
	}
	if rep.PublishedSize >= 0 {
		fmt.Fprintf(stdout, "published checkpoints: %d checked, the latest at size %d\n", rep.Published, rep.PublishedSize)
	}
	switch {
	case rep.BodiesOmitted:
		fmt.Fprintln(stdout, "entry bodies: not in this export (written with --no-bodies); commitments, tree and checkpoints verified")
	case rep.BodiesChecked:
		fmt.Fprintf(stdout, "entry bodies: %d checked against their commitments, %d erased\n", rep.BodiesOK, rep.BodiesErased)
	default:
		fmt.Fprintf(stdout, "entry bodies: not opened (give --root-key-file to check them); %d erased; commitments, tree and checkpoints verified\n", rep.BodiesErased)
	}
	for _, m := range rep.Erased {
		fmt.Fprintf(stdout, "month %s: erased by entry %d; %d entries without their body\n", m.Month, m.Index, m.Entries)
	}
	for name, size := range rep.Witnesses {
		fmt.Fprintf(stdout, "witness %s: cosigned up to size %d\n", name, size)
	}
	for _, u := range rep.Unchecked {
		fmt.Fprintln(stdout, "warning:", u)
	}
	if *key == "" {
		fmt.Fprintln(stdout, "note: checked against the verifier key stored beside the log; pass --key with the key printed at start-up to rule out a replaced key")
	}
	if *trusted == "" {
		fmt.Fprintln(stdout, "note: no --checkpoint given: a log cut back to an earlier checkpoint would pass; give a checkpoint saved outside the log to rule that out")
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

// validWitnessName reports whether name can name a witness key: 1 to 64
// of a-z, A-Z, 0-9, '.', '_', '-' (note key names exclude spaces and '+').
func validWitnessName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// runAuditWitnessKey generates a witness's note key pair: the signer key
// to a new file, the verifier key to stdout.
func runAuditWitnessKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit witness-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the witness's name in its signatures, e.g. dpo or works-council (letters, digits, '.', '_', '-')")
	out := fs.String("out", "", "the file to write the secret signer key to (mode 0600, must not exist)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *name == "" || *out == "" || fs.NArg() > 0 {
		return usageError{"audit witness-key: --name and --out are required"}
	}
	if !validWitnessName(*name) {
		return usageError{fmt.Sprintf("audit witness-key: --name %q: use 1 to 64 letters, digits, '.', '_' or '-'", *name)}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err == nil {
		_, err = note.NewSigner(skey)
	}
	if err == nil {
		_, err = note.NewVerifier(vkey)
	}
	if err != nil {
		return usageError{fmt.Sprintf("audit witness-key: --name %q: %v", *name, err)}
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
// /api/v1/audit/checkpoint/cosign. It cosigns only a checkpoint signed by
// the log's key that extends the last one it cosigned, kept in the state
// file: the same tree, or a larger one with a consistency proof from the
// log (GET /api/v1/audit/proof/consistency?old=<state size>&new=<size>)
// that checks with tlog.CheckTree. The state file then holds the new
// checkpoint, cosigned; it is what `audit verify --checkpoint` takes.
func runAuditCosign(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit cosign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the witness's signer key file (from custodia audit witness-key)")
	cpFile := fs.String("checkpoint", "", "the checkpoint to cosign, as GET /api/v1/audit/checkpoint answers it")
	logKey := fs.String("log-key", "", "the log's verifier key, as printed at its start-up: the checkpoint must be signed by it")
	stateFile := fs.String("state", "", "the witness's state file: the last checkpoint it cosigned (created on first use)")
	proofFile := fs.String("proof", "", "the consistency proof from the state's checkpoint to this one, as GET /api/v1/audit/proof/consistency answers it (needed when the log grew)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyFile == "" || *cpFile == "" || *logKey == "" || *stateFile == "" || fs.NArg() > 0 {
		return usageError{"audit cosign: --key, --checkpoint, --log-key and --state are required"}
	}
	logV, err := note.NewVerifier(*logKey)
	if err != nil {
		return usageError{fmt.Sprintf("audit cosign: --log-key: %v", err)}
	}
	origin, _ := audit.Origin(*logKey)
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
	n, err := note.Open(cp, note.VerifierList(logV))
	if err != nil {
		return fmt.Errorf("audit cosign: %s is not signed by the log's key: %w", *cpFile, err)
	}
	tree, _, err := audit.ParseCheckpoint(n.Text, origin)
	if err != nil {
		return fmt.Errorf("audit cosign: %s: %w", *cpFile, err)
	}

	prevMsg, err := readLimited(*stateFile, 64<<10)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stderr, "audit cosign: no state yet: trusting this first checkpoint (size %d)\n", tree.N)
	case err != nil:
		return fmt.Errorf("audit cosign: --state: %w", err)
	default:
		pn, err := note.Open(prevMsg, note.VerifierList(logV))
		if err != nil {
			return fmt.Errorf("audit cosign: --state %s: %w", *stateFile, err)
		}
		prev, _, err := audit.ParseCheckpoint(pn.Text, origin)
		if err != nil {
			return fmt.Errorf("audit cosign: --state %s: %w", *stateFile, err)
		}
		if err := checkExtends(prev, tree, *proofFile); err != nil {
			return fmt.Errorf("audit cosign: refusing to cosign: %w", err)
		}
	}
	out, err := note.Sign(n, signer)
	if err != nil {
		return fmt.Errorf("audit cosign: %w", err)
	}
	if err := replaceFile(*stateFile, out); err != nil {
		return fmt.Errorf("audit cosign: --state: %w", err)
	}
	_, err = stdout.Write(out)
	return err
}

// checkExtends checks that the tree cur extends prev: the same tree, or a
// larger one with a consistency proof (read from proofFile) that checks.
func checkExtends(prev, cur tlog.Tree, proofFile string) error {
	switch {
	case cur.N < prev.N:
		return fmt.Errorf("the checkpoint covers %d entries, fewer than the %d of the last one cosigned: the log was rolled back or truncated", cur.N, prev.N)
	case cur.N == prev.N && cur.Hash != prev.Hash:
		return fmt.Errorf("the checkpoint has the size of the last one cosigned (%d) but another tree hash: the log was rewritten", cur.N)
	case cur.N == prev.N || prev.N == 0:
		return nil
	case proofFile == "":
		return fmt.Errorf("the log grew from %d to %d entries: give --proof, the consistency proof from GET /api/v1/audit/proof/consistency?old=%d&new=%d", prev.N, cur.N, prev.N, cur.N)
	}
	b, err := readLimited(proofFile, 1<<20)
	if err != nil {
		return fmt.Errorf("--proof: %w", err)
	}
	var p struct {
		Old   int64    `json:"old"`
		New   int64    `json:"new"`
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("--proof %s: %w", proofFile, err)
	}
	if p.Old != prev.N || p.New != cur.N {
		return fmt.Errorf("--proof %s is from %d to %d, want from %d to %d", proofFile, p.Old, p.New, prev.N, cur.N)
	}
	var proof tlog.TreeProof
	for _, h := range p.Proof {
		hb, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(hb) != tlog.HashSize {
			return fmt.Errorf("--proof %s: a hash is not 32 bytes of base64", proofFile)
		}
		proof = append(proof, tlog.Hash(hb))
	}
	// Only the proof's hashes are taken from the log; both trees are signed.
	if err := tlog.CheckTree(proof, cur.N, cur.Hash, prev.N, prev.Hash); err != nil {
		return fmt.Errorf("the checkpoint of size %d is not consistent with the last one cosigned (size %d): %v", cur.N, prev.N, err)
	}
	return nil
}

// replaceFile writes data to path atomically: a temporary file beside it,
// synced, renamed over it.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".custodia-witness-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// runAuditErase erases the content of a past month of the audit log: it
// records the erasure in the log, then destroys the month's key. The server
// must be stopped (the log is locked while it runs).
func runAuditErase(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", getenv("CUSTODIA_DATA"), "data directory (env CUSTODIA_DATA)")
	rootKey := fs.String("root-key-file", getenv("CUSTODIA_ROOT_KEY_FILE"), "the root key file (env CUSTODIA_ROOT_KEY_FILE; default <data>/root.agekey)")
	month := fs.String("month", "", "the month whose audit entry bodies to erase, YYYY-MM (before the current month)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *data == "" || *month == "" || fs.NArg() > 0 {
		return usageError{"audit erase: --data and --month are required"}
	}
	if *rootKey == "" {
		*rootKey = filepath.Join(*data, "root.agekey")
	}
	keys, err := openKeyringReadOnly(filepath.Join(*data, "keys"), *rootKey)
	if err != nil {
		return fmt.Errorf("audit erase: %w", err)
	}
	defer keys.Close()
	l, err := audit.Open(filepath.Join(*data, "audit"), audit.Options{Sealer: keys, Shredder: keys, Erased: keyDestroyed})
	if err != nil {
		return fmt.Errorf("audit erase: %w", err)
	}
	at, err := l.EraseMonth(ctx, *month)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, audit.ErrInvalid) {
		return usageError{fmt.Sprintf("audit erase: %v", err)}
	}
	if err != nil {
		return fmt.Errorf("audit erase: %w", err)
	}
	fmt.Fprintf(stdout, "audit month %s erased: the erasure is entry %d of the log, and the month's key is destroyed\n", *month, at)
	return nil
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
