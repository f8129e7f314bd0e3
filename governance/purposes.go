package governance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"custodia/xapi"
)

// The policy data document (policies/data.json, mounted at the root of
// data: data.custodia.purposes, data.custodia.settings) holds the purposes
// of processing and the settings the policy reads. The engine decodes it
// strictly whenever it compiles a policy set (at load and before every
// activation), so that a purpose with an unknown legal basis, role or field
// never becomes active.

// dataFile is the policy data document of a policy pack.
const dataFile = "data.json"

// The legal bases of GDPR Art. 6(1) that apply to learning records, and a
// works agreement (a collective agreement, Art. 88 and e.g. BDSG §26(4)).
const (
	BasisConsent           = "consent"
	BasisContract          = "contract"
	BasisLegalObligation   = "legal_obligation"
	BasisLegitimate        = "legitimate_interest"
	BasisWorksAgreement    = "works_agreement"
	SignedReject           = "reject"
	SignedKeepWhole        = "keep_whole"
	defaultSignedStatement = SignedReject
)

var legalBases = map[string]bool{BasisConsent: true, BasisContract: true, BasisLegalObligation: true, BasisLegitimate: true, BasisWorksAgreement: true}

// Purpose is one purpose of processing (data.custodia.purposes[id]).
type Purpose struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	LegalBasis  string `json:"legal_basis"`
	// RetentionDays is how long statements recorded for the purpose are
	// kept, from stored; 0 keeps them without limit.
	RetentionDays int                 `json:"retention_days"`
	Readers       []string            `json:"readers"`            // roles that may read for it
	Masks         map[string][]string `json:"masks,omitempty"`    // per role: paths masked on read
	Minimise      []string            `json:"minimise,omitempty"` // paths removed at write
	// SignedStatements says what happens to a signed statement that
	// minimisation would change: "reject" (the default) or "keep_whole".
	SignedStatements string       `json:"signed_statements,omitempty"`
	Match            PurposeMatch `json:"match"`
}

// PurposeMatch says which statements a purpose covers. Each non-empty list
// is a condition and all must hold: the writing client is listed, one of the
// statement's activity ids starts with a listed prefix, its verb is listed,
// one of its activities has a listed type. A purpose without conditions is
// only ever used as the default.
type PurposeMatch struct {
	Clients          []string `json:"clients,omitempty"`
	ActivityPrefixes []string `json:"activity_prefixes,omitempty"`
	Verbs            []string `json:"verbs,omitempty"`
	ActivityTypes    []string `json:"activity_types,omitempty"`
}

// Settings are the policy data's settings (data.custodia.settings).
type Settings struct {
	// DefaultPurpose records statements that no purpose matches.
	DefaultPurpose string `json:"default_purpose"`
	// AdminBypass lets admin read statements of every purpose.
	AdminBypass bool       `json:"admin_bypass"`
	Controller  Controller `json:"controller"`
	// BreakGlassMaxMinutes is the longest break-glass session that may be
	// opened: 1 to 1440 minutes; 0 (absent): DefaultBreakGlassMaxMinutes.
	BreakGlassMaxMinutes int `json:"break_glass_max_minutes,omitempty"`
}

// Controller is the PII controller named in consent receipts.
type Controller struct {
	Name         string `json:"name"`
	Contact      string `json:"contact,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Address      string `json:"address,omitempty"`
	PolicyURL    string `json:"policy_url,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
}

// PolicyData is the decoded policy data document.
type PolicyData struct {
	Purposes map[string]Purpose
	Settings Settings
}

