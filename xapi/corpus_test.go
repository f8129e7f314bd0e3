package xapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"custodia/xapi"
)

const corpusDir = "../testdata/statements"

// corpus reads every valid statement of the shared corpus, by file and index.
func corpus(t testing.TB) map[string][]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", corpusDir, err)
	}
	out := map[string][]json.RawMessage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = list
	}
	return out
}

type invalidEntry struct {
	Note      string          `json:"note"`
	Expect    string          `json:"expect"`
	Source    string          `json:"source"`
	Statement json.RawMessage `json:"statement"`
	Raw       *string         `json:"raw"`
}

func invalidCorpus(t testing.TB) map[string][]invalidEntry {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "invalid", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid corpus files: %v", err)
	}
	out := map[string][]invalidEntry{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var list []invalidEntry
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = list
	}
	return out
}

func (e invalidEntry) body() []byte {
	if e.Raw != nil {
		return []byte(*e.Raw)
	}
	return e.Statement
}

func TestCorpusValid(t *testing.T) {
	n := 0
	for file, list := range corpus(t) {
		for i, raw := range list {
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				if _, err := xapi.ParseStatement(raw, v); err != nil {
					t.Errorf("ParseStatement(%s[%d], %s) = %v, want nil", file, i, v, err)
				}
			}
			n++
		}
	}
	if n != 190 {
		t.Errorf("corpus has %d statements, want 190", n)
	}
}

func TestCorpusInvalid(t *testing.T) {
	n := 0
	for file, list := range invalidCorpus(t) {
		for i, e := range list {
			if e.Expect != "reject" {
				continue
			}
			n++
			for _, v := range []xapi.Version{xapi.V103, xapi.V200} {
				_, err := xapi.ParseStatement(e.body(), v)
				if err == nil || xapi.ErrorKind(err) != xapi.Invalid {
					t.Errorf("ParseStatement(%s[%d] %q, %s) = %v, want an Invalid error", file, i, e.Note, v, err)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no invalid entries with expect=reject")
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
