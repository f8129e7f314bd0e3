# Purposes of processing: what each statement is recorded for, on which
# legal basis and for how long; who may read it for which purpose; consent,
# legal holds, retention, minimisation and masking.
#
# The purposes and settings are policy data (data.json, mounted at
# data.custodia): HR and compliance change them without touching Rego.
#
# Input added by the Gate (see package governance):
#   input.principal.purpose   the request's purpose ("" = the default purpose)
#   input.resource            for statements.write: activities, activity_types,
#                             client, signed, fields (paths present);
#                             for statements.read: purpose, legal_basis,
#                             stored, expires (RFC 3339, "" = never)
#   input.context             now (RFC 3339), consents {IFI: {purpose: bool}} of
#                             everyone the statement is about (resource.about:
#                             actor, Agent/Group object, members), holds
#                             {subjects, purposes}
#
# Consent and legal holds concern everyone a statement is about
# (resource.about), not only its actor (resource.subjects): a statement
# "Bob mentored Alice" needs Alice's consent too.
package custodia.authz

# Purposes and settings are read through references into data (purpose(id),
# data.custodia.settings.x), never copied whole into a value: a decision
# then reads only the members it needs.
purpose(id) := data.custodia.purposes[id]

has_purposes if data.custodia.purposes[_]

default default_purpose := ""

default_purpose := data.custodia.settings.default_purpose

principal_purpose := object.get(input.principal, "purpose", "")

# The purpose a request is made for: the one it names, else the default.
request_purpose := principal_purpose if {
	principal_purpose != ""
} else := default_purpose

# settings.admin_bypass exempts admin (the operator: imports, migrations,
# the conformance suite) from the purpose rules: its writes need no consent
# and are stored unminimised, and it reads every purpose whatever the
# consents. Retention still applies: expired data is gone for everyone.
# Set it to false to hold admin to the same rules as everyone else.
admin_bypass if {
	"admin" in roles
	data.custodia.settings.admin_bypass == true
}

# --- which purpose a written statement belongs to -----------------------------

res_list(k) := object.get(input.resource, k, [])

# A purpose matches when each of its non-empty conditions holds; a purpose
# without conditions never matches (it can only be the default).
purpose_matches(p) if {
	m := object.get(p, "match", {})
	some k in ["clients", "activity_prefixes", "verbs", "activity_types"]
	count(object.get(m, k, [])) > 0
	match_clients(m)
	match_prefixes(m)
	match_verbs(m)
	match_types(m)
}

match_clients(m) if count(object.get(m, "clients", [])) == 0

match_clients(m) if input.resource.client in m.clients

match_prefixes(m) if count(object.get(m, "activity_prefixes", [])) == 0

match_prefixes(m) if {
	some prefix in m.activity_prefixes
	some a in res_list("activities")
	startswith(a, prefix)
}

match_verbs(m) if count(object.get(m, "verbs", [])) == 0

match_verbs(m) if input.resource.verb in m.verbs

match_types(m) if count(object.get(m, "activity_types", [])) == 0

match_types(m) if {
	some t in res_list("activity_types")
	t in m.activity_types
}

matching_purposes := {id | some id, p in data.custodia.purposes; purpose_matches(p)}

# Overlapping purposes: the one the writer names wins, else the first by id.
write_purpose := principal_purpose if {
	principal_purpose in matching_purposes
} else := p if {
	p := sort(matching_purposes)[0]
} else := default_purpose

write_def := purpose(write_purpose)

consented(subject, purpose) if input.context.consents[subject][purpose] == true

deny contains sprintf("statements map to purpose %s, which is not defined", [write_purpose]) if {
	input.action == "statements.write"
	has_purposes
	not write_def
}

# A purpose the writer names (X-Custodia-Purpose or its credential's
# default) must be defined, and, when the purpose names the clients that
# write for it, the writer must be one of them.
deny contains sprintf("purpose %s is not defined", [principal_purpose]) if {
	input.action == "statements.write"
	principal_purpose != ""
	has_purposes
	not purpose(principal_purpose)
}

deny contains sprintf("this principal may not write for purpose %s", [principal_purpose]) if {
	input.action == "statements.write"
	count(object.get(object.get(purpose(principal_purpose), "match", {}), "clients", [])) > 0
	not input.resource.client in purpose(principal_purpose).match.clients
	not admin_bypass
}

deny contains sprintf("purpose %s needs the consent of every person the statement is about", [write_purpose]) if {
	input.action == "statements.write"
	write_def.legal_basis == "consent"
	not admin_bypass
	some s in res_list("about")
	not consented(s, write_purpose)
}

# The paths minimisation removes from this statement.
minimise_present := [path |
	some path in object.get(write_def, "minimise", [])
	path in res_list("fields")
]

deny contains sprintf("a signed statement cannot be minimised for purpose %s without breaking its signature", [write_purpose]) if {
	input.action == "statements.write"
	input.resource.signed == true
	count(minimise_present) > 0
	object.get(write_def, "signed_statements", "reject") == "reject"
	not admin_bypass
}

