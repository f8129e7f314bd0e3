package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"custodia/xapi"
)

// routes lists every route of the server.
func (s *Server) routes() {
	r := s.router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.servesOtherMethod(r) {
			writeError(w, r, errMethodNotAllowed)
			return
		}
		writeError(w, r, errNotFoundRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errMethodNotAllowed)
	})

	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)

	x := r.PathPrefix("/xapi").Subrouter()
	x.NotFoundHandler = r.NotFoundHandler
	x.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	x.Use(s.xapiVersion)
	x.Handle("/about", handleAbout()).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/statements", s.consistentThrough(s.authed(s.handleStatementsPut))).Methods(http.MethodPut)
	x.Handle("/statements", s.consistentThrough(s.authed(s.handleStatementsPost))).Methods(http.MethodPost)
	x.Handle("/statements", s.consistentThrough(s.authed(s.handleStatementsGet))).Methods(http.MethodGet, http.MethodHead)
	for _, doc := range []struct {
		path string
		kind xapi.DocumentKind
	}{
		{"/activities/state", xapi.StateDocument},
		{"/activities/profile", xapi.ActivityProfileDocument},
		{"/agents/profile", xapi.AgentProfileDocument},
	} {
		path, kind := doc.path, doc.kind
		x.Handle(path, s.authed(s.handleDocumentGet(kind))).Methods(http.MethodGet, http.MethodHead)
		x.Handle(path, s.authed(s.handleDocumentPut(kind))).Methods(http.MethodPut)
		x.Handle(path, s.authed(s.handleDocumentPost(kind))).Methods(http.MethodPost)
		x.Handle(path, s.authed(s.handleDocumentDelete(kind))).Methods(http.MethodDelete)
	}

	api := r.PathPrefix("/api/v1").Subrouter()
	api.NotFoundHandler = r.NotFoundHandler
	api.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	api.Handle("/credentials", s.authed(s.handleCredentialsCreate)).Methods(http.MethodPost)
	api.Handle("/credentials", s.authed(s.handleCredentialsList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/credentials/{key}", s.authed(s.handleCredentialsRevoke)).Methods(http.MethodDelete)
}

// servesOtherMethod reports whether a route serves the path of req with
// another method, so that the answer is 405, not 404. gorilla/mux v1.8.1
// detects this itself only when no later route of the same subrouter
// follows the mismatched one: the later route's shared path-prefix matcher
// clears the mismatch.
func (s *Server) servesOtherMethod(req *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
		if m == req.Method {
			continue
		}
		c := req.Clone(req.Context())
		c.Method = m
		var rm mux.RouteMatch
		if s.router.Match(c, &rm) && rm.MatchErr == nil {
			return true
		}
	}
	return false
}
