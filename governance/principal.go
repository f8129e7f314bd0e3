package governance

import (
	"crypto/sha1"
	"encoding/hex"

	"custodia/xapi"
)

// The roles of CONTRACT.md. Policies decide what each may do.
const (
	RoleAdmin      = "admin"
	RoleCompliance = "compliance"
	RoleHR         = "hr"
	RoleAuditor    = "auditor"
	RoleLearner    = "learner"
	RoleClient     = "client"
)

// Roles lists the known roles.
var knownRoles = map[string]bool{RoleAdmin: true, RoleCompliance: true, RoleHR: true, RoleAuditor: true, RoleLearner: true, RoleClient: true}

// The xAPI scopes (xAPI Communication §4.2, OAuth scope values).
var knownScopes = map[string]bool{
	"statements/write": true, "statements/read": true, "statements/read/mine": true,
	"all/read": true, "all": true, "state": true, "define": true, "profile": true,
}

// ValidScope reports whether s is an xAPI scope (xAPI Communication §4.2):
// statements/write, statements/read, statements/read/mine, all/read, all,
// state, define or profile.
func ValidScope(s string) bool { return knownScopes[s] }

// ValidRole reports whether r is one of the roles of CONTRACT.md.
func ValidRole(r string) bool { return knownRoles[r] }

// Principal is who makes a request, as established by authentication.
type Principal struct {
	ID      string      // the credential key or token subject; not personal data
	Name    string      // the credential's display name
	Roles   []string    // see the Role constants
	Scopes  []string    // xAPI scopes
	Agent   *xapi.Agent // the person the principal stands for, if any
	Purpose string      // the purpose of this request
}

// Identities reports the agent IFIs by which the principal's person is
// known: the agent's IFI and, for an mbox, the matching mbox_sha1sum.
func (p Principal) Identities() []string {
	if p.Agent == nil {
		return nil
	}
	out := []string{p.Agent.IFI()}
	if p.Agent.Mbox != "" {
		sum := sha1.Sum([]byte(p.Agent.Mbox))
		out = append(out, xapi.Agent{MboxSHA1Sum: hex.EncodeToString(sum[:])}.IFI())
	}
	return out
}

// HasRole reports whether p has role r.
func (p Principal) HasRole(r string) bool {
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}