# keep_whole: a signed statement is stored unchanged.
write_minimise := [] if {
	input.resource.signed == true
} else := [] if {
	admin_bypass
} else := minimise_present

write_obligations := {
	"purpose": write_purpose,
	"legal_basis": write_def.legal_basis,
	"retention_days": object.get(write_def, "retention_days", 0),
	"minimise": write_minimise,
	"define": may_define,
}

# --- reading ------------------------------------------------------------------

readable_purpose if {
	some r in roles
	r in purpose(request_purpose).readers
}

deny contains sprintf("purpose %s is not defined", [request_purpose]) if {
	input.action == "statements.query"
	has_purposes
	not purpose(request_purpose)
}

deny contains sprintf("no role of this principal may read for purpose %s", [request_purpose]) if {
	input.action == "statements.query"
	purpose(request_purpose)
	not "admin" in roles
	not readable_purpose
}

allow contains "hr and compliance may read statements for the purposes their roles may read" if {
	input.action in {"statements.read", "statements.query"}
	some r in {"hr", "compliance"}
	r in roles
	readable_purpose
}

row_purpose := p if {
	p := object.get(input.resource, "purpose", "")
	p != ""
} else := default_purpose

# Statements about the reader themself: the right of access is not bound
# to a purpose, and withdrawing consent does not hide them from their subject.
own_row if {
	some a in res_list("about")
	a in identities
}

# --- the rules on one stored row ----------------------------------------------
# Whether a stored statement (a row) may be read is decided by functions of
# its row facts, an object:
#   purpose       the purpose recorded at write ("" none: the default purpose)
#   legal_basis   the legal basis recorded at write ("" none: the purpose's current one)
#   expires_ns    the end of its retention, ns since the Unix epoch (0: never)
#   now_ns        the instant it is read at, ns since the Unix epoch
#   own           whether it is about the reader (one of its agents is theirs)
#   subject_held  whether a legal hold pins one of the persons it is about
#   consented     whether every person it is about consents to its purpose
# The statements.read decision builds the facts of the statement it decides
# (read_row); the list-read filter (filters.rego) leaves them unknown and
# compiles the same functions into conditions the store answers from its
# indexes. A rule that lets a principal read statements must therefore be
# a body of read_row_allowed too: statements.read refuses what
# read_row_allowed does not allow, so the filter never hides a statement
# the decision would show.

# A decision without an instant (context.now) sees nothing expire.
default now_ns := 0

now_ns := time.parse_rfc3339_ns(input.context.now)

expires_ns := time.parse_rfc3339_ns(e) if {
	e := object.get(input.resource, "expires", "")
	e != ""
} else := 0

default own_flag := false

own_flag if own_row

default subject_held_flag := false

subject_held_flag if {
	some s in res_list("about")
	s in object.get(object.get(input.context, "holds", {}), "subjects", [])
}

default consented_flag := false

consented_flag if {
	every s in res_list("about") {
		consented(s, row_purpose)
	}
}

# read_row is the row facts of the statement input.resource describes.
read_row := {
	"purpose": object.get(input.resource, "purpose", ""),
	"legal_basis": object.get(input.resource, "legal_basis", ""),
	"expires_ns": expires_ns,
	"now_ns": now_ns,
	"own": own_flag,
	"subject_held": subject_held_flag,
	"consented": consented_flag,
}

# read_row_allowed(row): a rule lets the principal read rows like row.
read_row_allowed(_) if "admin" in roles

read_row_allowed(_) if {
	"client" in roles
	read_all_scope
}

read_row_allowed(row) if {
	read_own
	row.own == true
}

read_row_allowed(_) if {
	some r in {"hr", "compliance"}
	r in roles
	readable_purpose
}

# row_for(row, p): row counts as recorded for purpose p.
row_for(row, p) if row.purpose == p

row_for(row, p) if {
	row.purpose == ""
	default_purpose == p
}

# row_purpose_ok(row): the principal reads row for the request's purpose.
row_purpose_ok(_) if admin_bypass

row_purpose_ok(row) if row.own == true

row_purpose_ok(row) if row_for(row, request_purpose)

consent_purposes := {id | some id, p in data.custodia.purposes; p.legal_basis == "consent"}

default_on_consent if purpose(default_purpose).legal_basis == "consent"

# consent_free(row): reading row needs no consent: its recorded legal basis
# is another, or, none recorded, its purpose's current basis is.
consent_free(row) if {
	row.legal_basis != ""
	row.legal_basis != "consent"
}

consent_free(row) if {
	row.legal_basis == ""
	row.purpose != ""
	every id in consent_purposes {
		row.purpose != id
	}
}

consent_free(row) if {
	row.legal_basis == ""
	not default_on_consent
	every id in consent_purposes {
		row.purpose != id
	}
}

row_consent_ok(_) if admin_bypass

row_consent_ok(row) if row.own == true

row_consent_ok(row) if consent_free(row)

row_consent_ok(row) if row.consented == true

unexpired(row) if row.expires_ns == 0

unexpired(row) if row.expires_ns > row.now_ns

held_purposes := object.get(object.get(input.context, "holds", {}), "purposes", [])

