package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// docCall sends a document request as the admin with the given headers and
// returns the status, body and headers.
func (l *lrs) docCall(t testing.TB, method, path, version string, body []byte, hdr map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(l.key, l.secret)
	req.Header.Set("X-Experience-API-Version", version)
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

// TestDocumentsNotPlainOnDisk writes State, Agent Profile and Activity
// Profile documents whose ids, agent, activity and content carry unique
// markers, reads them back byte for byte, stops the server and scans every
// file of the data folder for the markers.
func TestDocumentsNotPlainOnDisk(t *testing.T) {
	l := startLRS(t, "")
	const (
		marker   = "DOC-MARKER-4b8e1f0a-bookmark"
		stateID  = "STATE-ID-9d3c7e21"
		profile  = "PROFILE-ID-2a6f58c4"
		mbox     = "mailto:unique.doc.person.51ae@example.org"
		activity = "http://courses.example.com/doc-course-e07b"
	)
	agent := `{"objectType":"Agent","mbox":"` + mbox + `"}`
	body := []byte(`{"bookmark":"` + marker + `"}`)
	docs := []string{
		"/xapi/activities/state?" + url.Values{"activityId": {activity}, "agent": {agent}, "stateId": {stateID}}.Encode(),
		"/xapi/agents/profile?" + url.Values{"agent": {agent}, "profileId": {profile}}.Encode(),
		"/xapi/activities/profile?" + url.Values{"activityId": {activity}, "profileId": {profile}}.Encode(),
	}
	for _, path := range docs {
		hdr := map[string]string{"Content-Type": "application/json", "If-None-Match": "*"}
		if code, b, _ := l.docCall(t, "PUT", path, "2.0.0", body, hdr); code != 204 {
			t.Fatalf("PUT %s = %d %s", path, code, b)
		}
		code, b, h := l.docCall(t, "GET", path, "2.0.0", nil, nil)
		if code != 200 || !bytes.Equal(b, body) || h.Get("ETag") == "" || h.Get("Last-Modified") == "" {
			t.Fatalf("GET %s = %d %s (ETag %q, Last-Modified %q), want the document back", path, code, b, h.Get("ETag"), h.Get("Last-Modified"))
		}
	}
	l.stop()
	needles := []string{marker, stateID, profile, "unique.doc.person.51ae", "doc-course-e07b"}
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
			if bytes.Contains(b, []byte(n)) {
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

// TestDocumentsConcurrentWriters runs concurrent writers through the whole
// server: POSTs of distinct keys to one JSON document all land, and of
// PUTs racing with the same If-Match exactly one wins (XAPI-00322).
func TestDocumentsConcurrentWriters(t *testing.T) {
	l := startLRS(t, "")
	path := "/xapi/activities/profile?" + url.Values{"activityId": {"http://example.com/race"}, "profileId": {"shared"}}.Encode()
	json := map[string]string{"Content-Type": "application/json"}
	if code, b, _ := l.docCall(t, "POST", path, "1.0.3", []byte(`{}`), json); code != 204 {
		t.Fatalf("POST = %d %s", code, b)
	}
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, b, _ := l.docCall(t, "POST", path, "1.0.3", []byte(fmt.Sprintf(`{"k%02d":%d}`, i, i)), json); code != 204 {
				t.Errorf("concurrent POST = %d %s", code, b)
			}
		}()
	}
	wg.Wait()
	code, b, h := l.docCall(t, "GET", path, "1.0.3", nil, nil)
	for i := range n {
		if !bytes.Contains(b, []byte(fmt.Sprintf(`"k%02d":%d`, i, i))) {
			t.Errorf("GET = %d %s: key k%02d lost", code, b, i)
		}
	}
	tag := h.Get("ETag")
	var mu sync.Mutex
	status := map[int]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hdr := map[string]string{"Content-Type": "application/json", "If-Match": tag}
			code, _, _ := l.docCall(t, "PUT", path, "1.0.3", []byte(fmt.Sprintf(`{"winner":%d}`, i)), hdr)
			mu.Lock()
			status[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if status[204] != 1 || status[412] != n-1 {
		t.Errorf("racing If-Match PUTs answered %v, want one 204 and %d 412", status, n-1)
	}
}
