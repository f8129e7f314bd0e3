package server

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gorilla/mux"

	"custodia/xapi"
)

// routes lists every route of the server.
func (s *Server) routes() {
	r := s.router
	// No path cleaning: gorilla/mux would answer a path with "." or ".."
	// segments (as /credentials/..%2F..%2Fx decodes to) with an empty 301
	// to the cleaned path; such a path matches no route and gets a JSON 404.
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// gorilla/mux v1.8.1 reports a method mismatch only when no later
		// route of the same subrouter follows the mismatched one; the later
		// route's shared path-prefix matcher clears it. So a 404 is checked
		// against the routes' paths here.
		if allow := s.allowedMethods(r); allow != "" {
			w.Header().Set("Allow", allow)
			writeError(w, r, errMethodNotAllowed)
			return
		}
		writeError(w, r, errNotFoundRoute)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", s.allowedMethods(r))
		writeError(w, r, errMethodNotAllowed)
	})
	r.Use(noteRoute)

	r.Handle("/healthz", s.handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	if s.metrics != nil {
		r.Handle("/metrics", s.metrics.handler).Methods(http.MethodGet)
	}

	x := r.PathPrefix("/xapi").Subrouter()
	x.NotFoundHandler = r.NotFoundHandler
	x.MethodNotAllowedHandler = r.MethodNotAllowedHandler
	x.Use(noteRoute, s.xapiVersion)
	x.Handle("/about", handleAbout()).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/statements", s.authed(s.handleStatementsPut)).Methods(http.MethodPut)
	x.Handle("/statements", s.authed(s.handleStatementsPost)).Methods(http.MethodPost)
	x.Handle("/statements", s.authed(s.handleStatementsGet)).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/activities", s.authed(s.handleActivitiesGet)).Methods(http.MethodGet, http.MethodHead)
	x.Handle("/agents", s.authed(s.handleAgentsGet)).Methods(http.MethodGet, http.MethodHead)
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
	api.Use(noteRoute)
	api.Handle("/credentials", s.authed(s.handleCredentialsCreate)).Methods(http.MethodPost)
	api.Handle("/credentials", s.authed(s.handleCredentialsList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/credentials/{key}", s.authed(s.handleCredentialsRevoke)).Methods(http.MethodDelete)
	api.Handle("/openapi.json", handleOpenAPI()).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/policies", s.authed(s.handlePoliciesList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/policies/revisions", s.authed(s.handlePolicyRevisions)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/policies/rollback", s.authed(s.handlePolicyRollback)).Methods(http.MethodPost)
	api.Handle("/policies/simulate", s.authed(s.handlePolicySimulate)).Methods(http.MethodPost)
	api.Handle("/policies/{name}", s.authed(s.handlePolicyGet)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/policies/{name}", s.authed(s.handlePolicyPut)).Methods(http.MethodPut)
	api.Handle("/policies/{name}", s.authed(s.handlePolicyDelete)).Methods(http.MethodDelete)
	api.Handle("/policy-data", s.authed(s.handlePolicyDataGet)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/policy-data", s.authed(s.handlePolicyDataPut)).Methods(http.MethodPut)
	// Purposes, consent, legal holds, retention (purposes.go).
	api.Handle("/me/statements", s.authed(s.handleMeStatements)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/me/consents", s.authed(s.handleMeConsents)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/me/consents/receipts/{id}", s.authed(s.handleMeReceipt)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/me/consents/{purpose}", s.authed(s.handleMeConsentPut)).Methods(http.MethodPut)
	api.Handle("/holds", s.authed(s.handleHoldsList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/holds", s.authed(s.handleHoldsCreate)).Methods(http.MethodPost)
	api.Handle("/holds/{id}", s.authed(s.handleHoldsDelete)).Methods(http.MethodDelete)
	api.Handle("/retention/sweep", s.authed(s.handleRetentionSweep)).Methods(http.MethodPost)
	// The audit log: auditors, witnesses, and each person's access log (audit.go).
	api.Handle("/audit/entries", s.authed(s.handleAuditEntries)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/audit/checkpoint", s.authed(s.handleAuditCheckpoint)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/audit/checkpoint", s.authed(s.handleAuditPublish)).Methods(http.MethodPost)
	api.Handle("/audit/checkpoint/cosign", s.authed(s.handleAuditCosign)).Methods(http.MethodPost)
	api.Handle("/audit/key", s.authed(s.handleAuditKey)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/audit/proof/inclusion", s.authed(s.handleAuditInclusion)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/audit/proof/consistency", s.authed(s.handleAuditConsistency)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/me/access-log", s.authed(s.handleMeAccessLog)).Methods(http.MethodGet, http.MethodHead)
	// Credential rotation and break-glass access (credentials.go, breakglass.go).
	api.Handle("/credentials/{key}/rotate", s.authed(s.handleCredentialsRotate)).Methods(http.MethodPost)
	api.Handle("/break-glass", s.authed(s.handleBreakGlassOpen)).Methods(http.MethodPost)
	api.Handle("/break-glass", s.authed(s.handleBreakGlassList)).Methods(http.MethodGet, http.MethodHead)
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

// RouteTemplates lists "METHOD /path/template" for every route, as the
// router has them: for the OpenAPI check and the authorisation matrix,
// which must each cover every route.
func (s *Server) RouteTemplates() []string {
	var out []string
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		t, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter's prefix
		}
		for _, m := range ms {
			out = append(out, m+" "+t)
		}
		return nil
	})
	return out
}
