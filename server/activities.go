package server

import (
	"net/http"

	"custodia/governance"
	"custodia/xapi"
)

// handleActivitiesGet answers the Activities resource (xAPI Communication
// §2.5, IEEE 9274.1.1 §4.1.6.4): the full Activity object with the LRS's
// canonical definition, or {objectType, id} for an Activity no statement
// defined. activityId is required, once, and nothing else is allowed.
func (s *Server) handleActivitiesGet(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	vals, err := parseQuery(r, "server.activities")
	if err != nil {
		writeError(w, r, err)
		return
	}
	id, err := xapi.ParseActivitiesQuery(vals)
	if err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.gate.Activity(r.Context(), p, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := a.MarshalJSON()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, "application/json", b)
}

// handleAgentsGet answers the Agents resource (xAPI Communication §2.4,
// IEEE 9274.1.1 §4.1.6.3): the Person object of the agent parameter, a JSON
// Agent (not a Group), required once; nothing else is allowed.
func (s *Server) handleAgentsGet(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	vals, err := parseQuery(r, "server.agents")
	if err != nil {
		writeError(w, r, err)
		return
	}
	a, err := xapi.ParseAgentsQuery(vals, versionOf(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	person, err := s.gate.Person(r.Context(), p, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := person.MarshalJSON()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, "application/json", b)
}
