package server

import (
	"net/http"

	"github.com/hush-gateway/hush/gateway"
)

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErrorCode(w, gateway.CodeNotFound, "no such route")
	})
}

func handleMethodNotAllowed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErrorStatus(w, http.StatusMethodNotAllowed, gateway.CodeInvalid, "method "+r.Method+" is not allowed on this route")
	})
}
