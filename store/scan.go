package store

import (
	"context"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// ScanStatements calls fn with every stored statement, voided ones
// included, in stored order (oldest first), opening each and carrying its
// Recorded (purpose, legal basis, expiry) as reads do, until fn reports
// false or returns an error, which ScanStatements returns. It reads one
// consistent snapshot: statements stored during the scan are not seen.
func (db *DB) ScanStatements(ctx context.Context, fn func(*xapi.Statement) (bool, error)) error {
	const op = "store.ScanStatements"
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: []byte(prefixSeq)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return internal(op, err)
		}
		_, id, err := decodeIdxVal(v)
		if err != nil {
			return err
		}
		s, err := db.loadStatement(ctx, txn, id)
		if err != nil {
			return &xapi.Error{Kind: xapi.Internal, Op: op, Err: err}
		}
		rec, err := loadFacts(txn, id)
		if err != nil {
			return err
		}
		if rec != nil {
			s.SetRecorded(rec.recorded())
		}
		more, err := fn(s)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
