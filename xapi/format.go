package xapi

import (
	"sort"
	"strconv"
	"strings"
)

// This file builds the ids and canonical forms of xAPI Communication §2.1.3.
// Both work on a deep copy of the stored tree.

// deepCopy copies the maps and slices of a tree; leaves are shared.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// idsForm keeps only what identifies Agents and Groups (their IFI; for an
// Anonymous Group its members), Activities ({objectType?, id}) and Verbs
// ({id}); the rest of the statement is kept.
func idsForm(m map[string]any) map[string]any {
	out := deepCopy(m).(map[string]any)
	idsStatement(out)
	return out
}

func idsStatement(m map[string]any) {
	if a, ok := m["actor"]; ok {
		m["actor"] = idsAgent(a)
	}
	if a, ok := m["authority"]; ok {
		m["authority"] = idsAgent(a)
	}
	if v, ok := m["verb"].(map[string]any); ok {
		m["verb"] = map[string]any{"id": v["id"]}
	}
	if o, ok := m["object"].(map[string]any); ok {
		switch str(o["objectType"]) {
		case "", "Activity":
			m["object"] = idsActivity(o)
		case "Agent", "Group":
			m["object"] = idsAgent(o)
		case "SubStatement":
			idsStatement(o)
		}
	}
	ctx := obj(m["context"])
	if ctx == nil {
		return
	}
	for _, k := range []string{"instructor", "team"} {
		if a, ok := ctx[k]; ok {
			ctx[k] = idsAgent(a)
		}
	}
	for _, l := range obj(ctx["contextActivities"]) {
		for i, a := range list(l) {
			if al, ok := l.([]any); ok {
				al[i] = idsActivity(obj(a))
			}
		}
	}
	for _, kv := range [][2]string{{"contextAgents", "agent"}, {"contextGroups", "group"}} {
		for _, e := range list(ctx[kv[0]]) {
			if em := obj(e); em != nil {
				em[kv[1]] = idsAgent(em[kv[1]])
			}
		}
	}
}

// idsActivity keeps only an Activity's id (XAPI-00171); objectType
// "Activity" is the default and no identifier.
func idsActivity(a map[string]any) map[string]any {
	return map[string]any{"id": a["id"]}
}

func idsAgent(v any) any {
	a := obj(v)
	if a == nil {
		return v
	}
	out := map[string]any{}
	if ot, ok := a["objectType"]; ok {
		out["objectType"] = ot
	}
	ifi := false
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
		if x, ok := a[k]; ok {
			out[k] = x
			ifi = true
		}
	}
	if !ifi {
		ms := list(a["member"])
		om := make([]any, len(ms))
		for i, x := range ms {
			om[i] = idsAgent(x)
		}
		out["member"] = om
	}
	return out
}

// canonicalForm is the exact form with every language map of Activity
// definitions (name, description, interaction component descriptions) and of
// Verb display reduced to the one entry best matching langs.
func canonicalForm(m map[string]any, langs []string) map[string]any {
	out := deepCopy(m).(map[string]any)
	canonStatement(out, langs)
	return out
}

func canonStatement(m map[string]any, langs []string) {
	if v := obj(m["verb"]); v != nil {
		if d, ok := v["display"].(map[string]any); ok {
			v["display"] = pickLang(d, langs)
		}
	}
	o := obj(m["object"])
	switch str(o["objectType"]) {
	case "", "Activity":
		canonActivity(o, langs)
	case "SubStatement":
		canonStatement(o, langs)
	}
	for _, l := range obj(obj(m["context"])["contextActivities"]) {
		for _, a := range list(l) {
			canonActivity(obj(a), langs)
		}
	}
}

func canonActivity(a map[string]any, langs []string) {
	d := obj(a["definition"])
	if d == nil {
		return
	}
	for _, k := range []string{"name", "description"} {
		if lm, ok := d[k].(map[string]any); ok {
			d[k] = pickLang(lm, langs)
		}
	}
	for _, k := range componentLists {
		for _, c := range list(d[k]) {
			cm := obj(c)
			if lm, ok := cm["description"].(map[string]any); ok {
				cm["description"] = pickLang(lm, langs)
			}
		}
	}
}

// pickLang reduces a language map to its entry best matching langs.
func pickLang(lm map[string]any, langs []string) map[string]any {
	if len(lm) <= 1 {
		return lm
	}
	k := BestLanguage(keysOf(lm), langs)
	return map[string]any{k: lm[k]}
}

func keysOf(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// BestLanguage reports which of the language tags have (the keys of a
// language map) best matches the Accept-Language ranges want, in preference
// order ("en-GB", "fr;q=0.5" and "*" are understood; the list is taken as
// already sorted by q, and a range with q=0 is skipped). Matching follows the
// RFC 4647 §3.4 lookup, case-insensitively: a range matches a tag equal to it,
// then a tag it is a prefix of, then the range is truncated. Without a match
// it falls back to "und", then "en-US", then "en", then the first tag in
// sorted order. It reports "" when have is empty.
func BestLanguage(have, want []string) string {
	if len(have) == 0 {
		return ""
	}
	sorted := append([]string(nil), have...)
	sort.Strings(sorted)
	find := func(tag string) string {
		for _, h := range sorted {
			if strings.EqualFold(h, tag) {
				return h
			}
		}
		return ""
	}
	for _, w := range want {
		w = strings.TrimSpace(w)
		if i := strings.IndexByte(w, ';'); i >= 0 {
			param := strings.ReplaceAll(w[i+1:], " ", "")
			if q, ok := strings.CutPrefix(param, "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue // q=0: not acceptable
				}
			}
			w = strings.TrimSpace(w[:i])
		}
		if w == "" {
			continue
		}
		if w == "*" {
			return sorted[0]
		}
		for r := w; r != ""; {
			if h := find(r); h != "" {
				return h
			}
			for _, h := range sorted {
				if len(h) > len(r) && strings.EqualFold(h[:len(r)], r) && h[len(r)] == '-' {
					return h
				}
			}
			i := strings.LastIndexByte(r, '-')
			if i < 0 {
				break
			}
			r = r[:i]
			if len(r) >= 2 && r[len(r)-2] == '-' { // drop a singleton left at the end
				r = r[:len(r)-2]
			}
		}
	}
	for _, f := range []string{"und", "en-US", "en"} {
		if h := find(f); h != "" {
			return h
		}
	}
	return sorted[0]
}
