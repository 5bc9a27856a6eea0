package gateway

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode is the machine-readable part of an API error. The set is fixed by the HTTP
// contract (DESIGN §4): every error hush answers carries one of these.
type ErrorCode string

const (
	CodeInvalid      ErrorCode = "invalid"      // 400
	CodeUnauthorized ErrorCode = "unauthorized" // 401
	CodeForbidden    ErrorCode = "forbidden"    // 403
	CodeNotFound     ErrorCode = "not_found"    // 404
	CodeConflict     ErrorCode = "conflict"     // 409
	CodeTooLarge     ErrorCode = "too_large"    // 413
	CodeUnavailable  ErrorCode = "unavailable"  // 503
	CodeInternal     ErrorCode = "internal"     // 500
)

// HTTPStatus is the status code that goes with the error code.
func (c ErrorCode) HTTPStatus() int {
	switch c {
	case CodeInvalid:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeConflict:
		return http.StatusConflict
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Error is an error meant for the API caller: a code and a human sentence that names the
// field or thing at fault. Internal causes are wrapped in Err and never shown to callers.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error // cause, for logs; never serialized
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCodeOf reports the code of the first *Error in err's chain; CodeInternal otherwise.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, ErrNotFound) {
		return CodeNotFound
	}
	return CodeInternal
}

// ErrorMessageOf reports the human message of the first *Error in err's chain, or a generic
// sentence for internal errors (whose details belong in logs, not in answers).
func ErrorMessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if errors.Is(err, ErrNotFound) {
		return "not found"
	}
	return "internal error"
}

// ErrNotFound is returned by stores when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrStoreClosed is returned by stores after Close.
var ErrStoreClosed = errors.New("store closed")
