package server

import "net/http"

// handleAbout answers the About resource (xAPI Communication §2.8): the
// versions spoken. It needs no credentials and accepts any version header.
func handleAbout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"version": []string{"1.0.3", "2.0.0"}})
	})
}

// handleHealthz answers 200 while the server is serving.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
