package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"custodia/governance"
	"custodia/xapi"
)

// breakGlassRequest is the body of POST /api/v1/break-glass.
type breakGlassRequest struct {
	Justification string `json:"justification"`
	Minutes       int    `json:"minutes"`
	Purpose       string `json:"purpose"`
}

// handleBreakGlassOpen opens a break-glass session for the caller.
func (s *Server) handleBreakGlassOpen(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.OpenBreakGlass"
	body, err := readJSONBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var req breakGlassRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "body must be one JSON object with justification, minutes and optionally purpose"))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "body must be one JSON object with justification, minutes and optionally purpose"))
		return
	}
	sess, err := s.gate.OpenBreakGlass(r.Context(), p, governance.BreakGlassRequest{Justification: req.Justification, Minutes: req.Minutes, Purpose: req.Purpose})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sess)
}

// handleBreakGlassList lists the break-glass sessions for review.
func (s *Server) handleBreakGlassList(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	list, err := s.gate.BreakGlassSessions(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
}
