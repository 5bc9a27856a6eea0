package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// mailConnector is the real generic upstream configured for a JSON mail API: POST /v1/send
// with {"to": ["…"], …}.
func mailConnector(t *testing.T) gateway.Upstream {
	t.Helper()
	u, err := connectors.Upstream(gateway.UpstreamConfig{Name: "mail", Kind: "generic", Options: map[string]any{
		"sends": []any{map[string]any{
			"path":             "/v1/send",
			"recipients":       []any{"/to/*"},
			"dropped_response": map[string]any{"status": uint64(202), "body": `{"queued":true}`},
			"error_response":   map[string]any{"status": uint64(400), "body": `{"errors":[{"message":"recipients suppressed"}]}`},
		}},
	}})
	if err != nil {
		t.Fatalf("generic upstream: %v", err)
	}
	return u
}

func mailUpstreams(t *testing.T, extra ...server.Upstream) []server.Upstream {
	base := server.Upstream{Kind: "generic", Connector: mailConnector(t), Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing}
	enforce, asError, shadow := base, base, base
	enforce.Name, enforce.Mode = "mail", server.ModeEnforce
	asError.Name, asError.Mode, asError.OnAllDropped = "mailerr", server.ModeEnforce, server.AllDroppedError
	shadow.Name, shadow.Mode = "shadowmail", server.ModeShadow
	return append([]server.Upstream{enforce, asError, shadow}, extra...)
}

// proxySend posts a mail send through the proxy.
func (h *harness) proxySend(upstream string, to []string, header ...string) response {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"to": to, "subject": "Upgrade offer", "tracking": map[string]bool{"open": true}})
	return h.do(http.MethodPost, "/proxy/"+upstream+"/v1/send?region=eu", "", body, header...)
}

func (h *harness) decisionsOf(id gateway.Identity) []gateway.Decision {
	h.t.Helper()
	var out []gateway.Decision
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(id)
		if err != nil {
			return err
		}
		out, _, err = tx.Decisions(gateway.DecisionQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 100}})
		return err
	})
	if err != nil {
		h.t.Fatalf("decisions of %s: %v", id, err)
	}
	return out
}

func TestProxyRemovesSilencedRecipient(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	h.silence("ana@example.com")

	res := h.proxySend("mail", []string{"ana@example.com", "bea@example.com"},
		"Authorization", "Bearer vendor-key",
		"Connection", "X-Per-Hop",
		"X-Per-Hop", "1",
		"Keep-Alive", "timeout=5",
		"Hush-Category", "marketing",
		"Hush-Trace", "abc",
		"X-Custom", "kept",
	)
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if res.header.Get("Hush-Allowed") != "1" || res.header.Get("Hush-Dropped") != "1" || res.header.Get("X-Vendor") != "yes" {
		t.Errorf("response headers: %v", res.header)
	}
	got := h.upstream.requests()
	if len(got) != 1 {
		t.Fatalf("upstream received %d requests, want 1", len(got))
	}
	r := got[0]
	if r.method != http.MethodPost || r.path != "/base/v1/send" || r.query != "region=eu" {
		t.Errorf("forwarded %s %s?%s", r.method, r.path, r.query)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("forwarded body: %v: %s", err, r.body)
	}
	if to, _ := json.Marshal(doc["to"]); string(to) != `["bea@example.com"]` || doc["subject"] != "Upgrade offer" || doc["tracking"] == nil {
		t.Errorf("forwarded body: %s", r.body)
	}
	// The rewritten body is shorter than the caller's: its length is declared anew.
	if r.contentLength != int64(len(r.body)) {
		t.Errorf("Content-Length %d for %d bytes", r.contentLength, len(r.body))
	}
	if r.header.Get("Authorization") != "Bearer vendor-key" || r.header.Get("X-Custom") != "kept" {
		t.Errorf("caller's headers lost: %v", r.header)
	}
	for _, name := range []string{"X-Per-Hop", "Keep-Alive", "Hush-Category", "Hush-Trace"} {
		if r.header.Get(name) != "" {
			t.Errorf("header %s was forwarded", name)
		}
	}
	if !strings.HasPrefix(r.host, "127.0.0.1:") {
		t.Errorf("Host %q: the upstream's own host must be used", r.host)
	}
	ana := h.decisionsOf("email:ana@example.com")
	if len(ana) != 1 || ana[0].Allowed || ana[0].Upstream != "mail" || ana[0].Reason != gateway.ReasonSilenced {
		t.Errorf("recorded decisions for the silenced recipient: %+v", ana)
	}
}

