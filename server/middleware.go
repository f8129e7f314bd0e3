package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"custodia/governance"
	"custodia/xapi"
)

// headerVersion is the xAPI version header (xAPI Communication §3.3).
const headerVersion = "X-Experience-API-Version"

// recoverer turns a panic into a 500 and logs it once. Input must never
// cause a panic; this is the last line of defence, not a code path.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "request_id", governance.RequestID(r.Context()), "panic", v)
				writeError(w, r, &xapi.Error{Kind: xapi.Internal, Op: "server"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestID gives every request an id, in the context and in X-Request-Id.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		// Stored documents are served with the type their writer gave: never
		// let a browser sniff or run them on this origin, frame them, or
		// leak their URLs (which may hold agents) in a Referer.
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/xapi/") || strings.HasPrefix(r.URL.Path, "/api/") {
			hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// Governance answers hold personal data and secrets: no cache keeps them.
			hd.Set("Cache-Control", "no-store")
		}
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r.WithContext(governance.WithRequestID(r.Context(), id)))
	})
}

// routeKey carries, for the log line, a pointer the router fills with the
// matched route template (the router works on a copy of the request).
type routeKey struct{}

// noteRoute records the matched route template for logRequests.
func noteRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(routeKey{}).(*string); ok {
			if m := mux.CurrentRoute(r); m != nil {
				if t, err := m.GetPathTemplate(); err == nil {
					*p = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logRequests logs one line per request: method, route template (never the
// query string, which may hold personal data), status and duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w}
		route := "unmatched"
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, &route)))
		d := s.now().Sub(start)
		s.metrics.observe(r.Method, route, rec.status, d)
		s.log.InfoContext(r.Context(), "request", "method", r.Method, "route", route, "status", rec.status,
			"duration_ms", float64(d.Microseconds())/1000, "request_id", governance.RequestID(r.Context()))
	})
}

// versionHeader sets X-Experience-API-Version on every response under
// /xapi/, errors and unknown routes included (XAPI-00333): the latest patch
// of the version in use, or the configured default when the request names
// none we speak.
func (s *Server) versionHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/xapi/") {
			w.Header().Set(headerVersion, string(s.responseVersion(r.Header.Get(headerVersion))))
		}
		if r.URL.Path == "/xapi/statements" {
			// On every statements response, errors included (XAPI-00153).
			w.Header().Set("X-Experience-API-Consistent-Through", formatTime(s.gate.ConsistentThrough()))
		}
		next.ServeHTTP(w, r)
	})
}

// responseVersion reports the version to name in X-Experience-API-Version
// on the answer to a request whose version header is h: the latest patch of
// the version h names, or the configured default when h names none we speak.
func (s *Server) responseVersion(h string) xapi.Version {
	v, err := xapi.ParseVersionHeader(h)
	if err != nil {
		return s.defVer
	}
	return v
}

// xapiVersion requires a supported X-Experience-API-Version on the xAPI
// resources (xAPI Communication §3.3). /about answers whatever the request
// says (§2.8).
func (s *Server) xapiVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := xapi.ParseVersionHeader(r.Header.Get(headerVersion)); err != nil && !strings.HasSuffix(r.URL.Path, "/about") {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// versionOf reports the xAPI version of a request that passed xapiVersion.
func versionOf(r *http.Request) xapi.Version {
	v, _ := xapi.ParseVersionHeader(r.Header.Get(headerVersion))
	return v
}

// fail answers err as an xAPI error, logging it first when it is not the
// client's doing.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logInternal(r, err)
	writeError(w, r, err)
}

// logInternal logs err once at the boundary when it is not the client's doing.
func (s *Server) logInternal(r *http.Request, err error) {
	if xapi.ErrorKind(err) == xapi.Internal {
		s.log.ErrorContext(r.Context(), "internal error", "request_id", governance.RequestID(r.Context()), "err", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// formatTime formats t as an xAPI timestamp: UTC, millisecond precision.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
