package governance

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Loosenings lists, in a stable order, what replacing the policy data old
// by new loosens: a control over personal data that new removes or
// weakens. The policy decides a policy-data change with the list as
// resource.loosens (manage.rego: HR may make changes that loosen nothing).
// Each item names the purpose or setting and the change, never content:
//
//   - a mask removed for a role ("purposes.p.masks.hr: result.response removed")
//   - a reader role added ("purposes.p.readers: client added")
//   - a minimised path removed, or signed statements kept whole instead of
//     refused ("purposes.p.minimise: context.extensions removed")
//   - the legal basis changed away from consent
//   - retention lengthened (0 is no limit), or shortened for a purpose
//     under legal obligation
//   - the match rules of a purpose based on consent changed, or a purpose
//     based on consent removed (its statements would map elsewhere)
//   - a new purpose, not based on consent, that maps statements (it may
//     take statements from a consent purpose)
//   - settings.default_purpose changed, or settings.admin_bypass turned on
func Loosenings(old, new PolicyData) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, id := range old.PurposeIDs() {
		o := old.Purposes[id]
		n, ok := new.Purposes[id]
		if !ok {
			if o.LegalBasis == BasisConsent || o.LegalBasis == BasisLegalObligation {
				add("purposes.%s: removed", id)
			}
			continue
		}
		for _, role := range sortedKeys(o.Masks) {
			for _, path := range o.Masks[role] {
				if !slices.Contains(n.Masks[role], path) {
					add("purposes.%s.masks.%s: %s removed", id, role, path)
				}
			}
		}
		for _, r := range n.Readers {
			if !slices.Contains(o.Readers, r) {
				add("purposes.%s.readers: %s added", id, r)
			}
		}
		for _, path := range o.Minimise {
			if !slices.Contains(n.Minimise, path) {
				add("purposes.%s.minimise: %s removed", id, path)
			}
		}
		if signedPolicy(o) == SignedReject && signedPolicy(n) != SignedReject {
			add("purposes.%s.signed_statements: %s instead of %s", id, signedPolicy(n), SignedReject)
		}
		if o.LegalBasis == BasisConsent && n.LegalBasis != BasisConsent {
			add("purposes.%s.legal_basis: %s instead of consent", id, n.LegalBasis)
		}
		if longer(n.RetentionDays, o.RetentionDays) {
			add("purposes.%s.retention_days: lengthened", id)
		}
		if o.LegalBasis == BasisLegalObligation && longer(o.RetentionDays, n.RetentionDays) {
			add("purposes.%s.retention_days: shortened under legal obligation", id)
		}
		if o.LegalBasis == BasisConsent && !sameMatch(o.Match, n.Match) {
			add("purposes.%s.match: changed on a purpose based on consent", id)
		}
	}
	for _, id := range new.PurposeIDs() {
		n := new.Purposes[id]
		if _, ok := old.Purposes[id]; !ok && n.LegalBasis != BasisConsent && !emptyMatch(n.Match) {
			add("purposes.%s: added, mapping statements without consent", id)
		}
	}
	if old.Settings.DefaultPurpose != new.Settings.DefaultPurpose {
		add("settings.default_purpose: changed")
	}
	if !old.Settings.AdminBypass && new.Settings.AdminBypass {
		add("settings.admin_bypass: turned on")
	}
	return out
}

// ParsePolicyDataJSON decodes and checks the policy data document raw (see
// ParsePolicyData).
func ParsePolicyDataJSON(raw json.RawMessage) (PolicyData, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return PolicyData{}, fmt.Errorf("governance: policy data is not a JSON object")
	}
	return ParsePolicyData(doc)
}

func signedPolicy(p Purpose) string {
	if p.SignedStatements == "" {
		return defaultSignedStatement
	}
	return p.SignedStatements
}

// longer reports whether a retention of a days keeps data longer than one
// of b days (0: no limit).
func longer(a, b int) bool {
	if b == 0 {
		return false
	}
	return a == 0 || a > b
}

func sameMatch(a, b PurposeMatch) bool {
	eq := func(x, y []string) bool {
		x, y = slices.Clone(x), slices.Clone(y)
		sort.Strings(x)
		sort.Strings(y)
		return slices.Equal(x, y)
	}
	return eq(a.Clients, b.Clients) && eq(a.ActivityPrefixes, b.ActivityPrefixes) && eq(a.Verbs, b.Verbs) && eq(a.ActivityTypes, b.ActivityTypes)
}

func emptyMatch(m PurposeMatch) bool {
	return len(m.Clients)+len(m.ActivityPrefixes)+len(m.Verbs)+len(m.ActivityTypes) == 0
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
