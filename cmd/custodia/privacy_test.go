package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func statementAbout(mbox, marker string) []byte {
	return []byte(fmt.Sprintf(`{"actor":{"objectType":"Agent","name":"Learner","mbox":%q},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/answered","display":{"en-US":"answered"}},
		"object":{"id":"http://courses.example.com/ethics/q1","definition":{"name":{"en-US":"Question 1"}}},
		"result":{"response":%q,"success":true}}`, mbox, marker))
}

// TestLearnerReadsOnlyOwnStatements: a client writes statements about two
// learners; each learner's credential sees only the statements about the
// person bound to it, by query and by id.
func TestLearnerReadsOnlyOwnStatements(t *testing.T) {
	l := startLRS(t, "")
	ck, cs := l.credential(t, `{"name":"lms","roles":["client"],"scopes":["statements/write"]}`)
	ak, as := l.credential(t, `{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"}}`)
	ids := map[string]string{}
	for _, who := range []string{"alice", "bob"} {
		code, b, _ := l.call(t, "POST", "/xapi/statements", ck, cs, "1.0.3", statementAbout("mailto:"+who+"@example.com", "x"))
		var got []string
		if code != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("client POST = %d %s", code, b)
		}
		ids[who] = got[0]
	}
	// The client may write but, without a read scope, not read.
	if code, _, _ := l.call(t, "GET", "/xapi/statements", ck, cs, "1.0.3", nil); code != 403 {
		t.Errorf("client without read scope: GET = %d, want 403", code)
	}
	code, b, _ := l.call(t, "GET", "/xapi/statements", ak, as, "1.0.3", nil)
	var res struct{ Statements []struct{ ID string } }
	if code != 200 || json.Unmarshal(b, &res) != nil || len(res.Statements) != 1 || res.Statements[0].ID != ids["alice"] {
		t.Fatalf("alice's query = %d %s, want only her statement", code, b)
	}
	if code, _, _ := l.call(t, "GET", "/xapi/statements?statementId="+ids["bob"], ak, as, "1.0.3", nil); code != 404 {
		t.Errorf("alice GET bob's statement by id = %d, want 404", code)
	}
	agentQ := "/xapi/statements?agent=" + strings.ReplaceAll(`{"mbox":"mailto:bob@example.com"}`, `"`, "%22")
	code, b, _ = l.call(t, "GET", agentQ, ak, as, "1.0.3", nil)
	if code != 200 || bytes.Contains(b, []byte(ids["bob"])) {
		t.Errorf("alice querying agent=bob = %d %s, want no bob statements", code, b)
	}
	// Alice may record her own statements, not Bob's.
	if code, b, _ := l.call(t, "POST", "/xapi/statements", ak, as, "2.0.0", statementAbout("mailto:bob@example.com", "y")); code != 403 {
		t.Errorf("alice writing about bob = %d %s, want 403", code, b)
	}
}

// TestNoPlaintextOnDisk writes a statement carrying a unique marker and a
// unique mbox, stops the server, and scans every file of the data folder.
func TestNoPlaintextOnDisk(t *testing.T) {
	l := startLRS(t, "")
	marker := "MARKER-7f1c2d9e-response-text"
	mbox := "mailto:unique.person.83d1@example.org"
	if code, b := l.admin(t, "POST", "/xapi/statements", "2.0.0", statementAbout(mbox, marker)); code != 200 {
		t.Fatalf("POST = %d %s", code, b)
	}
	// Read it back, so that queries and their audit entries are on disk too.
	if code, b := l.admin(t, "GET", "/xapi/statements?agent="+strings.ReplaceAll(`{"mbox":"`+mbox+`"}`, `"`, "%22"), "2.0.0", nil); code != 200 || !bytes.Contains(b, []byte(marker)) {
		t.Fatalf("query = %d %s, want the statement back", code, b)
	}
	l.stop()
	needles := [][]byte{[]byte(marker), []byte("unique.person.83d1"), []byte("ethics/q1"), []byte("Question 1")}
	files := 0
	err := filepath.WalkDir(l.data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains %q in plain form", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Errorf("scanned %d files, want the whole data folder", files)
	}
}
