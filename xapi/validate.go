package xapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file validates a decoded JSON tree against xAPI Data §2.4 (1.0.3) and
// 2.0 §4.2 by hand, so that every rule is explicit: keys are matched
// case-sensitively, unknown keys are rejected everywhere but inside
// extensions, null is rejected outside extensions and every value must have
// its JSON type. The checker normalises the tree as it goes (a single
// contextActivities object becomes a one-element array; under 2.0 timestamps
// with an offset become UTC); the tree is private until validation succeeds.

// checker validates one document under the rules of one version.
type checker struct {
	v  Version
	op string
}

func (c *checker) fail(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return &Error{Kind: Invalid, Op: c.op, Msg: msg}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// quoteKey quotes a client-sent property name for an error message, cut short.
func quoteKey(k string) string {
	if len(k) > 40 {
		k = k[:40] + "…"
	}
	return strconv.Quote(k)
}

// object checks that v is a JSON object whose keys are all in allowed
// (case-sensitively) and whose values are not null. When several keys are
// wrong, the first in sorted order is reported, so that messages are stable.
func (c *checker) object(v any, path string, allowed ...string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, c.fail(path, "must be a JSON object")
	}
	bad, found := "", false
	for k, val := range m {
		if (!isAllowed(k, allowed) || val == nil) && (!found || k < bad) {
			bad, found = k, true
		}
	}
	if !found {
		return m, nil
	}
	if isAllowed(bad, allowed) {
		return nil, c.fail(join(path, bad), "must not be null")
	}
	for _, a := range allowed {
		if strings.EqualFold(bad, a) {
			return nil, c.fail(path, "unknown property %s (property names are case-sensitive: %q)", quoteKey(bad), a)
		}
	}
	return nil, c.fail(path, "unknown property %s", quoteKey(bad))
}

func isAllowed(k string, allowed []string) bool {
	for _, a := range allowed {
		if k == a {
			return true
		}
	}
	return false
}

func (c *checker) str(v any, path string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", c.fail(path, "must be a string")
	}
	return s, nil
}

func (c *checker) boolean(v any, path string) error {
	if _, ok := v.(bool); !ok {
		return c.fail(path, "must be a boolean (true or false)")
	}
	return nil
}

func (c *checker) number(v any, path string) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, c.fail(path, "must be a number")
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, c.fail(path, "must be a number within range")
	}
	return f, nil
}

func (c *checker) array(v any, path string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, c.fail(path, "must be a JSON array")
	}
	return a, nil
}

func (c *checker) iri(v any, path string) (string, error) {
	s, err := c.str(v, path)
	if err != nil {
		return "", err
	}
	if !isIRI(s) {
		return "", c.fail(path, "must be an absolute IRI with a scheme")
	}
	return s, nil
}

func (c *checker) uuid(v any, path string) error {
	s, err := c.str(v, path)
	if err != nil {
		return err
	}
	if !isUUID(s) {
		return c.fail(path, "must be a UUID (8-4-4-4-12 hexadecimal digits)")
	}
	return nil
}

func (c *checker) langMap(v any, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return c.fail(path, "must be a language map (an object of RFC 5646 language tags to strings)")
	}
	bad, badTag, found := "", false, false
	for k, val := range m {
		_, isStr := val.(string)
		tagOK := isLangTag(k)
		if (!tagOK || !isStr) && (!found || k < bad) {
			bad, badTag, found = k, !tagOK, true
		}
	}
	switch {
	case !found:
		return nil
	case badTag:
		return c.fail(path, "key %s is not an RFC 5646 language tag", quoteKey(bad))
	}
	return c.fail(join(path, bad), "must be a string")
}

func (c *checker) extensions(v any, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return c.fail(path, "must be an object whose keys are IRIs")
	}
	bad, found := "", false
	for k := range m {
		if !isIRI(k) && (!found || k < bad) {
			bad, found = k, true
		}
	}
	if found {
		return c.fail(path, "key %s is not an IRI", quoteKey(bad))
	}
	return nil
}

