# Who may read and change the policies themselves: the Rego modules, the
# policy data, their revisions, rollback and simulation
# (/api/v1/policies…, /api/v1/policy-data).
#
# Actions:
#   policies.read    list modules and revisions, read a module or the data
#   policies.manage  upload or delete a module, replace the data, roll back,
#                    simulate a candidate
#
# HR defines the purposes of processing: it may read and replace the policy
# data (resource kind policy_data), not the Rego modules.
#
# Admins may do both through the administration rule of authz.rego. The
# engine refuses to activate any policy set under which an admin may not
# manage policies, so a bad policy can always be rolled back.
package custodia.authz

allow contains "compliance may read and manage policies" if {
	input.action in {"policies.read", "policies.manage"}
	"compliance" in roles
}

allow contains "an auditor may read policies" if {
	input.action == "policies.read"
	"auditor" in roles
}

allow contains "hr may read and change the purposes (the policy data)" if {
	input.action in {"policies.read", "policies.manage"}
	input.resource.kind == "policy_data"
	"hr" in roles
}
