package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

const (
	saltSize     = 32
	bucketLayout = "2006-01" // entry bodies are sealed under one key per month
)

// storedLine is one line of the entries file. An entry line holds the
// leaf's commitment, the month whose key seals its body, and the sealed
// body (absent once the month was erased and its bodies dropped). An
// erasure line (Erase set, nothing else) records that a month's key was
// destroyed on purpose.
type storedLine struct {
	Commitment []byte `json:"commitment,omitempty"` // SHA-256(salt || canonical JSON of the entry)
	Bucket     string `json:"bucket,omitempty"`     // month of the entry: which key seals the body
	Sealed     []byte `json:"sealed,omitempty"`     // Sealer.Seal(salt || canonical JSON of the entry)
	Erase      string `json:"erase,omitempty"`      // an erasure line: the month erased

	hasBody bool // the line has a sealed body
}

// isErasure reports whether sl is an erasure line.
func (sl storedLine) isErasure() bool { return sl.Erase != "" }

// commitment returns the entry's commitment as a hash.
func (sl storedLine) commitment() tlog.Hash { return tlog.Hash(sl.Commitment) }

// appendRecord appends the record data of sl (what tlog.RecordHash hashes
// into the leaf) to dst:
//
//	entry 2026-03 <base64 commitment>\n
//	erase 2026-03\n
//
// The month is part of the leaf, so a line cannot be moved to another
// month's key without changing its leaf hash.
func appendRecord(dst []byte, sl storedLine) []byte {
	if sl.isErasure() {
		dst = append(dst, "erase "...)
		dst = append(dst, sl.Erase...)
		return append(dst, '\n')
	}
	dst = append(dst, "entry "...)
	dst = append(dst, sl.Bucket...)
	dst = append(dst, ' ')
	dst = strictB64.AppendEncode(dst, sl.Commitment)
	return append(dst, '\n')
}

// entryRecord returns the record data of an entry of month bucket with
// commitment c.
func entryRecord(bucket string, c tlog.Hash) []byte {
	return appendRecord(nil, storedLine{Commitment: c[:], Bucket: bucket})
}

var errMalformedLine = errors.New("malformed entry line")

// parseLine parses an entries-file line (without its newline). Only the
// exact encoding json.Marshal gives a storedLine is accepted, so that no
// byte of a line can change unnoticed (encoding/json alone would accept
// "Commitment" for "commitment", spaces, and more); it is parsed by hand,
// as Verify reads every line. The sealed body is decoded into *scratch
// (grown as needed; Sealed then aliases it until the next call) when
// scratch is not nil, else into new memory.
func parseLine(b []byte, scratch *[]byte) (storedLine, error) {
	var sl storedLine
	bad := func() (storedLine, error) { return storedLine{}, errMalformedLine }
	if bytes.IndexByte(b, '\r') >= 0 {
		return bad()
	}
	if rest, ok := bytes.CutPrefix(b, []byte(`{"erase":"`)); ok {
		if len(rest) != len(bucketLayout)+2 || string(rest[len(bucketLayout):]) != `"}` || !validMonth(rest[:len(bucketLayout)]) {
			return bad()
		}
		sl.Erase = string(rest[:len(bucketLayout)])
		return sl, nil
	}
	rest, ok := bytes.CutPrefix(b, []byte(`{"commitment":"`))
	if !ok || len(rest) < commitmentB64+2 {
		return bad()
	}
	var buf [tlog.HashSize + 1]byte
	if n, err := strictB64.Decode(buf[:], rest[:commitmentB64]); err != nil || n != tlog.HashSize {
		return bad()
	}
	sl.Commitment = bytes.Clone(buf[:tlog.HashSize])
	rest = rest[commitmentB64:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`","bucket":"`)); !ok || len(rest) < len(bucketLayout) || !validMonth(rest[:len(bucketLayout)]) {
		return bad()
	}
	sl.Bucket = string(rest[:len(bucketLayout)])
	rest = rest[len(bucketLayout):]
	if string(rest) == `"}` {
		return sl, nil
	}
	rest, ok = bytes.CutPrefix(rest, []byte(`","sealed":"`))
	if !ok {
		return bad()
	}
	enc, ok := bytes.CutSuffix(rest, []byte(`"}`))
	if !ok || len(enc) == 0 {
		return bad()
	}
	var sealed []byte
	if scratch != nil {
		if cap(*scratch) < strictB64.DecodedLen(len(enc)) {
			*scratch = make([]byte, strictB64.DecodedLen(len(enc)))
		}
		sealed = (*scratch)[:strictB64.DecodedLen(len(enc))]
	} else {
		sealed = make([]byte, strictB64.DecodedLen(len(enc)))
	}
	n, err := strictB64.Decode(sealed, enc)
	if err != nil {
		return bad()
	}
	sl.Sealed, sl.hasBody = sealed[:n], true
	return sl, nil
}

// validMonth reports whether b is a month "YYYY-MM" (01 to 12).
func validMonth[T string | []byte](b T) bool {
	if len(b) != len(bucketLayout) || b[4] != '-' {
		return false
	}
	for k := range len(b) {
		if k != 4 && (b[k] < '0' || b[k] > '9') {
			return false
		}
	}
	m, _ := strconv.Atoi(string(b[5:]))
	return m >= 1 && m <= 12
}

// strictB64 is the encoding json.Marshal gives []byte, decoding only its
// canonical form. It is never modified.
var strictB64 = base64.StdEncoding.Strict()

// commitmentB64 is the length of a base64 commitment: 32 bytes, 44 characters.
const commitmentB64 = (tlog.HashSize + 2) / 3 * 4

// sealSubject names the data key of a month's entry bodies.
func sealSubject(bucket string) string { return "audit:" + bucket }

// sealRecordID binds a sealed body to its commitment: a body moved to
// another line does not open.
func sealRecordID(c tlog.Hash) []byte { return []byte("audit-entry:" + hex.EncodeToString(c[:])) }

// bodyState is what became of an entry's body.
type bodyState int

const (
	bodyOK      bodyState = iota // opened and matches its commitment
	bodyGone                     // removed, or its key does not exist (destroyed, or deleted)
	bodyDamaged                  // does not open, or does not match its commitment
)

// openBody opens the body of sl (parsed with its body decoded) and checks
// it against its commitment. It returns the salt and the canonical JSON
// of the entry when the body is intact. Whether a gone body is a lawful
// erasure is for the caller to decide, from the log's erasure lines.
func openBody(ctx context.Context, s Sealer, erased func(error) bool, sl storedLine) (salt, body []byte, st bodyState, why string) {
	if !sl.hasBody {
		return nil, nil, bodyGone, "body removed"
	}
	c := sl.commitment()
	plain, err := s.Open(ctx, sealSubject(sl.Bucket), sealRecordID(c), sl.Sealed)
	if err != nil {
		if erased(err) {
			return nil, nil, bodyGone, fmt.Sprintf("the key of month %s does not exist", sl.Bucket)
		}
		return nil, nil, bodyDamaged, fmt.Sprintf("sealed body does not open (%v): body altered or moved", err)
	}
	if len(plain) < saltSize || tlog.Hash(sha256.Sum256(plain)) != c {
		return nil, nil, bodyDamaged, "body does not match its commitment"
	}
	return plain[:saltSize], plain[saltSize:], bodyOK, ""
}
