package server

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"custodia/governance"
	"custodia/xapi"
)

// maxAuthorizationBytes bounds the Authorization header: a Bearer token of
// MaxTokenBytes and its scheme.
const maxAuthorizationBytes = MaxTokenBytes + len("Bearer ")

var errNoCredentials = xapi.Errorf(xapi.Unauthorized, "server", "authentication required: send Basic credentials or a Bearer token")

// authenticate establishes the principal of r from its Authorization
// header: Basic key:secret (checked by the Gate) or a Bearer JWT (checked
// here, against the configured issuers, before anything reaches the Gate).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (governance.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return governance.Principal{}, errNoCredentials
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custodia", error="invalid_token"`)
	}
	if len(h) > maxAuthorizationBytes || len(r.Header.Values("Authorization")) != 1 {
		return governance.Principal{}, xapi.Errorf(xapi.Unauthorized, "server", "invalid Authorization header")
	}
	switch {
	case strings.EqualFold(scheme, "Basic"):
		key, secret, ok := r.BasicAuth()
		if !ok || key == "" {
			return governance.Principal{}, xapi.Errorf(xapi.Unauthorized, "server", "invalid Basic credentials")
		}
		return s.gate.Authenticate(r.Context(), key, secret)
	case strings.EqualFold(scheme, "Bearer"):
		if s.tokens == nil {
			return governance.Principal{}, xapi.Errorf(xapi.Unauthorized, "server", "Bearer tokens are not accepted: no issuer is configured")
		}
		p, err := s.tokens.Verify(r.Context(), strings.TrimSpace(rest))
		if err == nil {
			w.Header().Del("WWW-Authenticate")
		}
		return p, err
	}
	return governance.Principal{}, errNoCredentials
}

// RateLimit is a per-credential request rate: on average Rate requests a
// second, in bursts of up to Burst. A zero Rate is no limit.
type RateLimit struct {
	Rate  float64
	Burst int
}

// limiters holds a token bucket per principal id.
type limiters struct {
	cfg RateLimit
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*rate.Limiter
}

// maxLimiters bounds the buckets kept; beyond it, full (idle) ones go.
const maxLimiters = 100000

// allow takes a token from id's bucket, or reports how long until one is
// available.
func (l *limiters) allow(id string) (bool, time.Duration) {
	if l == nil || l.cfg.Rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	lim, ok := l.m[id]
	if !ok {
		if len(l.m) >= maxLimiters {
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.cfg.Burst) {
					delete(l.m, k)
				}
			}
		}
		lim = rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst)
		l.m[id] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter is the Retry-After value of a delay: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// authed authenticates a request (Basic or Bearer), applies the
// per-credential rate limit, and calls h with the principal. The
// X-Custodia-Purpose header names the request's purpose; without it the
// credential's (or token's) default purpose applies.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, governance.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if ok, wait := s.limits.allow(p.ID); !ok {
			w.Header().Set("Retry-After", retryAfter(wait))
			writeError(w, r, xapi.Errorf(xapi.RateLimited, "server", "too many requests for this credential: retry after %s seconds", retryAfter(wait)))
			return
		}
		if purpose := r.Header.Get("X-Custodia-Purpose"); purpose != "" {
			if !governance.ValidPurpose(purpose) {
				writeError(w, r, xapi.Errorf(xapi.Invalid, "server", "X-Custodia-Purpose must be a purpose identifier: 1 to 64 of a-z, 0-9, '.', '_', '-'"))
				return
			}
			p.Purpose = purpose
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.limit)
		h(w, r, p)
	})
}
