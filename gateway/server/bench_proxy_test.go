package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// sendgrid50 is a SendGrid v3 mail send with 50 personalizations of one recipient each, the
// shape a marketing tool uses for a personalized batch.
func sendgrid50() []byte {
	var b bytes.Buffer
	b.WriteString(`{"from":{"email":"news@shop.example","name":"Shop"},"subject":"Ofertas de invierno","personalizations":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"to":[{"email":"cliente%02d@example.com","name":"Cliente %d"}],"dynamic_template_data":{"first_name":"Cliente","discount":%d}}`, i, i, 10+i)
	}
	b.WriteString(`],"template_id":"d-f43daeeaef504760851f727007e0b5d0","categories":["winter-sale"],"asm":{"group_id":4242},"tracking_settings":{"click_tracking":{"enable":true}}}`)
	return b.Bytes()
}

// benchTransport is tuned like hush's own upstream transport, so that the bare proxy is a
// fair baseline.
func benchTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1000,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
	}
}

// BenchmarkProxySendGrid50 compares a 50-recipient SendGrid send through hush's proxy (5 of
// the recipients silenced, so the body is parsed, 50 decisions are made and recorded in
// bbolt with fsync, and the body is rewritten) with the same request through a bare
// httputil.ReverseProxy on the same kind of transport, in the same run. The vendor is a local
// httptest server answering 202 at once, so the figures are hush's own cost.
//
//	go test ./gateway/server -run '^$' -bench ProxySendGrid50 -benchtime 2s
func BenchmarkProxySendGrid50(b *testing.B) {
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Message-Id", "bench")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer vendor.Close()
	target, err := url.Parse(vendor.URL)
	if err != nil {
		b.Fatal(err)
	}
	body := sendgrid50()

	bare := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = "" },
		Transport: benchTransport(),
	}
	bareSrv := httptest.NewServer(http.StripPrefix("/proxy/sendgrid", bare))
	defer bareSrv.Close()

	hushSrv := benchHush(b, target, bolt.Options{}, true)
	hushEach := benchHush(b, target, bolt.Options{}, false)
	hushNoSync := benchHush(b, target, bolt.Options{NoSync: true}, false)

	for _, bm := range []struct {
		name    string
		url     string
		dropped string
	}{
		{"bare-reverse-proxy", bareSrv.URL, ""},
		// As `hush serve` runs: no cap covers the send, so its decisions are written in
		// batches after the answer.
		{"hush", hushSrv.URL, "5"},
		// Every send's decisions committed (fsync) before it is forwarded, as a capped send is.
		{"hush-commit-each", hushEach.URL, "5"},
		// The same without fsync: what hush costs in CPU, apart from the disk.
		{"hush-nosync", hushNoSync.URL, "5"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			client := &http.Client{Transport: benchTransport()}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, bm.url+"/proxy/sendgrid/v3/mail/send", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer SG.bench")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Hush-Dropped") != bm.dropped {
						b.Errorf("answer %d, Hush-Dropped %q", resp.StatusCode, resp.Header.Get("Hush-Dropped"))
						return
					}
				}
			})
		})
	}
}

// benchHush is hush's server in front of target with the SendGrid connector, on a bbolt
// store opened with opts, five of sendgrid50's recipients silenced; batched writes the
// decision log in batches (policy.Config.BatchDecisionLog).
func benchHush(b *testing.B, target *url.URL, opts bolt.Options, batched bool) *httptest.Server {
	b.Helper()
	store, err := bolt.Open(filepath.Join(b.TempDir(), "hush.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	engine, err := policy.New(context.Background(), store, policy.Config{DefaultRegion: "ES", BatchDecisionLog: batched})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = engine.Close(context.Background()) })
	for i := 0; i < 50; i += 10 {
		id := gateway.Identity(fmt.Sprintf("email:cliente%02d@example.com", i))
		if _, err := engine.CreateSilence(context.Background(), gateway.SilenceInput{Identity: id, For: 24 * time.Hour, CreatedBy: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	cfg := benchSendGridConfig()
	up, err := connectors.Upstream(cfg)
	if err != nil {
		b.Fatal(err)
	}
	hushSrv := httptest.NewServer(server.NewServer(server.Deps{
		Logger: slog.New(slog.DiscardHandler),
		Store:  store,
		Engine: engine,
		Upstreams: map[string]server.Upstream{"sendgrid": {
			Name: "sendgrid", Kind: cfg.Kind, URL: target, Connector: up,
			Category: gateway.CategoryMarketing, Channel: gateway.ChannelEmail,
		}},
		Transport: benchTransport(),
	}))
	b.Cleanup(hushSrv.Close)
	return hushSrv
}

// benchSendGridConfig configures the upstream under test: hush's SendGrid connector.
func benchSendGridConfig() gateway.UpstreamConfig {
	return gateway.UpstreamConfig{Name: "sendgrid", Kind: "sendgrid"}
}
