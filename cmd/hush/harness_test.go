package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The end-to-end tests drive runEnv exactly as main does, with a fake environment, an
// injected clock and the ready callback; every request goes over real HTTP to the real
// listener, and state lives in a real bbolt file in t.TempDir().

const (
	// adminToken and genericSecret are handed to hush through the fake environment.
	adminToken = "e2e-admin-token-0123456789"
	// genericSecret has no whsec_ prefix, so its UTF-8 bytes are the HMAC key
	// (docs/connectors/generic.md, "The key").
	genericSecret = "e2e-generic-secret-0123456789"
)

// t0 is where every test clock starts: 10:00 UTC on a Friday, 11:00 in Madrid, outside the
// default quiet hours (21:00–09:00 for voice and SMS), so that only the rule under test
// decides.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// testClock is the time hush sees: rules, silences, quiet hours, caps and webhook timestamp
// checks all follow it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeEnv is a getenv over a map.
func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// lockedBuffer collects what hush logs; the logger writes from server goroutines while a
// test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hushOptions say how to start hush.
type hushOptions struct {
	config string            // --config; "" runs the embedded default
	data   string            // --data; "" is a fresh t.TempDir()
	env    map[string]string // on top of HUSH_ADMIN_TOKEN and HUSH_GENERIC_SECRET
}

// hushProcess is one running `hush serve`.
type hushProcess struct {
	t      *testing.T
	clock  *testClock
	base   string
	data   string
	cancel context.CancelFunc
	done   chan error
	logs   *lockedBuffer
	client *http.Client

	stopOnce sync.Once
	stopErr  error
}

// startupDeadline bounds how long a test waits for hush to listen: opening bbolt and
// compiling rules take milliseconds, so this only matters when something hangs.
const startupDeadline = 15 * time.Second

// startHush runs `hush serve` in a goroutine until the test ends (or stop is called) and
// returns once it listens.
func startHush(t *testing.T, clock *testClock, opts hushOptions) *hushProcess {
	t.Helper()
	if opts.data == "" {
		opts.data = t.TempDir()
	}
	vars := map[string]string{
		"HUSH_ADMIN_TOKEN":    adminToken,
		"HUSH_GENERIC_SECRET": genericSecret,
	}
	for k, v := range opts.env {
		vars[k] = v
	}
	args := []string{"hush", "serve", "--listen", "127.0.0.1:0", "--data", opts.data}
	if opts.config != "" {
		args = append(args, "--config", opts.config)
	}

	ctx, cancel := context.WithCancel(context.Background())
	h := &hushProcess{
		t: t, clock: clock, data: opts.data, cancel: cancel,
		done: make(chan error, 1), logs: &lockedBuffer{},
		client: &http.Client{Timeout: 30 * time.Second},
	}
	ready := make(chan string, 1)
	e := env{
		getenv: fakeEnv(vars),
		stdin:  bytes.NewReader(nil),
		stdout: io.Discard,
		stderr: h.logs,
		now:    clock.Now,
		ready:  func(u string) { ready <- u },
	}
	go func() { h.done <- runEnv(ctx, args, e) }()

	select {
	case h.base = <-ready:
	case err := <-h.done:
		cancel()
		t.Fatalf("hush serve stopped before listening: %v\nlogs:\n%s", err, h.logs)
	case <-time.After(startupDeadline):
		cancel()
		t.Fatalf("hush serve did not listen within %s\nlogs:\n%s", startupDeadline, h.logs)
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("hush serve returned %v after its context was cancelled, want nil (graceful drain)\nlogs:\n%s", err, h.logs)
		}
	})
	return h
}

// stop cancels serve's context, as SIGTERM does, and waits for run to return.
func (h *hushProcess) stop() error {
	h.stopOnce.Do(func() {
		h.cancel()
		select {
		case h.stopErr = <-h.done:
		case <-time.After(drainTimeout + 10*time.Second):
			h.stopErr = fmt.Errorf("hush serve did not return after cancel")
		}
		h.client.CloseIdleConnections()
	})
	return h.stopErr
}

// stopped stops hush and fails the test unless run returned nil.
func (h *hushProcess) stopped() {
	h.t.Helper()
	if err := h.stop(); err != nil {
		h.t.Fatalf("hush serve returned %v after its context was cancelled, want nil\nlogs:\n%s", err, h.logs)
	}
}

// request sends a request with the admin token and returns the answer and its body.
func (h *hushProcess) request(method, path string, body []byte, header http.Header) (*http.Response, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return resp, b
}

