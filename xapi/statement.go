package xapi

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// validStatement validates tree as a Statement under v; path prefixes error
// messages ("" for a lone statement, "statements[i]" in a batch).
func validStatement(tree any, path string, v Version, op string) (*Statement, error) {
	c := checker{v: v, op: op}
	m, ok := tree.(map[string]any)
	if !ok {
		if path == "" {
			return nil, c.fail("", "statement must be a JSON object")
		}
		return nil, c.fail(path, "must be a JSON object")
	}
	if err := c.statement(m, path, false); err != nil {
		return nil, err
	}
	return &Statement{m: m}, nil
}

func parseStatements(body []byte, v Version) ([]*Statement, error) {
	const op = "xapi.ParseStatements"
	tree, err := decodeJSON(body, op, "body")
	if err != nil {
		return nil, err
	}
	list, isList := tree.([]any)
	if !isList {
		if _, ok := tree.(map[string]any); !ok {
			return nil, Errorf(Invalid, op, "body must be a statement object or an array of statements")
		}
		s, err := validStatement(tree, "", v, op)
		if err != nil {
			return nil, err
		}
		return []*Statement{s}, nil
	}
	out := make([]*Statement, 0, len(list))
	ids := make(map[string]int, len(list))
	for i, x := range list {
		path := "statements[" + strconv.Itoa(i) + "]"
		s, err := validStatement(x, path, v, op)
		if err != nil {
			return nil, err
		}
		if id := s.ID(); id != "" {
			if j, dup := ids[id]; dup {
				return nil, Errorf(Invalid, op, "%s.id: the same id as statements[%d] (ids must be unique within a batch)", path, j)
			}
			ids[id] = i
		}
		out = append(out, s)
	}
	return out, nil
}

// instant parses a stored timestamp value; zero when absent or malformed.
func instant(v any) time.Time {
	s, ok := v.(string)
	if !ok {
		return time.Time{}
	}
	ts, why := parseTimestamp(s, V103)
	if why != "" {
		return time.Time{}
	}
	return ts.t
}

// Attachment is the metadata of one attachment (xAPI Data §2.4.11).
type Attachment struct {
	UsageType   string
	ContentType string
	Length      int64
	SHA2        string
	FileURL     string
}

// Attachments reports the metadata of s's attachments, in order. The server
// matches multipart parts to them by SHA2.
func (s *Statement) Attachments() []Attachment {
	var out []Attachment
	for _, x := range list(s.m["attachments"]) {
		m := obj(x)
		n, _ := strconv.ParseInt(string(num(m["length"])), 10, 64)
		out = append(out, Attachment{
			UsageType:   str(m["usageType"]),
			ContentType: str(m["contentType"]),
			Length:      n,
			SHA2:        str(m["sha2"]),
			FileURL:     str(m["fileUrl"]),
		})
	}
	return out
}

// Verb reports the statement's verb id.
func (s *Statement) Verb() string { return str(obj(s.m["verb"])["id"]) }

func str(v any) string { s, _ := v.(string); return s }

func num(v any) json.Number { n, _ := v.(json.Number); return n }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// list reads an array; a single value is a list of one (a contextActivities
// value in a tree that was not normalised).
func list(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if v == "" || (i > 0 && v == s[i-1]) {
			continue
		}
		out = append(out, v)
	}
	return out
}
