package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// testStart is the clock of every test: 10:00 UTC on a weekday.
var testStart = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const (
	adminToken  = "admin-token-0123456789"
	viewerToken = "viewer-token-0123456789"
	decideToken = "decide-token-0123456789"
	sourceKey   = "generic-test-secret"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// harness is a server on a real bbolt file with the real policy engine and generic source,
// in front of a recording stand-in upstream.
type harness struct {
	t        *testing.T
	clock    *clock
	store    *bolt.Store
	engine   *policy.Engine
	srv      *httptest.Server
	upstream *recordingUpstream
	registry *prometheus.Registry
	handler  http.Handler  // what srv serves, for tests that need to call it synchronously
	logs     *lockedBuffer // the server's JSON logs
}

// lockedBuffer is a log sink safe for the server's concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harnessOptions struct {
	caps       []gateway.CapSpec
	quietHours []gateway.QuietHoursSpec
	upstreams  []server.Upstream // URL nil: the recording upstream
	bodyLimit  int64
	// The store: a bbolt file at dbPath ("": in t.TempDir()), with fsync or not, reached
	// through wrap (nil: directly).
	dbPath string
	fsync  bool
	wrap   func(*bolt.Store) gateway.Store
}

var lowCSAT = gateway.RuleSpec{
	Name:    "low-csat",
	When:    `event.type == "survey.response" && has(event.csat) && event.csat <= 2`,
	Silence: &gateway.SilenceSpec{For: gateway.Duration(15 * 24 * time.Hour)},
}

func newHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: testStart}, upstream: newRecordingUpstream(t)}
	dbPath := opts.dbPath
	if dbPath == "" {
		dbPath = filepath.Join(t.TempDir(), "hush.db")
	}
	real, err := bolt.Open(dbPath, bolt.Options{NoSync: !opts.fsync})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { _ = real.Close() })
	h.store = real
	var store gateway.Store = real
	if opts.wrap != nil {
		store = opts.wrap(real)
	}
	rules, err := policy.CompileRules([]gateway.RuleSpec{lowCSAT})
	if err != nil {
		t.Fatalf("compiling rules: %v", err)
	}
	h.engine, err = policy.New(context.Background(), store, policy.Config{
		Rules:         rules,
		Caps:          opts.caps,
		QuietHours:    opts.quietHours,
		DefaultRegion: "ES",
		Now:           h.clock.Now,
		ScratchStore: func(dir string) (gateway.Store, error) {
			return bolt.Open(filepath.Join(dir, "simulate.db"), bolt.Options{NoSync: true, MaxBatchSize: 1})
		},
	})
	if err != nil {
		t.Fatalf("starting engine: %v", err)
	}
	src, err := connectors.Source(gateway.SourceConfig{Name: "tool", Kind: generic.Kind, Secret: sourceKey, DefaultRegion: "ES"})
	if err != nil {
		t.Fatalf("generic source: %v", err)
	}
	upstreams := map[string]server.Upstream{}
	for _, u := range opts.upstreams {
		if u.URL == nil {
			u.URL = mustURL(t, h.upstream.srv.URL+"/base")
		}
		upstreams[u.Name] = u
	}
	h.registry = prometheus.NewRegistry()
	h.logs = &lockedBuffer{}
	h.handler = server.NewServer(server.Deps{
		Logger:    slog.New(slog.NewJSONHandler(h.logs, nil)),
		Store:     store,
		Engine:    h.engine,
		Sources:   map[string]server.Source{"tool": {Name: "tool", Kind: generic.Kind, Connector: src}},
		Upstreams: upstreams,
		Tokens: []server.Token{
			{Name: "ops", Token: adminToken, Role: server.RoleAdmin},
			{Name: "lead", Token: viewerToken, Role: server.RoleViewer},
			{Name: "crm", Token: decideToken, Role: server.RoleDecide},
		},
		Limits:        server.Limits{Body: opts.bodyLimit},
		DefaultRegion: "ES",
		Metrics:       server.NewMetrics(h.registry),
		Gatherer:      h.registry,
		Now:           h.clock.Now,
	})
	h.srv = httptest.NewServer(h.handler)
	t.Cleanup(h.srv.Close)
	return h
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer is not JSON (%v): %s", err, r.body)
	}
}

