# Access control for learning records: which principal may write, read and
# query statements, and who may manage credentials.
#
# A decision is allowed when at least one rule in `allow` grants it and no
# rule in `deny` forbids it. Reasons are returned to the caller and written
# to the audit log, so they name rules, never people. An allowing decision
# carries `obligations` (see purposes.rego): the purpose, legal basis,
# retention and minimisation of a write, the masks of a read.
package custodia.authz

roles := {r | some r in input.principal.roles}

scopes := {s | some s in input.principal.scopes}

identities := {i | some i in input.principal.identities}

decision := {"allow": true, "reasons": sort([r | some r in allow]), "obligations": obligations} if {
	count(allow) > 0
	count(deny) == 0
}

decision := {"allow": false, "reasons": sort([r | some r in deny])} if {
	count(deny) > 0
}

decision := {"allow": false, "reasons": [sprintf("no rule permits %s for this principal", [input.action])]} if {
	count(allow) == 0
	count(deny) == 0
}

# --- administration ---------------------------------------------------------

allow contains "admin may perform every action" if "admin" in roles

# --- writing statements ------------------------------------------------------

write_scope if {
	some s in {"all", "statements/write"}
	s in scopes
}

allow contains "an activity provider may write statements" if {
	input.action == "statements.write"
	"client" in roles
	write_scope
}

allow contains "a learner may record statements about themself" if {
	input.action == "statements.write"
	"learner" in roles
	write_scope
	count(input.resource.subjects) > 0
	every s in input.resource.subjects {
		s in identities
	}
}

deny contains "only activity providers and admins may void statements" if {
	input.action == "statements.write"
	input.resource.voiding
	not "admin" in roles
	not "client" in roles
}

# --- reading statements ------------------------------------------------------

read_all_scope if {
	some s in {"all", "all/read", "statements/read"}
	s in scopes
}

# A principal bound to a person may read the statements about that person.
read_own if {
	"learner" in roles
}

read_own if {
	"statements/read/mine" in scopes
	count(identities) > 0
}

allow contains "an activity provider with a read scope may read statements" if {
	input.action in {"statements.read", "statements.query"}
	"client" in roles
	read_all_scope
}

allow contains "a person may query statements; results are limited to their own" if {
	input.action == "statements.query"
	read_own
}

allow contains "a person may read statements about themself" if {
	input.action == "statements.read"
	read_own
	some a in input.resource.about
	a in identities
}

# --- Activities and Agents resources -----------------------------------------

# Reading the canonical definition of an Activity (GET /activities, and
# format=canonical on statement reads). Definitions describe activities, not
# people: whoever may read statements may read them.
define_scope if {
	some s in {"all", "all/read", "statements/read", "define"}
	s in scopes
}

allow contains "an activity provider with a read or define scope may read activity definitions" if {
	input.action == "activities.read"
	"client" in roles
	define_scope
}

allow contains "a person may read the definitions of activities" if {
	input.action == "activities.read"
	read_own
}

# Reading the Person object of an agent (GET /agents): the identifiers known
# for someone are personal data.
allow contains "an activity provider with a read or define scope may read agents" if {
	input.action == "agents.read"
	"client" in roles
	define_scope
}

allow contains "a person may read their own agent" if {
	input.action == "agents.read"
	read_own
	count(input.resource.about) > 0
	every a in input.resource.about {
		a in identities
	}
}

# --- documents: State, Activity Profile, Agent Profile ------------------------
# resource: {"kind": "state" | "activity_profile" | "agent_profile",
#            "subjects": [the agent's IFIs], "activity": activityId or ""}

document_actions := {"documents.read", "documents.write", "documents.delete"}

# The xAPI scope that covers each kind of document (xAPI Communication §4.2).
document_scope := {"state": "state", "activity_profile": "profile", "agent_profile": "profile"}

allow contains "an activity provider may use the documents its scopes cover" if {
	input.action in document_actions
	"client" in roles
	some s in {"all", document_scope[input.resource.kind]}
	s in scopes
}

allow contains "an activity provider with a read scope may read documents" if {
	input.action == "documents.read"
	"client" in roles
	"all/read" in scopes
}

allow contains "a learner may use their own state and agent profile documents" if {
	input.action in document_actions
	"learner" in roles
	input.resource.kind in {"state", "agent_profile"}
	count(input.resource.subjects) > 0
	every s in input.resource.subjects {
		s in identities
	}
}
