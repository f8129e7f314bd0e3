package server

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes lists every route of the server.
func (s *Server) routes() {
	r := s.router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errNotFoundRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errMethodNotAllowed)
	})

	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)

	x := r.PathPrefix("/xapi").Subrouter()
	x.NotFoundHandler = notFoundOr405(x)
	x.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	x.Use(s.xapiVersion)
	x.Handle("/about", handleAbout()).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/statements", s.consistentThrough(s.authed(s.handleStatementsPut))).Methods(http.MethodPut)
	x.Handle("/statements", s.consistentThrough(s.authed(s.handleStatementsPost))).Methods(http.MethodPost)
	x.Handle("/statements", s.consistentThrough(s.authed(s.handleStatementsGet))).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/activities", s.authed(s.handleActivitiesGet)).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/agents", s.authed(s.handleAgentsGet)).Methods(http.MethodGet, http.MethodHead)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.NotFoundHandler = notFoundOr405(api)
	api.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	api.Handle("/credentials", s.authed(s.handleCredentialsCreate)).Methods(http.MethodPost)
	api.Handle("/credentials", s.authed(s.handleCredentialsList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/credentials/{key}", s.authed(s.handleCredentialsRevoke)).Methods(http.MethodDelete)
}

// notFoundOr405 answers 404, or 405 when a route of router has the path for
// another method. gorilla/mux reports the method mismatch itself only when
// no later route shares the subrouter's path prefix.
func notFoundOr405(router *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			var rm mux.RouteMatch
			if m != r.Method && router.Match(probe, &rm) && rm.MatchErr == nil {
				writeError(w, r, errMethodNotAllowed)
				return
			}
		}
		writeError(w, r, errNotFoundRoute)
	})
}
