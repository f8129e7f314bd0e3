package server_test

import (
	"strings"
	"testing"

	"custodia/server"
)

func TestCORSPreflight(t *testing.T) {
	tests := []struct {
		name       string
		origins    []string
		origin     string
		status     int
		wantOrigin string
	}{
		{"any origin", []string{"*"}, "https://course.example.com", 204, "*"},
		{"listed origin echoed", []string{"https://lms.example.org", "https://course.example.com"}, "https://course.example.com", 204, "https://course.example.com"},
		{"origin not listed", []string{"https://lms.example.org"}, "https://evil.example.net", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServerConfig(t, server.Config{CORSOrigins: tt.origins})
			// A preflight carries neither credentials nor the version header.
			w := ts.do(t, "OPTIONS", "/xapi/statements", "", map[string]string{
				"Authorization": "none", "X-Experience-API-Version": "", "Content-Type": "",
				"Origin": tt.origin, "Access-Control-Request-Method": "PUT",
				"Access-Control-Request-Headers": "authorization,content-type,x-experience-api-version",
			})
			if w.Code != tt.status {
				t.Fatalf("preflight = %d %s, want %d", w.Code, w.Body, tt.status)
			}
			h := w.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if tt.status != 204 {
				return
			}
			for _, want := range []string{"Authorization", "Content-Type", "X-Experience-API-Version", "If-Match", "If-None-Match", "X-Custodia-Purpose"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
					t.Errorf("Access-Control-Allow-Headers = %q, want it to list %s", h.Get("Access-Control-Allow-Headers"), want)
				}
			}
			for _, want := range []string{"GET", "PUT", "POST", "DELETE"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), want) {
					t.Errorf("Access-Control-Allow-Methods = %q, want it to list %s", h.Get("Access-Control-Allow-Methods"), want)
				}
			}
			if h.Get("Access-Control-Max-Age") == "" {
				t.Error("Access-Control-Max-Age missing")
			}
			if tt.wantOrigin != "*" && h.Get("Vary") != "Origin" {
				t.Errorf("Vary = %q, want Origin", h.Get("Vary"))
			}
		})
	}
}

func TestCORSActualRequest(t *testing.T) {
	ts := newTestServerConfig(t, server.Config{CORSOrigins: []string{"https://course.example.com"}})
	w := ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Origin": "https://course.example.com"})
	if w.Code != 200 {
		t.Fatalf("GET = %d %s", w.Code, w.Body)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://course.example.com" {
		t.Errorf("Access-Control-Allow-Origin = %q, want the origin", got)
	}
	expose := w.Header().Get("Access-Control-Expose-Headers")
	for _, want := range []string{"ETag", "Last-Modified", "X-Experience-API-Version", "X-Experience-API-Consistent-Through", "X-Request-Id"} {
		if !strings.Contains(expose, want) {
			t.Errorf("Access-Control-Expose-Headers = %q, want it to list %s", expose, want)
		}
	}
	// Errors are readable too, so that a browser client sees why.
	w = ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Origin": "https://course.example.com", "Authorization": "none"})
	if w.Code != 401 || w.Header().Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("401 answer: status %d, Access-Control-Allow-Origin %q; want 401 with the header", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	w = ts.do(t, "GET", "/xapi/statements", "", map[string]string{"Origin": "https://evil.example.net"})
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("origin not listed: Access-Control-Allow-Origin = %q, want none", got)
	}
	w = ts.do(t, "GET", "/api/v1/credentials", "", map[string]string{"Origin": "https://course.example.com"})
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("/api/v1/: Access-Control-Allow-Origin = %q, want none (CORS covers /xapi/ only)", got)
	}
}

func TestCORSOff(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "OPTIONS", "/xapi/statements", "", map[string]string{"Origin": "https://course.example.com", "Access-Control-Request-Method": "PUT"})
	if w.Code == 204 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without CORSOrigins = %d with Access-Control-Allow-Origin %q, want no CORS", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}
