package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"filippo.io/age"
)

const maxRootFileSize = 64 << 10

// loadOrCreateRoot reads the age X25519 identity in path, generating it (mode
// 0600, parent directory 0700) when the file does not exist.
func loadOrCreateRoot(path string, log *slog.Logger) (id *age.X25519Identity, generated bool, err error) {
	id, err = readRoot(path, log)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	id, err = age.GenerateX25519Identity()
	if err != nil {
		return nil, false, fmt.Errorf("crypto: generate root key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("crypto: generate root key: %w", err)
	}
	text := fmt.Sprintf("# Custodia root key (age X25519 identity). Keep it secret and back it up:\n"+
		"# without it no stored record can be read.\n# public key: %s\n%s\n", id.Recipient(), id)
	created, err := writeNew(dir, filepath.Base(path), []byte(text), 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("crypto: generate root key: %w", err)
	}
	if !created { // another process generated it first
		id, err = readRoot(path, log)
		return id, false, err
	}
	log.Info("generated root key", "path", path, "recipient", id.Recipient().String())
	return id, true, nil
}

func readRoot(path string, log *slog.Logger) (*age.X25519Identity, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("crypto: root key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		log.Warn("root key file is readable by others", "path", path, "mode", st.Mode().Perm().String())
	}
	b, err := readSmall(path, maxRootFileSize)
	if err != nil {
		return nil, fmt.Errorf("crypto: root key: %w", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("crypto: root key: %s: not an age identity file", path)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("crypto: root key: %s: want one identity, found %d", path, len(ids))
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return nil, fmt.Errorf("crypto: root key: %s: not an X25519 identity", path)
	}
	return id, nil
}
