package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestPolicyRevisionsSurviveRestart: a policy uploaded through the API is
// active again after a restart through run, as is a rollback; the policy
// source is sealed on disk.
func TestPolicyRevisionsSurviveRestart(t *testing.T) {
	data := t.TempDir()
	l := startLRS(t, data)
	ck, cs := l.credential(t, `{"name":"dpo","roles":["compliance"]}`)
	ak, as := l.credential(t, `{"name":"audit","roles":["auditor"]}`)
	revision := func(l *lrs) string {
		t.Helper()
		code, b, _ := l.call(t, "GET", "/api/v1/policies", ck, cs, "2.0.0", nil)
		var ov struct{ Revision string }
		if code != 200 || json.Unmarshal(b, &ov) != nil || ov.Revision == "" {
			t.Fatalf("GET /api/v1/policies = %d %s", code, b)
		}
		return ov.Revision
	}
	// The uploaded rule lets auditors manage credentials, which no default
	// rule does.
	auditorStatus := func(l *lrs) int {
		t.Helper()
		code, _, _ := l.call(t, "GET", "/api/v1/credentials", ak, as, "2.0.0", nil)
		return code
	}
	pack := revision(l)
	if got := auditorStatus(l); got != 403 {
		t.Fatalf("auditor listing credentials under the pack = %d, want 403", got)
	}
	marker := "MARKER-policy-3c1e9b"
	src := "package custodia.authz\n\n# " + marker + "\nallow contains \"auditors may manage credentials\" if {\n\tinput.action == \"credentials.manage\"\n\t\"auditor\" in roles\n}\n"
	code, b, _ := l.call(t, "PUT", "/api/v1/policies/extra.rego", ck, cs, "2.0.0", []byte(src))
	var put struct{ Revision string }
	if code != 200 || json.Unmarshal(b, &put) != nil || put.Revision == pack {
		t.Fatalf("PUT extra.rego = %d %s", code, b)
	}
	if got := auditorStatus(l); got != 200 {
		t.Errorf("auditor listing credentials after the upload = %d, want 200", got)
	}
	l.stop()

	l = startLRS(t, data)
	if got := revision(l); got != put.Revision {
		t.Errorf("revision after restart = %s, want %s", got, put.Revision)
	}
	if got := auditorStatus(l); got != 200 {
		t.Errorf("auditor listing credentials after restart = %d, want 200", got)
	}
	code, b, _ = l.call(t, "POST", "/api/v1/policies/rollback", ck, cs, "2.0.0", []byte(`{"revision":"`+pack+`"}`))
	if code != 200 || !bytes.Contains(b, []byte(pack)) {
		t.Fatalf("rollback = %d %s", code, b)
	}
	l.stop()

	l = startLRS(t, data)
	if got := revision(l); got != pack {
		t.Errorf("revision after rollback and restart = %s, want %s", got, pack)
	}
	if got := auditorStatus(l); got != 403 {
		t.Errorf("auditor listing credentials after rollback and restart = %d, want 403", got)
	}
	code, b, _ = l.call(t, "GET", "/api/v1/policies/revisions", ck, cs, "2.0.0", nil)
	var revs struct {
		Active    string
		Revisions []struct {
			Revision    string
			Activations []string
		}
	}
	if code != 200 || json.Unmarshal(b, &revs) != nil || revs.Active != pack || len(revs.Revisions) != 2 {
		t.Fatalf("GET revisions = %d %s; want 2, the pack active", code, b)
	}
	for _, r := range revs.Revisions {
		if r.Revision == pack && len(r.Activations) != 2 {
			t.Errorf("pack activations = %v, want 2 (first start, rollback)", r.Activations)
		}
	}
	l.stop()

	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s holds the policy source in plain form", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
