# The list-read filter: which stored statements a statement query (or
# /me/statements) may return for the principal, as conditions on each row's
# facts, so that the store reads only candidate rows from its indexes.
#
# The engine compiles data.custodia.filters.include with OPA's partial
# evaluation (rego/compile, target UCAST) for the principal, the instant and
# the legal holds of a request, leaving input.row unknown: the result is a
# condition tree over the row facts of purposes.rego (purpose, legal_basis,
# expires_ns, own, subject_held, consented). The gate maps the conditions the
# store can answer (recorded purpose, legal basis and expiry; own and
# subject_held as agents of the statement) onto its keyed-hash indexes and
# leaves the rest (consented) to the statements.read decision, which is still
# made on every row returned.
#
# include uses the very functions the statements.read decision uses, and that
# decision refuses whatever read_row_allowed does not allow, so a statement
# the decision shows always passes the filter.
package custodia.filters

import data.custodia.authz

include if {
	authz.read_row_allowed(input.row)
	authz.row_purpose_ok(input.row)
	authz.row_consent_ok(input.row)
	authz.row_retention_ok(input.row)
}
