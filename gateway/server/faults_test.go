package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// Fault tests: storage that cannot write, upstreams that refuse, hang or hang up. The proxy's
// refused-connection answer and its cap release are in TestProxyReleasesCapSlotWhenSendFails;
// draining a proxied call on shutdown is in cmd/hush's drain test.

// failingStore is the real bbolt store whose writes fail on demand, as a full or read-only
// disk makes them fail; reads keep working.
type failingStore struct {
	*bolt.Store
	failing atomic.Bool
	err     error // what a failing Update returns; nil: errInjectedWrite. Set before failing.
}

var errInjectedWrite = errors.New("write hush.db: no space left on device (injected by the test)")

func (s *failingStore) Update(ctx context.Context, fn func(gateway.Tx) error) error {
	if s.failing.Load() {
		if s.err != nil {
			return s.err
		}
		return fmt.Errorf("commit: %w", errInjectedWrite)
	}
	return s.Store.Update(ctx, fn)
}

// newHarnessOnStore is newHarness over a store the test chooses: a bbolt file at dbPath
// ("": in t.TempDir()), with fsync, reached through wrap (nil: directly).
func newHarnessOnStore(t *testing.T, opts harnessOptions, dbPath string, wrap func(*bolt.Store) gateway.Store) *harness {
	t.Helper()
	opts.dbPath, opts.wrap, opts.fsync = dbPath, wrap, true
	return newHarness(t, opts)
}

// dryDecision asks the decision API about one address without recording anything.
func (h *harness) dryDecision(email string) gateway.Decision {
	h.t.Helper()
	res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{
		"channel": "email", "category": "marketing", "record": false,
		"recipients": []any{map[string]string{"email": email}},
	})
	var got struct{ Decisions []gateway.Decision }
	if res.status != http.StatusOK {
		h.t.Fatalf("dry decision for %s: %d %s", email, res.status, res.body)
	}
	res.json(h.t, &got)
	if len(got.Decisions) != 1 {
		h.t.Fatalf("dry decision for %s: %s", email, res.body)
	}
	return got.Decisions[0]
}

// metric returns the /metrics line that starts with prefix ("" when there is none).
func (h *harness) metric(prefix string) string {
	h.t.Helper()
	res := h.do(http.MethodGet, "/metrics", "", nil)
	for _, l := range strings.Split(string(res.body), "\n") {
		if strings.HasPrefix(l, prefix+" ") {
			return l
		}
	}
	return ""
}

// contacts counts the cap slots held for an address: the record of what was sent.
func (h *harness) contacts(email string) int {
	h.t.Helper()
	var n int
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(gateway.Identity("email:" + email))
		if errors.Is(err, gateway.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err = tx.CountContacts(c.ID, time.Time{}, gateway.ChannelAny, gateway.CategoryAny)
		return err
	})
	if err != nil {
		h.t.Fatalf("counting contacts of %s: %v", email, err)
	}
	return n
}

