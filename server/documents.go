package server

import (
	"io"
	"net/http"
	"time"

	"custodia/governance"
	"custodia/xapi"
)

// The document resources: State (/activities/state), Activity Profile
// (/activities/profile) and Agent Profile (/agents/profile), xAPI 1.0.3
// Communication §2.2–2.7 and §3.1, IEEE 9274.1.1 §4.1.4 and §4.1.6.

// handleDocumentGet answers GET and HEAD: one document, exactly as stored
// with its Content-Type, ETag and Last-Modified, when the id parameter is
// given; else the JSON array of the ids of the set (updated after since),
// each once, with Last-Modified the newest update among them.
func (s *Server) handleDocumentGet(kind xapi.DocumentKind) func(http.ResponseWriter, *http.Request, governance.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p governance.Principal) {
		if r.Method == http.MethodHead {
			w = headWriter{w}
		}
		vals, err := parseQuery(r, "server.documents")
		if err != nil {
			writeError(w, r, err)
			return
		}
		d, err := xapi.ParseDocumentParams(kind, r.Method, vals, versionOf(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		if d.ID == "" {
			docs, err := s.gate.ListDocuments(r.Context(), p, d)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			// Each id once: without a registration, State lists the
			// documents of every registration, and one stateId may be
			// used under several.
			ids := make([]string, 0, len(docs))
			seen := make(map[string]bool, len(docs))
			var newest time.Time
			for _, doc := range docs {
				if !seen[doc.ID] {
					seen[doc.ID] = true
					ids = append(ids, doc.ID)
				}
				if doc.Updated.After(newest) {
					newest = doc.Updated
				}
			}
			if !newest.IsZero() {
				w.Header().Set("Last-Modified", newest.UTC().Format(http.TimeFormat))
			}
			writeJSON(w, http.StatusOK, ids)
			return
		}
		doc, err := s.gate.GetDocument(r.Context(), p, d)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ct := doc.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("ETag", doc.ETag)
		w.Header().Set("Last-Modified", doc.Updated.UTC().Format(http.TimeFormat))
		writeBody(w, http.StatusOK, ct, doc.Body)
	}
}

// handleDocumentPut stores the body as the document named, replacing it
// (204). Concurrency: If-Match and If-None-Match are checked against the
// stored document in the write's transaction (412 on failure); without
// either header, a PUT to an existing document is refused with 409 for the
// profile resources, and under 2.0 for State too; under 1.0.3 a PUT to a
// new profile document without either header is refused with 400
// (XAPI-00273).
func (s *Server) handleDocumentPut(kind xapi.DocumentKind) func(http.ResponseWriter, *http.Request, governance.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p governance.Principal) {
		d, doc, cond, ok := s.readDocumentWrite(w, r, kind)
		if !ok {
			return
		}
		v := versionOf(r)
		cond.RequireIfExists = kind != xapi.StateDocument || v == xapi.V200
		cond.RequireIfMissing = kind != xapi.StateDocument && v == xapi.V103
		stored, err := s.gate.PutDocument(r.Context(), p, d, doc, cond)
		s.answerDocumentWrite(w, r, stored, err)
	}
}

// handleDocumentPost stores the body as the document named when there is
// none, or merges it into the stored one when both are JSON objects (204);
// 400 and no change otherwise (xAPI Communication §2.2). If-Match and
// If-None-Match apply as for PUT; neither is required.
func (s *Server) handleDocumentPost(kind xapi.DocumentKind) func(http.ResponseWriter, *http.Request, governance.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p governance.Principal) {
		d, doc, cond, ok := s.readDocumentWrite(w, r, kind)
		if !ok {
			return
		}
		stored, err := s.gate.PostDocument(r.Context(), p, d, doc, cond)
		s.answerDocumentWrite(w, r, stored, err)
	}
}

// handleDocumentDelete deletes the document named (204, also when there
// was none), honouring If-Match; for State without stateId, every document
// of the activity, agent and (if given) registration.
func (s *Server) handleDocumentDelete(kind xapi.DocumentKind) func(http.ResponseWriter, *http.Request, governance.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p governance.Principal) {
		vals, err := parseQuery(r, "server.documents")
		if err != nil {
			writeError(w, r, err)
			return
		}
		d, err := xapi.ParseDocumentParams(kind, r.Method, vals, versionOf(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		cond, err := xapi.ParsePrecondition(r.Header.Get("If-Match"), r.Header.Get("If-None-Match"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		if d.ID == "" {
			if len(cond.IfMatch) > 0 || len(cond.IfNoneMatch) > 0 {
				// A precondition names one document's ETag; it cannot guard a
				// delete of several.
				writeError(w, r, xapi.Errorf(xapi.Invalid, "server.documents", "If-Match and If-None-Match apply to one document: give its id to delete it"))
				return
			}
			err = s.gate.DeleteDocuments(r.Context(), p, d)
		} else {
			err = s.gate.DeleteDocument(r.Context(), p, d, cond)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// readDocumentWrite parses the parameters, body and precondition headers
// of a PUT or POST. A body sent as application/json must be well-formed
// JSON; any other Content-Type is kept as is. It answers the error itself
// and reports false when the request is bad.
func (s *Server) readDocumentWrite(w http.ResponseWriter, r *http.Request, kind xapi.DocumentKind) (xapi.DocumentParams, xapi.Document, xapi.Precondition, bool) {
	fail := func(err error) (xapi.DocumentParams, xapi.Document, xapi.Precondition, bool) {
		writeError(w, r, err)
		return xapi.DocumentParams{}, xapi.Document{}, xapi.Precondition{}, false
	}
	vals, err := parseQuery(r, "server.documents")
	if err != nil {
		return fail(err)
	}
	d, err := xapi.ParseDocumentParams(kind, r.Method, vals, versionOf(r))
	if err != nil {
		return fail(err)
	}
	cond, err := xapi.ParsePrecondition(r.Header.Get("If-Match"), r.Header.Get("If-None-Match"))
	if err != nil {
		return fail(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fail(readBodyError(err, "server.documents"))
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	if xapi.IsJSONContentType(ct) {
		if err := xapi.CheckJSONDocument(body); err != nil {
			return fail(err)
		}
	}
	return d, xapi.Document{ContentType: ct, Body: body}, cond, true
}

// answerDocumentWrite answers a PUT or POST: 204 with the new ETag, or the error.
func (s *Server) answerDocumentWrite(w http.ResponseWriter, r *http.Request, stored xapi.Document, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", stored.ETag)
	w.WriteHeader(http.StatusNoContent)
}

// headWriter answers a HEAD request: the headers of the GET, Content-Length
// included, and no body (xAPI Communication §1.1, XAPI-00125).
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(b []byte) (int, error) { return len(b), nil }
