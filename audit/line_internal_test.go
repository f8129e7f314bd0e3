package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseLine: parseLine accepts exactly the lines json.Marshal writes,
// and what it accepts encodes back to the same bytes, decoded into new
// memory or into a scratch buffer alike.
func FuzzParseLine(f *testing.F) {
	c := bytes.Repeat([]byte{0xfb}, 32)
	for _, sl := range []storedLine{
		{Commitment: c, Bucket: "2026-03"},
		{Commitment: c, Bucket: "2026-03", Sealed: []byte{1, 2, 3, 0xff}},
		{Commitment: c, Bucket: "1999-12", Sealed: bytes.Repeat([]byte("x"), 500)},
		{Erase: "2025-11"},
	} {
		b, err := json.Marshal(sl)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		got, err := parseLine(b, nil)
		if err != nil || !bytes.Equal(got.Commitment, sl.Commitment) || got.Bucket != sl.Bucket || !bytes.Equal(got.Sealed, sl.Sealed) ||
			got.Erase != sl.Erase || got.hasBody != (sl.Sealed != nil) {
			f.Errorf("parseLine(%s) = %+v, %v, want %+v", b, got, err, sl)
		}
	}
	f.Add([]byte(`{"commitmenT":"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=","bucket":"2026-03"}`))
	f.Add([]byte(`{"commitment":"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/t=","bucket":"2026-03"}`))
	f.Add([]byte(`{"commitment":"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=","bucket":"2026-13"}`))
	f.Add([]byte(`{"commitment":"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s="}`))
	f.Add([]byte(`{"erase":"2026-00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var scratch []byte
		sl, err := parseLine(b, nil)
		sl2, err2 := parseLine(b, &scratch)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("parseLine(%q) = %v without scratch, %v with", b, err, err2)
		}
		if err != nil {
			return
		}
		for _, x := range []storedLine{sl, sl2} {
			canon, err := json.Marshal(x)
			if err != nil || !bytes.Equal(canon, b) {
				t.Errorf("parseLine accepted %q, which encodes as %q", b, canon)
			}
		}
		if sl.Erase == "" && sl.Bucket == "" {
			t.Errorf("parseLine accepted %q without a month", b)
		}
	})
}
