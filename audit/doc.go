// Package audit is Custodia's tamper-evident access log: an append-only
// sequence of entries (who accessed what, for which purpose, under which
// policy revision, allowed or denied) kept as an RFC 6962 Merkle tree with
// golang.org/x/mod/sumdb/tlog, and signed checkpoints of that tree in the
// signed-note format of golang.org/x/mod/sumdb/note (Ed25519).
//
// Entries hold identifiers, hashes and pseudonyms only: never statement
// bodies or plain personal identifiers.
//
// # Leaves are salted commitments
//
// The record data of leaf i (what tlog.RecordHash hashes into the RFC 6962
// leaf hash) is the 32-byte commitment
//
//	c = SHA-256(salt || canonical JSON of the Entry)
//
// with a fresh 32-byte random salt. The salt and the entry, the body, are
// stored beside c, sealed by the Sealer (crypto.Keyring in Custodia) under
// one key per month of entries ("audit:2026-03"), bound to c as associated
// data. Destroying a month's key, or removing a body, expires or erases
// that content without touching any leaf, so every checkpoint and proof
// still holds; the salt keeps a commitment from being tested against
// guessed content. A body that is present must open and hash to its
// commitment.
//
// # Files
//
// A log lives in its own directory:
//
//   - entries.jsonl: entry i is line i, the JSON object
//     {"commitment": base64 c, "bucket": "2026-03", "sealed": base64 body},
//     exactly as json.Marshal writes it (any other encoding is a fault).
//     "sealed" and "bucket" are absent for a removed body.
//   - hashes: the tlog stored hashes, 32 bytes each, at their stored-hash
//     index (tlog.StoredHashIndex).
//   - checkpoints: every commit checkpoint ever signed, one per batch of
//     appends, in order, each framed as a 4-byte big-endian length followed
//     by the signed note. The note text is tlog.FormatTree of the tree
//     (origin line, size, base64 root hash). The last one is the current
//     checkpoint; the earlier ones let Verify narrow an alteration down to
//     the batch of entries it falls in.
//   - published: the checkpoints published to auditors and witnesses
//     (Publish, periodically and on demand), framed the same way; a
//     checkpoint cosigned by witnesses (Cosign) is appended again with
//     their signatures added. The latest is the one of the largest size,
//     last written.
//   - signer.key (0600) and verifier.key: the note key pair, generated on
//     first use with the name "custodia-audit".
//
// # Witnesses
//
// A witness (the DPO, a works council) holds its own note key. It checks a
// published checkpoint (and its consistency with the last one it cosigned,
// with ProveConsistency) and signs the checkpoint text with its key, as a
// further signature line of the same note. Cosign accepts such
// cosignatures from the configured witnesses; Verify can require that the
// latest published checkpoint carries them, so that a log rewritten with
// the log's own signer key (which lives beside the log) is caught.
//
// # Durability
//
// Append returns only when its entry, the entry's stored hashes and a new
// checkpoint covering it are on disk: entries and hashes are written and
// fsynced first, then the checkpoint is appended and fsynced. Concurrent
// Appends are group-committed by one writer goroutine. Any write or sync
// failure breaks the Log for good (fail closed): every later Append fails
// and the log must be reopened, which repairs it.
//
// Open checks the current checkpoint's signature and cuts a torn or
// uncommitted tail: a partial checkpoint record, stored hashes, and entries
// beyond the last complete checkpoint (such Appends never returned
// success). Cut entries are moved to uncommitted.jsonl for inspection, not
// accepted; more than one batch of them means checkpoints were removed, and
// Open refuses. It rebuilds missing stored hashes from the entries and
// refuses to open a log whose stored tree or last entry does not match the
// signed checkpoint. Verify checks everything: every entry against its
// stored hashes, every checkpoint against the tree recomputed from the
// entries and, given the Sealer, every body against its commitment.
package audit
