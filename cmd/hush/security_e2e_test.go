package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The security tests that need the binary's own wiring: the HTTP server's limits as
// `hush serve` sets them (slowloris headers and bodies, oversized headers) and what the
// process writes to stderr while it is attacked.

// serverLimits is what the test saw of the HTTP server `hush serve` built.
type serverLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

// startHushSecure runs `hush serve` like startHush, with a config file, JSON logs at debug
// level on a captured stderr, and the HTTP server's timeouts read and then shortened to
// short, so that a slow client is cut off within the test's time.
func startHushSecure(t *testing.T, clock *testClock, config string, short time.Duration) (*hushProcess, serverLimits) {
	t.Helper()
	data := t.TempDir()
	path := filepath.Join(data, "hush.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"HUSH_ADMIN_TOKEN":    adminToken,
		"HUSH_GENERIC_SECRET": genericSecret,
		"HUSH_LOG_FORMAT":     "json",
		"HUSH_LOG_LEVEL":      "debug",
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &hushProcess{
		t: t, clock: clock, data: data, cancel: cancel,
		done: make(chan error, 1), logs: &lockedBuffer{},
		client: &http.Client{Timeout: 30 * time.Second},
	}
	var limits serverLimits
	ready := make(chan string, 1)
	e := env{
		getenv: fakeEnv(vars), stdin: bytes.NewReader(nil), stdout: io.Discard, stderr: h.logs,
		now: clock.Now, ready: func(u string) { ready <- u },
		httpServer: func(s *http.Server) {
			limits = serverLimits{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes}
			s.ReadHeaderTimeout, s.ReadTimeout = short, 2*short
		},
	}
	args := []string{"hush", "serve", "--listen", "127.0.0.1:0", "--data", data, "--config", path}
	go func() { h.done <- runEnv(ctx, args, e) }()
	select {
	case h.base = <-ready:
	case err := <-h.done:
		cancel()
		t.Fatalf("hush serve stopped before listening: %v\nlogs:\n%s", err, h.logs)
	case <-time.After(startupDeadline):
		cancel()
		t.Fatalf("hush serve did not listen within %s", startupDeadline)
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("hush serve returned %v after its context was cancelled\nlogs:\n%s", err, h.logs)
		}
	})
	return h, limits
}

const securityConfig = `
storage: "bolt:hush.db"
default_region: ES
admin:
  tokens:
    - {name: ops, token: "${HUSH_ADMIN_TOKEN}", role: admin}
    - {name: lead, token: "viewer-e2e-token-5521", role: viewer}
sources:
  - {name: generic, kind: generic, secret: "${HUSH_GENERIC_SECRET}"}
rules:
  - name: low-csat
    when: 'event.type == "survey.response" && has(event.csat) && event.csat <= 2'
    silence: {for: 15d}
upstreams:
  - {name: mail, kind: sendgrid, url: "UPSTREAM", category: marketing}
limits: {body: 64KiB, request_timeout: 5s}
`

// connClosed reports whether the server closes conn (EOF or reset) before the test's own
// deadline: the timeouts under test are far shorter than that deadline.
func connClosed(t *testing.T, conn net.Conn) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue // an answer (a 408 or 400) is fine; what matters is that it ends
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false
		}
		return true
	}
}

