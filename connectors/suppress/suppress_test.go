package suppress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestRefusal(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{http.StatusBadRequest, "", true, 0},
		{http.StatusUnauthorized, "", true, 0},
		{http.StatusForbidden, "", true, 0},
		{http.StatusNotFound, "", true, 0},
		{http.StatusUnprocessableEntity, "", true, 0},
		{http.StatusRequestTimeout, "", false, 0},
		{http.StatusTooManyRequests, "7", false, 7 * time.Second},
		{http.StatusTooManyRequests, "99999", false, time.Hour},
		{http.StatusTooManyRequests, "-3", false, 0},
		{http.StatusTooManyRequests, "soon", false, 0},
		{http.StatusInternalServerError, "", false, 0},
		{http.StatusServiceUnavailable, "2", false, 2 * time.Second},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.retryAfter != "" {
			h.Set("Retry-After", tt.retryAfter)
		}
		e := Refusal("add", tt.status, h, "")
		if e.Permanent != tt.permanent || e.RetryAfter != tt.wait || e.Status != tt.status || e.Op != "add" {
			t.Errorf("Refusal(%d, Retry-After %q) = %+v; want permanent %v, wait %v", tt.status, tt.retryAfter, e, tt.permanent, tt.wait)
		}
	}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	h := http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}
	if d := RetryAfter(h, now); d != 90*time.Second {
		t.Errorf("Retry-After as a date: %v", d)
	}
	if msg := Refusal("remove", 400, nil, strings.Repeat("x", 500)).Message; len(msg) > 210 {
		t.Errorf("a long vendor message is kept whole (%d bytes)", len(msg))
	}
}

func TestCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(`{"fine":true}`))
		case "/busy":
			w.Header().Set("Retry-After", "3")
			http.Error(w, `{"errors":[]}`, http.StatusTooManyRequests)
		default:
			http.Error(w, `{"errors":[]}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	call := func(path string) (int, []byte, error) {
		req, err := NewRequest(ctx, http.MethodPost, srv.URL+path, []byte(`{}`), "application/json")
		if err != nil {
			t.Fatal(err)
		}
		return Call(srv.Client(), req, "add")
	}
	if status, body, err := call("/ok"); err != nil || status != 200 || string(body) != `{"fine":true}` {
		t.Errorf("/ok: %d %s %v", status, body, err)
	}
	var se *gateway.SyncError
	if status, _, err := call("/busy"); status != 429 || !errors.As(err, &se) || se.Permanent || se.RetryAfter != 3*time.Second {
		t.Errorf("/busy: %d %v", status, err)
	}
	if status, body, err := call("/gone"); status != 404 || !errors.As(err, &se) || !se.Permanent || !strings.Contains(string(body), "errors") {
		t.Errorf("/gone: %d %s %v", status, body, err)
	}

	// No answer: a transport error that names neither the URL nor what it carries.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	req, err := NewRequest(ctx, http.MethodGet, dead.URL+"/v3/lists?key=secret-key", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Call(http.DefaultClient, req, "contains")
	var te *TransportError
	if !errors.As(err, &te) || strings.Contains(err.Error(), "secret-key") || strings.Contains(err.Error(), dead.URL) {
		t.Errorf("transport error = %v", err)
	}
	// A cancelled call reports the cancellation, not the vendor.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	req, _ = NewRequest(cctx, http.MethodGet, srv.URL+"/ok", nil, "")
	if _, _, err := Call(srv.Client(), req, "contains"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call = %v", err)
	}
}
