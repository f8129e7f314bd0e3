package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// parseLine parses an entries-file line (without its newline).
func parseLine(b []byte) (storedLine, tlog.Hash, error) {
	var sl storedLine
	if err := json.Unmarshal(b, &sl); err != nil {
		return sl, tlog.Hash{}, errMalformedLine
	}
	if len(sl.Commitment) != tlog.HashSize || (len(sl.Sealed) > 0 && sl.Bucket == "") {
		return sl, tlog.Hash{}, errMalformedLine
	}
	// Only the canonical encoding is accepted, so that no byte of a line
	// can change unnoticed (encoding/json alone accepts "Commitment" for
	// "commitment", spaces, and more).
	if canon, err := json.Marshal(sl); err != nil || !bytes.Equal(canon, b) {
		return sl, tlog.Hash{}, errMalformedLine
	}
	return sl, tlog.Hash(sl.Commitment), nil
}

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
