package governance

import (
	"context"
	"strings"

	"custodia/xapi"
)

// The policy actions of the document resources. The policy input's resource
// is {"kind": "state" | "activity_profile" | "agent_profile", "subjects":
// [the agent's IFIs] (none for an Activity Profile), "activity": the
// activityId or "", "activities": [the activityId] or []}; its context
// holds now and the subjects' consents to the purposes based on consent.
// The purpose a document serves follows from its activity id by the match
// rules of the policy data (policies/purposes.rego), so that reads and
// writes are decided by purpose like those of statements.
const (
	ActionDocumentsRead   = "documents.read"
	ActionDocumentsWrite  = "documents.write"
	ActionDocumentsDelete = "documents.delete"
)

// GetDocument returns the document d names for p, or NotFound. A principal
// that may not read it gets Forbidden, decided on the parameters alone, so
// the answer does not tell whether the document exists.
func (g *Gate) GetDocument(ctx context.Context, p Principal, d xapi.DocumentParams) (xapi.Document, error) {
	const op = "governance.GetDocument"
	e, err := g.decideDocument(ctx, op, p, ActionDocumentsRead, d)
	if err != nil {
		return xapi.Document{}, err
	}
	doc, err := g.cfg.Documents.GetDocument(ctx, d)
	if err != nil && xapi.ErrorKind(err) != xapi.NotFound {
		return xapi.Document{}, err
	}
	if err == nil {
		e.Count = 1
	}
	if rerr := g.record(ctx, e); rerr != nil {
		return xapi.Document{}, rerr
	}
	return doc, err
}

// ListDocuments returns, for p, the documents of the set d names (d.ID
// ""), without bodies, sorted by id; updated after d.Since when it is set.
func (g *Gate) ListDocuments(ctx context.Context, p Principal, d xapi.DocumentParams) ([]xapi.Document, error) {
	const op = "governance.ListDocuments"
	e, err := g.decideDocument(ctx, op, p, ActionDocumentsRead, d)
	if err != nil {
		return nil, err
	}
	docs, err := g.cfg.Documents.ListDocuments(ctx, d)
	if err != nil {
		return nil, err
	}
	e.Count = len(docs)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return docs, nil
}

// PutDocument stores doc as the document d names on behalf of p, when cond
// holds for the stored document (checked in the write's transaction). It
// returns the stored document's metadata. The access is recorded before the
// write.
func (g *Gate) PutDocument(ctx context.Context, p Principal, d xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error) {
	const op = "governance.PutDocument"
	if err := g.allowDocumentWrite(ctx, op, p, ActionDocumentsWrite, d); err != nil {
		return xapi.Document{}, err
	}
	return g.cfg.Documents.PutDocument(ctx, d, doc, cond)
}

// PostDocument stores doc, or merges it into the stored JSON document, as
// the document d names on behalf of p, when cond holds (xAPI Communication
// §2.2). A merge that is not between two JSON objects is Invalid and
// changes nothing.
func (g *Gate) PostDocument(ctx context.Context, p Principal, d xapi.DocumentParams, doc xapi.Document, cond xapi.Precondition) (xapi.Document, error) {
	const op = "governance.PostDocument"
	if err := g.allowDocumentWrite(ctx, op, p, ActionDocumentsWrite, d); err != nil {
		return xapi.Document{}, err
	}
	return g.cfg.Documents.PostDocument(ctx, d, doc, cond)
}

// DeleteDocument removes the document d names on behalf of p when cond
// holds. Deleting a missing document is not an error.
func (g *Gate) DeleteDocument(ctx context.Context, p Principal, d xapi.DocumentParams, cond xapi.Precondition) error {
	const op = "governance.DeleteDocument"
	if err := g.allowDocumentWrite(ctx, op, p, ActionDocumentsDelete, d); err != nil {
		return err
	}
	return g.cfg.Documents.DeleteDocument(ctx, d, cond)
}

// DeleteDocuments removes every document of the set d names (State only:
// an activity, an agent and optionally a registration) on behalf of p.
func (g *Gate) DeleteDocuments(ctx context.Context, p Principal, d xapi.DocumentParams) error {
	const op = "governance.DeleteDocuments"
	if d.Kind != xapi.StateDocument || d.ID != "" {
		return xapi.Errorf(xapi.Invalid, op, "only the State resource deletes several documents at once")
	}
	if err := g.allowDocumentWrite(ctx, op, p, ActionDocumentsDelete, d); err != nil {
		return err
	}
	_, err := g.cfg.Documents.DeleteDocuments(ctx, d)
	return err
}

// allowDocumentWrite decides a write and records it before it happens.
func (g *Gate) allowDocumentWrite(ctx context.Context, op string, p Principal, action string, d xapi.DocumentParams) error {
	e, err := g.decideDocument(ctx, op, p, action, d)
	if err != nil {
		return err
	}
	e.Count = 1
	return g.record(ctx, e)
}

// decideDocument decides action on the documents d names for p. A denial
// is recorded and returned as Forbidden; an allowed access returns its
// audit entry, still to be recorded.
func (g *Gate) decideDocument(ctx context.Context, op string, p Principal, action string, d xapi.DocumentParams) (AuditEntry, error) {
	if g.cfg.Documents == nil {
		return AuditEntry{}, &xapi.Error{Kind: xapi.Internal, Op: op, Msg: "documents are not available"}
	}
	var subjects []string
	if s := d.Subject(); s != "" {
		subjects = []string{s}
	}
	resources := []string{g.documentResource(d)}
	var activities []string
	if d.ActivityID != "" {
		activities = []string{d.ActivityID}
	}
	res := map[string]any{"kind": string(d.Kind), "subjects": strs(subjects), "activity": d.ActivityID, "activities": strs(activities)}
	rc := g.newRequestState()
	consents, err := g.consentsOf(ctx, subjects, rc)
	if err != nil {
		return AuditEntry{}, g.refuse(ctx, op, p, action, resources, err)
	}
	dec, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: res, Context: map[string]any{"now": rc.now, "consents": consents}})
	if err != nil {
		return AuditEntry{}, g.refuse(ctx, op, p, action, resources, err)
	}
	e := g.entry(ctx, p, action, resources, dec.Revision)
	e.noteBreakGlass(dec)
	e.Subjects = g.pseudonyms(subjects)
	e.Reasons = dec.Reasons
	if !dec.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{}, &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(dec.Reasons, "; ")}
	}
	e.Decision = "allow"
	return e, nil
}

// documentResource names the documents d names in the audit log: the kind
// and a pseudonym of the full identity (activity, agent, registration,
// id), "kind/set:…" for a list or multiple delete. Ids are client data and
// never appear in plain form.
func (g *Gate) documentResource(d xapi.DocumentParams) string {
	id := strings.Join([]string{string(d.Kind), d.ActivityID, d.Subject(), d.Registration, d.ID}, "\x00")
	name := string(d.Kind) + "/"
	if d.ID == "" {
		name += "set:"
	}
	return name + g.cfg.Pseudonymizer.Pseudonym("document:"+id)
}
