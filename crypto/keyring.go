package crypto

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// Errors returned by the keyring. Callers match them with errors.Is and wrap
// them in their own error types.
var (
	// ErrShredded reports that the subject's data key was destroyed, or that
	// no key was ever created for the subject.
	ErrShredded = errors.New("crypto: key shredded or never created")
	// ErrOpen reports that a sealed record failed authentication: wrong key,
	// wrong record id, or altered bytes.
	ErrOpen = errors.New("crypto: message authentication failed")
	// ErrClosed reports use of a closed Keyring.
	ErrClosed = errors.New("crypto: keyring closed")
)

const (
	sealVersion    = 1
	keySize        = chacha20poly1305.KeySize
	nonceSize      = chacha20poly1305.NonceSizeX
	sealOverhead   = 1 + nonceSize + chacha20poly1305.Overhead
	masterFile     = "index.key.age"
	dekPrefix      = "dek-"
	keyFileSuffix  = ".age"
	tempPrefix     = ".tmp-"
	maxWrappedSize = 4 << 10 // a wrapped 32-byte key is about 200 bytes
	defaultCache   = 4096
	lockStripes    = 64
	maxFieldCache  = 1024
	pseudonymBytes = 16
)

// Options configures a Keyring. The zero value is ready to use.
type Options struct {
	Rand      io.Reader    // randomness for keys and nonces; nil: crypto/rand
	Logger    *slog.Logger // nil: discard
	CacheSize int          // max unwrapped DEKs kept in memory; 0: 4096
}

// Keyring holds the root identity and the key store. Its methods are safe for
// concurrent use.
type Keyring struct {
	dir       string
	rand      io.Reader
	log       *slog.Logger
	identity  *age.X25519Identity
	recipient *age.X25519Recipient
	generated bool

	nameKey []byte // HMAC key that names key files
	master  []byte // index master key, HKDF input for blind-index keys

	fields  sync.Map // field name → *fieldHasher
	nfields atomic.Int64

	cache   *lru
	stripes [lockStripes]sync.Mutex // serialise loading, creating and shredding one key
	closed  atomic.Bool
}

// keyID names one data key. Today a DEK belongs to a subject; the retention
// class and time bucket join the tuple when they arrive, and its encoding
// (see fileName) stays unambiguous as fields are appended.
type keyID struct {
	subject string
}

// OpenKeyring opens (creating if needed) the key store directory dir and the
// age X25519 root identity file rootKeyFile. When rootKeyFile does not exist
// it is generated with mode 0600 (its parent directory 0700) and Generated
// reports true so that the caller can warn.
func OpenKeyring(dir, rootKeyFile string, o Options) (*Keyring, error) {
	if dir == "" || rootKeyFile == "" {
		return nil, errors.New("crypto: open keyring: key store directory and root key file are required")
	}
	if o.CacheSize < 0 {
		return nil, fmt.Errorf("crypto: open keyring: negative cache size %d", o.CacheSize)
	}
	k := &Keyring{dir: dir, rand: o.Rand, log: o.Logger}
	if k.rand == nil {
		k.rand = rand.Reader
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	size := o.CacheSize
	if size == 0 {
		size = defaultCache
	}
	k.cache = newLRU(size)

	// A lost root must not be replaced silently: the key store would be unreadable.
	if _, err := os.Stat(rootKeyFile); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, masterFile)); err == nil {
			return nil, fmt.Errorf("crypto: open keyring: root key file %s missing for an existing key store", rootKeyFile)
		}
	}
	id, generated, err := loadOrCreateRoot(rootKeyFile, k.log)
	if err != nil {
		return nil, err
	}
	k.identity, k.recipient, k.generated = id, id.Recipient(), generated

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("crypto: open keyring: %w", err)
	}
	if err := removeTemps(dir); err != nil {
		return nil, fmt.Errorf("crypto: open keyring: %w", err)
	}
	master, err := k.loadOrCreateMaster()
	if err != nil {
		return nil, err
	}
	k.master = master
	k.nameKey = derive(master, "custodia/v1/key-name")
	return k, nil
}

// Generated reports whether OpenKeyring generated the root identity file.
func (k *Keyring) Generated() bool { return k.generated }

// Recipient returns the root's public age recipient ("age1…"), for display.
func (k *Keyring) Recipient() string { return k.recipient.String() }

