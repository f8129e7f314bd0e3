package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseLine: parseLine accepts exactly the lines json.Marshal writes,
// and what it accepts encodes back to the same bytes.
func FuzzParseLine(f *testing.F) {
	c := bytes.Repeat([]byte{0xfb}, 32)
	for _, sl := range []storedLine{
		{Commitment: c},
		{Commitment: c, Bucket: "2026-03", Sealed: []byte{1, 2, 3, 0xff}},
		{Commitment: c, Bucket: "1999-12", Sealed: bytes.Repeat([]byte("x"), 500)},
	} {
		b, err := json.Marshal(sl)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		got, _, err := parseLine(b)
		if err != nil || !bytes.Equal(got.Commitment, sl.Commitment) || got.Bucket != sl.Bucket || !bytes.Equal(got.Sealed, sl.Sealed) {
			f.Errorf("parseLine(%s) = %+v, %v, want %+v", b, got, err, sl)
		}
	}
	f.Add([]byte(`{"commitmenT":"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s="}`))
	f.Add([]byte(`{"commitment":"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/t="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sl, _, err := parseLine(b)
		if err != nil {
			return
		}
		canon, err := json.Marshal(sl)
		if err != nil || !bytes.Equal(canon, b) {
			t.Errorf("parseLine accepted %q, which encodes as %q", b, canon)
		}
	})
}
