package xapi

// This file is the API contract of package xapi that the other packages build
// on: the exported types and functions, with their documented meaning. The
// validator, the comparison and the formats live in the other files.

import (
	"crypto/rand"
	"fmt"
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
// whose rules apply: "1.0" and "1.0.x" to V103, "2.0" and "2.0.x" to V200
// (xAPI Communication §3.3). Anything else, the empty header included, is an
// Invalid error with a short explanation.
func ParseVersionHeader(h string) (Version, error) {
	const op = "xapi.ParseVersionHeader"
	if h == "" {
		return "", Errorf(Invalid, op, "X-Experience-API-Version header is required")
	}
	for _, c := range [...]struct {
		prefix string
		v      Version
	}{{"1.0", V103}, {"2.0", V200}} {
		rest, ok := strings.CutPrefix(h, c.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return c.v, nil
		}
		if p, ok := strings.CutPrefix(rest, "."); ok && p != "" && len(p) <= 9 && isDigit(p) {
			return c.v, nil
		}
	}
	return "", Errorf(Invalid, op, "X-Experience-API-Version is not supported (1.0, 1.0.x, 2.0 and 2.0.x are)")
}

// Statement is one validated xAPI Statement. It keeps the document as
// received (plus what the LRS sets), so that format=exact returns it unchanged.
type Statement struct {
	m   map[string]any // the validated tree; numbers are json.Number
	rec Recorded       // governance metadata, not part of the JSON (recorded.go)
}

// ParseStatements parses a POST body: one Statement or an array of them. Every
// Statement is validated against the rules of version v; the first failure is
// returned as an Invalid *Error naming the statement index and the field.
// Duplicate ids within the batch are rejected.
func ParseStatements(body []byte, v Version) ([]*Statement, error) {
	return parseStatements(body, v)
}

// ParseStatement parses and validates one Statement under the rules of v.
func ParseStatement(body []byte, v Version) (*Statement, error) {
	const op = "xapi.ParseStatement"
	tree, err := decodeJSON(body, op, "statement")
	if err != nil {
		return nil, err
	}
	return validStatement(tree, "", v, op)
}

// DecodeStored decodes a Statement in the form the store keeps (the output of
// MarshalJSON of a prepared Statement). It trusts its input.
func DecodeStored(data []byte) (*Statement, error) {
	tree, err := decodeJSON(data, "xapi.DecodeStored", "stored statement")
	if err != nil {
		return nil, &Error{Kind: Internal, Op: "xapi.DecodeStored", Err: err}
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, Errorf(Internal, "xapi.DecodeStored", "stored statement is not a JSON object")
	}
	return &Statement{m: m}, nil
}

// MarshalJSON encodes s as stored and as returned by format=exact: every value
// as received (numbers in their original text), keys in sorted order.
func (s *Statement) MarshalJSON() ([]byte, error) { return encodeJSON(s.m) }

// ID reports the statement id ("" before Prepare when the client sent none).
// UUIDs are case-insensitive; ID reports it in lower case.
func (s *Statement) ID() string { return strings.ToLower(str(s.m["id"])) }

// Stored reports the time the LRS stored s (zero before SetStored).
func (s *Statement) Stored() time.Time { return instant(s.m["stored"]) }

// Timestamp reports the statement's timestamp (zero when it has none).
func (s *Statement) Timestamp() time.Time { return instant(s.m["timestamp"]) }

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
	if _, ok := s.m["id"]; !ok {
		if p.NewID != nil {
			s.m["id"] = p.NewID()
		} else {
			s.m["id"] = NewUUID()
		}
	}
	s.m["authority"] = agentTree(p.Authority)
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
	ts := FormatStored(t)
	s.m["stored"] = ts
	if _, ok := s.m["timestamp"]; !ok {
		s.m["timestamp"] = ts
	}
}

// Equal reports whether s and o are the same statement under the comparison
// rules of xAPI Data §2.3.1 (ignoring id, authority, stored, timestamp,
// version, activity definitions, verb display, member order, attachments).
// Case-insensitive values (the mbox domain, UUIDs, language tags) compare
// without case, timestamps inside SubStatements by instant, numbers by value
// and durations to 0.01 s (truncated).
func (s *Statement) Equal(o *Statement) bool {
	if s == nil || o == nil {
		return s == o
	}
	a, err1 := encodeJSON(comparable(s.m, true))
	b, err2 := encodeJSON(comparable(o.m, true))
	return err1 == nil && err2 == nil && string(a) == string(b)
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
// StatementRef. The id is in lower case, as ID reports ids.
func (s *Statement) RefTarget() (string, bool) {
	o := obj(s.m["object"])
	if str(o["objectType"]) != "StatementRef" {
		return "", false
	}
	return strings.ToLower(str(o["id"])), true
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

// Facts reports the identifiers s is found by. Registration is in lower case.
func (s *Statement) Facts() Facts { return facts(s.m) }

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
	switch f {
	case FormatExact, "":
		return s.MarshalJSON()
	case FormatIDs:
		return encodeJSON(idsForm(s.m))
	case FormatCanonical:
		return encodeJSON(canonicalForm(s.m, langs))
	}
	return nil, Errorf(Invalid, "xapi.Format", "format must be exact, ids or canonical")
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
	// Purpose is not an xAPI parameter (ParseQuery never sets it): the
	// governance gate sets it to keep only statements recorded for that
	// purpose (see Recorded), which the store answers from an index.
	Purpose string
	// Rows is not an xAPI parameter either: when not nil, the governance
	// gate restricts the query to statements whose recorded facts may pass
	// its list-read policy, which the store answers from its indexes
	// without opening statements.
	Rows *RowFilter
}

// RowFilter keeps the statements that satisfy at least one of its
// conditions (none: no statement). A condition speaks only of what a store
// records beside a statement's sealed content: its Recorded purpose, legal
// basis and expiry, and the IFIs of its own agents (those of the agent
// filter: the actor, an Agent or Group object, and their members).
type RowFilter struct {
	Any []RowCondition
}

// RowCondition is a conjunction: a statement satisfies it when it
// satisfies every member that is set.
type RowCondition struct {
	// Purposes, when not nil, lists the purposes the statement may be
	// recorded for; "" stands for no recorded purpose.
	Purposes []string
	// NotPurposes lists purposes the statement must not be recorded for.
	NotPurposes []string
	// Bases and NotBases do the same for the recorded legal basis.
	Bases, NotBases []string
	// Agents lists sets of IFIs: for each, one of the statement's own
	// agents must have an IFI in it. An empty set is satisfied by nothing.
	Agents [][]string
	// Expiry restricts the recorded expiry (Recorded.Expires).
	Expiry Expiry
}

// Expiry is a condition on a statement's recorded expiry. The zero value
// accepts any; otherwise a statement passes when Never is set and it is
// kept without a time limit, or when After is set and it expires after
// After.
type Expiry struct {
	Never bool
	After time.Time
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
