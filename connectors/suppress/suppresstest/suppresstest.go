// Package suppresstest has stand-ins for the vendors' suppression-list APIs (SendGrid
// unsubscribe groups, Postmark stream suppressions, Mailgun unsubscribes, Mandrill rejects):
// real HTTP servers (httptest) that keep the list in memory, answer in the vendor's
// documented shapes, check credentials, and can be told to fail their next calls (500, 429
// with Retry-After, or hang until the client gives up) so tests can prove that every change
// arrives exactly once in the end.
package suppresstest

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Standin is what every vendor stand-in offers tests.
type Standin interface {
	// URL is the base URL to configure as the upstream's url.
	URL() string
	// SeedOwn puts address on the list as the customer's own doing (an unsubscribe, a
	// reject with the vendor's reason for one), as if it were there before hush started.
	SeedOwn(address string)
	// Suppressed reports whether the vendor would now refuse a send to address in hush's
	// scope (the group, stream, tag or subaccount hush syncs), for any reason.
	Suppressed(address string) bool
	// HushListed reports whether the entry hush made for address is on the list.
	HushListed(address string) bool
	// Calls counts the calls of op ("contains", "add", "remove") about address that the
	// stand-in answered with a 2xx (failed calls, injected or not, are not counted).
	Calls(op, address string) int
	// Faults are the failures injected into the next calls.
	Faults() *Faults
}

// Fault is one injected failure.
type Fault int

const (
	// Fail500 answers 500 with a vendor-neutral error body.
	Fail500 Fault = iota + 1
	// Fail429 answers 429 with Retry-After: 1.
	Fail429
	// Hang holds the call until the client gives up (its timeout), then answers 503.
	Hang
	// Fail400 answers 400: a refusal that must not be retried.
	Fail400
)

// Faults is a queue of failures: each call takes the next one, until the queue is empty.
type Faults struct {
	mu    sync.Mutex
	queue []Fault
	hits  int
	// MaxHang bounds a Hang when the client never gives up (default 10s).
	MaxHang time.Duration
}

// Add appends failures for the next calls.
func (f *Faults) Add(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, faults...)
}

// Injected counts the failures served so far.
func (f *Faults) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// Pending counts the failures not yet served.
func (f *Faults) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

func (f *Faults) next() Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return 0
	}
	ft := f.queue[0]
	f.queue = f.queue[1:]
	f.hits++
	return ft
}

// Wrap serves the next injected failure, if any, instead of h.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f.next() {
		case Fail500:
			http.Error(w, `{"errors":[{"message":"injected failure"}]}`, http.StatusInternalServerError)
		case Fail429:
			w.Header().Set("Retry-After", strconv.Itoa(1))
			http.Error(w, `{"errors":[{"message":"too many requests"}]}`, http.StatusTooManyRequests)
		case Fail400:
			http.Error(w, `{"errors":[{"message":"injected refusal"}]}`, http.StatusBadRequest)
		case Hang:
			// The server notices a client that gave up only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			maxHang := f.MaxHang
			if maxHang <= 0 {
				maxHang = 10 * time.Second
			}
			select {
			case <-r.Context().Done():
			case <-time.After(maxHang):
			}
			http.Error(w, "hung", http.StatusServiceUnavailable)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// Counter counts 2xx calls per op and address; stand-ins embed it.
type Counter struct {
	mu    sync.Mutex
	calls map[[2]string]int
}

// Count records one answered call.
func (c *Counter) Count(op, address string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[[2]string]int{}
	}
	c.calls[[2]string{op, address}]++
}

// Calls reports the answered calls of op about address.
func (c *Counter) Calls(op, address string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[[2]string{op, address}]
}
