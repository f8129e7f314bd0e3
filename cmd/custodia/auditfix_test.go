package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	lrscrypto "custodia/crypto"

	"golang.org/x/mod/sumdb/tlog"
)

// frames reads a checkpoints or published file of an audit log.
func frames(t testing.TB, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(b) >= 4 {
		n := binary.BigEndian.Uint32(b)
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

func writeFramesFile(t testing.TB, file string, notes [][]byte) {
	t.Helper()
	var b []byte
	for _, n := range notes {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// rollBack cuts the audit log of data back to its commit checkpoint of
// size n, consistently and without any key: entries, stored hashes,
// checkpoints, and the published checkpoints beyond n.
func rollBack(t testing.TB, data, logKey string, n int64) {
	t.Helper()
	dir := filepath.Join(data, "audit")
	entries, err := os.ReadFile(filepath.Join(dir, "entries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(entries), "\n")
	if err := os.WriteFile(filepath.Join(dir, "entries.jsonl"), []byte(strings.Join(lines[:n], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, "hashes"), tlog.StoredHashCount(n)*tlog.HashSize); err != nil {
		t.Fatal(err)
	}
	keep := func(file string) {
		var out [][]byte
		found := false
		for _, f := range frames(t, file) {
			_, tree := openNote(t, f, logKey)
			if tree.N <= n {
				out = append(out, f)
				found = found || tree.N == n
			}
		}
		if !found && strings.HasSuffix(file, "checkpoints") {
			t.Fatalf("no commit checkpoint of size %d", n)
		}
		writeFramesFile(t, file, out)
	}
	keep(filepath.Join(dir, "checkpoints"))
	keep(filepath.Join(dir, "published"))
}

// TestAuditRollbackCaught: a log cut back consistently to an earlier
// checkpoint (entries, hashes, checkpoints and published checkpoints, no
// key needed) passes `audit verify` on its own, but not with the
// checkpoint a witness kept (--checkpoint), and the witness's cosign tool,
// which keeps its last cosigned checkpoint and checks consistency proofs,
// refuses to cosign the rolled-back log.
func TestAuditRollbackCaught(t *testing.T) {
	dir := t.TempDir()
	witnessFile, stateFile := filepath.Join(dir, "dpo.key"), filepath.Join(dir, "dpo.state")
	out, err := runCLI(t, "audit", "witness-key", "--name", "dpo", "--out", witnessFile)
	if err != nil {
		t.Fatalf("audit witness-key = %v: %s", err, out)
	}
	witnessKey := strings.TrimSpace(out)
	l := startLRS(t, "", "--audit-witness", witnessKey, "--audit-checkpoint-interval", "0")
	ak, as := l.credential(t, `{"name":"dpo","roles":["auditor"]}`)
	auditor := func(method, path string, hdr map[string]string, body []byte) (int, []byte) {
		code, b, _ := l.raw(t, method, path, ak, as, hdr, body)
		return code, b
	}
	code, keyText := auditor("GET", "/api/v1/audit/key", nil, nil)
	logKey := strings.TrimSpace(string(keyText))
	if code != 200 {
		t.Fatalf("GET key = %d", code)
	}
	write := func(n int) {
		for range n {
			if code, b := l.admin(t, "POST", "/xapi/statements", "2.0.0", statementAbout("mailto:a@example.com", "x")); code != 200 {
				t.Fatalf("POST = %d %s", code, b)
			}
		}
	}
	// cosign publishes a checkpoint, has the witness cosign it (with the
	// consistency proof from its last one) and posts the cosignature.
	cosign := func(wantRefusal string) int64 {
		t.Helper()
		code, cp := auditor("POST", "/api/v1/audit/checkpoint", nil, nil)
		if code != 200 {
			t.Fatalf("POST checkpoint = %d %s", code, cp)
		}
		_, tree := openNote(t, cp, logKey)
		cpFile := filepath.Join(dir, "checkpoint")
		if err := os.WriteFile(cpFile, cp, 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"audit", "cosign", "--key", witnessFile, "--checkpoint", cpFile, "--log-key", logKey, "--state", stateFile}
		if st, err := os.ReadFile(stateFile); err == nil {
			_, prev := openNote(t, st, logKey)
			if prev.N < tree.N {
				code, proof := auditor("GET", fmt.Sprintf("/api/v1/audit/proof/consistency?old=%d&new=%d", prev.N, tree.N), nil, nil)
				if code != 200 {
					t.Fatalf("GET consistency proof = %d %s", code, proof)
				}
				proofFile := filepath.Join(dir, "proof.json")
				if err := os.WriteFile(proofFile, proof, 0o600); err != nil {
					t.Fatal(err)
				}
				// Without the proof the witness refuses.
				if out, err := runCLI(t, args...); err == nil || !strings.Contains(err.Error(), "give --proof") {
					t.Errorf("audit cosign of a grown log without --proof = %v: %s, want a refusal", err, out)
				}
				args = append(args, "--proof", proofFile)
			}
		}
		before, _ := os.ReadFile(stateFile)
		cosigned, _, err := runCLI2(t, args...)
		if wantRefusal != "" {
			after, _ := os.ReadFile(stateFile)
			if err == nil || !strings.Contains(err.Error(), wantRefusal) || string(after) != string(before) {
				t.Errorf("audit cosign = %v, state changed %v, want a refusal with %q and the state kept", err, string(after) != string(before), wantRefusal)
			}
			return tree.N
		}
		if err != nil {
			t.Fatalf("audit cosign = %v", err)
		}
		pub := filepath.Join(l.data, "audit", "published")
		for i := range 2 { // the second time changes nothing
			n := len(frames(t, pub))
			if code, b := auditor("POST", "/api/v1/audit/checkpoint/cosign", map[string]string{"Content-Type": "text/plain"}, []byte(cosigned)); code != 200 {
				t.Fatalf("POST cosign = %d %s", code, b)
			}
			if got := len(frames(t, pub)); i == 1 && got != n {
				t.Errorf("posting the same cosignature again added %d published frames, want none", got-n)
			}
		}
		return tree.N
	}

	write(3)
	cosign("")
	write(3)
	size2 := cosign("")
	write(2)
	l.stop()

	rollBack(t, l.data, logKey, size2-4)
	out, err = runCLI(t, "audit", "verify", "--data", l.data, "--key", logKey)
	if err != nil || !strings.Contains(out, "no --checkpoint given") {
		t.Fatalf("audit verify of the rolled-back log without --checkpoint = %v: %s; the test expects a consistent rollback", err, out)
	}
	out, err = runCLI(t, "audit", "verify", "--data", l.data, "--key", logKey, "--checkpoint", stateFile)
	if err == nil || !strings.Contains(err.Error(), "truncated or rolled back") || !strings.Contains(err.Error(), fmt.Sprintf("entry %d", size2-4)) {
		t.Errorf("audit verify --checkpoint <witness state> of the rolled-back log = %v: %s, want a failure naming entry %d", err, out, size2-4)
	}

	// The server runs on the rolled-back log; the witness will not cosign it.
	l = startLRS(t, l.data, "--audit-witness", witnessKey, "--audit-checkpoint-interval", "0")
	ak, as = l.credential(t, `{"name":"dpo2","roles":["auditor"]}`)
	if n := cosign("rolled back"); n >= size2 {
		t.Fatalf("the rolled-back log published a checkpoint of size %d, not below %d; the test expects a shorter log", n, size2)
	}
}

// TestAuditErasureEndToEnd: a month of audit content is erased only by
// `audit erase`, which records the erasure; verify then lists the month.
// A month key destroyed without a record is tampering: verify names the
// entry and the server refuses to start rather than seal under a new key.
func TestAuditErasureEndToEnd(t *testing.T) {
	jan := time.Date(2020, 1, 15, 10, 0, 0, 0, time.UTC)
	feb := jan.AddDate(0, 1, 0)
	data := t.TempDir()
	for _, now := range []time.Time{jan, feb} {
		l := startLRSWith(t, data, runOptions{now: func() time.Time { return now }})
		for range 2 {
			if code, b := l.admin(t, "POST", "/xapi/statements", "2.0.0", statementAbout("mailto:a@example.com", "x")); code != 200 {
				t.Fatalf("POST = %d %s", code, b)
			}
		}
		l.stop()
	}
	rootKey := filepath.Join(data, "root.agekey")
	if out, err := runCLI(t, "audit", "verify", "--data", data, "--root-key-file", rootKey); err != nil || !strings.Contains(out, ", 0 erased") {
		t.Fatalf("audit verify = %v: %s", err, out)
	}
	if out, err := runCLI(t, "audit", "erase", "--data", data, "--month", "2999-01"); err == nil {
		t.Errorf("audit erase of a future month = nil error: %s", out)
	}
	out, err := runCLI(t, "audit", "erase", "--data", data, "--month", "2020-01")
	if err != nil || !strings.Contains(out, "audit month 2020-01 erased") {
		t.Fatalf("audit erase --month 2020-01 = %v: %s", err, out)
	}
	out, err = runCLI(t, "audit", "verify", "--data", data, "--root-key-file", rootKey)
	if err != nil || !strings.Contains(out, "month 2020-01: erased by entry") || strings.Contains(out, ", 0 erased") {
		t.Errorf("audit verify after erasing January = %v: %s, want January listed as erased", err, out)
	}
	// The server starts on a log with an erased month.
	l := startLRSWith(t, data, runOptions{now: func() time.Time { return feb }})
	l.stop()

	// February's key destroyed without a record: tampering.
	keys, err := lrscrypto.OpenKeyring(filepath.Join(data, "keys"), rootKey, lrscrypto.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Shred(context.Background(), "audit:2020-02"); err != nil {
		t.Fatal(err)
	}
	keys.Close()
	out, err = runCLI(t, "audit", "verify", "--data", data, "--root-key-file", rootKey)
	if err == nil || !strings.Contains(err.Error(), "records no erasure of month 2020-02") || !strings.Contains(err.Error(), "entry ") {
		t.Errorf("audit verify with February's key deleted = %v: %s, want a failure naming the entry", err, out)
	}
	var stdout, stderr lockedBuffer
	env := map[string]string{"CUSTODIA_ADMIN_KEY": "admin", "CUSTODIA_ADMIN_SECRET": "admin-secret-for-tests", "CUSTODIA_LOG_LEVEL": "warn"}
	err = runWith(context.Background(), runOptions{now: func() time.Time { return feb }}, []string{"serve", "--addr", "127.0.0.1:0", "--data", data},
		func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "audit") {
		t.Errorf("serve on a log whose month key was deleted = %v, want a refusal to start", err)
	}
}

// TestAccessLogObjectAgent: a statement whose object is a person is about
// that person: the write and the reads of it appear in their access log,
// with the purpose in force (the default purpose, none being named) and
// their own count.
func TestAccessLogObjectAgent(t *testing.T) {
	l := startLRS(t, "")
	ck, cs := l.credential(t, `{"name":"lms","roles":["client"],"scopes":["all"]}`)
	bk, bs := l.credential(t, `{"name":"bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)
	mentored := []byte(`[{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://id.tincanapi.com/verb/mentored"},
		"object":{"objectType":"Agent","mbox":"mailto:bob@example.com"}},
		{"actor":{"mbox":"mailto:carol@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/c"}}]`)
	if code, b, _ := l.call(t, "POST", "/xapi/statements", ck, cs, "2.0.0", mentored); code != 200 {
		t.Fatalf("POST = %d %s", code, b)
	}
	if code, b, _ := l.call(t, "GET", "/xapi/statements", ck, cs, "2.0.0", nil); code != 200 {
		t.Fatalf("GET = %d %s", code, b)
	}
	code, b, _ := l.raw(t, "GET", "/api/v1/me/access-log", bk, bs, nil, nil)
	var page struct {
		Entries []struct {
			Action   string   `json:"action"`
			Purpose  string   `json:"purpose"`
			Purposes []string `json:"purposes"`
			Count    int      `json:"count"`
		} `json:"entries"`
	}
	if code != 200 || json.Unmarshal(b, &page) != nil {
		t.Fatalf("GET access-log = %d %s", code, b)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, fmt.Sprintf("%s %s %d", e.Action, e.Purpose, e.Count))
		if e.Action == "statements.write" && !slices.Equal(e.Purposes, []string{"learning-records"}) {
			t.Errorf("write entry purposes = %v, want the recorded purpose", e.Purposes)
		}
	}
	want := []string{"statements.write learning-records 1", "statements.query learning-records 1"}
	if !slices.Equal(got, want) {
		t.Errorf("bob's access log = %v, want %v", got, want)
	}
}

// TestWitnessKeyName: a witness name that note keys cannot carry is
// refused before any key is written.
func TestWitnessKeyName(t *testing.T) {
	file := filepath.Join(t.TempDir(), "w.key")
	for _, name := range []string{"bad name", "a+b", "tab\tname", strings.Repeat("x", 65)} {
		if out, err := runCLI(t, "audit", "witness-key", "--name", name, "--out", file); err == nil {
			t.Errorf("audit witness-key --name %q = nil error: %s", name, out)
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("audit witness-key --name %q wrote %s", name, file)
		}
	}
}
