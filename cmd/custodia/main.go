// Command custodia runs the Custodia Learning Record Store and its offline
// tools.
//
//	custodia serve [flags]                 run the LRS
//	custodia audit verify --data DIR       verify the audit log offline
//	custodia audit export --data DIR --out FILE
//	custodia audit witness-key --name NAME --out FILE
//	custodia audit cosign --key FILE --checkpoint FILE --log-key KEY --state FILE [--proof FILE]
//	custodia audit erase --data DIR --month YYYY-MM
//	custodia keys jwk-gen|jwt-sign …       a signing key and tokens for trying Bearer authentication
//	custodia bench --key K --secret S …   load a running server and measure it
//
// See the README for the flags; each has an environment variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "custodia:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage:
  custodia serve [--addr ADDR] [--data DIR] [--root-key-file FILE]
                 [--audit-checkpoint-interval DURATION] [--audit-witness WITNESS_KEY]...
  custodia audit verify (--data DIR | --log EXPORT --key VERIFIER_KEY) [--key VERIFIER_KEY]
                        [--root-key-file FILE] [--require-witness WITNESS_KEY]... [--max-witness-lag N]
                        [--checkpoint TRUSTED_CHECKPOINT_FILE]
  custodia audit export --data DIR --out FILE [--no-bodies]
  custodia audit witness-key --name NAME --out FILE
  custodia audit cosign --key FILE --checkpoint FILE --log-key VERIFIER_KEY --state FILE [--proof FILE]
  custodia audit erase --data DIR --month YYYY-MM [--root-key-file FILE]
  custodia keys jwk-gen --private FILE --public FILE [--alg ES256|RS256|EdDSA] [--kid KID]
  custodia bench [--endpoint URL] --key KEY --secret SECRET [--statements N] [--concurrency C] [--batch B]
                 [--learners N] [--courses N] [--query-rounds N] [--ceiling-dir DIR] [--no-ceiling] [--json]
  custodia keys jwt-sign --key FILE --iss ISS --aud AUD --sub SUB [--email E] [--roles R,…] [--scope S] [--purpose P] [--ttl 1h]`

// run is the whole program: main only adds the process around it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runWith(ctx, runOptions{}, args, getenv, stdin, stdout, stderr)
}

// runOptions are what tests may inject into run beyond its arguments; the
// command line cannot set them.
type runOptions struct {
	// now is the clock of the store and the gate (stored times, expiry,
	// decisions); nil is time.Now. Tests move it to pass a retention window.
	now func() time.Time
}

// runWith is run with opts.
func runWith(ctx context.Context, opts runOptions, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, opts, args[1:], getenv, stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		now := opts.now
		if now == nil {
			now = time.Now
		}
		return runKeys(args[1:], now, stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}
