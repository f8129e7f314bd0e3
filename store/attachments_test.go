package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"custodia/store"
	"custodia/xapi"
)

func attachmentStatement(t *testing.T, id, mbox, sha string, withFileURL bool) *xapi.Statement {
	t.Helper()
	fileURL := ""
	if withFileURL {
		fileURL = `,"fileUrl":"http://files.example.com/cert.pdf"`
	}
	body := fmt.Sprintf(`{"id":%q,"actor":{"mbox":%q},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},
		"object":{"id":"http://example.com/course"},
		"attachments":[{"usageType":"http://id.tincanapi.com/attachment/certificate-of-completion","display":{"en-US":"certificate"},
		"contentType":"text/plain","length":32,"sha2":%q%s}]}`, id, mbox, sha, fileURL)
	s, err := xapi.ParseStatement([]byte(body), xapi.V103)
	if err != nil {
		t.Fatal(err)
	}
	s.Prepare(xapi.Prepare{Authority: xapi.Agent{Mbox: "mailto:lrs@example.com"}, Version: xapi.V103})
	return s
}

// TestAttachments: attachment data is stored sealed with each statement
// that names it, one copy per statement, and read back by statement and hash.
func TestAttachments(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(dir, newSealer(), store.Options{SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("ATTACHMENT-MARKER certificate of completion")
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	a := attachmentStatement(t, "11111111-1111-4111-8111-111111111111", "mailto:a@example.com", sha, false)
	b := attachmentStatement(t, "22222222-2222-4222-8222-222222222222", "mailto:b@example.com", sha, false)
	c := attachmentStatement(t, "33333333-3333-4333-8333-333333333333", "mailto:c@example.com", sha, true)
	if err := db.PutStatements(ctx, []*xapi.Statement{a, b}, map[string][]byte{sha: data}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutStatements(ctx, []*xapi.Statement{c}, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID(), b.ID()} {
		got, err := db.Attachment(ctx, id, sha)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Attachment(%s) = %q, %v; want the data", id, got, err)
		}
	}
	if _, err := db.Attachment(ctx, c.ID(), sha); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("Attachment of a fileUrl-only attachment = %v, want NotFound", err)
	}
	if _, err := db.Attachment(ctx, "44444444-4444-4444-8444-444444444444", sha); xapi.ErrorKind(err) != xapi.NotFound {
		t.Errorf("Attachment of an unknown statement = %v, want NotFound", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte("ATTACHMENT-MARKER")) {
			t.Errorf("%s holds attachment data in plain form", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
