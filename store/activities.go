package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// Canonical Activity definitions (xAPI Data §2.4.4.1, Communication §2.5).
//
// Each Activity that a stored statement defines has one canonical copy,
// c/<Blind("activity_definition", id)>, sealed under the system subject ""
// with its key as associated data: definitions are statement content, but
// they describe activities, not people. PutStatements merges the definitions
// of a batch's new statements into the copies (xapi.Activity.Merge, in batch
// order, then document order) in the same transaction as the statements, so
// a rejected batch leaves no trace. A batch planning while another enqueued
// batch writes the same copy waits for it, as for statement ids, so merges
// are never lost and never conflict.

// fieldCanon is the blind-index field that keys canonical copies.
const fieldCanon = "activity_definition"

// canonDef is one Activity definition of a statement with its record key.
type canonDef struct {
	key []byte
	act xapi.Activity
}

func canonKey(s Sealer, id string) []byte {
	return append([]byte(prefixCanon), s.Blind(fieldCanon, id)...)
}

// canonDefs returns the Activities of s that carry a definition, none when
// its writer may not define Activities (Recorded.NoDefine).
func canonDefs(s Sealer, st *xapi.Statement) []canonDef {
	var out []canonDef
	if st.Recorded().NoDefine {
		return nil
	}
	for _, a := range st.Activities() {
		if a.HasDefinition() {
			out = append(out, canonDef{key: canonKey(s, a.ID), act: a})
		}
	}
	return out
}

// mergeDefinitions merges the definitions of the new statements into their
// canonical copies in txn, writing only the copies that change.
func (db *DB) mergeDefinitions(ctx context.Context, txn *badger.Txn, pre []prep, newIdx []int, set func(k, v []byte) error) error {
	const op = "store.PutStatements"
	type entry struct {
		old []byte // the stored copy's JSON; nil when none
		cur xapi.Activity
	}
	byKey := map[string]*entry{}
	var order []string
	for _, i := range newIdx {
		for _, d := range pre[i].defs {
			e, ok := byKey[string(d.key)]
			if !ok {
				old, err := db.loadCanon(ctx, txn, d.key)
				if err != nil {
					return err
				}
				e = &entry{cur: xapi.Activity{ID: d.act.ID}}
				if old != nil {
					if e.old, err = old.MarshalJSON(); err != nil {
						return internal(op, err)
					}
					e.cur = *old
				}
				byKey[string(d.key)] = e
				order = append(order, string(d.key))
			}
			e.cur = e.cur.Merge(d.act)
		}
	}
	for _, k := range order {
		e := byKey[k]
		b, err := e.cur.MarshalJSON()
		if err != nil {
			return internal(op, err)
		}
		if bytes.Equal(b, e.old) {
			continue
		}
		sealed, err := db.sealer.Seal(ctx, "", []byte(k), b)
		if err != nil {
			return internal(op, fmt.Errorf("store: seal activity definition: %w", err))
		}
		if err := set([]byte(k), sealed); err != nil {
			return err
		}
	}
	return nil
}

// loadCanon reads and opens a canonical copy; nil when there is none.
func (db *DB) loadCanon(ctx context.Context, txn *badger.Txn, key []byte) (*xapi.Activity, error) {
	const op = "store.Activities"
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, internal(op, err)
	}
	sealed, err := item.ValueCopy(nil)
	if err != nil {
		return nil, internal(op, err)
	}
	b, err := db.sealer.Open(ctx, "", key, sealed)
	if err != nil {
		return nil, internal(op, fmt.Errorf("store: open activity definition: %w", err))
	}
	a, err := xapi.DecodeActivity(b)
	if err != nil {
		return nil, internal(op, err)
	}
	return &a, nil
}

// Activities returns the canonical copies of the Activities ids, by id.
// An id no stored statement has defined is left out.
func (db *DB) Activities(ctx context.Context, ids []string) (map[string]xapi.Activity, error) {
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	out := make(map[string]xapi.Activity, len(ids))
	for _, id := range ids {
		if _, done := out[id]; done {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a, err := db.loadCanon(ctx, txn, canonKey(db.sealer, id))
		if err != nil {
			return nil, err
		}
		if a != nil {
			out[id] = *a
		}
	}
	return out, nil
}
