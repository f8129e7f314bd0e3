package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A checkpoint's note text has four lines, in the layout of
// tlog.FormatTree (and of the C2SP tlog-checkpoint format) with the log's
// own origin line and one extension line:
//
//	custodia.audit/1a2b3c4d       origin: the log, by its key hash (hex)
//	12                            tree size, decimal
//	<base64 root hash>            RFC 6962 tree hash, 44 characters
//	commit 7                      the checkpoint's number: the 8th signed
//
// Every committed batch gets the next number, so a checkpoint removed from
// the middle of the checkpoints file leaves a gap that Verify finds.
// tlog.FormatTree writes a fixed "go.sum database tree" origin, which
// would make every tlog checkpoint look alike; so the text is formatted
// and parsed here, and signed and opened with note as usual.

// originPrefix starts the origin line of every Custodia audit log.
const originPrefix = "custodia.audit/"

// Origin returns the origin line (without its newline) of the checkpoints
// of the log whose note verifier key is vkey.
func Origin(vkey string) (string, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", err
	}
	return origin(v), nil
}

func origin(v note.Verifier) string { return fmt.Sprintf("%s%08x", originPrefix, v.KeyHash()) }

// formatCheckpoint returns the note text of checkpoint number seq of tree t.
func formatCheckpoint(origin string, t tlog.Tree, seq int64) string {
	return fmt.Sprintf("%s\n%d\n%s\ncommit %d\n", origin, t.N, t.Hash, seq)
}

var errCheckpointText = errors.New("malformed checkpoint text")

// ParseCheckpoint parses the text of a checkpoint note of the log with the
// given origin line (see Origin), as note.Open returns it, into its tree
// and its number. It accepts only the exact text the log writes.
func ParseCheckpoint(text, origin string) (tree tlog.Tree, seq int64, err error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) != 5 || lines[4] != "" {
		return tlog.Tree{}, 0, errCheckpointText
	}
	if lines[0] != origin+"\n" {
		return tlog.Tree{}, 0, fmt.Errorf("checkpoint of another log: origin %q, want %q", strings.TrimSuffix(lines[0], "\n"), origin)
	}
	n, ok := parseDecimal(strings.TrimSuffix(lines[1], "\n"))
	if !ok {
		return tlog.Tree{}, 0, errCheckpointText
	}
	h64 := strings.TrimSuffix(lines[2], "\n")
	if len(h64) != commitmentB64 {
		return tlog.Tree{}, 0, errCheckpointText
	}
	hb, err := strictB64.DecodeString(h64)
	if err != nil || len(hb) != tlog.HashSize {
		return tlog.Tree{}, 0, errCheckpointText
	}
	num, ok := strings.CutPrefix(strings.TrimSuffix(lines[3], "\n"), "commit ")
	if !ok {
		return tlog.Tree{}, 0, errCheckpointText
	}
	seq, ok = parseDecimal(num)
	if !ok {
		return tlog.Tree{}, 0, errCheckpointText
	}
	return tlog.Tree{N: n, Hash: tlog.Hash(hb)}, seq, nil
}

// parseDecimal parses a canonical non-negative decimal: digits only, no
// leading zero.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// openCheckpointNote checks a signed checkpoint with known and parses it;
// the log's key v must be among the signers.
func openCheckpointNote(msg []byte, v note.Verifier, known note.Verifiers) (*note.Note, tlog.Tree, int64, error) {
	n, err := note.Open(msg, known)
	if err != nil {
		return nil, tlog.Tree{}, 0, err
	}
	if !signedBy(n, v) {
		return nil, tlog.Tree{}, 0, fmt.Errorf("not signed by the log's key %s", v.Name())
	}
	t, seq, err := ParseCheckpoint(n.Text, origin(v))
	if err != nil {
		return nil, tlog.Tree{}, 0, err
	}
	return n, t, seq, nil
}

func signedBy(n *note.Note, v note.Verifier) bool {
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return true
		}
	}
	return false
}
