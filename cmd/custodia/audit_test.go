package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditVerify: every decision of a session is in the audit log, which
// `custodia audit verify` checks offline; altering one byte of one entry
// makes it fail and name that entry.
func TestAuditVerify(t *testing.T) {
	l := startLRS(t, "")
	for i := 0; i < 3; i++ {
		if code, b := l.admin(t, "POST", "/xapi/statements", "1.0.3", statementAbout("mailto:a@example.com", "x")); code != 200 {
			t.Fatalf("POST = %d %s", code, b)
		}
	}
	if code, _ := l.admin(t, "GET", "/xapi/statements", "1.0.3", nil); code != 200 {
		t.Fatalf("GET = %d", code)
	}
	l.stop()

	var out, errOut bytes.Buffer
	getenv := func(string) string { return "" }
	if err := run(t.Context(), []string{"audit", "verify", "--data", l.data}, getenv, nil, &out, &errOut); err != nil {
		t.Fatalf("audit verify on an untouched log: %v", err)
	}
	if !strings.Contains(out.String(), "audit log verified") {
		t.Errorf("audit verify printed %q", out.String())
	}

	path := filepath.Join(l.data, "audit", "entries.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) < 5 {
		t.Fatalf("audit log has %d entries, want the bootstrap, 3 writes and a read", len(lines))
	}
	// Change the decision of entry 2 from allow to deny, keeping its length.
	lines[2] = bytes.Replace(lines[2], []byte(`"allow"`), []byte(`"deny!"`), 1)
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(t.Context(), []string{"audit", "verify", "--data", l.data}, getenv, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("audit verify on an altered entry = %v, want a failure naming entry 2", err)
	}
}
