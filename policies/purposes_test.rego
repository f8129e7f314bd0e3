package custodia.purposes_test

import data.custodia.authz
import data.custodia.fixture

alice := "mbox:mailto:alice@example.com"

bob := "mbox:mailto:bob@example.com"

client := {"id": "k-lms", "roles": ["client"], "scopes": ["statements/write"], "identities": [], "purpose": ""}

admin := {"id": "k-admin", "roles": ["admin"], "scopes": ["all"], "identities": [], "purpose": ""}

hr_for(purpose) := {"id": "k-hr", "roles": ["hr"], "scopes": [], "identities": [], "purpose": purpose}

compliance_for(purpose) := {"id": "k-co", "roles": ["compliance"], "scopes": [], "identities": [], "purpose": purpose}

learner_alice := {"id": "k-alice", "roles": ["learner"], "scopes": ["statements/read/mine"], "identities": [alice], "purpose": ""}

now := "2026-03-01T12:00:00Z"

# A statement about alice under activity, verb and fields.
written(activity, verb, fields) := {
	"kind": "statement", "subjects": [alice], "about": [alice], "voiding": false, "verb": verb,
	"activities": [activity], "activity_types": [], "client": "k-lms", "signed": false, "fields": fields,
}

completed := "http://adlnet.gov/expapi/verbs/completed"

paused := "https://w3id.org/xapi/video/verbs/paused"

compliance_course := written("https://lms.acme.example/compliance/fire-safety", completed, ["actor", "verb", "object"])

skills_course := written("https://lms.acme.example/skills/negotiation", completed, ["actor", "verb", "object"])

video_pause := written("https://lms.acme.example/videos/intro", paused, ["actor", "verb", "object", "context", "context.extensions", "result", "result.response"])

other_course := written("http://courses.example.com/ethics", completed, ["actor", "verb", "object"])

consents(subject, purpose, granted) := {"now": now, "consents": {subject: {purpose: granted}}}

no_consents := {"now": now, "consents": {}}

# Decisions are made on the fixture's purposes and settings (fixture_test.rego),
# or on those a test passes.
write(resource, ctx) := write_on(resource, ctx, fixture.purposes, fixture.settings)

write_on(resource, ctx, purposes, settings) := d if {
	d := authz.decision with input as {"principal": client, "action": "statements.write", "resource": resource, "context": ctx}
		with data.custodia.purposes as purposes
		with data.custodia.settings as settings
}

# --- which purpose, legal basis and retention a write is recorded under ---

test_allow_write_legal_obligation_by_prefix if {
	d := write(compliance_course, no_consents)
	d.allow
	d.obligations == {"purpose": "compliance-training", "legal_basis": "legal_obligation", "retention_days": 4000, "minimise": [], "define": false}
}

test_allow_write_default_purpose_when_nothing_matches if {
	d := write(other_course, no_consents)
	d.allow
	d.obligations.purpose == "learning-records"
	d.obligations.legal_basis == "legitimate_interest"
	d.obligations.retention_days == 2000
}

test_allow_write_consent_given if {
	d := write(skills_course, consents(alice, "skills-development", true))
	d.allow
	d.obligations.purpose == "skills-development"
	d.obligations.legal_basis == "consent"
	d.obligations.retention_days == 500
}

test_deny_write_consent_missing if {
	d := write(skills_course, no_consents)
	not d.allow
	d.reasons == ["purpose skills-development needs the consent of every person the statement is about"]
}

test_deny_write_consent_withdrawn if {
	not write(skills_course, consents(alice, "skills-development", false)).allow
}

test_deny_write_consent_of_one_member_missing if {
	group := object.union(skills_course, {"subjects": [alice, bob], "about": [alice, bob]})
	not write(group, consents(alice, "skills-development", true)).allow
	write(group, {"now": now, "consents": {alice: {"skills-development": true}, bob: {"skills-development": true}}}).allow
}

# "Bob mentored Alice": the actor is bob, the statement is about alice too.
mentoring := object.union(skills_course, {"subjects": [bob], "about": [bob, alice]})

test_deny_write_consent_of_the_object_agent_missing if {
	d := write(mentoring, consents(bob, "skills-development", true))
	not d.allow
	d.reasons == ["purpose skills-development needs the consent of every person the statement is about"]
	write(mentoring, {"now": now, "consents": {alice: {"skills-development": true}, bob: {"skills-development": true}}}).allow
}

