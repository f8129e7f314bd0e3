// Package governance decides, enforces and records every access to learning
// records.
//
// The Gate is the only door to stored statements: it wraps the store (reached
// through the StatementStore interface declared here) so that each read and
// write is
//
//  1. decided by the embedded OPA engine (Engine) from the principal, the
//     action and facts about the resource;
//  2. enforced: refused, or, for queries, narrowed to candidate rows by the
//     list-read filter (filter.go: the policy compiled by partial
//     evaluation into conditions the store answers from its indexes) and
//     then decided row by row;
//  3. recorded in the audit log (Auditor) before any data is returned or
//     written. If the audit entry cannot be written the access is refused:
//     no audit, no access.
//
// The canonical Activity definitions (ActivityStore) and the Person objects
// of the Agents resource are read through the Gate as well, under the
// actions activities.read and agents.read.
//
// The policy itself is managed through the Gate as well (manage.go, under
// the actions policies.read and policies.manage): a PolicySet (Rego modules
// and one data document) becomes active only through Engine.Check — strict
// compile, all its tests, sample decisions within DecisionTimeout — and is
// kept as a content-addressed revision in the record store, so that it can
// be rolled back and survives a restart (Engine.Restore). SimulatePolicy
// compares a candidate with the active policy on the stored statements
// without activating it.
//
// Purposes (purposes.go, from the policy data): each write is recorded
// under the purpose, legal basis and retention the decision's Obligations
// name, minimised as they say; each read decision sees the statement's
// recorded purpose and expiry, its subjects' consents (consent.go) and the
// legal holds (holds.go), and masks what it returns as the obligations say.
// Documents (documents.go) serve the purpose their activity id maps to and
// are read and written under the same rules.
// SweepRetention (retention.go) destroys what has expired and is not held.
//
// The server is handed only the Gate. Principals come from Authenticate,
// which checks Basic credentials kept (sealed) in the store's system records
// (RotateCredential replaces a secret at once), or from the server's check
// of a Bearer JWT; both are a Principal like any other.
//
// Break-glass (breakglass.go): a principal the policy allows to may open a
// time-limited session with a written justification (OpenBreakGlass). While
// it is open, every decision of that principal tells the policy so
// (input.context.break_glass); what the policy then allows beyond its rules
// is marked BreakGlass, and the audit entry carries the flag and the
// justification. BreakGlassSessions lists the sessions for review.
//
// Invariants: no statement content and no plain identifier reaches an audit
// entry or a log line; identifiers are pseudonymised with the Pseudonymizer.
package governance
