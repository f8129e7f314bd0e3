package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"custodia/store"
	"custodia/xapi"
)

var (
	alice = &xapi.Agent{Mbox: "mailto:alice@example.com"}
	bob   = &xapi.Agent{Mbox: "mailto:bob@example.com"}
)

const course = "http://example.com/course/1"

func stateOf(agent *xapi.Agent, reg, id string) xapi.DocumentParams {
	return xapi.DocumentParams{Kind: xapi.StateDocument, ActivityID: course, Agent: agent, Registration: reg, ID: id}
}

func jsonDoc(s string) xapi.Document {
	return xapi.Document{ContentType: "application/json", Body: []byte(s)}
}

func mustPut(t testing.TB, db *store.DB, p xapi.DocumentParams, d xapi.Document) xapi.Document {
	t.Helper()
	got, err := db.PutDocument(context.Background(), p, d, xapi.Precondition{})
	if err != nil {
		t.Fatalf("PutDocument(%s) = %v", p.ID, err)
	}
	return got
}

func mustGet(t testing.TB, db *store.DB, p xapi.DocumentParams) xapi.Document {
	t.Helper()
	got, err := db.GetDocument(context.Background(), p)
	if err != nil {
		t.Fatalf("GetDocument(%s) = %v", p.ID, err)
	}
	return got
}

func TestDocumentPutGet(t *testing.T) {
	db, clk := openMem(t)
	for _, kind := range []xapi.DocumentKind{xapi.StateDocument, xapi.ActivityProfileDocument, xapi.AgentProfileDocument} {
		t.Run(string(kind), func(t *testing.T) {
			p := xapi.DocumentParams{Kind: kind, ActivityID: course, Agent: alice, ID: "doc-1"}
			body := []byte("\x00binary \xff bytes kept exactly")
			put := mustPut(t, db, p, xapi.Document{ContentType: "application/octet-stream", Body: body})
			got := mustGet(t, db, p)
			if !bytes.Equal(got.Body, body) || got.ContentType != "application/octet-stream" || got.ID != "doc-1" {
				t.Errorf("GetDocument = %q %q %q, want the bytes, type and id stored", got.ID, got.ContentType, got.Body)
			}
			if want := xapi.DocumentETag(body); got.ETag != want || put.ETag != want {
				t.Errorf("ETag = %s (put %s), want %s", got.ETag, put.ETag, want)
			}
			if !got.Updated.Equal(clk.Now()) {
				t.Errorf("Updated = %v, want %v", got.Updated, clk.Now())
			}
		})
	}
}

func TestDocumentNotFound(t *testing.T) {
	db, _ := openMem(t)
	mustPut(t, db, stateOf(alice, "", "s"), jsonDoc(`{}`))
	for name, p := range map[string]xapi.DocumentParams{
		"other id":           stateOf(alice, "", "t"),
		"other agent":        stateOf(bob, "", "s"),
		"other registration": stateOf(alice, uuid(1), "s"),
		"agent profile":      {Kind: xapi.AgentProfileDocument, Agent: alice, ID: "s"},
	} {
		if _, err := db.GetDocument(context.Background(), p); kindOf(err) != xapi.NotFound {
			t.Errorf("%s: GetDocument = %v, want NotFound", name, err)
		}
	}
}

