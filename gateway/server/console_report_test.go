package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// The dashboard's ROI sections from real traffic: a low CSAT silences carl, then sends to
// him on two channels are dropped; the tables say where the avoided contacts came from, and
// the CSV link downloads the dashboard's period.
func TestConsoleDashboardROI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if res := h.webhook("d-1", surveyEvent("d-1", "carl@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", res.status, res.body)
	}
	for _, ch := range []string{"email", "sms", "email"} {
		res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{
			"channel": ch, "category": "marketing", "recipients": []map[string]string{{"email": "carl@example.com"}},
		})
		if res.status != http.StatusOK {
			t.Fatalf("decisions: %d %s", res.status, res.body)
		}
	}
	c := h.console(t, viewerToken)
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{
			`<a href="/console/report.csv" download>Download CSV</a>`,
			`<h2 id="h-bychannel">Contacts avoided and cost by channel</h2>`,
			`<td>Email</td><td class="num">2</td><td class="num"><span class="muted">no cost set</span></td>`,
			`<td>SMS</td><td class="num">1</td>`,
			`<h2 id="h-byrule">Contacts avoided by rule</h2>`,
			`<td>low-csat</td><td class="num">3</td>`,
			`No silence ended in these 30 days.`,
			`No alert was sent in these 30 days.`,
			`id="experiments-none">No rule has a control group yet`,
		}},
		{"es", []string{
			`<a href="/console/report.csv" download>Descargar CSV</a>`,
			`<h2 id="h-bychannel">Contactos evitados y coste por canal</h2>`,
			`<td>Correo electrónico</td><td class="num">2</td><td class="num"><span class="muted">sin coste</span></td>`,
			`<h2 id="h-byrule">Contactos evitados por regla</h2>`,
			`<td>low-csat</td><td class="num">3</td>`,
			`Ningún silencio terminó en estos 30 días.`,
			`id="experiments-none">Ninguna regla tiene todavía grupo de control`,
		}},
	} {
		c.setLang(tc.lang)
		res := c.get("/console/")
		if res.status != http.StatusOK {
			t.Fatalf("%s dashboard: %d %s", tc.lang, res.status, res.body)
		}
		checkConsolePage(t, "/console/", res)
		for _, want := range tc.want {
			if !strings.Contains(res.body, want) {
				t.Errorf("%s dashboard lacks %s", tc.lang, want)
			}
		}
	}

	// The link's download: the dashboard's period (30 days in the configured zone, today
	// included), as the API writes it.
	res := c.get("/console/report.csv")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("report.csv: %d %v %s", res.status, res.header, res.body)
	}
	if cd, want := res.header.Get("Content-Disposition"), `attachment; filename="hush-report-2026-10-22-2026-11-20.csv"`; cd != want {
		t.Errorf("Content-Disposition = %q, want %q", cd, want)
	}
	_, rows := csvRows(t, []byte(res.body))
	if rows["contacts_avoided|channel=email"] != "2" || rows["contacts_avoided|rule=low-csat"] != "3" || rows["since|"] != "2026-10-22T00:00:00Z" {
		t.Errorf("report.csv rows: %v", rows)
	}
	// Signed-in users only: a stranger is sent to sign in and gets no figures.
	if res := h.consoleAnon(t).get("/console/report.csv"); res.status != http.StatusSeeOther || strings.Contains(res.body, "contacts_avoided") {
		t.Errorf("anonymous report.csv: %d %s", res.status, res.body)
	}
}

// fixedReport answers every Report with the same figures, so the page's words and locale
// formatting can be checked exactly; everything else is the real engine.
type fixedReport struct {
	gateway.Engine
	rep *gateway.Report
}

func (f fixedReport) Report(_ context.Context, since time.Time) (*gateway.Report, error) {
	rep := *f.rep
	rep.Since = since
	return &rep, nil
}

