package server_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestOversizedBodiesRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{bodyLimit: 1024, upstreams: mailUpstreams(t)})
	long := strings.Repeat("x", 2048)
	tests := []struct {
		name, method, path, token string
		body                      any
	}{
		{"admin JSON", http.MethodPost, "/api/v1/silences", adminToken, map[string]any{"identity": "a@example.com", "for": "1d", "reason": long}},
		{"events", http.MethodPost, "/api/v1/events", adminToken, `[` + strings.Repeat(`{"id":"e","type":"ticket.opened"},`, 60) + `{}]`},
		{"decisions", http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": long + "@example.com"}}}},
		{"proxied send", http.MethodPost, "/proxy/mail/v1/send", "", `{"to":["bea@example.com"],"html":"` + long + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(tt.method, tt.path, tt.token, tt.body)
			if res.status != http.StatusRequestEntityTooLarge || res.errorCode(t) != "too_large" {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
		})
	}
	if c := h.counts(); c != (counts{}) {
		t.Errorf("oversized requests stored %+v", c)
	}
	if n := len(h.upstream.requests()); n != 0 {
		t.Errorf("an oversized send reached the upstream")
	}
}
