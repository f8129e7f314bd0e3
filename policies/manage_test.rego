package custodia.manage_test

import data.custodia.authz
import data.custodia.fixture

principal(role) := {"id": concat("-", ["k", role]), "roles": [role], "scopes": [], "identities": []}

policy := {"kind": "policy", "module": "manage.rego"}

test_allow_compliance_manages_policies if {
	authz.decision.allow with input as {"principal": principal("compliance"), "action": "policies.manage", "resource": policy} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	authz.decision.allow with input as {"principal": principal("compliance"), "action": "policies.read", "resource": policy} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_admin_manages_policies if {
	authz.decision.allow with input as {"principal": principal("admin"), "action": "policies.manage", "resource": policy} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_auditor_reads_policies if {
	d := authz.decision with input as {"principal": principal("auditor"), "action": "policies.read", "resource": policy} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	d.allow
	d.reasons == ["an auditor may read policies"]
}

test_deny_auditor_manages_policies if {
	not authz.decision.allow with input as {"principal": principal("auditor"), "action": "policies.manage", "resource": policy} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_deny_other_roles_policies if {
	every role in ["hr", "learner", "client"] {
		every action in ["policies.read", "policies.manage"] {
			not authz.decision.allow with input as {"principal": principal(role), "action": action, "resource": policy} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
		}
	}
}

test_allow_hr_manages_policy_data_only if {
	data_doc := {"kind": "policy_data"}
	every action in ["policies.read", "policies.manage"] {
		authz.decision.allow with input as {"principal": principal("hr"), "action": action, "resource": data_doc} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
		not authz.decision.allow with input as {"principal": principal("learner"), "action": action, "resource": data_doc} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
	not authz.decision.allow with input as {"principal": principal("hr"), "action": "policies.manage", "resource": {"kind": "policy_simulation"}} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}
