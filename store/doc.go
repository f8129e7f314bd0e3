// Package store keeps xAPI Statements and small system records in an embedded
// Badger v4 database, sealed per subject, and answers statement queries from
// blind indexes without decrypting anything that does not match.
//
// # Confidentiality
//
// No statement content and no plain identifier (mbox, account name, activity
// or verb IRI, registration) is written to disk. The store never sees keys: it
// calls a [Sealer] (implemented by crypto.Keyring) to seal, open and blind.
//
//   - A statement body (its MarshalJSON, stored set) is sealed under its
//     Subject() with the statement id as associated data.
//   - Open needs the subject to find the key, so each statement record carries
//     a header: the subject string sealed under the system subject "" with
//     "subject/<id>" as associated data. Reading a statement opens the header
//     first, then the body. Erasing a subject's keys leaves the header readable
//     (it names only whose key is gone) and the body unreadable.
//   - Index keys hold Blind(field, value) hashes only, for the fields "verb",
//     "registration", "agent", "agent_related", "activity" and
//     "activity_related" (from xapi.Facts; agents by IFI).
//   - Statement ids are UUIDs and appear in keys in plain form, as do the kind
//     and key of system records, which are opaque and non-personal by contract.
//   - System records are sealed under the subject "" with "x/<kind>/<key>" as
//     associated data.
//   - Canonical Activity definitions, merged from the statements' definitions
//     as they are stored, are sealed under the subject "" with their key as
//     associated data, and keyed by a blind hash of the activity id.
//
// # Key layout
//
//	s/<id>                          header + sealed body
//	f/<id>                          seq, stored, flags, purpose, legal basis, expiry and the blinded fact chain
//	q/<seq>                         stored + id: the global stored order
//	i/<field>/<uvarint len><blind><seq>  stored + id: one blind index entry
//	v/<target id>                   id of a voiding statement naming the target
//	r/<target id>\x00<referrer id>  reverse StatementRef index
//	i/purpose/<uvarint len><blind><seq>  stored + id: the statement's own recorded purpose
//	e/<expires ms><seq>             id: statements by end of retention (retention.go)
//	x/<kind>/<key>                  a sealed system record
//	c/<blind activity id>           a sealed canonical Activity definition (activities.go)
//	d/s/<agent><activity><registration><id>  a sealed State document
//	d/a/<activity><id>              a sealed Activity Profile document
//	d/g/<agent><id>                 a sealed Agent Profile document
//
// seq is a big-endian uint64 assigned once per stored statement; stored is
// non-decreasing in seq order, so seq order is stored order and since/until
// end a scan early.
//
// # Purpose and retention
//
// A statement may carry an xapi.Recorded set by the governance gate: the
// purpose it was collected for, its legal basis and a retention window.
// They are not personal data and are kept in plain form in the fact record;
// expiry is stored + the window. Each statement has a blind index entry for
// its own purpose (not its StatementRef chain's) so that a query restricted
// to a purpose (xapi.Query.Purpose) scans only that purpose's statements,
// and an e/ entry ordered by expiry for ScanExpired. DeleteStatements
// removes a statement with its attachments and index entries; it stands in
// for destroying per-bucket keys until those exist.
//
// # Documents (xAPI Communication §2.2–2.7)
//
// Each part of a document key is a uvarint length and a Blind hash: of the
// agent's IFI ("doc_agent"), the activity id ("doc_activity"), the
// registration, "" when none ("doc_registration"), and the stateId or
// profileId ("doc_id"), so no client-chosen identifier is on disk in plain
// form. The value is sealed under the agent's IFI (State, Agent Profile) or
// the system subject "" (Activity Profile), with the key as associated data;
// it holds the plain id (to answer lists), the content type, the updated
// time, the ETag and the body. A write reads the stored document, checks the
// xapi.Precondition and writes in one Badger transaction, retried when it
// conflicts with a concurrent write, so no update is lost.
//
// # StatementRef rule (xAPI Communication §2.1.3, XAPI-REQUIREMENTS 3.5.6)
//
// For every filter but since, until and limit, a statement whose object is a
// StatementRef matches when its target matches, recursively. Each statement's
// fact record therefore holds a chain of blinded fact sets: its own, then its
// target's chain (cut at [MaxRefDepth] and at the first repeated id). A
// statement matches a query when one element of its chain satisfies every
// filter; its index entries are the union over the chain. When a target is
// stored after statements referring to it, the reverse index finds the
// referrers and their chains and index entries are extended (transitively).
// Referrers of voided statements, the voiding statement included, still match.
//
// # Voiding (xAPI Data §2.3.2)
//
// A voiding statement records v/<target> whether or not the target is stored.
// A statement is voided iff such a key exists and it is not itself a voiding
// statement. Queries skip voided statements; GetStatement reports the flag.
//
// # Commit order and group commit
//
// Writers hold one mutex while they plan a batch (duplicate checks, fact
// chains), assign seq and stored, seal, fill a Badger transaction and enqueue
// it with CommitWith; they wait for durability after releasing it, so Badger
// can write concurrent batches with one fsync while commit order stays seq
// order. Badger makes a new transaction wait for commits in flight, so a
// writer opens its transaction before taking the mutex; it may then not see
// batches enqueued meanwhile. Each enqueued batch records the statement ids
// it read or wrote; a writer whose plan touches an id of such a batch waits
// for it and plans again, before it has changed any statement.
package store
