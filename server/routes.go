package server

import (
	"net/http"

	"custodia/xapi"
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
