package main

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"custodia/server"
)

// The object-level authorisation matrix: what learner A can do to learner
// B's records through each route of the server, what a client without the
// state scope can do to documents, and what an auditor can read of
// statement content. Every cell must answer 403, 404, or an empty result
// that holds nothing of B's, and must change nothing of B's.
//
// The cells are enumerated from the route table: a route without a cell
// fails the suite, and so does a cell without a route. HEAD routes are
// probed with the GET cell's requests.

// B's records carry these markers; no answer to an attacker may hold one.
const (
	bobMbox       = "mailto:bob@example.com"
	bobResponse   = "BOB-SECRET-RESPONSE"
	bobState      = "BOB-SECRET-STATE"
	bobProfile    = "BOB-SECRET-PROFILE"
	bobRegistered = "9a1c3b52-1f0e-4c1e-9d4a-0b5e6e7f8a9b"
	activityID    = "http://example.com/act/bob-course"
)

// with returns a copy of hdr with k set to v.
func with(hdr map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for k2, v2 := range hdr {
		out[k2] = v2
	}
	return out
}

func bobSHA1() string {
	sum := sha1.Sum([]byte(bobMbox))
	return hex.EncodeToString(sum[:])
}

// matrixFixture holds B's records and the attackers' credentials.
type matrixFixture struct {
	l                     *lrs
	alice, bob            map[string]string // Authorization headers
	lmsNoState, auditor   map[string]string
	bobKey                string
	bobIDs                []string // B's statements
	bobAttachmentID       string   // B's statement with an attachment
	bobPrincipal          string   // B's credential's pseudonym, as the audit log names it
	adminPrincipal        string   // the admin's
	bobVoided             string   // a voided statement of B's
	bobReceipt            string   // B's consent receipt
	holdID                string   // a legal hold on B
	more                  string   // a more link of the admin's query of B's statements
	bobAgent, stateTarget string
	profileTarget         string
	actProfileTarget      string
}

