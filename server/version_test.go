package server_test

import (
	"testing"

	"custodia/server"
	"custodia/xapi"
)

func TestVersionHeader(t *testing.T) {
	tests := []struct {
		name, def, path, header string
		status                  int
		answer                  string
	}{
		{"XAPI-00333 1.0.3 answered 1.0.3", "", "/xapi/statements", "1.0.3", 200, "1.0.3"},
		{"1.0 read as 1.0.0", "", "/xapi/statements", "1.0", 200, "1.0.3"},
		{"1.0.1 accepted", "", "/xapi/statements", "1.0.1", 200, "1.0.3"},
		{"2.0 accepted", "", "/xapi/statements", "2.0", 200, "2.0.0"},
		{"2.0.0 answered 2.0.0", "", "/xapi/statements", "2.0.0", 200, "2.0.0"},
		{"XAPI-00331 missing header", "", "/xapi/statements", "", 400, "2.0.0"},
		{"XAPI-00331 missing header, 1.0.3 default", "1.0.3", "/xapi/statements", "", 400, "1.0.3"},
		{"XAPI-00331 1.1.0 rejected", "", "/xapi/statements", "1.1.0", 400, "2.0.0"},
		{"XAPI-00331 0.95 rejected", "1.0.3", "/xapi/statements", "0.95", 400, "1.0.3"},
		{"2.1 rejected", "", "/xapi/statements", "2.1", 400, "2.0.0"},
		{"1.0.x with a non-number rejected", "", "/xapi/statements", "1.0.x", 400, "2.0.0"},
		{"XAPI-00321 about without header", "", "/xapi/about", "", 200, "2.0.0"},
		{"about with a 1.0 header", "", "/xapi/about", "1.0", 200, "1.0.3"},
		{"unknown resource", "", "/xapi/nonsense", "1.0.3", 404, "1.0.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServerConfig(t, server.Config{DefaultVersion: xapi.Version(tt.def)})
			w := ts.do(t, "GET", tt.path, "", map[string]string{"X-Experience-API-Version": tt.header})
			if w.Code != tt.status {
				t.Errorf("GET %s with version %q = %d, want %d (%s)", tt.path, tt.header, w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("X-Experience-API-Version"); got != tt.answer {
				t.Errorf("GET %s with version %q: X-Experience-API-Version = %q, want %q", tt.path, tt.header, got, tt.answer)
			}
		})
	}
}
