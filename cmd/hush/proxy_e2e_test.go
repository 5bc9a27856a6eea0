package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// receivedRequest is one request the stand-in upstream got.
type receivedRequest struct {
	method, path string
	header       http.Header
	body         string
}

// recordingUpstream stands in for a mail API: it records every request and answers like
// SendGrid (202, empty body, a message id header).
type recordingUpstream struct {
	mu       sync.Mutex
	received []receivedRequest
}

func (u *recordingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.received = append(u.received, receivedRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: string(body)})
	u.mu.Unlock()
	w.Header().Set("X-Message-Id", "upstream-message-1")
	w.WriteHeader(http.StatusAccepted)
}

func (u *recordingUpstream) requests() []receivedRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]receivedRequest(nil), u.received...)
}

// sendgridSend is a SendGrid-shaped send to ana and ben, with keys in an order no encoder
// would choose and a number JSON decoders would round, to show the body is edited, not
// re-encoded.
const sendgridSend = `{"personalizations":[{"to":[{"email":"Ana@Example.com","name":"Ana"}],"subject":"Upgrade"},{"to":[{"email":"ben@example.com","name":"Ben"}],"subject":"Upgrade"}],"zz_campaign":12345678901234567890,"from":{"email":"shop@example.com"},"content":[{"type":"text/plain","value":"Hi"}],"asm":{"group_id":7}}`

// sendgridSendToBen is what must reach the upstream once ana is silenced.
const sendgridSendToBen = `{"personalizations":[{"to":[{"email":"ben@example.com","name":"Ben"}],"subject":"Upgrade"}],"zz_campaign":12345678901234567890,"from":{"email":"shop@example.com"},"content":[{"type":"text/plain","value":"Hi"}],"asm":{"group_id":7}}`

const sendgridSendToAna = `{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"from":{"email":"shop@example.com"},"content":[{"type":"text/plain","value":"Hi"}]}`

// TestProxyEnforcesSilences sends through a generic upstream configured for a SendGrid-shaped
// API: the silenced recipient is cut out of the body, a send to her alone never leaves
// hush, and a shadow upstream forwards everything but records what it would have dropped.
func TestProxyEnforcesSilences(t *testing.T) {
	upstream := &recordingUpstream{}
	mailAPI := httptest.NewServer(upstream)
	t.Cleanup(mailAPI.Close)

	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{
		config: filepath.Join("testdata", "proxy.yaml"),
		env:    map[string]string{"MAILER_URL": mailAPI.URL},
	})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})
	clock.Advance(time.Hour)

	send := func(upstreamName, body string) (*http.Response, []byte) {
		t.Helper()
		return h.request(http.MethodPost, "/proxy/"+upstreamName+"/v3/mail/send", []byte(body), http.Header{
			"Authorization": {"Bearer SG.callers-own-key"}, // the caller's credentials go upstream
			"Hush-Category": {"marketing"},
		})
	}

	t.Run("silenced recipient removed, the other forwarded", func(t *testing.T) {
		before := len(upstream.requests())
		resp, body := send("mailer", sendgridSend)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d, want the upstream's 202; body %s", resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Message-Id"); got != "upstream-message-1" {
			t.Errorf("X-Message-Id %q: the upstream's answer was not passed back", got)
		}
		if a, d := resp.Header.Get("Hush-Allowed"), resp.Header.Get("Hush-Dropped"); a != "1" || d != "1" {
			t.Errorf("Hush-Allowed %q, Hush-Dropped %q; want 1 and 1", a, d)
		}
		got := upstream.requests()[before:]
		if len(got) != 1 {
			t.Fatalf("upstream received %d requests, want 1", len(got))
		}
		r := got[0]
		if r.method != http.MethodPost || r.path != "/v3/mail/send" {
			t.Errorf("upstream got %s %s, want POST /v3/mail/send", r.method, r.path)
		}
		if r.body != sendgridSendToBen {
			t.Errorf("upstream got body\n%s\nwant\n%s", r.body, sendgridSendToBen)
		}
		if auth := r.header.Get("Authorization"); auth != "Bearer SG.callers-own-key" {
			t.Errorf("upstream got Authorization %q, want the caller's", auth)
		}
		if cat := r.header.Get("Hush-Category"); cat != "" {
			t.Errorf("upstream got Hush-Category %q: Hush-* headers are for hush only", cat)
		}
	})

	t.Run("every recipient silenced: answered locally", func(t *testing.T) {
		before := len(upstream.requests())
		resp, body := send("mailer", sendgridSendToAna)
		if resp.StatusCode != http.StatusAccepted || len(body) != 0 {
			t.Errorf("answer %d %q, want the configured 202 with an empty body", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want the configured text/plain", ct)
		}
		if a, d := resp.Header.Get("Hush-Allowed"), resp.Header.Get("Hush-Dropped"); a != "0" || d != "1" {
			t.Errorf("Hush-Allowed %q, Hush-Dropped %q; want 0 and 1", a, d)
		}
		if n := len(upstream.requests()) - before; n != 0 {
			t.Errorf("upstream received %d requests; a send to silenced recipients only must not leave hush", n)
		}
	})

	t.Run("shadow mode forwards untouched and records", func(t *testing.T) {
		before := len(upstream.requests())
		resp, body := send("mailer-shadow", sendgridSend)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d, want the upstream's 202; body %s", resp.StatusCode, body)
		}
		if s := resp.Header.Get("Hush-Shadow"); s != "1" {
			t.Errorf("Hush-Shadow %q, want 1 (ana would have been dropped)", s)
		}
		if d := resp.Header.Get("Hush-Dropped"); d != "0" {
			t.Errorf("Hush-Dropped %q in shadow mode, want 0", d)
		}
		got := upstream.requests()[before:]
		if len(got) != 1 || got[0].body != sendgridSend {
			t.Fatalf("upstream received %d requests (%+v); want the send, byte for byte", len(got), got)
		}

		var shadow *gateway.Decision
		for _, it := range h.customer(anaID).Timeline.Items {
			if it.Kind == "decision" && it.Decision != nil && it.Decision.Upstream == "mailer-shadow" {
				shadow = it.Decision
				break
			}
		}
		if shadow == nil {
			t.Fatal("ana's timeline has no decision of the shadow upstream")
		}
		if !shadow.Shadow || shadow.Allowed || shadow.Reason != gateway.ReasonSilenced || shadow.Rule != "low-csat" {
			t.Errorf("shadow decision %+v; want shadow, dropped as silenced by low-csat", shadow)
		}
	})

	// The enforced decisions are in the timeline too, next to the shadow one.
	var enforced int
	for _, it := range h.customer(anaID).Timeline.Items {
		if it.Kind == "decision" && it.Decision != nil && it.Decision.Upstream == "mailer" && !it.Decision.Allowed && !it.Decision.Shadow {
			enforced++
		}
	}
	if enforced != 2 {
		t.Errorf("ana's timeline has %d enforced drops through mailer, want 2", enforced)
	}
}
