package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthAndConsole(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	if res := h.do(http.MethodGet, "/healthz", "", nil); res.status != 200 || strings.TrimSpace(string(res.body)) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != 200 {
		t.Errorf("readyz: %d %s", res.status, res.body)
	}
	// The console lives at /: without a session it sends the browser to sign in.
	h.srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res := h.do(http.MethodGet, "/", "", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/console/signin?next=%2F" {
		t.Errorf("console without a session: %d %s %s", res.status, res.header.Get("Location"), res.body)
	}
	h.srv.Client().CheckRedirect = nil

	h.webhook("d-1", surveyEvent("d-1", "ana@example.com", 5), h.clock.Now(), sourceKey)
	h.webhook("d-2", surveyEvent("d-2", "carl@example.com", 1), h.clock.Now(), sourceKey) // silenced
	h.proxySend("mail", []string{"bea@example.com"})
	res = h.do(http.MethodGet, "/metrics", "", nil)
	for _, want := range []string{
		`hush_webhooks_total{outcome="accepted",source="tool"} 2`,
		"hush_snapshot_records 1",
		`hush_proxy_requests_total{status="202",upstream="mail"} 1`,
		`hush_decisions_total{channel="email",reason="allowed",upstream="mail"} 1`,
		`hush_upstream_duration_seconds_count{upstream="mail"} 1`,
		`hush_intake_duration_seconds_count{source="tool"} 2`,
	} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Once storage is gone, the process is alive but not ready.
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusServiceUnavailable || res.errorCode(t) != "unavailable" {
		t.Errorf("readyz without storage: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/healthz", "", nil); res.status != 200 {
		t.Errorf("healthz without storage: %d", res.status)
	}
	// A webhook that cannot be committed is answered 503 so the vendor retries.
	if res := h.webhook("d-2", surveyEvent("d-2", "ana@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusServiceUnavailable || res.errorCode(t) != "unavailable" {
		t.Errorf("webhook without storage: %d %s", res.status, res.body)
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nope", 404, "not_found"},
		{http.MethodGet, "/api/v1/nope", 404, "not_found"},
		{http.MethodPut, "/api/v1/silences", 405, "invalid"},
		{http.MethodPost, "/healthz", 405, "invalid"},
	}
	for _, tt := range tests {
		res := h.do(tt.method, tt.path, adminToken, nil)
		if res.status != tt.status || res.errorCode(t) != tt.code {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, res.status, res.body)
		}
	}
}

func TestAccessLogKeepsPersonalDataOut(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/customers/ana.secret@example.com?note=ana.secret@example.com", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	logs := h.logs.String()
	if strings.Contains(logs, "ana.secret") || strings.Contains(logs, adminToken) {
		t.Errorf("logs carry personal data or the token: %s", logs)
	}
	var line struct {
		Msg, Method, Route string
		Status             int
	}
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err == nil && line.Msg == "request" {
			break
		}
	}
	if line.Method != http.MethodGet || line.Route != "/api/v1/customers/{identity}" || line.Status != http.StatusNotFound {
		t.Errorf("access log line: %+v in %s", line, logs)
	}
}
