package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"custodia/governance"
	"custodia/xapi"
)

// The governance API of purposes: a person's own statements and consents
// (/api/v1/me/…), legal holds and the retention sweep. Every call goes
// through the Gate, which decides and records it.

// decodeObject decodes body strictly into the members of targets: one JSON
// object, keys exactly as named, no unknown keys, required members present,
// nothing after it. want describes the expected body for error messages.
func decodeObject(body []byte, targets map[string]any, required []string, want string) error {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil || dec.More() {
		return errors.New(want)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New(want)
	}
	for k, v := range fields {
		t, ok := targets[k]
		if !ok {
			return fmt.Errorf("unknown key %q (%s)", k, want)
		}
		if err := json.Unmarshal(v, t); err != nil || string(v) == "null" {
			return fmt.Errorf("%s has the wrong type", k)
		}
	}
	for _, k := range required {
		if _, ok := fields[k]; !ok {
			return fmt.Errorf("%s is required (%s)", k, want)
		}
	}
	return nil
}

// handleMeStatements answers the statements about the caller's own person
// as an xAPI StatementResult, newest first, with a `more` link.
func (s *Server) handleMeStatements(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.MyStatements"
	vals, err := parseQuery(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	limit, cursor := 0, ""
	for k, v := range vals {
		if len(v) != 1 {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "parameter %q must be given once", k))
			return
		}
		switch k {
		case "limit":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 0 {
				writeError(w, r, xapi.Errorf(xapi.Invalid, op, "limit must be a non-negative integer"))
				return
			}
			limit = n
		case cursorParam:
			cursor = v[0]
		default:
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "parameter %q is not allowed (only limit and cursor)", k))
			return
		}
	}
	stmts, next, err := s.gate.MyStatements(r.Context(), p, cursor, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"statements":[`)
	for i, st := range stmts {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := st.MarshalJSON()
		if err != nil {
			s.logInternal(r, err)
			writeError(w, r, &xapi.Error{Kind: xapi.Internal, Op: op, Err: err})
			return
		}
		buf.Write(b)
	}
	more := ""
	if next != "" {
		q := url.Values{cursorParam: {next}}
		if limit > 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		more = "/api/v1/me/statements?" + q.Encode()
	}
	fmt.Fprintf(&buf, `],"more":%s}`, strconv.Quote(more))
	writeBody(w, http.StatusOK, "application/json", buf.Bytes())
}

func (s *Server) handleMeConsents(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	cs, err := s.gate.Consents(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"consents": cs})
}

// handleMeConsentPut grants or withdraws consent to a purpose and answers
// the consent receipt.
func (s *Server) handleMeConsentPut(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.SetConsent"
	purpose := mux.Vars(r)["purpose"]
	if !governance.ValidPurpose(purpose) {
		writeError(w, r, xapi.Errorf(xapi.NotFound, op, "no purpose with that id"))
		return
	}
	body, err := readJSONBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var granted bool
	if err := decodeObject(body, map[string]any{"granted": &granted}, []string{"granted"}, `body must be {"granted": true|false}`); err != nil {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "%s", err))
		return
	}
	rec, err := s.gate.SetConsent(r.Context(), p, purpose, granted)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Server) handleMeReceipt(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	rec, err := s.gate.ConsentReceipt(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="consent-receipt-`+rec.ConsentReceiptID+`.json"`)
	writeJSON(w, http.StatusOK, rec)
}

func (s *Server) handleHoldsList(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	hs, err := s.gate.Holds(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": hs})
}

// handleHoldsCreate places a legal hold: {"agent": {xAPI Agent}} or
// {"purpose": "…"}, with an optional "reason".
func (s *Server) handleHoldsCreate(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.PlaceHold"
	body, err := readJSONBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var agent json.RawMessage
	var req governance.HoldRequest
	if err := decodeObject(body, map[string]any{"agent": &agent, "purpose": &req.Purpose, "reason": &req.Reason}, nil,
		`body must be {"agent": {xAPI Agent}} or {"purpose": "…"}, with an optional "reason"`); err != nil {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "%s", err))
		return
	}
	if len(agent) > 0 {
		a, err := xapi.ParseAgent(agent, xapi.V200)
		if err != nil {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "agent: %s", xapi.ErrorMessage(err)))
			return
		}
		req.Agent = &a
	}
	h, err := s.gate.PlaceHold(r.Context(), p, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) handleHoldsDelete(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	if err := s.gate.ReleaseHold(r.Context(), p, mux.Vars(r)["id"]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRetentionSweep runs the retention sweep: {"dry_run": true|false}.
func (s *Server) handleRetentionSweep(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.SweepRetention"
	body, err := readJSONBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var dryRun bool
	if err := decodeObject(body, map[string]any{"dry_run": &dryRun}, []string{"dry_run"}, `body must be {"dry_run": true|false}`); err != nil {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "%s", err))
		return
	}
	rep, err := s.gate.SweepRetention(r.Context(), p, dryRun)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
