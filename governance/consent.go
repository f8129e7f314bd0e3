package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"custodia/xapi"
)

// Consent per person and purpose. Each grant or withdrawal is appended to
// the person's history for the purpose and issues a consent receipt shaped
// after the Kantara Initiative Consent Receipt Specification v1.1 with the
// terms of ISO/IEC TS 27560 (legal basis, consent state, retention), which
// the person can download again later.
//
// Records (sealed system records; keys hold only pseudonyms and ids):
//
//	consent/<pseudonym of subject IFI>/<purpose>  {"history": [{granted, at, receipt}]}
//	consent-receipt/<receipt id>                  the receipt JSON
//
// A person known by an mbox is recorded under that IFI and its
// mbox_sha1sum, so statements naming either find the consent.

const (
	recordKindConsent = "consent"
	recordKindReceipt = "consent-receipt"
	// ReceiptVersion is the Kantara Consent Receipt version receipts follow.
	ReceiptVersion = "KI-CR-v1.1.0"
)

// The consent states of ConsentState.State.
const (
	ConsentGranted     = "granted"
	ConsentWithdrawn   = "withdrawn"
	ConsentNotGiven    = "not_given"    // consent-based, never answered
	ConsentNotRequired = "not_required" // another legal basis applies
)

// consentEvent is one grant or withdrawal.
type consentEvent struct {
	Granted bool      `json:"granted"`
	At      time.Time `json:"at"`
	Receipt string    `json:"receipt"`
}

// consentRecord is a person's consent history for one purpose.
type consentRecord struct {
	History []consentEvent `json:"history"`
}

func (c consentRecord) granted() bool {
	return len(c.History) > 0 && c.History[len(c.History)-1].Granted
}

// ConsentState is a person's view of one purpose: what it is and, when it
// rests on consent, whether they gave it.
type ConsentState struct {
	Purpose       string     `json:"purpose"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	LegalBasis    string     `json:"legal_basis"`
	RetentionDays int        `json:"retention_days"`
	State         string     `json:"state"` // granted, withdrawn, not_given, not_required
	Changed       *time.Time `json:"changed,omitempty"`
	Receipt       string     `json:"receipt,omitempty"` // id of the latest receipt
}

// ConsentReceipt is a machine-readable record of one consent event, after
// the Kantara Consent Receipt v1.1 (field names as there) and ISO/IEC TS
// 27560 (legalBasis, consentState, retention).
type ConsentReceipt struct {
	Version          string              `json:"version"`
	Jurisdiction     string              `json:"jurisdiction"`
	ConsentTimestamp int64               `json:"consentTimestamp"` // Unix seconds
	ConsentTime      time.Time           `json:"consentTime"`
	CollectionMethod string              `json:"collectionMethod"`
	ConsentReceiptID string              `json:"consentReceiptID"`
	Language         string              `json:"language"`
	PIIPrincipalID   string              `json:"piiPrincipalId"` // a pseudonym, as in the audit log
	PIIControllers   []ReceiptController `json:"piiControllers"`
	PolicyURL        string              `json:"policyUrl"`
	Services         []ReceiptService    `json:"services"`
	Sensitive        bool                `json:"sensitive"`
	SPICat           []string            `json:"spiCat"`
}

// ReceiptController is a PII controller of a receipt.
type ReceiptController struct {
	PIIController string `json:"piiController"`
	OnBehalf      bool   `json:"onBehalf"`
	Contact       string `json:"contact,omitempty"`
	Address       string `json:"address,omitempty"`
	Email         string `json:"email,omitempty"`
	Phone         string `json:"phone,omitempty"`
}

// ReceiptService is a service of a receipt and the purposes it serves.
type ReceiptService struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one purpose of a receipt.
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeID            string   `json:"purposeId"`
	Description          string   `json:"description,omitempty"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	LegalBasis           string   `json:"legalBasis"`
	ConsentState         string   `json:"consentState"` // granted or withdrawn
	RetentionDays        int      `json:"retentionDays"`
}

// consentKey names the consent record of subject for purpose.
func (g *Gate) consentKey(subject, purpose string) string {
	return g.cfg.Pseudonymizer.Pseudonym("subject:"+subject) + "/" + purpose
}

func (g *Gate) consentState(ctx context.Context, subject, purpose string) (consentRecord, error) {
	var c consentRecord
	raw, err := g.cfg.Records.GetRecord(ctx, recordKindConsent, g.consentKey(subject, purpose))
	if xapi.ErrorKind(err) == xapi.NotFound {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("governance: decoding consent record: %w", err)
	}
	return c, nil
}

