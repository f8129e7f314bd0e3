package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestActivitiesAndAgents runs the Activities and Agents resources and
// format=canonical through the whole server: statements written under both
// versions build one canonical definition that every later read sees.
func TestActivitiesAndAgents(t *testing.T) {
	l := startLRS(t, "")
	const act = "http://example.com/courses/privacy-101"
	stmt := func(def string) []byte {
		return []byte(`{"actor":{"name":"Alice","mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"completed","de":"abgeschlossen"}},` +
			`"object":{"id":"` + act + `","definition":` + def + `}}`)
	}
	if code, b := l.admin(t, "POST", "/xapi/statements", "1.0.3", stmt(`{"name":{"en-US":"Privacy 101"},"description":{"en-US":"An introduction"}}`)); code != 200 {
		t.Fatalf("POST (1.0.3) = %d %s", code, b)
	}
	if code, b := l.admin(t, "POST", "/xapi/statements", "2.0.0", stmt(`{"name":{"de":"Datenschutz 101"}}`)); code != 200 {
		t.Fatalf("POST (2.0.0) = %d %s", code, b)
	}
	get := "/xapi/activities?activityId=" + url.QueryEscape(act)
	for _, v := range []string{"1.0.3", "2.0.0"} {
		code, b := l.admin(t, "GET", get, v, nil)
		want := `{"definition":{"description":{"en-US":"An introduction"},"name":{"de":"Datenschutz 101","en-US":"Privacy 101"}},"id":"` + act + `","objectType":"Activity"}`
		if code != 200 || string(b) != want {
			t.Errorf("XAPI-00254 (%s): GET %s = %d %s, want %s", v, get, code, b, want)
		}
	}

	// HEAD answers the GET's status and headers, without a body (XAPI-00125/00126).
	for _, path := range []string{get, "/xapi/agents?agent=" + url.QueryEscape(`{"mbox":"mailto:alice@example.com"}`)} {
		req, _ := http.NewRequest("HEAD", l.base+path, nil)
		req.SetBasicAuth(l.key, l.secret)
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD %s = %d, %d body bytes, %q; want 200, none, application/json", path, resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
	}

	// format=canonical: the canonical definition, one language per map.
	req, _ := http.NewRequest("GET", l.base+"/xapi/statements?format=canonical", nil)
	req.SetBasicAuth(l.key, l.secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Accept-Language", "de-CH, en;q=0.8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantObject := `"object":{"definition":{"description":{"en-US":"An introduction"},"name":{"de":"Datenschutz 101"}},"id":"` + act + `"}`
	if resp.StatusCode != 200 || strings.Count(string(body), wantObject) != 2 || strings.Count(string(body), `"display":{"de":"abgeschlossen"}`) != 2 {
		t.Errorf("XAPI-00169/00172: GET format=canonical = %d %s\nwant both statements with %s", resp.StatusCode, body, wantObject)
	}

	// Agents: a Person from the request; a learner reads only their own.
	aliceQ := "/xapi/agents?agent=" + url.QueryEscape(`{"name":"Alice","mbox":"mailto:alice@example.com"}`)
	if code, b := l.admin(t, "GET", aliceQ, "2.0.0", nil); code != 200 || string(b) != `{"mbox":["mailto:alice@example.com"],"name":["Alice"],"objectType":"Person"}` {
		t.Errorf("XAPI-00248: GET %s = %d %s", aliceQ, code, b)
	}
	key, secret := l.credential(t, `{"name":"bob","roles":["learner"],"agent":{"mbox":"mailto:bob@example.com"}}`)
	if code, b, _ := l.call(t, "GET", aliceQ, key, secret, "2.0.0", nil); code != 403 {
		t.Errorf("GET another learner's agent = %d %s, want 403", code, b)
	}
	if code, b, _ := l.call(t, "GET", get, key, secret, "2.0.0", nil); code != 200 {
		t.Errorf("learner GET /activities = %d %s, want 200", code, b)
	}
	if code, b := l.admin(t, "GET", "/xapi/agents?agent="+url.QueryEscape(`{"objectType":"Group","mbox":"mailto:team@example.com"}`), "2.0.0", nil); code != 400 {
		t.Errorf("GET /agents with a Group = %d %s, want 400", code, b)
	}
}
