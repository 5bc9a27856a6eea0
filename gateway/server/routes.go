package server

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/hush-gateway/hush/gateway/server/console"
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
	deps.Metrics.registerFeedGauges(deps.Engine)
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

	// Process.
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
	r.Handle("/api/v1/customers/{identity}/pause-link", timeout(adminOnly(handlePauseLink(deps)))).Methods(http.MethodPost)

	r.Handle("/api/v1/silences", timeout(readers(handleSilencesList(deps)))).Methods(get...)
	r.Handle("/api/v1/silences", timeout(adminOnly(handleSilenceCreate(deps)))).Methods(http.MethodPost)
	r.Handle("/api/v1/silences/{id}", timeout(readers(handleSilenceGet(deps)))).Methods(get...)
	r.Handle("/api/v1/silences/{id}", timeout(adminOnly(handleSilenceLift(deps)))).Methods(http.MethodDelete)
	r.Handle("/api/v1/silences/{id}/extend", timeout(adminOnly(handleSilenceExtend(deps)))).Methods(http.MethodPost)

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
	// No timeout either: a replay takes as long as the period's events; a caller who goes away cancels it.
	r.Handle("/api/v1/simulate", adminOnly(handleSimulate(deps))).Methods(http.MethodPost)

	// Admin console (DESIGN §8). Pages for admin and viewer sessions; every POST is an admin
	// action with the session's CSRF token.
	u, err := newUI(deps, auth)
	if err != nil {
		// The catalog and templates are embedded: only a broken build gets here, and a test
		// builds them.
		panic(fmt.Sprintf("console: %v", err))
	}
	page, act, c := u.page, u.action, consolePrefix
	post := http.MethodPost
	r.Handle("/", page("dashboard", u.dashboardPage)).Methods(get...)
	r.PathPrefix(c + "/assets/").Handler(http.StripPrefix(c+"/assets/", console.Static())).Methods(get...)
	r.Handle(c+"/signin", u.public(u.signinPage)).Methods(get...)
	r.Handle(c+"/signin", u.public(u.signin)).Methods(post)
	r.Handle(c+"/signout", u.public(u.signout)).Methods(post)
	r.Handle(c+"/lang", u.public(u.setLang)).Methods(get...)
	r.Handle(c+"/", page("dashboard", u.dashboardPage)).Methods(get...)
	r.Handle(c+"/customers", page("customers", u.customersPage)).Methods(get...)
	r.Handle(c+"/customers/{identity}", page("customers", u.customerPage)).Methods(get...)
	r.Handle(c+"/silences", page("silences", u.silencesPage)).Methods(get...)
	r.Handle(c+"/silences", act(u.silenceCreate)).Methods(post)
	r.Handle(c+"/silences/new", page("silences", u.silenceNewPage)).Methods(get...)
	r.Handle(c+"/silences/{id}", page("silences", u.silencePage)).Methods(get...)
	r.Handle(c+"/silences/{id}/lift", act(u.silenceLift)).Methods(post)
	r.Handle(c+"/silences/{id}/extend", act(u.silenceExtend)).Methods(post)
	r.Handle(c+"/incidents", page("incidents", u.incidentsPage)).Methods(get...)
	r.Handle(c+"/incidents", act(u.incidentOpen)).Methods(post)
	r.Handle(c+"/incidents/{id}/resolve", act(u.incidentResolve)).Methods(post)
	r.Handle(c+"/deadletters", page("deadletters", u.deadLettersPage)).Methods(get...)
	r.Handle(c+"/deadletters/{id}", page("deadletters", u.deadLetterPage)).Methods(get...)
	r.Handle(c+"/deadletters/{id}/replay", act(u.deadLetterReplay)).Methods(post)
	r.Handle(c+"/rules", page("rules", u.rulesPage)).Methods(get...)
	r.Handle(c+"/rules/simulate", act(u.rulesSimulate)).Methods(post)
	r.Handle(c+"/report.csv", page("dashboard", u.reportCSV)).Methods(get...)

	// Customer self-service pause: public, the signed token in the path is the credential.
	pp := newPausePages(deps, u)
	r.Handle("/pause/{token}", timeout(pp.page())).Methods(get...)
	r.Handle("/pause/{token}", timeout(pp.choose())).Methods(post)

	// Outbound proxy: every method, the upstream's own timeout instead of the API's.
	r.PathPrefix("/proxy/{upstream}").Handler(handleProxy(deps))
}
