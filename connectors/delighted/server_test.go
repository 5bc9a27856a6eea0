package delighted

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// TestServerDocsExample posts the signed example of docs/connectors/delighted.md over HTTP
// through the real server, engine and a bbolt file: accepted once, a duplicate the second
// time, and refused (nothing stored) without a valid signature.
func TestServerDocsExample(t *testing.T) {
	const (
		secret = "my-delighted-secret"
		body   = `{"event_type":"survey_response.updated","event_id":"evt-demo-1","event_data":{"id":"5435","person":{"id":"5975","email":"ana@example.com","name":"Ana"},"survey_type":"nps","score":3,"comment":"Too slow","created_at":1763631000,"updated_at":1763631600}}`
	)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clock := func() time.Time { return now }
	engine, err := policy.New(context.Background(), store, policy.Config{DefaultRegion: "ES", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(gateway.SourceConfig{Name: "delighted", Kind: Kind, Secret: secret, Options: nil})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:   store,
		Engine:  engine,
		Sources: map[string]server.Source{"delighted": {Name: "delighted", Kind: Kind, Connector: src}},
		Now:     clock,
	}))
	t.Cleanup(srv.Close)

	post := func(sig string) (int, gateway.IngestResult) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/delighted", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(HeaderSignature, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res gateway.IngestResult
		_ = json.NewDecoder(resp.Body).Decode(&res)
		return resp.StatusCode, res
	}
	good := independentSign(secret, []byte(body))
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: status %d, want 401", code)
	}
	if code, _ := post(independentSign("wrong", []byte(body))); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: status %d, want 401", code)
	}
	if code, res := post(good); code != http.StatusOK || res.Accepted != 1 || res.Duplicates != 0 {
		t.Fatalf("first delivery: %d %+v", code, res)
	}
	if code, res := post(good); code != http.StatusOK || res.Accepted != 0 || res.Duplicates != 1 {
		t.Fatalf("redelivery: %d %+v", code, res)
	}
}
