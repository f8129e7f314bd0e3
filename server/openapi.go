package server

import (
	_ "embed"
	"net/http"
)

// openAPI describes the governance API under /api/v1 (OpenAPI 3.1). A test
// checks it against the routes.
//
//go:embed openapi.json
var openAPI []byte

// handleOpenAPI serves the OpenAPI description, without authentication.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		writeBody(w, http.StatusOK, "application/json", openAPI)
	})
}
