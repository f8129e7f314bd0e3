package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"custodia/xapi"
)

// statusOf is the one table from error kinds to HTTP statuses
// (xAPI Communication §3.2).
var statusOf = map[xapi.Kind]int{
	xapi.Internal:             http.StatusInternalServerError,
	xapi.Invalid:              http.StatusBadRequest,
	xapi.Unauthorized:         http.StatusUnauthorized,
	xapi.Forbidden:            http.StatusForbidden,
	xapi.NotFound:             http.StatusNotFound,
	xapi.Conflict:             http.StatusConflict,
	xapi.PreconditionFailed:   http.StatusPreconditionFailed,
	xapi.TooLarge:             http.StatusRequestEntityTooLarge,
	xapi.RateLimited:          http.StatusTooManyRequests,
	xapi.PreconditionRequired: http.StatusPreconditionRequired,
	xapi.Unavailable:          http.StatusServiceUnavailable,
}

var (
	errNotFoundRoute    = xapi.Errorf(xapi.NotFound, "server", "no such resource")
	errMethodNotAllowed = &xapi.Error{Kind: xapi.Invalid, Op: "server", Msg: "method not allowed on this resource"}
	errTooLarge         = xapi.Errorf(xapi.TooLarge, "server", "request body is over the size limit")
)

type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// bodyError is the error for a request body that could not be read: 413
// when it went over the size limit, else 400 with msg.
func bodyError(err error, op, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return xapi.Errorf(xapi.Invalid, op, "%s", msg)
}

// readBodyError is bodyError for a body that could not be read at all.
func readBodyError(err error, op string) error {
	return bodyError(err, op, "reading the request body failed")
}

// writeError answers with err as a JSON error. Internal errors get a generic
// message; their cause is logged by the caller, never sent.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = errTooLarge
	}
	status := statusOf[xapi.ErrorKind(err)]
	msg := xapi.ErrorMessage(err)
	if err == errMethodNotAllowed {
		status = http.StatusMethodNotAllowed
	}
	if status == http.StatusInternalServerError || msg == "" {
		msg = http.StatusText(status)
		if e := new(xapi.Error); errors.As(err, &e) && e.Kind == xapi.Internal && e.Msg != "" {
			msg = e.Msg // client-safe by the contract of xapi.Error
		}
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="custodia", charset="UTF-8"`)
	}
	var b errorBody
	b.Error.Code, b.Error.Message = status, msg
	writeJSON(w, status, b)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":500,"message":"Internal Server Error"}}`)
	}
	writeBody(w, status, "application/json", b)
}

func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