test_deny_write_consent_for_another_purpose_does_not_count if {
	not write(skills_course, consents(alice, "clickstream-analytics", true)).allow
}

# --- minimisation and signed statements ---

test_allow_write_minimises_present_paths if {
	d := write(video_pause, consents(alice, "clickstream-analytics", true))
	d.allow
	d.obligations.purpose == "clickstream-analytics"
	d.obligations.minimise == ["context.extensions"]
}

test_allow_write_nothing_to_minimise if {
	plain := object.union(video_pause, {"fields": ["actor", "verb", "object"]})
	d := write(plain, consents(alice, "clickstream-analytics", true))
	d.allow
	d.obligations.minimise == []
}

test_deny_write_signed_statement_that_would_be_minimised if {
	signed := object.union(video_pause, {"signed": true})
	d := write(signed, consents(alice, "clickstream-analytics", true))
	not d.allow
	d.reasons == ["a signed statement cannot be minimised for purpose clickstream-analytics without breaking its signature"]
}

test_allow_write_signed_statement_with_nothing_to_minimise if {
	signed := object.union(video_pause, {"signed": true, "fields": ["actor", "verb", "object"]})
	write(signed, consents(alice, "clickstream-analytics", true)).allow
}

test_allow_write_signed_statement_kept_whole if {
	keep := json.patch(fixture.purposes, [{"op": "replace", "path": "/clickstream-analytics/signed_statements", "value": "keep_whole"}])
	signed := object.union(video_pause, {"signed": true})
	d := write_on(signed, consents(alice, "clickstream-analytics", true), keep, fixture.settings)
	d.allow
	d.obligations.minimise == []
}

# --- match rules: clients, activity types, verbs; overlaps ---

custom := {
	"by-client": {"title": "t", "legal_basis": "contract", "retention_days": 10, "readers": ["hr"], "match": {"clients": ["k-lms"], "verbs": [completed]}},
	"by-type": {"title": "t", "legal_basis": "works_agreement", "retention_days": 20, "readers": ["hr"], "match": {"activity_types": ["http://adlnet.gov/expapi/activities/assessment"]}},
	"fallback": {"title": "t", "legal_basis": "legitimate_interest", "retention_days": 0, "readers": ["hr"], "match": {}},
}

custom_write(resource, principal) := d if {
	d := authz.decision with input as {"principal": principal, "action": "statements.write", "resource": resource, "context": no_consents}
		with data.custodia.purposes as custom
		with data.custodia.settings as {"default_purpose": "fallback"}
}

test_allow_write_match_by_client_and_verb if {
	custom_write(other_course, client).obligations.purpose == "by-client"
	from_other := object.union(other_course, {"client": "k-other"})
	custom_write(from_other, object.union(client, {"id": "k-other"})).obligations.purpose == "fallback"
	paused_course := object.union(other_course, {"verb": paused})
	custom_write(paused_course, client).obligations.purpose == "fallback"
}

test_allow_write_match_by_activity_type if {
	assessed := object.union(other_course, {"activity_types": ["http://adlnet.gov/expapi/activities/assessment"], "client": "k-other"})
	d := custom_write(assessed, object.union(client, {"id": "k-other"}))
	d.obligations == {"purpose": "by-type", "legal_basis": "works_agreement", "retention_days": 20, "minimise": [], "define": false}
}

test_allow_write_overlap_writer_purpose_wins if {
	both := object.union(other_course, {"activity_types": ["http://adlnet.gov/expapi/activities/assessment"]})
	custom_write(both, client).obligations.purpose == "by-client"
	custom_write(both, object.union(client, {"purpose": "by-type"})).obligations.purpose == "by-type"
}

test_deny_write_default_purpose_undefined if {
	d := write_on(other_course, no_consents, fixture.purposes, {"default_purpose": "gone"})
	not d.allow
	d.reasons == ["statements map to purpose gone, which is not defined"]
}

# --- the request purpose of a query ---

