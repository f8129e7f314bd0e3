package xapi

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// queryParams are the parameters of GET /statements (xAPI Communication
// §2.1.3), matched case-sensitively.
var queryParams = []string{
	"statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
	"related_activities", "related_agents", "since", "until", "limit", "format",
	"attachments", "ascending",
}

// ParseQuery parses and validates the query parameters of GET /statements.
// Unknown parameters, mis-cased names, malformed values and forbidden
// combinations (statementId with a filter) are Invalid errors naming the parameter.
//
// Values follow the rules of the same types inside Statements (XAPI-00012):
// statementId, voidedStatementId and registration are UUIDs (reported in lower
// case), agent is a JSON Agent or Identified Group, verb and activity are
// IRIs, since and until are timestamps, limit is a non-negative integer,
// format is exact, ids or canonical, and the booleans are exactly "true" or
// "false". A repeated parameter is Invalid. statementId and voidedStatementId
// exclude each other and every parameter but format and attachments.
func ParseQuery(vals url.Values, v Version) (Query, error) {
	const op = "xapi.ParseQuery"
	q := Query{Format: FormatExact}
	for k, vs := range vals {
		known := false
		for _, p := range queryParams {
			if k == p {
				known = true
				break
			}
			if strings.EqualFold(k, p) {
				return Query{}, Errorf(Invalid, op, "unknown parameter %s (parameter names are case-sensitive: %q)", quoteKey(k), p)
			}
		}
		if !known {
			return Query{}, Errorf(Invalid, op, "unknown parameter %s", quoteKey(k))
		}
		if len(vs) != 1 {
			return Query{}, Errorf(Invalid, op, "%s: must be given once", k)
		}
		val := vs[0]
		if !utf8.ValidString(val) {
			return Query{}, Errorf(Invalid, op, "%s: must be valid UTF-8", k)
		}
		bad := func(what string) error { return Errorf(Invalid, op, "%s: must be %s", k, what) }
		switch k {
		case "statementId", "voidedStatementId", "registration":
			if !isUUID(val) {
				return Query{}, bad("a UUID")
			}
			val = strings.ToLower(val)
			switch k {
			case "statementId":
				q.StatementID = val
			case "voidedStatementId":
				q.VoidedStatementID = val
			default:
				q.Registration = val
			}
		case "agent":
			tree, err := decodeJSON([]byte(val), op, "agent")
			if err != nil {
				return Query{}, err
			}
			c := checker{v: v, op: op}
			if err := c.agent(tree, "agent", identifiedAny); err != nil {
				return Query{}, err
			}
			a := agentFrom(tree.(map[string]any))
			q.Agent = &a
		case "verb", "activity":
			if !isIRI(val) {
				return Query{}, bad("an IRI")
			}
			if k == "verb" {
				q.Verb = val
			} else {
				q.Activity = val
			}
		case "since", "until":
			ts, why := parseTimestamp(val, v)
			if why != "" {
				return Query{}, Errorf(Invalid, op, "%s: %s", k, why)
			}
			if k == "since" {
				q.Since = ts.t
			} else {
				q.Until = ts.t
			}
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || !isDigit(val) {
				return Query{}, bad("a non-negative integer")
			}
			q.Limit = n
		case "format":
			switch Format(val) {
			case FormatExact, FormatIDs, FormatCanonical:
				q.Format = Format(val)
			default:
				return Query{}, bad(`"exact", "ids" or "canonical"`)
			}
		default: // the booleans
			var b bool
			switch val {
			case "true":
				b = true
			case "false":
			default:
				return Query{}, bad(`"true" or "false"`)
			}
			switch k {
			case "related_activities":
				q.RelatedActivities = b
			case "related_agents":
				q.RelatedAgents = b
			case "attachments":
				q.Attachments = b
			case "ascending":
				q.Ascending = b
			}
		}
	}
	if q.StatementID != "" && q.VoidedStatementID != "" {
		return Query{}, Errorf(Invalid, op, "statementId and voidedStatementId cannot be used together")
	}
	if q.StatementID != "" || q.VoidedStatementID != "" {
		name := "statementId"
		if q.VoidedStatementID != "" {
			name = "voidedStatementId"
		}
		for k := range vals {
			switch k {
			case "statementId", "voidedStatementId", "format", "attachments":
			default:
				return Query{}, Errorf(Invalid, op, "%s: cannot be combined with %s (only format and attachments can)", k, name)
			}
		}
	}
	return q, nil
}

// Values re-encodes q as query parameters that ParseQuery reads back to q,
// leaving out those at their defaults; the server builds "more" links with it.
// Times are written in UTC with nanosecond precision.
func (q Query) Values() url.Values {
	vals := url.Values{}
	set := func(k, v string) {
		if v != "" {
			vals.Set(k, v)
		}
	}
	set("statementId", q.StatementID)
	set("voidedStatementId", q.VoidedStatementID)
	if q.Agent != nil {
		if b, err := q.Agent.MarshalJSON(); err == nil {
			vals.Set("agent", string(b))
		}
	}
	set("verb", q.Verb)
	set("activity", q.Activity)
	set("registration", q.Registration)
	flag := func(k string, b bool) {
		if b {
			vals.Set(k, "true")
		}
	}
	flag("related_activities", q.RelatedActivities)
	flag("related_agents", q.RelatedAgents)
	if !q.Since.IsZero() {
		vals.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		vals.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		vals.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Format != "" && q.Format != FormatExact {
		vals.Set("format", string(q.Format))
	}
	flag("attachments", q.Attachments)
	flag("ascending", q.Ascending)
	return vals
}
