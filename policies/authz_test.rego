package custodia.authz_test

import data.custodia.authz
import data.custodia.fixture

alice := "mbox:mailto:alice@example.com"

bob := "mbox:mailto:bob@example.com"

admin := {"id": "k-admin", "roles": ["admin"], "scopes": ["all"], "identities": []}

client := {"id": "k-lms", "roles": ["client"], "scopes": ["statements/write"], "identities": []}

reader := {"id": "k-lms", "roles": ["client"], "scopes": ["statements/write", "statements/read"], "identities": []}

learner_alice := {"id": "k-alice", "roles": ["learner"], "scopes": ["statements/write", "statements/read/mine", "state", "profile"], "identities": [alice]}

about_alice := {"kind": "statement", "subjects": [alice], "about": [alice], "voiding": false}

about_bob := {"kind": "statement", "subjects": [bob], "about": [bob], "voiding": false}

voiding := {"kind": "statement", "subjects": [alice], "about": [alice], "voiding": true}

test_allow_admin_everything if {
	authz.decision.allow with input as {"principal": admin, "action": "credentials.manage", "resource": {}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": admin, "action": "statements.read", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_write if {
	authz.decision.allow with input as {"principal": client, "action": "statements.write", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_void if {
	authz.decision.allow with input as {"principal": client, "action": "statements.write", "resource": voiding} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_client_without_write_scope if {
	p := object.union(client, {"scopes": ["statements/read"]})
	not authz.decision.allow with input as {"principal": p, "action": "statements.write", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_client_read_without_read_scope if {
	not authz.decision.allow with input as {"principal": client, "action": "statements.read", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": client, "action": "statements.query", "resource": {"kind": "query"}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_read_with_read_scope if {
	authz.decision.allow with input as {"principal": reader, "action": "statements.read", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": reader, "action": "statements.query", "resource": {"kind": "query"}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_client_credentials if {
	d := authz.decision with input as {"principal": client, "action": "credentials.manage", "resource": {}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not d.allow
	d.reasons == ["no rule permits credentials.manage for this principal"]
}

test_allow_learner_reads_own if {
	authz.decision.allow with input as {"principal": learner_alice, "action": "statements.read", "resource": about_alice} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": learner_alice, "action": "statements.query", "resource": {"kind": "query"}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_learner_reads_other if {
	not authz.decision.allow with input as {"principal": learner_alice, "action": "statements.read", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_learner_writes_own if {
	authz.decision.allow with input as {"principal": learner_alice, "action": "statements.write", "resource": about_alice} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_learner_writes_other if {
	not authz.decision.allow with input as {"principal": learner_alice, "action": "statements.write", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_learner_voids if {
	d := authz.decision with input as {"principal": learner_alice, "action": "statements.write", "resource": voiding} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not d.allow
	d.reasons == ["only activity providers and admins may void statements"]
}

test_allow_read_mine_scope_for_bound_client if {
	p := {"id": "k-app", "roles": ["client"], "scopes": ["statements/read/mine"], "identities": [alice]}
	authz.decision.allow with input as {"principal": p, "action": "statements.read", "resource": about_alice} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": p, "action": "statements.read", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_unknown_role if {
	p := {"id": "k-x", "roles": ["auditor"], "scopes": [], "identities": []}
	not authz.decision.allow with input as {"principal": p, "action": "statements.read", "resource": about_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

activity := {"kind": "activity"}

agent_alice := {"kind": "agent", "about": [alice]}

agent_bob := {"kind": "agent", "about": [bob]}

test_allow_admin_reads_activities_and_agents if {
	authz.decision.allow with input as {"principal": admin, "action": "activities.read", "resource": activity} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": admin, "action": "agents.read", "resource": agent_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_with_read_or_define_scope_reads_activities_and_agents if {
	authz.decision.allow with input as {"principal": reader, "action": "activities.read", "resource": activity} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": reader, "action": "agents.read", "resource": agent_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	definer := object.union(client, {"scopes": ["define"]})
	authz.decision.allow with input as {"principal": definer, "action": "activities.read", "resource": activity} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": definer, "action": "agents.read", "resource": agent_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_client_without_read_scope_activities_and_agents if {
	not authz.decision.allow with input as {"principal": client, "action": "activities.read", "resource": activity} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	d := authz.decision with input as {"principal": client, "action": "agents.read", "resource": agent_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not d.allow
	d.reasons == ["no rule permits agents.read for this principal"]
}

test_allow_learner_reads_activities_and_own_agent if {
	authz.decision.allow with input as {"principal": learner_alice, "action": "activities.read", "resource": activity} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": learner_alice, "action": "agents.read", "resource": agent_alice} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_learner_reads_other_agent if {
	not authz.decision.allow with input as {"principal": learner_alice, "action": "agents.read", "resource": agent_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": learner_alice, "action": "agents.read", "resource": {"kind": "agent", "about": []}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_auditor_activities_and_agents if {
	p := {"id": "k-x", "roles": ["auditor"], "scopes": ["all"], "identities": []}
	not authz.decision.allow with input as {"principal": p, "action": "activities.read", "resource": activity} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": p, "action": "agents.read", "resource": agent_bob} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

alice_state := {"kind": "state", "subjects": [alice], "activity": "http://example.com/course/1"}

bob_state := {"kind": "state", "subjects": [bob], "activity": "http://example.com/course/1"}

alice_profile := {"kind": "agent_profile", "subjects": [alice], "activity": ""}

activity_profile := {"kind": "activity_profile", "subjects": [], "activity": "http://example.com/course/1"}

test_allow_admin_documents if {
	every a in {"documents.read", "documents.write", "documents.delete"} {
		authz.decision.allow with input as {"principal": admin, "action": a, "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
		authz.decision.allow with input as {"principal": admin, "action": a, "resource": activity_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_allow_client_state_scope if {
	p := object.union(client, {"scopes": ["state"]})
	every a in {"documents.read", "documents.write", "documents.delete"} {
		authz.decision.allow with input as {"principal": p, "action": a, "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
	not authz.decision.allow with input as {"principal": p, "action": "documents.write", "resource": activity_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": p, "action": "documents.read", "resource": alice_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_profile_scope if {
	p := object.union(client, {"scopes": ["profile"]})
	authz.decision.allow with input as {"principal": p, "action": "documents.write", "resource": activity_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": p, "action": "documents.delete", "resource": alice_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": p, "action": "documents.read", "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_all_scope_documents if {
	p := object.union(client, {"scopes": ["all"]})
	authz.decision.allow with input as {"principal": p, "action": "documents.write", "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": p, "action": "documents.write", "resource": activity_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_client_all_read_reads_documents_only if {
	p := object.union(client, {"scopes": ["all/read"]})
	authz.decision.allow with input as {"principal": p, "action": "documents.read", "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": p, "action": "documents.write", "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_client_documents_without_scope if {
	d := authz.decision with input as {"principal": client, "action": "documents.write", "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not d.allow
	d.reasons == ["no rule permits documents.write for this principal"]
}

test_allow_learner_own_documents if {
	every a in {"documents.read", "documents.write", "documents.delete"} {
		authz.decision.allow with input as {"principal": learner_alice, "action": a, "resource": alice_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
		authz.decision.allow with input as {"principal": learner_alice, "action": a, "resource": alice_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_deny_learner_other_documents if {
	not authz.decision.allow with input as {"principal": learner_alice, "action": "documents.read", "resource": bob_state} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": learner_alice, "action": "documents.write", "resource": object.union(alice_profile, {"subjects": [bob]})} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not authz.decision.allow with input as {"principal": learner_alice, "action": "documents.read", "resource": activity_profile} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}
