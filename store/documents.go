package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// Documents of the State, Activity Profile and Agent Profile resources
// (xAPI Communication §2.2–2.7). See the package doc for the key layout.

// docVersion is the first byte of a document's plaintext encoding.
const docVersion = 1

// maxDocAttempts bounds the retries of a document write that lost a race
// with a concurrent write of the same key. Each round lets at least one
// writer commit, so it is reached only under extreme contention.
const maxDocAttempts = 64

// The blind-index fields of document keys, distinct from those of
// statements so that the two cannot be linked by their hashes.
const (
	docFieldAgent        = "doc_agent"
	docFieldActivity     = "doc_activity"
	docFieldRegistration = "doc_registration"
	docFieldID           = "doc_id"
)

// docPrefix returns the key prefix of the documents p names: all of them
// when p.ID is "" (for State, of every registration unless p.Registration
// is set), else exactly the one document.
func (db *DB) docPrefix(op string, p xapi.DocumentParams) ([]byte, error) {
	blind := func(k []byte, field, value string) []byte {
		b := db.sealer.Blind(field, value)
		k = binary.AppendUvarint(k, uint64(len(b)))
		return append(k, b...)
	}
	k := []byte(prefixDoc)
	switch p.Kind {
	case xapi.StateDocument:
		if p.Agent == nil || p.ActivityID == "" {
			return nil, xapi.Errorf(xapi.Invalid, op, "a State document needs an activityId and an agent")
		}
		k = append(k, "s/"...)
		k = blind(k, docFieldAgent, p.Agent.IFI())
		k = blind(k, docFieldActivity, p.ActivityID)
		if p.ID == "" && p.Registration == "" {
			return k, nil
		}
		k = blind(k, docFieldRegistration, p.Registration)
	case xapi.ActivityProfileDocument:
		if p.ActivityID == "" {
			return nil, xapi.Errorf(xapi.Invalid, op, "an Activity Profile document needs an activityId")
		}
		k = append(k, "a/"...)
		k = blind(k, docFieldActivity, p.ActivityID)
	case xapi.AgentProfileDocument:
		if p.Agent == nil {
			return nil, xapi.Errorf(xapi.Invalid, op, "an Agent Profile document needs an agent")
		}
		k = append(k, "g/"...)
		k = blind(k, docFieldAgent, p.Agent.IFI())
	default:
		return nil, xapi.Errorf(xapi.Invalid, op, "unknown document kind")
	}
	if p.ID != "" {
		k = blind(k, docFieldID, p.ID)
	}
	return k, nil
}

// docKey returns the key of the single document p names.
func (db *DB) docKey(op string, p xapi.DocumentParams) ([]byte, error) {
	if p.ID == "" {
		return nil, xapi.Errorf(xapi.Invalid, op, "a document id is required")
	}
	return db.docPrefix(op, p)
}

// encodeDoc is the plaintext that is sealed: version, id, content type,
// updated (Unix ns), ETag, then the body.
func encodeDoc(d xapi.Document) []byte {
	b := make([]byte, 0, 1+len(d.ID)+len(d.ContentType)+len(d.ETag)+len(d.Body)+4*binary.MaxVarintLen64)
	b = append(b, docVersion)
	b = appendBytes(b, []byte(d.ID))
	b = appendBytes(b, []byte(d.ContentType))
	b = binary.AppendVarint(b, d.Updated.UnixNano())
	b = appendBytes(b, []byte(d.ETag))
	return append(b, d.Body...)
}

func decodeDoc(b []byte) (xapi.Document, error) {
	d := &decoder{b: b}
	if d.byte1() != docVersion {
		return xapi.Document{}, errCorrupt("document")
	}
	doc := xapi.Document{ID: string(d.bytes()), ContentType: string(d.bytes())}
	doc.Updated = time.Unix(0, d.varint()).UTC()
	doc.ETag = string(d.bytes())
	if d.bad {
		return xapi.Document{}, errCorrupt("document")
	}
	doc.Body = d.b
	return doc, nil
}

// openDoc opens the sealed value of key.
func (db *DB) openDoc(ctx context.Context, op, subject string, key, sealed []byte) (xapi.Document, error) {
	plain, err := db.sealer.Open(ctx, subject, key, sealed)
	if err != nil {
		return xapi.Document{}, internal(op, fmt.Errorf("store: open document: %w", err))
	}
	return decodeDoc(plain)
}