// errorCode checks the DESIGN error shape and returns its code.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &body)
	if body.Error == nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("answer is not the error shape: %s", r.body)
	}
	return body.Error.Code
}

func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	var body struct {
		Error struct{ Message string } `json:"error"`
	}
	r.json(t, &body)
	return body.Error.Message
}

// do sends a request to the server. A non-nil body that is not []byte or string is JSON.
func (h *harness) do(method, path, token string, body any, header ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// webhook posts a delivery to the generic source, signed at signedAt with key.
func (h *harness) webhook(id string, body []byte, signedAt time.Time, key string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhooks/tool", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header = signedHeadersWith(key, id, signedAt, body)
	return h.send(req)
}

// signedHeaders are the Standard Webhooks headers of a delivery signed with sourceKey.
func signedHeaders(id string, signedAt time.Time, body []byte) http.Header {
	return signedHeadersWith(sourceKey, id, signedAt, body)
}

func signedHeadersWith(key, id string, signedAt time.Time, body []byte) http.Header {
	h := http.Header{}
	h.Set(generic.HeaderID, id)
	h.Set(generic.HeaderTimestamp, fmt.Sprint(signedAt.Unix()))
	h.Set(generic.HeaderSignature, generic.Sign([]byte(key), id, signedAt, body))
	h.Set("Content-Type", "application/json")
	return h
}

func surveyEvent(id, email string, csat int) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"type":"survey.response","at":%q,"customer":{"email":%q},"csat":%d,"text":"slow answer"}`,
		id, testStart.Add(-time.Hour).Format(time.RFC3339), email, csat))
}

// counts is what the store holds, to check that refused requests stored nothing.
type counts struct {
	customers, silences, optouts, incidents, deadletters, decisions int
}

func (h *harness) counts() counts {
	h.t.Helper()
	var c counts
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		var ids []string
		if err := tx.ForEachCustomer(func(cu *gateway.Customer) error {
			ids = append(ids, cu.ID)
			return nil
		}); err != nil {
			return err
		}
		c.customers = len(ids)
		for _, id := range ids {
			d, _, err := tx.Decisions(gateway.DecisionQuery{CustomerID: id, Page: gateway.Page{Limit: 1000}})
			if err != nil {
				return err
			}
			c.decisions += len(d)
		}
		s, _, err := tx.Silences(gateway.SilenceQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		o, _, err := tx.OptOuts(gateway.OptOutQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		i, _, err := tx.Incidents(gateway.IncidentQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		dl, _, err := tx.DeadLetters(gateway.Page{Limit: 1000})
		if err != nil {
			return err
		}
		c.silences, c.optouts, c.incidents, c.deadletters = len(s), len(o), len(i), len(dl)
		return nil
	})
	if err != nil {
		h.t.Fatalf("reading the store: %v", err)
	}
	return c
}

func (h *harness) customerEvents(id gateway.Identity) []gateway.Event {
	h.t.Helper()
	var events []gateway.Event
	err := h.store.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(id)
		if errors.Is(err, gateway.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		events, _, err = tx.Events(gateway.EventQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 1000}})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return events
}

// silence creates a silence through the admin API.
func (h *harness) silence(identity string) gateway.Silence {
	h.t.Helper()
	res := h.do(http.MethodPost, "/api/v1/silences", adminToken, map[string]any{"identity": identity, "for": "15d", "reason": "test"})
	if res.status != http.StatusCreated {
		h.t.Fatalf("creating a silence: %d %s", res.status, res.body)
	}
	var s gateway.Silence
	res.json(h.t, &s)
	return s
}

// recordingUpstream is a stand-in vendor API that records every request it receives.
type recordingUpstream struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []recorded
	status int
}

type recorded struct {
	method, path, rawPath, query, host string
	header                             http.Header
	contentLength                      int64 // as the request declared it; -1 when chunked
	body                               []byte
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	u := &recordingUpstream{status: http.StatusAccepted}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, recorded{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(), query: r.URL.RawQuery, host: r.Host, header: r.Header.Clone(), contentLength: r.ContentLength, body: b})
		status := u.status
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Hush-Allowed", "999") // must not reach the caller
		w.Header().Set("X-Vendor", "yes")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"queued":true}`)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *recordingUpstream) requests() []recorded {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]recorded(nil), u.got...)
}

func (u *recordingUpstream) setStatus(s int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status = s
}
