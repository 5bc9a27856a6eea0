package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/generic"
)

// TestShutdownDrainsInFlightWebhook: a webhook whose body hush is still reading when SIGTERM
// (here: cancelling run's context) comes is read, verified, committed and answered 200
// before run returns, and is there after a restart on the same data directory. (A request
// whose headers had not reached hush when shutdown began is closed unanswered by net/http,
// and the vendor retries it: that one was never in flight.)
func TestShutdownDrainsInFlightWebhook(t *testing.T) {
	clock := newTestClock(t0)
	data := t.TempDir()
	h := startHush(t, clock, hushOptions{data: data})

	id := newDeliveryID()
	body := []byte(fmt.Sprintf(`{"type":"survey.response","at":%q,"customer":{"email":"drain@example.com"},"csat":1}`,
		clock.Now().Format(time.RFC3339)))
	bodyR, bodyW := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, h.base+"/webhooks/generic", bodyR)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(generic.HeaderID, id)
	req.Header.Set(generic.HeaderTimestamp, strconv.FormatInt(clock.Now().Unix(), 10))
	req.Header.Set(generic.HeaderSignature, generic.Sign([]byte(genericSecret), id, clock.Now(), body))

	type answer struct {
		status int
		body   []byte
		err    error
	}
	// Expect: 100-continue makes hush say when its handler starts reading the body: from
	// then on the webhook is in flight inside hush, not in a socket buffer.
	req.Header.Set("Expect", "100-continue")
	reading := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got100Continue: func() { close(reading) },
	}))
	answers := make(chan answer, 1)
	transport := &http.Transport{ExpectContinueTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{status: resp.StatusCode, body: b, err: err}
	}()
	select {
	case <-reading:
	case a := <-answers:
		t.Fatalf("webhook answered before its body was sent: %d %s %v", a.status, a.body, a.err)
	}
	// Half the body is on its way: the handler is reading it.
	half := len(body) / 2
	if _, err := bodyW.Write(body[:half]); err != nil {
		t.Fatalf("send the first half: %v", err)
	}

	// Shutdown begins while the webhook's body is still arriving.
	stopped := h.beginShutdown(t)

	if _, err := bodyW.Write(body[half:]); err != nil {
		t.Fatalf("send the second half: %v", err)
	}
	bodyW.Close()
	a := <-answers
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("in-flight webhook: status %d, body %s, err %v; want 200", a.status, a.body, a.err)
	}
	var got webhookCounts
	if err := json.Unmarshal(a.body, &got); err != nil || got != (webhookCounts{Accepted: 1}) {
		t.Fatalf("in-flight webhook answered %s, want one accepted", a.body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v after draining, want nil", err)
	}

	// Restarted on the same data: the event and its silence are there, and the vendor's
	// retry is a duplicate.
	h2 := startHush(t, clock, hushOptions{data: data})
	v := h2.customer("email:drain@example.com")
	var events int
	for _, it := range v.Timeline.Items {
		if it.Event != nil && it.Event.ID == id {
			events++
		}
	}
	lowCSAT := 0
	for _, s := range v.Silences.Active {
		if s.Rule == "low-csat" {
			lowCSAT++
		}
	}
	if events != 1 || lowCSAT != 1 {
		t.Fatalf("after restart: %d copies of the event, active silences %+v; want the event once and its low-csat silence", events, v.Silences.Active)
	}
	resp, b := h2.signedWebhook(id, body)
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != http.StatusOK || got != (webhookCounts{Duplicates: 1}) {
		t.Fatalf("retry after restart: %d %s, want a duplicate", resp.StatusCode, b)
	}
}