// api calls the admin API with a JSON body (nil: none), checks the status and decodes the
// answer into out (nil: ignored).
func (h *hushProcess) api(method, path string, in any, wantStatus int, out any) {
	h.t.Helper()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			h.t.Fatal(err)
		}
	}
	resp, b := h.request(method, path, body, nil)
	if resp.StatusCode != wantStatus {
		h.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// webhookCounts is the answer of POST /webhooks/{source}.
type webhookCounts struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

var deliverySeq atomic.Int64

// newDeliveryID is a fresh webhook-id.
func newDeliveryID() string { return fmt.Sprintf("msg_e2e_%d", deliverySeq.Add(1)) }

// signedWebhook posts body to /webhooks/generic signed as Standard Webhooks with the
// delivery id, stamped with the test clock's time.
func (h *hushProcess) signedWebhook(deliveryID string, body []byte) (*http.Response, []byte) {
	h.t.Helper()
	return h.webhookSignedWith(genericSecret, h.clock.Now(), deliveryID, body)
}

// webhookSignedWith posts body signed with any secret and timestamp, to test refusals.
func (h *hushProcess) webhookSignedWith(secret string, at time.Time, deliveryID string, body []byte) (*http.Response, []byte) {
	h.t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(deliveryID + "." + ts + "." + string(body)))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	header := http.Header{
		"Webhook-Id":        {deliveryID},
		"Webhook-Timestamp": {ts},
		"Webhook-Signature": {"v1," + sig},
		"Authorization":     {"none"}, // webhooks are authenticated by their signature alone
	}
	return h.request(http.MethodPost, "/webhooks/generic", body, header)
}

// event posts one normalized event, happening now on the test clock, and checks hush
// accepted it.
func (h *hushProcess) event(ev map[string]any) {
	h.t.Helper()
	if _, ok := ev["at"]; !ok {
		ev["at"] = h.clock.Now().Format(time.RFC3339)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, b := h.signedWebhook(newDeliveryID(), body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("webhook %s: status %d, want 200; body: %s", body, resp.StatusCode, b)
	}
	var got webhookCounts
	if err := json.Unmarshal(b, &got); err != nil {
		h.t.Fatalf("webhook answer %s: %v", b, err)
	}
	if got != (webhookCounts{Accepted: 1}) {
		h.t.Fatalf("webhook %s answered %+v, want one accepted", body, got)
	}
}

// recipient is a decision API recipient: {"email": …}, {"phone": …} or {"id": …}.
type recipient map[string]string

func email(addr string) recipient { return recipient{"email": addr} }
func phone(num string) recipient  { return recipient{"phone": num} }

// decide asks the decision API about one recipient. record false is a dry check: it
// counts against no cap, so tests can ask as often as they need.
func (h *hushProcess) decide(channel, category string, to recipient, record bool) gateway.Decision {
	h.t.Helper()
	var got struct {
		Decisions []gateway.Decision `json:"decisions"`
	}
	h.api(http.MethodPost, "/api/v1/decisions", map[string]any{
		"channel": channel, "category": category, "recipients": []recipient{to}, "record": record,
	}, http.StatusOK, &got)
	if len(got.Decisions) != 1 {
		h.t.Fatalf("decision for %v: %d decisions, want 1", to, len(got.Decisions))
	}
	return got.Decisions[0]
}

// check is a dry decision.
func (h *hushProcess) check(channel, category string, to recipient) gateway.Decision {
	h.t.Helper()
	return h.decide(channel, category, to, false)
}

// customerView is the part of GET /api/v1/customers/{identity} the tests read.
type customerView struct {
	Identities []gateway.Identity `json:"identities"`
	Timeline   struct {
		Items []struct {
			Kind     string            `json:"kind"`
			Event    *gateway.Event    `json:"event"`
			Decision *gateway.Decision `json:"decision"`
		} `json:"items"`
	} `json:"timeline"`
	Silences struct {
		Active []gateway.Silence `json:"active"`
		Past   []gateway.Silence `json:"past"`
	} `json:"silences"`
	OptOuts []gateway.OptOut `json:"optouts"`
}

func (h *hushProcess) customer(identity string) customerView {
	h.t.Helper()
	var v customerView
	h.api(http.MethodGet, "/api/v1/customers/"+url.PathEscape(identity), nil, http.StatusOK, &v)
	return v
}

// silences lists a customer's silences through GET /api/v1/silences?identity=….
func (h *hushProcess) silences(identity string, activeOnly bool) []gateway.Silence {
	h.t.Helper()
	q := url.Values{"identity": {identity}}
	if activeOnly {
		q.Set("active", "true")
	}
	var list struct {
		Items []gateway.Silence `json:"items"`
	}
	h.api(http.MethodGet, "/api/v1/silences?"+q.Encode(), nil, http.StatusOK, &list)
	return list.Items
}
