package xapi

// This file is the API contract of package xapi that the other packages build
// on. The implementation behind it is deliberately loose (TEMPORARY SKELETON):
// the strict validator replaces the bodies, never the signatures.

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Version is an xAPI version this LRS speaks, as sent back in
// X-Experience-API-Version.
type Version string

// The versions Custodia speaks.
const (
	V103 Version = "1.0.3"
	V200 Version = "2.0.0"
)

// ParseVersionHeader maps an X-Experience-API-Version header to the version
// whose rules apply: "1.0" and "1.0.x" to V103, "2.0" and "2.0.x" to V200.
func ParseVersionHeader(h string) (Version, error) {
	switch {
	case h == "":
		return "", Errorf(Invalid, "xapi.ParseVersionHeader", "X-Experience-API-Version header is required")
	case h == "1.0" || strings.HasPrefix(h, "1.0."):
		return V103, nil
	case h == "2.0" || strings.HasPrefix(h, "2.0."):
		return V200, nil
	}
	return "", Errorf(Invalid, "xapi.ParseVersionHeader", "X-Experience-API-Version %q is not supported (1.0.x and 2.0.x are)", h)
}

// Account is an Agent's account IFI (xAPI Data §2.4.2.4).
type Account struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// Agent is an Agent or a Group (xAPI Data §2.4.2).
type Agent struct {
	ObjectType  string   // "Agent" or "Group"; "" is an Agent
	Name        string   // optional
	Mbox        string   // "mailto:…"
	MboxSHA1Sum string   // hex SHA-1 of the mailto IRI
	OpenID      string   // URI
	Account     *Account // homePage + name
	Member      []Agent  // a Group's members
}

// IsGroup reports whether a is a Group.
func (a Agent) IsGroup() bool { return a.ObjectType == "Group" }

// IFI reports a's inverse functional identifier as one canonical string
// ("mbox:mailto:…", "mbox_sha1sum:…", "openid:…", "account:<homePage> <name>"),
// or "" for an Anonymous Group. Two Agents are the same iff their IFIs are equal.
func (a Agent) IFI() string {
	switch {
	case a.Mbox != "":
		return "mbox:" + a.Mbox
	case a.MboxSHA1Sum != "":
		return "mbox_sha1sum:" + a.MboxSHA1Sum
	case a.OpenID != "":
		return "openid:" + a.OpenID
	case a.Account != nil:
		return "account:" + a.Account.HomePage + " " + a.Account.Name
	}
	return ""
}

// MarshalJSON encodes a as an xAPI Agent or Group object.
func (a Agent) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if a.ObjectType != "" {
		m["objectType"] = a.ObjectType
	}
	if a.Name != "" {
		m["name"] = a.Name
	}
	if a.Mbox != "" {
		m["mbox"] = a.Mbox
	}
	if a.MboxSHA1Sum != "" {
		m["mbox_sha1sum"] = a.MboxSHA1Sum
	}
	if a.OpenID != "" {
		m["openid"] = a.OpenID
	}
	if a.Account != nil {
		m["account"] = a.Account
	}
	if len(a.Member) > 0 {
		m["member"] = a.Member
	}
	return json.Marshal(m)
}

// ParseAgent parses and validates an Agent or Group given as JSON, as in the
// agent query parameter.
func ParseAgent(data []byte, v Version) (Agent, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return Agent{}, Errorf(Invalid, "xapi.ParseAgent", "agent is not a JSON object")
	}
	a := agentFrom(m)
	if a.IFI() == "" && !a.IsGroup() {
		return Agent{}, Errorf(Invalid, "xapi.ParseAgent", "agent has no inverse functional identifier")
	}
	return a, nil
}

// Statement is one validated xAPI Statement. It keeps the document as
// received (plus what the LRS sets), so that format=exact returns it unchanged.
type Statement struct {
	m map[string]any
}

// ParseStatements parses a POST body: one Statement or an array of them. Every
// Statement is validated against the rules of version v; the first failure is
// returned as an Invalid *Error naming the statement index and the field.
// Duplicate ids within the batch are rejected.
func ParseStatements(body []byte, v Version) ([]*Statement, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, Errorf(Invalid, "xapi.ParseStatements", "body is not a JSON array of statements")
		}
		out := make([]*Statement, 0, len(raws))
		for i, r := range raws {
			s, err := ParseStatement(r, v)
			if err != nil {
				return nil, Errorf(Invalid, "xapi.ParseStatements", "statements[%d]: %s", i, ErrorMessage(err))
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := ParseStatement(body, v)
	if err != nil {
		return nil, err
	}
	return []*Statement{s}, nil
}

// ParseStatement parses and validates one Statement under the rules of v.
func ParseStatement(body []byte, v Version) (*Statement, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, Errorf(Invalid, "xapi.ParseStatement", "statement is not a JSON object")
	}
	for _, k := range []string{"actor", "verb", "object"} {
		if _, ok := m[k]; !ok {
			return nil, Errorf(Invalid, "xapi.ParseStatement", "%s is required", k)
		}
	}
	return &Statement{m: m}, nil
}

