package xapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// Limits on input that a hostile client could otherwise use to exhaust the
// server. Statements in the wild are a few kilobytes and a dozen levels deep.
const (
	// MaxBodyBytes is the largest JSON body ParseStatements, ParseStatement
	// and ParseAgent accept; larger bodies are TooLarge errors.
	MaxBodyBytes = 16 << 20
	// MaxDepth is the deepest nesting of JSON arrays and objects accepted,
	// extensions included.
	MaxDepth = 64
)

// decodeJSON decodes exactly one JSON value from body into a generic tree:
// objects as map[string]any, arrays as []any, numbers as json.Number (their
// original text), strings, booleans and nil. It rejects invalid UTF-8, nesting
// deeper than MaxDepth and anything after the value but white space.
func decodeJSON(body []byte, op, what string) (any, error) {
	if len(body) > MaxBodyBytes {
		return nil, Errorf(TooLarge, op, "%s is larger than %d bytes", what, MaxBodyBytes)
	}
	if !utf8.Valid(body) {
		return nil, Errorf(Invalid, op, "%s is not valid UTF-8", what)
	}
	if err := checkDepth(body); err != nil {
		return nil, &Error{Kind: Invalid, Op: op, Msg: what + " " + err.Error()}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, &Error{Kind: Invalid, Op: op, Msg: what + " is not valid JSON", Err: err}
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, Errorf(Invalid, op, "%s has data after the JSON value", what)
	}
	return v, nil
}

var errTooDeep = errors.New("is nested too deeply")

// checkDepth reports an error when the JSON text nests arrays and objects
// deeper than MaxDepth. It does not validate the syntax.
func checkDepth(b []byte) error {
	depth := 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxDepth {
				return errTooDeep
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// encodeJSON encodes a generic tree deterministically (object keys sorted),
// numbers as their original text and without HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, &Error{Kind: Internal, Op: "xapi.encode", Err: err}
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil // drop Encode's newline
}
