package server

import (
	_ "embed"
	"net/http"
)

// indexHTML is a placeholder until the admin console (DESIGN §8) lands.
//
//go:embed static/index.html
var indexHTML []byte

func handleIndex() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'")
		_, _ = w.Write(indexHTML)
	})
}