// person checks that p stands for a person (is bound to an agent); only
// such a principal may use /me.
func person(p Principal, op string) error {
	if p.Agent == nil {
		return xapi.Errorf(xapi.Forbidden, op, "only a credential bound to a person (agent) may use /me")
	}
	return nil
}

// decideOwn decides action on the principal's own consent records and
// returns the audit entry to complete, or Forbidden (recorded).
func (g *Gate) decideOwn(ctx context.Context, op string, p Principal, action string, res map[string]any, resources []string) (AuditEntry, error) {
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: res})
	if err != nil {
		return AuditEntry{}, g.refuse(ctx, op, p, action, resources, err)
	}
	e := g.entry(ctx, p, action, resources, d.Revision)
	e.noteBreakGlass(d)
	e.Subjects = g.pseudonyms(p.Identities())
	e.Reasons = d.Reasons
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{}, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	e.Decision = "allow"
	return e, nil
}

// Consents lists, for the person p stands for, every purpose of the active
// policy with its legal basis, retention and, for consent-based purposes,
// the person's current consent.
func (g *Gate) Consents(ctx context.Context, p Principal) ([]ConsentState, error) {
	const op = "governance.Consents"
	if err := person(p, op); err != nil {
		return nil, err
	}
	e, err := g.decideOwn(ctx, op, p, "consents.read", map[string]any{"kind": "consent", "subjects": strs(p.Identities())}, []string{"consents"})
	if err != nil {
		return nil, err
	}
	data := g.cfg.Engine.PolicyData()
	out := make([]ConsentState, 0, len(data.Purposes))
	for _, id := range data.PurposeIDs() {
		pu := data.Purposes[id]
		st := ConsentState{Purpose: id, Title: pu.Title, Description: pu.Description, LegalBasis: pu.LegalBasis, RetentionDays: pu.RetentionDays, State: ConsentNotRequired}
		if pu.LegalBasis == BasisConsent {
			c, err := g.consentState(ctx, p.Agent.IFI(), id)
			if err != nil {
				return nil, err
			}
			st.State = ConsentNotGiven
			if n := len(c.History); n > 0 {
				last := c.History[n-1]
				st.State, st.Changed, st.Receipt = ConsentWithdrawn, &last.At, last.Receipt
				if last.Granted {
					st.State = ConsentGranted
				}
			}
		}
		out = append(out, st)
	}
	e.Count = len(out)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

// SetConsent grants or withdraws the consent of the person p stands for to
// purpose, and returns the receipt. It takes effect on the next decision.
// An unknown purpose is NotFound; one not based on consent is Invalid.
func (g *Gate) SetConsent(ctx context.Context, p Principal, purpose string, granted bool) (ConsentReceipt, error) {
	const op = "governance.SetConsent"
	if err := person(p, op); err != nil {
		return ConsentReceipt{}, err
	}
	data := g.cfg.Engine.PolicyData()
	pu, ok := data.Purposes[purpose]
	if !ok {
		return ConsentReceipt{}, xapi.Errorf(xapi.NotFound, op, "no purpose with that id")
	}
	if pu.LegalBasis != BasisConsent {
		return ConsentReceipt{}, xapi.Errorf(xapi.Invalid, op, "purpose %s rests on %s, not on consent: there is no consent to give or withdraw", purpose, pu.LegalBasis)
	}
	rid := xapi.NewUUID()
	e, err := g.decideOwn(ctx, op, p, "consents.write", map[string]any{"kind": "consent", "subjects": strs(p.Identities()), "purpose": purpose, "granted": granted}, []string{"consent:" + purpose, "consent-receipt:" + rid})
	if err != nil {
		return ConsentReceipt{}, err
	}
	now := g.cfg.Now().UTC()
	r := g.receipt(p, pu, data.Settings.Controller, rid, granted, now)
	rb, err := json.Marshal(r)
	if err != nil {
		return ConsentReceipt{}, err
	}
	e.Count = 1
	if err := g.record(ctx, e); err != nil {
		return ConsentReceipt{}, err
	}
	if err := g.cfg.Records.PutRecord(ctx, recordKindReceipt, rid, rb); err != nil {
		return ConsentReceipt{}, err
	}
	for _, id := range p.Identities() {
		c, err := g.consentState(ctx, id, purpose)
		if err != nil {
			return ConsentReceipt{}, err
		}
		c.History = append(c.History, consentEvent{Granted: granted, At: now, Receipt: rid})
		b, err := json.Marshal(c)
		if err != nil {
			return ConsentReceipt{}, err
		}
		if err := g.cfg.Records.PutRecord(ctx, recordKindConsent, g.consentKey(id, purpose), b); err != nil {
			return ConsentReceipt{}, err
		}
	}
	return r, nil
}

// ConsentReceipt returns the receipt id for the person p stands for. A
// receipt of someone else is NotFound, as is an unknown id.
func (g *Gate) ConsentReceipt(ctx context.Context, p Principal, id string) (ConsentReceipt, error) {
	const op = "governance.ConsentReceipt"
	if err := person(p, op); err != nil {
		return ConsentReceipt{}, err
	}
	e, err := g.decideOwn(ctx, op, p, "consents.read", map[string]any{"kind": "consent", "subjects": strs(p.Identities())}, []string{"consent-receipt:" + id})
	if err != nil {
		return ConsentReceipt{}, err
	}
	notFound := xapi.Errorf(xapi.NotFound, op, "no consent receipt with that id")
	var r ConsentReceipt
	raw, err := g.cfg.Records.GetRecord(ctx, recordKindReceipt, id)
	switch {
	case xapi.ErrorKind(err) == xapi.NotFound || xapi.ErrorKind(err) == xapi.Invalid:
		err = notFound
	case err != nil:
		return ConsentReceipt{}, err
	default:
		if jerr := json.Unmarshal(raw, &r); jerr != nil {
			return ConsentReceipt{}, fmt.Errorf("governance: decoding consent receipt: %w", jerr)
		}
		if r.PIIPrincipalID != g.principalID(p) {
			r, err = ConsentReceipt{}, notFound
		} else {
			e.Count = 1
		}
	}
	if rerr := g.record(ctx, e); rerr != nil {
		return ConsentReceipt{}, rerr
	}
	return r, err
}

// principalID is the PII principal id of a receipt: the pseudonym the audit
// log gives the person.
func (g *Gate) principalID(p Principal) string {
	return g.cfg.Pseudonymizer.Pseudonym("subject:" + p.Agent.IFI())
}

func (g *Gate) receipt(p Principal, pu Purpose, c Controller, id string, granted bool, now time.Time) ConsentReceipt {
	state, termination := ConsentWithdrawn, "Consent was withdrawn: from this moment the records of this purpose are no longer shown to anyone but you, and no new ones are kept."
	if granted {
		state = ConsentGranted
		termination = fmt.Sprintf("Until you withdraw it (PUT /api/v1/me/consents/%s with {\"granted\": false}), which takes effect at once; each record is kept %s from when it was stored.", pu.ID, retentionText(pu.RetentionDays))
	}
	name := c.Name
	if name == "" {
		name = "the operator of this Custodia learning record store"
	}
	jur := c.Jurisdiction
	if jur == "" {
		jur = "EU"
	}
	return ConsentReceipt{
		Version:          ReceiptVersion,
		Jurisdiction:     jur,
		ConsentTimestamp: now.Unix(),
		ConsentTime:      now,
		CollectionMethod: "Custodia API: PUT /api/v1/me/consents/" + pu.ID + " by the person, authenticated with their own credential",
		ConsentReceiptID: id,
		Language:         "en",
		PIIPrincipalID:   g.principalID(p),
		PIIControllers:   []ReceiptController{{PIIController: name, Contact: c.Contact, Address: c.Address, Email: c.Email, Phone: c.Phone}},
		PolicyURL:        c.PolicyURL,
		Services: []ReceiptService{{Service: "Learning record store (xAPI)", Purposes: []ReceiptPurpose{{
			Purpose: pu.Title, PurposeID: pu.ID, Description: pu.Description,
			PurposeCategory: []string{"Learning and development"}, ConsentType: "EXPLICIT",
			PIICategory:    []string{"Learning records (xAPI statements): activities, results, timestamps"},
			PrimaryPurpose: true, Termination: termination, ThirdPartyDisclosure: false,
			LegalBasis: pu.LegalBasis, ConsentState: state, RetentionDays: pu.RetentionDays,
		}}}},
		Sensitive: false,
		SPICat:    []string{},
	}
}

func retentionText(days int) string {
	if days == 0 {
		return "without a time limit"
	}
	return fmt.Sprintf("%d days", days)
}

// MyStatements returns one page of the statements about the person p stands
// for (as actor, object Agent, or Group member) under any of their
// identities (p.Identities: an mbox and its mbox_sha1sum), as
// QueryStatements decides them, and the position token of the next page.
func (g *Gate) MyStatements(ctx context.Context, p Principal, after string, limit int) ([]*xapi.Statement, string, error) {
	if err := person(p, "governance.MyStatements"); err != nil {
		return nil, "", err
	}
	// By every identity of the person: their IFI and, for an mbox, its
	// mbox_sha1sum, as the statement resource's own-statement rule reads them.
	return g.queryStatements(ctx, p, xapi.Query{Limit: limit}, after, p.Identities())
}