func TestStorageThatCannotWriteRefusesIntake(t *testing.T) {
	var fs *failingStore
	h := newHarnessOnStore(t, harnessOptions{upstreams: mailUpstreams(t)}, "", func(s *bolt.Store) gateway.Store {
		fs = &failingStore{Store: s}
		return fs
	})
	// Before the disk fails: Carl is silenced.
	if res := h.webhook("d-carl", surveyEvent("d-carl", "carl@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook before the failure: %d %s", res.status, res.body)
	}

	fs.failing.Store(true)
	refused := []struct {
		name, id string
		body     []byte
	}{
		{"silencing event", "d-ana", surveyEvent("d-ana", "ana@example.com", 1)},
		{"plain event", "d-bea", surveyEvent("d-bea", "bea@example.com", 5)},
		{"array", "d-arr", []byte(`[` + string(surveyEvent("d-arr-1", "dan@example.com", 1)) + `,` + string(surveyEvent("d-arr-2", "eve@example.com", 5)) + `]`)},
		// Verified but unparseable: its dead letter cannot be kept either, so 503, not 400.
		{"dead letter", "d-bad", []byte(`{"id":"d-bad","type":"no.such.type","customer":{"email":"fay@example.com"}}`)},
	}
	for _, tt := range refused {
		res := h.webhook(tt.id, tt.body, h.clock.Now(), sourceKey)
		if res.status != http.StatusServiceUnavailable || res.errorCode(t) != "unavailable" {
			t.Errorf("%s while storage cannot write: %d %s, want 503 unavailable", tt.name, res.status, res.body)
		}
	}
	if res := h.do(http.MethodPost, "/api/v1/events", adminToken, surveyEvent("api-1", "gus@example.com", 1)); res.status != http.StatusServiceUnavailable || res.errorCode(t) != "unavailable" {
		t.Errorf("POST /api/v1/events while storage cannot write: %d %s", res.status, res.body)
	}

	// The process is alive, not ready, and still decides from its snapshot.
	if res := h.do(http.MethodGet, "/healthz", "", nil); res.status != http.StatusOK {
		t.Errorf("healthz while storage cannot write: %d", res.status)
	}
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusServiceUnavailable || res.errorCode(t) != "unavailable" {
		t.Errorf("readyz while storage cannot write: %d %s, want 503", res.status, res.body)
	}
	if d := h.dryDecision("carl@example.com"); d.Allowed || d.Reason != "silenced" {
		t.Errorf("Carl while storage cannot write: %+v, want silenced from the snapshot", d)
	}
	if d := h.dryDecision("ana@example.com"); !d.Allowed {
		t.Errorf("Ana (her event was refused) is %+v, want allowed", d)
	}
	if got := h.metric(`hush_webhooks_total{outcome="unavailable",source="tool"}`); !strings.HasSuffix(got, " 4") {
		t.Errorf("metrics: %q, want 4 webhooks refused as unavailable", got)
	}
	if got := h.metric("hush_storage_write_failing"); got != "hush_storage_write_failing 1" {
		t.Errorf("metrics: %q, want hush_storage_write_failing 1", got)
	}
	if c := h.counts(); c.customers != 1 || c.silences != 1 || c.deadletters != 0 {
		t.Errorf("refused deliveries left %+v in the store, want only Carl and his silence", c)
	}

	// Past the hold-down, readyz tries a write itself: still failing, still not ready.
	h.clock.Set(h.clock.Now().Add(time.Minute))
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusServiceUnavailable {
		t.Errorf("readyz a minute on, storage still failing: %d %s, want 503", res.status, res.body)
	}

	// The disk recovers: with no webhook arriving (a balancer that heeds readyz sends none),
	// readyz's own write brings it back once the hold-down has passed.
	fs.failing.Store(false)
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusServiceUnavailable {
		t.Errorf("readyz right after its failed write: %d %s, want 503 for the hold-down", res.status, res.body)
	}
	h.clock.Set(h.clock.Now().Add(time.Minute))
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusOK {
		t.Errorf("readyz after the disk recovered: %d %s", res.status, res.body)
	}
	if got := h.metric("hush_storage_write_failing"); got != "hush_storage_write_failing 0" {
		t.Errorf("metrics after recovery: %q, want hush_storage_write_failing 0", got)
	}
	for _, tt := range refused[:3] {
		res := h.webhook(tt.id, tt.body, h.clock.Now(), sourceKey)
		var got gateway.IngestResult
		if res.status == http.StatusOK {
			res.json(t, &got)
		}
		if res.status != http.StatusOK || got.Accepted == 0 || got.Duplicates != 0 {
			t.Errorf("retry of %s after recovery: %d %s, want accepted", tt.name, res.status, res.body)
		}
	}
	if d := h.dryDecision("ana@example.com"); d.Allowed || d.Reason != "silenced" {
		t.Errorf("Ana after the retry: %+v, want silenced", d)
	}
}

