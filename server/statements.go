package server

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"custodia/governance"
	"custodia/xapi"
)

// MaxBatch is the most statements one POST may carry. Larger imports are
// split by the client; the limit keeps one batch within one transaction
// and its audit entry within bounds.
const MaxBatch = 1000

// parseQuery parses the query string strictly: a malformed pair is an
// error, not silently dropped as url.URL.Query does.
func parseQuery(r *http.Request, op string) (url.Values, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, xapi.Errorf(xapi.Invalid, op, "the query string is malformed")
	}
	return vals, nil
}

// cursorParam carries the position token of a `more` link. It is Custodia's
// own parameter and is accepted only on links the server handed out.
const cursorParam = "cursor"

// handleStatementsPut stores one statement under the id given by the
// statementId parameter (xAPI Communication §2.1.1): 204 on success,
// also when the same statement is already stored; 409 when a different one is.
func (s *Server) handleStatementsPut(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.PutStatement"
	vals, err := parseQuery(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	for k := range vals {
		if k != "statementId" {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "parameter %q is not allowed on PUT (only statementId)", k))
			return
		}
	}
	if len(vals["statementId"]) != 1 {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "statementId parameter is required, once"))
		return
	}
	q, err := xapi.ParseQuery(vals, versionOf(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := readStatementsBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	st, err := xapi.ParseStatement(body.json, versionOf(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	atts, err := matchAttachments([]*xapi.Statement{st}, body.parts, op)
	if err == nil {
		err = checkSignatures([]*xapi.Statement{st}, atts, versionOf(r), op)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if id := st.ID(); id != "" && id != q.StatementID {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "id in the body does not match the statementId parameter"))
		return
	}
	if err := s.gate.PutStatement(r.Context(), p, q.StatementID, st, versionOf(r), atts); err != nil {
		s.fail(w, r, err)
		return
	}
	s.metrics.stored(1)
	w.WriteHeader(http.StatusNoContent)
}

// handleStatementsPost stores one statement or a batch, all or nothing, and
// answers the ids in order (xAPI Communication §2.1.2).
func (s *Server) handleStatementsPost(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.PostStatements"
	if r.URL.RawQuery != "" {
		writeError(w, r, xapi.Errorf(xapi.Invalid, op, "POST /statements takes no query parameters"))
		return
	}
	body, err := readStatementsBody(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	stmts, err := xapi.ParseStatements(body.json, versionOf(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if len(stmts) > MaxBatch {
		writeError(w, r, xapi.Errorf(xapi.TooLarge, op, "a batch holds at most %d statements; this one has %d", MaxBatch, len(stmts)))
		return
	}
	atts, err := matchAttachments(stmts, body.parts, op)
	if err == nil {
		err = checkSignatures(stmts, atts, versionOf(r), op)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	ids, err := s.gate.PutStatements(r.Context(), p, stmts, versionOf(r), atts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.metrics.stored(len(ids))
	writeJSON(w, http.StatusOK, ids)
}

// handleStatementsGet answers a single statement (statementId or
// voidedStatementId) or a StatementResult page (xAPI Communication §2.1.3).
func (s *Server) handleStatementsGet(w http.ResponseWriter, r *http.Request, p governance.Principal) {
	const op = "server.GetStatements"
	vals, err := parseQuery(r, op)
	if err != nil {
		writeError(w, r, err)
		return
	}
	cursor := ""
	if cs, ok := vals[cursorParam]; ok {
		if len(cs) != 1 || cs[0] == "" {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "cursor must be given once"))
			return
		}
		cursor = cs[0]
		delete(vals, cursorParam)
	}
	v := versionOf(r)
	q, err := xapi.ParseQuery(vals, v)
	if err != nil {
		writeError(w, r, err)
		return
	}
	langs := acceptLanguages(r.Header.Get("Accept-Language"))
	if id, voided := q.StatementID, false; id != "" || q.VoidedStatementID != "" {
		if id == "" {
			id, voided = q.VoidedStatementID, true
		}
		if cursor != "" {
			writeError(w, r, xapi.Errorf(xapi.Invalid, op, "cursor cannot be combined with statementId or voidedStatementId"))
			return
		}
		st, err := s.gate.GetStatement(r.Context(), p, id, voided)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		shown, err := s.canonical(r, p, q.Format, []*xapi.Statement{st})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		b, err := shown[0].Format(q.Format, langs)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Last-Modified", st.Stored().UTC().Format(http.TimeFormat))
		s.writeStatements(w, r, p, q.Attachments, b, []*xapi.Statement{st})
		return
	}
	stmts, next, err := s.gate.QueryStatements(r.Context(), p, q, cursor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	shown, err := s.canonical(r, p, q.Format, stmts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"statements":[`)
	var newest time.Time
	for i, st := range shown {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := st.Format(q.Format, langs)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		buf.Write(b)
		if t := st.Stored(); t.After(newest) {
			newest = t
		}
	}
	more := ""
	if next != "" {
		vals.Set(cursorParam, next)
		more = "/xapi/statements?" + vals.Encode()
	}
	fmt.Fprintf(&buf, `],"more":%s}`, strconv.Quote(more))
	if !newest.IsZero() {
		w.Header().Set("Last-Modified", newest.UTC().Format(http.TimeFormat))
	}
	s.writeStatements(w, r, p, q.Attachments, buf.Bytes(), stmts)
}

// canonical returns stmts as format f shows them: for format=canonical,
// copies whose Activities carry the LRS's canonical definitions, read
// through the gate (xAPI Communication §2.1.3); otherwise stmts.
func (s *Server) canonical(r *http.Request, p governance.Principal, f xapi.Format, stmts []*xapi.Statement) ([]*xapi.Statement, error) {
	if f != xapi.FormatCanonical || len(stmts) == 0 {
		return stmts, nil
	}
	defs, err := s.gate.Definitions(r.Context(), p, stmts)
	if err != nil {
		return nil, err
	}
	out := make([]*xapi.Statement, len(stmts))
	for i, st := range stmts {
		out[i] = st.WithDefinitions(defs)
	}
	return out, nil
}

// writeStatements answers a Statement or StatementResult: JSON, or with
// attachments=true a multipart/mixed body whose first part is the JSON and
// whose other parts are the attachment data of stmts, once per hash
// (xAPI Communication §2.1.3, §1.5.2).
func (s *Server) writeStatements(w http.ResponseWriter, r *http.Request, p governance.Principal, attachments bool, body []byte, stmts []*xapi.Statement) {
	if !attachments {
		writeBody(w, http.StatusOK, "application/json", body)
		return
	}
	data, err := s.gate.Attachments(r.Context(), p, stmts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "application/json")
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(body)
	written := map[string]bool{}
	for _, st := range stmts {
		for _, a := range st.Attachments() {
			d, ok := data[a.SHA2]
			if !ok || written[a.SHA2] {
				continue
			}
			written[a.SHA2] = true
			h := textproto.MIMEHeader{}
			h.Set("Content-Type", a.ContentType)
			h.Set("Content-Transfer-Encoding", "binary")
			// Spelled as the spec spells it: Set would canonicalize it
			// to X-Experience-Api-Hash, which clients that match part
			// headers case-sensitively (TinCanJS) do not find.
			h["X-Experience-API-Hash"] = []string{a.SHA2}
			part, _ := mw.CreatePart(h)
			_, _ = part.Write(d)
		}
	}
	_ = mw.Close()
	writeBody(w, http.StatusOK, "multipart/mixed; boundary="+mw.Boundary(), buf.Bytes())
}

// readJSONBody reads a request body that must be application/json.
func readJSONBody(r *http.Request, op string) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, xapi.Errorf(xapi.Invalid, op, "Content-Type must be application/json")
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, readBodyError(err, op)
	}
	return b, nil
}

// acceptLanguages returns the language ranges of an Accept-Language header
// in preference order (RFC 9110 §12.5.4), without q=0 entries.
func acceptLanguages(h string) []string {
	type lang struct {
		tag string
		q   float64
		i   int
	}
	var ls []lang
	for i, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			ls = append(ls, lang{tag, q, i})
		}
	}
	sort.SliceStable(ls, func(a, b int) bool { return ls[a].q > ls[b].q })
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.tag
	}
	return out
}
