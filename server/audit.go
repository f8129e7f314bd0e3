package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"custodia/governance"
	"custodia/xapi"
)

// The audit API (/api/v1/audit/…) and the employee's access log
// (/api/v1/me/access-log). Every call is decided and recorded by the Gate.

// auditEntry is an audit entry on the wire (JSON; CSV has the same columns).
type auditEntry struct {
	Index          int64          `json:"index"`
	Time           time.Time      `json:"time,omitzero"`
	RequestID      string         `json:"request_id,omitempty"`
	Principal      string         `json:"principal,omitempty"`
	Roles          []string       `json:"roles,omitempty"`
	Purpose        string         `json:"purpose,omitempty"`
	Action         string         `json:"action,omitempty"`
	Resources      []string       `json:"resources,omitempty"`
	Subjects       []string       `json:"subjects,omitempty"`
	Decision       string         `json:"decision,omitempty"`
	Reasons        []string       `json:"reasons,omitempty"`
	PolicyRevision string         `json:"policy_revision,omitempty"`
	Count          int            `json:"count"`
	BreakGlass     bool           `json:"break_glass,omitempty"`
	Justification  string         `json:"justification,omitempty"`
	Purposes       []string       `json:"purposes,omitempty"`
	SubjectCounts  map[string]int `json:"subject_counts,omitempty"`
	Month          string         `json:"month"`
	Erasure        bool           `json:"erasure,omitempty"`
	Commitment     string         `json:"commitment,omitempty"`
	Salt           string         `json:"salt,omitempty"`
	Body           string         `json:"body,omitempty"`
	RecordData     string         `json:"record_data"`
	LeafHash       string         `json:"leaf_hash"`
	Erased         bool           `json:"erased,omitempty"`
	Damaged        bool           `json:"damaged,omitempty"`
}

func wireEntry(r governance.AuditRecord) auditEntry {
	e := r.Entry
	return auditEntry{Index: r.Index, Time: e.Time, RequestID: e.RequestID, Principal: e.Principal, Roles: e.Roles, Purpose: e.Purpose,
		Action: e.Action, Resources: e.Resources, Subjects: e.Subjects, Decision: e.Decision, Reasons: e.Reasons,
		PolicyRevision: e.PolicyRevision, Count: e.Count, BreakGlass: e.BreakGlass, Justification: e.Justification,
		Purposes: e.Purposes, SubjectCounts: e.SubjectCounts, Month: r.Month, Erasure: r.Erasure,
		Commitment: r.Commitment, Salt: r.Salt, Body: r.Body, RecordData: r.RecordData, LeafHash: r.LeafHash, Erased: r.Erased, Damaged: r.Damaged}
}

var csvHeader = []string{"index", "time", "request_id", "principal", "roles", "purpose", "action", "resources", "subjects",
	"decision", "reasons", "policy_revision", "count", "break_glass", "justification", "commitment", "salt", "leaf_hash", "erased", "damaged",
	"purposes", "subject_counts", "month", "erasure", "body", "record_data"}