// TestDocumentPost covers the POST rules of XAPI-REQUIREMENTS §5.2–5.4.
func TestDocumentPost(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name           string
		stored         *xapi.Document
		posted         xapi.Document
		want           string // the stored body afterwards
		wantKind       xapi.Kind
		wantErr        bool
		wantMergedType string
	}{
		{name: "XAPI-00233 post to missing document stores it", posted: jsonDoc(`{"a":1}`), want: `{"a":1}`},
		{name: "XAPI-00233 post of bytes to missing document stores them", posted: xapi.Document{ContentType: "text/plain", Body: []byte("abc")}, want: "abc"},
		{name: "XAPI-00234 merge adds keys", stored: ptr(jsonDoc(`{"car":"Honda"}`)), posted: jsonDoc(`{"type":"Civic"}`), want: `{"car":"Honda","type":"Civic"}`},
		{name: "XAPI-00184 merge overwrites top-level values", stored: ptr(jsonDoc(`{"car":"MKX"}`)), posted: jsonDoc(`{"car":"MKZ"}`), want: `{"car":"MKZ"}`},
		{name: "XAPI-00183 merge is one level deep", stored: ptr(jsonDoc(`{"car":{"make":"Ford","model":"Escape"},"d":1}`)), posted: jsonDoc(`{"car":{"make":"Dodge"}}`), want: `{"car":{"make":"Dodge"},"d":1}`},
		{name: "merge keeps numbers as written", stored: ptr(jsonDoc(`{"n":1.50}`)), posted: jsonDoc(`{"m":12345678901234567890}`), want: `{"m":12345678901234567890,"n":1.50}`},
		{name: "merge with charset parameter", stored: ptr(jsonDoc(`{"a":1}`)), posted: xapi.Document{ContentType: "application/json; charset=utf-8", Body: []byte(`{"b":2}`)}, want: `{"a":1,"b":2}`},
		{name: "XAPI-00229 posted not JSON", stored: ptr(jsonDoc(`{"a":1}`)), posted: xapi.Document{ContentType: "not/json", Body: []byte("abcdefg")}, want: `{"a":1}`, wantErr: true, wantKind: xapi.Invalid},
		{name: "XAPI-00229 stored not JSON", stored: &xapi.Document{ContentType: "application/octet-stream", Body: []byte("/ asdf / undefined")}, posted: jsonDoc(`{"a":1}`), want: "/ asdf / undefined", wantErr: true, wantKind: xapi.Invalid},
		{name: "XAPI-00232 posted JSON array", stored: ptr(jsonDoc(`{"a":1}`)), posted: jsonDoc(`[1]`), want: `{"a":1}`, wantErr: true, wantKind: xapi.Invalid},
		{name: "XAPI-00235 posted invalid JSON", stored: ptr(jsonDoc(`{"a":1}`)), posted: jsonDoc(`{"a":1}{`), want: `{"a":1}`, wantErr: true, wantKind: xapi.Invalid},
		{name: "stored JSON array", stored: ptr(jsonDoc(`[1]`)), posted: jsonDoc(`{"a":1}`), want: `[1]`, wantErr: true, wantKind: xapi.Invalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openMem(t)
			p := stateOf(alice, "", fmt.Sprint("post-", i))
			if tt.stored != nil {
				mustPut(t, db, p, *tt.stored)
			}
			_, err := db.PostDocument(ctx, p, tt.posted, xapi.Precondition{})
			if tt.wantErr != (err != nil) || err != nil && kindOf(err) != tt.wantKind {
				t.Fatalf("PostDocument = %v, want error %v of kind %v", err, tt.wantErr, tt.wantKind)
			}
			got := mustGet(t, db, p)
			if string(got.Body) != tt.want {
				t.Errorf("stored body = %s, want %s", got.Body, tt.want)
			}
			if got.ETag != xapi.DocumentETag(got.Body) {
				t.Errorf("ETag = %s, want the SHA-1 of the stored body", got.ETag)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestDocumentPreconditions covers XAPI-REQUIREMENTS §5.8: each failed
// check leaves the document as it was.
func TestDocumentPreconditions(t *testing.T) {
	ctx := context.Background()
	orig := jsonDoc(`{"v":"original"}`)
	origTag := xapi.DocumentETag(orig.Body)
	tests := []struct {
		name   string
		exists bool
		cond   xapi.Precondition
		op     string // put, post, delete
		want   xapi.Kind
		ok     bool
	}{
		{"XAPI-00322 put If-Match right etag", true, xapi.Precondition{IfMatch: []string{origTag}}, "put", 0, true},
		{"XAPI-00322 put If-Match one of a list", true, xapi.Precondition{IfMatch: []string{`"x"`, origTag}}, "put", 0, true},
		{"XAPI-00322 put If-Match star", true, xapi.Precondition{IfMatch: []string{"*"}}, "put", 0, true},
		{"XAPI-00322 put If-Match wrong etag 412", true, xapi.Precondition{IfMatch: []string{`"1234"`}}, "put", xapi.PreconditionFailed, false},
		{"XAPI-00322 put If-Match weak etag never matches", true, xapi.Precondition{IfMatch: []string{"W/" + origTag}}, "put", xapi.PreconditionFailed, false},
		{"XAPI-00322 put If-Match on missing document 412", false, xapi.Precondition{IfMatch: []string{"*"}}, "put", xapi.PreconditionFailed, false},
		{"XAPI-00322 put If-None-Match star on existing 412", true, xapi.Precondition{IfNoneMatch: []string{"*"}}, "put", xapi.PreconditionFailed, false},
		{"XAPI-00322 put If-None-Match star on missing", false, xapi.Precondition{IfNoneMatch: []string{"*"}}, "put", 0, true},
		{"XAPI-00322 put If-None-Match other etag", true, xapi.Precondition{IfNoneMatch: []string{`"x"`}}, "put", 0, true},
		{"XAPI-00273 put without header to existing 409", true, xapi.Precondition{RequireIfExists: true}, "put", xapi.Conflict, false},
		{"XAPI-00273 put without header to missing (1.0.3 profile) 400", false, xapi.Precondition{RequireIfExists: true, RequireIfMissing: true}, "put", xapi.Invalid, false},
		{"put without header to existing when not required", true, xapi.Precondition{}, "put", 0, true},
		{"4.1.4 post If-Match wrong etag 412", true, xapi.Precondition{IfMatch: []string{`"1234"`}}, "post", xapi.PreconditionFailed, false},
		{"4.1.4 post If-Match right etag", true, xapi.Precondition{IfMatch: []string{origTag}}, "post", 0, true},
		{"post If-None-Match star on existing 412", true, xapi.Precondition{IfNoneMatch: []string{"*"}}, "post", xapi.PreconditionFailed, false},
		{"4.1.4 delete If-Match wrong etag 412", true, xapi.Precondition{IfMatch: []string{`"1234"`}}, "delete", xapi.PreconditionFailed, false},
		{"4.1.4 delete If-Match right etag", true, xapi.Precondition{IfMatch: []string{origTag}}, "delete", 0, true},
		{"delete missing document", false, xapi.Precondition{}, "delete", 0, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openMem(t)
			p := stateOf(alice, "", fmt.Sprint("cond-", i))
			if tt.exists {
				mustPut(t, db, p, orig)
			}
			var err error
			switch tt.op {
			case "put":
				_, err = db.PutDocument(ctx, p, jsonDoc(`{"v":"new"}`), tt.cond)
			case "post":
				_, err = db.PostDocument(ctx, p, jsonDoc(`{"v":"new"}`), tt.cond)
			case "delete":
				err = db.DeleteDocument(ctx, p, tt.cond)
			}
			if tt.ok != (err == nil) || !tt.ok && kindOf(err) != tt.want {
				t.Fatalf("%s with %+v = %v, want ok %v or kind %v", tt.op, tt.cond, err, tt.ok, tt.want)
			}
			got, gerr := db.GetDocument(ctx, p)
			switch {
			case !tt.ok && tt.exists && string(got.Body) != string(orig.Body):
				t.Errorf("after a refused %s the document is %s (%v), want it unchanged", tt.op, got.Body, gerr)
			case !tt.ok && !tt.exists && kindOf(gerr) != xapi.NotFound:
				t.Errorf("after a refused %s a document exists: %s", tt.op, got.Body)
			case tt.ok && tt.op == "delete" && kindOf(gerr) != xapi.NotFound:
				t.Errorf("after delete GetDocument = %v, want NotFound", gerr)
			case tt.ok && tt.op != "delete" && string(got.Body) != `{"v":"new"}`:
				t.Errorf("after %s the document is %s, want the new one", tt.op, got.Body)
			}
		})
	}
}

// TestDocumentListSince covers XAPI-00195/275/294 and the multiple-document
// GET and DELETE of State (XAPI-00193/194), by registration.
func TestDocumentListSince(t *testing.T) {
	ctx := context.Background()
	db, clk := openMem(t)
	t0 := clk.Now()
	mustPut(t, db, stateOf(alice, "", "a"), jsonDoc(`{}`))
	clk.Advance(time.Second)
	mustPut(t, db, stateOf(alice, uuid(1), "b"), jsonDoc(`{}`))
	clk.Advance(time.Second)
	mustPut(t, db, stateOf(alice, uuid(2), "c"), jsonDoc(`{}`))
	mustPut(t, db, stateOf(bob, "", "z"), jsonDoc(`{}`))
	other := stateOf(alice, "", "o")
	other.ActivityID = "http://example.com/other"
	mustPut(t, db, other, jsonDoc(`{}`))

	list := func(reg string, since time.Time) []string {
		t.Helper()
		p := stateOf(alice, reg, "")
		p.Since = since
		docs, err := db.ListDocuments(ctx, p)
		if err != nil {
			t.Fatalf("ListDocuments = %v", err)
		}
		var ids []string
		for _, d := range docs {
			if d.Body != nil {
				t.Errorf("ListDocuments returned a body for %s", d.ID)
			}
			ids = append(ids, d.ID)
		}
		return ids
	}
	tests := []struct {
		name  string
		reg   string
		since time.Time
		want  []string
	}{
		{"XAPI-00193 every registration", "", time.Time{}, []string{"a", "b", "c"}},
		{"one registration", uuid(1), time.Time{}, []string{"b"}},
		{"XAPI-00195 since is exclusive", "", t0, []string{"b", "c"}},
		{"since after all", "", t0.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(tt.reg, tt.since); !slices.Equal(got, tt.want) {
				t.Errorf("ListDocuments(reg %q, since %v) = %v, want %v", tt.reg, tt.since, got, tt.want)
			}
		})
	}
	t.Run("XAPI-00194 delete all of one registration", func(t *testing.T) {
		n, err := db.DeleteDocuments(ctx, stateOf(alice, uuid(2), ""))
		if err != nil || n != 1 {
			t.Fatalf("DeleteDocuments(reg 2) = %d, %v, want 1", n, err)
		}
		if got := list("", time.Time{}); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("after delete: %v, want [a b]", got)
		}
	})
	t.Run("XAPI-00194 delete all", func(t *testing.T) {
		n, err := db.DeleteDocuments(ctx, stateOf(alice, "", ""))
		if err != nil || n != 2 {
			t.Fatalf("DeleteDocuments = %d, %v, want 2", n, err)
		}
		if got := list("", time.Time{}); len(got) != 0 {
			t.Errorf("after delete all: %v, want none", got)
		}
		// Other agents and activities keep theirs.
		mustGet(t, db, stateOf(bob, "", "z"))
		mustGet(t, db, other)
	})
}

