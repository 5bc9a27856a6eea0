package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestShutdownDrainsInFlightRequests: SIGTERM (here: cancelling run's context) stops hush
// from accepting connections but lets a request already in flight finish — a proxied call
// the upstream is still answering gets its answer — and only then does run return.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, `{"stats":"slow but here"}`)
	}))
	defer upstream.Close()

	h := startHush(t, newTestClock(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)), hushOptions{
		config: "testdata/proxy.yaml",
		env:    map[string]string{"MAILER_URL": upstream.URL},
	})

	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := http.Get(h.base + "/proxy/mailer/v3/stats")
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{status: resp.StatusCode, body: string(b), err: err}
	}()
	<-arrived

	// Shutdown begins while the request is still held by the upstream.
	stopped := h.beginShutdown(t)

	close(release)
	a := <-answers
	if a.err != nil || a.status != http.StatusOK || a.body != `{"stats":"slow but here"}` {
		t.Fatalf("in-flight request: status %d, body %q, err %v; want the upstream's answer", a.status, a.body, a.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v after draining, want nil", err)
	}
}

// beginShutdown starts stopping hush (as SIGTERM does) and returns once it no longer accepts
// connections, checking that run has not returned: something is still in flight. The channel
// receives run's result.
func (h *hushProcess) beginShutdown(t *testing.T) <-chan error {
	t.Helper()
	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	addr := strings.TrimPrefix(h.base, "http://")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("hush still accepts connections 10 s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) while a request was still in flight", err)
	default:
	}
	return stopped
}
