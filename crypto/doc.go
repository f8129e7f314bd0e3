// Package crypto is Custodia's keyring: it seals and opens records per data
// subject, computes blind-index HMACs and pseudonyms, and destroys keys to
// erase data (crypto-shredding). Key material never leaves this package.
//
// Callers that also need the standard library's crypto import it as
// lrscrypto.
//
// # Key hierarchy (this version)
//
// The root is an age X25519 identity kept in its own file (the only file that
// holds a plaintext key). Everything else in the key store directory is
// wrapped to the root's recipient with age (age-encryption.org/v1):
//
//   - index.key.age: the 32-byte index master key. Per-field blind-index
//     keys are derived from it with HKDF-SHA256 (RFC 5869), info
//     "custodia/v1/blind\x00" || field; the key that names key files is
//     derived with info "custodia/v1/key-name".
//   - dek-<hex>.age: one 32-byte data key (DEK) per subject. The hex part
//     is HMAC-SHA256(name key, encoded key id), so the plain subject never
//     appears on disk. The key id is a tuple, today just the subject; a
//     later version adds the retention class and time bucket to it and
//     puts epoch KEKs between the root and the DEKs.
//
// Records are sealed with XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) under
// the subject's DEK, with the record id as associated data. A sealed record
// is version byte (1) || 24-byte random nonce || ciphertext and tag.
//
// # Invariants
//
//   - Key files are written atomically and never overwritten: temp file,
//     fsync, hard link to the final name (a rename that cannot clobber a key
//     another writer created first), directory fsync.
//   - Unwrapped DEKs live only in memory, in a bounded LRU cache; the cached
//     path of Seal and Open does not touch the disk.
//   - Shred overwrites and removes the DEK file and drops the key from the
//     cache. Records sealed under it can no longer be opened. Until epoch
//     KEKs are retired (a later version), a copy of the wrapped DEK that
//     survives in a backup of the key store can still be unwrapped by the
//     root.
//
// age draws its own randomness from crypto/rand (root identity generation
// and wrapping); Options.Rand supplies the DEKs, the index master key and the
// nonces.
package crypto