func TestSecurityE2E(t *testing.T) {
	clock := newTestClock(t0)
	upstream, forbidden := newStandIn(t), newStandIn(t)
	h, limits := startHushSecure(t, clock, strings.Replace(securityConfig, "UPSTREAM", upstream.URL, 1), 300*time.Millisecond)
	addr := strings.TrimPrefix(h.base, "http://")

	t.Run("the server's limits are explicit", func(t *testing.T) {
		if limits.readHeader <= 0 || limits.read <= 0 || limits.write <= 0 || limits.idle <= 0 || limits.maxHeaderBytes <= 0 {
			t.Errorf("hush serve leaves a limit unset (zero means none): %+v", limits)
		}
		if limits.read < 5*time.Second {
			t.Errorf("ReadTimeout %s is shorter than request_timeout 5s: slow but honest uploads would be cut", limits.read)
		}
	})

	secrets := []string{genericSecret, adminToken, "viewer-e2e-token-5521", "wrong-admin-token-x1", "SG.e2e-vendor-key-8812"}
	personal := []string{"slowloris@example.com", "+34600999888", "texto privado del cliente", "forged@example.com", "proxied@example.com"}

	survey := func(email string) []byte {
		return []byte(fmt.Sprintf(`{"type":"survey.response","at":%q,"customer":{"email":%q,"phone":"+34600999888"},"csat":1,"text":"texto privado del cliente"}`,
			t0.Format(time.RFC3339), email))
	}
	stored := func(email string) bool {
		resp, _ := h.request(http.MethodGet, "/api/v1/customers/"+"email:"+email, nil, nil)
		return resp.StatusCode == http.StatusOK
	}

	t.Run("slow headers are cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /webhooks/generic HTTP/1.1\r\nHost: %s\r\nX-Slow: ", addr)
		if !connClosed(t, conn) {
			t.Fatal("hush kept a connection whose headers never ended")
		}
	})

	t.Run("a slow body is cut off and nothing is stored", func(t *testing.T) {
		body := survey("slowloris@example.com")
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		id := newDeliveryID()
		ts := fmt.Sprint(clock.Now().Unix())
		sig := signStandard(genericSecret, id, ts, body)
		fmt.Fprintf(conn, "POST /webhooks/generic HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
			"Webhook-Id: %s\r\nWebhook-Timestamp: %s\r\nWebhook-Signature: v1,%s\r\n\r\n", addr, len(body), id, ts, sig)
		_, _ = conn.Write(body[:10]) // and never the rest
		if !connClosed(t, conn) {
			t.Fatal("hush kept a connection whose body never ended")
		}
		if stored("slowloris@example.com") {
			t.Error("a delivery cut off mid-body was stored")
		}
		// The same delivery sent whole is stored: the check above can see a stored one.
		if resp, b := h.signedWebhook(newDeliveryID(), survey("control@example.com")); resp.StatusCode != http.StatusOK || !stored("control@example.com") {
			t.Errorf("a whole delivery answered %d %s and stored: %v", resp.StatusCode, b, stored("control@example.com"))
		}
	})

	t.Run("headers over MaxHeaderBytes are refused", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", addr, strings.Repeat("a", limits.maxHeaderBytes+8192))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})

	t.Run("forged webhooks, bad tokens and proxy tricks leave no secret or personal data in the log", func(t *testing.T) {
		resp, b := h.webhookSignedWith("not-the-secret", clock.Now(), newDeliveryID(), survey("forged@example.com"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged webhook: %d %s", resp.StatusCode, b)
		}
		resp, b = h.webhookSignedWith(genericSecret, clock.Now().Add(-time.Hour), newDeliveryID(), survey("forged@example.com"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("stale webhook: %d %s", resp.StatusCode, b)
		}
		if stored("forged@example.com") {
			t.Error("a forged delivery was stored")
		}
		for _, tok := range []string{"wrong-admin-token-x1", "viewer-e2e-token-5521"} {
			resp, b = h.request(http.MethodPost, "/api/v1/silences",
				[]byte(`{"identity":"email:slowloris@example.com","for":"15d","reason":"texto privado del cliente"}`),
				http.Header{"Authorization": {"Bearer " + tok}})
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
				t.Errorf("silence with token %q: %d %s", tok, resp.StatusCode, b)
			}
		}
		// A bad request the admin may make: its error must not echo the identity into logs.
		if code := rawStatus(t, addr, "GET /api/v1/customers/email:slowloris@example.com%ZZ HTTP/1.1\r\nHost: "+addr+
			"\r\nAuthorization: Bearer "+adminToken+"\r\nConnection: close\r\n\r\n"); code != http.StatusBadRequest {
			t.Errorf("a malformed identity: status %d, want 400", code)
		}
		// Proxy: a send with the vendor's key and recipients, and path tricks.
		resp, b = h.request(http.MethodPost, "/proxy/mail/v3/mail/send", []byte(`{"personalizations":[{"to":[{"email":"proxied@example.com"}]}],"from":{"email":"shop@example.org"},"subject":"hola","content":[{"type":"text/plain","value":"texto privado del cliente"}]}`),
			http.Header{"Authorization": {"Bearer SG.e2e-vendor-key-8812"}})
		if resp.StatusCode != http.StatusAccepted || upstream.count() != 1 {
			t.Errorf("proxied send: %d %s, %d requests upstream, want 202 and 1", resp.StatusCode, b, upstream.count())
		}
		for _, target := range []string{"/proxy/mail/../x", "/proxy/mail/%2e%2e/x", "/proxy/mail//" + strings.TrimPrefix(forbidden.URL, "http://") + "/x", "/proxy/other/x"} {
			code := rawStatus(t, addr, "GET "+target+" HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer SG.e2e-vendor-key-8812\r\nConnection: close\r\n\r\n")
			if code < 400 || code >= 500 {
				t.Errorf("%s: status %d, want a 4xx refusal", target, code)
			}
		}
		if n := forbidden.count(); n != 0 {
			t.Errorf("the forbidden server received %d requests", n)
		}

		logs := h.logs.String()
		if !strings.Contains(logs, `"msg":"request"`) {
			t.Fatalf("stderr holds no access log line: the check proves nothing\n%s", logs)
		}
		for _, s := range append(secrets, personal...) {
			if strings.Contains(strings.ToLower(logs), strings.ToLower(s)) {
				t.Errorf("stderr contains %q", s)
			}
		}
	})
}

// signStandard is the Standard Webhooks signature, as webhookSignedWith computes it.
func signStandard(secret, id, ts string, body []byte) string {
	return hmacSHA256Base64([]byte(secret), []byte(id+"."+ts+"."), body)
}

// rawStatus sends a request written by hand (paths the Go client would clean) and returns
// the answer's status, 0 when there is none.
func rawStatus(t *testing.T, addr, raw string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func hmacSHA256Base64(key []byte, parts ...[]byte) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// standIn is a vendor stand-in that counts what reaches it.
type standIn struct {
	*httptest.Server
	n atomic.Int64
}

func newStandIn(t *testing.T) *standIn {
	s := &standIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *standIn) count() int64 { return s.n.Load() }