// csvList encodes a list (or map) column as JSON ("" when empty), so that
// no separator inside a value can be confused with one between values.
func csvList[T any](v []T) string {
	if len(v) == 0 {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (e auditEntry) csvRow() []string {
	t := ""
	if !e.Time.IsZero() {
		t = e.Time.UTC().Format(time.RFC3339Nano)
	}
	counts := ""
	if len(e.SubjectCounts) > 0 {
		b, _ := json.Marshal(e.SubjectCounts)
		counts = string(b)
	}
	row := []string{strconv.FormatInt(e.Index, 10), t, e.RequestID, e.Principal, csvList(e.Roles), e.Purpose, e.Action,
		csvList(e.Resources), csvList(e.Subjects), e.Decision, csvList(e.Reasons), e.PolicyRevision,
		strconv.Itoa(e.Count), strconv.FormatBool(e.BreakGlass), e.Justification, e.Commitment, e.Salt, e.LeafHash,
		strconv.FormatBool(e.Erased), strconv.FormatBool(e.Damaged),
		csvList(e.Purposes), counts, e.Month, strconv.FormatBool(e.Erasure), e.Body, e.RecordData}
	// A spreadsheet would run a text cell starting with one of these as a
	// formula (CSV injection); a leading quote keeps it text. The hash
	// columns stay exact base64; list columns start with '['.
	for _, i := range []int{5, 14} { // purpose, justification
		if v := row[i]; v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			row[i] = "'" + v
		}
	}
	return row
}

// queryParams checks that q holds only the named parameters, each at most
// once, and returns a getter.
func queryParams(q url.Values, op string, allowed ...string) (func(string) string, error) {
	for k, vs := range q {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			return nil, xapi.Errorf(xapi.Invalid, op, "unknown query parameter %q (known: %s)", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, xapi.Errorf(xapi.Invalid, op, "query parameter %q given more than once", k)
		}
	}
	return q.Get, nil
}

// parseInt parses a non-negative decimal parameter, written without
// leading zeros, or returns def when it is absent (def < 0: required).
func parseInt(get func(string) string, name, op string, def int64) (int64, error) {
	v := get(name)
	if v == "" {
		if def < 0 {
			return 0, xapi.Errorf(xapi.Invalid, op, "%s is required", name)
		}
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		return 0, xapi.Errorf(xapi.Invalid, op, "%s must be a non-negative integer in decimal, without leading zeros", name)
	}
	return n, nil
}

// parseLimit parses the limit parameter: 1 to MaxAuditLimit, or 0 when
// absent (the default).
func parseLimit(get func(string) string, op string) (int, error) {
	bad := xapi.Errorf(xapi.Invalid, op, "limit must be an integer from 1 to %d", governance.MaxAuditLimit)
	if get("limit") == "" {
		return 0, nil
	}
	n, err := parseInt(get, "limit", op, 0)
	if err != nil || n < 1 || n > governance.MaxAuditLimit {
		return 0, bad
	}
	return int(n), nil
}

func parseTimeParam(get func(string) string, name, op string) (time.Time, error) {
	v := get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, xapi.Errorf(xapi.Invalid, op, "%s must be an RFC 3339 timestamp", name)
	}
	return t, nil
}

