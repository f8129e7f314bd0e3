package server

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gorilla/mux"
)

// routes lists every route of the server.
func (s *Server) routes() {
	r := s.router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errNotFoundRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", s.allowedMethods(r))
		writeError(w, r, errMethodNotAllowed)
	})
	r.Use(noteRoute)

	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)

	x := r.PathPrefix("/xapi").Subrouter()
	x.NotFoundHandler = r.NotFoundHandler
	x.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	x.Use(noteRoute, s.xapiVersion)
	x.Handle("/about", handleAbout()).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/statements", s.authed(s.handleStatementsPut)).Methods(http.MethodPut)
	x.Handle("/statements", s.authed(s.handleStatementsPost)).Methods(http.MethodPost)
	x.Handle("/statements", s.authed(s.handleStatementsGet)).Methods(http.MethodGet, http.MethodHead)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.NotFoundHandler = r.NotFoundHandler
	api.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	api.Use(noteRoute)
	api.Handle("/credentials", s.authed(s.handleCredentialsCreate)).Methods(http.MethodPost)
	api.Handle("/credentials", s.authed(s.handleCredentialsList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/credentials/{key}", s.authed(s.handleCredentialsRevoke)).Methods(http.MethodDelete)
}

// allowedMethods lists the methods the routes of r's path accept, for the
// Allow header of a 405 (RFC 9110 §15.5.6).
func (s *Server) allowedMethods(r *http.Request) string {
	seen := map[string]bool{}
	var out []string
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		re, err := route.GetPathRegexp()
		if err != nil {
			return nil
		}
		if ok, _ := regexp.MatchString(re, r.URL.Path); !ok {
			return nil
		}
		ms, _ := route.GetMethods()
		for _, m := range ms {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
		return nil
	})
	return strings.Join(out, ", ")
}
