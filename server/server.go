// Package server is Custodia's HTTP interface: the xAPI resources under
// /xapi/ (xAPI 1.0.3 Communication and IEEE 9274.1.1 §4.1), the governance
// API under /api/v1/, and /healthz.
//
// The server is handed only the governance Gate: it parses and validates
// requests (package xapi), authenticates them into a governance.Principal
// (Basic credentials through the Gate; Bearer JWTs of the configured issuers
// verified here, see TokenVerifier, before anything reaches the Gate),
// applies per-credential rate limits, and leaves every decision about data
// to the Gate. Errors become JSON
// bodies {"error": {"code", "message"}} through one Kind→status table.
package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"custodia/governance"
	"custodia/xapi"
)

// Config holds what a Server is built from.
type Config struct {
	Gate         *governance.Gate
	Logger       *slog.Logger
	MaxBodyBytes int64            // request body limit; 0: 16 MiB
	Now          func() time.Time // nil: time.Now
	// DefaultVersion is the version named in X-Experience-API-Version on
	// answers to requests that name none we speak (""; 2.0.0).
	DefaultVersion xapi.Version
	// Tokens verifies Bearer JWTs; nil: only Basic credentials are accepted.
	Tokens *TokenVerifier
	// RateLimit limits the requests of each credential (or token subject);
	// the zero value is no limit.
	RateLimit RateLimit
	// CORSOrigins are the origins whose browser clients may call the xAPI
	// resources (CORS): "*" for any, or exact origins such as
	// "https://course.example.com". Empty: no CORS headers are sent.
	CORSOrigins []string
	// Metrics, when set, receives the server's metrics (requests by route
	// and status, their latency, statements stored) and is served at
	// GET /metrics in the Prometheus text format; nil: no /metrics.
	Metrics *prometheus.Registry
}

// Server serves the xAPI and governance HTTP interfaces.
type Server struct {
	metrics *metrics // nil: none
	gate    *governance.Gate
	log     *slog.Logger
	limit   int64
	now     func() time.Time
	defVer  xapi.Version
	// origins are the CORS origins allowed (see Config.CORSOrigins).
	origins []string
	tokens  *TokenVerifier
	limits  *limiters
	router  *mux.Router
	h       http.Handler // router wrapped in the middleware every request passes
}

// NewServer returns the HTTP handler of Custodia.
func NewServer(cfg Config) *Server {
	s := &Server{gate: cfg.Gate, log: cfg.Logger, limit: cfg.MaxBodyBytes, now: cfg.Now, defVer: cfg.DefaultVersion,
		origins: slices.Clone(cfg.CORSOrigins), tokens: cfg.Tokens, metrics: newMetrics(cfg.Metrics)}
	if s.defVer == "" {
		s.defVer = xapi.V200
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.limit <= 0 {
		s.limit = 16 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.RateLimit.Rate > 0 {
		burst := cfg.RateLimit.Burst
		if burst <= 0 {
			burst = max(1, int(2*cfg.RateLimit.Rate))
		}
		s.limits = &limiters{cfg: RateLimit{Rate: cfg.RateLimit.Rate, Burst: burst}, now: s.now, m: map[string]*rate.Limiter{}}
	}
	s.router = mux.NewRouter()
	s.routes()
	s.h = s.recoverer(s.requestID(s.logRequests(s.cors(s.alternateSyntax(s.versionHeader(s.router))))))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.h.ServeHTTP(w, r)
}