// readDoc returns the document at key in txn, or nil when there is none.
func (db *DB) readDoc(ctx context.Context, txn *badger.Txn, op, subject string, key []byte) (*xapi.Document, error) {
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
	d, err := db.openDoc(ctx, op, subject, key, sealed)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// GetDocument returns the document p names (p.ID set), or a NotFound
// *xapi.Error.
func (db *DB) GetDocument(ctx context.Context, p xapi.DocumentParams) (xapi.Document, error) {
	const op = "store.GetDocument"
	key, err := db.docKey(op, p)
	if err != nil {
		return xapi.Document{}, err
	}
	var d *xapi.Document
	err = db.bdb.View(func(txn *badger.Txn) error {
		d, err = db.readDoc(ctx, txn, op, p.Subject(), key)
		return err
	})
	if err != nil {
		return xapi.Document{}, internal(op, err)
	}
	if d == nil {
		return xapi.Document{}, xapi.Errorf(xapi.NotFound, op, "no such document")
	}
	return *d, nil
}

// ListDocuments returns the documents of the set p names (p.ID ""),
// without their bodies, sorted by id: those updated after p.Since when it
// is set. For State without a registration, documents of every
// registration are listed.
func (db *DB) ListDocuments(ctx context.Context, p xapi.DocumentParams) ([]xapi.Document, error) {
	const op = "store.ListDocuments"
	if p.ID != "" {
		return nil, xapi.Errorf(xapi.Invalid, op, "a document list takes no document id")
	}
	prefix, err := db.docPrefix(op, p)
	if err != nil {
		return nil, err
	}
	subject := p.Subject()
	var out []xapi.Document
	err = db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 16, Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := it.Item().KeyCopy(nil)
			sealed, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			d, err := db.openDoc(ctx, op, subject, key, sealed)
			if err != nil {
				return err
			}
			if !p.Since.IsZero() && !d.Updated.After(p.Since) {
				continue
			}
			d.Body = nil
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, internal(op, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// PutDocument stores doc (its ContentType and Body) as the document p
// names, replacing any, when cond holds for the stored document; the check
// and the write are one transaction. It returns the stored document's id,
// content type, updated time and ETag. A failed precondition is the error
// cond.Check reports, and nothing changes.
func (db *DB) PutDocument(ctx context.Context, p xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error) {
	return db.writeDocument(ctx, "store.PutDocument", p, cond, func(*xapi.Document) (*xapi.Document, error) {
		return &xapi.Document{ContentType: doc.ContentType, Body: doc.Body}, nil
	})
}

// PostDocument applies a POST of doc to the document p names, when cond
// holds, in one transaction: a missing document is stored as by
// PutDocument; an existing one is merged with doc by xapi.MergeDocuments,
// whose Invalid error leaves it unchanged.
func (db *DB) PostDocument(ctx context.Context, p xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error) {
	return db.writeDocument(ctx, "store.PostDocument", p, cond, func(old *xapi.Document) (*xapi.Document, error) {
		if old == nil {
			return &xapi.Document{ContentType: doc.ContentType, Body: doc.Body}, nil
		}
		m, err := xapi.MergeDocuments(*old, doc)
		if err != nil {
			return nil, err
		}
		return &m, nil
	})
}

// DeleteDocument removes the document p names when cond holds, in one
// transaction. Deleting a missing document is not an error (unless cond
// requires one, as If-Match does).
func (db *DB) DeleteDocument(ctx context.Context, p xapi.DocumentParams, cond xapi.Precondition) error {
	_, err := db.writeDocument(ctx, "store.DeleteDocument", p, cond, func(*xapi.Document) (*xapi.Document, error) {
		return nil, nil
	})
	return err
}

// DeleteDocuments removes every document of the set p names (p.ID ""; for
// State, of every registration unless p.Registration is set) and reports
// how many there were.
func (db *DB) DeleteDocuments(ctx context.Context, p xapi.DocumentParams) (int, error) {
	const op = "store.DeleteDocuments"
	if p.ID != "" {
		return 0, xapi.Errorf(xapi.Invalid, op, "a multiple-document DELETE takes no document id")
	}
	prefix, err := db.docPrefix(op, p)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.docUpdate(ctx, op, func(txn *badger.Txn) error {
		var keys [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}

// writeDocument runs one checked write of the document p names: in a
// transaction it reads the stored document, checks cond against it, and
// stores what next returns (nil deletes), sealed under p's subject with
// the key as associated data. A write that loses a race with a concurrent
// one is retried from the read, so no update is lost and no precondition
// is checked against a document that has since changed.
func (db *DB) writeDocument(ctx context.Context, op string, p xapi.DocumentParams, cond xapi.Precondition, next func(old *xapi.Document) (*xapi.Document, error)) (xapi.Document, error) {
	key, err := db.docKey(op, p)
	if err != nil {
		return xapi.Document{}, err
	}
	subject := p.Subject()
	var out xapi.Document
	err = db.docUpdate(ctx, op, func(txn *badger.Txn) error {
		old, err := db.readDoc(ctx, txn, op, subject, key)
		if err != nil {
			return err
		}
		etag := ""
		if old != nil {
			etag = old.ETag
		}
		if err := cond.Check(etag, old != nil); err != nil {
			return err
		}
		d, err := next(old)
		if err != nil {
			return err
		}
		if d == nil {
			if old == nil {
				return nil
			}
			return txn.Delete(key)
		}
		d.ID, d.ETag = p.ID, xapi.DocumentETag(d.Body)
		d.Updated = db.now().UTC()
		if old != nil && !d.Updated.After(old.Updated) {
			d.Updated = old.Updated.Add(time.Microsecond) // Last-Modified moves forward
		}
		sealed, err := db.sealer.Seal(ctx, subject, key, encodeDoc(*d))
		if err != nil {
			return internal(op, fmt.Errorf("store: seal document: %w", err))
		}
		if err := txn.Set(key, sealed); err != nil {
			return err
		}
		out = *d
		out.Body = nil
		return nil
	})
	return out, err
}

// docUpdate runs fn in a read-write transaction, running it again when the
// commit conflicts with a concurrent write of a key fn read.
func (db *DB) docUpdate(ctx context.Context, op string, fn func(*badger.Txn) error) error {
	var err error
	for range maxDocAttempts {
		if err = ctx.Err(); err != nil {
			return internal(op, err)
		}
		err = db.bdb.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrTxnTooBig):
		return xapi.Errorf(xapi.TooLarge, op, "document is too large")
	}
	return internal(op, err)
}