// Close drops every cached data key. Seal, Open and Shred fail with ErrClosed
// afterwards; Blind and Pseudonym keep working.
func (k *Keyring) Close() error {
	if k.closed.Swap(true) {
		return nil
	}
	k.cache.clear()
	return nil
}

// Seal encrypts plaintext for subject (an opaque string such as an agent IFI;
// "" means the system) with XChaCha20-Poly1305 under the subject's data key,
// with recordID as associated data. The key is created on first use. The
// result is version byte || nonce || ciphertext.
func (k *Keyring) Seal(ctx context.Context, subject string, recordID, plaintext []byte) ([]byte, error) {
	if err := k.check(ctx); err != nil {
		return nil, err
	}
	aead, err := k.dek(keyID{subject: subject}, true)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, len(plaintext)+sealOverhead)
	out[0] = sealVersion
	if _, err := io.ReadFull(k.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("crypto: seal: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, recordID), nil
}

// Open reverses Seal. It fails with ErrShredded when the subject's key was
// destroyed or never existed, and with ErrOpen when sealed does not
// authenticate under the subject's key and recordID.
func (k *Keyring) Open(ctx context.Context, subject string, recordID, sealed []byte) ([]byte, error) {
	if err := k.check(ctx); err != nil {
		return nil, err
	}
	if len(sealed) < sealOverhead || sealed[0] != sealVersion {
		return nil, ErrOpen
	}
	aead, err := k.dek(keyID{subject: subject}, false)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], recordID)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Shred destroys the subject's data key: the key file is overwritten and
// removed, the directory synced and the key dropped from the cache. Every
// record sealed for the subject becomes unopenable. Shredding a subject that
// has no key is not an error. A later Seal for the subject creates a new key.
func (k *Keyring) Shred(ctx context.Context, subject string) error {
	if err := k.check(ctx); err != nil {
		return err
	}
	id := keyID{subject: subject}
	name := k.fileName(id)
	mu := k.stripe(name)
	mu.Lock()
	defer mu.Unlock()
	k.cache.remove(id)
	path := filepath.Join(k.dir, name)
	if err := overwrite(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("crypto: shred: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("crypto: shred: %w", err)
	}
	if err := syncDir(k.dir); err != nil {
		return fmt.Errorf("crypto: shred: %w", err)
	}
	k.log.Info("data key shredded", "key", name[:len(dekPrefix)+16])
	return nil
}

// Blind returns the keyed hash (HMAC-SHA256, 32 bytes) of value for the named
// index field. The per-field key is derived with HKDF-SHA256 from the index
// master key, so the result is deterministic for the life of the key store
// and differs between fields.
func (k *Keyring) Blind(field, value string) []byte {
	fh := k.fieldHasher(field)
	h := fh.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(value))
	sum := h.Sum(make([]byte, 0, sha256.Size))
	fh.pool.Put(h)
	return sum
}

// Pseudonym returns a short stable pseudonymous id for value: the hex of the
// first 16 bytes of Blind("pseudonym", value). It is meant for audit entries
// and logs.
func (k *Keyring) Pseudonym(value string) string {
	return hex.EncodeToString(k.Blind("pseudonym", value)[:pseudonymBytes])
}

func (k *Keyring) check(ctx context.Context) error {
	if k.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// dek returns the AEAD for id: from the cache, else unwrapped from the key
// store, else (when create is set) a new key.
func (k *Keyring) dek(id keyID, create bool) (cipher.AEAD, error) {
	if a, ok := k.cache.get(id); ok {
		return a, nil
	}
	name := k.fileName(id)
	mu := k.stripe(name)
	mu.Lock()
	defer mu.Unlock()
	if a, ok := k.cache.get(id); ok {
		return a, nil
	}
	key, err := k.readKey(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		key, err = k.createKey(name)
		if err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrShredded
	case err != nil:
		return nil, err
	}
	a, err := chacha20poly1305.NewX(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("crypto: data key: %w", err)
	}
	if k.closed.Load() {
		return nil, ErrClosed
	}
	k.cache.add(id, a)
	return a, nil
}

// createKey makes a new random key, stores it wrapped under name and returns
// it. When another writer stored a key under name first, that key is
// returned instead.
func (k *Keyring) createKey(name string) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := io.ReadFull(k.rand, key); err != nil {
		return nil, fmt.Errorf("crypto: new key: %w", err)
	}
	wrapped, err := k.wrap(key)
	if err != nil {
		return nil, err
	}
	created, err := writeNew(k.dir, name, wrapped, 0o600)
	if err != nil {
		return nil, fmt.Errorf("crypto: store key: %w", err)
	}
	if !created {
		clear(key)
		return k.readKey(name)
	}
	return key, nil
}

