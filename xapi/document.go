package xapi

import (
	"crypto/sha1"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the rules of the three document resources (xAPI 1.0.3
// Communication §2.2–2.7 and §3.1; IEEE 9274.1.1 §4.1.4, §4.1.6.2,
// §4.1.6.5, §4.1.6.6): which parameters name a document, how a POST merges
// JSON documents, and the ETag preconditions of concurrent writes.

// DocumentKind names one of the three document resources.
type DocumentKind string

// The document resources.
const (
	StateDocument           DocumentKind = "state"            // /activities/state
	ActivityProfileDocument DocumentKind = "activity_profile" // /activities/profile
	AgentProfileDocument    DocumentKind = "agent_profile"    // /agents/profile
)

// DocumentParams names a document, or a set of documents of one kind, as
// the query parameters of a document request do.
type DocumentParams struct {
	Kind         DocumentKind
	ActivityID   string    // activityId: State and Activity Profile
	Agent        *Agent    // agent: State and Agent Profile; always an Agent
	Registration string    // registration (State only), lower case; "" when absent
	ID           string    // stateId or profileId; "" names every document of the set
	Since        time.Time // since (list GET only): documents updated after it; zero when absent
}

// Subject reports the IFI of the person the documents belong to: the agent
// of a State or Agent Profile document, "" for an Activity Profile.
func (p DocumentParams) Subject() string {
	if p.Kind == ActivityProfileDocument || p.Agent == nil {
		return ""
	}
	return p.Agent.IFI()
}

// Document is one stored document: opaque bytes with their Content-Type
// (xAPI Communication §2.2).
type Document struct {
	ID          string    // the stateId or profileId
	ContentType string    // as sent with the document
	Body        []byte    // exactly as stored
	Updated     time.Time // when it was last written
	ETag        string    // quoted entity tag, see DocumentETag
}

// DocumentETag returns the entity tag of a document body: the lower-case
// hex SHA-1 of the body in double quotes. 1.0.3 requires this value (XAPI
// Communication §3.1); 2.0 accepts any quoted opaque value.
func DocumentETag(body []byte) string {
	sum := sha1.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// documentParams lists the parameters of each resource.
var documentParams = map[DocumentKind][]string{
	StateDocument:           {"activityId", "agent", "registration", "stateId", "since"},
	ActivityProfileDocument: {"activityId", "profileId", "since"},
	AgentProfileDocument:    {"agent", "profileId", "since"},
}

// ParseDocumentParams parses and validates the query parameters of a
// request with method (GET, HEAD, PUT, POST or DELETE) to the document
// resource of kind, under the rules of version v. Every failure is an
// Invalid *Error naming the parameter:
//
//   - unknown, mis-cased or repeated parameters;
//   - a missing activityId (State, Activity Profile) or agent (State, Agent
//     Profile); an activityId that is not an IRI; an agent that is not a
//     JSON Agent (a Group is refused: use its IFI in an Agent object);
//   - a registration that is not a UUID;
//   - a missing stateId/profileId on PUT and POST, and on DELETE for the
//     profile resources, which have no multiple-document DELETE;
//   - since that is not a timestamp, or given with a document id or with a
//     method other than GET and HEAD.
func ParseDocumentParams(kind DocumentKind, method string, vals url.Values, v Version) (DocumentParams, error) {
	const op = "xapi.ParseDocumentParams"
	names, ok := documentParams[kind]
	if !ok {
		return DocumentParams{}, &Error{Kind: Internal, Op: op, Msg: "unknown document resource"}
	}
	idName := "profileId"
	if kind == StateDocument {
		idName = "stateId"
	}
	p := DocumentParams{Kind: kind}
	for k, vs := range vals {
		known := false
		for _, n := range names {
			if k == n {
				known = true
				break
			}
			if strings.EqualFold(k, n) {
				return DocumentParams{}, Errorf(Invalid, op, "unknown parameter %s (parameter names are case-sensitive: %q)", quoteKey(k), n)
			}
		}
		if !known {
			return DocumentParams{}, Errorf(Invalid, op, "unknown parameter %s", quoteKey(k))
		}
		if len(vs) != 1 {
			return DocumentParams{}, Errorf(Invalid, op, "%s: must be given once", k)
		}
		val := vs[0]
		if !utf8.ValidString(val) {
			return DocumentParams{}, Errorf(Invalid, op, "%s: must be valid UTF-8", k)
		}
		switch k {
		case "activityId":
			if !isIRI(val) {
				return DocumentParams{}, Errorf(Invalid, op, "activityId: must be an IRI")
			}
			p.ActivityID = val
		case "agent":
			tree, err := decodeJSON([]byte(val), op, "agent")
			if err != nil {
				return DocumentParams{}, err
			}
			c := checker{v: v, op: op}
			if err := c.agent(tree, "agent", agentOnly); err != nil {
				return DocumentParams{}, err
			}
			a := agentFrom(tree.(map[string]any))
			p.Agent = &a
		case "registration":
			if !isUUID(val) {
				return DocumentParams{}, Errorf(Invalid, op, "registration: must be a UUID")
			}
			p.Registration = strings.ToLower(val)
		case "stateId", "profileId":
			if val == "" {
				return DocumentParams{}, Errorf(Invalid, op, "%s: must not be empty", k)
			}
			p.ID = val
		case "since":
			ts, why := parseTimestamp(val, v)
			if why != "" {
				return DocumentParams{}, Errorf(Invalid, op, "since: %s", why)
			}
			p.Since = ts.t
		}
	}
	if kind != AgentProfileDocument && p.ActivityID == "" {
		return DocumentParams{}, Errorf(Invalid, op, "activityId parameter is required")
	}
	if kind != ActivityProfileDocument && p.Agent == nil {
		return DocumentParams{}, Errorf(Invalid, op, "agent parameter is required")
	}
	list := method == http.MethodGet || method == http.MethodHead
	if p.ID == "" && !(list || method == http.MethodDelete && kind == StateDocument) {
		return DocumentParams{}, Errorf(Invalid, op, "%s parameter is required on %s", idName, method)
	}
	if _, ok := vals["since"]; ok && (!list || p.ID != "") {
		return DocumentParams{}, Errorf(Invalid, op, "since: only allowed on a GET without %s", idName)
	}
	return p, nil
}

// IsJSONContentType reports whether a Content-Type header names
// application/json, parameters such as charset allowed.
func IsJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// CheckJSONDocument reports an Invalid error when body, sent as
// application/json, is not one well-formed JSON value (xAPI Communication
// §1.5: the Content-Type must match the content).
func CheckJSONDocument(body []byte) error {
	_, err := decodeJSON(body, "xapi.CheckJSONDocument", "document")
	return err
}

// MergeDocuments applies a POST to a stored document (xAPI Communication
// §2.2, JSON Procedure): when both are application/json and parse to JSON
// objects, the result is the stored object with each top-level key of the
// posted object put in (a shallow merge), encoded with sorted keys and
// numbers as written, and typed application/json. Otherwise it is an
// Invalid error and nothing may change (XAPI-00229, 00232).
func MergeDocuments(stored, posted Document) (Document, error) {
	const op = "xapi.MergeDocuments"
	if !IsJSONContentType(stored.ContentType) || !IsJSONContentType(posted.ContentType) {
		return Document{}, Errorf(Invalid, op, "a POST to an existing document merges JSON: both the stored and the posted document must be application/json")
	}
	s, err := decodeJSON(stored.Body, op, "stored document")
	if err != nil {
		return Document{}, Errorf(Invalid, op, "the stored document is not a JSON object, so a POST cannot merge into it")
	}
	sm, ok := s.(map[string]any)
	if !ok {
		return Document{}, Errorf(Invalid, op, "the stored document is not a JSON object, so a POST cannot merge into it")
	}
	p, err := decodeJSON(posted.Body, op, "document")
	if err != nil {
		return Document{}, err
	}
	pm, ok := p.(map[string]any)
	if !ok {
		return Document{}, Errorf(Invalid, op, "the posted document must be a JSON object to merge into the stored one")
	}
	for k, v := range pm {
		sm[k] = v
	}
	body, err := encodeJSON(sm)
	if err != nil {
		return Document{}, err
	}
	return Document{ID: stored.ID, ContentType: "application/json", Body: body}, nil
}

// Precondition is the optimistic-concurrency check of a document write
// (xAPI Communication §3.1, RFC 7232 §3.1–3.2). A store evaluates it with
// Check against the stored document in the same transaction as the write.
type Precondition struct {
	IfMatch     []string // entity tags of If-Match; "*" matches any stored document
	IfNoneMatch []string // entity tags of If-None-Match; "*" matches any stored document
	// RequireIfExists makes a write that sends neither header to an existing
	// document a Conflict (409): the 1.0.3 rule for the profile resources,
	// and 2.0's for all three (XAPI-00273; 2.0 §4.1.4).
	RequireIfExists bool
	// RequireIfMissing makes a write that sends neither header to a missing
	// document Invalid (400): 1.0.3's rule for PUT to a profile resource.
	RequireIfMissing bool
}

// ParsePrecondition reads the If-Match and If-None-Match header values:
// "*" or a comma-separated list of quoted entity tags (weak ones W/"…"
// allowed). Malformed values are Invalid.
func ParsePrecondition(ifMatch, ifNoneMatch string) (Precondition, error) {
	var c Precondition
	var err error
	if c.IfMatch, err = parseETags("If-Match", ifMatch); err != nil {
		return Precondition{}, err
	}
	if c.IfNoneMatch, err = parseETags("If-None-Match", ifNoneMatch); err != nil {
		return Precondition{}, err
	}
	return c, nil
}

func parseETags(header, v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if v == "*" {
		return []string{"*"}, nil
	}
	var out []string
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		tag := strings.TrimPrefix(t, "W/")
		if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' || strings.Contains(tag[1:len(tag)-1], `"`) {
			return nil, Errorf(Invalid, "xapi.ParsePrecondition", "%s: must be * or a list of quoted entity tags", header)
		}
		out = append(out, t)
	}
	return out, nil
}

// Check reports whether a write may proceed given the stored document's
// ETag (exists tells whether there is one): PreconditionFailed (412) when
// If-Match names no stored tag or If-None-Match matches it, Conflict or
// Invalid when a required header is missing, nil otherwise. If-Match uses
// the strong comparison of RFC 7232 §2.3.2 (weak tags never match).
func (c Precondition) Check(etag string, exists bool) error {
	const op = "xapi.Precondition"
	if len(c.IfMatch) > 0 {
		ok := false
		for _, t := range c.IfMatch {
			if exists && (t == "*" || t == etag) {
				ok = true
			}
		}
		if !ok {
			return Errorf(PreconditionFailed, op, "If-Match does not match the stored document's ETag")
		}
	}
	if len(c.IfNoneMatch) > 0 && exists {
		for _, t := range c.IfNoneMatch {
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return Errorf(PreconditionFailed, op, "If-None-Match: the document already exists")
			}
		}
	}
	if len(c.IfMatch) == 0 && len(c.IfNoneMatch) == 0 {
		switch {
		case exists && c.RequireIfExists:
			return Errorf(Conflict, op, "the document exists: GET it and send its ETag in If-Match (or If-None-Match: * to create only)")
		case !exists && c.RequireIfMissing:
			return Errorf(Invalid, op, "a PUT to this resource must send If-Match or If-None-Match (If-None-Match: * to create)")
		}
	}
	return nil
}
