package store

import (
	"bytes"
	"encoding/binary"
	"slices"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// This file answers xapi.Query.Rows, the governance gate's list-read
// conditions, from what the store keeps beside each sealed statement: the
// fact record (recorded purpose, legal basis, expiry; the blinded agents
// of the statement itself) and the purpose and agent indexes. No statement
// is opened to decide a condition.

// rowFilter is an xapi.RowFilter with its agent IFIs blinded.
type rowFilter struct {
	any []rowCond
}

type rowCond struct {
	c      xapi.RowCondition
	agents [][][]byte // c.Agents, blinded for the agent field
}

// blindRows prepares f; nil for nil.
func (db *DB) blindRows(f *xapi.RowFilter) *rowFilter {
	if f == nil {
		return nil
	}
	out := &rowFilter{any: make([]rowCond, 0, len(f.Any))}
	for _, c := range f.Any {
		rc := rowCond{c: c}
		for _, set := range c.Agents {
			blinded := make([][]byte, 0, len(set))
			for _, ifi := range set {
				blinded = append(blinded, db.sealer.Blind(fieldNames[fAgent], ifi))
			}
			rc.agents = append(rc.agents, blinded)
		}
		out.any = append(out.any, rc)
	}
	return out
}

// matches reports whether rec satisfies f (a nil f is satisfied by all).
func (f *rowFilter) matches(rec *factRec) bool {
	if f == nil {
		return true
	}
	for i := range f.any {
		if f.any[i].matches(rec) {
			return true
		}
	}
	return false
}

func (c *rowCond) matches(rec *factRec) bool {
	if c.c.Purposes != nil && !slices.Contains(c.c.Purposes, rec.purpose) {
		return false
	}
	if slices.Contains(c.c.NotPurposes, rec.purpose) {
		return false
	}
	if c.c.Bases != nil && !slices.Contains(c.c.Bases, rec.basis) {
		return false
	}
	if slices.Contains(c.c.NotBases, rec.basis) {
		return false
	}
	if e := c.c.Expiry; e.Never || !e.After.IsZero() {
		ok := e.Never && rec.expires == 0
		if !ok && !e.After.IsZero() && rec.expires != 0 {
			ok = expiresAfter(rec.expires, e.After.UnixNano())
		}
		if !ok {
			return false
		}
	}
	own := rec.chain[0].vals[fAgent]
	for _, set := range c.agents {
		hit := false
		for _, b := range set {
			if slices.ContainsFunc(own, func(v []byte) bool { return bytes.Equal(v, b) }) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// expiresAfter reports whether an expiry of ms Unix milliseconds is after
// the instant ns (Unix nanoseconds): ms*1e6 > ns, that is ms > ⌊ns/1e6⌋.
func expiresAfter(ms, ns int64) bool {
	q := ns / 1e6
	if ns%1e6 < 0 {
		q-- // round toward −∞ before 1970
	}
	return ms > q
}

// rowPrefixes chooses the index the scan of a query without xAPI filters
// is driven by: when every condition of f needs one of a few agents, the
// agent index of those agents; else, when every condition needs one of a
// few recorded purposes, the purpose index of those; else the stored order
// of all statements. Every row the scan skips fails f.
func (db *DB) rowPrefixes(f *rowFilter) [][]byte {
	all := [][]byte{[]byte(prefixSeq)}
	if f == nil {
		return all
	}
	agents := map[string][]byte{}
	for _, c := range f.any {
		if len(c.agents) == 0 {
			agents = nil
			break
		}
		set := c.agents[0]
		for _, s := range c.agents[1:] {
			if len(s) < len(set) {
				set = s
			}
		}
		for _, b := range set {
			agents[string(b)] = indexPrefix(fieldNames[fAgent], b)
		}
	}
	if agents != nil {
		return sortedPrefixes(agents)
	}
	purposes := map[string][]byte{}
	for _, c := range f.any {
		if c.c.Purposes == nil || slices.Contains(c.c.Purposes, "") {
			return all // a row without a recorded purpose is in no purpose index
		}
		for _, p := range c.c.Purposes {
			purposes[p] = db.purposePrefix(p)
		}
	}
	return sortedPrefixes(purposes)
}

func sortedPrefixes(m map[string][]byte) [][]byte {
	out := make([][]byte, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

// mergeScan walks several index prefixes (each key: prefix + 8-byte
// big-endian seq) as one sequence in seq order, each seq once.
type mergeScan struct {
	its      []*badger.Iterator
	prefixes [][]byte // of its[i]
	reverse  bool
	started  bool
	last     uint64 // the seq returned last
}

// newMergeScan opens the iterators of prefixes, positioned at start (seq)
// in the direction of reverse.
func newMergeScan(txn *badger.Txn, prefixes [][]byte, reverse bool, start uint64) *mergeScan {
	m := &mergeScan{prefixes: prefixes, reverse: reverse}
	for _, p := range prefixes {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Reverse: reverse, Prefix: p})
		it.Seek(binary.BigEndian.AppendUint64(append([]byte(nil), p...), start))
		m.its = append(m.its, it)
	}
	return m
}

func (m *mergeScan) close() {
	for _, it := range m.its {
		it.Close()
	}
}

// next returns the next seq and its index value; ok is false at the end.
func (m *mergeScan) next() (seq uint64, val []byte, ok bool, err error) {
	if m.started {
		// Move past the seq returned last, in every iterator holding it.
		for i, it := range m.its {
			if !it.Valid() {
				continue
			}
			s, err := m.seqOf(i)
			if err != nil {
				return 0, nil, false, err
			}
			if s == m.last {
				it.Next()
			}
		}
	}
	m.started = true
	best := -1
	for i, it := range m.its {
		if !it.Valid() {
			continue
		}
		s, err := m.seqOf(i)
		if err != nil {
			return 0, nil, false, err
		}
		if best < 0 || (m.reverse && s > seq) || (!m.reverse && s < seq) {
			best, seq = i, s
		}
	}
	if best < 0 {
		return 0, nil, false, nil
	}
	if val, err = m.its[best].Item().ValueCopy(nil); err != nil {
		return 0, nil, false, err
	}
	m.last = seq
	return seq, val, true, nil
}

// seqOf reads the seq of the key iterator i is at.
func (m *mergeScan) seqOf(i int) (uint64, error) {
	key, p := m.its[i].Item().Key(), m.prefixes[i]
	if len(key) != len(p)+8 {
		return 0, errCorrupt("index key")
	}
	return binary.BigEndian.Uint64(key[len(p):]), nil
}
