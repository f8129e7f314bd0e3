package xapi

import (
	"net/url"
	"strings"
)

// This file holds what the Activities and Agents resources need (xAPI
// Communication §2.4–2.5, IEEE 9274.1.1 §4.1.6.3–4.1.6.4): Activity objects
// with their canonical definitions, the merge rule that builds them, and the
// Person object.

// Activity is an Activity object (xAPI Data §2.4.4.1): its id and, when known,
// its definition. Activity{ID: id} is an Activity without a definition.
type Activity struct {
	ID  string
	def map[string]any // a validated definition tree; nil when none
}

// HasDefinition reports whether a carries a definition.
func (a Activity) HasDefinition() bool { return a.def != nil }

// MarshalJSON encodes a as a full Activity object: objectType "Activity",
// id and, when present, definition (keys sorted, values as received).
func (a Activity) MarshalJSON() ([]byte, error) { return encodeJSON(a.tree()) }

func (a Activity) tree() map[string]any {
	m := map[string]any{"objectType": "Activity", "id": a.ID}
	if a.def != nil {
		m["definition"] = a.def
	}
	return m
}

// DecodeActivity decodes an Activity in the form MarshalJSON writes, as the
// store keeps canonical copies. It trusts its input; anything but an object
// with a string id is an Internal error.
func DecodeActivity(data []byte) (Activity, error) {
	const op = "xapi.DecodeActivity"
	tree, err := decodeJSON(data, op, "stored activity")
	if err != nil {
		return Activity{}, &Error{Kind: Internal, Op: op, Err: err}
	}
	m := obj(tree)
	id, ok := m["id"].(string)
	if !ok {
		return Activity{}, Errorf(Internal, op, "stored activity has no id")
	}
	return Activity{ID: id, def: obj(m["definition"])}, nil
}

// Activities reports the Activity objects of s whose definitions the LRS
// merges into its canonical copies, in document order: the object, the
// context activities (parent, grouping, category, other), then the same
// parts of a SubStatement object. An id may appear more than once.
func (s *Statement) Activities() []Activity {
	var out []Activity
	eachActivity(s.m, func(a map[string]any) {
		out = append(out, Activity{ID: str(a["id"]), def: obj(a["definition"])})
	})
	return out
}

// eachActivity calls fn on every Activity object of the statement tree m,
// in document order, SubStatement parts included.
func eachActivity(m map[string]any, fn func(map[string]any)) {
	o := obj(m["object"])
	switch str(o["objectType"]) {
	case "", "Activity":
		if o != nil {
			fn(o)
		}
	}
	ca := obj(obj(m["context"])["contextActivities"])
	for _, k := range []string{"parent", "grouping", "category", "other"} {
		for _, a := range list(ca[k]) {
			if am := obj(a); am != nil {
				fn(am)
			}
		}
	}
	if str(o["objectType"]) == "SubStatement" {
		eachActivity(o, fn)
	}
}

// interactionKeys are the definition properties that describe an
// interaction; the merge treats them as one property.
var interactionKeys = []string{"interactionType", "correctResponsesPattern", "choices", "scale", "source", "target", "steps"}

// Merge returns the canonical definition after a (the current canonical
// copy) receives newer, a definition of the same Activity from a statement
// stored later. It is the LRS's answer to xAPI Data §2.4.4.1 (XAPI-REQUIREMENTS
// §2.4.7–2.4.8, Communication §2.5: the Activities resource returns
// everything statements supplied about an Activity, XAPI-00254):
//
//   - name and description merge per language: languages only in a are kept,
//     languages in newer are added or replace a's text for that language;
//   - type, moreInfo and extensions take newer's value when newer has one,
//     else keep a's;
//   - the interaction properties (interactionType, correctResponsesPattern
//     and the component lists) are one property: when newer has an
//     interactionType they are all taken from newer, so that a canonical
//     definition never mixes two interactions, else a's are kept.
//
// A property newer leaves out is never removed. The result has newer's id;
// neither a nor newer is changed.
func (a Activity) Merge(newer Activity) Activity {
	if a.def == nil || newer.def == nil {
		if newer.def == nil {
			return Activity{ID: newer.ID, def: a.def}
		}
		return Activity{ID: newer.ID, def: newer.def}
	}
	out := deepCopy(a.def).(map[string]any)
	for _, k := range []string{"name", "description"} {
		nl, ok := newer.def[k].(map[string]any)
		if !ok {
			continue
		}
		ol, _ := out[k].(map[string]any)
		if ol == nil {
			ol = make(map[string]any, len(nl))
			out[k] = ol
		}
		for lang, text := range nl {
			for have := range ol {
				if have != lang && strings.EqualFold(have, lang) {
					delete(ol, have) // language tags are case-insensitive
				}
			}
			ol[lang] = text
		}
	}
	for _, k := range []string{"type", "moreInfo", "extensions"} {
		if v, ok := newer.def[k]; ok {
			out[k] = deepCopy(v)
		}
	}
	if _, ok := newer.def["interactionType"]; ok {
		for _, k := range interactionKeys {
			delete(out, k)
			if v, ok := newer.def[k]; ok {
				out[k] = deepCopy(v)
			}
		}
	}
	return Activity{ID: newer.ID, def: out}
}

