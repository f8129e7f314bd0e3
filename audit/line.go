package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

const (
	saltSize     = 32
	bucketLayout = "2006-01" // entry bodies are sealed under one key per month
)

// storedLine is one line of the entries file: the leaf's commitment, and
// the sealed body it commits to, which may be gone (expired or erased).
type storedLine struct {
	Commitment []byte `json:"commitment"`       // SHA-256(salt || canonical JSON of the entry): the tlog record data
	Bucket     string `json:"bucket,omitempty"` // month of the entry: which key seals the body
	Sealed     []byte `json:"sealed,omitempty"` // Sealer.Seal(salt || canonical JSON of the entry)
}

var errMalformedLine = errors.New("malformed entry line")

// parseLine parses an entries-file line (without its newline). Only the
// exact encoding json.Marshal gives a storedLine is accepted, so that no
// byte of a line can change unnoticed (encoding/json alone would accept
// "Commitment" for "commitment", spaces, and more); it is parsed by hand,
// as Verify reads every line.
func parseLine(b []byte) (storedLine, tlog.Hash, error) {
	var sl storedLine
	bad := func() (storedLine, tlog.Hash, error) { return storedLine{}, tlog.Hash{}, errMalformedLine }
	rest, ok := bytes.CutPrefix(b, []byte(`{"commitment":"`))
	if !ok || len(rest) < commitmentB64+2 || bytes.IndexByte(b, '\r') >= 0 {
		return bad()
	}
	var c tlog.Hash
	var buf [tlog.HashSize + 1]byte
	if n, err := strictB64.Decode(buf[:], rest[:commitmentB64]); err != nil || n != tlog.HashSize {
		return bad()
	}
	copy(c[:], buf[:tlog.HashSize])
	sl.Commitment = c[:]
	rest = rest[commitmentB64:]
	if string(rest) == `"}` {
		return sl, c, nil
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`","bucket":"`)); !ok || len(rest) < len(bucketLayout) {
		return bad()
	}
	bucket := rest[:len(bucketLayout)]
	for k, ch := range bucket {
		if k == 4 && ch != '-' || k != 4 && (ch < '0' || ch > '9') {
			return bad()
		}
	}
	sl.Bucket = string(bucket)
	rest, ok = bytes.CutPrefix(rest[len(bucketLayout):], []byte(`","sealed":"`))
	if !ok {
		return bad()
	}
	enc, ok := bytes.CutSuffix(rest, []byte(`"}`))
	if !ok || len(enc) == 0 {
		return bad()
	}
	sealed := make([]byte, strictB64.DecodedLen(len(enc)))
	n, err := strictB64.Decode(sealed, enc)
	if err != nil {
		return bad()
	}
	sl.Sealed = sealed[:n]
	return sl, c, nil
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
	bodyErased                   // removed, or its key destroyed
	bodyDamaged                  // does not open, or does not match its commitment
)

// openBody opens the body of sl and checks it against c. It returns the
// salt and the canonical JSON of the entry when the body is intact.
func openBody(ctx context.Context, s Sealer, erased func(error) bool, sl storedLine, c tlog.Hash) (salt, body []byte, st bodyState, why string) {
	if len(sl.Sealed) == 0 {
		return nil, nil, bodyErased, "body removed"
	}
	plain, err := s.Open(ctx, sealSubject(sl.Bucket), sealRecordID(c), sl.Sealed)
	if err != nil {
		if erased(err) {
			return nil, nil, bodyErased, "body's key destroyed"
		}
		return nil, nil, bodyDamaged, fmt.Sprintf("sealed body does not open (%v): body altered or moved", err)
	}
	if len(plain) < saltSize || tlog.Hash(sha256.Sum256(plain)) != c {
		return nil, nil, bodyDamaged, "body does not match its commitment"
	}
	return plain[:saltSize], plain[saltSize:], bodyOK, ""
}
