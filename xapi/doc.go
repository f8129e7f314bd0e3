// Package xapi is Custodia's model of xAPI Statements: strict parsing and
// validation under xAPI 1.0.3 (adlnet/xAPI-Spec, Data §2.2–2.6 and §4,
// Communication §2.1.3 and §3.3) and xAPI 2.0 (IEEE 9274.1.1, §4.2), the
// comparison rules of Data §2.3.1, the exact/ids/canonical formats, the
// identifiers a statement is found by, the GET /statements query parameters,
// the X-Experience-API-Version header, the Activity and Person objects of the
// Activities and Agents resources with the merge rule of canonical Activity
// definitions (activity.go), and the typed errors every Custodia package
// returns to clients.
//
// Parsing decodes a body with json.Decoder.UseNumber into a generic tree and
// validates that tree by hand, rule by rule: keys are matched
// case-sensitively, keys the spec does not define are rejected everywhere but
// inside extensions, null is rejected outside extensions, every value must
// have its JSON type, and formatted strings (IRIs, UUIDs, mailto IRIs,
// language tags, timestamps, durations) must be well formed. Bodies are
// limited to MaxBodyBytes and MaxDepth levels of nesting. Errors are *Error
// values of kind Invalid whose message names the path of the offending field
// ("statements[2].object.definition.interactionType: must be one of …") and
// never echoes a value.
//
// Invariants of a parsed Statement:
//   - its stored form (MarshalJSON) keeps every value as received, numbers in
//     their original text, with two normalisations the spec requires: a single
//     contextActivities Activity becomes a one-element array (Data §2.4.6.2),
//     and under 2.0 a timestamp with a numeric offset becomes the same instant
//     in UTC (2.0 §4.2.7);
//   - parse → MarshalJSON → parse gives an Equal statement and the same bytes;
//   - the stored form is deterministic: object keys in sorted order.
//
// The package imports nothing of Custodia and only the standard library.
package xapi