// TestCallerLeavingIsNoStorageFailure: a webhook whose caller went away fails its commit
// with context.Canceled; that says nothing about the disk, so hush stays ready.
func TestCallerLeavingIsNoStorageFailure(t *testing.T) {
	var fs *failingStore
	h := newHarnessOnStore(t, harnessOptions{}, "", func(s *bolt.Store) gateway.Store {
		fs = &failingStore{Store: s, err: context.Canceled}
		return fs
	})
	fs.failing.Store(true)
	if res := h.webhook("d-ana", surveyEvent("d-ana", "ana@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusServiceUnavailable {
		t.Fatalf("webhook whose commit was cancelled: %d %s, want 503", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusOK {
		t.Errorf("readyz after a cancelled commit: %d %s, want 200", res.status, res.body)
	}
}

// TestFullDiskRefusesIntake fills a small tmpfs under a real bbolt file: every webhook is
// answered 200 and stored, or 503 and not stored, never 200 and lost.
func TestFullDiskRefusesIntake(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root; the failing store double covers the same path")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v); the failing store double covers the same path", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount the test tmpfs: %v", err)
		}
	})
	h := newHarnessOnStore(t, harnessOptions{}, filepath.Join(dir, "hush.db"), nil)
	if res := h.webhook("d-carl", surveyEvent("d-carl", "carl@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook before the disk fills: %d %s", res.status, res.body)
	}
	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)

	// Deliveries of 64 KiB each, until the store runs out of room (bbolt first reuses the
	// free pages it has, so the first ones may still commit).
	text := strings.Repeat("the agent never called back. ", 64<<10/30)
	type delivery struct {
		id, email string
		body      []byte
	}
	var accepted, refused []delivery
	for i := 0; len(refused) < 3 && i < 200; i++ {
		id := fmt.Sprintf("d-full-%d", i)
		email := fmt.Sprintf("full%d@example.com", i)
		body := []byte(fmt.Sprintf(`{"id":%q,"type":"survey.response","at":%q,"customer":{"email":%q},"csat":1,"text":%q}`,
			id, testStart.Add(-time.Hour).Format(time.RFC3339), email, text))
		res := h.webhook(id, body, h.clock.Now(), sourceKey)
		switch res.status {
		case http.StatusOK:
			accepted = append(accepted, delivery{id, email, body})
		case http.StatusServiceUnavailable:
			if code := res.errorCode(t); code != "unavailable" {
				t.Fatalf("full disk: code %q", code)
			}
			refused = append(refused, delivery{id, email, body})
		default:
			t.Fatalf("webhook on a full disk: %d %s, want 200 or 503", res.status, res.body)
		}
	}
	if len(refused) == 0 {
		t.Fatalf("%d deliveries of 64 KiB were all accepted on a full 2 MiB disk", len(accepted))
	}
	t.Logf("full disk: %d deliveries committed into free pages, then refused", len(accepted))
	for _, d := range accepted {
		if evs := h.customerEvents(gateway.Identity("email:" + d.email)); len(evs) != 1 {
			t.Errorf("%s was answered 200 on a full disk but %d events are stored", d.id, len(evs))
		}
	}
	for _, d := range refused {
		if evs := h.customerEvents(gateway.Identity("email:" + d.email)); len(evs) != 0 {
			t.Errorf("%s was answered 503 but %d events are stored", d.id, len(evs))
		}
	}
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusServiceUnavailable {
		t.Errorf("readyz on a full disk: %d %s, want 503", res.status, res.body)
	}
	if d := h.dryDecision("carl@example.com"); d.Allowed || d.Reason != "silenced" {
		t.Errorf("Carl on a full disk: %+v, want silenced from the snapshot", d)
	}

	// Room again: ready, and the refused deliveries' retries are stored.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(h.clock.Now().Add(time.Minute)) // past readyz's hold-down: it writes to check
	if res := h.do(http.MethodGet, "/readyz", "", nil); res.status != http.StatusOK {
		t.Errorf("readyz after freeing the disk: %d %s", res.status, res.body)
	}
	for _, d := range refused {
		if res := h.webhook(d.id, d.body, h.clock.Now(), sourceKey); res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"accepted":1`)) {
			t.Errorf("retry of %s after freeing the disk: %d %s", d.id, res.status, res.body)
		}
		if evs := h.customerEvents(gateway.Identity("email:" + d.email)); len(evs) != 1 {
			t.Errorf("%s after its retry: %d events stored", d.id, len(evs))
		}
	}
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

// hangingUpstream accepts requests and never answers until the test ends; arrived counts
// the requests it holds.
type hangingUpstream struct {
	srv     *httptest.Server
	arrived chan struct{}
}

func newHangingUpstream(t *testing.T) *hangingUpstream {
	u := &hangingUpstream{arrived: make(chan struct{}, 100)}
	release := make(chan struct{})
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		u.arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done(): // hush gave up
		}
	}))
	t.Cleanup(func() {
		close(release)
		u.srv.Close()
	})
	return u
}

// hangUpUpstream reads the request and closes the connection without a word.
func hangUpUpstream(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64<<10)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Read(buf)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestProxyUpstreamFailuresAnswer502AndKeepNoSlot(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()
	hanging := newHangingUpstream(t)
	failing := func(name, url string, timeout time.Duration) server.Upstream {
		return server.Upstream{Name: name, Kind: "generic", URL: mustURL(t, url), Connector: mailConnector(t),
			Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Timeout: timeout}
	}
	h := newHarness(t, harnessOptions{
		upstreams: mailUpstreams(t,
			failing("refused", refusedURL, 5*time.Second),
			failing("hanging", hanging.srv.URL, 200*time.Millisecond),
			failing("hangup", hangUpUpstream(t), 5*time.Second),
		),
		caps: []gateway.CapSpec{{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Max: 1, Per: gateway.Duration(30 * 24 * time.Hour)}},
	})
	tests := []struct{ upstream, email string }{
		{"refused", "ana@example.com"}, // connection refused
		{"hanging", "bea@example.com"}, // no answer within the upstream's timeout
		{"hangup", "carl@example.com"}, // connection closed before any answer
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			res := h.proxySend(tt.upstream, []string{tt.email})
			if res.status != http.StatusBadGateway || res.errorCode(t) != "unavailable" ||
				res.errorMessage(t) != "upstream "+tt.upstream+" did not answer" {
				t.Fatalf("send through %s: %d %s, want 502 in the error shape", tt.upstream, res.status, res.body)
			}
			if n := h.contacts(tt.email); n != 0 {
				t.Errorf("%d contacts recorded for a send that never happened", n)
			}
			if ds := h.decisionsAbout(tt.email); len(ds) != 1 || !ds[0].Allowed || !ds[0].Unsent {
				t.Errorf("the audit log holds %+v, want the one decision marked unsent", ds)
			}
			if strings.Contains(h.logs.String(), tt.email) {
				t.Errorf("the failure's log names the recipient: %s", h.logs)
			}
			// A cap of one: the failed send left the slot, so the next send goes out.
			res = h.proxySend("mail", []string{tt.email})
			if res.status != http.StatusAccepted || res.header.Get("Hush-Allowed") != "1" {
				t.Fatalf("next send within a cap of 1: %d %v %s, want forwarded", res.status, res.header, res.body)
			}
			if n := h.contacts(tt.email); n != 1 {
				t.Errorf("after the delivered send: %d contacts, want 1", n)
			}
		})
	}
	if got := h.metric(`hush_proxy_requests_total{status="502",upstream="hanging"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("metrics: %q, want one 502 through hanging", got)
	}
}

