package custodia.authn_test

import data.custodia.authz
import data.custodia.fixture

alice := "mbox:mailto:alice@example.com"

bob := "mbox:mailto:bob@example.com"

now := "2026-03-01T12:00:00Z"

hr := {"id": "k-hr", "roles": ["hr"], "scopes": [], "identities": [], "purpose": "learning-records"}

compliance := {"id": "k-co", "roles": ["compliance"], "scopes": [], "identities": [], "purpose": ""}

auditor := {"id": "k-au", "roles": ["auditor"], "scopes": [], "identities": [], "purpose": ""}

learner_alice := {"id": "k-alice", "roles": ["learner"], "scopes": ["statements/write", "statements/read/mine", "state", "profile"], "identities": [alice], "purpose": ""}

client := {"id": "k-lms", "roles": ["client"], "scopes": ["statements/write"], "identities": [], "purpose": ""}

# The context the Gate adds while a break-glass session is open.
glass := {"now": now, "consents": {}, "break_glass": {"id": "s1", "opened": now, "expires": "2026-03-01T13:00:00Z", "purpose": ""}}

no_glass := {"now": now, "consents": {}}

skills_row := {
	"kind": "statement", "subjects": [bob], "about": [bob], "verb": "http://adlnet.gov/expapi/verbs/completed",
	"purpose": "skills-development", "legal_basis": "consent", "stored": "2026-01-01T00:00:00Z", "expires": "",
}

