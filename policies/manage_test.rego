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
	data_doc := {"kind": "policy_data", "loosens": []}
	every action in ["policies.read", "policies.manage"] {
		authz.decision.allow with input as {"principal": principal("hr"), "action": action, "resource": data_doc} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
		not authz.decision.allow with input as {"principal": principal("learner"), "action": action, "resource": data_doc} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
}

hr_decides(action, resource) := d if {
	d := authz.decision with input as {"principal": principal("hr"), "action": action, "resource": resource}
		with data.custodia.purposes as fixture.purposes
		with data.custodia.settings as fixture.settings
}

loosening := {"kind": "policy_data", "loosens": ["purposes.clickstream-analytics.masks.hr: result.response removed"]}

test_deny_hr_loosening_policy_data if {
	d := hr_decides("policies.manage", loosening)
	not d.allow
	d.reasons == ["the change loosens controls, which needs compliance: purposes.clickstream-analytics.masks.hr: result.response removed"]
}

test_allow_compliance_and_admin_loosening_policy_data if {
	every role in ["compliance", "admin"] {
		authz.decision.allow with input as {"principal": principal(role), "action": "policies.manage", "resource": loosening} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
	}
	both := {"id": "k-both", "roles": ["hr", "compliance"], "scopes": [], "identities": []}
	authz.decision.allow with input as {"principal": both, "action": "policies.manage", "resource": loosening} with data.custodia.purposes as fixture.purposes with data.custodia.settings as fixture.settings
}

test_allow_hr_simulates_and_reads_revisions if {
	hr_decides("policies.manage", {"kind": "policy_simulation"}).allow
	hr_decides("policies.read", {"kind": "policy_revision"}).allow
}

test_deny_hr_rollback_and_modules if {
	not hr_decides("policies.manage", {"kind": "policy_revision", "revision": "0123456789abcdef"}).allow
	not hr_decides("policies.manage", {"kind": "policy", "module": "x.rego"}).allow
	not hr_decides("policies.read", {"kind": "policy", "module": "x.rego"}).allow
}