held_row(row) if row.subject_held == true

held_row(row) if {
	some p in held_purposes
	row_for(row, p)
}

row_retention_ok(row) if unexpired(row)

row_retention_ok(row) if held_row(row)

expired if not unexpired(read_row)

held if held_row(read_row)

deny contains "no rule that lets this principal read statements covers this one" if {
	input.action == "statements.read"
	count(allow) > 0
	not read_row_allowed(read_row)
}

deny contains sprintf("statement recorded for purpose %s, not for %s", [row_purpose, request_purpose]) if {
	input.action == "statements.read"
	not row_purpose_ok(read_row)
}

deny contains sprintf("consent to purpose %s was withdrawn or never given", [row_purpose]) if {
	input.action == "statements.read"
	not row_consent_ok(read_row)
}

deny contains sprintf("the retention period of purpose %s has ended", [row_purpose]) if {
	input.action == "statements.read"
	not row_retention_ok(read_row)
}

# Masks: a path is masked when every role by which the principal reads the
# purpose masks it. Nothing is masked from the person the statement is about.
reader_roles := {r | some r in roles; r in purpose(row_purpose).readers}

role_masks(r) := m if {
	m := purpose(row_purpose).masks[r]
} else := []

read_mask := [] if {
	own_row
} else := sort([path |
	some r in reader_roles
	some path in role_masks(r)
	every r2 in reader_roles {
		path in role_masks(r2)
	}
])

# --- obligations of an allowing decision --------------------------------------

default obligations := {}

obligations := write_obligations if input.action == "statements.write"

obligations := {"mask": read_mask} if input.action == "statements.read"

# A query by a principal who is no person (so reads no statement as its own)
# only ever sees rows of its purpose: the store restricts the scan to them.
obligations := {"purpose": request_purpose} if {
	input.action == "statements.query"
	not admin_bypass
	not break_glass_open
	count(identities) == 0
	request_purpose != ""
}

# --- documents: the State and Agent Profile resources --------------------------
# A document about a person (State, Agent Profile; resource.subjects the
# agent's IFIs) serves the purpose its activity id maps to by the match rules
# of statements: the first purpose, by id, whose conditions its activity
# satisfies (a document has no client, verb or type, so purposes with such
# conditions never match), else the default. The purpose follows from the
# document's identity, so every document of a set (a list, a multiple
# delete) serves the same one, and writes and reads agree on it. Writes need
# the consent of the person when the purpose rests on consent; reads are
# those of statements: for the request's purpose, by a role that reads it,
# with consent where it rests on consent. The person always reads their own;
# admin_bypass exempts admin. Activity Profiles are about no one and serve
# no purpose.

personal_document if {
	input.resource.kind in {"state", "agent_profile"}
	count(res_list("subjects")) > 0
}

document_purpose := p if {
	p := sort(matching_purposes)[0]
} else := default_purpose

own_document if {
	every s in res_list("subjects") {
		s in identities
	}
}

document_purpose_readable if {
	some r in roles
	r in purpose(document_purpose).readers
}

document_rules if {
	personal_document
	has_purposes
	not admin_bypass
}

deny contains sprintf("document serves purpose %s, not %s", [document_purpose, request_purpose]) if {
	input.action == "documents.read"
	document_rules
	not own_document
	document_purpose != request_purpose
}

deny contains sprintf("no role of this principal may read for purpose %s", [document_purpose]) if {
	input.action == "documents.read"
	document_rules
	not own_document
	not document_purpose_readable
}

# The consent rules on documents apply only to a principal that some rule
# lets use the document: to one that may not use it at all, the answer is
# the same whether or not the person consented (it learns nothing of them).
deny contains sprintf("purpose %s needs the consent of the person the document is about", [document_purpose]) if {
	input.action == "documents.write"
	count(allow) > 0
	document_rules
	purpose(document_purpose).legal_basis == "consent"
	some s in res_list("subjects")
	not consented(s, document_purpose)
}

deny contains sprintf("consent to purpose %s was withdrawn or never given", [document_purpose]) if {
	input.action == "documents.read"
	count(allow) > 0
	document_rules
	not own_document
	purpose(document_purpose).legal_basis == "consent"
	some s in res_list("subjects")
	not consented(s, document_purpose)
}

# --- consent, legal holds and retention ------------------------------------

allow contains "a person may see and change their own consents" if {
	input.action in {"consents.read", "consents.write"}
	count(identities) > 0
}

allow contains "compliance may manage legal holds" if {
	input.action == "holds.manage"
	"compliance" in roles
}

allow contains "compliance may run the retention sweep" if {
	input.action == "retention.sweep"
	"compliance" in roles
}

# retention.expire: may the sweep destroy this statement? Only when its
# retention has ended and no legal hold pins it — whoever sweeps.
allow contains "the retention period has ended" if {
	input.action == "retention.expire"
	expired
}

deny contains "the retention period has not ended" if {
	input.action == "retention.expire"
	not expired
}

deny contains "a legal hold pins this statement" if {
	input.action == "retention.expire"
	held
}