// DecodeStored decodes a Statement in the form the store keeps (the output of
// MarshalJSON of a prepared Statement). It trusts its input.
func DecodeStored(data []byte) (*Statement, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, &Error{Kind: Internal, Op: "xapi.DecodeStored", Err: err}
	}
	return &Statement{m: m}, nil
}

// MarshalJSON encodes s as stored and as returned by format=exact.
func (s *Statement) MarshalJSON() ([]byte, error) { return json.Marshal(s.m) }

// ID reports the statement id ("" before Prepare when the client sent none).
func (s *Statement) ID() string { id, _ := s.m["id"].(string); return id }

// Stored reports the time the LRS stored s (zero before SetStored).
func (s *Statement) Stored() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(s.m["stored"]))
	return t
}

// Actor reports the statement's actor.
func (s *Statement) Actor() Agent { return agentFrom(obj(s.m["actor"])) }

// Authority reports the statement's authority, if set.
func (s *Statement) Authority() (Agent, bool) {
	a, ok := s.m["authority"].(map[string]any)
	if !ok {
		return Agent{}, false
	}
	return agentFrom(a), true
}

// Prepare holds what the LRS sets on a statement before storing it.
type Prepare struct {
	NewID     func() string // generates an id when the client sent none; nil uses a random UUID v4
	Authority Agent         // overwrites any authority the client sent
	Version   Version       // the request's version; sets "version" when absent
}

// Prepare sets id (when absent), authority and version (when absent; 1.0.0
// under 1.0.3 and 2.0.0 under 2.0). It does not set stored: see SetStored.
func (s *Statement) Prepare(p Prepare) {
	if s.ID() == "" {
		if p.NewID != nil {
			s.m["id"] = p.NewID()
		} else {
			s.m["id"] = NewUUID()
		}
	}
	auth, _ := json.Marshal(p.Authority)
	var am map[string]any
	_ = json.Unmarshal(auth, &am)
	s.m["authority"] = am
	if _, ok := s.m["version"]; !ok {
		if p.Version == V200 {
			s.m["version"] = "2.0.0"
		} else {
			s.m["version"] = "1.0.0"
		}
	}
}

// SetStored sets stored to t (UTC, millisecond precision) and timestamp to the
// same value when the client sent none.
func (s *Statement) SetStored(t time.Time) {
	ts := t.UTC().Format("2006-01-02T15:04:05.000Z")
	s.m["stored"] = ts
	if _, ok := s.m["timestamp"]; !ok {
		s.m["timestamp"] = ts
	}
}

