package xapi

import (
	"strings"
	"time"
)

// This file holds what the LRS's privacy governance needs of a statement:
// what was recorded about its processing when it was stored (Recorded), and
// the two rewrites a policy may ask for — dropping fields before storing
// (Without, data minimisation) and hiding fields from a reader (Masked).

// Recorded is what the LRS recorded about a statement's processing when it
// stored it: the purpose it was collected for, that purpose's legal basis,
// and when its retention ends. It is not part of the statement's JSON:
// MarshalJSON, Format and Equal ignore it.
type Recorded struct {
	Purpose    string
	LegalBasis string
	// RetentionDays is set by the writer: the retention window counted from
	// stored; 0 keeps the statement without limit. The store turns it into
	// Expires when it sets stored.
	RetentionDays int
	// Expires is when the retention ends (zero: never). Set by the store.
	Expires time.Time
}

// Recorded reports what was recorded about s's processing (zero when
// nothing was).
func (s *Statement) Recorded() Recorded { return s.rec }

// SetRecorded sets what is recorded about s's processing.
func (s *Statement) SetRecorded(r Recorded) { s.rec = r }

// MaskedValue replaces a masked string value; see Masked.
const MaskedValue = "[masked]"

// Without returns a copy of s without the values at paths, and whether any
// was there. A path is a dot-separated list of object keys from the top of
// the statement ("result.response", "context.extensions"); where a path
// crosses an array, the rest of it applies to each element. A path naming
// something absent changes nothing. s itself is left unchanged.
func (s *Statement) Without(paths []string) (*Statement, bool) {
	out := &Statement{m: deepCopy(s.m).(map[string]any), rec: s.rec}
	changed := false
	for _, p := range paths {
		if p == "" {
			continue
		}
		if rewrite(out.m, strings.Split(p, "."), func(m map[string]any, k string) { delete(m, k) }) {
			changed = true
		}
	}
	return out, changed
}

// Masked returns a copy of s in which the values at paths (as for Without)
// are hidden from the reader: a string value is replaced by MaskedValue, so
// that a field such as result.response keeps its type; any other value
// (object, array, number, boolean) is removed, since a marker would break
// the type xAPI requires of it. s itself is left unchanged.
func (s *Statement) Masked(paths []string) *Statement {
	out := &Statement{m: deepCopy(s.m).(map[string]any), rec: s.rec}
	for _, p := range paths {
		if p == "" {
			continue
		}
		rewrite(out.m, strings.Split(p, "."), func(m map[string]any, k string) {
			if _, ok := m[k].(string); ok {
				m[k] = MaskedValue
			} else {
				delete(m, k)
			}
		})
	}
	return out
}

// rewrite applies fn to the parent object and key of each value path names
// under v, and reports whether there was one.
func rewrite(v any, path []string, fn func(map[string]any, string)) bool {
	switch v := v.(type) {
	case []any:
		found := false
		for _, x := range v {
			if rewrite(x, path, fn) {
				found = true
			}
		}
		return found
	case map[string]any:
		x, ok := v[path[0]]
		if !ok {
			return false
		}
		if len(path) == 1 {
			fn(v, path[0])
			return true
		}
		return rewrite(x, path[1:], fn)
	}
	return false
}

// Fields reports the paths (as Without takes them) of the object members of
// s, down to depth levels: "result", "result.response", "context",
// "context.extensions", …. Arrays are not descended into, nor are
// extensions and language maps, whose keys are data rather than field names.
// A policy compares the paths it would remove against these.
func (s *Statement) Fields(depth int) []string {
	var out []string
	var walk func(m map[string]any, prefix string, d int)
	walk = func(m map[string]any, prefix string, d int) {
		for _, k := range keysOf(m) {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = append(out, p)
			if d > 1 && !isOpaque(k) {
				if c, ok := m[k].(map[string]any); ok {
					walk(c, p, d-1)
				}
			}
		}
	}
	walk(s.m, "", depth)
	return out
}

// isOpaque reports whether the members of the object under key k are data
// (extension IRIs, language tags) rather than field names.
func isOpaque(k string) bool {
	switch k {
	case "extensions", "display", "name", "description":
		return true
	}
	return false
}

// Signed reports whether s carries a signature attachment (xAPI Data §2.6).
// Changing any signed part of s would break that signature.
func (s *Statement) Signed() bool {
	for _, a := range s.Attachments() {
		if a.UsageType == UsageSignature {
			return true
		}
	}
	return false
}

// UsageSignature is the attachment usageType of a statement signature
// (xAPI Data §2.6).
const UsageSignature = "http://adlnet.gov/expapi/attachments/signature"

// Type reports the activity type of a's definition ("" when none).
func (a Activity) Type() string { return str(a.def["type"]) }
