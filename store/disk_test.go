package store_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"custodia/store"
	"custodia/xapi"
)

func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	db, err := store.Open(dir, newSealer(), store.Options{SyncWrites: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	const (
		marker   = "MARKER-7f3a9c2e-unique-response"
		mbox     = "mailto:secret.learner@example.org"
		activity = "http://example.org/secret-activity-e1b2"
		verb     = "http://example.org/verbs/secret-verb-c3d4"
		reg      = "9a8b7c6d-1234-4abc-9def-0123456789ab"
		record   = "RECORD-SECRET-5e6f"
		defName  = "DEFINITION-SECRET-8a7b"
	)
	s := prepared(t, `{"id":"`+uuid(1)+`","actor":{"mbox":"`+mbox+`","name":"Secret Learner"},
		"verb":{"id":"`+verb+`"},"object":{"id":"`+activity+`","definition":{"name":{"en":"`+defName+`"}}},
		"context":{"registration":"`+reg+`"},"result":{"response":"`+marker+`"}}`)
	ref := stmt(t, spec{id: uuid(2), mbox: mbox, refTarget: uuid(1)})
	put(t, db, s, ref)
	if err := db.PutRecord(ctx, "credential", "key-1", []byte(record)); err != nil {
		t.Fatal(err)
	}
	// The store must still answer from what it wrote.
	if defs, err := db.Activities(ctx, []string{activity}); err != nil || !defs[activity].HasDefinition() {
		t.Fatalf("Activities(%s) = %v, %v; want its canonical definition", activity, defs, err)
	}
	if got := queryAll(t, db, xapi.Query{Agent: &xapi.Agent{Mbox: mbox}, Activity: activity}, 10); len(got) != 2 {
		t.Fatalf("QueryStatements(agent, activity) = %v, want 2 statements", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	secrets := []string{marker, mbox, "secret.learner@example.org", "Secret Learner", activity, verb, reg, record, defName}
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("file %s contains %q in plain form", filepath.Base(path), sec)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files in the data directory")
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	open := func(s store.Sealer) *store.DB {
		t.Helper()
		db, err := store.Open(dir, s, store.Options{Now: clk.Now})
		if err != nil {
			t.Fatalf("Open(%s) = %v", dir, err)
		}
		return db
	}
	db := open(newSealer())
	put(t, db, stmt(t, spec{id: uuid(1)}), stmt(t, spec{id: uuid(2)}))
	clk.Advance(time.Second)
	put(t, db, stmt(t, spec{id: uuid(3), verb: xapi.VerbVoided, refTarget: uuid(1)}))
	before := db.ConsistentThrough()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Advance(-time.Hour) // restart with a clock that stepped back
	db = open(newSealer())
	s := stmt(t, spec{id: uuid(4)})
	put(t, db, s)
	if s.Stored().Before(before) {
		t.Errorf("Stored() after reopen = %v, want not before %v", s.Stored(), before)
	}
	got := queryAll(t, db, xapi.Query{Ascending: true}, 2)
	if want := []string{uuid(2), uuid(3), uuid(4)}; !slices.Equal(got, want) {
		t.Errorf("query after reopen = %v, want %v", got, want)
	}
	if _, voided, err := db.GetStatement(ctx, uuid(1)); err != nil || !voided {
		t.Errorf("GetStatement(voided, after reopen) = %v, %v; want voided", voided, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Under other keys nothing opens.
	other := newSealer()
	other.secret = "another secret"
	db = open(other)
	defer db.Close()
	if _, _, err := db.GetStatement(ctx, uuid(2)); err == nil || kindOf(err) != xapi.Internal {
		t.Errorf("GetStatement(under other keys) = %v, want an Internal error", err)
	}
	if got, _, err := db.QueryStatements(ctx, xapi.Query{Verb: "http://adlnet.gov/expapi/verbs/experienced"}, "", 10, nil); err != nil || len(got) != 0 {
		t.Errorf("QueryStatements(blind index under other keys) = %d statements, %v; want none", len(got), err)
	}
}
