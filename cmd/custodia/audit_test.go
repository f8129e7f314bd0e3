package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"custodia/audit"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// raw sends a request with Basic credentials and the headers hdr, and
// returns the status, body and headers.
func (l *lrs) raw(t testing.TB, method, path, key, secret string, hdr map[string]string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(key, secret)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// runCLI runs a custodia command and returns its output.
func runCLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := runCLI2(t, args...)
	return out + errOut, err
}

// runCLI2 runs a custodia command and returns its stdout and stderr.
func runCLI2(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(t.Context(), args, func(string) string { return "" }, nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

// openNote checks a signed note against the keys and parses its tree.
func openNote(t testing.TB, msg []byte, keys ...string) (*note.Note, tlog.Tree) {
	t.Helper()
	var vs []note.Verifier
	for _, k := range keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		t.Fatalf("note.Open(%q) = %v", msg, err)
	}
	// The text, as the README documents it: origin, size, hash, number.
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 5 || lines[0] != fmt.Sprintf("custodia.audit/%08x", vs[0].KeyHash()) || !strings.HasPrefix(lines[3], "commit ") {
		t.Fatalf("checkpoint text %q: want origin custodia.audit/<key hash>, size, hash, commit number", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n, tlog.Tree{N: size, Hash: hash64(t, lines[2])}
}

func decode64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

func hash64(t testing.TB, s string) tlog.Hash {
	t.Helper()
	b := decode64(t, s)
	if len(b) != tlog.HashSize {
		t.Fatalf("hash %q: %d bytes", s, len(b))
	}
	return tlog.Hash(b)
}

type wireEntry struct {
	audit.Entry
	Index      int64  `json:"index"`
	Month      string `json:"month"`
	Erasure    bool   `json:"erasure"`
	Commitment string `json:"commitment"`
	Salt       string `json:"salt"`
	Body       string `json:"body"`
	RecordData string `json:"record_data"`
	LeafHash   string `json:"leaf_hash"`
	Erased     bool   `json:"erased"`
	Damaged    bool   `json:"damaged"`
}

// TestAuditEndToEnd: an auditor reads the log over the API and checks what
// it answers with tlog and note alone: entries against their commitments,
// inclusion and consistency proofs against signed checkpoints; a witness
// cosigns; an employee sees who read their records; and `custodia audit
// verify` checks the whole log offline, with and without the witness.
func TestAuditEndToEnd(t *testing.T) {
	dir := t.TempDir()
	witnessFile := filepath.Join(dir, "dpo.key")
	out, err := runCLI(t, "audit", "witness-key", "--name", "dpo", "--out", witnessFile)
	if err != nil {
		t.Fatalf("audit witness-key = %v: %s", err, out)
	}
	witnessKey := strings.TrimSpace(out)
	if _, err := note.NewVerifier(witnessKey); err != nil {
		t.Fatalf("audit witness-key printed %q: %v", out, err)
	}
	if st, err := os.Stat(witnessFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("witness key file: %v, %v, want mode 0600", st, err)
	}

	stateFile := filepath.Join(dir, "dpo.state")
	l := startLRS(t, "", "--audit-witness", witnessKey, "--audit-checkpoint-interval", "20ms")
	ak, as := l.credential(t, `{"name":"dpo","roles":["auditor"]}`)
	ck, cs := l.credential(t, `{"name":"lms","roles":["client"],"scopes":["all"]}`)
	alice := [2]string{}
	alice[0], alice[1] = l.credential(t, `{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	bob := [2]string{}
	bob[0], bob[1] = l.credential(t, `{"name":"bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)
	auditor := func(method, path string, hdr map[string]string, body []byte) (int, []byte, http.Header) {
		return l.raw(t, method, path, ak, as, hdr, body)
	}

	ids := map[string]string{}
	for _, who := range []string{"alice", "bob"} {
		code, b, _ := l.call(t, "POST", "/xapi/statements", ck, cs, "2.0.0", statementAbout("mailto:"+who+"@example.com", "x"))
		var got []string
		if code != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("POST = %d %s", code, b)
		}
		ids[who] = got[0]
	}
	// A read that returned a statement about alice, and a query that
	// returned only bob's.
	if code, b, _ := l.call(t, "GET", "/xapi/statements?statementId="+ids["alice"], ck, cs, "2.0.0", nil); code != 200 {
		t.Fatalf("GET alice's statement = %d %s", code, b)
	}
	code, b, _ := l.call(t, "GET", "/xapi/statements?agent="+url.QueryEscape(`{"mbox":"mailto:bob@example.com"}`), ck, cs, "2.0.0", nil)
	if code != 200 || strings.Contains(string(b), ids["alice"]) || !strings.Contains(string(b), ids["bob"]) {
		t.Fatalf("GET statements about bob = %d %s", code, b)
	}

	t.Run("access log", func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			cred    [2]string
			actions []string
		}{
			{"alice", alice, []string{"statements.write", "statements.read"}},
			{"bob", bob, []string{"statements.write", "statements.query"}},
		} {
			code, b, _ := l.raw(t, "GET", "/api/v1/me/access-log", tt.cred[0], tt.cred[1], nil, nil)
			var page struct {
				Entries []map[string]any `json:"entries"`
			}
			if code != 200 || json.Unmarshal(b, &page) != nil {
				t.Fatalf("%s: GET access-log = %d %s", tt.name, code, b)
			}
			var actions []string
			for _, e := range page.Entries {
				actions = append(actions, e["action"].(string))
				if e["principal"] == "" || e["time"] == "" {
					t.Errorf("%s: access-log entry %v lacks who or when", tt.name, e)
				}
			}
			if !slices.Equal(actions, tt.actions) {
				t.Errorf("%s: access log = %v, want %v", tt.name, actions, tt.actions)
			}
			for _, other := range []string{"alice", "bob"} {
				if other != tt.name && strings.Contains(string(b), ids[other]) {
					t.Errorf("%s's access log names %s's statement", tt.name, other)
				}
			}
			if strings.Contains(string(b), "subjects") || strings.Contains(string(b), "resources") {
				t.Errorf("%s's access log shows subjects or resources: %s", tt.name, b)
			}
		}
	})

	code, keyText, _ := auditor("GET", "/api/v1/audit/key", nil, nil)
	logKey := strings.TrimSpace(string(keyText))
	stored, _ := os.ReadFile(filepath.Join(l.data, "audit", "verifier.key"))
	if code != 200 || logKey != strings.TrimSpace(string(stored)) {
		t.Fatalf("GET key = %d %q, want the verifier key %q", code, keyText, stored)
	}

	code, first, _ := auditor("POST", "/api/v1/audit/checkpoint", nil, nil)
	if code != 200 {
		t.Fatalf("POST checkpoint = %d %s", code, first)
	}
	_, oldTree := openNote(t, first, logKey)

	t.Run("entries and inclusion proofs", func(t *testing.T) {
		code, b, _ := auditor("GET", "/api/v1/audit/entries?agent="+url.QueryEscape(`{"mbox":"mailto:alice@example.com"}`), nil, nil)
		var page struct {
			Entries []wireEntry `json:"entries"`
		}
		if code != 200 || json.Unmarshal(b, &page) != nil || len(page.Entries) != 2 {
			t.Fatalf("GET entries about alice = %d %s, want the write and the read", code, b)
		}
		for _, e := range page.Entries {
			// The body, salted, is what the leaf commits to: the API gives
			// the committed bytes, so nothing is serialised again.
			body := decode64(t, e.Body)
			c := sha256.Sum256(append(decode64(t, e.Salt), body...))
			if base64.StdEncoding.EncodeToString(c[:]) != e.Commitment {
				t.Errorf("entry %d: SHA-256(salt || body) = %x, want the commitment %s", e.Index, c, e.Commitment)
			}
			var fromBody audit.Entry
			if err := json.Unmarshal(body, &fromBody); err != nil || fromBody.Action != e.Action || fromBody.Principal != e.Principal {
				t.Errorf("entry %d: body %s does not hold the entry listed (%v)", e.Index, body, err)
			}
			record := fmt.Sprintf("entry %s %s\n", e.Month, e.Commitment)
			if string(decode64(t, e.RecordData)) != record || tlog.RecordHash([]byte(record)) != hash64(t, e.LeafHash) {
				t.Errorf("entry %d: record data %q, leaf %s, want %q and its record hash", e.Index, decode64(t, e.RecordData), e.LeafHash, record)
			}
			if e.Index >= oldTree.N {
				t.Fatalf("entry %d beyond the published checkpoint of size %d", e.Index, oldTree.N)
			}
			code, b, _ := auditor("GET", fmt.Sprintf("/api/v1/audit/proof/inclusion?index=%d&size=%d", e.Index, oldTree.N), nil, nil)
			var p struct {
				LeafHash string   `json:"leaf_hash"`
				TreeHash string   `json:"tree_hash"`
				Proof    []string `json:"proof"`
			}
			if code != 200 || json.Unmarshal(b, &p) != nil {
				t.Fatalf("GET inclusion proof = %d %s", code, b)
			}
			var proof tlog.RecordProof
			for _, h := range p.Proof {
				proof = append(proof, hash64(t, h))
			}
			// Independent check: tlog against the tree hash of the signed checkpoint.
			if err := tlog.CheckRecord(proof, oldTree.N, oldTree.Hash, e.Index, tlog.RecordHash([]byte(record))); err != nil {
				t.Errorf("CheckRecord(entry %d in size %d) = %v", e.Index, oldTree.N, err)
			}
			if hash64(t, p.TreeHash) != oldTree.Hash || p.LeafHash != e.LeafHash {
				t.Errorf("inclusion proof of entry %d: tree hash %s, leaf %s, want the checkpoint's and the entry's", e.Index, p.TreeHash, p.LeafHash)
			}
		}
		code, b, hdr := auditor("GET", "/api/v1/audit/entries?action=statements.write&decision=allow", map[string]string{"Accept": "text/csv"}, nil)
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if code != 200 || err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || len(rows) != 3 {
			t.Errorf("GET entries as CSV = %d %q, %v, want a header and the two writes", code, b, err)
		}
	})

	t.Run("consistency proof", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		var cur tlog.Tree
		for cur.N <= oldTree.N { // the periodic publisher publishes the grown log
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint beyond size %d was published", oldTree.N)
			}
			time.Sleep(30 * time.Millisecond)
			code, b, _ := auditor("GET", "/api/v1/audit/checkpoint", nil, nil)
			if code != 200 {
				t.Fatalf("GET checkpoint = %d %s", code, b)
			}
			_, cur = openNote(t, b, logKey)
		}
		code, b, _ := auditor("GET", fmt.Sprintf("/api/v1/audit/proof/consistency?old=%d&new=%d", oldTree.N, cur.N), nil, nil)
		var p struct {
			Proof []string `json:"proof"`
		}
		if code != 200 || json.Unmarshal(b, &p) != nil {
			t.Fatalf("GET consistency proof = %d %s", code, b)
		}
		var proof tlog.TreeProof
		for _, h := range p.Proof {
			proof = append(proof, hash64(t, h))
		}
		if err := tlog.CheckTree(proof, cur.N, cur.Hash, oldTree.N, oldTree.Hash); err != nil {
			t.Errorf("CheckTree(%d ⊂ %d) = %v", oldTree.N, cur.N, err)
		}
	})

	var cosignedSize int64
	t.Run("witness", func(t *testing.T) {
		code, cp, _ := auditor("GET", "/api/v1/audit/checkpoint", nil, nil)
		cpFile := filepath.Join(dir, "checkpoint")
		if err := os.WriteFile(cpFile, cp, 0o600); code != 200 || err != nil {
			t.Fatalf("GET checkpoint = %d, %v", code, err)
		}
		if _, err := runCLI(t, "audit", "cosign", "--key", witnessFile, "--checkpoint", cpFile, "--log-key", witnessKey, "--state", stateFile); err == nil {
			t.Errorf("audit cosign with the wrong log key = nil error, want a refusal")
		}
		if _, err := runCLI(t, "audit", "cosign", "--key", witnessFile, "--checkpoint", cpFile, "--state", stateFile); err == nil {
			t.Errorf("audit cosign without --log-key = nil error, want a usage error")
		}
		cosigned, notice, err := runCLI2(t, "audit", "cosign", "--key", witnessFile, "--checkpoint", cpFile, "--log-key", logKey, "--state", stateFile)
		if err != nil || !strings.Contains(notice, "no state yet") {
			t.Fatalf("audit cosign = %v: %s %s, want a first-use notice", err, cosigned, notice)
		}
		code, b, _ := auditor("POST", "/api/v1/audit/checkpoint/cosign", map[string]string{"Content-Type": "text/plain"}, []byte(cosigned))
		if code != 200 {
			t.Fatalf("POST cosign = %d %s", code, b)
		}
		n, tree := openNote(t, b, logKey, witnessKey)
		if len(n.Sigs) != 2 {
			t.Errorf("the cosigned checkpoint has %d verified signatures, want the log's and the witness's", len(n.Sigs))
		}
		cosignedSize = tree.N
		code, b, _ = auditor("POST", "/api/v1/audit/checkpoint/cosign", map[string]string{"Content-Type": "text/plain"}, cp)
		if code != 400 {
			t.Errorf("POST cosign without a witness signature = %d %s, want 400", code, b)
		}
	})

	// One more access, published on demand: the latest checkpoint is not
	// cosigned yet.
	if code, b, _ := auditor("POST", "/api/v1/audit/checkpoint", nil, nil); code != 200 {
		t.Fatalf("POST checkpoint = %d %s", code, b)
	}
	l.stop()

	rootKey := filepath.Join(l.data, "root.agekey")
	t.Run("verify", func(t *testing.T) {
		out, err := runCLI(t, "audit", "verify", "--data", l.data, "--key", logKey, "--root-key-file", rootKey, "--checkpoint", stateFile)
		if err != nil || !strings.Contains(out, "audit log verified") || !strings.Contains(out, ", 0 erased") ||
			!strings.Contains(out, fmt.Sprintf("extends the trusted checkpoint of size %d", cosignedSize)) {
			t.Errorf("audit verify --root-key-file --checkpoint = %v: %s", err, out)
		}
		out, err = runCLI(t, "audit", "verify", "--data", l.data, "--key", logKey)
		if err != nil || !strings.Contains(out, "not opened") {
			t.Errorf("audit verify without the root key = %v: %s, want success saying bodies were not checked", err, out)
		}
		out, err = runCLI(t, "audit", "verify", "--data", l.data, "--key", logKey, "--require-witness", witnessKey)
		if err == nil || !strings.Contains(err.Error(), "not cosigned by witness dpo") {
			t.Errorf("audit verify --require-witness after a new publication = %v: %s, want a failure naming the witness", err, out)
		}
		out, err = runCLI(t, "audit", "verify", "--data", l.data, "--key", logKey, "--require-witness", witnessKey, "--max-witness-lag", "100")
		if err != nil || !strings.Contains(out, fmt.Sprintf("witness dpo: cosigned up to size %d", cosignedSize)) {
			t.Errorf("audit verify --require-witness --max-witness-lag 100 = %v: %s", err, out)
		}
	})

	t.Run("export", func(t *testing.T) {
		for _, flags := range [][]string{nil, {"--no-bodies"}} {
			file := filepath.Join(t.TempDir(), "audit.tar")
			if out, err := runCLI(t, append([]string{"audit", "export", "--data", l.data, "--out", file}, flags...)...); err != nil {
				t.Fatalf("audit export %v = %v: %s", flags, err, out)
			}
			out, err := runCLI(t, "audit", "verify", "--log", file, "--key", logKey, "--data", l.data, "--root-key-file", rootKey)
			wantBodies := ", 0 erased"
			if flags != nil {
				wantBodies = "entry bodies: not in this export"
			}
			if err != nil || !strings.Contains(out, wantBodies) {
				t.Errorf("audit verify --log (export %v) = %v: %s, want %q", flags, err, out, wantBodies)
			}
			if _, err := runCLI(t, "audit", "verify", "--log", file); err == nil {
				t.Errorf("audit verify --log without --key = nil error, want a usage error")
			}
		}
	})
}

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
	rootKey := filepath.Join(l.data, "root.agekey")
	if out, err := runCLI(t, "audit", "verify", "--data", l.data, "--root-key-file", rootKey); err != nil || !strings.Contains(out, "audit log verified") {
		t.Fatalf("audit verify on an untouched log = %v: %s", err, out)
	}

	path := filepath.Join(l.data, "audit", "entries.jsonl")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(orig, []byte("\n"))
	if len(lines) < 5 {
		t.Fatalf("audit log has %d entries, want the bootstrap, 3 writes and a read", len(lines))
	}
	for _, tt := range []struct {
		field   string
		off     int
		keyless bool // found without the root key too
	}{
		{"sealed", 40, false},
		{"commitment", 5, true},
	} {
		t.Run(tt.field, func(t *testing.T) {
			altered := slices.Clone(lines)
			line := bytes.Clone(altered[2])
			at := bytes.Index(line, []byte(`"`+tt.field+`":"`)) + len(tt.field) + 4 + tt.off
			if line[at] == 'A' {
				line[at] = 'B'
			} else {
				line[at] = 'A'
			}
			altered[2] = line
			if err := os.WriteFile(path, bytes.Join(altered, nil), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.WriteFile(path, orig, 0o600) })
			out, err := runCLI(t, "audit", "verify", "--data", l.data, "--root-key-file", rootKey)
			if err == nil || !strings.Contains(err.Error(), "entry 2") {
				t.Errorf("audit verify --root-key-file on entry 2's %s altered = %v: %s, want a failure naming entry 2", tt.field, err, out)
			}
			out, err = runCLI(t, "audit", "verify", "--data", l.data)
			if tt.keyless != (err != nil) {
				t.Errorf("audit verify without the root key on entry 2's %s altered = %v: %s, want failure %v", tt.field, err, out, tt.keyless)
			}
		})
	}
}
