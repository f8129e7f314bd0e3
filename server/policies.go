package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"custodia/governance"
	"custodia/xapi"
)

// The policy management API (/api/v1/policies…, /api/v1/policy-data). The
// gate decides each call (policies.read or policies.manage) and records it.

// revisionAnswer is the answer to a change: the revision now active.
type revisionAnswer struct {
	Revision string `json:"revision"`
}

func (s *Server) handlePoliciesList(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	ov, err := s.gate.Policies(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ov)
}

func (s *Server) handlePolicyGet(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	src, err := s.gate.PolicyModule(r.Context(), p, mux.Vars(r)["name"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, "text/plain; charset=utf-8", []byte(src))
}

func (s *Server) handlePolicyPut(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.PutPolicy"
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, r, readBodyError(err, op))
		return
	}
	if !utf8.Valid(body) {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "a policy module must be UTF-8 text"))
		return
	}
	rev, err := s.gate.PutPolicyModule(r.Context(), p, mux.Vars(r)["name"], string(body))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revisionAnswer{rev})
}

func (s *Server) handlePolicyDelete(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	rev, err := s.gate.DeletePolicyModule(r.Context(), p, mux.Vars(r)["name"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revisionAnswer{rev})
}

func (s *Server) handlePolicyDataGet(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	data, err := s.gate.PolicyData(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, "application/json", data)
}

func (s *Server) handlePolicyDataPut(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	body, err := readJSONBody(r, "server.PutPolicyData")
	if err != nil {
		writeError(w, r, err)
		return
	}
	rev, err := s.gate.PutPolicyData(r.Context(), p, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revisionAnswer{rev})
}

func (s *Server) handlePolicyRevisions(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	revs, err := s.gate.PolicyRevisions(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	active := ""
	for _, rev := range revs {
		if rev.Active {
			active = rev.ID
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": active, "revisions": revs})
}

func (s *Server) handlePolicyRollback(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.RollbackPolicy"
	var req struct {
		Revision string `json:"revision"`
	}
	if err := decodeBody(r, op, &req, "revision"); err != nil {
		writeError(w, r, err)
		return
	}
	rev, err := s.gate.RollbackPolicy(r.Context(), p, req.Revision)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revisionAnswer{rev})
}

func (s *Server) handlePolicySimulate(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.SimulatePolicy"
	var req struct {
		Modules map[string]string `json:"modules"`
		Remove  []string          `json:"remove"`
		Data    json.RawMessage   `json:"data"`
		Limit   int               `json:"limit"`
	}
	if err := decodeBody(r, op, &req, "modules", "remove", "data", "limit"); err != nil {
		writeError(w, r, err)
		return
	}
	if bytes.Equal(bytes.TrimSpace(req.Data), []byte("null")) {
		req.Data = nil
	}
	sim, err := s.gate.SimulatePolicy(r.Context(), p, governance.SimulationRequest{Modules: req.Modules, Remove: req.Remove, Data: req.Data, Limit: req.Limit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sim)
}

// decodeBody decodes a JSON request body strictly into dst: one object,
// whose keys are among keys exactly as spelt (encoding/json alone would take
// "Revision" for "revision"), each of the right type, nothing after it.
func decodeBody(r *http.Request, op string, dst any, keys ...string) error {
	body, err := readJSONBody(r, op)
	if err != nil {
		return err
	}
	want := fmt.Sprintf("body must be one JSON object with the keys %q", keys)
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return xapi.Errorf(xapi.Invalid, op, "%s", want)
	}
	if _, err := dec.Token(); err != io.EOF {
		return xapi.Errorf(xapi.Invalid, op, "%s", want)
	}
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	for k := range fields {
		if !allowed[k] {
			return xapi.Errorf(xapi.Invalid, op, "unknown key %q (%s)", k, want)
		}
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return xapi.Errorf(xapi.Invalid, op, "%s has the wrong type", te.Field)
		}
		return xapi.Errorf(xapi.Invalid, op, "%s", want)
	}
	return nil
}
