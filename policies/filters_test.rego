package custodia.filters_test

import data.custodia.authz
import data.custodia.filters
import data.custodia.fixture

alice := "mbox:mailto:alice@example.com"

bob := "mbox:mailto:bob@example.com"

hr_skills := {"id": "k-hr", "roles": ["hr"], "scopes": [], "identities": [], "purpose": "skills-development"}

learner_alice := {"id": "k-alice", "roles": ["learner"], "scopes": ["statements/read/mine"], "identities": [alice], "purpose": ""}

admin := {"id": "k-admin", "roles": ["admin"], "scopes": ["all"], "identities": [], "purpose": ""}

now := "2026-03-01T12:00:00Z"

now_ns := time.parse_rfc3339_ns(now)

# Row facts as authz.read_row gives them.
facts(purpose, basis, expires_ns, own, consented) := {
	"purpose": purpose, "legal_basis": basis, "expires_ns": expires_ns, "now_ns": now_ns,
	"own": own, "subject_held": false, "consented": consented,
}

included(principal, row, held_purposes) if {
	filters.include with input as {"principal": principal, "row": row, "context": {"holds": {"subjects": [], "purposes": held_purposes}}}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

later := now_ns + 1

earlier := now_ns - 1

test_allow_filter_hr_consented_row_of_its_purpose if {
	included(hr_skills, facts("skills-development", "consent", later, false, true), [])
}

test_deny_filter_hr_without_consent if {
	not included(hr_skills, facts("skills-development", "consent", later, false, false), [])
}

test_allow_filter_hr_recorded_basis_without_consent if {
	included(hr_skills, facts("skills-development", "legitimate_interest", 0, false, false), [])
}

test_deny_filter_hr_other_purpose if {
	not included(hr_skills, facts("compliance-training", "legal_obligation", later, false, true), [])
}

test_deny_filter_expired_unless_held if {
	expired := facts("skills-development", "consent", earlier, false, true)
	not included(hr_skills, expired, [])
	included(hr_skills, expired, ["skills-development"])
	included(hr_skills, object.union(expired, {"subject_held": true}), [])
}

test_allow_filter_learner_own_rows_only if {
	included(learner_alice, facts("skills-development", "consent", later, true, false), [])
	not included(learner_alice, facts("learning-records", "legitimate_interest", later, false, true), [])
}

test_allow_filter_admin_all_unexpired if {
	included(admin, facts("clickstream-analytics", "consent", 0, false, false), [])
	not included(admin, facts("clickstream-analytics", "consent", earlier, false, false), [])
}

# The filter on the row facts of a statement agrees with the decision on it.
decided(principal, resource, ctx) := d if {
	d := authz.decision.allow with input as {"principal": principal, "action": "statements.read", "resource": resource, "context": ctx}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

row_of(principal, resource, ctx) := r if {
	r := authz.read_row with input as {"principal": principal, "action": "statements.read", "resource": resource, "context": ctx}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

filtered(principal, resource, ctx) := true if {
	included(principal, row_of(principal, resource, ctx), ctx.holds.purposes)
} else := false

stored(subject, purpose, basis, expires) := {
	"kind": "statement", "subjects": [subject], "about": [subject], "verb": "http://adlnet.gov/expapi/verbs/completed",
	"purpose": purpose, "legal_basis": basis, "stored": "2026-01-01T00:00:00Z", "expires": expires,
}

context(subject, purpose, granted, held_purposes) := {
	"now": now, "consents": {subject: {purpose: granted}},
	"holds": {"subjects": [], "purposes": held_purposes},
}

test_allow_filter_agrees_with_decision if {
	cases := [
		[hr_skills, stored(alice, "skills-development", "consent", "2027-01-01T00:00:00Z"), context(alice, "skills-development", true, [])],
		[hr_skills, stored(alice, "skills-development", "consent", "2027-01-01T00:00:00Z"), context(alice, "skills-development", false, [])],
		[hr_skills, stored(alice, "skills-development", "consent", "2026-02-01T00:00:00Z"), context(alice, "skills-development", true, [])],
		[hr_skills, stored(alice, "skills-development", "consent", "2026-02-01T00:00:00Z"), context(alice, "skills-development", true, ["skills-development"])],
		[hr_skills, stored(bob, "", "", ""), context(bob, "learning-records", false, [])],
		[learner_alice, stored(alice, "clickstream-analytics", "consent", ""), context(alice, "clickstream-analytics", false, [])],
		[learner_alice, stored(bob, "learning-records", "legitimate_interest", ""), context(bob, "learning-records", false, [])],
		[admin, stored(bob, "clickstream-analytics", "consent", "2026-02-01T00:00:00Z"), context(bob, "clickstream-analytics", false, [])],
		[admin, stored(bob, "clickstream-analytics", "consent", ""), context(bob, "clickstream-analytics", false, [])],
	]
	every c in cases {
		decided(c[0], c[1], c[2]) == filtered(c[0], c[1], c[2])
	}
	# Both answers occur among the cases.
	{decided(c[0], c[1], c[2]) | some c in cases} == {true, false}
}
