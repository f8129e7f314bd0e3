package server

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"custodia/xapi"
)

// alternateHeaders are the form fields of the alternate request syntax that
// act as request headers (xAPI 1.0.3 Communication §1.3).
var alternateHeaders = [...]string{"Authorization", "X-Experience-API-Version", "Content-Type", "Content-Length", "If-Match", "If-None-Match"}

// alternateSyntax serves xAPI 1.0.3's alternate request syntax (Communication
// §1.3, XAPI-00336) on every resource under /xapi/: a POST whose only query
// parameter is method=GET|HEAD|PUT|POST|DELETE and whose body is an
// application/x-www-form-urlencoded form. The form fields Authorization,
// X-Experience-API-Version, Content-Type, Content-Length, If-Match and
// If-None-Match replace the request headers of those names, the field
// content becomes the body (Content-Type application/json unless the form
// names one; Content-Length is the length of content), and every other field
// becomes a query parameter. The rewritten request then goes through next
// like any other, so authentication uses the form's Authorization.
//
// A method parameter on a request that is not a POST, next to other query
// parameters, with a body that is not a form, or under xAPI 2.0 (by the
// version the form or the header names), which removed the syntax, is a 400.
func (s *Server) alternateSyntax(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/xapi/") || !r.URL.Query().Has("method") {
			next.ServeHTTP(w, r)
			return
		}
		nr, version, err := s.rewriteAlternate(w, r)
		if err != nil {
			w.Header().Set(headerVersion, string(s.responseVersion(version)))
			writeError(w, r, err)
			return
		}
		if nr.Method == http.MethodHead {
			// net/http drops the body only of a real HEAD request.
			w = headWriter{w}
		}
		next.ServeHTTP(w, nr)
	})
}

// rewriteAlternate returns the request an alternate-syntax request stands
// for, and the version header in force for it (from the form, else the
// request).
func (s *Server) rewriteAlternate(w http.ResponseWriter, r *http.Request) (*http.Request, string, error) {
	const op = "server.alternateSyntax"
	version := r.Header.Get(headerVersion)
	if r.Method != http.MethodPost {
		return nil, version, xapi.Errorf(xapi.Invalid, op, "the alternate request syntax (method parameter) must be sent as POST")
	}
	q, err := parseQuery(r, op)
	if err != nil {
		return nil, version, err
	}
	if len(q) != 1 || len(q["method"]) != 1 {
		return nil, version, xapi.Errorf(xapi.Invalid, op, "the alternate request syntax allows no query parameter but method; send the others as form fields")
	}
	method := q.Get("method")
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		return nil, version, xapi.Errorf(xapi.Invalid, op, "method must be GET, HEAD, PUT, POST or DELETE")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limit))
	if err != nil {
		return nil, version, readBodyError(err, op)
	}
	if len(body) > 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, version, xapi.Errorf(xapi.Invalid, op, "the alternate request syntax needs an application/x-www-form-urlencoded body")
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, version, xapi.Errorf(xapi.Invalid, op, "the request body is not a valid application/x-www-form-urlencoded form")
	}
	hdr := r.Header.Clone()
	hdr.Del("Content-Type")
	hdr.Del("Content-Length")
	seen := map[int]bool{}
	for name, vals := range form {
		i := headerField(name)
		if i < 0 && name != "content" {
			continue
		}
		// Header names compare without case: Authorization and
		// authorization are the same field, and two of them must not race.
		if len(vals) != 1 || (i >= 0 && seen[i]) {
			return nil, version, xapi.Errorf(xapi.Invalid, op, "a form field is given more than once (header names compare without case)")
		}
		seen[i] = true
		if i >= 0 {
			hdr.Set(alternateHeaders[i], vals[0])
			delete(form, name)
		}
	}
	version = hdr.Get(headerVersion)
	if v, err := xapi.ParseVersionHeader(version); err == nil && v == xapi.V200 {
		return nil, version, xapi.Errorf(xapi.Invalid, op, "xAPI 2.0 has no alternate request syntax (method parameter); send the request itself")
	}
	content, hasContent := form["content"]
	delete(form, "content")
	switch {
	case hasContent && (method == http.MethodGet || method == http.MethodHead || method == http.MethodDelete):
		return nil, version, xapi.Errorf(xapi.Invalid, op, "form field content is not allowed with method %s", method)
	case !hasContent && (method == http.MethodPut || method == http.MethodPost):
		return nil, version, xapi.Errorf(xapi.Invalid, op, "method %s needs the body in the form field content", method)
	}

	nr := r.Clone(r.Context())
	nr.Method = method
	nr.Header = hdr
	nr.URL.RawQuery = form.Encode()
	nr.RequestURI = nr.URL.RequestURI()
	nr.Body, nr.ContentLength = http.NoBody, 0
	if hasContent {
		b := []byte(content[0])
		nr.Body, nr.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		hdr.Set("Content-Length", strconv.Itoa(len(b)))
		if hdr.Get("Content-Type") == "" {
			hdr.Set("Content-Type", "application/json")
		}
	} else {
		hdr.Del("Content-Length")
	}
	return nr, version, nil
}

// headerField reports the index in alternateHeaders of the header a form
// field stands for (names compare without case), or -1.
func headerField(name string) int {
	for i, h := range alternateHeaders {
		if strings.EqualFold(name, h) {
			return i
		}
	}
	return -1
}
