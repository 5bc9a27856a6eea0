package server

import (
	"net/http"
	"time"
)

const defaultReportPeriod = 30 * 24 * time.Hour

// handleReport answers GET /api/v1/report?since=30d.
func handleReport(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since, err := sinceParam(r, deps.Now(), defaultReportPeriod)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		rep, err := deps.Engine.Report(r.Context(), since)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}