var (
	statementKeys    = []string{"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments"}
	subStatementKeys = []string{"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)

// statement validates a Statement (sub == false) or a SubStatement.
func (c *checker) statement(v any, path string, sub bool) error {
	keys := statementKeys
	if sub {
		keys = subStatementKeys
	}
	m, err := c.object(v, path, keys...)
	if err != nil {
		if sub {
			for _, k := range []string{"id", "stored", "version", "authority"} {
				if mm, ok := v.(map[string]any); ok && mm[k] != nil {
					return c.fail(join(path, k), "is not allowed in a SubStatement")
				}
			}
		}
		return err
	}
	for _, k := range []string{"actor", "verb", "object"} {
		if _, ok := m[k]; !ok {
			return c.fail(join(path, k), "is required")
		}
	}
	if id, ok := m["id"]; ok {
		if err := c.uuid(id, join(path, "id")); err != nil {
			return err
		}
	}
	if err := c.agent(m["actor"], join(path, "actor"), anyAgent); err != nil {
		return err
	}
	if err := c.verb(m["verb"], join(path, "verb")); err != nil {
		return err
	}
	isActivity, err := c.statementObject(m["object"], join(path, "object"), sub)
	if err != nil {
		return err
	}
	// XAPI-00017/00020: a voiding statement's object is a StatementRef.
	if str(obj(m["verb"])["id"]) == VerbVoided && str(obj(m["object"])["objectType"]) != "StatementRef" {
		return c.fail(join(join(path, "object"), "objectType"), "a voiding statement (verb %s) must have a StatementRef object", VerbVoided)
	}
	if r, ok := m["result"]; ok {
		if err := c.result(r, join(path, "result")); err != nil {
			return err
		}
	}
	if x, ok := m["context"]; ok {
		if err := c.context(x, join(path, "context"), isActivity); err != nil {
			return err
		}
	}
	for _, k := range []string{"timestamp", "stored"} {
		if x, ok := m[k]; ok {
			s, err := c.str(x, join(path, k))
			if err != nil {
				return err
			}
			ts, why := parseTimestamp(s, c.v)
			if why != "" {
				return c.fail(join(path, k), "%s", why)
			}
			m[k] = ts.text
		}
	}
	if a, ok := m["authority"]; ok {
		if err := c.authority(a, join(path, "authority")); err != nil {
			return err
		}
	}
	if x, ok := m["version"]; ok {
		s, err := c.str(x, join(path, "version"))
		if err != nil {
			return err
		}
		if !statementVersionOK(s, c.v) {
			if c.v == V200 {
				return c.fail(join(path, "version"), "must be 1.0, 2.0, 1.0.x or 2.0.x")
			}
			return c.fail(join(path, "version"), "must be 1.0 or start with 1.0.")
		}
	}
	if x, ok := m["attachments"]; ok {
		if err := c.attachments(x, join(path, "attachments")); err != nil {
			return err
		}
	}
	return nil
}

// statementVersionOK reports whether s is an acceptable Statement version:
// under 1.0.3 "1.0" or "1.0." and a patch number (with an optional semver
// suffix); under 2.0 ^(1|2)\.0(\.\d+)?$.
func statementVersionOK(s string, v Version) bool {
	if v == V200 {
		rest, ok := strings.CutPrefix(s, "1.0")
		if !ok {
			rest, ok = strings.CutPrefix(s, "2.0")
		}
		if !ok {
			return false
		}
		if rest == "" {
			return true
		}
		p, ok := strings.CutPrefix(rest, ".")
		return ok && p != "" && isDigit(p)
	}
	if s == "1.0" {
		return true
	}
	p, ok := strings.CutPrefix(s, "1.0.")
	if !ok {
		return false
	}
	n := 0
	for n < len(p) && '0' <= p[n] && p[n] <= '9' {
		n++
	}
	if n == 0 {
		return false
	}
	suffix := p[n:]
	if suffix == "" {
		return true
	}
	if suffix[0] != '-' && suffix[0] != '+' || len(suffix) == 1 {
		return false
	}
	for _, r := range suffix[1:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '.' || r == '-' || r == '+') {
			return false
		}
	}
	return true
}

// agentKind says which of Agent and Group a position accepts.
type agentKind int

const (
	anyAgent      agentKind = iota // Agent or Group, objectType optional (actor, instructor, authority)
	agentOnly                      // an Agent (contextAgent)
	memberAgent                    // an Agent as a Group member
	groupOnly                      // a Group, objectType required (team, contextGroup)
	objectAgent                    // Agent or Group as a statement object: objectType required
	identifiedAny                  // Agent or Identified Group (agent query parameter)
)

var (
	agentKeys = []string{"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
	groupKeys = []string{"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member"}
)

// agent validates an Agent or Group (xAPI Data §2.4.2).
func (c *checker) agent(v any, path string, kind agentKind) error {
	raw, ok := v.(map[string]any)
	if !ok {
		return c.fail(path, "must be a JSON object (an Agent or Group)")
	}
	ot, has := raw["objectType"]
	group := false
	if has {
		s, ok := ot.(string)
		if !ok || s != "Agent" && s != "Group" {
			return c.fail(join(path, "objectType"), "must be \"Agent\" or \"Group\" (case-sensitive)")
		}
		group = s == "Group"
	} else if kind == objectAgent || kind == groupOnly {
		return c.fail(join(path, "objectType"), "is required")
	}
	switch {
	case group && kind == memberAgent:
		return c.fail(path, "a Group cannot contain a Group")
	case group && kind == agentOnly:
		return c.fail(path, "must be an Agent, not a Group")
	case !group && kind == groupOnly:
		return c.fail(join(path, "objectType"), "must be \"Group\"")
	}
	keys := agentKeys
	if group {
		keys = groupKeys
	}
	m, err := c.object(v, path, keys...)
	if err != nil {
		return err
	}
	if n, ok := m["name"]; ok {
		if _, err := c.str(n, join(path, "name")); err != nil {
			return err
		}
	}
	ifis := 0
	if x, ok := m["mbox"]; ok {
		ifis++
		s, err := c.str(x, join(path, "mbox"))
		if err != nil {
			return err
		}
		if !isMailto(s) {
			return c.fail(join(path, "mbox"), "must be a mailto IRI (mailto:name@example.com)")
		}
	}
	if x, ok := m["mbox_sha1sum"]; ok {
		ifis++
		s, err := c.str(x, join(path, "mbox_sha1sum"))
		if err != nil {
			return err
		}
		if !isSHA1Hex(s) {
			return c.fail(join(path, "mbox_sha1sum"), "must be 40 hexadecimal digits (the SHA-1 of a mailto IRI)")
		}
	}
	if x, ok := m["openid"]; ok {
		ifis++
		if _, err := c.iri(x, join(path, "openid")); err != nil {
			return err
		}
	}
	if x, ok := m["account"]; ok {
		ifis++
		p := join(path, "account")
		acc, err := c.object(x, p, "homePage", "name")
		if err != nil {
			return err
		}
		hp, ok := acc["homePage"]
		if !ok {
			return c.fail(join(p, "homePage"), "is required")
		}
		if _, err := c.iri(hp, join(p, "homePage")); err != nil {
			return err
		}
		n, ok := acc["name"]
		if !ok {
			return c.fail(join(p, "name"), "is required")
		}
		if _, err := c.str(n, join(p, "name")); err != nil {
			return err
		}
	}
	if !group {
		if ifis != 1 {
			return c.fail(path, "an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), has %d", ifis)
		}
		return nil
	}
	if ifis > 1 {
		return c.fail(path, "a Group must have at most one inverse functional identifier (mbox, mbox_sha1sum, openid or account), has %d", ifis)
	}
	if ifis == 0 && kind == identifiedAny {
		return c.fail(path, "must be an Agent or an Identified Group (one inverse functional identifier)")
	}
	x, ok := m["member"]
	if !ok {
		if ifis == 0 {
			return c.fail(join(path, "member"), "is required in an Anonymous Group")
		}
		return nil
	}
	members, err := c.array(x, join(path, "member"))
	if err != nil {
		return err
	}
	if ifis == 0 && len(members) == 0 {
		return c.fail(join(path, "member"), "must list at least one Agent in an Anonymous Group")
	}
	for i, mm := range members {
		if err := c.agent(mm, index(join(path, "member"), i), memberAgent); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) authority(v any, path string) error {
	if err := c.agent(v, path, anyAgent); err != nil {
		return err
	}
	m := v.(map[string]any)
	if m["objectType"] == "Group" {
		// XAPI-00024/00100: a Group authority is the OAuth pair
		// {application, user}: an Anonymous Group of exactly two Agents.
		for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
			if _, ok := m[k]; ok {
				return c.fail(join(path, k), "a Group authority must be an Anonymous Group (3-legged OAuth), without an identifier")
			}
		}
		if members, _ := m["member"].([]any); len(members) != 2 {
			return c.fail(path, "a Group authority must have exactly two Agent members (3-legged OAuth)")
		}
	}
	return nil
}

func (c *checker) verb(v any, path string) error {
	m, err := c.object(v, path, "id", "display")
	if err != nil {
		return err
	}
	id, ok := m["id"]
	if !ok {
		return c.fail(join(path, "id"), "is required")
	}
	if _, err := c.iri(id, join(path, "id")); err != nil {
		return err
	}
	if d, ok := m["display"]; ok {
		return c.langMap(d, join(path, "display"))
	}
	return nil
}

// statementObject validates a Statement's object and reports whether it is
// an Activity.
func (c *checker) statementObject(v any, path string, sub bool) (bool, error) {
	raw, ok := v.(map[string]any)
	if !ok {
		return false, c.fail(path, "must be a JSON object")
	}
	ot := "Activity"
	if x, has := raw["objectType"]; has {
		s, ok := x.(string)
		switch s {
		case "Activity", "Agent", "Group", "SubStatement", "StatementRef":
		default:
			ok = false
		}
		if !ok {
			return false, c.fail(join(path, "objectType"), "must be one of \"Activity\", \"Agent\", \"Group\", \"SubStatement\", \"StatementRef\" (case-sensitive)")
		}
		ot = s
	}
	switch ot {
	case "Activity":
		return true, c.activity(v, path)
	case "Agent", "Group":
		return false, c.agent(v, path, objectAgent)
	case "StatementRef":
		return false, c.statementRef(v, path)
	}
	if sub {
		return false, c.fail(join(path, "objectType"), "a SubStatement cannot contain a SubStatement")
	}
	return false, c.statement(v, path, true)
}

func (c *checker) statementRef(v any, path string) error {
	m, err := c.object(v, path, "objectType", "id")
	if err != nil {
		return err
	}
	if m["objectType"] != "StatementRef" {
		return c.fail(join(path, "objectType"), "must be \"StatementRef\"")
	}
	id, ok := m["id"]
	if !ok {
		return c.fail(join(path, "id"), "is required")
	}
	return c.uuid(id, join(path, "id"))
}

// activity validates an Activity (xAPI Data §2.4.4.1).
func (c *checker) activity(v any, path string) error {
	m, err := c.object(v, path, "objectType", "id", "definition")
	if err != nil {
		return err
	}
	if ot, ok := m["objectType"]; ok && ot != "Activity" {
		return c.fail(join(path, "objectType"), "must be \"Activity\"")
	}
	id, ok := m["id"]
	if !ok {
		return c.fail(join(path, "id"), "is required")
	}
	if _, err := c.iri(id, join(path, "id")); err != nil {
		return err
	}
	if d, ok := m["definition"]; ok {
		return c.definition(d, join(path, "definition"))
	}
	return nil
}

// interactionComponents lists, per interactionType, the component lists it
// may carry (xAPI Data §2.4.4.1, Interaction Components).
var interactionComponents = map[string][]string{
	"true-false":   nil,
	"choice":       {"choices"},
	"fill-in":      nil,
	"long-fill-in": nil,
	"matching":     {"source", "target"},
	"performance":  {"steps"},
	"sequencing":   {"choices"},
	"likert":       {"scale"},
	"numeric":      nil,
	"other":        nil,
}

const interactionTypes = `"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric" or "other"`

var componentLists = []string{"choices", "scale", "source", "target", "steps"}

func (c *checker) definition(v any, path string) error {
	m, err := c.object(v, path, "name", "description", "type", "moreInfo", "extensions",
		"interactionType", "correctResponsesPattern", "choices", "scale", "source", "target", "steps")
	if err != nil {
		return err
	}
	for _, k := range []string{"name", "description"} {
		if x, ok := m[k]; ok {
			if err := c.langMap(x, join(path, k)); err != nil {
				return err
			}
		}
	}
	for _, k := range []string{"type", "moreInfo"} {
		if x, ok := m[k]; ok {
			if _, err := c.iri(x, join(path, k)); err != nil {
				return err
			}
		}
	}
	if x, ok := m["extensions"]; ok {
		if err := c.extensions(x, join(path, "extensions")); err != nil {
			return err
		}
	}
	it := ""
	if x, ok := m["interactionType"]; ok {
		s, _ := x.(string)
		if _, known := interactionComponents[s]; !known {
			return c.fail(join(path, "interactionType"), "must be one of %s", interactionTypes)
		}
		it = s
	}
	if x, ok := m["correctResponsesPattern"]; ok {
		if it == "" {
			return c.fail(join(path, "interactionType"), "is required when correctResponsesPattern is present")
		}
		p := join(path, "correctResponsesPattern")
		a, err := c.array(x, p)
		if err != nil {
			return err
		}
		for i, s := range a {
			if _, err := c.str(s, index(p, i)); err != nil {
				return err
			}
		}
	}
	for _, k := range componentLists {
		x, ok := m[k]
		if !ok {
			continue
		}
		if it == "" {
			return c.fail(join(path, "interactionType"), "is required when %s is present", k)
		}
		allowed := false
		for _, a := range interactionComponents[it] {
			allowed = allowed || a == k
		}
		if !allowed {
			return c.fail(join(path, k), "is not allowed with interactionType %q", it)
		}
		if err := c.components(x, join(path, k)); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) components(v any, path string) error {
	a, err := c.array(v, path)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(a))
	for i, x := range a {
		p := index(path, i)
		m, err := c.object(x, p, "id", "description")
		if err != nil {
			return err
		}
		idv, ok := m["id"]
		if !ok {
			return c.fail(join(p, "id"), "is required")
		}
		id, err := c.str(idv, join(p, "id"))
		if err != nil {
			return err
		}
		if id == "" {
			return c.fail(join(p, "id"), "must not be empty")
		}
		if seen[id] {
			return c.fail(join(p, "id"), "must be unique within %s", path[strings.LastIndexByte(path, '.')+1:])
		}
		seen[id] = true
		if d, ok := m["description"]; ok {
			if err := c.langMap(d, join(p, "description")); err != nil {
				return err
			}
		}
	}
	return nil
}

// result validates a Result (xAPI Data §2.4.5).
func (c *checker) result(v any, path string) error {
	m, err := c.object(v, path, "score", "success", "completion", "response", "duration", "extensions")
	if err != nil {
		return err
	}
	for _, k := range []string{"success", "completion"} {
		if x, ok := m[k]; ok {
			if err := c.boolean(x, join(path, k)); err != nil {
				return err
			}
		}
	}
	if x, ok := m["response"]; ok {
		if _, err := c.str(x, join(path, "response")); err != nil {
			return err
		}
	}
	if x, ok := m["duration"]; ok {
		s, err := c.str(x, join(path, "duration"))
		if err != nil {
			return err
		}
		if !isDuration(s) {
			return c.fail(join(path, "duration"), "must be an ISO 8601 duration (PnYnMnDTnHnMnS or PnW)")
		}
	}
	if x, ok := m["extensions"]; ok {
		if err := c.extensions(x, join(path, "extensions")); err != nil {
			return err
		}
	}
	if x, ok := m["score"]; ok {
		return c.score(x, join(path, "score"))
	}
	return nil
}

func (c *checker) score(v any, path string) error {
	m, err := c.object(v, path, "scaled", "raw", "min", "max")
	if err != nil {
		return err
	}
	var vals [4]float64
	var has [4]bool
	for i, k := range []string{"scaled", "raw", "min", "max"} {
		if x, ok := m[k]; ok {
			f, err := c.number(x, join(path, k))
			if err != nil {
				return err
			}
			vals[i], has[i] = f, true
		}
	}
	scaled, raw, lo, hi := vals[0], vals[1], vals[2], vals[3]
	switch {
	case has[0] && (scaled < -1 || scaled > 1):
		return c.fail(join(path, "scaled"), "must be between -1 and 1")
	case has[2] && has[3] && lo >= hi:
		return c.fail(join(path, "min"), "must be less than max")
	case has[1] && has[2] && raw < lo:
		return c.fail(join(path, "raw"), "must not be less than min")
	case has[1] && has[3] && raw > hi:
		return c.fail(join(path, "raw"), "must not be greater than max")
	}
	return nil
}

var (
	contextKeys103 = []string{"registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement", "extensions"}
	contextKeys200 = append(contextKeys103[:len(contextKeys103):len(contextKeys103)], "contextAgents", "contextGroups")
)

// context validates a Context (xAPI Data §2.4.6; 2.0 §4.2.2.5). isActivity
// reports whether the statement's object is an Activity.
func (c *checker) context(v any, path string, isActivity bool) error {
	keys := contextKeys103
	if c.v == V200 {
		keys = contextKeys200
	}
	m, err := c.object(v, path, keys...)
	if err != nil {
		if mm, ok := v.(map[string]any); ok && c.v != V200 {
			for _, k := range []string{"contextAgents", "contextGroups"} {
				if _, has := mm[k]; has {
					return c.fail(join(path, k), "is not allowed in xAPI 1.0.3 (it is new in 2.0)")
				}
			}
		}
		return err
	}
	if x, ok := m["registration"]; ok {
		if err := c.uuid(x, join(path, "registration")); err != nil {
			return err
		}
	}
	if x, ok := m["instructor"]; ok {
		if err := c.agent(x, join(path, "instructor"), anyAgent); err != nil {
			return err
		}
	}
	if x, ok := m["team"]; ok {
		if err := c.agent(x, join(path, "team"), groupOnly); err != nil {
			return err
		}
	}
	for _, k := range []string{"revision", "platform"} {
		if x, ok := m[k]; ok {
			if !isActivity {
				return c.fail(join(path, k), "is allowed only when the object is an Activity")
			}
			if _, err := c.str(x, join(path, k)); err != nil {
				return err
			}
		}
	}
	if x, ok := m["language"]; ok {
		s, err := c.str(x, join(path, "language"))
		if err != nil {
			return err
		}
		if !isLangTag(s) {
			return c.fail(join(path, "language"), "must be an RFC 5646 language tag")
		}
	}
	if x, ok := m["statement"]; ok {
		if err := c.statementRef(x, join(path, "statement")); err != nil {
			return err
		}
	}
	if x, ok := m["extensions"]; ok {
		if err := c.extensions(x, join(path, "extensions")); err != nil {
			return err
		}
	}
	if x, ok := m["contextActivities"]; ok {
		p := join(path, "contextActivities")
		ca, err := c.object(x, p, "parent", "grouping", "category", "other")
		if err != nil {
			return err
		}
		for _, k := range [...]string{"parent", "grouping", "category", "other"} {
			val, ok := ca[k]
			if !ok {
				continue
			}
			list, isList := val.([]any)
			if !isList {
				list = []any{val}
			}
			for i, a := range list {
				ap := join(p, k)
				if isList {
					ap = index(ap, i)
				}
				if err := c.activity(a, ap); err != nil {
					return err
				}
			}
			ca[k] = list // a single Activity is stored as a one-element array
		}
	}
	for _, kv := range [...]struct{ key, ot, member string }{
		{"contextAgents", "contextAgent", "agent"},
		{"contextGroups", "contextGroup", "group"},
	} {
		x, ok := m[kv.key]
		if !ok {
			continue
		}
		p := join(path, kv.key)
		list, err := c.array(x, p)
		if err != nil {
			return err
		}
		for i, e := range list {
			ep := index(p, i)
			em, err := c.object(e, ep, "objectType", kv.member, "relevantTypes")
			if err != nil {
				return err
			}
			if em["objectType"] != kv.ot {
				return c.fail(join(ep, "objectType"), "must be %q", kv.ot)
			}
			a, ok := em[kv.member]
			if !ok {
				return c.fail(join(ep, kv.member), "is required")
			}
			kind := agentOnly
			if kv.member == "group" {
				kind = groupOnly
			}
			if err := c.agent(a, join(ep, kv.member), kind); err != nil {
				return err
			}
			if rt, ok := em["relevantTypes"]; ok {
				rp := join(ep, "relevantTypes")
				types, err := c.array(rt, rp)
				if err != nil {
					return err
				}
				if len(types) == 0 {
					return c.fail(rp, "must not be empty")
				}
				for j, t := range types {
					if _, err := c.iri(t, index(rp, j)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// attachments validates the attachments array (xAPI Data §2.4.11).
func (c *checker) attachments(v any, path string) error {
	list, err := c.array(v, path)
	if err != nil {
		return err
	}
	for i, x := range list {
		p := index(path, i)
		m, err := c.object(x, p, "usageType", "display", "description", "contentType", "length", "sha2", "fileUrl")
		if err != nil {
			return err
		}
		for _, k := range []string{"usageType", "display", "contentType", "length", "sha2"} {
			if _, ok := m[k]; !ok {
				return c.fail(join(p, k), "is required")
			}
		}
		if _, err := c.iri(m["usageType"], join(p, "usageType")); err != nil {
			return err
		}
		if err := c.langMap(m["display"], join(p, "display")); err != nil {
			return err
		}
		if d, ok := m["description"]; ok {
			if err := c.langMap(d, join(p, "description")); err != nil {
				return err
			}
		}
		ct, err := c.str(m["contentType"], join(p, "contentType"))
		if err != nil {
			return err
		}
		if !isMediaType(ct) {
			return c.fail(join(p, "contentType"), "must be an Internet media type")
		}
		n, ok := m["length"].(json.Number)
		if !ok {
			return c.fail(join(p, "length"), "must be a number")
		}
		if l, err := strconv.ParseInt(string(n), 10, 64); err != nil || l < 0 {
			return c.fail(join(p, "length"), "must be a non-negative integer")
		}
		sha, err := c.str(m["sha2"], join(p, "sha2"))
		if err != nil {
			return err
		}
		if sha == "" {
			return c.fail(join(p, "sha2"), "must not be empty")
		}
		if u, ok := m["fileUrl"]; ok {
			if _, err := c.iri(u, join(p, "fileUrl")); err != nil {
				return err
			}
		}
	}
	return nil
}
