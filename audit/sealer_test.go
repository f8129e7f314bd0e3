package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// errShredded is testSealer's error for a destroyed key, as
// crypto.ErrShredded is the Keyring's.
var errShredded = errors.New("test sealer: key destroyed")

// testSealer is an in-memory audit.Sealer: one XChaCha20-Poly1305 key per
// subject, which Shred destroys.
type testSealer struct {
	mu   sync.Mutex
	keys map[string][]byte
}

func newSealer() *testSealer { return &testSealer{keys: map[string][]byte{}} }

func (s *testSealer) key(subject string, create bool) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[subject]
	if !ok && !create {
		return nil, errShredded
	}
	if !ok {
		k = make([]byte, chacha20poly1305.KeySize)
		rand.Read(k)
		s.keys[subject] = k
	}
	return k, nil
}

func (s *testSealer) Seal(ctx context.Context, subject string, recordID, plaintext []byte) ([]byte, error) {
	k, _ := s.key(subject, true)
	a, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, plaintext, recordID), nil
}

func (s *testSealer) Open(ctx context.Context, subject string, recordID, sealed []byte) ([]byte, error) {
	k, err := s.key(subject, false)
	if err != nil {
		return nil, err
	}
	a, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize() {
		return nil, errors.New("test sealer: short")
	}
	return a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], recordID)
}

// Shred destroys the key of subject, as crypto.Keyring.Shred does.
func (s *testSealer) Shred(ctx context.Context, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, subject)
	return nil
}

func isShredded(err error) bool { return errors.Is(err, errShredded) }
