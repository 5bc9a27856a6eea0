package server

import (
	"net/http"

	"github.com/gorilla/mux"
)

// newRouter builds every route of DESIGN §4 and wraps them in the access log.
func newRouter(deps Deps) http.Handler {
	r := mux.NewRouter()
	// The proxy must see the raw path to refuse "..", "//" and encoded tricks itself; and
	// identities in paths may carry escaped characters ("%2B34…").
	r.SkipClean(true)
	r.UseEncodedPath()
	r.Use(recordRoute)
	r.NotFoundHandler = handleNotFound()
	r.MethodNotAllowedHandler = handleMethodNotAllowed()
	addRoutes(r, deps)
	deps.Metrics.registerSnapshotGauge(deps.Engine)
	deps.Metrics.registerDecisionLogGauges(deps.Engine)
	deps.Metrics.registerWriteGauge(deps.writes)
	return accessLog(deps.Logger, deps.Metrics, r)
}

// addRoutes is the whole HTTP surface, in one place.
func addRoutes(r *mux.Router, deps Deps) {
	auth := newAuthenticator(deps.Tokens)
	timeout := withTimeout(deps.Limits.RequestTimeout)
	adminOnly := auth.require(RoleAdmin)
	readers := auth.require(RoleAdmin, RoleViewer)
	deciders := auth.require(RoleAdmin, RoleDecide)
	get := []string{http.MethodGet, http.MethodHead}

	// Process and console.
	r.Handle("/", handleIndex()).Methods(get...)
	r.Handle("/healthz", handleHealthz()).Methods(get...)
	r.Handle("/readyz", timeout(handleReadyz(deps.Store, deps.writes, deps.Logger))).Methods(get...)
	r.Handle("/metrics", handleMetrics(deps.Gatherer)).Methods(get...)

	// Inbound.
	r.Handle("/webhooks/{source}", timeout(handleWebhook(deps))).Methods(http.MethodPost)

	// Decision API.
	r.Handle("/api/v1/decisions", timeout(deciders(handleDecisions(deps)))).Methods(http.MethodPost)

	// Admin API.
	r.Handle("/api/v1/customers/{identity}", timeout(readers(handleCustomerGet(deps)))).Methods(get...)
	r.Handle("/api/v1/customers/{identity}", timeout(adminOnly(handleCustomerErase(deps)))).Methods(http.MethodDelete)
	r.Handle("/api/v1/customers/{identity}/identities", timeout(adminOnly(handleCustomerLink(deps)))).Methods(http.MethodPost)

	r.Handle("/api/v1/silences", timeout(readers(handleSilencesList(deps)))).Methods(get...)
	r.Handle("/api/v1/silences", timeout(adminOnly(handleSilenceCreate(deps)))).Methods(http.MethodPost)
	r.Handle("/api/v1/silences/{id}", timeout(readers(handleSilenceGet(deps)))).Methods(get...)
	r.Handle("/api/v1/silences/{id}", timeout(adminOnly(handleSilenceLift(deps)))).Methods(http.MethodDelete)

	r.Handle("/api/v1/optouts", timeout(readers(handleOptOutsList(deps)))).Methods(get...)
	r.Handle("/api/v1/optouts", timeout(adminOnly(handleOptOutCreate(deps)))).Methods(http.MethodPost)
	r.Handle("/api/v1/optouts/{id}", timeout(adminOnly(handleOptOutLift(deps)))).Methods(http.MethodDelete)

	r.Handle("/api/v1/incidents", timeout(readers(handleIncidentsList(deps)))).Methods(get...)
	r.Handle("/api/v1/incidents", timeout(adminOnly(handleIncidentOpen(deps)))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/resolve", timeout(adminOnly(handleIncidentResolve(deps)))).Methods(http.MethodPost)

	r.Handle("/api/v1/events", timeout(adminOnly(handleEvents(deps)))).Methods(http.MethodPost)

	r.Handle("/api/v1/deadletters", timeout(readers(handleDeadLettersList(deps)))).Methods(get...)
	r.Handle("/api/v1/deadletters/{id}", timeout(readers(handleDeadLetterGet(deps)))).Methods(get...)
	r.Handle("/api/v1/deadletters/{id}/replay", timeout(adminOnly(handleDeadLetterReplay(deps)))).Methods(http.MethodPost)

	r.Handle("/api/v1/outbox", timeout(readers(handleOutboxList(deps)))).Methods(get...)
	r.Handle("/api/v1/outbox/{id}", timeout(readers(handleOutboxGet(deps)))).Methods(get...)
	r.Handle("/api/v1/outbox/{id}/retry", timeout(adminOnly(handleOutboxRetry(deps)))).Methods(http.MethodPost)

	r.Handle("/api/v1/report", timeout(readers(handleReport(deps)))).Methods(get...)
	// No timeout: a consistent copy of a large store takes as long as it takes.
	r.Handle("/api/v1/backup", adminOnly(handleBackup(deps))).Methods(http.MethodGet)

	// Outbound proxy: every method, the upstream's own timeout instead of the API's.
	r.PathPrefix("/proxy/{upstream}").Handler(handleProxy(deps))
}
