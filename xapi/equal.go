package xapi

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// comparable builds the form of a statement tree compared by Equal (xAPI
// Data §2.3.1): the properties the LRS fills in (top level only), Activity
// definitions, Verb display and attachments are left out; Group members are
// sorted; case-insensitive values are lower-cased; numbers are compared by
// value, durations to 0.01 s and SubStatement timestamps by instant.
func comparable(m map[string]any, top bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case "id", "authority", "stored", "version":
			if !top {
				out[k] = v
			}
		case "timestamp":
			if !top {
				if t := instant(v); !t.IsZero() {
					out[k] = t.UTC().Format("2006-01-02T15:04:05.999999999Z")
				} else {
					out[k] = v
				}
			}
		case "attachments":
		case "actor":
			out[k] = cmpAgent(v)
		case "verb":
			out[k] = map[string]any{"id": obj(v)["id"]}
		case "object":
			out[k] = cmpObject(v)
		case "result":
			out[k] = cmpResult(v)
		case "context":
			out[k] = cmpContext(v)
		default: // objectType of a SubStatement
			out[k] = cmpValue(v)
		}
	}
	return out
}

func cmpAgent(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return cmpValue(v)
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		switch k {
		case "objectType":
			if x != "Agent" {
				out[k] = x
			}
		case "mbox":
			out[k] = canonicalMbox(str(x))
		case "mbox_sha1sum":
			out[k] = strings.ToLower(str(x))
		case "member":
			ms := list(x)
			cm := make([]any, len(ms))
			keys := make([]string, len(ms))
			for i, mm := range ms {
				cm[i] = cmpAgent(mm)
				b, _ := encodeJSON(cm[i])
				keys[i] = string(b)
			}
			sort.Sort(byKey{cm, keys})
			out[k] = cm
		default:
			out[k] = cmpValue(x)
		}
	}
	return out
}

type byKey struct {
	v    []any
	keys []string
}

func (b byKey) Len() int           { return len(b.v) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.v[i], b.v[j] = b.v[j], b.v[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

func cmpActivity(v any) any {
	m := obj(v)
	return map[string]any{"id": m["id"]}
}

func cmpRef(v any) any {
	m := obj(v)
	return map[string]any{"objectType": "StatementRef", "id": strings.ToLower(str(m["id"]))}
}

func cmpObject(v any) any {
	m := obj(v)
	switch str(m["objectType"]) {
	case "", "Activity":
		return cmpActivity(v)
	case "Agent", "Group":
		return cmpAgent(v)
	case "StatementRef":
		return cmpRef(v)
	}
	return comparable(m, false)
}

func cmpResult(v any) any {
	m := obj(v)
	out := make(map[string]any, len(m))
	for k, x := range m {
		if k == "duration" {
			out[k] = durationKey(str(x))
			continue
		}
		out[k] = cmpValue(x)
	}
	return out
}

func cmpContext(v any) any {
	m := obj(v)
	out := make(map[string]any, len(m))
	for k, x := range m {
		switch k {
		case "registration", "language":
			out[k] = strings.ToLower(str(x))
		case "instructor", "team":
			out[k] = cmpAgent(x)
		case "statement":
			out[k] = cmpRef(x)
		case "contextActivities":
			ca := obj(x)
			cc := make(map[string]any, len(ca))
			for kind, acts := range ca {
				l := list(acts)
				al := make([]any, len(l))
				for i, a := range l {
					al[i] = cmpActivity(a)
				}
				cc[kind] = al
			}
			out[k] = cc
		case "contextAgents", "contextGroups":
			l := list(x)
			cl := make([]any, len(l))
			for i, e := range l {
				em := obj(e)
				ce := make(map[string]any, len(em))
				for ek, ev := range em {
					if ek == "agent" || ek == "group" {
						ce[ek] = cmpAgent(ev)
					} else {
						ce[ek] = cmpValue(ev)
					}
				}
				cl[i] = ce
			}
			out[k] = cl
		default:
			out[k] = cmpValue(x)
		}
	}
	return out
}

// cmpValue copies a JSON value with numbers in one canonical text.
func cmpValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) {
			return v
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cmpValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cmpValue(x)
		}
		return out
	}
	return v
}
