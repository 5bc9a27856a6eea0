package server

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hush-gateway/hush/gateway"
)

// handleHealthz answers while the process is up: a liveness probe must not depend on storage,
// or a slow disk gets a healthy process restarted.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz answers 200 only while the store can serve.
func handleReadyz(store gateway.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if store == nil {
			writeErrorCode(w, gateway.CodeUnavailable, "no store configured")
			return
		}
		if err := store.Ping(r.Context()); err != nil {
			logger.WarnContext(r.Context(), "readiness check failed", "err", err)
			writeErrorCode(w, gateway.CodeUnavailable, "storage is not answering")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func handleMetrics(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
