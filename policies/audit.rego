# Access to the audit log (the governance API under /api/v1/audit/ and
# /api/v1/me/access-log). Decisions here are audited like any other.
#
# resource: {"kind": "audit"}
# actions:  audit.read        entries, checkpoint, proofs
#           audit.publish     publish a checkpoint now
#           audit.cosign      hand in a witness cosignature (checked against
#                             the configured witness keys as well)
#           audit.key         the log's public verifier key
#           audit.access_log  the accesses to the caller's own records
package custodia.authz

audit_actions := {"audit.read", "audit.publish", "audit.cosign"}

allow contains "an auditor may read the audit log and publish and cosign its checkpoints" if {
	input.action in audit_actions
	"auditor" in roles
}

allow contains "the audit log's verifier key is public" if {
	input.action == "audit.key"
}

allow contains "a person may see who accessed their own records" if {
	input.action == "audit.access_log"
	count(identities) > 0
}
