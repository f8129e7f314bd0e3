package store

import (
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// Attachment returns the data of the attachment with hash sha2 (lower-case
// hex) that statement id was stored with, or a NotFound *xapi.Error when the
// statement or the data is unknown (an attachment known only by fileUrl has
// no data here).
func (db *DB) Attachment(ctx context.Context, id, sha2 string) ([]byte, error) {
	const op = "store.Attachment"
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	subject, _, err := db.loadRecord(ctx, txn, op, id)
	if err != nil {
		return nil, err
	}
	item, err := txn.Get(attachKey(id, sha2))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, xapi.Errorf(xapi.NotFound, op, "no attachment data with this hash")
	}
	if err != nil {
		return nil, internal(op, err)
	}
	sealed, err := item.ValueCopy(nil)
	if err != nil {
		return nil, internal(op, err)
	}
	data, err := db.sealer.Open(ctx, subject, attachKey(id, sha2), sealed)
	if err != nil {
		return nil, internal(op, fmt.Errorf("store: open attachment of %s: %w", id, err))
	}
	return data, nil
}