func (k *Keyring) readKey(name string) ([]byte, error) {
	path := filepath.Join(k.dir, name)
	b, err := readSmall(path, maxWrappedSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("crypto: read key: %w", err)
	}
	if len(bytes.TrimLeft(b, "\x00")) == 0 {
		// Shred was interrupted between overwriting and removing: finish it.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("crypto: read key: %w", err)
		}
		if err := syncDir(k.dir); err != nil {
			return nil, fmt.Errorf("crypto: read key: %w", err)
		}
		return nil, fs.ErrNotExist
	}
	return k.unwrap(b)
}

func (k *Keyring) wrap(key []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, k.recipient)
	if err != nil {
		return nil, fmt.Errorf("crypto: wrap key: %w", err)
	}
	if _, err := w.Write(key); err != nil {
		return nil, fmt.Errorf("crypto: wrap key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("crypto: wrap key: %w", err)
	}
	return buf.Bytes(), nil
}

func (k *Keyring) unwrap(wrapped []byte) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(wrapped), k.identity)
	if err != nil {
		return nil, fmt.Errorf("crypto: unwrap key (wrong root key?): %w", err)
	}
	key := make([]byte, keySize+1)
	n, err := io.ReadFull(r, key)
	if err != io.ErrUnexpectedEOF || n != keySize {
		return nil, errors.New("crypto: unwrap key: wrapped key has the wrong length")
	}
	return key[:keySize], nil
}

// loadOrCreateMaster reads the index master key, generating it when the key
// store is new. It refuses to generate one for a key store that already
// holds data keys, whose names would no longer be found.
func (k *Keyring) loadOrCreateMaster() ([]byte, error) {
	master, err := k.readKey(masterFile)
	if err == nil {
		return master, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("crypto: open keyring: index master key: %w", err)
	}
	ents, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("crypto: open keyring: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), dekPrefix) {
			return nil, errors.New("crypto: open keyring: index master key missing from a key store that holds data keys")
		}
	}
	master, err = k.createKey(masterFile)
	if err != nil {
		return nil, fmt.Errorf("crypto: open keyring: index master key: %w", err)
	}
	k.log.Info("created key store", "dir", k.dir)
	return master, nil
}

// fileName derives the key file name of id from a keyed hash: the plain
// subject never reaches the disk. Each field of the id is written length
// prefixed, so appending fields later keeps the encoding unambiguous.
func (k *Keyring) fileName(id keyID) string {
	m := hmac.New(sha256.New, k.nameKey)
	writeField(m, "dek/v1")
	writeField(m, id.subject)
	return dekPrefix + hex.EncodeToString(m.Sum(nil)) + keyFileSuffix
}

func (k *Keyring) stripe(name string) *sync.Mutex {
	// name is dekPrefix + hex of a uniform hash: two hex digits pick a stripe.
	b, _ := hex.DecodeString(name[len(dekPrefix) : len(dekPrefix)+2])
	if len(b) == 0 {
		return &k.stripes[0]
	}
	return &k.stripes[int(b[0])%lockStripes]
}

// fieldHasher holds a pool of HMACs keyed for one blind-index field.
type fieldHasher struct {
	pool sync.Pool
}

func (k *Keyring) fieldHasher(field string) *fieldHasher {
	if v, ok := k.fields.Load(field); ok {
		return v.(*fieldHasher)
	}
	key := derive(k.master, "custodia/v1/blind\x00"+field)
	fh := &fieldHasher{}
	fh.pool.New = func() any { return hmac.New(sha256.New, key) }
	if k.nfields.Load() >= maxFieldCache {
		return fh // do not let arbitrary field names grow the map
	}
	v, loaded := k.fields.LoadOrStore(field, fh)
	if !loaded {
		k.nfields.Add(1)
	}
	return v.(*fieldHasher)
}

// derive expands a 32-byte key for info from secret with HKDF-SHA256.
func derive(secret []byte, info string) []byte {
	out := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(info)), out); err != nil {
		panic("crypto: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	return out
}

func writeField(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	h.Write([]byte(s))
}
