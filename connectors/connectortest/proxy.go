package connectortest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// Recorded is one request as it reached the stand-in vendor.
type Recorded struct {
	Method   string
	Path     string // as received, escaped ("/v3/mail/send")
	RawQuery string
	Header   http.Header
	Body     []byte // as received (still compressed when the caller compressed it)
}

// ProxyOptions configures NewProxy.
type ProxyOptions struct {
	// Name is the upstream's name (/proxy/<Name>/…); Kind its connector kind.
	Name, Kind string
	// Connector is the upstream under test.
	Connector gateway.Upstream
	// Category and Channel are the upstream's defaults (category: marketing when empty).
	Category gateway.Category
	Channel  gateway.Channel
	// Mode is server.ModeEnforce (default) or server.ModeShadow; OnAllDropped
	// server.AllDroppedSuccess (default) or server.AllDroppedError.
	Mode, OnAllDropped string
	// Respond is the stand-in vendor's answer to every request (its body already read into
	// Recorded); nil answers 200 with "{}".
	Respond func(w http.ResponseWriter, r *http.Request, rec Recorded)
	// DefaultRegion reads national phone numbers; Now is the clock (zero: time.Now).
	DefaultRegion string
	Now           time.Time
}

// Proxy is hush's real server (real bbolt store, real policy engine) with one upstream in
// front of a recording stand-in vendor: point a vendor SDK at Base.
type Proxy struct {
	t      testing.TB
	URL    string // hush
	Base   string // URL + "/proxy/" + name: the base URL a tool is configured with
	Store  *bolt.Store
	Engine gateway.Engine
	Vendor *httptest.Server

	region string
	mu     sync.Mutex
	reqs   []Recorded
}

// NewProxy starts the stand-in vendor and hush in front of it; both stop when the test ends.
func NewProxy(t testing.TB, o ProxyOptions) *Proxy {
	t.Helper()
	now := o.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	store, engine := NewEngine(t, Options{DefaultRegion: o.DefaultRegion, Now: now})
	p := &Proxy{t: t, Store: store, Engine: engine, region: o.DefaultRegion}
	p.Vendor = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := Recorded{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		p.mu.Lock()
		p.reqs = append(p.reqs, rec)
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if o.Respond != nil {
			o.Respond(w, r, rec)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(p.Vendor.Close)
	target, err := url.Parse(p.Vendor.URL)
	if err != nil {
		t.Fatal(err)
	}
	category := o.Category
	if category == "" {
		category = gateway.CategoryMarketing
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:  store,
		Engine: engine,
		Upstreams: map[string]server.Upstream{o.Name: {
			Name: o.Name, Kind: o.Kind, URL: target, Connector: o.Connector,
			Category: category, Channel: o.Channel, Mode: o.Mode, OnAllDropped: o.OnAllDropped,
		}},
		DefaultRegion: o.DefaultRegion,
		Now:           func() time.Time { return now },
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	p.Base = srv.URL + "/proxy/" + o.Name
	return p
}

// Silence silences an identity ("email:ana@example.com", "+34600111222", national numbers
// in the default region) for 30 days, for
// the default categories (marketing, sales, survey) on every channel.
func (p *Proxy) Silence(identity string) {
	p.t.Helper()
	id, err := gateway.ParseIdentity(identity, p.region)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.Engine.CreateSilence(context.Background(), gateway.SilenceInput{
		Identity: id, For: 30 * 24 * time.Hour, Reason: "test", CreatedBy: "test",
	}); err != nil {
		p.t.Fatal(err)
	}
}

// Requests are the requests that reached the stand-in vendor, in order.
func (p *Proxy) Requests() []Recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Recorded(nil), p.reqs...)
}

// Last is the only request that reached the vendor since the last Reset; the test fails
// when there is not exactly one.
func (p *Proxy) Last() Recorded {
	p.t.Helper()
	reqs := p.Requests()
	if len(reqs) != 1 {
		p.t.Fatalf("%d requests reached the vendor, want 1", len(reqs))
	}
	return reqs[0]
}

// Reset forgets the recorded requests.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.reqs = nil
	p.mu.Unlock()
}

// Decisions are the decisions recorded for an identity's customer, newest first (none when
// hush does not know the identity).
func (p *Proxy) Decisions(identity string) []gateway.Decision {
	p.t.Helper()
	id, err := gateway.ParseIdentity(identity, p.region)
	if err != nil {
		p.t.Fatal(err)
	}
	var out []gateway.Decision
	err = p.Store.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(id)
		if errors.Is(err, gateway.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, _, err = tx.Decisions(gateway.DecisionQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 1000}})
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}