query(principal) := d if {
	d := authz.decision with input as {"principal": principal, "action": "statements.query", "resource": {"kind": "query"}}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

test_allow_query_for_a_purpose_the_role_reads if {
	d := query(hr_for("skills-development"))
	d.allow
	d.obligations == {"purpose": "skills-development"}
}

test_allow_query_default_purpose if {
	query(hr_for("")).obligations == {"purpose": "learning-records"}
}

test_deny_query_for_a_purpose_the_role_does_not_read if {
	d := query(compliance_for("skills-development"))
	not d.allow
	d.reasons == ["no role of this principal may read for purpose skills-development"]
}

test_deny_query_unknown_purpose if {
	d := query(hr_for("marketing"))
	not d.allow
	"purpose marketing is not defined" in d.reasons
}

test_deny_learner_query_for_hr_purpose if {
	not query(object.union(learner_alice, {"purpose": "clickstream-analytics"})).allow
}

test_allow_admin_query_without_restriction if {
	d := query(object.union(admin, {"purpose": "skills-development"}))
	d.allow
	d.obligations == {}
}

test_allow_learner_query_unrestricted_by_purpose if {
	d := query(learner_alice)
	d.allow
	d.obligations == {}
}

# --- reading a stored statement ---

stored_row(purpose, basis, expires) := {
	"kind": "statement", "subjects": [alice], "about": [alice], "verb": completed,
	"purpose": purpose, "legal_basis": basis, "stored": "2026-01-01T00:00:00Z", "expires": expires,
}

skills_row := stored_row("skills-development", "consent", "2028-01-01T00:00:00Z")

click_row := stored_row("clickstream-analytics", "consent", "2026-04-01T00:00:00Z")

read(principal, resource, ctx) := read_on(principal, resource, ctx, fixture.settings)

read_on(principal, resource, ctx, settings) := d if {
	d := authz.decision with input as {"principal": principal, "action": "statements.read", "resource": resource, "context": ctx}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as settings
}

with_holds(ctx, holds) := object.union(ctx, {"holds": holds})

test_deny_read_object_agent_withdrew_consent if {
	row := object.union(skills_row, {"subjects": [bob], "about": [bob, alice]})
	both := {"now": now, "consents": {alice: {"skills-development": true}, bob: {"skills-development": true}}}
	read(hr_for("skills-development"), row, both).allow
	withdrawn := {"now": now, "consents": {alice: {"skills-development": false}, bob: {"skills-development": true}}}
	d := read(hr_for("skills-development"), row, withdrawn)
	not d.allow
	d.reasons == ["consent to purpose skills-development was withdrawn or never given"]
}

test_allow_read_object_agent_held if {
	row := object.union(skills_row, {"subjects": [bob], "about": [bob, alice], "expires": "2026-01-02T00:00:00Z"})
	both := {"now": now, "consents": {alice: {"skills-development": true}, bob: {"skills-development": true}}}
	not read(hr_for("skills-development"), row, both).allow
	read(hr_for("skills-development"), row, with_holds(both, {"subjects": [alice], "purposes": []})).allow
}

test_allow_read_same_purpose_with_consent if {
	d := read(hr_for("skills-development"), skills_row, consents(alice, "skills-development", true))
	d.allow
	d.obligations == {"mask": []}
}

test_deny_read_other_purpose if {
	d := read(hr_for("learning-records"), skills_row, consents(alice, "skills-development", true))
	not d.allow
	d.reasons == ["statement recorded for purpose skills-development, not for learning-records"]
}

test_allow_read_row_without_recorded_purpose_is_default if {
	read(hr_for(""), stored_row("", "", ""), no_consents).allow
	not read(hr_for("skills-development"), stored_row("", "", ""), no_consents).allow
}

test_deny_read_consent_withdrawn if {
	d := read(hr_for("skills-development"), skills_row, consents(alice, "skills-development", false))
	not d.allow
	d.reasons == ["consent to purpose skills-development was withdrawn or never given"]
	not read(hr_for("skills-development"), skills_row, no_consents).allow
}

test_allow_read_recorded_basis_rules_not_current if {
	# Recorded under legitimate interest: a later switch of the purpose to consent does not hide it.
	row := stored_row("skills-development", "legitimate_interest", "")
	read(hr_for("skills-development"), row, no_consents).allow
}

test_allow_subject_reads_own_rows_of_any_purpose if {
	read(learner_alice, skills_row, consents(alice, "skills-development", false)).allow
	read(learner_alice, click_row, no_consents).obligations == {"mask": []}
}

test_allow_admin_reads_every_purpose if {
	read(admin, skills_row, consents(alice, "skills-development", true)).allow
}

test_allow_admin_reads_without_consent if {
	read(admin, skills_row, no_consents).allow
}

no_bypass := {"default_purpose": "learning-records", "admin_bypass": false}

test_deny_admin_bypass_off if {
	d := read_on(admin, skills_row, consents(alice, "skills-development", true), no_bypass)
	not d.allow
	d2 := read_on(object.union(admin, {"purpose": "skills-development"}), skills_row, no_consents, no_bypass)
	d2.reasons == ["consent to purpose skills-development was withdrawn or never given"]
}

admin_write(resource, ctx) := admin_write_on(resource, ctx, fixture.settings)

admin_write_on(resource, ctx, settings) := d if {
	d := authz.decision with input as {"principal": admin, "action": "statements.write", "resource": resource, "context": ctx}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as settings
}

test_allow_admin_writes_without_consent_unminimised if {
	d := admin_write(video_pause, no_consents)
	d.allow
	d.obligations.purpose == "clickstream-analytics"
	d.obligations.minimise == []
	admin_write(object.union(video_pause, {"signed": true}), no_consents).allow
}

test_deny_admin_writes_without_bypass if {
	d := admin_write_on(video_pause, no_consents, no_bypass)
	not d.allow
	d.reasons == ["purpose clickstream-analytics needs the consent of every person the statement is about"]
	d2 := admin_write_on(video_pause, consents(alice, "clickstream-analytics", true), no_bypass)
	d2.obligations.minimise == ["context.extensions"]
}

test_deny_read_expired if {
	late := {"now": "2028-01-01T00:00:00Z", "consents": {alice: {"skills-development": true}}}
	d := read(hr_for("skills-development"), skills_row, late)
	not d.allow
	d.reasons == ["the retention period of purpose skills-development has ended"]
	not read(learner_alice, skills_row, late).allow
	not read(admin, skills_row, late).allow
}

test_allow_read_expired_under_hold if {
	late := {"now": "2028-06-01T00:00:00Z", "consents": {alice: {"skills-development": true}}}
	read(hr_for("skills-development"), skills_row, with_holds(late, {"subjects": [alice], "purposes": []})).allow
	read(hr_for("skills-development"), skills_row, with_holds(late, {"subjects": [], "purposes": ["skills-development"]})).allow
	not read(hr_for("skills-development"), skills_row, with_holds(late, {"subjects": [bob], "purposes": ["compliance-training"]})).allow
}

test_allow_read_masks_for_hr if {
	d := read(hr_for("clickstream-analytics"), click_row, consents(alice, "clickstream-analytics", true))
	d.allow
	d.obligations.mask == ["result.response"]
}

test_allow_read_no_mask_for_compliance if {
	d := read(compliance_for("clickstream-analytics"), click_row, consents(alice, "clickstream-analytics", true))
	d.allow
	d.obligations.mask == []
}

test_allow_read_mask_only_when_every_reader_role_masks if {
	both := {"id": "k-x", "roles": ["hr", "compliance"], "scopes": [], "identities": [], "purpose": "clickstream-analytics"}
	read(both, click_row, consents(alice, "clickstream-analytics", true)).obligations.mask == []
}

# --- consents, holds, sweeps ---

test_allow_person_manages_own_consents if {
	every a in {"consents.read", "consents.write"} {
		authz.decision.allow with input as {"principal": learner_alice, "action": a, "resource": {"kind": "consent"}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_deny_consents_without_a_person if {
	not authz.decision.allow with input as {"principal": client, "action": "consents.write", "resource": {"kind": "consent"}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_compliance_holds_and_sweeps if {
	every a in {"holds.manage", "retention.sweep"} {
		authz.decision.allow with input as {"principal": compliance_for(""), "action": a, "resource": {}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_deny_hr_holds_and_sweeps if {
	every a in {"holds.manage", "retention.sweep"} {
		not authz.decision.allow with input as {"principal": hr_for(""), "action": a, "resource": {}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

expire(principal, ctx) := d if {
	d := authz.decision with input as {"principal": principal, "action": "retention.expire", "resource": click_row, "context": ctx}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

test_allow_expire_after_retention if {
	expire(compliance_for(""), {"now": "2026-04-01T00:00:00Z", "holds": {"subjects": [], "purposes": []}}).allow
}

test_deny_expire_before_retention if {
	d := expire(admin, {"now": "2026-03-31T23:59:59Z"})
	not d.allow
	d.reasons == ["the retention period has not ended"]
}

test_deny_expire_under_hold if {
	d := expire(admin, {"now": "2026-05-01T00:00:00Z", "holds": {"subjects": [alice], "purposes": []}})
	not d.allow
	d.reasons == ["a legal hold pins this statement"]
}

# --- documents ---

player_for(purpose) := {"id": "k-player", "roles": ["client"], "scopes": ["state"], "identities": [], "purpose": purpose}

state_doc(activity, subject) := {"kind": "state", "subjects": [subject], "activity": activity, "activities": [activity]}

doc(principal, action, resource, ctx) := d if {
	d := authz.decision with input as {"principal": principal, "action": action, "resource": resource, "context": ctx}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

# Clients read skills development in these tests.
client_reads_skills := json.patch(fixture.purposes, [{"op": "add", "path": "/skills-development/readers/-", "value": "client"}])

skills_state := state_doc("https://lms.acme.example/skills/negotiation", alice)

test_allow_document_purpose_by_activity if {
	authz.document_purpose == "skills-development" with input as {"resource": skills_state}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
	authz.document_purpose == "learning-records" with input as {"resource": state_doc("http://courses.example.com/x", alice)}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

test_deny_document_write_without_consent if {
	d := doc(player_for(""), "documents.write", skills_state, no_consents)
	not d.allow
	d.reasons == ["purpose skills-development needs the consent of the person the document is about"]
	doc(player_for(""), "documents.write", skills_state, consents(alice, "skills-development", true)).allow
}

test_deny_document_read_other_purpose_or_role if {
	d := doc(player_for(""), "documents.read", skills_state, consents(alice, "skills-development", true))
	not d.allow
	"document serves purpose skills-development, not learning-records" in d.reasons
	d2 := doc(player_for("skills-development"), "documents.read", skills_state, consents(alice, "skills-development", true))
	d2.reasons == ["no role of this principal may read for purpose skills-development"]
}

read_skills(ctx) := d if {
	d := authz.decision with input as {"principal": player_for("skills-development"), "action": "documents.read", "resource": skills_state, "context": ctx}
		with data.custodia.purposes as client_reads_skills
		with data.custodia.settings as fixture.settings
}

test_allow_document_read_for_its_purpose_with_consent if {
	read_skills(consents(alice, "skills-development", true)).allow
	d := read_skills(consents(alice, "skills-development", false))
	d.reasons == ["consent to purpose skills-development was withdrawn or never given"]
}

test_allow_document_own_and_admin if {
	learner := {"id": "k-alice", "roles": ["learner"], "scopes": ["state"], "identities": [alice], "purpose": ""}
	doc(learner, "documents.read", skills_state, no_consents).allow
	doc(admin, "documents.read", skills_state, no_consents).allow
	doc(admin, "documents.write", skills_state, no_consents).allow
}

# A principal that no rule lets read documents gets one answer whatever
# the person's consent: it learns nothing of who withdrew.
test_deny_document_read_without_a_rule_hides_consent if {
	withdrawn := doc(hr_for("skills-development"), "documents.read", skills_state, consents(alice, "skills-development", false))
	granted := doc(hr_for("skills-development"), "documents.read", skills_state, consents(alice, "skills-development", true))
	never := doc(hr_for("skills-development"), "documents.read", skills_state, no_consents)
	not withdrawn.allow
	withdrawn.reasons == ["no rule permits documents.read for this principal"]
	granted.reasons == withdrawn.reasons
	never.reasons == withdrawn.reasons
	d := doc(hr_for("skills-development"), "documents.write", skills_state, no_consents)
	d.reasons == ["no rule permits documents.write for this principal"]
}

write_as(principal, resource, purposes) := d if {
	d := authz.decision with input as {"principal": principal, "action": "statements.write", "resource": resource, "context": no_consents}
		with data.custodia.purposes as purposes
		with data.custodia.settings as fixture.settings
}

test_deny_write_for_an_undefined_named_purpose if {
	d := write_as(object.union(client, {"purpose": "nope"}), other_course, fixture.purposes)
	not d.allow
	d.reasons == ["purpose nope is not defined"]
	write_as(object.union(client, {"purpose": "learning-records"}), other_course, fixture.purposes).allow
}

test_deny_write_for_a_named_purpose_of_other_clients if {
	only_hris := json.patch(fixture.purposes, [{"op": "add", "path": "/learning-records/match/clients", "value": ["k-hris"]}])
	d := write_as(object.union(client, {"purpose": "learning-records"}), other_course, only_hris)
	not d.allow
	d.reasons == ["this principal may not write for purpose learning-records"]
	write_as(object.union(admin, {"purpose": "learning-records"}), other_course, only_hris).allow
}
