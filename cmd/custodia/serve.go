package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"custodia/audit"
	lrscrypto "custodia/crypto"
	"custodia/governance"
	"custodia/policies"
	"custodia/server"
	"custodia/store"
	"custodia/xapi"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/mod/sumdb/note"
)

// serveConfig is the configuration of `custodia serve`.
type serveConfig struct {
	Addr        string
	Data        string
	RootKeyFile string
	LogLevel    string
	XAPIDefault string
	// NoSync turns off fsync of each commit (--sync=false): faster bulk
	// imports, but a 200 no longer means on disk.
	NoSync      bool
	AdminKey    string
	AdminSecret string
	CORSOrigins []string
	// IssuersFile configures Bearer JWT issuers (server.ParseIssuers);
	// Issuers is its content.
	IssuersFile string
	Issuers     []server.Issuer
	// RateLimit is the per-credential request rate (0: none).
	RateLimit server.RateLimit
	// TLSCert and TLSKey are PEM files; both set: serve HTTPS.
	TLSCert, TLSKey string
	tlsPair         tls.Certificate
	// AuditCheckpointInterval is how often the audit log's checkpoint is
	// published when the log grew; 0 publishes only on demand.
	AuditCheckpointInterval time.Duration
	AuditWitnesses          []string // note verifier keys of the witnesses that may cosign checkpoints
}

// stringList is a repeatable string flag. Its first Set replaces the
// default (taken from the environment).
type stringList struct {
	list []string
	set  bool
}

func (l *stringList) String() string { return strings.Join(l.list, ",") }

func (l *stringList) Set(v string) error {
	if !l.set {
		l.list, l.set = nil, true
	}
	l.list = append(l.list, v)
	return nil
}

