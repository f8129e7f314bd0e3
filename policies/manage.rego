# Who may read and change the policies themselves: the Rego modules, the
# policy data, their revisions, rollback and simulation
# (/api/v1/policies…, /api/v1/policy-data).
#
# Actions:
#   policies.read    list modules and revisions, read a module or the data
#   policies.manage  upload or delete a module, replace the data, roll back,
#                    simulate a candidate
#
# HR defines the purposes of processing: it may read the policy data and
# change it as long as the change loosens nothing (resource.loosens, listed
# by the gate: a mask removed, a reader added, minimisation removed, the
# legal basis moved away from consent, retention lengthened or, under legal
# obligation, shortened, ...). A change that loosens a control needs a
# second person: compliance (or admin). HR may also simulate a candidate
# and read the revisions, but not roll back or change the Rego modules.
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

loosens := object.get(input.resource, "loosens", [])

hr_only if {
	"hr" in roles
	not "compliance" in roles
	not "admin" in roles
}

allow contains "hr may read the purposes (the policy data) and the revisions" if {
	input.action == "policies.read"
	input.resource.kind in {"policy_data", "policy_revision"}
	"hr" in roles
}

allow contains "hr may change the purposes (the policy data) where the change loosens nothing" if {
	input.action == "policies.manage"
	input.resource.kind == "policy_data"
	"hr" in roles
	count(loosens) == 0
}

allow contains "hr may simulate a candidate policy" if {
	input.action == "policies.manage"
	input.resource.kind == "policy_simulation"
	"hr" in roles
}

deny contains sprintf("the change loosens controls, which needs compliance: %s", [concat("; ", loosens)]) if {
	input.action == "policies.manage"
	input.resource.kind == "policy_data"
	hr_only
	count(loosens) > 0
}