// WithDefinitions returns a copy of s in which every Activity object (see
// Activities) whose id has an entry with a definition in defs carries that
// definition instead of its own; the others are kept as they are. With
// Format(FormatCanonical, langs) it gives the canonical format of xAPI
// Communication §2.1.3. s is not changed.
func (s *Statement) WithDefinitions(defs map[string]Activity) *Statement {
	m := deepCopy(s.m).(map[string]any)
	eachActivity(m, func(a map[string]any) {
		if c, ok := defs[str(a["id"])]; ok && c.def != nil {
			a["definition"] = deepCopy(c.def)
		}
	})
	return &Statement{m: m, rec: s.rec}
}

// ParseActivitiesQuery parses the parameters of GET /activities (xAPI
// Communication §2.5): activityId, an IRI, given once, and nothing else.
// Anything else is an Invalid *Error naming the parameter. The id is kept as
// given: IRIs are compared as plain strings (IEEE 9274.1.1 §4.2.7).
func ParseActivitiesQuery(vals url.Values) (string, error) {
	const op = "xapi.ParseActivitiesQuery"
	for k := range vals {
		if k != "activityId" {
			return "", Errorf(Invalid, op, "unknown parameter %s (only activityId is allowed)", quoteKey(k))
		}
	}
	vs := vals["activityId"]
	if len(vs) != 1 {
		return "", Errorf(Invalid, op, "activityId: is required, once")
	}
	if !isIRI(vs[0]) {
		return "", Errorf(Invalid, op, "activityId: must be an IRI")
	}
	return vs[0], nil
}

// ParseAgentsQuery parses the parameters of GET /agents (xAPI Communication
// §2.4): agent, a JSON Agent with exactly one inverse functional identifier
// (not a Group), given once, and nothing else. Anything else is an Invalid
// *Error naming the parameter.
func ParseAgentsQuery(vals url.Values, v Version) (Agent, error) {
	const op = "xapi.ParseAgentsQuery"
	for k := range vals {
		if k != "agent" {
			return Agent{}, Errorf(Invalid, op, "unknown parameter %s (only agent is allowed)", quoteKey(k))
		}
	}
	vs := vals["agent"]
	if len(vs) != 1 {
		return Agent{}, Errorf(Invalid, op, "agent: is required, once")
	}
	tree, err := decodeJSON([]byte(vs[0]), op, "agent")
	if err != nil {
		return Agent{}, err
	}
	c := checker{v: v, op: op}
	if err := c.agent(tree, "agent", agentOnly); err != nil {
		return Agent{}, err
	}
	return agentFrom(tree.(map[string]any)), nil
}

// Person is the Person object of the Agents resource (xAPI Communication
// §2.4): everything known about one person, each property a list.
type Person struct {
	Name        []string
	Mbox        []string
	MboxSHA1Sum []string
	OpenID      []string
	Account     []Account
}

// Person returns the Person holding only what a says (XAPI-00248): its name
// and its inverse functional identifier.
func (a Agent) Person() Person {
	var p Person
	if a.Name != "" {
		p.Name = []string{a.Name}
	}
	switch {
	case a.Mbox != "":
		p.Mbox = []string{a.Mbox}
	case a.MboxSHA1Sum != "":
		p.MboxSHA1Sum = []string{a.MboxSHA1Sum}
	case a.OpenID != "":
		p.OpenID = []string{a.OpenID}
	case a.Account != nil:
		p.Account = []Account{*a.Account}
	}
	return p
}

// MarshalJSON encodes p with objectType "Person", leaving out empty lists.
func (p Person) MarshalJSON() ([]byte, error) {
	m := map[string]any{"objectType": "Person"}
	add := func(k string, vs []string) {
		if len(vs) > 0 {
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			m[k] = l
		}
	}
	add("name", p.Name)
	add("mbox", p.Mbox)
	add("mbox_sha1sum", p.MboxSHA1Sum)
	add("openid", p.OpenID)
	if len(p.Account) > 0 {
		l := make([]any, len(p.Account))
		for i, a := range p.Account {
			l[i] = map[string]any{"homePage": a.HomePage, "name": a.Name}
		}
		m["account"] = l
	}
	return encodeJSON(m)
}
