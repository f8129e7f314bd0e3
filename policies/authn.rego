# Authentication-related rules: the xAPI scopes that authz.rego leaves to
# this module (define), and break-glass access.
#
# --- break-glass ---------------------------------------------------------------
# A principal whose role is in break_glass_roles may open a break-glass
# session (POST /api/v1/break-glass) with a written justification, for at
# most break_glass_max_minutes; at most one at a time. While it is open, the Gate sets
#
#   input.context.break_glass = {"id", "opened", "expires", "purpose"}
#
# on every decision of that principal (and never otherwise). A decision on
# one of break_glass_actions that the other rules would refuse is then
# allowed, marked "break_glass": true, and the Gate records it in the audit
# log with the session's justification. Break-glass reads records; it never
# writes, deletes, manages credentials or changes policies.
#
# actions: break_glass.open    resource {"kind": "break_glass", "minutes", "purpose"}
#          break_glass.review  list the sessions (GET /api/v1/break-glass)
package custodia.authz

break_glass_roles := {"hr", "compliance"}

break_glass_reviewers := {"compliance", "auditor"}

# The longest session: data.custodia.settings.break_glass_max_minutes, or
# 240 (governance.DefaultBreakGlassMaxMinutes). The Gate refuses a longer
# request before asking (400); this rule keeps the policy's answer the same.
default break_glass_max_minutes := 240

break_glass_max_minutes := m if {
	m := data.custodia.settings.break_glass_max_minutes
	m > 0
}

# The reads of records that break-glass opens.
break_glass_actions := {
	"statements.read", "statements.query", "statements.attachments",
	"activities.read", "agents.read", "documents.read",
}

allow contains "hr and compliance may open break-glass access with a justification" if {
	input.action == "break_glass.open"
	some r in break_glass_roles
	r in roles
}

deny contains sprintf("break-glass access lasts at most %d minutes", [break_glass_max_minutes]) if {
	input.action == "break_glass.open"
	input.resource.minutes > break_glass_max_minutes
}

allow contains "compliance and auditors may review break-glass sessions" if {
	input.action == "break_glass.review"
	some r in break_glass_reviewers
	r in roles
}

# The principal has an open session and still holds a role that may open one.
break_glass_open if {
	input.context.break_glass.expires
	some r in break_glass_roles
	r in roles
}

break_glass_policy_allows if {
	count(allow) > 0
	count(deny) == 0
}

# break_glass_applies: the rules refuse, and an open session lifts the refusal.
break_glass_applies if {
	not break_glass_policy_allows
	input.action in break_glass_actions
	break_glass_open
}

break_glass_refusals := sort([r | some r in deny]) if {
	count(deny) > 0
} else := [sprintf("no rule permits %s for this principal", [input.action])]

# A query under break-glass is not restricted to the rows of one purpose;
# a read keeps its masks.
break_glass_obligations := {} if {
	input.action == "statements.query"
} else := obligations

decision := {
	"allow": true,
	"break_glass": true,
	"reasons": array.concat(
		["allowed beyond policy by an open break-glass session"],
		[sprintf("overridden: %s", [r]) | some r in break_glass_refusals],
	),
	"obligations": break_glass_obligations,
} if {
	break_glass_applies
}

# --- xAPI scope define ---------------------------------------------------------
# A statement's Activity definitions update the LRS's canonical copies only
# when its writer has the scope define (or all) (xAPI Communication §4.2:
# without it, "ids will be saved ... but [the LRS] should not update its
# internal representation of any Actors or Activities"). The write
# obligation "define" carries this to the Gate.
default may_define := false

may_define if {
	some s in {"all", "define"}
	s in scopes
}