func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("CUSTODIA_ADDR", "127.0.0.1:8080"), "listen address (env CUSTODIA_ADDR); port 0 picks a free one")
	fs.StringVar(&c.Data, "data", env("CUSTODIA_DATA", "./custodia-data"), "data directory (env CUSTODIA_DATA)")
	fs.StringVar(&c.RootKeyFile, "root-key-file", env("CUSTODIA_ROOT_KEY_FILE", ""), "age root identity file (env CUSTODIA_ROOT_KEY_FILE; default <data>/root.agekey, generated 0600)")
	fs.StringVar(&c.XAPIDefault, "xapi-default-version", env("CUSTODIA_XAPI_DEFAULT_VERSION", "2.0.0"), "version named in X-Experience-API-Version when a request names none we speak: 1.0.3 or 2.0.0 (env CUSTODIA_XAPI_DEFAULT_VERSION)")
	cors := fs.String("cors-origins", env("CUSTODIA_CORS_ORIGINS", "*"), "comma-separated origins whose browser clients may call /xapi/ (CORS): * for any, none for no CORS (env CUSTODIA_CORS_ORIGINS)")
	sync := fs.Bool("sync", env("CUSTODIA_SYNC", "true") != "false", "fsync every commit so that a 200 means on disk; false trades that durability away for bulk imports: a crash may lose acknowledged statements (env CUSTODIA_SYNC)")
	fs.StringVar(&c.LogLevel, "log-level", env("CUSTODIA_LOG_LEVEL", "info"), "debug, info, warn or error (env CUSTODIA_LOG_LEVEL)")
	fs.StringVar(&c.IssuersFile, "issuers", env("CUSTODIA_ISSUERS_FILE", ""), "JSON file of the issuers whose Bearer JWTs are accepted (env CUSTODIA_ISSUERS_FILE); none: Basic credentials only")
	rateLimit := fs.String("rate-limit", env("CUSTODIA_RATE_LIMIT", "0"), "requests a second each credential may make on average; 0 for no limit (env CUSTODIA_RATE_LIMIT)")
	rateBurst := fs.Int("rate-burst", 0, "requests a credential may make at once beyond --rate-limit; 0: twice the rate (env CUSTODIA_RATE_BURST)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("CUSTODIA_TLS_CERT_FILE", ""), "PEM certificate (chain) file: serve HTTPS; needs --tls-key (env CUSTODIA_TLS_CERT_FILE)")
	fs.StringVar(&c.TLSKey, "tls-key", env("CUSTODIA_TLS_KEY_FILE", ""), "PEM private key file of --tls-cert (env CUSTODIA_TLS_KEY_FILE)")
	if v := getenv("CUSTODIA_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, usageError{fmt.Sprintf("serve: CUSTODIA_RATE_BURST %q: want a whole number", v)}
		}
		*rateBurst = n
	}
	interval := fs.String("audit-checkpoint-interval", env("CUSTODIA_AUDIT_CHECKPOINT_INTERVAL", "10s"), "how often to publish the audit log's checkpoint when the log grew; 0 for only on demand (env CUSTODIA_AUDIT_CHECKPOINT_INTERVAL)")
	witnesses := &stringList{}
	for _, w := range strings.Split(getenv("CUSTODIA_AUDIT_WITNESSES"), ",") {
		if w = strings.TrimSpace(w); w != "" {
			witnesses.list = append(witnesses.list, w)
		}
	}
	fs.Var(witnesses, "audit-witness", "note verifier key of a witness that may cosign audit checkpoints; repeatable (env CUSTODIA_AUDIT_WITNESSES, comma-separated)")
	if err := fs.Parse(args); err != nil {
		return c, usageError{err.Error()}
	}
	d, err := time.ParseDuration(*interval)
	if err != nil || d < 0 {
		return c, usageError{fmt.Sprintf("serve: --audit-checkpoint-interval %q: want a duration such as 10s, or 0", *interval)}
	}
	c.AuditCheckpointInterval = d
	c.NoSync = !*sync
	for _, w := range witnesses.list {
		if _, err := note.NewVerifier(w); err != nil {
			return c, usageError{fmt.Sprintf("serve: --audit-witness %q: not a note verifier key (custodia audit witness-key makes one): %v", w, err)}
		}
	}
	c.AuditWitnesses = witnesses.list
	if fs.NArg() > 0 {
		return c, usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	if c.RootKeyFile == "" {
		c.RootKeyFile = filepath.Join(c.Data, "root.agekey")
	}
	c.AdminKey = getenv("CUSTODIA_ADMIN_KEY")
	c.AdminSecret = getenv("CUSTODIA_ADMIN_SECRET")
	if f := getenv("CUSTODIA_ADMIN_SECRET_FILE"); f != "" && c.AdminSecret == "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("serve: reading CUSTODIA_ADMIN_SECRET_FILE: %w", err)
		}
		c.AdminSecret = strings.TrimSpace(string(b))
	}
	if (c.AdminKey == "") != (c.AdminSecret == "") {
		return c, usageError{"serve: CUSTODIA_ADMIN_KEY and CUSTODIA_ADMIN_SECRET must be set together"}
	}
	if strings.ContainsRune(c.AdminKey, ':') {
		return c, usageError{"serve: CUSTODIA_ADMIN_KEY must not contain ':'"}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, usageError{fmt.Sprintf("serve: --addr %q: %v", c.Addr, err)}
	}
	if c.XAPIDefault != string(xapi.V103) && c.XAPIDefault != string(xapi.V200) {
		return c, usageError{fmt.Sprintf("serve: --xapi-default-version %q: want 1.0.3 or 2.0.0", c.XAPIDefault)}
	}
	origins, err := parseOrigins(*cors)
	if err != nil {
		return c, usageError{err.Error()}
	}
	c.CORSOrigins = origins
	if _, err := parseLevel(c.LogLevel); err != nil {
		return c, usageError{err.Error()}
	}
	rate, err := strconv.ParseFloat(*rateLimit, 64)
	if err != nil || rate < 0 || math.IsInf(rate, 0) || math.IsNaN(rate) || *rateBurst < 0 {
		return c, usageError{fmt.Sprintf("serve: --rate-limit %q, --rate-burst %d: want requests a second (0 for none) and a whole number", *rateLimit, *rateBurst)}
	}
	c.RateLimit = server.RateLimit{Rate: rate, Burst: *rateBurst}
	if c.IssuersFile != "" {
		b, err := os.ReadFile(c.IssuersFile)
		if err != nil {
			return c, fmt.Errorf("serve: --issuers: %w", err)
		}
		if c.Issuers, err = server.ParseIssuers(b); err != nil {
			return c, fmt.Errorf("serve: --issuers %s: %w", c.IssuersFile, err)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, usageError{"serve: --tls-cert and --tls-key must be given together"}
	}
	if c.TLSCert != "" {
		if c.tlsPair, err = tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return c, fmt.Errorf("serve: --tls-cert/--tls-key: %w", err)
		}
	}
	return c, nil
}

