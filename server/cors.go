package server

import (
	"net/http"
	"slices"
	"strings"

	"custodia/xapi"
)

// The CORS answers for browser clients (Fetch standard §3.2). CORS is not
// part of xAPI; it lets a course served from another origin use the LRS.
const (
	corsAllowMethods  = "GET, HEAD, PUT, POST, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, X-Custodia-Purpose"
	corsExposeHeaders = "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, X-Request-Id"
	corsMaxAge        = "7200" // seconds; the most Chromium honours
)

// cors serves CORS on the xAPI resources for the configured origins: it
// answers a preflight (OPTIONS with Origin and Access-Control-Request-Method)
// itself, without credentials or version header, and marks the answers to
// actual requests from an allowed origin readable, exposing the xAPI headers.
// With "*" among the origins every origin is allowed and answered "*";
// otherwise the request's Origin is echoed when listed, with Vary: Origin.
// A preflight from an origin not listed is refused with 403. Credentials
// mode (cookies) is not offered: xAPI clients send Authorization themselves.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if len(s.origins) == 0 || !strings.HasPrefix(r.URL.Path, "/xapi/") || origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		allow := ""
		if slices.Contains(s.origins, "*") {
			allow = "*"
		} else {
			h.Add("Vary", "Origin")
			if slices.Contains(s.origins, origin) {
				allow = origin
			}
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set(headerVersion, string(s.responseVersion(r.Header.Get(headerVersion))))
			if allow == "" {
				writeError(w, r, xapi.Errorf(xapi.Forbidden, "server.cors", "origin not allowed"))
				return
			}
			h.Set("Access-Control-Allow-Origin", allow)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allow != "" {
			h.Set("Access-Control-Allow-Origin", allow)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}
