package server

import (
	"fmt"
	"net/http"
)

// handleBackup streams a consistent copy of the store (`hush backup FILE` uses it while the
// server holds the database). It has no request timeout: a large store takes a while, and
// the copy runs in a read transaction that does not block writers.
func handleBackup(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := fmt.Sprintf("hush-%s.db", deps.Now().UTC().Format("20060102T150405Z"))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		// The copy holds the decisions of sends made before it was asked for.
		if err := deps.Engine.FlushDecisions(r.Context()); err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		n, err := deps.Store.Backup(r.Context(), w)
		if err != nil {
			// Headers are gone once bytes were written; the client sees a short body and
			// (for HTTP/1.1 chunked) a broken stream, so it never mistakes it for a backup.
			deps.Logger.ErrorContext(r.Context(), "backup failed", "bytes", n, "err", err)
			if n == 0 {
				writeError(w, r, deps.Logger, err)
			} else {
				panic(http.ErrAbortHandler)
			}
			return
		}
		deps.Logger.InfoContext(r.Context(), "backup written", "bytes", n)
	})
}
