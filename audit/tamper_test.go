package audit_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custodia/audit"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The tests below edit the files the package documentation describes, as an
// attacker (or a crash) would.

func path(dir, name string) string { return filepath.Join(dir, name) }

func readLines(t testing.TB, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path(dir, "entries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func writeLines(t testing.TB, dir string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path(dir, "entries.jsonl"), bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFrames(t testing.TB, dir, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var notes [][]byte
	for len(b) >= 4 {
		n := binary.BigEndian.Uint32(b)
		notes = append(notes, b[4:4+n])
		b = b[4+n:]
	}
	return notes
}

func writeFrames(t testing.TB, dir, name string, notes [][]byte) {
	t.Helper()
	var b []byte
	for _, n := range notes {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	if err := os.WriteFile(path(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// resign re-signs the text of each checkpoint with another key.
func resign(t testing.TB, notes [][]byte) (out [][]byte, vkey string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "custodia-audit")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		text, _, _ := bytes.Cut(n, []byte("\n\n"))
		signed, err := note.Sign(&note.Note{Text: string(text) + "\n"}, s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, signed)
	}
	return out, vkey
}

// rewriteHashes recomputes the whole stored-hash file from the entries'
// commitments.
func rewriteHashes(t testing.TB, dir string) {
	t.Helper()
	var hashes []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, line := range readLines(t, dir) {
		hs, err := tlog.StoredHashes(int64(i), record(decodeLine(t, line)), r)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	var b []byte
	for _, h := range hashes {
		b = append(b, h[:]...)
	}
	if err := os.WriteFile(path(dir, "hashes"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// storedLine is a line of entries.jsonl as the package documents it.
type storedLine struct {
	Commitment []byte `json:"commitment,omitempty"`
	Bucket     string `json:"bucket,omitempty"`
	Sealed     []byte `json:"sealed,omitempty"`
	Erase      string `json:"erase,omitempty"`
}

// record returns the record data of a line as the package documents it.
func record(sl storedLine) []byte {
	if sl.Erase != "" {
		return []byte("erase " + sl.Erase + "\n")
	}
	return []byte("entry " + sl.Bucket + " " + base64.StdEncoding.EncodeToString(sl.Commitment) + "\n")
}

func decodeLine(t testing.TB, line []byte) storedLine {
	t.Helper()
	var sl storedLine
	if err := json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &sl); err != nil {
		t.Fatal(err)
	}
	return sl
}

func encodeLine(t testing.TB, sl storedLine) []byte {
	t.Helper()
	b, err := json.Marshal(sl)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// alterByte changes one byte of line, at offset off past the start of the
// JSON field named field, to another base64 character.
func alterByte(t testing.TB, line []byte, field string, off int) []byte {
	t.Helper()
	at := bytes.Index(line, []byte(`"`+field+`":"`))
	if at < 0 {
		t.Fatalf("line has no %s: %s", field, line)
	}
	at += len(field) + 4 + off
	out := bytes.Clone(line)
	if out[at] == 'A' {
		out[at] = 'B'
	} else {
		out[at] = 'A'
	}
	return out
}

func editFile(t testing.TB, file string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, edit(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipHash(t testing.TB, dir string, index int64) {
	t.Helper()
	editFile(t, path(dir, "hashes"), func(b []byte) []byte {
		b[index*tlog.HashSize+7] ^= 0x80
		return b
	})
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n = 12
	tests := []struct {
		name      string
		tamper    func(t *testing.T, dir string)
		index     int64  // the entry Verify must name, or -1
		reason    string // a word the reason must contain
		openFails bool   // Open must refuse the log too
		keyless   bool   // Verify without the Sealer must find it too
	}{
		{"one byte of the body of entry 5", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[5] = alterByte(t, lines[5], "sealed", 30)
			writeLines(t, dir, lines)
		}, 5, "does not open", false, false},
		{"one byte of the commitment of entry 5", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[5] = alterByte(t, lines[5], "commitment", 3)
			writeLines(t, dir, lines)
		}, 5, "record hash", false, true},
		{"one byte of the commitment of the last entry", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[n-1] = alterByte(t, lines[n-1], "commitment", 10)
			writeLines(t, dir, lines)
		}, n - 1, "record hash", true, true},
		{"one byte of the line structure of entry 4", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[4] = bytes.Replace(lines[4], []byte(`"commitment"`), []byte(`"commitmenT"`), 1)
			writeLines(t, dir, lines)
		}, 4, "not a commitment or erasure record", false, true},
		{"bodies of entries 2 and 3 swapped", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			a, b := decodeLine(t, lines[2]), decodeLine(t, lines[3])
			a.Sealed, b.Sealed = b.Sealed, a.Sealed
			lines[2], lines[3] = encodeLine(t, a), encodeLine(t, b)
			writeLines(t, dir, lines)
		}, 2, "does not open", false, false},
		{"entry 0 deleted", func(t *testing.T, dir string) {
			writeLines(t, dir, readLines(t, dir)[1:])
		}, 0, "record hash", true, true},
		{"entry 7 deleted", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			writeLines(t, dir, append(lines[:7:7], lines[8:]...))
		}, 7, "record hash", true, true},
		{"entries 3 and 8 swapped", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[3], lines[8] = lines[8], lines[3]
			writeLines(t, dir, lines)
		}, 3, "record hash", false, true},
		{"log truncated to 9 entries", func(t *testing.T, dir string) {
			writeLines(t, dir, readLines(t, dir)[:9])
		}, 9, "missing", true, true},
		{"log truncated inside entry 10", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			writeLines(t, dir, append(lines[:10:10], lines[10][:20]))
		}, 10, "missing", true, true},
		{"log emptied", func(t *testing.T, dir string) {
			writeLines(t, dir, nil)
		}, 0, "missing", true, true},
		{"entry appended after the checkpoint", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			writeLines(t, dir, append(lines, lines[2]))
		}, n, "beyond the signed checkpoint", false, true},
		{"entry 6 replaced and every stored hash recomputed", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[6] = lines[1]
			writeLines(t, dir, lines)
			rewriteHashes(t, dir)
		}, 6, "checkpoint", true, true},
		{"leaf hash of entry 4 altered", func(t *testing.T, dir string) {
			flipHash(t, dir, tlog.StoredHashIndex(0, 4))
		}, 4, "hash", false, true},
		{"interior hash over entries 4 and 5 altered", func(t *testing.T, dir string) {
			flipHash(t, dir, tlog.StoredHashIndex(1, 2))
		}, 5, "hash file altered", false, true},
		{"root hash of the first 8 entries altered", func(t *testing.T, dir string) {
			flipHash(t, dir, tlog.StoredHashIndex(3, 0))
		}, 7, "hash file altered", true, true},
		{"hash file truncated", func(t *testing.T, dir string) {
			if err := os.Truncate(path(dir, "hashes"), tlog.StoredHashCount(6)*tlog.HashSize); err != nil {
				t.Fatal(err)
			}
		}, 6, "truncated", false, true},
		{"every checkpoint signed by another key", func(t *testing.T, dir string) {
			notes, _ := resign(t, readFrames(t, dir, "checkpoints"))
			writeFrames(t, dir, "checkpoints", notes)
		}, -1, "signature", true, true},
		{"current checkpoint signed by another key", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "checkpoints")
			forged, _ := resign(t, notes[len(notes)-1:])
			writeFrames(t, dir, "checkpoints", append(notes[:len(notes)-1], forged...))
		}, -1, "signature", true, true},
		{"old checkpoint signed by another key", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "checkpoints")
			forged, _ := resign(t, notes[3:4])
			notes[3] = forged[0]
			writeFrames(t, dir, "checkpoints", notes)
		}, -1, "checkpoint 3", false, true},
		{"checkpoint text altered", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "checkpoints")
			last := notes[len(notes)-1]
			notes[len(notes)-1] = bytes.Replace(last, []byte("\n12\n"), []byte("\n11\n"), 1)
			writeFrames(t, dir, "checkpoints", notes)
		}, -1, "signature", true, true},
		{"checkpoints rolled back", func(t *testing.T, dir string) {
			writeFrames(t, dir, "checkpoints", readFrames(t, dir, "checkpoints")[:8])
		}, 7, "beyond the signed checkpoint", false, true},
		{"checkpoints removed", func(t *testing.T, dir string) {
			if err := os.Remove(path(dir, "checkpoints")); err != nil {
				t.Fatal(err)
			}
		}, -1, "checkpoint", true, true},
		{"checkpoint and verifier key both replaced", func(t *testing.T, dir string) {
			notes, vkey := resign(t, readFrames(t, dir, "checkpoints"))
			writeFrames(t, dir, "checkpoints", notes)
			if err := os.WriteFile(path(dir, "verifier.key"), []byte(vkey+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, -1, "signature", true, true},
		{"published checkpoint replaced by one signed by another key", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "published")
			forged, _ := resign(t, notes[:1])
			notes[0] = forged[0]
			writeFrames(t, dir, "published", notes)
		}, -1, "published checkpoint 0", true, true},
		{"published checkpoint replaced by a commit checkpoint of another size", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "published")
			cps := readFrames(t, dir, "checkpoints")
			text, _, _ := bytes.Cut(cps[3], []byte("\n\n"))
			_, sigs, _ := bytes.Cut(notes[0], []byte("\n\n"))
			notes[0] = append(append(text, "\n\n"...), sigs...) // the text of size 3, the signature of size 6
			writeFrames(t, dir, "published", notes)
		}, -1, "published checkpoint 0", true, true},
		{"one byte of the body of the last entry", func(t *testing.T, dir string) {
			lines := readLines(t, dir)
			lines[n-1] = alterByte(t, lines[n-1], "sealed", 30)
			writeLines(t, dir, lines)
		}, n - 1, "does not open", true, false},
		{"published checkpoints deleted", func(t *testing.T, dir string) {
			if err := os.Remove(path(dir, "published")); err != nil {
				t.Fatal(err)
			}
		}, -1, "published file is missing", false, true},
		{"published checkpoints cut inside a frame", func(t *testing.T, dir string) {
			editFile(t, path(dir, "published"), func(b []byte) []byte { return b[:len(b)-10] })
		}, -1, "incomplete frame", false, true},
		{"incomplete frame appended to the published checkpoints", func(t *testing.T, dir string) {
			editFile(t, path(dir, "published"), func(b []byte) []byte { return append(b, 0, 0, 1, 0, 'c', 'u') })
		}, -1, "incomplete frame", false, true},
		{"frame header fragment appended to the checkpoints", func(t *testing.T, dir string) {
			editFile(t, path(dir, "checkpoints"), func(b []byte) []byte { return append(b, 0, 0) })
		}, -1, "incomplete frame header", false, true},
		{"zeros appended to the checkpoints", func(t *testing.T, dir string) {
			editFile(t, path(dir, "checkpoints"), func(b []byte) []byte { return append(b, make([]byte, 64)...) })
		}, -1, "frame of length 0", false, true},
		{"checkpoints cut inside the last frame", func(t *testing.T, dir string) {
			editFile(t, path(dir, "checkpoints"), func(b []byte) []byte { return b[:len(b)-7] })
		}, -1, "incomplete frame", false, true},
		{"bytes appended to the stored hashes", func(t *testing.T, dir string) {
			editFile(t, path(dir, "hashes"), func(b []byte) []byte { return append(b, 1, 2, 3) })
		}, -1, "beyond the", false, true},
		{"a checkpoint dropped from the middle", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "checkpoints")
			writeFrames(t, dir, "checkpoints", append(notes[:5:5], notes[6:]...))
		}, -1, "checkpoint 5 is numbered 6", false, true},
		{"the current checkpoint forged with the log's key", func(t *testing.T, dir string) {
			notes := readFrames(t, dir, "checkpoints")
			last := notes[len(notes)-1]
			text, _, _ := bytes.Cut(last, []byte("\n\n"))
			lines := strings.Split(string(text), "\n")
			lines[2] = base64.StdEncoding.EncodeToString(make([]byte, 32)) // another root hash
			skey, err := os.ReadFile(path(dir, "signer.key"))
			if err != nil {
				t.Fatal(err)
			}
			signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
			if err != nil {
				t.Fatal(err)
			}
			forged, err := note.Sign(&note.Note{Text: strings.Join(lines, "\n") + "\n"}, signer)
			if err != nil {
				t.Fatal(err)
			}
			notes[len(notes)-1] = forged
			writeFrames(t, dir, "checkpoints", notes)
		}, n - 1, "do not match signed checkpoint 12", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, s := newLog(t, n)
			vkey, err := os.ReadFile(path(dir, "verifier.key"))
			if err != nil {
				t.Fatal(err)
			}
			key := strings.TrimSpace(string(vkey))
			if _, err := audit.Verify(dir, audit.VerifyOptions{Sealer: s}); err != nil {
				t.Fatalf("Verify before tampering = %v", err)
			}
			tt.tamper(t, dir)

			// The operator checks against the verifier key printed at
			// start-up, with the root key (the Sealer) and without it.
			for _, o := range []audit.VerifyOptions{{Key: key, Sealer: s, Erased: isShredded}, {Key: key}} {
				rep, err := audit.Verify(dir, o)
				if o.Sealer == nil && !tt.keyless {
					if err != nil || rep.BodiesChecked {
						t.Errorf("Verify without a Sealer = %+v, %v, want success with bodies not checked", rep, err)
					}
					continue
				}
				var verr *audit.VerifyError
				if !errors.As(err, &verr) {
					t.Fatalf("Verify(sealer %v) = %v, want a *VerifyError", o.Sealer != nil, err)
				}
				if verr.Index != tt.index || !strings.Contains(verr.Reason, tt.reason) {
					t.Errorf("Verify(sealer %v) = %v (index %d), want index %d and a reason with %q", o.Sealer != nil, err, verr.Index, tt.index, tt.reason)
				}
			}
			if tt.openFails {
				if l, err := audit.Open(dir, opts(s, true)); err == nil {
					l.Close()
					t.Errorf("Open(tampered log) = nil error, want an error")
				}
			}
		})
	}
}