// TestSlowUpstreamDoesNotExhaustHush holds many proxied calls on an upstream that never
// answers: webhooks, decisions and health keep answering meanwhile, and every held call
// ends with 502 at the upstream's timeout, its cap slot given back.
func TestSlowUpstreamDoesNotExhaustHush(t *testing.T) {
	const held = 40
	hanging := newHangingUpstream(t)
	slow := server.Upstream{Name: "slow", Kind: "generic", URL: mustURL(t, hanging.srv.URL), Connector: mailConnector(t),
		Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Timeout: time.Second}
	h := newHarness(t, harnessOptions{
		upstreams: mailUpstreams(t, slow),
		caps:      []gateway.CapSpec{{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Max: 1, Per: gateway.Duration(30 * 24 * time.Hour)}},
	})

	statuses := make(chan int, held)
	for i := range held {
		go func() {
			body := fmt.Sprintf(`{"to":["held%d@example.com"],"subject":"x"}`, i)
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/proxy/slow/v1/send", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range held {
		<-hanging.arrived
	}

	// Every call is held by the upstream; the rest of hush answers.
	if res := h.do(http.MethodGet, "/healthz", "", nil); res.status != http.StatusOK {
		t.Errorf("healthz while %d calls hang: %d", held, res.status)
	}
	if res := h.webhook("d-1", surveyEvent("d-1", "ana@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		t.Errorf("webhook while %d calls hang: %d %s", held, res.status, res.body)
	}
	if d := h.dryDecision("ana@example.com"); d.Allowed || d.Reason != "silenced" {
		t.Errorf("decision while %d calls hang: %+v", held, d)
	}
	if res := h.proxySend("mail", []string{"bea@example.com"}); res.status != http.StatusAccepted {
		t.Errorf("send through another upstream while %d calls hang: %d %s", held, res.status, res.body)
	}

	// The held calls end at the upstream's timeout, refused in the error shape.
	for range held {
		if s := <-statuses; s != http.StatusBadGateway {
			t.Errorf("held call ended with %d, want 502", s)
		}
	}
	for i := range held {
		if n := h.contacts(fmt.Sprintf("held%d@example.com", i)); n != 0 {
			t.Errorf("held%d: %d contacts kept for a send that timed out", i, n)
		}
	}
}

// decisionsAbout lists the recorded decisions about an email address.
func (h *harness) decisionsAbout(email string) []gateway.Decision {
	h.t.Helper()
	var out []gateway.Decision
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		ds, _, err := tx.Decisions(gateway.DecisionQuery{Page: gateway.Page{Limit: 1000}})
		for _, d := range ds {
			if d.Recipient == gateway.Identity("email:"+email) {
				out = append(out, d)
			}
		}
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}