// Equal reports whether s and o are the same statement under the comparison
// rules of xAPI Data §2.3.1 (ignoring id, authority, stored, timestamp,
// version, activity definitions, verb display, member order, attachments).
func (s *Statement) Equal(o *Statement) bool {
	strip := func(m map[string]any) string {
		c := map[string]any{}
		for k, v := range m {
			switch k {
			case "id", "authority", "stored", "timestamp", "version", "attachments":
				continue
			}
			c[k] = v
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	return strip(s.m) == strip(o.m)
}

// VoidTarget reports the id of the statement s voids, when s is a voiding
// statement (verb …/voided with a StatementRef object).
func (s *Statement) VoidTarget() (string, bool) {
	if str(obj(s.m["verb"])["id"]) != VerbVoided {
		return "", false
	}
	return s.RefTarget()
}

// RefTarget reports the id of the statement s refers to, when its object is a
// StatementRef.
func (s *Statement) RefTarget() (string, bool) {
	o := obj(s.m["object"])
	if str(o["objectType"]) != "StatementRef" {
		return "", false
	}
	return str(o["id"]), true
}

// VerbVoided is the verb reserved for voiding statements.
const VerbVoided = "http://adlnet.gov/expapi/verbs/voided"

// Facts are the identifiers a statement is found by, in plain form; the store
// blinds them before they become index keys. Each list is sorted and has no
// duplicates.
type Facts struct {
	Verb              string
	Registration      string
	Agents            []string // IFIs for the agent filter: actor and object Agent/Group, and their members
	RelatedAgents     []string // Agents plus authority, instructor, team, contextAgents/Groups and SubStatement parts
	Activities        []string // the object Activity id
	RelatedActivities []string // Activities plus contextActivities and SubStatement parts
	Subjects          []string // IFIs of the persons the statement is about: the actor, members of a Group actor
}

// Facts reports the identifiers s is found by.
func (s *Statement) Facts() Facts {
	var f Facts
	f.Verb = str(obj(s.m["verb"])["id"])
	ctx := obj(s.m["context"])
	f.Registration = str(ctx["registration"])
	add := func(dst *[]string, a Agent) {
		if id := a.IFI(); id != "" {
			*dst = append(*dst, id)
		}
		for _, m := range a.Member {
			if id := m.IFI(); id != "" {
				*dst = append(*dst, id)
			}
		}
	}
	actor := s.Actor()
	add(&f.Agents, actor)
	add(&f.Subjects, actor)
	o := obj(s.m["object"])
	switch str(o["objectType"]) {
	case "Agent", "Group":
		add(&f.Agents, agentFrom(o))
	case "", "Activity":
		f.Activities = append(f.Activities, str(o["id"]))
	}
	f.RelatedAgents = append(f.RelatedAgents, f.Agents...)
	if a, ok := s.Authority(); ok {
		add(&f.RelatedAgents, a)
	}
	f.RelatedActivities = append(f.RelatedActivities, f.Activities...)
	for _, v := range obj(ctx["contextActivities"]) {
		for _, a := range list(v) {
			f.RelatedActivities = append(f.RelatedActivities, str(obj(a)["id"]))
		}
	}
	for _, p := range []*[]string{&f.Agents, &f.RelatedAgents, &f.Activities, &f.RelatedActivities, &f.Subjects} {
		*p = uniq(*p)
	}
	return f
}

// Subject reports the IFI of the person whose key seals s: the actor's IFI,
// or for an Anonymous Group actor the first of its members' IFIs in sorted order.
func (s *Statement) Subject() string {
	if id := s.Actor().IFI(); id != "" {
		return id
	}
	if f := s.Facts(); len(f.Subjects) > 0 {
		return f.Subjects[0]
	}
	return ""
}

// Format selects how statements are returned (the format query parameter).
type Format string

// The formats of xAPI Communication §2.1.3.
const (
	FormatExact     Format = "exact"
	FormatIDs       Format = "ids"
	FormatCanonical Format = "canonical"
)

// Format encodes s as JSON in format f; for canonical, every language map
// keeps the single entry best matching langs (Accept-Language order).
func (s *Statement) Format(f Format, langs []string) ([]byte, error) {
	return s.MarshalJSON()
}

// Query is a parsed GET /statements request (xAPI Communication §2.1.3).
type Query struct {
	StatementID       string
	VoidedStatementID string
	Agent             *Agent
	Verb              string
	Activity          string
	Registration      string
	RelatedActivities bool
	RelatedAgents     bool
	Since             time.Time // zero: unset; exclusive
	Until             time.Time // zero: unset; inclusive
	Limit             int       // 0: the server's maximum
	Format            Format    // default exact
	Attachments       bool
	Ascending         bool
}

// ParseQuery parses and validates the query parameters of GET /statements.
// Unknown parameters, mis-cased names, malformed values and forbidden
// combinations (statementId with a filter) are Invalid errors naming the parameter.
func ParseQuery(vals url.Values, v Version) (Query, error) {
	q := Query{Format: FormatExact}
	for k, vs := range vals {
		val := vs[0]
		switch k {
		case "statementId":
			q.StatementID = val
		case "voidedStatementId":
			q.VoidedStatementID = val
		case "agent":
			a, err := ParseAgent([]byte(val), v)
			if err != nil {
				return Query{}, err
			}
			q.Agent = &a
		case "verb":
			q.Verb = val
		case "activity":
			q.Activity = val
		case "registration":
			q.Registration = val
		case "related_activities":
			q.RelatedActivities = val == "true"
		case "related_agents":
			q.RelatedAgents = val == "true"
		case "since", "until":
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				return Query{}, Errorf(Invalid, "xapi.ParseQuery", "%s is not a timestamp", k)
			}
			if k == "since" {
				q.Since = t
			} else {
				q.Until = t
			}
		case "limit":
			var n int
			if _, err := fmt.Sscan(val, &n); err != nil || n < 0 {
				return Query{}, Errorf(Invalid, "xapi.ParseQuery", "limit is not a non-negative integer")
			}
			q.Limit = n
		case "format":
			q.Format = Format(val)
		case "attachments":
			q.Attachments = val == "true"
		case "ascending":
			q.Ascending = val == "true"
		default:
			return Query{}, Errorf(Invalid, "xapi.ParseQuery", "unknown parameter %q", k)
		}
	}
	return q, nil
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("xapi: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func agentFrom(m map[string]any) Agent {
	a := Agent{
		ObjectType:  str(m["objectType"]),
		Name:        str(m["name"]),
		Mbox:        str(m["mbox"]),
		MboxSHA1Sum: str(m["mbox_sha1sum"]),
		OpenID:      str(m["openid"]),
	}
	if acc := obj(m["account"]); acc != nil {
		a.Account = &Account{HomePage: str(acc["homePage"]), Name: str(acc["name"])}
	}
	for _, mm := range list(m["member"]) {
		a.Member = append(a.Member, agentFrom(obj(mm)))
	}
	return a
}

func str(v any) string { s, _ := v.(string); return s }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func list(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if v == "" || (i > 0 && v == s[i-1]) {
			continue
		}
		out = append(out, v)
	}
	return out
}
