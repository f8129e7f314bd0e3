package server

import (
	"net/http"

	"custodia/xapi"
)

// handleAbout answers the About resource (xAPI Communication §2.8): the
// versions spoken. It needs no credentials and accepts any version header.
func handleAbout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"version": []string{"1.0.3", "2.0.0"}})
	})
}

// handleHealthz answers 200 {"status":"ok"} while the server can serve,
// and 503 {"status":"unavailable","reason":…} while it cannot: while its
// audit log refuses appends, every access is refused (fail closed).
func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.gate.Health(); err != nil {
			reason := xapi.ErrorMessage(err)
			if reason == "" || xapi.ErrorKind(err) != xapi.Unavailable {
				reason = "the audit log refuses appends"
			}
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
