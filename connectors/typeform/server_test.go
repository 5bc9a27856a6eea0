package typeform

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

// TestServerDocsExample posts the signed example of docs/connectors/typeform.md over HTTP
// through the real server, engine and a bbolt file: accepted once, a duplicate the second
// time, and refused (nothing stored) without a valid signature.
func TestServerDocsExample(t *testing.T) {
	const (
		secret = "my-typeform-secret"
		body   = `{"event_id":"01HDEMO","event_type":"form_response","form_response":{"form_id":"lT4Z3j","token":"tok1","submitted_at":"2026-11-20T09:30:00Z","hidden":{"email":"ana@example.com"},"definition":{"id":"lT4Z3j","title":"Support","fields":[{"id":"q1","ref":"support_rating","type":"rating","title":"How did we do?"}]},"answers":[{"type":"number","number":1,"field":{"id":"q1","type":"rating","ref":"support_rating"}}]}}`
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
	src, err := NewSource(gateway.SourceConfig{Name: "typeform-support", Kind: Kind, Secret: secret, Options: map[string]any{"csat_ref": "support_rating", "comment_ref": "why", "id_kind": "crm"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:   store,
		Engine:  engine,
		Sources: map[string]server.Source{"typeform-support": {Name: "typeform-support", Kind: Kind, Connector: src}},
		Now:     clock,
	}))
	t.Cleanup(srv.Close)

	post := func(sig string) (int, gateway.IngestResult) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/typeform-support", strings.NewReader(body))
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
