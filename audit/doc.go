// Package audit is Custodia's tamper-evident access log: an append-only
// sequence of entries (who accessed what, for which purpose, under which
// policy revision, allowed or denied) kept as an RFC 6962 Merkle tree with
// golang.org/x/mod/sumdb/tlog, and signed checkpoints of that tree in the
// signed-note format of golang.org/x/mod/sumdb/note (Ed25519).
//
// Entries hold identifiers, hashes and pseudonyms only: never statement
// bodies or plain personal identifiers.
//
// # Files
//
// A log lives in its own directory:
//
//   - entries.jsonl: entry i is line i, the canonical JSON of the Entry
//     (json.Marshal) followed by a newline. The line without its newline is
//     the tlog record data of leaf i.
//   - hashes: the tlog stored hashes, 32 bytes each, at their stored-hash
//     index (tlog.StoredHashIndex).
//   - checkpoints: every checkpoint ever signed, in order, each framed as a
//     4-byte big-endian length followed by the signed note. The note text
//     is tlog.FormatTree of the tree (origin line, size, base64 root hash).
//     The last one is the current checkpoint; the earlier ones let Verify
//     narrow an alteration down to the batch of entries it falls in, and
//     leave room for consistency proofs.
//   - signer.key (0600) and verifier.key: the note key pair, generated on
//     first use with the name "custodia-audit".
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
// stored hashes, and every checkpoint against the tree recomputed from the
// entries.
package audit
