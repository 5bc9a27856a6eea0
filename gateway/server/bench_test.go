package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// BenchmarkWebhookIntake measures durable intake end to end over HTTP: a signed generic
// webhook verified, parsed, deduplicated, linked to its customer, run through a rule and
// committed with fsync before the 200. Senders run in parallel (b.SetParallelism) so that
// bbolt's group commit has company; ns/op is the inverse of throughput.
//
//	go test ./gateway/server -run '^$' -bench WebhookIntake -benchtime 3s
func BenchmarkWebhookIntake(b *testing.B) {
	store, err := bolt.Open(filepath.Join(b.TempDir(), "hush.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	rules, err := policy.CompileRules([]gateway.RuleSpec{lowCSAT})
	if err != nil {
		b.Fatal(err)
	}
	engine, err := policy.New(context.Background(), store, policy.Config{Rules: rules, DefaultRegion: "ES"})
	if err != nil {
		b.Fatal(err)
	}
	src, err := connectors.Source(gateway.SourceConfig{Name: "tool", Kind: generic.Kind, Secret: sourceKey})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger:  slog.New(slog.DiscardHandler),
		Store:   store,
		Engine:  engine,
		Sources: map[string]server.Source{"tool": {Name: "tool", Kind: generic.Kind, Connector: src}},
	}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256

	var seq atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			id := fmt.Sprintf("bench-%d", n)
			body := []byte(fmt.Sprintf(`{"id":%q,"type":"survey.response","customer":{"email":"c%d@example.com"},"csat":%d}`,
				id, n%5000, 1+n%5))
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/tool", bytes.NewReader(body))
			req.Header = signedHeaders(id, time.Now(), body)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
