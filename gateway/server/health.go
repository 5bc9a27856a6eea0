package server

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

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

// writeHealth remembers that storage failed a write. A full or read-only disk still answers
// reads (Ping), so without it /readyz would report ready while every webhook is refused.
type writeHealth struct {
	now      func() time.Time
	mu       sync.Mutex
	failedAt time.Time // zero: the last write succeeded
}

// writeHoldDown is how long after a failed write /readyz reports not ready without trying a
// write itself. On a nearly full disk a small commit can succeed where a delivery's cannot,
// so a probe alone would flap; vendors' retries keep the failure fresh while the disk is full.
const writeHoldDown = 30 * time.Second

func (h *writeHealth) failed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failedAt = h.now()
}

func (h *writeHealth) succeeded() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failedAt = time.Time{}
}

func (h *writeHealth) lastFailure() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failedAt
}

// handleReadyz answers 200 only while the store can serve: it answers reads and, when a
// write has failed, can commit again.
func handleReadyz(store gateway.Store, writes *writeHealth, logger *slog.Logger) http.Handler {
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
		if failedAt := writes.lastFailure(); !failedAt.IsZero() {
			if writes.now().Sub(failedAt) < writeHoldDown {
				writeErrorCode(w, gateway.CodeUnavailable, "storage failed to write; webhooks are refused until it can")
				return
			}
			// Nothing has written since: an empty commit, which still writes the file's meta
			// page, tells whether the disk takes writes again (and brings traffic back if so).
			if err := store.Update(r.Context(), func(gateway.Tx) error { return nil }); err != nil {
				writes.failed()
				logger.WarnContext(r.Context(), "readiness check failed: storage cannot write", "err", err)
				writeErrorCode(w, gateway.CodeUnavailable, "storage failed to write; webhooks are refused until it can")
				return
			}
			writes.succeeded()
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func handleMetrics(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