func TestDocumentUpdatedMovesForward(t *testing.T) {
	db, _ := openMem(t) // the clock stands still
	p := stateOf(alice, "", "s")
	first := mustPut(t, db, p, jsonDoc(`{"a":1}`))
	second := mustPut(t, db, p, jsonDoc(`{"a":2}`))
	if !second.Updated.After(first.Updated) {
		t.Errorf("Updated after rewrite = %v, want after %v", second.Updated, first.Updated)
	}
}

// TestDocumentConcurrentMerges: concurrent POSTs of distinct keys to one
// JSON document all land; the check and the write are one transaction.
func TestDocumentConcurrentMerges(t *testing.T) {
	db, _ := openMem(t)
	p := stateOf(alice, "", "merged")
	mustPut(t, db, p, jsonDoc(`{}`))
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.PostDocument(context.Background(), p, jsonDoc(fmt.Sprintf(`{"k%d":%d}`, i, i)), xapi.Precondition{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("PostDocument = %v", err)
		}
	}
	var m map[string]int
	if err := json.Unmarshal(mustGet(t, db, p).Body, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != n {
		t.Errorf("merged document has %d keys, want %d (lost updates)", len(m), n)
	}
}

// TestDocumentConcurrentIfMatch: writers that all read the same ETag race
// with If-Match; exactly one wins, the others get 412.
func TestDocumentConcurrentIfMatch(t *testing.T) {
	db, _ := openMem(t)
	p := xapi.DocumentParams{Kind: xapi.ActivityProfileDocument, ActivityID: course, ID: "profile"}
	tag := mustPut(t, db, p, jsonDoc(`{"n":0}`)).ETag
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, failed := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.PutDocument(context.Background(), p, jsonDoc(fmt.Sprintf(`{"n":%d}`, i+1)), xapi.Precondition{IfMatch: []string{tag}, RequireIfExists: true})
			mu.Lock()
			defer mu.Unlock()
			switch kindOf(err) {
			case xapi.PreconditionFailed:
				failed++
			default:
				if err != nil {
					t.Errorf("PutDocument = %v", err)
				}
				won++
			}
		}()
	}
	wg.Wait()
	if won != 1 || failed != n-1 {
		t.Errorf("%d writers won and %d got 412, want 1 and %d", won, failed, n-1)
	}
}

