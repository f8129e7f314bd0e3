package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gorilla/mux"

	"custodia/governance"
	"custodia/xapi"
)

// credentialRequest is the body of POST /api/v1/credentials.
type credentialRequest struct {
	Name    string          `json:"name"`
	Roles   []string        `json:"roles"`
	Scopes  []string        `json:"scopes"`
	Agent   json.RawMessage `json:"agent"`
	Purpose string          `json:"purpose"`
}

// credentialCreated is the answer to POST /api/v1/credentials: the
// credential and, this once, its secret.
type credentialCreated struct {
	governance.Credential
	Secret string `json:"secret"`
}

// MarshalJSON keeps the embedded credential's own encoding and adds the secret.
func (c credentialCreated) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.Credential)
	if err != nil {
		return nil, err
	}
	sec, _ := json.Marshal(c.Secret)
	return append(append(b[:len(b)-1], `,"secret":`...), append(sec, '}')...), nil
}

// decodeCredentialRequest decodes strictly: one JSON object, keys exactly
// as named (encoding/json alone would accept "Scopes" for "scopes"), no
// unknown keys, nothing after it.
func decodeCredentialRequest(body []byte) (credentialRequest, error) {
	const want = "body must be one JSON object with name, roles, scopes, agent, purpose"
	var req credentialRequest
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil || dec.More() {
		return req, errors.New(want)
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, errors.New(want)
	}
	targets := map[string]any{"name": &req.Name, "roles": &req.Roles, "scopes": &req.Scopes, "agent": &req.Agent, "purpose": &req.Purpose}
	for k, v := range fields {
		t, ok := targets[k]
		if !ok {
			return req, fmt.Errorf("unknown key %q (%s)", k, want)
		}
		if err := json.Unmarshal(v, t); err != nil {
			return req, fmt.Errorf("%s has the wrong type", k)
		}
	}
	return req, nil
}

func (s *Server) handleCredentialsCreate(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.CreateCredential"
	body, err := readJSONBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	req, err := decodeCredentialRequest(body)
	if err != nil {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "%s", err))
		return
	}
	cr := governance.CredentialRequest{Name: req.Name, Roles: req.Roles, Scopes: req.Scopes, Purpose: req.Purpose}
	if len(req.Agent) > 0 && string(req.Agent) != "null" {
		a, err := xapi.ParseAgent(req.Agent, xapi.V200)
		if err != nil {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "agent: %s", xapi.ErrorMessage(err)))
			return
		}
		cr.Agent = &a
	}
	if len(cr.Scopes) == 0 {
		cr.Scopes = defaultScopes(cr.Roles)
	}
	c, secret, err := s.gate.CreateCredential(r.Context(), p, cr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, credentialCreated{Credential: c, Secret: secret})
}

// defaultScopes are the scopes of a credential created without any: xAPI's
// default for OAuth clients (statements/write, statements/read/mine); for
// a learner also state and profile, which the course player acting for
// that person needs (cmi5 reads LMS.LaunchData and the learner
// preferences); all for an admin. Staff roles alone (hr, compliance,
// auditor) write no statements: they get statements/read/mine, which
// reads only their own statements when the credential names a person.
func defaultScopes(roles []string) []string {
	learner, writer := false, false
	for _, r := range roles {
		switch r {
		case governance.RoleAdmin:
			return []string{"all"}
		case governance.RoleLearner:
			learner, writer = true, true
		case governance.RoleClient:
			writer = true
		}
	}
	switch {
	case learner:
		return []string{"statements/write", "statements/read/mine", "state", "profile"}
	case !writer && len(roles) > 0:
		return []string{"statements/read/mine"}
	}
	return []string{"statements/write", "statements/read/mine"}
}

func (s *Server) handleCredentialsList(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	cs, err := s.gate.ListCredentials(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"credentials": cs})
}

func (s *Server) handleCredentialsRevoke(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	if err := s.gate.RevokeCredential(r.Context(), p, mux.Vars(r)["key"]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleCredentialsRotate gives a credential a new secret, answered this
// once; the old secret stops working at once.
func (s *Server) handleCredentialsRotate(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	c, secret, err := s.gate.RotateCredential(r.Context(), p, mux.Vars(r)["key"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, credentialCreated{Credential: c, Secret: secret})
}
