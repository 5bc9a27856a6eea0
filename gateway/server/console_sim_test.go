package server_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// withRulesConsole serves the harness's engine with the loaded rules and configs.ParseRules
// wired in, as cmd/hush does.
func withRulesConsole(t *testing.T, h *harness) {
	t.Helper()
	h.handler = server.NewServer(server.Deps{
		Logger: slog.New(slog.NewJSONHandler(h.logs, nil)), Store: h.store, Engine: h.engine,
		Tokens: []server.Token{
			{Name: "ops", Token: adminToken, Role: server.RoleAdmin},
			{Name: "lead", Token: viewerToken, Role: server.RoleViewer},
		},
		Rules:      []gateway.RuleSpec{lowCSAT},
		ParseRules: func(b []byte) ([]gateway.RuleSpec, error) { return configs.ParseRules(b, "rules") },
		Now:        h.clock.Now,
	})
	h.srv.Close()
	h.srv = httptest.NewServer(h.handler)
	t.Cleanup(h.srv.Close)
}

func TestConsoleRulesSimulation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	simulationHistory(t, h)
	withRulesConsole(t, h)
	candidate := "rules:\n  - name: low-csat\n    when: 'event.type == \"survey.response\" && has(event.csat) && event.csat <= 3'\n    silence: {for: 15d}\n"

	admin := h.console(t, adminToken)
	page := admin.get("/console/rules")
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="simulate-form"`) || !strings.Contains(page.body, `event.csat &lt;= 2`) {
		t.Fatalf("admin's rules page: %d, form or prefilled rules missing", page.status)
	}

	res := admin.post("/console/rules/simulate", url.Values{"rules": {candidate}, "days": {"30"}})
	if res.status != http.StatusOK {
		t.Fatalf("simulate: %d %s", res.status, res.body)
	}
	for _, want := range []string{
		`id="simulate-silences">2<`, `id="simulate-newly-dropped">1<`, `id="simulate-newly-allowed">0<`,
		"bea@example.com", "tool:s1", `<option value="30" selected>`, "Simular un cambio", "Nuevos bloqueos",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("report page lacks %q", want)
		}
	}

	// A rule that does not compile: 400, the problem at its line, the text kept.
	bad := "rules:\n  - name: broken\n    when: 'event.csat <= '\n"
	res = admin.post("/console/rules/simulate", url.Values{"rules": {bad}, "days": {"7"}})
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, `id="simulate-error"`) ||
		!strings.Contains(res.body, "rules:3:") || !strings.Contains(res.body, "name: broken") || strings.Contains(res.body, `id="simulate-report"`) {
		t.Errorf("broken rules: %d\n%s", res.status, res.body)
	}

	// Without the session's CSRF token nothing runs.
	res = admin.post("/console/rules/simulate", url.Values{"rules": {candidate}, "csrf": {"forged"}})
	if res.status != http.StatusForbidden || strings.Contains(res.body, `id="simulate-report"`) {
		t.Errorf("forged CSRF: %d", res.status)
	}

	// A viewer sees the rules but no form, and cannot post one.
	viewer := h.console(t, viewerToken)
	page = viewer.get("/console/rules")
	if page.status != http.StatusOK || strings.Contains(page.body, `id="simulate-form"`) || !strings.Contains(page.body, "low-csat") {
		t.Errorf("viewer's rules page: %d, form shown: %v", page.status, strings.Contains(page.body, `id="simulate-form"`))
	}
	res = viewer.post("/console/rules/simulate", url.Values{"rules": {candidate}})
	if res.status != http.StatusForbidden {
		t.Errorf("viewer's simulation: %d", res.status)
	}

	// In English (the console's default language is Spanish).
	admin.setLang("en")
	res = admin.post("/console/rules/simulate", url.Values{"rules": {candidate}, "days": {"90"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "Simulate a change") || !strings.Contains(res.body, "Newly dropped") ||
		!strings.Contains(res.body, `<option value="90" selected>`) {
		t.Errorf("English report: %d", res.status)
	}
}