func bobStatement(i int) string {
	return fmt.Sprintf(`{"actor":{"mbox":%q,"name":"Bob Marker"},"verb":{"id":"http://example.com/verbs/marker"},
		"object":{"id":%q,"definition":{"name":{"en-US":"A course"}}},"result":{"response":"%s %d"},
		"context":{"registration":%q,"contextActivities":{"parent":[{"id":"http://example.com/act/parent"}]}}}`, bobMbox, activityID, bobResponse, i, bobRegistered)
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	t.Helper()
	ts := &matrixServer{l: startLRS(t, "")}
	f := &matrixFixture{l: ts.l}
	auth := func(body string) (string, map[string]string) {
		key, secret := ts.l.credential(t, body)
		return key, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))}
	}
	_, f.alice = auth(`{"name":"alice","roles":["learner"],"agent":{"mbox":"mailto:alice@example.com"},"scopes":["all"]}`)
	f.bobKey, f.bob = auth(`{"name":"bob","roles":["learner"],"agent":{"mbox":"` + bobMbox + `"}}`)
	_, f.lmsNoState = auth(`{"name":"lms","roles":["client"],"scopes":["statements/write","statements/read","profile","define"]}`)
	_, f.auditor = auth(`{"name":"audit","roles":["auditor"],"scopes":["all"]}`)

	for i := range 3 {
		w := ts.do(t, "POST", "/xapi/statements", bobStatement(i), f.bob)
		var ids []string
		if err := json.Unmarshal(w.body, &ids); err != nil || w.code != 200 {
			t.Fatalf("bob POST = %d %s", w.code, w.body)
		}
		f.bobIDs = append(f.bobIDs, ids[0])
	}
	att := `{"actor":{"mbox":"` + bobMbox + `"},"verb":{"id":"http://example.com/verbs/marker"},"object":{"id":"` + activityID + `"},
		"attachments":[{"usageType":"http://id.tincanapi.com/attachment/certificate-of-completion","display":{"en-US":"certificate"},"contentType":"text/plain","length":` + fmt.Sprint(len(bobResponse)) + `,"sha2":"` + sha(bobResponse) + `"}]}`
	body, ct := multipartBody(att, [2]string{sha(bobResponse), bobResponse})
	w := ts.do(t, "POST", "/xapi/statements", body, map[string]string{"Content-Type": ct})
	var ids []string
	if err := json.Unmarshal(w.body, &ids); err != nil || w.code != 200 {
		t.Fatalf("admin POST with attachment = %d %s", w.code, w.body)
	}
	f.bobAttachmentID = ids[0]
	// A statement of B's, voided by the admin.
	w = ts.do(t, "POST", "/xapi/statements", bobStatement(9), f.bob)
	_ = json.Unmarshal(w.body, &ids)
	f.bobVoided = ids[0]
	wantStatus(t, ts.do(t, "POST", "/xapi/statements", `{"actor":{"mbox":"mailto:admin@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"`+f.bobVoided+`"}}`, nil), 200, "admin voids")

	f.bobAgent = `{"mbox":"` + bobMbox + `"}`
	f.stateTarget = "/xapi/activities/state?" + url.Values{"activityId": {activityID}, "agent": {f.bobAgent}, "stateId": {"bookmark"}}.Encode()
	f.profileTarget = "/xapi/agents/profile?" + url.Values{"agent": {f.bobAgent}, "profileId": {"prefs"}}.Encode()
	f.actProfileTarget = "/xapi/activities/profile?" + url.Values{"activityId": {activityID}, "profileId": {"p"}}.Encode()
	wantStatus(t, ts.do(t, "PUT", f.stateTarget, `{"note":"`+bobState+`"}`, f.bob), 204, "bob PUT state")
	if w := ts.do(t, "PUT", f.profileTarget, `{"note":"`+bobProfile+`"}`, with(f.bob, "If-None-Match", "*")); w.code != 204 {
		t.Fatalf("bob PUT agent profile = %d %s", w.code, w.body)
	}
	wantStatus(t, ts.do(t, "PUT", f.actProfileTarget, `{"note":"activity profile"}`, map[string]string{"If-None-Match": "*"}), 204, "admin PUT activity profile")

	w = ts.do(t, "PUT", "/api/v1/me/consents/skills-development", `{"granted":true}`, f.bob)
	var rec struct {
		ID string `json:"consentReceiptID"`
	}
	if err := json.Unmarshal(w.body, &rec); err != nil || w.code != 200 || rec.ID == "" {
		t.Fatalf("bob PUT consent = %d %s", w.code, w.body)
	}
	f.bobReceipt = rec.ID
	w = ts.do(t, "POST", "/api/v1/holds", `{"agent":`+f.bobAgent+`,"reason":"litigation"}`, nil)
	var hold struct{ ID string }
	if err := json.Unmarshal(w.body, &hold); err != nil || w.code != 201 {
		t.Fatalf("admin POST hold = %d %s", w.code, w.body)
	}
	f.holdID = hold.ID
	w = ts.do(t, "GET", "/xapi/statements?limit=1&agent="+url.QueryEscape(f.bobAgent), "", nil)
	var page struct{ More string }
	if err := json.Unmarshal(w.body, &page); err != nil || page.More == "" {
		t.Fatalf("admin query of B = %d %s, want a more link", w.code, w.body)
	}
	f.more = page.More
	// The authority of a statement names its writer by the pseudonym the
	// audit log uses.
	for id, dst := range map[string]*string{f.bobIDs[0]: &f.bobPrincipal, f.bobAttachmentID: &f.adminPrincipal} {
		w := ts.do(t, "GET", "/xapi/statements?statementId="+id, "", nil)
		var s struct {
			Authority struct{ Account struct{ Name string } }
		}
		if err := json.Unmarshal(w.body, &s); err != nil || s.Authority.Account.Name == "" {
			t.Fatalf("GET %s = %d %s, want a statement with an authority", id, w.code, w.body)
		}
		*dst = s.Authority.Account.Name
	}
	return f
}

// matrixServer sends the matrix's requests to a running Custodia.
type matrixServer struct{ l *lrs }

