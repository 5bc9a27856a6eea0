package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
)

// TestSuppressionSync drives the binary with four upstreams set to `sync: true`, each a
// stand-in of the vendor's suppression API that fails its first calls: a low-CSAT survey
// puts the customer on every vendor's list exactly once; a customer who had unsubscribed
// himself is left as he was; lifting the silences while the vendors fail, with a restart in
// the middle, takes off exactly what hush added and nothing else.
func TestSuppressionSync(t *testing.T) {
	sg := suppresstest.NewSendGrid(t, "SG.e2e-key", 4242)
	pm := suppresstest.NewPostmark(t, "pm-e2e-token", "broadcast")
	mg := suppresstest.NewMailgun(t, "key-e2e", "mg.example.com", "hush")
	md := suppresstest.NewMandrill(t, "md-e2e-key", "marketing")
	vendors := map[string]suppresstest.Standin{"sendgrid": sg, "postmark": pm, "mailgun": mg, "mandrill": md}
	for _, v := range vendors {
		v.SeedOwn(neighbour) // ben unsubscribed himself, long before hush
	}
	sg.Faults().Add(suppresstest.Fail500, suppresstest.Fail429)
	pm.Faults().Add(suppresstest.Fail429)
	mg.Faults().Add(suppresstest.Fail500, suppresstest.Fail500)
	md.Faults().Add(suppresstest.Fail500)

	config := filepath.Join(t.TempDir(), "hush.yaml")
	text := fmt.Sprintf(`admin: {tokens: [{name: ops, token: "${HUSH_ADMIN_TOKEN}", role: admin}]}
sources: [{name: generic, kind: generic, secret: "${HUSH_GENERIC_SECRET}"}]
rules:
  - {name: low-csat, when: 'event.type == "survey.response" && has(event.csat) && event.csat <= 2', silence: {for: 15d}}
upstreams:
  - {name: sendgrid, kind: sendgrid, url: %q, sync: true, api_key: "${SENDGRID_API_KEY}", group_id: 4242}
  - {name: postmark, kind: postmark, url: %q, sync: true, server_token: "${POSTMARK_SERVER_TOKEN}"}
  - {name: mailgun, kind: mailgun, url: %q, sync: true, api_key: "${MAILGUN_API_KEY}", domain: mg.example.com}
  - {name: mandrill, kind: mandrill, url: %q, sync: true, api_key: "${MANDRILL_API_KEY}", subaccount: marketing}
`, sg.URL(), pm.URL(), mg.URL(), md.URL())
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := hushOptions{config: config, data: t.TempDir(), env: map[string]string{
		"SENDGRID_API_KEY": "SG.e2e-key", "POSTMARK_SERVER_TOKEN": "pm-e2e-token",
		"MAILGUN_API_KEY": "key-e2e", "MANDRILL_API_KEY": "md-e2e-key",
	}}
	clock := newTestClock(t0)
	h := startHush(t, clock, opts)

	// Failed attempts wait on hush's clock (backoff, Retry-After): move it along while
	// waiting, as time passes in production.
	settle := func(what string, cond func() bool) {
		t.Helper()
		waitFor(t, what, func() bool {
			clock.Advance(2 * time.Second)
			return cond()
		})
	}

	h.event(map[string]any{"id": "s1", "type": "survey.response", "customer": customerOf(ana), "csat": 1})
	h.event(map[string]any{"id": "s2", "type": "survey.response", "customer": customerOf(neighbour), "csat": 2})
	for name, v := range vendors {
		settle(name+" to list ana", func() bool { return v.HushListed(ana) })
	}
	// Let every job finish (ben's ends with the vendor saying he is already listed).
	settle("the sync jobs to finish", func() bool { return h.pendingSyncJobs() == 0 })
	for name, v := range vendors {
		if n := v.Calls("add", ana); n != 1 {
			t.Errorf("%s: ana added %d times, want once", name, n)
		}
		if n := v.Calls("add", neighbour); n != 0 || !v.Suppressed(neighbour) {
			t.Errorf("%s: ben, who unsubscribed himself, was added %d times (suppressed %v)", name, n, v.Suppressed(neighbour))
		}
		if v.Faults().Pending() != 0 {
			t.Errorf("%s: %d injected failures never served", name, v.Faults().Pending())
		}
	}

	// Both silences are lifted while every vendor fails; hush stops in the middle.
	for _, v := range vendors {
		v.Faults().Add(suppresstest.Fail500, suppresstest.Fail500, suppresstest.Fail500)
	}
	for _, who := range []string{ana, neighbour} {
		var list struct{ Items []struct{ ID string } }
		h.api(http.MethodGet, "/api/v1/silences?active=true&identity="+url.QueryEscape("email:"+who), nil, http.StatusOK, &list)
		if len(list.Items) != 1 {
			t.Fatalf("silences of %s: %+v", who, list.Items)
		}
		h.api(http.MethodDelete, "/api/v1/silences/"+list.Items[0].ID, map[string]string{"reason": "resuelto por teléfono"}, http.StatusOK, nil)
	}
	settle("a failed attempt at every vendor", func() bool {
		for _, v := range vendors {
			if v.Faults().Injected() < 3 { // the first round's faults, then at least one more
				return false
			}
		}
		return true
	})
	h.stopped()
	h = startHush(t, clock, opts)
	for name, v := range vendors {
		settle(name+" to take ana off", func() bool { return !v.HushListed(ana) })
	}
	settle("the sync jobs to finish", func() bool { return h.pendingSyncJobs() == 0 })
	for name, v := range vendors {
		if v.Suppressed(ana) || v.Calls("remove", ana) != 1 || v.Calls("add", ana) != 1 {
			t.Errorf("%s: ana suppressed %v after the lift; added %d, removed %d times (want once each)",
				name, v.Suppressed(ana), v.Calls("add", ana), v.Calls("remove", ana))
		}
		if !v.Suppressed(neighbour) || v.Calls("remove", neighbour) != 0 {
			t.Errorf("%s: ben's own unsubscribe was touched (suppressed %v, removes %d)", name, v.Suppressed(neighbour), v.Calls("remove", neighbour))
		}
	}
	var dead struct {
		Items []struct{ ID, Kind, DeadReason string }
	}
	h.api(http.MethodGet, "/api/v1/outbox?state=dead", nil, http.StatusOK, &dead)
	if len(dead.Items) != 0 {
		t.Errorf("dead outbox messages: %+v", dead.Items)
	}
	// The jobs are counted for /metrics, per upstream.
	_, metrics := h.request(http.MethodGet, "/metrics", nil, nil)
	if !strings.Contains(string(metrics), "hush_decision_log_queued ") {
		t.Errorf("/metrics has no hush_decision_log_queued (serve batches the decision log)")
	}
	for name := range vendors {
		want := `hush_outbox_attempts_total{kind="sync",outcome="delivered",target="` + name + `"}`
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

// pendingSyncJobs counts the sync jobs due within the next minute that are still pending
// (the job scheduled for each silence's end is weeks away).
func (h *hushProcess) pendingSyncJobs() int {
	h.t.Helper()
	var list struct {
		Items []struct {
			Kind        string
			NextAttempt time.Time `json:"next_attempt"`
		}
	}
	h.api(http.MethodGet, "/api/v1/outbox?state=pending", nil, http.StatusOK, &list)
	n := 0
	for _, m := range list.Items {
		if m.Kind == "sync" && m.NextAttempt.Before(h.clock.Now().Add(time.Minute)) {
			n++
		}
	}
	return n
}
