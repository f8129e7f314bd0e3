// Package audit is Custodia's tamper-evident access log: an append-only
// sequence of entries (who accessed what, for which purpose, under which
// policy revision, allowed or denied) kept as an RFC 6962 Merkle tree with
// golang.org/x/mod/sumdb/tlog, and signed checkpoints of that tree in the
// signed-note format of golang.org/x/mod/sumdb/note (Ed25519).
//
// Entries hold identifiers, hashes and pseudonyms only: never statement
// bodies or plain personal identifiers.
//
// # Leaves are salted commitments, bound to their month
//
// An entry's body is its canonical JSON (json.Marshal of Entry) with a
// fresh 32-byte random salt before it; its commitment is
//
//	c = SHA-256(salt || canonical JSON of the Entry)
//
// The body is stored sealed beside c by the Sealer (crypto.Keyring in
// Custodia), under one key per month of entries ("audit:2026-03"), bound to
// c as associated data. The record data of the leaf (what tlog.RecordHash
// hashes into the RFC 6962 leaf hash SHA-256(0x00 || record)) names the
// month and the commitment:
//
//	entry 2026-03 <base64 c>\n
//
// so an entry cannot be moved to another month's key, or lose its month,
// without changing its leaf. The salt keeps a commitment from being tested
// against guessed content.
//
// # Erasure
//
// A month's content is erased by EraseMonth: it appends an erasure line,
// whose record data is
//
//	erase 2026-03\n
//
// (a leaf like any other, so every later checkpoint covers it), and then
// destroys the month's key. The entries' leaves, and every checkpoint and
// proof, stay valid; their bodies no longer open. Verify (and Open, and
// Entries) count a body as erased only when the log holds the erasure
// line of its month: a body removed from its line, or a key that does not
// exist, without one is a fault that names the entry. No entry is sealed
// under a month after its erasure, and the writer checks that a month's
// key still opens the month's last entry before it seals under it for the
// first time, so a key that went missing is never silently replaced.
//
// # Files
//
// A log lives in its own directory:
//
//   - entries.jsonl: line i is leaf i, one of the JSON objects
//     {"commitment": base64 c, "bucket": "2026-03", "sealed": base64 body},
//     {"commitment": base64 c, "bucket": "2026-03"} (the body dropped,
//     lawful only for an erased month), or {"erase": "2026-03"}, exactly
//     as json.Marshal writes them (any other encoding is a fault).
//   - hashes: the tlog stored hashes, 32 bytes each, at their stored-hash
//     index (tlog.StoredHashIndex), and nothing beyond those of the
//     current checkpoint.
//   - checkpoints: every commit checkpoint ever signed, one per batch of
//     appends, in order, each framed as a 4-byte big-endian length (1 to
//     64 KiB) followed by the signed note. The note text is the layout of
//     tlog.FormatTree with this log's origin and the checkpoint's number
//     (see ParseCheckpoint):
//     "custodia.audit/<key hash>\n<size>\n<base64 tree hash>\ncommit <n>\n".
//     The first is number 0, of the empty tree; each later one covers
//     more entries. The last one is the current checkpoint; the earlier
//     ones let Verify narrow an alteration down to the batch of entries
//     it falls in, and their numbers show a checkpoint removed.
//   - published: the checkpoints published to auditors and witnesses
//     (Publish, periodically and on demand), framed the same way; a
//     checkpoint cosigned by witnesses (Cosign) is appended again with
//     their signatures added. The latest is the one of the largest size,
//     last written.
//   - witnesses: the note verifier keys of the witnesses the log was
//     configured with, one a line, so that Verify checks their
//     cosignatures even when it does not require them.
//   - signer.key (0600) and verifier.key: the note key pair, generated on
//     first use with the name "custodia-audit".
//   - lock: held (flock) by the process that has the log open.
//
// # Witnesses and trusted checkpoints
//
// A witness (the DPO, a works council) holds its own note key. It checks a
// published checkpoint, and its consistency with the last one it cosigned
// (ProveConsistency, tlog.CheckTree), and signs the checkpoint text with
// its key, as a further signature line of the same note. Cosign accepts
// such cosignatures from the configured witnesses; Verify can require that
// the latest published checkpoint carries them, so that a log rewritten
// with the log's own signer key (which lives beside the log) is caught.
// A log cut back consistently to an earlier checkpoint needs no key at
// all; Verify catches that against a checkpoint kept outside the log
// (VerifyOptions.Trusted: an auditor's copy, or a witness's last cosigned
// one), which the log must extend.
//
// # Durability
//
// Append returns only when its entry, the entry's stored hashes and a new
// checkpoint covering it are on disk: entries and hashes are written and
// fsynced first, then the checkpoint is appended and fsynced. Concurrent
// Appends are group-committed by one writer goroutine. A write or sync
// failure makes the log refuse appends (fail closed, ErrUnavailable, Err
// says why); the writer then retries every Options.RetryInterval: it opens
// the files again, cuts them back to the last committed checkpoint, checks
// them, and accepts appends again.
//
// Open checks the current checkpoint's signature and cuts a torn or
// uncommitted tail: a partial checkpoint record, stored hashes, and entries
// beyond the last complete checkpoint (such Appends never returned
// success). Cut entries are moved to uncommitted.jsonl for inspection, not
// accepted; more than one batch of them means checkpoints were removed, and
// Open refuses. It rebuilds missing stored hashes from the entries and
// refuses to open a log whose stored tree does not match the signed
// checkpoint, whose lines do not parse, or whose last batch does not check
// out: each of its entries against its stored hash and its body against
// its commitment (a body gone without a recorded erasure included).
// Verify checks everything: every line against its stored hashes, every
// checkpoint against the tree recomputed from the entries and, given the
// Sealer, every body against its commitment.
package audit
