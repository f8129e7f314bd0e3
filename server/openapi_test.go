package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"custodia/server"
)

// TestOpenAPI checks server/openapi.json against the routes: every route
// under /api/v1 (path template and method; HEAD goes with GET) is
// described, and everything described is a route. It checks too that the
// file is served without credentials, that every $ref resolves, and that
// every path parameter is declared.
func TestOpenAPI(t *testing.T) {
	ts := newTestServer(t, 0)
	w := ts.do(t, "GET", "/api/v1/openapi.json", "", map[string]string{"Authorization": "none"})
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json without credentials = %d %s, want 200 JSON", w.Code, w.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	raw := w.Body.Bytes()
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("openapi %q, servers %+v; want 3.1.0 and /api/v1", doc.OpenAPI, doc.Servers)
	}

	routes := map[string]bool{}
	for _, r := range ts.h.(*server.Server).RouteTemplates() {
		method, path, _ := strings.Cut(r, " ")
		rest, ok := strings.CutPrefix(path, "/api/v1/")
		if !ok {
			continue
		}
		routes[strings.ToLower(method)+" /"+rest] = true
	}
	for r := range routes {
		if strings.HasPrefix(r, "head ") {
			if !routes["get "+strings.TrimPrefix(r, "head ")] {
				t.Errorf("route %s has no GET", r)
			}
			delete(routes, r)
		}
	}
	described := map[string]bool{}
	ids := map[string]bool{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for path, ops := range doc.Paths {
		for method, body := range ops {
			key := method + " " + path
			described[key] = true
			var o struct {
				OperationID string                     `json:"operationId"`
				Summary     string                     `json:"summary"`
				Responses   map[string]json.RawMessage `json:"responses"`
				Parameters  []struct {
					Name, In string
				} `json:"parameters"`
			}
			if err := json.Unmarshal(body, &o); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			if o.OperationID == "" || ids[o.OperationID] || o.Summary == "" || len(o.Responses) == 0 {
				t.Errorf("%s: operationId %q (unique?), summary %q, %d responses; want all set", key, o.OperationID, o.Summary, len(o.Responses))
			}
			ids[o.OperationID] = true
			for _, m := range param.FindAllStringSubmatch(path, -1) {
				if !slices.ContainsFunc(o.Parameters, func(p struct{ Name, In string }) bool { return p.Name == m[1] && p.In == "path" }) {
					t.Errorf("%s: path parameter %s is not declared", key, m[1])
				}
			}
		}
	}
	var missing, extra []string
	for r := range routes {
		if !described[r] {
			missing = append(missing, r)
		}
	}
	for d := range described {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes not in server/openapi.json: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("server/openapi.json describes operations that are not routes: %v", extra)
	}
	if len(routes) < 12 {
		t.Errorf("found %d /api/v1 operations, want at least 12: %v", len(routes), routes)
	}

	// Every $ref points into the document.
	var all any
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					if !resolves(all, s) {
						t.Errorf("%s: $ref %s does not resolve", at, s)
					}
				}
				walk(x, at+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(all, "#")
}

// resolves reports whether the local reference ref ("#/a/b") names a
// member of doc.
func resolves(doc any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