// TestDocumentsNotPlainOnDisk writes documents whose ids, agent, activity
// and content carry markers and scans every file of the store.
func TestDocumentsNotPlainOnDisk(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, newSealer(), store.Options{SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"STATEID-SECRET-91a", "PROFILE-SECRET-22b", "secret.doc.person@example.org", "http://example.org/secret-course-77", "CONTENT-SECRET-5c4", "3f2e1d0c-aaaa-4bbb-8ccc-0123456789ab"}
	agent := &xapi.Agent{Mbox: "mailto:" + secrets[2]}
	docs := []xapi.DocumentParams{
		{Kind: xapi.StateDocument, ActivityID: secrets[3], Agent: agent, Registration: secrets[5], ID: secrets[0]},
		{Kind: xapi.AgentProfileDocument, Agent: agent, ID: secrets[1]},
		{Kind: xapi.ActivityProfileDocument, ActivityID: secrets[3], ID: secrets[1]},
	}
	for _, p := range docs {
		mustPut(t, db, p, jsonDoc(`{"x":"`+secrets[4]+`"}`))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
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
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("file %s contains %q in plain form", filepath.Base(path), s)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("scanned %d files: %v", files, err)
	}
}

// BenchmarkDocumentPost measures a checked, merging document write and a
// read: seal, open and one Badger transaction each (in memory, no fsync).
func BenchmarkDocumentPost(b *testing.B) {
	db, _ := openMem(b)
	ctx := context.Background()
	p := stateOf(alice, "", "bench")
	for i := 0; b.Loop(); i++ {
		if _, err := db.PostDocument(ctx, p, jsonDoc(fmt.Sprintf(`{"k%d":%d}`, i%64, i)), xapi.Precondition{}); err != nil {
			b.Fatal(err)
		}
		if _, err := db.GetDocument(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProfileDocuments runs the POST and list rules on the two profile
// resources, whose keys differ from State's: each case names the
// requirement id of the resource it runs on.
func TestProfileDocuments(t *testing.T) {
	ctx := context.Background()
	activityProfile := func(id string) xapi.DocumentParams {
		return xapi.DocumentParams{Kind: xapi.ActivityProfileDocument, ActivityID: course, ID: id}
	}
	agentProfile := func(id string) xapi.DocumentParams {
		return xapi.DocumentParams{Kind: xapi.AgentProfileDocument, Agent: alice, ID: id}
	}
	text := xapi.Document{ContentType: "text/plain", Body: []byte("not JSON")}
	// reqs are the requirement ids of one resource.
	type reqs struct{ post, merge, notJSON, notObject, invalid, since string }
	for _, res := range []struct {
		name string
		doc  func(id string) xapi.DocumentParams
		ids  reqs
	}{
		{"activity profile", activityProfile, reqs{"XAPI-00310", "XAPI-00308", "XAPI-00309", "XAPI-00313", "XAPI-00314", "XAPI-00294"}},
		{"agent profile", agentProfile, reqs{"XAPI-00280", "XAPI-00279", "XAPI-00278", "XAPI-00281", "XAPI-00281", "XAPI-00275"}},
	} {
		t.Run(res.name, func(t *testing.T) {
			db, clk := openMem(t)
			post := func(id string, d xapi.Document) error {
				_, err := db.PostDocument(ctx, res.doc(id), d, xapi.Precondition{})
				return err
			}
			t.Run(res.ids.post+"_post_to_missing_document_stores_it", func(t *testing.T) {
				if err := post("new", jsonDoc(`{"a":1}`)); err != nil {
					t.Fatalf("PostDocument(new) = %v", err)
				}
				if got := mustGet(t, db, res.doc("new")); string(got.Body) != `{"a":1}` || got.ContentType != "application/json" {
					t.Errorf("GetDocument(new) = %s %s, want the posted document", got.ContentType, got.Body)
				}
			})
			t.Run(res.ids.merge+"_post_merges_JSON_objects", func(t *testing.T) {
				mustPut(t, db, res.doc("m"), jsonDoc(`{"car":"MKX","color":"red"}`))
				if err := post("m", jsonDoc(`{"car":"MKZ","type":"sedan"}`)); err != nil {
					t.Fatalf("PostDocument(merge) = %v", err)
				}
				if got, want := string(mustGet(t, db, res.doc("m")).Body), `{"car":"MKZ","color":"red","type":"sedan"}`; got != want {
					t.Errorf("merged document = %s, want %s", got, want)
				}
			})
			refused := []struct {
				name           string
				stored, posted xapi.Document
			}{
				{res.ids.notJSON + "_posted_not_application_json", jsonDoc(`{"a":1}`), text},
				{res.ids.notJSON + "_stored_not_application_json", text, jsonDoc(`{"a":1}`)},
				{res.ids.notObject + "_posted_JSON_array", jsonDoc(`{"a":1}`), jsonDoc(`[1,2]`)},
				{res.ids.notObject + "_stored_JSON_string", jsonDoc(`"a string"`), jsonDoc(`{"a":1}`)},
				{res.ids.invalid + "_posted_invalid_JSON", jsonDoc(`{"a":1}`), jsonDoc(`{"a":`)},
			}
			for i, tt := range refused {
				t.Run(tt.name, func(t *testing.T) {
					id := fmt.Sprint("refused-", i)
					mustPut(t, db, res.doc(id), tt.stored)
					if err := post(id, tt.posted); kindOf(err) != xapi.Invalid {
						t.Fatalf("PostDocument(%s onto %s) = %v, want Invalid", tt.posted.Body, tt.stored.Body, err)
					}
					if got := mustGet(t, db, res.doc(id)); string(got.Body) != string(tt.stored.Body) {
						t.Errorf("after a refused POST the document is %s, want %s unchanged", got.Body, tt.stored.Body)
					}
				})
			}
			t.Run(res.ids.since+"_list_since_is_exclusive", func(t *testing.T) {
				clk.Advance(time.Second)
				t0 := clk.Now()
				mustPut(t, db, res.doc("at-t0"), jsonDoc(`{}`))
				clk.Advance(time.Second)
				mustPut(t, db, res.doc("later"), jsonDoc(`{}`))
				set := res.doc("")
				set.Since = t0
				docs, err := db.ListDocuments(ctx, set)
				if err != nil {
					t.Fatalf("ListDocuments(since) = %v", err)
				}
				var got []string
				for _, d := range docs {
					got = append(got, d.ID)
				}
				if !slices.Equal(got, []string{"later"}) {
					t.Errorf("ListDocuments(since %v) = %v, want [later]", t0, got)
				}
				set.Since = time.Time{}
				if all, err := db.ListDocuments(ctx, set); err != nil || len(all) < 3 {
					t.Errorf("ListDocuments() = %d documents, %v; want every one", len(all), err)
				}
			})
		})
	}
}
