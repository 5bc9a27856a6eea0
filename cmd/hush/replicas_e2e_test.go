package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/postgres/pgtest"
)

// Two hush replicas, each a `hush serve` run by run(), sharing one PostgreSQL database (issue
// #9). .ci/run starts a throwaway PostgreSQL and sets HUSH_TEST_POSTGRES_DSN.

// freshSchemaDSN is a DSN for an empty schema of the test database, dropped when the test
// ends (or a skip without one; a failure in CI).
func freshSchemaDSN(t *testing.T) string {
	t.Helper()
	_, dsn := pgtest.Schema(t, "hush_e2e_")
	return dsn
}

// replicaConfig is the embedded default with storage on PostgreSQL and, when mailURL is
// set, a SendGrid upstream at that address behind /proxy/mail.
func replicaConfig(t *testing.T, dsn string, mailURL ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const bolt = `storage: "bolt:hush.db"`
	cfg := string(b)
	if !strings.Contains(cfg, bolt) {
		t.Fatalf("configs/default.yaml no longer has the line %q", bolt)
	}
	quoted, _ := json.Marshal(dsn)
	cfg = strings.Replace(cfg, bolt, "storage: "+string(quoted), 1)
	for _, u := range mailURL {
		cfg += "\nupstreams:\n  - {name: mail, kind: sendgrid, url: \"" + u + "\"}\n"
	}
	path := filepath.Join(t.TempDir(), "hush.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplicasShareOnePostgres(t *testing.T) {
	mail := &recordingUpstream{}
	mailAPI := httptest.NewServer(mail)
	t.Cleanup(mailAPI.Close)
	config := replicaConfig(t, freshSchemaDSN(t), mailAPI.URL)
	clock := newTestClock(t0)
	a := startHush(t, clock, hushOptions{config: config})
	b := startHush(t, clock, hushOptions{config: config})

	t.Run("a silence through A is enforced by B's proxy within a second", func(t *testing.T) {
		sendThroughB := func() (dropped string) {
			t.Helper()
			resp, body := b.request(http.MethodPost, "/proxy/mail/v3/mail/send", []byte(sendgridSendToAna), http.Header{
				"Authorization": {"Bearer SG.callers-own-key"},
			})
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("B's proxy answered %d %s", resp.StatusCode, body)
			}
			return resp.Header.Get("Hush-Dropped")
		}
		if d := sendThroughB(); d != "0" {
			t.Fatalf("before anything happened, B's proxy dropped %s recipients", d)
		}
		a.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})
		acked := time.Now()
		// B learns of A's commit through the database (a notification wakes it; it also
		// polls every 250 ms). The bound is one second.
		deadline := acked.Add(time.Second)
		for sendThroughB() != "1" {
			if time.Now().After(deadline) {
				t.Fatalf("B's proxy still sends to ana %s after A silenced her", time.Since(acked).Round(time.Millisecond))
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("B's proxy enforced A's silence %s after A acknowledged the webhook", time.Since(acked).Round(time.Millisecond))
		if d := b.check("email", "marketing", email(ana)); d.Allowed || d.Rule != "low-csat" {
			t.Errorf("B's decision API: %+v, want dropped by low-csat", d)
		}
	})

	t.Run("a cap holds exactly across replicas", func(t *testing.T) {
		// The default config caps SMS marketing at 4 per 30 days.
		const mobile = "+34600999888"
		a.event(map[string]any{"type": "ticket.opened", "customer": map[string]any{"phone": mobile}})
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for i := range 24 {
			h := a
			if i%2 == 1 {
				h = b
			}
			wg.Go(func() {
				d := h.decide("sms", "marketing", phone(mobile), true)
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				} else if d.Reason != gateway.ReasonFrequencyCap {
					t.Errorf("a send was dropped for %q, want only frequency_cap", d.Reason)
				}
			})
		}
		wg.Wait()
		if allowed != 4 {
			t.Errorf("24 concurrent sends through both replicas: %d allowed, want exactly the cap of 4", allowed)
		}
	})

	t.Run("the same webhook delivered to both is stored once", func(t *testing.T) {
		id := newDeliveryID()
		body := []byte(`{"type": "ticket.opened", "customer": {"email": "ben@example.com"}, "topic": "crm:case:1", "at": "2026-11-20T10:00:00Z"}`)
		var wg sync.WaitGroup
		answers := make([]webhookCounts, 2)
		for i, h := range []*hushProcess{a, b} {
			wg.Go(func() {
				resp, got := h.signedWebhook(id, body)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("replica %d answered %d %s", i, resp.StatusCode, got)
					return
				}
				if err := json.Unmarshal(got, &answers[i]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if answers[0].Accepted+answers[1].Accepted != 1 || answers[0].Duplicates+answers[1].Duplicates != 1 {
			t.Errorf("the two replicas answered %+v and %+v; want one accepted and one duplicate", answers[0], answers[1])
		}
		events := 0
		for _, it := range b.customer("email:" + neighbour).Timeline.Items {
			if it.Kind == "event" {
				events++
			}
		}
		if events != 1 {
			t.Errorf("ben's timeline holds %d events, want the webhook's one", events)
		}
	})
}

// cuttableLink forwards TCP connections to a server until cut: closing every connection and
// refusing new ones stands in for the database becoming unreachable.
type cuttableLink struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newCuttableLink(t *testing.T, target string) *cuttableLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &cuttableLink{t: t, ln: ln, target: target}
	go l.serve()
	t.Cleanup(func() { _ = ln.Close(); l.setCut(true) })
	return l
}

func (l *cuttableLink) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", l.target)
		if err != nil {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.conns = append(l.conns, c, up)
		l.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// setCut cuts the link (closing every open connection) or restores it.
func (l *cuttableLink) setCut(cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = cut
	if cut {
		for _, c := range l.conns {
			_ = c.Close()
		}
		l.conns = nil
	}
}

// TestPostgresUnreachable: while the database cannot be reached, intake answers 503 (the
// vendor retries) and /readyz says not ready, but decisions keep coming from the snapshot
// and the metrics say it may be behind; once the database is back, everything answers again.
func TestPostgresUnreachable(t *testing.T) {
	dsn := freshSchemaDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	link := newCuttableLink(t, u.Host)
	u.Host = link.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{config: replicaConfig(t, u.String())})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})

	link.setCut(true)
	resp, body := h.signedWebhook(newDeliveryID(), []byte(`{"type": "survey.response", "customer": {"email": "ben@example.com"}, "csat": 1, "at": "2026-11-20T10:00:00Z"}`))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a webhook while the database is unreachable answered %d %s, want 503 so the vendor retries", resp.StatusCode, body)
	}
	if d := h.check("email", "marketing", email(ana)); d.Allowed || d.Rule != "low-csat" {
		t.Errorf("while the database is unreachable, ana: %+v; want still silenced (from the snapshot)", d)
	}
	if resp, _ := h.request(http.MethodGet, "/readyz", nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while the database is unreachable: %d, want 503", resp.StatusCode)
	}
	// A send a frequency cap covers needs a commit to reserve its slot: refused, not sent
	// past a cap nobody could count.
	capped, _ := json.Marshal(map[string]any{"channel": "sms", "category": "marketing", "recipients": []recipient{phone("+34600111222")}, "record": true})
	if resp, body := h.request(http.MethodPost, "/api/v1/decisions", capped, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a capped send while the database is unreachable answered %d %s, want 503", resp.StatusCode, body)
	}
	// The follower notices within a few of its reads.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, metrics := h.request(http.MethodGet, "/metrics", nil, nil)
		if strings.Contains(string(metrics), "hush_snapshot_feed_failing 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hush_snapshot_feed_failing is not 1 after 10 s without the database")
		}
		time.Sleep(50 * time.Millisecond)
	}

	link.setCut(false)
	deadline = time.Now().Add(15 * time.Second)
	for {
		resp, body := h.signedWebhook(newDeliveryID(), []byte(`{"type": "ticket.opened", "customer": {"email": "ben@example.com"}, "at": "2026-11-20T10:00:00Z"}`))
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the database came back, webhooks still answer %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp, _ := h.request(http.MethodGet, "/readyz", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz after the database came back: %d, want 200", resp.StatusCode)
	}
}
