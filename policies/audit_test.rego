package custodia.authz_test

import data.custodia.authz
import data.custodia.fixture

audit_auditor := {"id": "k-dpo", "roles": ["auditor"], "scopes": [], "identities": []}

audit_admin := {"id": "k-admin", "roles": ["admin"], "scopes": ["all"], "identities": []}

audit_client := {"id": "k-lms", "roles": ["client"], "scopes": ["all"], "identities": []}

audit_hr := {"id": "k-hr", "roles": ["hr", "compliance"], "scopes": ["all/read"], "identities": []}

audit_learner := {"id": "k-alice", "roles": ["learner"], "scopes": ["statements/read/mine"], "identities": ["mbox:mailto:alice@example.com"]}

audit_in(p, action) := {"principal": p, "action": action, "resource": {"kind": "audit"}}

test_allow_auditor_reads_publishes_cosigns if {
	every a in {"audit.read", "audit.publish", "audit.cosign", "audit.key"} {
		authz.decision.allow with input as audit_in(audit_auditor, a) with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_allow_admin_reads_audit if {
	every a in {"audit.read", "audit.publish", "audit.cosign"} {
		authz.decision.allow with input as audit_in(audit_admin, a) with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_deny_client_audit if {
	every a in {"audit.read", "audit.publish", "audit.cosign", "audit.access_log"} {
		not authz.decision.allow with input as audit_in(audit_client, a) with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_deny_hr_and_compliance_audit if {
	every a in {"audit.read", "audit.publish", "audit.cosign"} {
		not authz.decision.allow with input as audit_in(audit_hr, a) with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

test_deny_learner_reads_audit if {
	d := authz.decision with input as audit_in(audit_learner, "audit.read") with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	not d.allow
	d.reasons == ["no rule permits audit.read for this principal"]
}

test_allow_learner_access_log if {
	d := authz.decision with input as audit_in(audit_learner, "audit.access_log") with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	d.allow
	d.reasons == ["a person may see who accessed their own records"]
}

test_deny_access_log_without_person if {
	not authz.decision.allow with input as audit_in(audit_auditor, "audit.access_log") with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_anyone_audit_key if {
	every p in [audit_learner, audit_client, audit_hr] {
		authz.decision.allow with input as audit_in(p, "audit.key") with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}