// wantsCSV reports whether the request asks for CSV: format=csv, or an
// Accept header naming text/csv (and format not json).
func wantsCSV(r *http.Request, format string) bool {
	switch format {
	case "csv":
		return true
	case "json":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

func (s *Server) handleAuditEntries(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.AuditEntries"
	get, err := queryParams(r.URL.Query(), op, "from", "to", "principal", "agent", "action", "decision", "purpose", "cursor", "limit", "format")
	if err != nil {
		writeError(w, r, err)
		return
	}
	var q governance.AuditQuery
	if q.From, err = parseTimeParam(get, "from", op); err == nil {
		q.To, err = parseTimeParam(get, "to", op)
	}
	if err == nil && !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		err = xapi.Errorf(xapi.Invalid, op, "from must not be after to: the range is [from, to)")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	q.Principal, q.Action, q.Decision, q.Purpose = get("principal"), get("action"), get("decision"), get("purpose")
	if q.Decision != "" && q.Decision != "allow" && q.Decision != "deny" {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "decision must be allow or deny"))
		return
	}
	if a := get("agent"); a != "" {
		agent, err := xapi.ParseAgent([]byte(a), xapi.V200)
		if err != nil || agent.IsGroup() {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "agent must be an xAPI Agent object (JSON) with one inverse functional identifier"))
			return
		}
		q.Agent = &agent
	}
	format := get("format")
	if format != "" && format != "csv" && format != "json" {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "format must be json or csv"))
		return
	}
	limit, err := parseLimit(get, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	recs, next, err := s.gate.AuditEntries(r.Context(), p, q, get("cursor"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries := make([]auditEntry, 0, len(recs))
	for _, rec := range recs {
		entries = append(entries, wireEntry(rec))
	}
	if next != "" {
		w.Header().Set("X-Custodia-Next-Cursor", next)
	}
	if !wantsCSV(r, format) {
		writeJSON(w, http.StatusOK, struct {
			Entries []auditEntry `json:"entries"`
			Next    string       `json:"next,omitempty"`
		}{entries, next})
		return
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(csvHeader)
	for _, e := range entries {
		cw.Write(e.csvRow())
	}
	cw.Flush()
	w.Header().Set("Content-Disposition", `attachment; filename="audit-entries.csv"`)
	writeBody(w, http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

func (s *Server) handleMeAccessLog(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.AccessLog"
	get, err := queryParams(r.URL.Query(), op, "cursor", "limit")
	if err != nil {
		writeError(w, r, err)
		return
	}
	limit, err := parseLimit(get, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	entries, next, err := s.gate.AccessLog(r.Context(), p, get("cursor"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if next != "" {
		w.Header().Set("X-Custodia-Next-Cursor", next)
	}
	writeJSON(w, http.StatusOK, struct {
		Entries []governance.AccessLogEntry `json:"entries"`
		Next    string                      `json:"next,omitempty"`
	}{entries, next})
}

// writeNote answers with a signed note or key as text/plain.
func (s *Server) writeNote(w http.ResponseWriter, r *http.Request, b []byte, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, "text/plain; charset=utf-8", b)
}

func (s *Server) handleAuditCheckpoint(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	if _, err := queryParams(r.URL.Query(), "server.AuditCheckpoint"); err != nil {
		writeError(w, r, err)
		return
	}
	b, err := s.gate.AuditCheckpoint(r.Context(), p)
	s.writeNote(w, r, b, err)
}

func (s *Server) handleAuditPublish(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	if _, err := queryParams(r.URL.Query(), "server.AuditPublish"); err != nil {
		writeError(w, r, err)
		return
	}
	b, err := s.gate.PublishAuditCheckpoint(r.Context(), p)
	s.writeNote(w, r, b, err)
}

// maxNoteBytes bounds a cosigned checkpoint.
const maxNoteBytes = 64 << 10

func (s *Server) handleAuditCosign(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.AuditCosign"
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "Content-Type must be text/plain: the cosigned checkpoint note"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNoteBytes+1))
	if err != nil {
		writeError(w, r, readBodyError(err, op))
		return
	}
	if len(body) > maxNoteBytes {
		writeError(w, r, errTooLarge)
		return
	}
	b, err := s.gate.CosignAuditCheckpoint(r.Context(), p, body)
	s.writeNote(w, r, b, err)
}

func (s *Server) handleAuditKey(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	key, err := s.gate.AuditKey(r.Context(), p)
	s.writeNote(w, r, []byte(key+"\n"), err)
}

func (s *Server) handleAuditInclusion(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.AuditInclusion"
	get, err := queryParams(r.URL.Query(), op, "index", "size")
	if err != nil {
		writeError(w, r, err)
		return
	}
	index, err := parseInt(get, "index", op, -1)
	var size int64
	if err == nil {
		size, err = parseInt(get, "size", op, -1)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	pr, err := s.gate.AuditInclusionProof(r.Context(), p, index, size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pr)
}

func (s *Server) handleAuditConsistency(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.AuditConsistency"
	get, err := queryParams(r.URL.Query(), op, "old", "new")
	if err != nil {
		writeError(w, r, err)
		return
	}
	oldSize, err := parseInt(get, "old", op, -1)
	var newSize int64
	if err == nil {
		newSize, err = parseInt(get, "new", op, -1)
	}
	if err == nil && oldSize > newSize {
		err = xapi.Errorf(xapi.Invalid, op, "old (%d) must not be larger than new (%d)", oldSize, newSize)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	pr, err := s.gate.AuditConsistencyProof(r.Context(), p, oldSize, newSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pr)
}