// parseOrigins parses the --cors-origins list: "none", or "*" or origins of
// the form scheme://host[:port], separated by commas.
func parseOrigins(list string) ([]string, error) {
	var out []string
	if strings.TrimSpace(list) == "none" {
		return nil, nil
	}
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") {
				return nil, fmt.Errorf("serve: --cors-origins: %q is not * or an origin like https://course.example.com", o)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("serve: --log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// runServe runs the LRS until ctx is cancelled, then shuts down gracefully.
func runServe(ctx context.Context, opts runOptions, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	level, _ := parseLevel(cfg.LogLevel)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The issuers' key sets are loaded (and checked) before anything is
	// opened: a bad jwks_file leaves the data directory untouched.
	var tokens *server.TokenVerifier
	if len(cfg.Issuers) > 0 {
		if tokens, err = server.NewTokenVerifier(ctx, cfg.Issuers, server.TokenOptions{Dir: filepath.Dir(cfg.IssuersFile), Now: opts.now, Logger: logger}); err != nil {
			return fmt.Errorf("serve: --issuers %s: %w", cfg.IssuersFile, err)
		}
	}

	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("serve: creating data directory: %w", err)
	}
	keys, err := lrscrypto.OpenKeyring(filepath.Join(cfg.Data, "keys"), cfg.RootKeyFile, lrscrypto.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("serve: opening keyring: %w", err)
	}
	defer keys.Close()
	if keys.Generated() {
		logger.Warn("generated a new root key; production keeps it outside the data directory (--root-key-file) and backs it up", "file", cfg.RootKeyFile)
	}
	if cfg.NoSync {
		logger.Warn("--sync=false: commits are not fsynced; a crash may lose statements already acknowledged")
	}
	db, err := store.Open(filepath.Join(cfg.Data, "store"), keys, store.Options{SyncWrites: !cfg.NoSync, Logger: logger, Now: opts.now})
	if err != nil {
		return fmt.Errorf("serve: opening store: %w", err)
	}
	defer db.Close()
	alog, err := audit.Open(filepath.Join(cfg.Data, "audit"), audit.Options{
		Sealer: keys, Shredder: keys, Erased: keyDestroyed, Witnesses: cfg.AuditWitnesses, Logger: logger})
	if err != nil {
		return fmt.Errorf("serve: opening audit log: %w", err)
	}
	defer alog.Close()
	pubCtx, stopPublishing := context.WithCancel(ctx)
	var publisher sync.WaitGroup
	defer func() { stopPublishing(); publisher.Wait() }() // before alog.Close
	if cfg.AuditCheckpointInterval > 0 {
		publisher.Go(func() { publishCheckpoints(pubCtx, alog, cfg.AuditCheckpointInterval, logger) })
	}
	engine, err := governance.NewEngine(ctx, policies.FS)
	if err != nil {
		return fmt.Errorf("serve: loading policies: %w", err)
	}
	// Policy revisions live in the store: a restart resumes on the policy
	// activated last, not on the embedded pack.
	if err := engine.Restore(ctx, db, nil); err != nil {
		return fmt.Errorf("serve: restoring the active policy: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()

	reg := prometheus.NewRegistry()
	appends := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custodia_audit_appends_total",
		Help: "Audit entries appended, by action and policy decision: one per decision of the gate.",
	}, []string{"action", "decision"})
	reg.MustRegister(appends, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gate := governance.NewGate(governance.GateConfig{
		Engine:            engine,
		Statements:        db,
		Records:           db,
		Activities:        db,
		Documents:         db,
		Retention:         db,
		Auditor:           auditor{log: alog, appends: appends},
		AuditLog:          auditLog{alog},
		Pseudonymizer:     keys,
		AuthorityHomePage: base + "/",
		Logger:            logger,
		Now:               opts.now,
	})
	admin, secret, err := gate.Bootstrap(ctx, cfg.AdminKey, cfg.AdminSecret)
	if err != nil {
		return fmt.Errorf("serve: bootstrapping the admin credential: %w", err)
	}

	fmt.Fprintf(stdout, "Custodia is serving xAPI at %s/xapi/\n", base)
	fmt.Fprintf(stdout, "policy revision %s; audit log key %s\n", engine.Revision(), alog.VerifierKey())
	if secret != "" {
		fmt.Fprintf(stdout, "bootstrap admin credential (shown once, keep it safe):\n  key:    %s\n  secret: %s\n", admin.Key, secret)
	}

	srv := &http.Server{
		Handler: server.NewServer(server.Config{Gate: gate, Logger: logger, DefaultVersion: xapi.Version(cfg.XAPIDefault), CORSOrigins: cfg.CORSOrigins,
			Tokens: tokens, RateLimit: cfg.RateLimit, Now: opts.now, Metrics: reg}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.TLSCert != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cfg.tlsPair}}
	}
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// auditor adapts the audit log to the governance.Auditor interface, and
// reports its health (governance.AuditHealth).
type auditor struct {
	log     *audit.Log
	appends *prometheus.CounterVec // by action and decision; nil: not counted
}

func (a auditor) Record(ctx context.Context, e governance.AuditEntry) error {
	_, err := a.log.Append(ctx, audit.Entry{
		Time:           e.Time,
		RequestID:      e.RequestID,
		Principal:      e.Principal,
		Roles:          e.Roles,
		Purpose:        e.Purpose,
		Action:         e.Action,
		Resources:      e.Resources,
		Subjects:       e.Subjects,
		Decision:       e.Decision,
		Reasons:        e.Reasons,
		PolicyRevision: e.PolicyRevision,
		Count:          e.Count,
		BreakGlass:     e.BreakGlass,
		Justification:  e.Justification,
		Purposes:       e.Purposes,
		SubjectCounts:  e.SubjectCounts,
	})
	if err == nil && a.appends != nil {
		a.appends.WithLabelValues(e.Action, e.Decision).Inc()
	}
	if err != nil && errors.Is(err, audit.ErrUnavailable) {
		return unavailable(err)
	}
	return err
}

// Health implements governance.AuditHealth.
func (a auditor) Health() error {
	if err := a.log.Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// unavailable describes a failed audit log without its details (paths,
// system errors), which go to the server log.
func unavailable(err error) error {
	msg := "the audit log cannot be written (a write failed); it retries by itself, and accesses are refused until it recovers"
	if errors.Is(err, audit.ErrKeyMissing) {
		msg = "the key of a month of audit entries is missing; accesses are refused until an operator restores it (see the server log, run custodia audit verify)"
	}
	return &xapi.Error{Kind: xapi.Unavailable, Op: "audit", Msg: msg, Err: err}
}