// PurposeIDs lists the purpose ids in order.
func (d PolicyData) PurposeIDs() []string {
	ids := make([]string, 0, len(d.Purposes))
	for id := range d.Purposes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ParsePolicyData checks and decodes the policy data document doc (the
// whole of data: {"custodia": {"purposes": …, "settings": …}}). Anything
// malformed is an Invalid *xapi.Error naming the field.
func ParsePolicyData(doc map[string]any) (PolicyData, error) {
	const op = "governance.ParsePolicyData"
	out := PolicyData{Purposes: map[string]Purpose{}}
	for k := range doc {
		if k != "custodia" {
			return out, xapi.Errorf(xapi.Invalid, op, "%q: the policy data holds only \"custodia\"", k)
		}
	}
	cust, ok := doc["custodia"]
	if !ok {
		return out, nil
	}
	var raw struct {
		Purposes map[string]json.RawMessage `json:"purposes"`
		Settings json.RawMessage            `json:"settings"`
	}
	if err := strictDecode(cust, &raw); err != nil {
		return out, xapi.Errorf(xapi.Invalid, op, "custodia: %s", err)
	}
	for id, r := range raw.Purposes {
		if !ValidPurpose(id) {
			return out, xapi.Errorf(xapi.Invalid, op, "purposes: %q is not a purpose identifier (1 to 64 of a-z, 0-9, '.', '_', '-')", id)
		}
		var p Purpose
		if err := strictDecode(r, &p); err != nil {
			return out, xapi.Errorf(xapi.Invalid, op, "purposes.%s: %s", id, err)
		}
		if p.ID != "" && p.ID != id {
			return out, xapi.Errorf(xapi.Invalid, op, "purposes.%s: id %q differs from its key", id, p.ID)
		}
		p.ID = id
		if err := checkPurpose(p); err != nil {
			return out, xapi.Errorf(xapi.Invalid, op, "purposes.%s: %s", id, err)
		}
		out.Purposes[id] = p
	}
	if len(raw.Settings) > 0 {
		if err := strictDecode(raw.Settings, &out.Settings); err != nil {
			return out, xapi.Errorf(xapi.Invalid, op, "settings: %s", err)
		}
	}
	if m := out.Settings.BreakGlassMaxMinutes; m < 0 || m > maxBreakGlassMin {
		return out, xapi.Errorf(xapi.Invalid, op, "settings.break_glass_max_minutes must be 1 to %d (0 or absent: %d)", maxBreakGlassMin, DefaultBreakGlassMaxMinutes)
	}
	if d := out.Settings.DefaultPurpose; d != "" {
		if _, ok := out.Purposes[d]; !ok {
			return out, xapi.Errorf(xapi.Invalid, op, "settings.default_purpose: %q is not one of the purposes", d)
		}
	} else if len(out.Purposes) > 0 {
		return out, xapi.Errorf(xapi.Invalid, op, "settings.default_purpose is required when purposes are defined")
	}
	if len(out.Purposes) > 0 {
		if err := checkController(out.Settings.Controller); err != nil {
			return out, xapi.Errorf(xapi.Invalid, op, "settings.controller: %s", err)
		}
	}
	return out, nil
}

// checkController checks the PII controller that consent receipts name
// (Gate.receipt): a name, a way to reach them (contact or email) and where
// to find them or their notice (address or policy_url), none blank.
func checkController(c Controller) error {
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	switch {
	case blank(c.Name):
		return fmt.Errorf("name is required (consent receipts name the controller)")
	case blank(c.Contact) && blank(c.Email):
		return fmt.Errorf("contact or email is required (consent receipts say how to reach the controller)")
	case blank(c.Address) && blank(c.PolicyURL):
		return fmt.Errorf("address or policy_url is required (consent receipts say where to find the controller)")
	}
	return nil
}

func checkPurpose(p Purpose) error {
	if strings.TrimSpace(p.Title) == "" {
		return fmt.Errorf("title is required")
	}
	if !legalBases[p.LegalBasis] {
		return fmt.Errorf("legal_basis %q is not one of consent, contract, legal_obligation, legitimate_interest, works_agreement", p.LegalBasis)
	}
	if p.RetentionDays < 0 || p.RetentionDays > 100*366 {
		return fmt.Errorf("retention_days must be 0 (no limit) to 36600")
	}
	if err := checkMatch(p.Match); err != nil {
		return fmt.Errorf("match.%s", err)
	}
	for _, r := range p.Readers {
		if !knownRoles[r] {
			return fmt.Errorf("readers: unknown role %q", r)
		}
	}
	for role, paths := range p.Masks {
		if !knownRoles[role] {
			return fmt.Errorf("masks: unknown role %q", role)
		}
		for _, path := range paths {
			if err := checkPath(path, false); err != nil {
				return fmt.Errorf("masks.%s: %s", role, err)
			}
		}
	}
	for _, path := range p.Minimise {
		if err := checkPath(path, true); err != nil {
			return fmt.Errorf("minimise: %s", err)
		}
	}
	switch p.SignedStatements {
	case "", SignedReject, SignedKeepWhole:
	default:
		return fmt.Errorf("signed_statements must be reject or keep_whole")
	}
	return nil
}

func checkMatch(m PurposeMatch) error {
	for _, v := range m.Verbs {
		if !xapi.IsIRI(v) {
			return fmt.Errorf("verbs: %q is not an IRI", v)
		}
	}
	for _, v := range m.ActivityTypes {
		if !xapi.IsIRI(v) {
			return fmt.Errorf("activity_types: %q is not an IRI", v)
		}
	}
	for _, v := range m.ActivityPrefixes {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("activity_prefixes: an empty prefix would match every activity")
		}
	}
	for _, v := range m.Clients {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("clients: an empty client name")
		}
	}
	return nil
}

// protectedPaths are the parts of a statement neither minimisation nor a
// mask may touch: without them it is not a statement, or not the one its
// id names.
var protectedPaths = map[string]bool{
	"id": true, "actor": true, "verb": true, "verb.id": true, "object": true, "object.id": true,
	"object.objectType": true, "authority": true, "stored": true, "version": true, "attachments": true,
}

// checkPath checks a statement path of the policy data or of an obligation.
func checkPath(path string, minimise bool) error {
	if path == "" || len(path) > 256 {
		return fmt.Errorf("path %q must have 1 to 256 bytes", path)
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return fmt.Errorf("path %q has an empty segment", path)
		}
	}
	if protectedPaths[path] || strings.HasPrefix(path, "actor.") || strings.HasPrefix(path, "authority.") {
		if minimise {
			return fmt.Errorf("path %q may not be removed: a statement needs it", path)
		}
		return fmt.Errorf("path %q may not be masked: the statement's identity needs it", path)
	}
	return nil
}

// strictDecode decodes v (a decoded JSON value or raw JSON) into out,
// refusing unknown keys.
func strictDecode(v any, out any) error {
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}
