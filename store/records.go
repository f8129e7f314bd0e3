package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// recordKey validates kind and key and returns the x/<kind>/<key> key, which
// is also the associated data of the sealed value.
func recordKey(op, kind, key string) ([]byte, error) {
	if kind == "" || strings.ContainsAny(kind, "/\x00") {
		return nil, xapi.Errorf(xapi.Invalid, op, "record kind must be non-empty and contain no slash")
	}
	if key == "" {
		return nil, xapi.Errorf(xapi.Invalid, op, "record key must be non-empty")
	}
	return []byte(prefixRecord + kind + "/" + key), nil
}

// PutRecord stores value as the system record kind/key, replacing any. The
// value is sealed under the system subject "" with "x/<kind>/<key>" as
// associated data; kind and key appear on disk in plain form and must not be
// personal.
func (db *DB) PutRecord(ctx context.Context, kind, key string, value []byte) error {
	const op = "store.PutRecord"
	k, err := recordKey(op, kind, key)
	if err != nil {
		return err
	}
	sealed, err := db.sealer.Seal(ctx, "", k, value)
	if err != nil {
		return internal(op, fmt.Errorf("store: seal record: %w", err))
	}
	return db.update(op, func(txn *badger.Txn) error { return txn.Set(k, sealed) })
}

// GetRecord returns the system record kind/key; NotFound *xapi.Error when absent.
func (db *DB) GetRecord(ctx context.Context, kind, key string) ([]byte, error) {
	const op = "store.GetRecord"
	k, err := recordKey(op, kind, key)
	if err != nil {
		return nil, err
	}
	var sealed []byte
	err = db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if err != nil {
			return err
		}
		sealed, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, xapi.Errorf(xapi.NotFound, op, "no %s record with this key", kind)
	}
	if err != nil {
		return nil, internal(op, err)
	}
	v, err := db.sealer.Open(ctx, "", k, sealed)
	if err != nil {
		return nil, internal(op, fmt.Errorf("store: open record: %w", err))
	}
	return v, nil
}

// DeleteRecord removes the system record kind/key; NotFound *xapi.Error when absent.
func (db *DB) DeleteRecord(ctx context.Context, kind, key string) error {
	const op = "store.DeleteRecord"
	k, err := recordKey(op, kind, key)
	if err != nil {
		return err
	}
	return db.update(op, func(txn *badger.Txn) error {
		if _, err := txn.Get(k); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return xapi.Errorf(xapi.NotFound, op, "no %s record with this key", kind)
			}
			return err
		}
		return txn.Delete(k)
	})
}

// ListRecords returns every system record of kind, by key.
func (db *DB) ListRecords(ctx context.Context, kind string) (map[string][]byte, error) {
	const op = "store.ListRecords"
	k, err := recordKey(op, kind, "-")
	if err != nil {
		return nil, err
	}
	prefix := k[:len(k)-1]
	type kv struct {
		key    string
		sealed []byte
	}
	var all []kv
	err = db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			all = append(all, kv{string(it.Item().Key()[len(prefix):]), v})
		}
		return nil
	})
	if err != nil {
		return nil, internal(op, err)
	}
	out := make(map[string][]byte, len(all))
	for _, r := range all {
		v, err := db.sealer.Open(ctx, "", []byte(string(prefix)+r.key), r.sealed)
		if err != nil {
			return nil, internal(op, fmt.Errorf("store: open record: %w", err))
		}
		out[r.key] = v
	}
	return out, nil
}

// update runs fn in a read-write transaction, retrying on conflicts with
// concurrent record writes.
func (db *DB) update(op string, fn func(*badger.Txn) error) error {
	var err error
	for range 8 {
		err = db.bdb.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrTxnTooBig):
		return xapi.Errorf(xapi.TooLarge, op, "record is too large")
	}
	return internal(op, err)
}
