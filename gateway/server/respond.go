package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hush-gateway/hush/gateway"
)

// errorBody is the one error shape of DESIGN §4.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    gateway.ErrorCode `json:"code"`
	Message string            `json:"message"`
}

// listBody is the shape of every listing.
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func newList[T any](items []T, next string) listBody[T] {
	if items == nil {
		items = []T{}
	}
	return listBody[T]{Items: items, NextCursor: next}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent: an encoding error here can only be a broken connection.
	_ = json.NewEncoder(w).Encode(v)
}

func writeErrorCode(w http.ResponseWriter, code gateway.ErrorCode, message string) {
	writeErrorStatus(w, code.HTTPStatus(), code, message)
}

func writeErrorStatus(w http.ResponseWriter, status int, code gateway.ErrorCode, message string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// writeError answers err in the API shape. Errors meant for callers (*gateway.Error,
// ErrNotFound) are shown; anything else is logged and answered as internal without details.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := gateway.ErrorCodeOf(err)
	if code == gateway.CodeInternal {
		logger.ErrorContext(r.Context(), "internal error", "route", routeTemplate(r), "err", err)
		writeErrorCode(w, code, "internal error")
		return
	}
	var ge *gateway.Error
	if errors.As(err, &ge) && ge.Err != nil {
		logger.InfoContext(r.Context(), "request refused", "route", routeTemplate(r), "code", code, "err", ge.Err)
	}
	writeErrorCode(w, code, gateway.ErrorMessageOf(err))
}

func invalidf(format string, args ...any) *gateway.Error {
	return gateway.Errorf(gateway.CodeInvalid, format, args...)
}

// messageOf is the sentence for a caller: the Message of a *gateway.Error (without its code
// prefix), else the error's text. Only for errors whose text is meant for the caller
// (connector parse errors), never for internal ones.
func messageOf(err error) string {
	var ge *gateway.Error
	if errors.As(err, &ge) {
		return ge.Message
	}
	return err.Error()
}
