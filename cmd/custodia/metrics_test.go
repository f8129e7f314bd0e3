package main

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// TestMetrics: GET /metrics answers the Prometheus text format with the
// requests by route and status, their latency, the statements stored and
// the audit appends by action and decision; no identifier appears in it.
func TestMetrics(t *testing.T) {
	l := startLRS(t, "")
	r := rand.New(rand.NewPCG(1, 2))
	body := []byte("[" + string(benchCorpus{learners: 3, courses: 2}.statement(r)) + "," + string(benchCorpus{learners: 3, courses: 2}.statement(r)) + "]")
	if code, b := l.admin(t, "POST", "/xapi/statements", "2.0.0", body); code != http.StatusOK {
		t.Fatalf("POST /xapi/statements = %d %s, want 200", code, b)
	}
	if code, b, _ := l.call(t, "GET", "/xapi/statements", "nobody", "wrong", "2.0.0", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET with a wrong credential = %d %s, want 401", code, b)
	}
	resp, err := http.Get(l.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`custodia_http_requests_total{method="POST",route="/xapi/statements",status="200"} 1`,
		`custodia_http_requests_total{method="GET",route="/xapi/statements",status="401"} 1`,
		`custodia_http_request_duration_seconds_count{method="POST",route="/xapi/statements",status="200"} 1`,
		`custodia_statements_ingested_total 2`,
		`process_resident_memory_bytes `,
		`custodia_audit_appends_total{action="statements.write",decision="allow"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("GET /metrics lacks %q; got:\n%s", want, text)
		}
	}
	if strings.Contains(text, "learner") || strings.Contains(text, "example.com") {
		t.Errorf("GET /metrics names an identifier:\n%s", text)
	}
}
