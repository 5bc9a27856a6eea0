package server_test

import (
	"net/http"
	"testing"
)

func TestAdminAuthRefusals(t *testing.T) {
	silenceBody := map[string]any{"identity": "ana@example.com", "for": "1d"}
	decisionBody := map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": "ana@example.com"}}}
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any
		header       []string
		status       int
		code         string
	}{
		{"no token", http.MethodGet, "/api/v1/silences", "", nil, nil, 401, "unauthorized"},
		{"wrong token", http.MethodGet, "/api/v1/silences", "not-a-token", nil, nil, 401, "unauthorized"},
		{"token prefix", http.MethodGet, "/api/v1/silences", adminToken[:10], nil, nil, 401, "unauthorized"},
		{"basic scheme", http.MethodGet, "/api/v1/silences", "", nil, []string{"Authorization", "Basic " + adminToken}, 401, "unauthorized"},
		{"no token on decisions", http.MethodPost, "/api/v1/decisions", "", decisionBody, nil, 401, "unauthorized"},
		{"viewer creates a silence", http.MethodPost, "/api/v1/silences", viewerToken, silenceBody, nil, 403, "forbidden"},
		{"viewer lifts a silence", http.MethodDelete, "/api/v1/silences/sil_x", viewerToken, nil, nil, 403, "forbidden"},
		{"viewer opens an incident", http.MethodPost, "/api/v1/incidents", viewerToken, map[string]any{"title": "x"}, nil, 403, "forbidden"},
		{"viewer posts events", http.MethodPost, "/api/v1/events", viewerToken, map[string]any{}, nil, 403, "forbidden"},
		{"viewer erases a customer", http.MethodDelete, "/api/v1/customers/ana@example.com", viewerToken, nil, nil, 403, "forbidden"},
		{"viewer replays a dead letter", http.MethodPost, "/api/v1/deadletters/dlq_x/replay", viewerToken, nil, nil, 403, "forbidden"},
		{"viewer asks for decisions", http.MethodPost, "/api/v1/decisions", viewerToken, decisionBody, nil, 403, "forbidden"},
		{"decide lists silences", http.MethodGet, "/api/v1/silences", decideToken, nil, nil, 403, "forbidden"},
		{"decide reads a customer", http.MethodGet, "/api/v1/customers/ana@example.com", decideToken, nil, nil, 403, "forbidden"},
		{"decide creates an opt-out", http.MethodPost, "/api/v1/optouts", decideToken, map[string]any{"identity": "ana@example.com", "channel": "sms"}, nil, 403, "forbidden"},
		{"decide reads the report", http.MethodGet, "/api/v1/report", decideToken, nil, nil, 403, "forbidden"},
	}
	h := newHarness(t, harnessOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(tt.method, tt.path, tt.token, tt.body, tt.header...)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if code := res.errorCode(t); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if c := h.counts(); c != (counts{}) {
				t.Errorf("refused request stored %+v", c)
			}
		})
	}
}

func TestRolesAllowedRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any
		status       int
	}{
		{"viewer lists silences", http.MethodGet, "/api/v1/silences", viewerToken, nil, 200},
		{"viewer reads the report", http.MethodGet, "/api/v1/report?since=7d", viewerToken, nil, 200},
		{"decide asks for decisions", http.MethodPost, "/api/v1/decisions", decideToken,
			map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": "ana@example.com"}}, "record": false}, 200},
		{"admin lists incidents", http.MethodGet, "/api/v1/incidents", adminToken, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := h.do(tt.method, tt.path, tt.token, tt.body); res.status != tt.status {
				t.Errorf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
		})
	}
}
