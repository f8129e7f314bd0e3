package store

import (
	"bytes"
	"encoding/binary"
	"time"

	"custodia/xapi"
)

// The blind-index fields, in their encoding order.
const (
	fVerb = iota
	fRegistration
	fAgent
	fAgentRelated
	fActivity
	fActivityRelated
	nFields
)

var fieldNames = [nFields]string{"verb", "registration", "agent", "agent_related", "activity", "activity_related"}

// factSet is one statement's own blinded facts.
type factSet struct {
	id   string
	vals [nFields][][]byte
}

func (f *factSet) has(field int, blind []byte) bool {
	for _, v := range f.vals[field] {
		if bytes.Equal(v, blind) {
			return true
		}
	}
	return false
}

// blindFacts blinds the facts of the statement id.
func blindFacts(s Sealer, id string, f xapi.Facts) factSet {
	fs := factSet{id: id}
	add := func(field int, vs ...string) {
		for _, v := range vs {
			if v != "" {
				fs.vals[field] = append(fs.vals[field], s.Blind(fieldNames[field], v))
			}
		}
	}
	add(fVerb, f.Verb)
	add(fRegistration, f.Registration)
	add(fAgent, f.Agents...)
	add(fAgentRelated, f.RelatedAgents...)
	add(fActivity, f.Activities...)
	add(fActivityRelated, f.RelatedActivities...)
	return fs
}

// factRec is the f/<id> record of a stored statement.
type factRec struct {
	seq      uint64
	stored   int64 // Unix ms
	voiding  bool
	purpose  string    // recorded purpose ("" when none); not personal data
	basis    string    // its legal basis
	expires  int64     // Unix ms when retention ends; 0: never
	chain    []factSet // chain[0] is the statement's own; then its target's chain
	isNew    bool      // written by the batch being planned (not encoded)
	oldChain []factSet // chain before this batch extended it (not encoded)
}

// filter is one blinded query condition.
type filter struct {
	field int
	blind []byte
}

// matches reports whether one element of the chain satisfies every filter.
func (r *factRec) matches(fs []filter) bool {
	for i := range r.chain {
		ok := true
		for _, f := range fs {
			if !r.chain[i].has(f.field, f.blind) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// compose returns own followed by target's chain, stopping at a repeated id
// and at MaxRefDepth.
func compose(own factSet, target []factSet) []factSet {
	out := []factSet{own}
	seen := map[string]bool{own.id: true}
	for _, f := range target {
		if len(out) == MaxRefDepth || seen[f.id] {
			break
		}
		seen[f.id] = true
		out = append(out, f)
	}
	return out
}

func sameChain(a, b []factSet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].id != b[i].id {
			return false
		}
	}
	return true
}

// indexKeys returns the distinct index prefixes (without seq) of a chain.
func indexKeys(chain []factSet) map[string]struct{} {
	keys := map[string]struct{}{}
	for i := range chain {
		for field, vs := range chain[i].vals {
			for _, v := range vs {
				keys[string(indexPrefix(fieldNames[field], v))] = struct{}{}
			}
		}
	}
	return keys
}

// Fact record versions: 1 has no governance fields; 2 adds purpose, legal
// basis and expiry after the flags.
const (
	factVersion1 = 1
	factVersion  = 2
)

func (r *factRec) encode() []byte {
	b := []byte{factVersion}
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendVarint(b, r.stored)
	var flags byte
	if r.voiding {
		flags |= 1
	}
	b = append(b, flags)
	b = appendBytes(b, []byte(r.purpose))
	b = appendBytes(b, []byte(r.basis))
	b = binary.AppendVarint(b, r.expires)
	b = binary.AppendUvarint(b, uint64(len(r.chain)))
	for i := range r.chain {
		f := &r.chain[i]
		b = appendBytes(b, []byte(f.id))
		for _, vs := range f.vals {
			b = binary.AppendUvarint(b, uint64(len(vs)))
			for _, v := range vs {
				b = appendBytes(b, v)
			}
		}
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decoder reads the encodings of this package; it records the first error.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// count reads a list length, refusing one longer than the bytes left.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return 0
	}
	return int(n)
}

func decodeFactRec(b []byte) (*factRec, error) {
	d := &decoder{b: b}
	v := d.byte1()
	if v != factVersion && v != factVersion1 {
		return nil, errCorrupt("fact record")
	}
	r := &factRec{seq: d.uvarint(), stored: d.varint()}
	r.voiding = d.byte1()&1 != 0
	if v == factVersion {
		r.purpose, r.basis = string(d.bytes()), string(d.bytes())
		r.expires = d.varint()
	}
	n := d.count()
	r.chain = make([]factSet, 0, n)
	for i := 0; i < n && !d.bad; i++ {
		f := factSet{id: string(d.bytes())}
		for field := range f.vals {
			m := d.count()
			for j := 0; j < m && !d.bad; j++ {
				f.vals[field] = append(f.vals[field], d.bytes())
			}
		}
		r.chain = append(r.chain, f)
	}
	if d.bad || len(d.b) != 0 {
		return nil, errCorrupt("fact record")
	}
	return r, nil
}

const stmtVersion = 1

// encodeStmt builds the s/<id> value: the sealed subject header and the sealed body.
func encodeStmt(sealedSubject, sealedBody []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(sealedSubject)+len(sealedBody))
	b = append(b, stmtVersion)
	b = appendBytes(b, sealedSubject)
	return append(b, sealedBody...)
}

func decodeStmt(b []byte) (sealedSubject, sealedBody []byte, err error) {
	d := &decoder{b: b}
	if d.byte1() != stmtVersion {
		return nil, nil, errCorrupt("statement record")
	}
	sealedSubject = d.bytes()
	if d.bad {
		return nil, nil, errCorrupt("statement record")
	}
	return sealedSubject, d.b, nil
}

func subjectAAD(id string) []byte { return []byte("subject/" + id) }

// recorded is what r records about its statement's processing.
func (r *factRec) recorded() xapi.Recorded {
	out := xapi.Recorded{Purpose: r.purpose, LegalBasis: r.basis}
	if r.expires != 0 {
		out.Expires = time.UnixMilli(r.expires).UTC()
	}
	return out
}

// fieldPurpose is the blind-index field of a statement's own recorded
// purpose. Unlike the fact fields it is not part of the StatementRef chain:
// a statement's purpose is its own, not its target's.
const fieldPurpose = "purpose"

// expiryKey is e/<expires ms><seq>: the statements in order of the end of
// their retention, for the retention sweep.
func expiryKey(expires int64, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixExpiry), uint64(expires))
	return binary.BigEndian.AppendUint64(k, seq)
}