// answer is a response, read whole.
type answer struct {
	code int
	body []byte
	hdr  http.Header
}

func (a answer) Result() *http.Response { return &http.Response{StatusCode: a.code} }

// do sends a request as the admin unless hdr has an Authorization, with
// X-Experience-API-Version 1.0.3 and Content-Type application/json unless
// hdr says otherwise.
func (m *matrixServer) do(t *testing.T, method, target, body string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, m.l.base+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(m.l.key, m.l.secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
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
	return answer{resp.StatusCode, b, resp.Header}
}

func wantStatus(t *testing.T, a answer, want int, what string) {
	t.Helper()
	if a.code != want {
		t.Fatalf("%s = %d %.300s, want %d", what, a.code, a.body, want)
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// multipartBody builds a multipart/mixed statements request.
func multipartBody(statements string, parts ...[2]string) (body, contentType string) {
	const boundary = "-------314159265358979323846"
	var b strings.Builder
	b.WriteString("--" + boundary + "\r\nContent-Type: application/json\r\n\r\n" + statements + "\r\n")
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + p[0] + "\r\n\r\n" + p[1] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String(), "multipart/mixed; boundary=" + boundary
}

// probe is one request of a cell. A 2xx answer is accepted only when ok is
// set and says the body is an empty result (or, for the attacker's own
// records, holds nothing of B's).
type probe struct {
	method, target, body string
	hdr                  map[string]string
	ok                   func(body []byte) error
	// conflict accepts 409: a write under an id that B's statement has
	// is refused by the store; nothing is stored or disclosed but that the
	// id, which the writer named, is taken.
	conflict bool
}

// cell lists the probes of one route for each attacker; a nil list means
// the attacker is not in this route's row of the matrix.
type cell struct {
	learner, client, auditor func(f *matrixFixture) []probe
	public                   bool // answered to anyone (no records behind it)
}

func emptyStatements(b []byte) error {
	var r struct{ Statements []json.RawMessage }
	if err := json.Unmarshal(b, &r); err != nil {
		// multipart (attachments=true): the JSON part is the first one.
		if i := bytes.Index(b, []byte(`{"statements"`)); i >= 0 {
			dec := json.NewDecoder(bytes.NewReader(b[i:]))
			if err := dec.Decode(&r); err != nil {
				return fmt.Errorf("no StatementResult: %v", err)
			}
		} else {
			return fmt.Errorf("no StatementResult: %v", err)
		}
	}
	if len(r.Statements) != 0 {
		return fmt.Errorf("%d statements", len(r.Statements))
	}
	return nil
}

func noneOfBobs(b []byte) error { return nil } // the marker scan runs on every answer

func queryProbes(f *matrixFixture, path string) []probe {
	agent := url.QueryEscape(f.bobAgent)
	sha := url.QueryEscape(`{"mbox_sha1sum":"` + bobSHA1() + `"}`)
	qs := []string{
		"agent=" + agent,
		"agent=" + sha,
		"agent=" + agent + "&related_agents=true",
		"verb=" + url.QueryEscape("http://example.com/verbs/marker"),
		"activity=" + url.QueryEscape(activityID),
		"activity=" + url.QueryEscape("http://example.com/act/parent") + "&related_activities=true",
		"registration=" + bobRegistered,
		"since=2000-01-01T00:00:00Z",
		"until=2100-01-01T00:00:00Z",
		"limit=1",
		"limit=0&ascending=true",
		"format=exact", "format=ids", "format=canonical",
		"attachments=true",
		"agent=" + agent + "&attachments=true&format=canonical",
	}
	var out []probe
	for _, q := range qs {
		out = append(out, probe{method: "GET", target: path + "?" + q, ok: emptyStatements})
	}
	out = append(out, probe{method: "GET", target: path, ok: emptyStatements})
	return out
}

func statementReadProbes(f *matrixFixture) []probe {
	out := queryProbes(f, "/xapi/statements")
	for _, id := range append(append([]string{}, f.bobIDs...), f.bobAttachmentID) {
		out = append(out,
			probe{method: "GET", target: "/xapi/statements?statementId=" + id},
			probe{method: "GET", target: "/xapi/statements?statementId=" + id + "&attachments=true"},
			probe{method: "GET", target: "/xapi/statements?voidedStatementId=" + id})
	}
	out = append(out,
		probe{method: "GET", target: "/xapi/statements?voidedStatementId=" + f.bobVoided},
		probe{method: "GET", target: "/xapi/statements?statementId=" + f.bobVoided},
		// A more link of someone else's query gives nothing of theirs.
		probe{method: "GET", target: f.more, ok: emptyStatements})
	return out
}

// documentProbes are every request on the document resource at target
// (one document of B's) and its list.
func documentProbes(target string, list string) func(f *matrixFixture) []probe {
	return func(f *matrixFixture) []probe {
		return []probe{{method: "GET", target: target}, {method: "GET", target: list}, {method: "GET", target: list + "&since=2000-01-01T00:00:00Z"}}
	}
}

func documentWriteProbes(method, target, list string) func(f *matrixFixture) []probe {
	return func(f *matrixFixture) []probe {
		// With If-Match: * so that the 1.0.3 profile rules (a PUT needs a
		// precondition) pass and the policy is what answers.
		ps := []probe{{method: method, target: target, body: `{"note":"overwritten"}`, hdr: map[string]string{"If-Match": "*"}}}
		if method != "PUT" {
			ps = append(ps, probe{method: method, target: target, body: `{"note":"overwritten"}`})
		}
		if method == "DELETE" && list != "" {
			ps = append(ps, probe{method: "DELETE", target: list})
		}
		return ps
	}
}

func stateList(f *matrixFixture) string {
	return "/xapi/activities/state?" + url.Values{"activityId": {activityID}, "agent": {f.bobAgent}}.Encode()
}

func profileList(f *matrixFixture) string {
	return "/xapi/agents/profile?" + url.Values{"agent": {f.bobAgent}}.Encode()
}

func denied(ps ...probe) func(*matrixFixture) []probe {
	return func(*matrixFixture) []probe { return ps }
}

// matrix has one cell per route ("METHOD /template"); HEAD routes use the
// GET cell.
var matrix = map[string]cell{
	"GET /healthz":             {public: true},
	"GET /xapi/about":          {public: true},
	"GET /api/v1/openapi.json": {public: true},

	"GET /xapi/statements": {
		learner: statementReadProbes,
		auditor: statementReadProbes,
	},
	"POST /xapi/statements": {
		learner: func(f *matrixFixture) []probe {
			return []probe{
				{method: "POST", target: "/xapi/statements", body: bobStatement(7)},
				{method: "POST", target: "/xapi/statements", body: `[` + strings.Replace(bobStatement(7), "bob@", "alice@", 1) + `,` + bobStatement(8) + `]`},
				// voiding B's statement, as its subject would
				{method: "POST", target: "/xapi/statements", body: `{"actor":{"mbox":"mailto:alice@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"` + f.bobIDs[0] + `"}}`},
				{method: "POST", target: "/xapi/statements", body: `{"actor":{"mbox":"` + bobMbox + `"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"` + f.bobIDs[0] + `"}}`},
			}
		},
	},
	"PUT /xapi/statements": {
		learner: func(f *matrixFixture) []probe {
			return []probe{
				{method: "PUT", target: "/xapi/statements?statementId=" + f.bobIDs[1], body: strings.Replace(bobStatement(1), "bob@", "alice@", 1), conflict: true},
				{method: "PUT", target: "/xapi/statements?statementId=1d1a0c1e-6d4a-4c4e-9a53-0f8b1b9a0c11", body: bobStatement(5)},
			}
		},
	},
	"GET /xapi/activities": {
		// Canonical definitions describe activities, not people (policy):
		// a learner reads them, but they hold nothing of B's.
		learner: func(f *matrixFixture) []probe {
			return []probe{{method: "GET", target: "/xapi/activities?activityId=" + url.QueryEscape(activityID), ok: noneOfBobs}}
		},
		auditor: func(f *matrixFixture) []probe {
			return []probe{{method: "GET", target: "/xapi/activities?activityId=" + url.QueryEscape(activityID)}}
		},
	},
	"GET /xapi/agents": {
		learner: func(f *matrixFixture) []probe {
			return []probe{{method: "GET", target: "/xapi/agents?agent=" + url.QueryEscape(f.bobAgent)}}
		},
		auditor: func(f *matrixFixture) []probe {
			return []probe{{method: "GET", target: "/xapi/agents?agent=" + url.QueryEscape(f.bobAgent)}}
		},
	},
	"GET /xapi/activities/state": {
		learner: func(f *matrixFixture) []probe { return documentProbes(f.stateTarget, stateList(f))(f) },
		client:  func(f *matrixFixture) []probe { return documentProbes(f.stateTarget, stateList(f))(f) },
		auditor: func(f *matrixFixture) []probe { return documentProbes(f.stateTarget, stateList(f))(f) },
	},
	"PUT /xapi/activities/state":    docWrite("PUT", true),
	"POST /xapi/activities/state":   docWrite("POST", true),
	"DELETE /xapi/activities/state": docWrite("DELETE", true),
	"GET /xapi/agents/profile": {
		learner: func(f *matrixFixture) []probe { return documentProbes(f.profileTarget, profileList(f))(f) },
		auditor: func(f *matrixFixture) []probe { return documentProbes(f.profileTarget, profileList(f))(f) },
	},
	"PUT /xapi/agents/profile":    docWrite("PUT", false),
	"POST /xapi/agents/profile":   docWrite("POST", false),
	"DELETE /xapi/agents/profile": docWrite("DELETE", false),
	"GET /xapi/activities/profile": {
		learner: func(f *matrixFixture) []probe {
			return documentProbes(f.actProfileTarget, "/xapi/activities/profile?activityId="+url.QueryEscape(activityID))(f)
		},
	},
	"PUT /xapi/activities/profile":    actProfileWrite("PUT"),
	"POST /xapi/activities/profile":   actProfileWrite("POST"),
	"DELETE /xapi/activities/profile": actProfileWrite("DELETE"),

	"POST /api/v1/credentials": {learner: denied(probe{method: "POST", target: "/api/v1/credentials", body: `{"name":"x","roles":["learner"],"agent":{"mbox":"` + bobMbox + `"}}`})},
	"GET /api/v1/credentials":  {learner: denied(probe{method: "GET", target: "/api/v1/credentials"})},
	"DELETE /api/v1/credentials/{key}": {learner: func(f *matrixFixture) []probe {
		return []probe{{method: "DELETE", target: "/api/v1/credentials/" + f.bobKey}}
	}},
	"POST /api/v1/credentials/{key}/rotate": {learner: func(f *matrixFixture) []probe {
		return []probe{{method: "POST", target: "/api/v1/credentials/" + f.bobKey + "/rotate"}}
	}},
	"GET /api/v1/policies":           {learner: denied(probe{method: "GET", target: "/api/v1/policies"})},
	"GET /api/v1/policies/revisions": {learner: denied(probe{method: "GET", target: "/api/v1/policies/revisions"})},
	"POST /api/v1/policies/rollback": {learner: denied(probe{method: "POST", target: "/api/v1/policies/rollback", body: `{"revision":"0123456789abcdef"}`})},
	"POST /api/v1/policies/simulate": {learner: denied(probe{method: "POST", target: "/api/v1/policies/simulate", body: `{"remove":["purposes.rego"]}`})},
	"GET /api/v1/policies/{name}":    {learner: denied(probe{method: "GET", target: "/api/v1/policies/authz.rego"})},
	"PUT /api/v1/policies/{name}": {learner: denied(probe{method: "PUT", target: "/api/v1/policies/open.rego", body: "package custodia.authz\n\nallow contains \"open\" if true\n",
		hdr: map[string]string{"Content-Type": "text/plain"}})},
	"DELETE /api/v1/policies/{name}": {learner: denied(probe{method: "DELETE", target: "/api/v1/policies/purposes.rego"})},
	"GET /api/v1/policy-data":        {learner: denied(probe{method: "GET", target: "/api/v1/policy-data"})},
	"PUT /api/v1/policy-data":        {learner: denied(probe{method: "PUT", target: "/api/v1/policy-data", body: `{"custodia":{"purposes":{},"settings":{}}}`})},

	"GET /api/v1/me/statements": {
		learner: func(f *matrixFixture) []probe {
			more, _ := url.Parse(f.more)
			return []probe{
				{method: "GET", target: "/api/v1/me/statements", ok: emptyStatements},
				{method: "GET", target: "/api/v1/me/statements?limit=1", ok: emptyStatements},
				// the position token of someone else's query
				{method: "GET", target: "/api/v1/me/statements?cursor=" + url.QueryEscape(more.Query().Get("cursor")), ok: emptyStatements},
			}
		},
		auditor: denied(probe{method: "GET", target: "/api/v1/me/statements"}),
	},
	"GET /api/v1/me/consents": {learner: denied(probe{method: "GET", target: "/api/v1/me/consents", ok: func(b []byte) error {
		if bytes.Contains(b, []byte(`"state":"granted"`)) {
			return fmt.Errorf("a consent shows as granted: %s", b)
		}
		return nil
	}})},
	"GET /api/v1/me/consents/receipts/{id}": {learner: func(f *matrixFixture) []probe {
		return []probe{{method: "GET", target: "/api/v1/me/consents/receipts/" + f.bobReceipt}}
	}},
	"PUT /api/v1/me/consents/{purpose}": {learner: denied(
		// A's own consent only: B's stays granted (checked after the probes).
		probe{method: "PUT", target: "/api/v1/me/consents/skills-development", body: `{"granted":false}`, ok: noneOfBobs})},
	"GET /api/v1/holds":  {learner: denied(probe{method: "GET", target: "/api/v1/holds"})},
	"POST /api/v1/holds": {learner: denied(probe{method: "POST", target: "/api/v1/holds", body: `{"agent":{"mbox":"` + bobMbox + `"}}`})},
	"DELETE /api/v1/holds/{id}": {learner: func(f *matrixFixture) []probe {
		return []probe{{method: "DELETE", target: "/api/v1/holds/" + f.holdID}}
	}},
	"POST /api/v1/retention/sweep": {learner: denied(probe{method: "POST", target: "/api/v1/retention/sweep", body: `{"dry_run":false}`})},
	"POST /api/v1/break-glass": {learner: denied(probe{method: "POST", target: "/api/v1/break-glass",
		body: `{"justification":"I would like to read my colleague's records please","minutes":60}`})},
	"GET /api/v1/break-glass": {learner: denied(probe{method: "GET", target: "/api/v1/break-glass"})},

	// The audit log: entries, checkpoints and proofs are the auditor's; the
	// log's public key is public; a person reads only their own access log.
	"GET /api/v1/audit/entries": {learner: denied(
		probe{method: "GET", target: "/api/v1/audit/entries"},
		probe{method: "GET", target: "/api/v1/audit/entries?format=csv"})},
	"GET /api/v1/audit/checkpoint":         {learner: denied(probe{method: "GET", target: "/api/v1/audit/checkpoint"})},
	"POST /api/v1/audit/checkpoint":        {learner: denied(probe{method: "POST", target: "/api/v1/audit/checkpoint"})},
	"POST /api/v1/audit/checkpoint/cosign": {learner: denied(probe{method: "POST", target: "/api/v1/audit/checkpoint/cosign", body: "not a note", hdr: map[string]string{"Content-Type": "text/plain"}})},
	"GET /api/v1/audit/key":                {learner: denied(probe{method: "GET", target: "/api/v1/audit/key", ok: noneOfBobs})},
	"GET /api/v1/audit/proof/inclusion":    {learner: denied(probe{method: "GET", target: "/api/v1/audit/proof/inclusion?index=0&size=1"})},
	"GET /api/v1/audit/proof/consistency":  {learner: denied(probe{method: "GET", target: "/api/v1/audit/proof/consistency?old=1&new=2"})},
	"GET /api/v1/me/access-log": {
		// A's access log holds nothing of the accesses to B's records.
		// A has no records, so every entry there is one of A's own accesses
		// to A's consents or statements: by one principal, neither B nor the
		// admin (who wrote and read B's records).
		learner: func(f *matrixFixture) []probe {
			return []probe{{method: "GET", target: "/api/v1/me/access-log", ok: func(b []byte) error {
				var r struct{ Entries []struct{ Principal string } }
				if err := json.Unmarshal(b, &r); err != nil {
					return err
				}
				for _, e := range r.Entries {
					if e.Principal == f.bobPrincipal || e.Principal == f.adminPrincipal || e.Principal != r.Entries[0].Principal {
						return fmt.Errorf("an access by another principal (%s) is in the access log of a person with no records", e.Principal)
					}
				}
				return nil
			}}}
		},
		auditor: denied(probe{method: "GET", target: "/api/v1/me/access-log"}),
	},
}

func docWrite(method string, state bool) cell {
	c := cell{learner: func(f *matrixFixture) []probe { return docWriteProbes(f, method, state) }}
	if state {
		c.client = c.learner
	}
	return c
}

func docWriteProbes(f *matrixFixture, method string, state bool) []probe {
	if state {
		return documentWriteProbes(method, f.stateTarget, stateList(f))(f)
	}
	return documentWriteProbes(method, f.profileTarget, "")(f)
}

func actProfileWrite(method string) cell {
	return cell{learner: func(f *matrixFixture) []probe {
		return documentWriteProbes(method, f.actProfileTarget, "")(f)
	}}
}

// TestAuthorizationMatrix runs every cell and checks that the matrix and
// the route table agree.
func TestAuthorizationMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	ts := &matrixServer{l: f.l}
	routes := map[string]bool{}
	for _, r := range server.NewServer(server.Config{}).RouteTemplates() {
		routes[r] = true
	}
	var names []string
	for r := range routes {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		key := r
		if m, path, _ := strings.Cut(r, " "); m == "HEAD" {
			key = "GET " + path
			if !routes[key] {
				t.Errorf("route %s has no GET", r)
			}
		}
		if _, ok := matrix[key]; !ok {
			t.Errorf("route %s has no cell in the authorisation matrix: add one", r)
		}
	}
	for key := range matrix {
		if !routes[key] {
			t.Errorf("matrix cell %s has no route", key)
		}
	}
	attackers := []struct {
		name  string
		auth  map[string]string
		probe func(cell) func(*matrixFixture) []probe
	}{
		{"learner A", f.alice, func(c cell) func(*matrixFixture) []probe { return c.learner }},
		{"client without state", f.lmsNoState, func(c cell) func(*matrixFixture) []probe { return c.client }},
		{"auditor", f.auditor, func(c cell) func(*matrixFixture) []probe { return c.auditor }},
	}
	cells, requests := 0, 0
	tally := map[string]int{} // attacker and status → answers, for the log
	for _, r := range names {
		m, path, _ := strings.Cut(r, " ")
		c := matrix[r]
		if m == "HEAD" {
			c = matrix["GET "+path]
		}
		if c.public {
			w := ts.do(t, m, path, "", f.alice)
			checkAnswer(t, r+" (public)", w.code, w.body, func([]byte) error { return nil })
			cells++
			continue
		}
		if c.learner == nil {
			t.Errorf("cell %s has no learner probes", r)
		}
		for _, a := range attackers {
			gen := a.probe(c)
			if gen == nil {
				continue
			}
			cells++
			t.Run(r+"/"+a.name, func(t *testing.T) {
				ps := gen(f)
				if len(ps) == 0 {
					t.Fatal("no probes")
				}
				for _, p := range ps {
					hdr := map[string]string{}
					for k, v := range a.auth {
						hdr[k] = v
					}
					for k, v := range p.hdr {
						hdr[k] = v
					}
					method := p.method
					if m == "HEAD" {
						method = "HEAD"
						get := ts.do(t, "GET", p.target, p.body, hdr)
						w := ts.do(t, "HEAD", p.target, p.body, hdr)
						if w.code != get.code || len(w.body) != 0 || w.hdr.Get("Content-Length") != get.hdr.Get("Content-Length") {
							t.Errorf("HEAD %s = %d (%d bytes, length %s), want GET's %d, no body, length %s", p.target, w.code, len(w.body), w.hdr.Get("Content-Length"), get.code, get.hdr.Get("Content-Length"))
						}
						checkAnswer(t, method+" "+p.target, get.code, get.body, p.ok)
						tally[fmt.Sprintf("%s %d", a.name, get.code)]++
						requests += 2
						continue
					}
					w := ts.do(t, method, p.target, p.body, hdr)
					if p.conflict && w.code == 409 {
						w.code = 403
					}
					checkAnswer(t, method+" "+p.target, w.code, w.body, p.ok)
					tally[fmt.Sprintf("%s %d", a.name, w.code)]++
					requests++
				}
			})
		}
	}
	f.checkBobIntact(t)
	t.Logf("%d routes, %d cells, %d requests; answers by attacker and status: %v", len(names), cells, requests, tally)
}

// checkAnswer accepts 403 and 404, or a 2xx that ok accepts; no answer may
// hold any of B's markers.
func checkAnswer(t *testing.T, what string, code int, body []byte, ok func([]byte) error) {
	t.Helper()
	for _, m := range []string{bobMbox, "bob@example.com", bobSHA1(), bobResponse, bobState, bobProfile, bobRegistered, "Bob Marker"} {
		if bytes.Contains(body, []byte(m)) {
			t.Errorf("%s = %d holds B's %q: %.300s", what, code, m, body)
		}
	}
	switch {
	case code == 403 || code == 404:
	case code >= 200 && code < 300 && ok != nil:
		if err := ok(body); err != nil {
			t.Errorf("%s = %d, not an empty result: %v", what, code, err)
		}
	default:
		t.Errorf("%s = %d %.300s, want 403, 404 or an empty result", what, code, body)
	}
}

// checkBobIntact checks that nothing of B's changed.
func (f *matrixFixture) checkBobIntact(t *testing.T) {
	t.Helper()
	ts := &matrixServer{l: f.l}
	for _, id := range f.bobIDs {
		if w := ts.do(t, "GET", "/xapi/statements?statementId="+id, "", nil); w.code != 200 {
			t.Errorf("B's statement %s = %d after the attacks (voided?)", id, w.code)
		}
	}
	w := ts.do(t, "GET", "/xapi/statements?limit=0", "", nil)
	if err := emptyStatements(w.body); err == nil || err.Error() != "5 statements" {
		t.Errorf("the admin's query after the attacks: %v, want 5 statements (B's 5 and the admin's voiding one, less the voided one) and nothing else", err)
	}
	for target, want := range map[string]string{f.stateTarget: bobState, f.profileTarget: bobProfile, f.actProfileTarget: "activity profile"} {
		if w := ts.do(t, "GET", target, "", nil); w.code != 200 || !strings.Contains(string(w.body), want) {
			t.Errorf("GET %s after the attacks = %d %s, want B's document", target, w.code, w.body)
		}
	}
	if w := ts.do(t, "GET", "/api/v1/me/consents", "", f.bob); !strings.Contains(string(w.body), `"state":"granted"`) {
		t.Errorf("B's consents after the attacks = %s, want skills-development granted", w.body)
	}
	if w := ts.do(t, "GET", "/api/v1/me/statements", "", f.bob); w.code != 200 {
		t.Errorf("B's credential after the attacks = %d, want it working", w.code)
	}
	if w := ts.do(t, "GET", "/api/v1/holds", "", nil); !strings.Contains(string(w.body), f.holdID) {
		t.Errorf("holds after the attacks = %s, want the hold on B", w.body)
	}
	if w := ts.do(t, "GET", "/api/v1/policies/purposes.rego", "", nil); w.code != 200 {
		t.Errorf("purposes.rego after the attacks = %d", w.code)
	}
}