decide(principal, action, resource, ctx) := d if {
	d := authz.decision with input as {"principal": principal, "action": action, "resource": resource, "context": ctx} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

open_request(minutes) := {"kind": "break_glass", "minutes": minutes, "purpose": ""}

# --- opening and reviewing sessions ---

# Without the setting, the longest session is 240 minutes (whatever data.json says).
test_allow_hr_and_compliance_open_break_glass if {
	decide(hr, "break_glass.open", open_request(60), {}).allow with data.custodia.settings as {}
	decide(compliance, "break_glass.open", open_request(240), {}).allow with data.custodia.settings as {}
}

test_deny_others_open_break_glass if {
	every p in [learner_alice, client, auditor] {
		not decide(p, "break_glass.open", open_request(60), {}).allow
	}
}

test_deny_break_glass_longer_than_the_maximum if {
	d := decide(hr, "break_glass.open", open_request(241), {}) with data.custodia.settings as {}
	not d.allow
	d.reasons == ["break-glass access lasts at most 240 minutes"]
}

# decide pins the settings to the fixture's, so this test sets the maximum
# on a copy of them.
decide_with_max(principal, resource, max) := d if {
	settings := object.union(fixture.settings, {"break_glass_max_minutes": max})
	d := authz.decision with input as {"principal": principal, "action": "break_glass.open", "resource": resource, "context": {}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as settings
}

test_deny_break_glass_longer_than_the_configured_maximum if {
	d := decide_with_max(hr, open_request(61), 60)
	not d.allow
	d.reasons == ["break-glass access lasts at most 60 minutes"]
	decide_with_max(hr, open_request(60), 60).allow
}

test_allow_compliance_and_auditor_review_break_glass if {
	decide(compliance, "break_glass.review", {"kind": "break_glass"}, {}).allow
	decide(auditor, "break_glass.review", {"kind": "break_glass"}, {}).allow
}

test_deny_hr_and_learner_review_break_glass if {
	not decide(hr, "break_glass.review", {"kind": "break_glass"}, {}).allow
	not decide(learner_alice, "break_glass.review", {"kind": "break_glass"}, {}).allow
}

# --- what an open session allows ---

test_deny_read_beyond_policy_without_session if {
	d := decide(hr, "statements.read", skills_row, no_glass)
	not d.allow
	not d.break_glass
}

test_allow_read_beyond_policy_with_open_session if {
	d := decide(hr, "statements.read", skills_row, glass)
	d.allow
	d.break_glass
	d.reasons[0] == "allowed beyond policy by an open break-glass session"
	"overridden: statement recorded for purpose skills-development, not for learning-records" in d.reasons
	d.obligations == {"mask": []}
}

test_allow_break_glass_lifts_no_rule_refusals if {
	d := decide(compliance, "documents.read", {"kind": "state", "subjects": [bob], "activity": "http://example.com/a"}, glass)
	d.allow
	d.break_glass
	d.reasons == ["allowed beyond policy by an open break-glass session", "overridden: no rule permits documents.read for this principal"]
}

test_allow_query_under_break_glass_is_not_restricted_to_a_purpose if {
	normal := decide(hr, "statements.query", {"kind": "query"}, no_glass)
	normal.obligations == {"purpose": "learning-records"}
	under := decide(hr, "statements.query", {"kind": "query"}, glass)
	under.allow
	under.obligations == {}
	not under.break_glass # allowed by policy anyway; only the restriction is lifted
	other := decide(object.union(hr, {"purpose": "marketing"}), "statements.query", {"kind": "query"}, glass)
	other.allow
	other.break_glass
	other.obligations == {}
}

test_deny_break_glass_for_writes_and_management if {
	every a in ["statements.write", "documents.write", "documents.delete", "credentials.manage", "policies.manage", "holds.manage"] {
		d := decide(hr, a, {"kind": "statement", "subjects": [bob], "about": [bob], "voiding": false}, glass)
		not d.allow
		not d.break_glass
	}
}

test_deny_break_glass_context_without_a_role_that_may_open_it if {
	d := decide(learner_alice, "statements.read", skills_row, glass)
	not d.allow
	not d.break_glass
	not decide(auditor, "statements.query", {"kind": "query"}, glass).allow
}

test_allow_policy_decision_unchanged_when_allowed_anyway if {
	own := object.union(skills_row, {"subjects": [alice], "about": [alice]})
	d := decide(object.union(learner_alice, {"roles": ["learner", "hr"]}), "statements.read", own, glass)
	d.allow
	not d.break_glass
}

# --- xAPI scopes ---

written := {
	"kind": "statement", "subjects": [alice], "about": [alice], "voiding": false, "verb": "http://adlnet.gov/expapi/verbs/completed",
	"activities": ["http://courses.example.com/ethics"], "activity_types": [], "client": "k-lms", "signed": false, "fields": ["actor", "verb", "object"],
}

test_allow_define_only_with_define_or_all if {
	decide(client, "statements.write", written, no_glass).obligations.define == false
	decide(object.union(client, {"scopes": ["statements/write", "define"]}), "statements.write", written, no_glass).obligations.define == true
	decide(object.union(client, {"scopes": ["all"]}), "statements.write", written, no_glass).obligations.define == true
}

alice_state := {"kind": "state", "subjects": [alice], "activity": "http://example.com/a"}

alice_profile := {"kind": "agent_profile", "subjects": [alice], "activity": ""}

test_deny_learner_documents_without_their_scope if {
	stateless := object.union(learner_alice, {"scopes": ["statements/write", "statements/read/mine", "profile"]})
	not decide(stateless, "documents.read", alice_state, no_glass).allow
	decide(stateless, "documents.read", alice_profile, no_glass).allow
	profileless := object.union(learner_alice, {"scopes": ["state"]})
	decide(profileless, "documents.write", alice_state, no_glass).allow
	not decide(profileless, "documents.write", alice_profile, no_glass).allow
	decide(object.union(learner_alice, {"scopes": ["all"]}), "documents.delete", alice_profile, no_glass).allow
}

test_deny_learner_statement_reads_without_a_read_scope if {
	writer := object.union(learner_alice, {"scopes": ["statements/write"]})
	not decide(writer, "statements.query", {"kind": "query"}, no_glass).allow
	not decide(writer, "statements.read", object.union(skills_row, {"subjects": [alice], "about": [alice]}), no_glass).allow
	every s in ["statements/read/mine", "statements/read", "all/read", "all"] {
		decide(object.union(learner_alice, {"scopes": [s]}), "statements.query", {"kind": "query"}, no_glass).allow
	}
}

test_allow_read_mine_means_the_person_not_the_credential if {
	app := {"id": "k-app", "roles": ["client"], "scopes": ["statements/read/mine"], "identities": [alice], "purpose": ""}
	decide(app, "statements.read", object.union(skills_row, {"subjects": [alice], "about": [alice]}), no_glass).allow
	not decide(app, "statements.read", skills_row, no_glass).allow
	nobody := object.union(app, {"identities": []})
	not decide(nobody, "statements.query", {"kind": "query"}, no_glass).allow
}
