package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// Options configures NewServer and NewEngine.
type Options struct {
	// Name is the source's name, as in /webhooks/<Name>; Kind its connector kind.
	Name, Kind string
	// Rules are compiled into the policy engine.
	Rules []gateway.RuleSpec
	// DefaultRegion reads national phone numbers, in the engine and in the server.
	DefaultRegion string
	// Now is the clock of the engine and the server.
	Now time.Time
	// Tokens are the API tokens the server accepts.
	Tokens []server.Token
}

// NewEngine opens a bbolt store in t.TempDir() and a policy engine on it with o's rules,
// region and clock; both are closed when the test ends.
func NewEngine(t testing.TB, o Options) (*bolt.Store, *policy.Engine) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cfg := policy.Config{DefaultRegion: o.DefaultRegion, Now: func() time.Time { return o.Now }}
	if len(o.Rules) > 0 {
		if cfg.Rules, err = policy.CompileRules(o.Rules); err != nil {
			t.Fatal(err)
		}
	}
	engine, err := policy.New(context.Background(), store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return store, engine
}

// Server is hush's real HTTP server around one source, on a real store and engine.
type Server struct {
	t      testing.TB
	URL    string
	Store  *bolt.Store
	Engine *policy.Engine
}

// NewServer starts server.NewServer with source as the only source (see Options); it stops
// when the test ends.
func NewServer(t testing.TB, source gateway.Connector, o Options) *Server {
	t.Helper()
	store, engine := NewEngine(t, o)
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:         store,
		Engine:        engine,
		Sources:       map[string]server.Source{o.Name: {Name: o.Name, Kind: o.Kind, Connector: source}},
		Tokens:        o.Tokens,
		DefaultRegion: o.DefaultRegion,
		Now:           func() time.Time { return o.Now },
	}))
	t.Cleanup(srv.Close)
	return &Server{t: t, URL: srv.URL, Store: store, Engine: engine}
}

// Post sends body to path with header (Content-Type defaults to application/json) and
// returns the status and the answer's body.
func (s *Server) Post(path string, header http.Header, body []byte) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// Deliver posts a webhook to /webhooks/<name> and decodes the answer as an IngestResult
// (zero when it is not one, as for a refused delivery).
func (s *Server) Deliver(name string, header http.Header, body []byte) (int, gateway.IngestResult) {
	s.t.Helper()
	code, b := s.Post("/webhooks/"+name, header, body)
	var res gateway.IngestResult
	_ = json.Unmarshal(b, &res)
	return code, res
}

// Decision is one answer of the decision API.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Rule    string `json:"rule"`
}

// Decisions posts req (marshalled unless it is a string or []byte) to /api/v1/decisions
// with the bearer token and returns the decisions of a 200 answer.
func (s *Server) Decisions(token string, req any) []Decision {
	s.t.Helper()
	var body []byte
	switch r := req.(type) {
	case string:
		body = []byte(r)
	case []byte:
		body = r
	default:
		var err error
		if body, err = json.Marshal(req); err != nil {
			s.t.Fatal(err)
		}
	}
	code, b := s.Post("/api/v1/decisions", http.Header{"Authorization": {"Bearer " + token}}, body)
	var out struct {
		Decisions []Decision `json:"decisions"`
	}
	if err := json.Unmarshal(b, &out); err != nil || code != http.StatusOK {
		s.t.Fatalf("decision answered %d %s (%v)", code, b, err)
	}
	return out.Decisions
}

// Decide is Decisions for a request about one recipient.
func (s *Server) Decide(token string, req any) Decision {
	s.t.Helper()
	d := s.Decisions(token, req)
	if len(d) != 1 {
		s.t.Fatalf("%d decisions for one recipient: %+v", len(d), d)
	}
	return d[0]
}

// Ingest parses a delivery with src (no verification: the caller tests that apart) and
// hands the events to engine, failing the test on any error.
func Ingest(t testing.TB, engine gateway.Engine, src gateway.Connector, req *gateway.WebhookRequest) gateway.IngestResult {
	t.Helper()
	res, err := src.Parse(req)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	out, err := engine.Ingest(context.Background(), res.Events, res.Ignored)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return out
}

// Incidents lists the incidents the store holds for one source's external incident id.
func Incidents(t testing.TB, store gateway.Store, source, externalID string) []gateway.Incident {
	t.Helper()
	var list []gateway.Incident
	err := store.View(context.Background(), func(tx gateway.Tx) error {
		var err error
		list, _, err = tx.Incidents(gateway.IncidentQuery{Source: source, ExternalID: externalID, Page: gateway.Page{Limit: 100}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}