// Money, lengths, percentages and the control-group verdicts in both languages.
func TestConsoleDashboardROIFigures(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rep := &gateway.Report{
		Until:                    testStart,
		ContactsAvoided:          1500,
		ContactsAvoidedByChannel: map[string]int{"email": 1200, "sms": 300},
		ContactsAvoidedByRule:    map[string]int{"low-csat": 1400, "manual": 100},
		CostAvoided:              1203.5,
		CostAvoidedByChannel:     map[string]float64{"email": 1.2, "sms": 1202.3},
		Currency:                 "EUR",
		SilencesLifted:           4,
		SilencesLiftedBy:         map[string]int{"end": 3, "person": 1},
		MedianSilenceLength:      gateway.Duration(108 * time.Hour), // 4.5 days
		AlertsSent:               1234,
		AlertsSentByName:         map[string]int{"retention": 1230, "vip-desk": 4},
		FollowUpsSent:            17,
		AlertsGivenUp:            2,
		Experiments: []gateway.Experiment{
			{Rule: "low-csat", Holdout: 0.1,
				Treated:   gateway.GroupOutcome{Customers: 2000, ChurnRate: gateway.Interval{Estimate: 0.05, Low: 0.041, High: 0.06}},
				Control:   gateway.GroupOutcome{Customers: 220, ChurnRate: gateway.Interval{Estimate: 0.125, Low: 0.088, High: 0.175}},
				ChurnDiff: gateway.Interval{Estimate: -0.075, Low: -0.12, High: -0.03}},
			{Rule: "long-wait", Holdout: 0.1, TooSmall: true, Note: "too small",
				Treated:   gateway.GroupOutcome{Customers: 9, ChurnRate: gateway.Interval{Estimate: 0.111, Low: 0.02, High: 0.435}},
				Control:   gateway.GroupOutcome{Customers: 1, ChurnRate: gateway.Interval{Estimate: 0, Low: 0, High: 0.793}},
				ChurnDiff: gateway.Interval{Estimate: 0.111, Low: -0.5, High: 0.4}},
		},
	}
	handler := server.NewServer(server.Deps{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:  h.store,
		Engine: fixedReport{Engine: h.engine, rep: rep},
		Tokens: []server.Token{{Name: "lead", Token: viewerToken, Role: server.RoleViewer}},
		Now:    h.clock.Now,
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	c := (&harness{t: t, srv: srv, clock: h.clock}).console(t, viewerToken)
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{
			`<td>Email</td><td class="num">1,200</td><td class="num">1.20 EUR</td>`,
			`<td>SMS</td><td class="num">300</td><td class="num">1,202.30 EUR</td>`,
			`<td>low-csat</td><td class="num">1,400</td>`,
			`<td>Manual</td><td class="num">100</td>`,
			`id="card-lifted"><p class="card-label">Silences ended</p><p class="card-value">4</p><p>3 reached their end, 1 lifted by a person</p><p id="median-length">Median length: 4.5 days</p>`,
			`id="card-alerts"><p class="card-label">Alerts sent to retention</p><p class="card-value">1,234</p><p>17 follow-ups sent</p><p class="bad">2 could not be delivered</p>`,
			`<td>retention</td><td class="num">1,230</td>`,
			`<td data-label="Rule">low-csat</td><td data-label="Silenced: churn">5% (4.1%–6%) of 2,000 customers</td>`,
			`<td data-label="Control: churn">12.5% (8.8%–17.5%) of 220 customers</td><td data-label="Difference">−7.5 points (−12 to −3)</td><td data-label="What it shows">Fewer silenced customers churned.</td>`,
			`<td data-label="What it shows" class="muted">Too small to conclude: wait until both groups have more customers.</td>`,
		}},
		{"es", []string{
			`<td>Correo electrónico</td><td class="num">1.200</td><td class="num">1,20 EUR</td>`,
			`<td>SMS</td><td class="num">300</td><td class="num">1.202,30 EUR</td>`,
			`<td>Manual</td><td class="num">100</td>`,
			`<p>3 llegaron a su fin, 1 los levantó una persona</p><p id="median-length">Duración mediana: 4,5 días</p>`,
			`<p class="card-value">1.234</p><p>17 seguimientos enviados</p><p class="bad">2 no se pudieron entregar</p>`,
			`<td data-label="Control: bajas">12,5 % (8,8 %–17,5 %) de 220 clientes</td><td data-label="Diferencia">−7,5 puntos (de −12 a −3)</td><td data-label="Qué indica">Se dieron de baja menos clientes silenciados.</td>`,
			`Muestra demasiado pequeña para sacar conclusiones`,
		}},
	} {
		c.setLang(tc.lang)
		res := c.get("/console/")
		if res.status != http.StatusOK {
			t.Fatalf("%s dashboard: %d %s", tc.lang, res.status, res.body)
		}
		checkConsolePage(t, "/console/", res)
		for _, want := range tc.want {
			if !strings.Contains(res.body, want) {
				t.Errorf("%s dashboard lacks %s", tc.lang, want)
			}
		}
	}
}
