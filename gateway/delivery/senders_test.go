package delivery

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/connectors/slack"
	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
	"github.com/hush-gateway/hush/connectors/zendesk"
	"github.com/hush-gateway/hush/gateway"
)

// destination is a stand-in for a real alert destination: the injected faults first, then
// the destination's success answer. It counts accepted requests by idempotency key (the
// outbox ID in Zendesk's Idempotency-Key or Standard Webhooks' webhook-id; Slack's incoming
// webhooks take none, so its requests are counted by their text's outbox reference).
type destination struct {
	srv    *httptest.Server
	faults *suppresstest.Faults
	mu     sync.Mutex
	ok     int
	bodies []string
}

func newDestination(t *testing.T, status int, answer string) *destination {
	d := &destination{faults: &suppresstest.Faults{MaxHang: 5 * time.Second}}
	d.srv = httptest.NewServer(d.faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.ok++
		d.bodies = append(d.bodies, string(body))
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	})))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *destination) accepted() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ok
}

// realSenders builds each alert kind's real sender pointed at a stand-in of its destination.
func realSenders(t *testing.T) map[string]struct {
	sender gateway.AlertSender
	dest   *destination
} {
	out := map[string]struct {
		sender gateway.AlertSender
		dest   *destination
	}{}
	sl := newDestination(t, http.StatusOK, "ok")
	s, err := slack.NewAlert(gateway.AlertConfig{Name: "retention", Kind: "slack", URL: sl.srv.URL + "/services/T0/B0/x"})
	if err != nil {
		t.Fatal(err)
	}
	out["slack"] = struct {
		sender gateway.AlertSender
		dest   *destination
	}{s, sl}
	wh := newDestination(t, http.StatusNoContent, "")
	g, err := generic.NewAlert(gateway.AlertConfig{Name: "retention", Kind: "webhook", URL: wh.srv.URL + "/hooks/hush",
		Options: map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})
	if err != nil {
		t.Fatal(err)
	}
	out["webhook"] = struct {
		sender gateway.AlertSender
		dest   *destination
	}{g, wh}
	zd := newDestination(t, http.StatusCreated, `{"ticket":{"id":35436}}`)
	z, err := zendesk.NewAlert(gateway.AlertConfig{Name: "retention", Kind: "zendesk", URL: zd.srv.URL,
		Options: map[string]any{"email": "hush-bot@example.com", "api_token": "tok3n", "group_id": uint64(360001234567)}})
	if err != nil {
		t.Fatal(err)
	}
	out["zendesk"] = struct {
		sender gateway.AlertSender
		dest   *destination
	}{z, zd}
	return out
}

// TestRealSendersThroughFailures sends one alert through each real sender (Slack, a signed
// webhook, a Zendesk ticket) to a destination that first answers 500, then 429 with
// Retry-After, then hangs past the timeout; with a restart of the worker in the middle,
// each destination accepts the alert exactly once. A 400 is given up at once.
func TestRealSendersThroughFailures(t *testing.T) {
	for kind, rs := range realSenders(t) {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hush.db")
			st := openStore(t, path)
			c := &clock{t: t0}
			start := func(st gateway.Store) *Worker {
				w, err := New(Config{Store: st, Senders: map[string]gateway.AlertSender{"retention": rs.sender},
					Now: c.Now, RetryMax: -1, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
				if err != nil {
					t.Fatal(err)
				}
				return w
			}
			ids := queue(t, st, "retention", 1, t0)
			rs.dest.faults.Add(suppresstest.Fail500, suppresstest.Fail429, suppresstest.Hang)

			w := start(st)
			if _, f, _, err := w.DeliverDue(context.Background()); err != nil || f != 1 {
				t.Fatalf("first pass: failed %d, err %v", f, err)
			}
			// The process stops and starts again on the same file.
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = openStore(t, path)
			t.Cleanup(func() { st.Close() })
			c.Advance(time.Hour + time.Second)
			d, f, x := drain(t, start(st), c, 10)
			if d != 1 || f != 2 || x != 0 || rs.dest.accepted() != 1 {
				t.Fatalf("after the restart: delivered %d, failed %d, dead %d; destination accepted %d (want 1, 2, 0, 1)", d, f, x, rs.dest.accepted())
			}
			if m := message(t, st, ids[0]); m.State() != gateway.OutboxDelivered || m.Attempts != 4 {
				t.Fatalf("stored: %s after %d attempts", m.State(), m.Attempts)
			}

			// A refusal is not retried.
			ids = queue(t, st, "refused", 1, c.Now())
			w = start(st)
			w.cfg.Senders["refused"] = rs.sender
			rs.dest.faults.Add(suppresstest.Fail400)
			before := rs.dest.faults.Injected()
			_, _, x = drain(t, w, c, 5)
			if x != 1 || rs.dest.faults.Injected() != before+1 || rs.dest.accepted() != 1 {
				t.Fatalf("a 400: dead %d, calls %d; want it dead after one call", x, rs.dest.faults.Injected()-before)
			}
			if m := message(t, st, ids[0]); !strings.Contains(m.DeadReason, "400") {
				t.Fatalf("dead reason %q", m.DeadReason)
			}
		})
	}
}
