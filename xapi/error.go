package xapi

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the client should be told. Kinds only
// grow; the server maps each to one HTTP status (xAPI Communication §3.2).
type Kind int

// The kinds of error. The zero Kind is Internal so that an unclassified error
// never passes for a client mistake.
const (
	Internal             Kind = iota // 500: an unexpected fault
	Invalid                          // 400: bad or missing arguments, malformed JSON, bad structure
	Unauthorized                     // 401: missing or refused credentials
	Forbidden                        // 403: valid credentials lacking permission
	NotFound                         // 404: an unknown single resource
	Conflict                         // 409: conflicts with stored state
	PreconditionFailed               // 412: If-Match / If-None-Match failed
	TooLarge                         // 413: a body, document or attachment over the limit
	RateLimited                      // 429: rate limited
	PreconditionRequired             // 428: a concurrency header was required
	Unavailable                      // 503: the server cannot serve now (e.g. its audit log refuses appends); try later
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case Unauthorized:
		return "unauthorized"
	case Forbidden:
		return "forbidden"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case PreconditionFailed:
		return "precondition failed"
	case TooLarge:
		return "too large"
	case RateLimited:
		return "rate limited"
	case PreconditionRequired:
		return "precondition required"
	case Unavailable:
		return "unavailable"
	}
	return "internal"
}

// Error is the error type of every Custodia package that a client may see.
// Msg is safe to show to the client: it never holds statement content,
// identifiers in plain form or secrets. Err, when set, is the cause and is
// never shown.
type Error struct {
	Kind Kind   // what the client is told
	Op   string // the operation, e.g. "xapi.ParseStatement"
	Msg  string // a client-safe explanation, naming the field at fault
	Err  error  // the underlying cause, for logs; may be nil
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", e.Op, e.Msg, e.Err)
	case e.Msg != "":
		return fmt.Sprintf("%s: %s", e.Op, e.Msg)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Op, e.Kind)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k for operation op with a formatted,
// client-safe message.
func Errorf(k Kind, op, format string, args ...any) *Error {
	return &Error{Kind: k, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// ErrorKind reports the Kind of the first *Error in err's chain, or Internal
// when there is none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ErrorMessage reports the client-safe message of the first *Error in err's
// chain, or "" when there is none.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Msg != "" {
			return e.Msg
		}
		return e.Kind.String()
	}
	return ""
}
