package xapi

import (
	"strings"
	"time"
)

// timestamp is a parsed xAPI timestamp (xAPI Data §4.5; 2.0 §4.2.7).
type timestamp struct {
	t    time.Time // the instant; a time without zone is taken as UTC
	text string    // the form to store
}

// parseTimestamp parses an ISO 8601 date and time,
//
//	YYYY-MM-DDThh:mm:ss[.fraction][Z | ±hh[[:]mm]]
//
// with a leap second (ss = 60) allowed. The "unknown offset" forms -00,
// -0000 and -00:00 (RFC 3339 §4.3) are rejected. Under 1.0.3 a time without
// zone is accepted (the spec only recommends one) and the text is kept as
// received. Under 2.0 a zone is required (RFC 3339) and a time with a
// numeric offset is stored converted to UTC ("Z"), the same instant with the
// same fraction digits. The second result is a client-safe reason.
func parseTimestamp(s string, v Version) (timestamp, string) {
	const bad = "must be an ISO 8601 timestamp (YYYY-MM-DDThh:mm:ss[.fff]Z or ±hh:mm)"
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != 't' || s[13] != ':' || s[16] != ':' {
		return timestamp{}, bad
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, min, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60 {
		return timestamp{}, bad
	}
	rest := s[19:]
	frac := ""
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return timestamp{}, bad
		}
		frac, rest = rest[1:i], rest[i:]
	}
	nanos := 0
	for i := 0; i < 9; i++ {
		nanos *= 10
		if i < len(frac) {
			nanos += int(frac[i] - '0')
		}
	}
	offset, zoned := 0, true
	switch {
	case rest == "":
		zoned = false
	case rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-':
		z := rest[1:]
		var oh, om int
		switch {
		case len(z) == 2:
			oh, om = num(len(s)-2, len(s)), 0
		case len(z) == 4:
			oh, om = num(len(s)-4, len(s)-2), num(len(s)-2, len(s))
		case len(z) == 5 && z[2] == ':':
			oh, om = num(len(s)-5, len(s)-3), num(len(s)-2, len(s))
		default:
			return timestamp{}, bad
		}
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return timestamp{}, bad
		}
		if oh == 0 && om == 0 && rest[0] == '-' {
			return timestamp{}, "must not use the unknown-offset form -00:00 (RFC 3339 §4.3)"
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return timestamp{}, bad
	}
	if !zoned && v == V200 {
		return timestamp{}, "must include a time zone offset (RFC 3339)"
	}
	leap := sec == 60
	if leap {
		sec = 59
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nanos, time.FixedZone("", offset))
	ts := timestamp{t: t.UTC(), text: s}
	if v == V200 && offset != 0 || v == V200 && len(rest) > 1 {
		u := t.UTC()
		if u.Year() < 0 || u.Year() > 9999 {
			return timestamp{}, "is out of range once converted to UTC"
		}
		b := u.AppendFormat(make([]byte, 0, 32), "2006-01-02T15:04:05")
		if leap {
			b[17], b[18] = '6', '0'
		}
		if frac != "" {
			b = append(append(b, '.'), frac...)
		}
		ts.text = string(append(b, 'Z'))
	}
	if leap {
		ts.t = ts.t.Add(time.Second) // 23:59:60 is the instant 00:00:00 next day
	}
	return ts, ""
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// FormatStored formats t as the LRS writes stored and generated timestamps:
// UTC with millisecond precision.
func FormatStored(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
