package server_test

import (
	"bytes"
	"context"
	"fmt"
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

// BenchmarkDecisionsAPI100 measures POST /api/v1/decisions over HTTP with batches of 100
// e-mail recipients (a tenth of them silenced) from parallel clients with a decide token, on
// a bbolt store with fsync: "recorded" is the API's default (every decision written to the
// audit log), "dry" is "record": false (answered from the snapshot). One op is one batch:
// recipients per second are 100 × 1e9 / ns/op.
//
//	go test ./gateway/server -run '^$' -bench DecisionsAPI100 -benchtime 3s -count 3
func BenchmarkDecisionsAPI100(b *testing.B) {
	store, err := bolt.Open(filepath.Join(b.TempDir(), "hush.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	engine, err := policy.New(context.Background(), store, policy.Config{DefaultRegion: "ES"})
	if err != nil {
		b.Fatal(err)
	}
	const pool = 1000
	recipient := func(i int) string { return fmt.Sprintf("customer%04d@decide.example", i) }
	for i := 0; i < pool; i += 10 {
		in := gateway.SilenceInput{Identity: gateway.Identity("email:" + recipient(i)), For: 24 * time.Hour, CreatedBy: "bench"}
		if _, err := engine.CreateSilence(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{
		Logger: slog.New(slog.DiscardHandler),
		Store:  store,
		Engine: engine,
		Tokens: []server.Token{{Name: "decide", Token: decideToken, Role: server.RoleDecide}},
	}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256

	bodies := func(record bool) [][]byte {
		var out [][]byte
		for off := 0; off < pool; off += 100 {
			var buf bytes.Buffer
			fmt.Fprintf(&buf, `{"channel":"email","category":"marketing","record":%t,"recipients":[`, record)
			for k := range 100 {
				if k > 0 {
					buf.WriteByte(',')
				}
				fmt.Fprintf(&buf, `{"email":%q}`, recipient(off+k))
			}
			buf.WriteString("]}")
			out = append(out, buf.Bytes())
		}
		return out
	}
	for _, bc := range []struct {
		name   string
		record bool
	}{{"recorded", true}, {"dry", false}} {
		b.Run(bc.name, func(b *testing.B) {
			batches := bodies(bc.record)
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/decisions", bytes.NewReader(batches[i%len(batches)]))
					req.Header.Set("Authorization", "Bearer "+decideToken)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					answer, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || bytes.Count(answer, []byte(`"reason":"silenced"`)) != 10 {
						b.Errorf("status %d, %d silenced: want 200 and 10 silenced", resp.StatusCode, bytes.Count(answer, []byte(`"reason":"silenced"`)))
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "recipients/s")
		})
	}
}
