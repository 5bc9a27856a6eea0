package suppresstest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/suppress"
	"github.com/hush-gateway/hush/gateway"
)

// Op is one of a suppression list's three calls, named as its SyncError's Op, its
// TransportError's Op and Standin.Calls count it.
type Op struct {
	Name string
	Run  func(ctx context.Context, l gateway.SuppressionList, c gateway.Doer, address string) error
}

// Ops returns the three calls in the order contains, add, remove (a new slice each time, so
// a test may reorder or filter it).
func Ops() []Op {
	return []Op{
		{"contains", func(ctx context.Context, l gateway.SuppressionList, c gateway.Doer, address string) error {
			_, err := l.Contains(ctx, c, address)
			return err
		}},
		{"add", func(ctx context.Context, l gateway.SuppressionList, c gateway.Doer, address string) error {
			return l.Add(ctx, c, address)
		}},
		{"remove", func(ctx context.Context, l gateway.SuppressionList, c gateway.Doer, address string) error {
			return l.Remove(ctx, c, address)
		}},
	}
}

// SyncError returns err as the vendor's refusal, failing t now when it is not one.
func SyncError(t testing.TB, err error) *gateway.SyncError {
	t.Helper()
	var se *gateway.SyncError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *gateway.SyncError", err, err)
	}
	return se
}

// TransportError returns err as a call that got no answer, failing t now when err is nil, a
// vendor's refusal (*gateway.SyncError), or anything else.
func TransportError(t testing.TB, err error) *suppress.TransportError {
	t.Helper()
	var se *gateway.SyncError
	var te *suppress.TransportError
	if err == nil || errors.As(err, &se) || !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want a *suppress.TransportError", err, err)
	}
	return te
}

// ShortClient is the client the delivery worker would pass, with a timeout short enough
// that a Hang ends within the test.
func ShortClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout}
}

// server is what every stand-in is served by: a real HTTP server whose calls meet the fault
// queue first. Stand-ins embed it for its URL and Faults methods.
type server struct {
	srv    *httptest.Server
	faults *Faults
}

// URL is the base URL to configure as the upstream's url.
func (s *server) URL() string { return s.srv.URL }

// Faults are the failures injected into the next calls.
func (s *server) Faults() *Faults { return s.faults }

// newServer serves h behind a new fault queue on a server that t's cleanup closes.
func newServer(t testing.TB, h http.Handler) server {
	f := &Faults{}
	return start(t, f, f.Wrap(h))
}

// newServerReadingBody is newServer for a stand-in whose calls carry a body: the body is read
// whole before a fault is served (refuse answers a body that cannot be read, in the vendor's
// shape). A server notices a client that gave up, and so ends an injected Hang at the
// client's timeout rather than Faults.MaxHang, only once the body is read.
func newServerReadingBody(t testing.TB, h http.Handler, refuse func(http.ResponseWriter)) server {
	f := &Faults{}
	return start(t, f, readBodyFirst(f.Wrap(h), refuse))
}

func start(t testing.TB, f *Faults, h http.Handler) server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return server{srv: srv, faults: f}
}

// readBodyFirst reads the request body (up to 1 MiB) before h runs, answering with refuse
// when it cannot.
func readBodyFirst(h http.Handler, refuse func(http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			refuse(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}
