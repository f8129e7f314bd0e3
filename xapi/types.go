package xapi

import (
	"mime"
	"strings"
)

// This file holds the checks of the xAPI data types (xAPI Data §4): IRIs,
// UUIDs, RFC 5646 language tags, mailto IRIs, SHA-1 hex and ISO 8601
// durations. Timestamps are in time.go.

// IsIRI reports whether s looks like an absolute IRI (see isIRI); policy
// data uses it for the verbs and activity types purposes match.
func IsIRI(s string) bool { return isIRI(s) }

// isIRI reports whether s looks like an absolute IRI (RFC 3987): a scheme
// (RFC 3986 §3.1), a colon and a non-empty rest free of white space, control
// characters and the characters IRIs never hold unescaped. It is best-effort
// (xAPI Data §4.1.2 allows that); it is also used for IRLs and URIs.
func isIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon == len(s)-1 {
		return false
	}
	for i := 0; i < colon; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	for _, r := range s[colon+1:] {
		switch {
		case r <= ' ', r == 0x7f, 0x80 <= r && r <= 0x9f:
			return false
		case strings.ContainsRune("<>\"{}|\\^`", r):
			return false
		case r == 0xfffd: // replacement of an invalid escape or byte
			return false
		}
	}
	return true
}

// isUUID reports whether s is a UUID in the 8-4-4-4-12 hex form. Any
// version and variant is accepted (xAPI Data §4.5 only recommends variant 2).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isSHA1Hex reports whether s is 40 hexadecimal digits.
func isSHA1Hex(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isMailto reports whether s is "mailto:" and an address local@domain.
func isMailto(s string) bool {
	addr, ok := strings.CutPrefix(s, "mailto:")
	if !ok {
		return false
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 1 || at == len(addr)-1 {
		return false
	}
	for _, r := range addr {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("<>\"(),;[\\]", r) {
			return false
		}
	}
	return !strings.ContainsAny(addr[at+1:], "@")
}

// canonicalMbox lower-cases the domain of a mailto IRI, which is
// case-insensitive (xAPI Data §2.3.1); the local part is kept.
func canonicalMbox(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	dom := s[at+1:]
	if strings.ToLower(dom) == dom {
		return s
	}
	return s[:at+1] + strings.ToLower(dom)
}

// isLangTag reports whether s is a well-formed RFC 5646 language tag: the
// subtag order and lengths of §2.1 are checked, the registry is not.
func isLangTag(s string) bool {
	if s == "" {
		return false
	}
	parts := strings.Split(s, "-")
	for _, p := range parts {
		if len(p) < 1 || len(p) > 8 || !isAlnum(p) {
			return false
		}
	}
	first := strings.ToLower(parts[0])
	switch {
	case first == "x": // privateuse
		return len(parts) > 1
	case first == "i": // irregular grandfathered: i-klingon, i-default, …
		return len(parts) == 2 && len(parts[1]) >= 3
	case !isAlpha(parts[0]) || len(parts[0]) == 1:
		return false
	}
	i := 1
	if len(parts[0]) <= 3 { // extlang: up to three 3-letter subtags
		for n := 0; n < 3 && i < len(parts) && len(parts[i]) == 3 && isAlpha(parts[i]); n++ {
			i++
		}
	}
	if i < len(parts) && len(parts[i]) == 4 && isAlpha(parts[i]) { // script
		i++
	}
	if i < len(parts) && (len(parts[i]) == 2 && isAlpha(parts[i]) || len(parts[i]) == 3 && isDigit(parts[i])) { // region
		i++
	}
	for i < len(parts) && (len(parts[i]) >= 5 || len(parts[i]) == 4 && '0' <= parts[i][0] && parts[i][0] <= '9') { // variant
		i++
	}
	seen := map[string]bool{}
	for i < len(parts) && len(parts[i]) == 1 { // extensions and privateuse
		single := strings.ToLower(parts[i])
		if single == "x" {
			return len(parts) > i+1
		}
		if seen[single] {
			return false
		}
		seen[single] = true
		i++
		n := 0
		for i < len(parts) && len(parts[i]) >= 2 {
			i++
			n++
		}
		if n == 0 {
			return false
		}
	}
	return i == len(parts)
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z') {
			return false
		}
	}
	return true
}

// isMediaType reports whether s is an Internet media type (RFC 2046), with
// optional parameters.
func isMediaType(s string) bool {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return false
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && slash < len(mt)-1
}

// isDuration reports whether s is an ISO 8601:2004 §4.4.3.2 duration as xAPI
// Data §4.6 allows: PnYnMnDTnHnMnS with at least one component, or PnW
// alone. Only the last component may carry a decimal fraction.
func isDuration(s string) bool {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return false
	}
	if w, ok := strings.CutSuffix(rest, "W"); ok {
		return isDecimal(w)
	}
	date, tm, hasT := strings.Cut(rest, "T")
	if hasT && tm == "" {
		return false
	}
	n, frac := 0, false
	scan := func(part, units string) bool {
		for part != "" {
			if frac { // a fraction must be on the last component
				return false
			}
			i := strings.IndexAny(part, units)
			if i < 0 {
				return false
			}
			num, u := part[:i], part[i]
			if !isDecimal(num) {
				return false
			}
			frac = strings.ContainsAny(num, ".,")
			j := strings.IndexByte(units, u)
			units = units[j+1:] // units in order, each once
			part = part[i+1:]
			n++
		}
		return true
	}
	if !scan(date, "YMD") || !scan(tm, "HMS") {
		return false
	}
	return n > 0
}

// isDecimal reports whether s is digits with an optional fraction ("1",
// "1.5", "1,5"); at least one digit before the separator, one after it.
func isDecimal(s string) bool {
	i := strings.IndexAny(s, ".,")
	if i < 0 {
		return s != "" && isDigit(s)
	}
	return i > 0 && isDigit(s[:i]) && i < len(s)-1 && isDigit(s[i+1:])
}

// durationKey reports the form of a duration compared under xAPI Data §2.3.1:
// a decimal comma becomes a point, the seconds are truncated to 0.01 s and
// trailing fraction zeros are dropped.
func durationKey(s string) string {
	s = strings.ReplaceAll(s, ",", ".")
	if !strings.HasSuffix(s, "S") {
		return s
	}
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return s
	}
	frac := s[dot+1 : len(s)-1]
	if len(frac) > 2 {
		frac = frac[:2]
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return s[:dot] + "S"
	}
	return s[:dot+1] + frac + "S"
}
