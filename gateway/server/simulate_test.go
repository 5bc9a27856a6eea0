package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// simulationHistory gives the harness a week of surveys (csat 2 from ana, 3 from bea, 5 from
// cai) and, after them, a recorded marketing email to each of the three.
func simulationHistory(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	for i, p := range []struct {
		email string
		csat  float64
	}{{"ana@example.com", 2}, {"bea@example.com", 3}, {"cai@example.com", 5}} {
		at := testStart.Add(-7*24*time.Hour + time.Duration(i)*time.Hour)
		h.clock.Set(at)
		csat := p.csat
		ev := gateway.Event{ID: fmt.Sprint("s", i), Source: "tool", Type: gateway.EventSurveyResponse, At: at, CSAT: &csat,
			Customer: gateway.EventCustomer{Email: p.email}}
		if _, err := h.engine.Ingest(ctx, []gateway.Event{ev}, 0); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Set(testStart.Add(-24 * time.Hour))
	_, err := h.engine.Decide(ctx, gateway.DecisionRequest{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Record: true,
		Recipients: []gateway.Identity{"email:ana@example.com", "email:bea@example.com", "email:cai@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Set(testStart)
}

func TestSimulateAPI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	simulationHistory(t, h)
	candidate := map[string]any{
		"rules": []map[string]any{{
			"name": "low-csat", "when": `event.type == "survey.response" && has(event.csat) && event.csat <= 3`,
			"silence": map[string]any{"for": "15d"},
		}},
		"since": "30d",
	}

	resp := h.do(http.MethodPost, "/api/v1/simulate", adminToken, candidate)
	if resp.status != http.StatusOK {
		t.Fatalf("simulate: %d %s", resp.status, resp.body)
	}
	var rep gateway.SimulationReport
	resp.json(t, &rep)
	if rep.Silences != 2 || rep.SilencesByRule["low-csat"] != 2 || len(rep.Sample) != 2 {
		t.Errorf("silences: %d by rule %v, sample %d; want ana's and bea's", rep.Silences, rep.SilencesByRule, len(rep.Sample))
	}
	if len(rep.Sample) > 1 && (rep.Sample[1].Identity != "email:bea@example.com" || rep.Sample[1].Event.ID != "tool:s1" ||
		rep.Sample[1].Event.Type != gateway.EventSurveyResponse || rep.Sample[1].CustomerID == "") {
		t.Errorf("sample: %+v", rep.Sample[1])
	}
	s := rep.Sends
	if s.Total != 3 || s.LiveDropped != 1 || s.CandidateDropped != 2 || s.NewlyDropped != 1 ||
		s.NewlyDroppedByRule["low-csat"] != 1 || s.NewlyDroppedByChannel["email"] != 1 || s.NewlyAllowed != 0 {
		t.Errorf("sends: %+v", s)
	}
	if !rep.Since.Equal(testStart.Add(-30*24*time.Hour)) || !rep.Until.Equal(testStart) {
		t.Errorf("period: %s to %s", rep.Since, rep.Until)
	}

	// No rules at all: ana's live silence is gone, her send newly allowed.
	resp = h.do(http.MethodPost, "/api/v1/simulate", adminToken, map[string]any{"rules": []any{}, "since": "30d"})
	resp.json(t, &rep)
	if resp.status != http.StatusOK || rep.Silences != 0 || rep.Sends.NewlyAllowed != 1 || rep.Sends.NewlyAllowedByRule["low-csat"] != 1 {
		t.Errorf("no rules: %d %+v", resp.status, rep.Sends)
	}

	for _, tc := range []struct {
		name, token string
		body        any
		status      int
		message     string // part of the error message
	}{
		{"viewer", viewerToken, candidate, http.StatusForbidden, ""},
		{"decide token", decideToken, candidate, http.StatusForbidden, ""},
		{"no token", "", candidate, http.StatusUnauthorized, ""},
		{"rule that does not compile", adminToken, map[string]any{"rules": []map[string]any{{"name": "broken", "when": "event.csat <="}}},
			http.StatusBadRequest, `rule "broken": when`},
		{"rule without a name", adminToken, map[string]any{"rules": []map[string]any{{"when": "true"}}}, http.StatusBadRequest, "name"},
		{"unknown rule key", adminToken, `{"rules": [{"name": "r", "when": "true", "silense": {}}]}`, http.StatusBadRequest, "silense"},
		{"bad since", adminToken, map[string]any{"rules": []any{}, "since": "last week"}, http.StatusBadRequest, "since"},
		{"until before since", adminToken, map[string]any{"rules": []any{}, "since": "30d", "until": "2020-01-01T00:00:00Z"}, http.StatusBadRequest, "until"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.do(http.MethodPost, "/api/v1/simulate", tc.token, tc.body)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			if tc.message != "" && !strings.Contains(resp.errorMessage(t), tc.message) {
				t.Errorf("message %q lacks %q", resp.errorMessage(t), tc.message)
			}
		})
	}
}
