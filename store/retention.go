package store

import (
	"context"
	"encoding/binary"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// This file holds what retention needs: the purpose index and the scan and
// deletion of statements whose retention has ended.

// purposePrefix is the index prefix of the statements recorded for purpose.
func (db *DB) purposePrefix(purpose string) []byte {
	return indexPrefix(fieldPurpose, db.sealer.Blind(fieldPurpose, purpose))
}

func (db *DB) purposeKey(purpose string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(db.purposePrefix(purpose), seq)
}

// ScanExpired calls fn, in order of expiry, with each stored statement
// whose recorded retention ended at or before now (Recorded().Expires set
// and not after now), opened and carrying its Recorded. Statements stored
// without a retention window are never passed. An error from fn ends the
// scan and is returned. The scan reads one consistent snapshot; fn may
// call DeleteStatements.
func (db *DB) ScanExpired(ctx context.Context, now time.Time, fn func(*xapi.Statement) error) error {
	const op = "store.ScanExpired"
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	var ids []string
	err := func() error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: []byte(prefixExpiry)})
		defer it.Close()
		limit := uint64(now.UnixMilli())
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(prefixExpiry)+16 {
				return errCorrupt("expiry key")
			}
			if binary.BigEndian.Uint64(k[len(prefixExpiry):]) > limit {
				break
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return internal(op, err)
			}
			ids = append(ids, string(v))
		}
		return nil
	}()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := loadFacts(txn, id)
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		s, err := db.loadStatement(ctx, txn, id)
		if err != nil {
			return err
		}
		s.SetRecorded(rec.recorded())
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// deleteChunk bounds how many statements one deletion transaction removes.
const deleteChunk = 200

// DeleteStatements removes the statements ids — their sealed records,
// attachment data, fact records and every index entry of theirs — and
// reports how many were stored. Unknown ids are skipped. What is left is
// not personal data: a voiding mark on a removed statement's target (the
// target stays voided), reverse StatementRef edges from removed referrers
// (skipped when chains are extended), and copies of a removed statement's
// blinded facts in the chains of statements referring to it. Each chunk of
// ids is removed in one transaction.
//
// Deleting is the stopgap until per-bucket keys exist (the keys issue):
// then the retention sweep destroys the bucket's key instead, which also
// makes copies in Badger's value log and in backups unreadable.
func (db *DB) DeleteStatements(ctx context.Context, ids []string) (int, error) {
	const op = "store.DeleteStatements"
	n := 0
	for start := 0; start < len(ids); start += deleteChunk {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		chunk := ids[start:min(start+deleteChunk, len(ids))]
		var deleted int
		err := db.update(op, func(txn *badger.Txn) error {
			deleted = 0
			for _, id := range chunk {
				ok, err := db.deleteStatement(txn, id)
				if err != nil {
					return err
				}
				if ok {
					deleted++
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += deleted
	}
	return n, nil
}

// deleteStatement removes statement id's keys in txn and reports whether it
// was stored.
func (db *DB) deleteStatement(txn *badger.Txn, id string) (bool, error) {
	rec, err := loadFacts(txn, id)
	if err != nil || rec == nil {
		return false, err
	}
	keys := [][]byte{stmtKey(id), factsKey(id), seqKey(rec.seq)}
	for k := range indexKeys(rec.chain) {
		keys = append(keys, seqSuffix(k, rec.seq))
	}
	if rec.purpose != "" {
		keys = append(keys, db.purposeKey(rec.purpose, rec.seq))
	}
	if rec.expires != 0 {
		keys = append(keys, expiryKey(rec.expires, rec.seq))
	}
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: []byte(prefixAttach + id + "/")})
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return false, err
		}
	}
	return true, nil
}