// TestOpenRecovers simulates crashes at each step of an append.
func TestOpenRecovers(t *testing.T) {
	const n = 6
	tests := []struct {
		name     string
		crash    func(t *testing.T, dir string)
		setAside string // what Open must move to uncommitted.jsonl
	}{
		{"torn entry", func(t *testing.T, dir string) {
			editFile(t, path(dir, "entries.jsonl"), func(b []byte) []byte { return append(b, `{"time":"2026-`...) })
		}, `{"time":"2026-` + "\n"},
		{"entry written, checkpoint not", func(t *testing.T, dir string) {
			writeFrames(t, dir, "checkpoints", readFrames(t, dir, "checkpoints")[:n]) // drop the checkpoint of entry n-1
			writeFrames(t, dir, "published", readFrames(t, dir, "published")[:1])     // which was therefore never published
		}, ""},
		{"torn stored hashes", func(t *testing.T, dir string) {
			editFile(t, path(dir, "hashes"), func(b []byte) []byte { return append(b, 1, 2, 3) })
		}, ""},
		{"torn checkpoint", func(t *testing.T, dir string) {
			editFile(t, path(dir, "checkpoints"), func(b []byte) []byte { return append(b, 0, 0, 1, 0, 'g', 'o') })
		}, ""},
		{"zero-filled checkpoint tail", func(t *testing.T, dir string) {
			editFile(t, path(dir, "checkpoints"), func(b []byte) []byte { return append(b, make([]byte, 512)...) })
		}, ""},
		{"stored hashes lost", func(t *testing.T, dir string) {
			if err := os.Remove(path(dir, "hashes")); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"stored hashes cut inside a hash", func(t *testing.T, dir string) {
			if err := os.Truncate(path(dir, "hashes"), 3*tlog.HashSize+5); err != nil {
				t.Fatal(err)
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, s := newLog(t, n)
			lines := readLines(t, dir)
			tt.crash(t, dir)
			want := int64(n)
			setAside := tt.setAside
			if tt.name == "entry written, checkpoint not" {
				want, setAside = n-1, string(lines[n-1])
			}

			l := openLog(t, dir, opts(s, false))
			if got := l.Size(); got != want {
				t.Errorf("Size() after recovery = %d, want %d", got, want)
			}
			got, _ := os.ReadFile(path(dir, "uncommitted.jsonl"))
			if string(got) != setAside {
				t.Errorf("uncommitted.jsonl = %q, want %q", got, setAside)
			}
			appendN(t, l, int(want), 2)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(dir, audit.VerifyOptions{Sealer: s})
			if err != nil || rep.Entries != want+2 || rep.BodiesOK != want+2 {
				t.Errorf("Verify after recovery and append = %+v, %v, want %d entries", rep, err, want+2)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
	}{
		{"signer key removed", func(t *testing.T, dir string) {
			if err := os.Remove(path(dir, "signer.key")); err != nil {
				t.Fatal(err)
			}
		}},
		{"verifier key of another signer", func(t *testing.T, dir string) {
			_, vkey, err := note.GenerateKey(rand.Reader, "custodia-audit")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path(dir, "verifier.key"), []byte(vkey), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"checkpoint frame of zero length before others", func(t *testing.T, dir string) {
			editFile(t, path(dir, "checkpoints"), func(b []byte) []byte { return append([]byte{0, 0, 0, 0}, b...) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, s := newLog(t, 3)
			tt.tamper(t, dir)
			if l, err := audit.Open(dir, opts(s, true)); err == nil {
				l.Close()
				t.Errorf("Open(%s) = nil error, want an error", tt.name)
			}
		})
	}
}

// TestVerifyRandomBitFlips: a bit flipped anywhere in the entries file —
// commitment, month, sealed body, or the line's structure — fails Verify
// with the keys, every time.
func TestVerifyRandomBitFlips(t *testing.T) {
	dir, s := newLog(t, 8)
	file := path(dir, "entries.jsonl")
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := mathrand.New(mathrand.NewPCG(6, 1500))
	for range 1500 {
		b := bytes.Clone(orig)
		at, bit := r.IntN(len(b)), byte(1)<<r.IntN(8)
		b[at] ^= bit
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if rep, err := audit.Verify(dir, audit.VerifyOptions{Sealer: s, Erased: isShredded}); err == nil {
			t.Errorf("Verify with bit %#x of byte %d (%q) flipped = %+v, nil error", bit, at, orig[max(at-12, 0):min(at+12, len(orig))], rep)
		}
	}
}