func TestProxyAllDroppedAnsweredLocally(t *testing.T) {
	tests := []struct {
		upstream string
		status   int
		body     string
	}{
		{"mail", http.StatusAccepted, `{"queued":true}`},
		{"mailerr", http.StatusBadRequest, `{"errors":[{"message":"recipients suppressed"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
			h.silence("ana@example.com")
			h.silence("bea@example.com")
			res := h.proxySend(tt.upstream, []string{"ana@example.com", "bea@example.com"})
			if res.status != tt.status || string(res.body) != tt.body {
				t.Errorf("answer %d %s, want %d %s", res.status, res.body, tt.status, tt.body)
			}
			if res.header.Get("Hush-Allowed") != "0" || res.header.Get("Hush-Dropped") != "2" {
				t.Errorf("headers: %v", res.header)
			}
			if n := len(h.upstream.requests()); n != 0 {
				t.Errorf("upstream received %d requests; a fully dropped send must not be forwarded", n)
			}
		})
	}
}

func TestProxyShadowForwardsUntouched(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	h.silence("ana@example.com")
	body := []byte(`{"to":["ana@example.com","bea@example.com"],"subject":"x"}`)
	res := h.do(http.MethodPost, "/proxy/shadowmail/v1/send", "", body)
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if res.header.Get("Hush-Shadow") != "1" || res.header.Get("Hush-Allowed") != "2" || res.header.Get("Hush-Dropped") != "0" {
		t.Errorf("headers: %v", res.header)
	}
	got := h.upstream.requests()
	if len(got) != 1 || !bytes.Equal(got[0].body, body) {
		t.Fatalf("upstream received %+v; want the original body", got)
	}
	ana := h.decisionsOf("email:ana@example.com")
	if len(ana) != 1 || !ana[0].Shadow || ana[0].Allowed {
		t.Errorf("shadow decision: %+v", ana)
	}

	// What enforce mode refuses, shadow mode forwards.
	for _, b := range []string{`{"to":["ana@example.com","not an address"]}`, `not json`} {
		if res := h.do(http.MethodPost, "/proxy/shadowmail/v1/send", "", b); res.status != http.StatusAccepted {
			t.Errorf("shadow send %s: %d %s", b, res.status, res.body)
		}
	}
	if n := len(h.upstream.requests()); n != 3 {
		t.Errorf("upstream received %d requests, want 3", n)
	}
}

func TestProxyRefusesUncheckableSends(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	tests := []struct {
		name, body string
		header     []string
		mention    string
	}{
		{"unparseable recipient", `{"to":["bea@example.com","not an address"]}`, nil, "recipients[1]"},
		{"unreadable send", `{"to":"bea@example.com"}`, nil, "to"},
		{"unknown Hush-Channel", `{"to":["bea@example.com"]}`, []string{"Hush-Channel", "fax"}, "Hush-Channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(http.MethodPost, "/proxy/mail/v1/send", "", tt.body, tt.header...)
			if res.status != http.StatusBadRequest || res.errorCode(t) != "invalid" {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if msg := res.errorMessage(t); !strings.Contains(msg, tt.mention) {
				t.Errorf("message %q does not name %q", msg, tt.mention)
			}
		})
	}
	if n := len(h.upstream.requests()); n != 0 {
		t.Errorf("upstream received %d unchecked sends", n)
	}
	if c := h.counts(); c != (counts{}) {
		t.Errorf("refused sends stored %+v", c)
	}
}

func TestProxyPathTricksRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	tests := []struct {
		path   string
		status int
	}{
		{"/proxy/mail/../admin", 400},
		{"/proxy/mail/v1/../../etc/passwd", 400},
		{"/proxy/mail/./v1/send", 400},
		{"/proxy/mail/%2e%2e/admin", 400},
		{"/proxy/mail/%2E%2E%2Fadmin", 400},
		{"/proxy/mail/%252e%252e/admin", 400},
		{"/proxy/mail//evil.example/x", 400},
		{"/proxy/mail/http://evil.example/x", 400},
		{"/proxy/mail/http:%2F%2Fevil.example/x", 400},
		{`/proxy/mail/v1\..\admin`, 400},
		{"/proxy/mail/v1%5cadmin", 400},
		{"/proxy/mail/v1/%00", 400},
		{"/proxy/nope/v1/send", 404},
		{"/proxy/%2e%2e/v1/send", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			u := mustURL(t, h.srv.URL)
			// Opaque sends the request target exactly as written, uncleaned.
			req, err := http.NewRequest(http.MethodPost, h.srv.URL, strings.NewReader(`{"to":["bea@example.com"]}`))
			if err != nil {
				t.Fatal(err)
			}
			req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: tt.path}
			res := h.send(req)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			res.errorCode(t)
		})
	}
	if n := len(h.upstream.requests()); n != 0 {
		t.Errorf("upstream received %d requests through path tricks", n)
	}
}

func TestProxyForwardsNonSends(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t)})
	res := h.do(http.MethodGet, "/proxy/mail/v1/stats%20daily?from=2026-11-01&to=2026-11-20", "", nil, "Authorization", "Bearer vendor-key")
	if res.status != http.StatusAccepted || res.header.Get("Hush-Allowed") != "" {
		t.Fatalf("non-send: %d %v %s", res.status, res.header, res.body)
	}
	got := h.upstream.requests()
	if len(got) != 1 || got[0].method != http.MethodGet || got[0].rawPath != "/base/v1/stats%20daily" ||
		got[0].query != "from=2026-11-01&to=2026-11-20" || got[0].header.Get("Authorization") != "Bearer vendor-key" {
		t.Errorf("forwarded: %+v", got)
	}
}

func TestProxyReleasesCapSlotWhenSendFails(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	deadURL := mustURL(t, closed.URL)
	closed.Close()
	down := server.Upstream{Name: "down", Kind: "generic", URL: deadURL, Connector: mailConnector(t), Channel: gateway.ChannelEmail,
		Category: gateway.CategoryMarketing, Timeout: 5 * time.Second}
	h := newHarness(t, harnessOptions{
		upstreams: mailUpstreams(t, down),
		caps:      []gateway.CapSpec{{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Max: 1, Per: gateway.Duration(30 * 24 * time.Hour)}},
	})
	capped := func() bool {
		t.Helper()
		res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "record": false,
			"recipients": []any{map[string]string{"email": "bea@example.com"}}})
		return strings.Contains(string(res.body), `"reason":"frequency_cap"`)
	}

	res := h.proxySend("down", []string{"bea@example.com"})
	if res.status != http.StatusBadGateway || res.errorCode(t) != "unavailable" {
		t.Fatalf("upstream down: %d %s, want 502 unavailable", res.status, res.body)
	}
	if capped() {
		t.Error("the cap slot of a send that never left was not released")
	}

	h.upstream.setStatus(http.StatusServiceUnavailable)
	if res := h.proxySend("mail", []string{"bea@example.com"}); res.status != http.StatusServiceUnavailable {
		t.Fatalf("upstream 503 passed on as %d", res.status)
	}
	if capped() {
		t.Error("the cap slot of a send the upstream failed was not released")
	}

	h.upstream.setStatus(http.StatusAccepted)
	if res := h.proxySend("mail", []string{"bea@example.com"}); res.status != http.StatusAccepted {
		t.Fatalf("send: %d %s", res.status, res.body)
	}
	if !capped() {
		t.Error("a delivered send must keep its cap slot")
	}
	if res := h.proxySend("mail", []string{"bea@example.com"}); res.status != http.StatusAccepted || res.header.Get("Hush-Dropped") != "1" {
		t.Errorf("send over the cap: %d %v", res.status, res.header)
	}
	if n := len(h.upstream.requests()); n != 2 {
		t.Errorf("upstream received %d requests, want 2 (the failed one and the delivered one)", n)
	}
}

func TestProxyQuietHoursDefer(t *testing.T) {
	h := newHarness(t, harnessOptions{
		upstreams:  mailUpstreams(t),
		quietHours: []gateway.QuietHoursSpec{{Channels: []gateway.Channel{gateway.ChannelEmail}, From: "21:00", To: "09:00", Action: gateway.QuietDefer}},
	})
	h.clock.Set(time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC))
	res := h.proxySend("mail", []string{"bea@example.com"})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "39600" {
		t.Fatalf("quiet hours: %d Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	res.errorCode(t)
	if n := len(h.upstream.requests()); n != 0 {
		t.Errorf("a deferred send was forwarded")
	}
}
