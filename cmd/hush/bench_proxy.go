package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
)

// The proxied send: a SendGrid v3 mail send with 50 personalizations of one recipient each.
// Every tenth recipient is in the quiet domain and is silenced before the load starts, so
// 10 % of each send is dropped by hush; the stand-in upstream counts both domains to prove it.
const (
	sendRecipients = 50
	sendPath       = "/v3/mail/send"
	loudDomain     = "@loud.bench.example"
	quietDomain    = "@quiet.bench.example"
)

func sendRecipient(i int) string {
	if i%10 == 0 {
		return fmt.Sprintf("rcpt%02d%s", i, quietDomain)
	}
	return fmt.Sprintf("rcpt%02d%s", i, loudDomain)
}

func sendGridBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"from":{"email":"news@shop.example","name":"Shop"},"subject":"Ofertas de invierno","personalizations":[`)
	for i := range sendRecipients {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"to":[{"email":%q,"name":"Cliente %d"}],"dynamic_template_data":{"first_name":"Cliente","discount":%d}}`, sendRecipient(i), i, 10+i)
	}
	b.WriteString(`],"template_id":"d-f43daeeaef504760851f727007e0b5d0","categories":["winter-sale"],"asm":{"group_id":4242},"tracking_settings":{"click_tracking":{"enable":true}}}`)
	return b.Bytes()
}

// upstreamCounts is what the stand-in SendGrid received on one path.
type upstreamCounts struct {
	Sends       int64 `json:"sends"`
	Recipients  int64 `json:"recipients"`   // recipients not silenced
	QuietPassed int64 `json:"quiet_passed"` // silenced recipients that reached the upstream
}

// benchPathHeader names the path a request took (hush, bare, direct), so that the stand-in
// counts each path apart even while a cut-off request of another path is still arriving.
const benchPathHeader = "X-Bench-Path"

// standInSendGrid answers every mail send 202 at once, as SendGrid does, after reading the
// body and counting its recipients by domain.
type standInSendGrid struct {
	mu    sync.Mutex
	paths map[string]*upstreamCounts
}

func (s *standInSendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if r.URL.Path == sendPath {
		loud, quiet := bytes.Count(body, []byte(loudDomain)), bytes.Count(body, []byte(quietDomain))
		s.mu.Lock()
		c := s.paths[r.Header.Get(benchPathHeader)]
		if c == nil {
			c = &upstreamCounts{}
			s.paths[r.Header.Get(benchPathHeader)] = c
		}
		c.Sends++
		c.Recipients += int64(loud)
		c.QuietPassed += int64(quiet)
		s.mu.Unlock()
	}
	w.Header().Set("X-Message-Id", "bench")
	w.WriteHeader(http.StatusAccepted)
}

func (s *standInSendGrid) counts(path string) upstreamCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.paths[path]; c != nil {
		return *c
	}
	return upstreamCounts{}
}

// proxyResult is scenario 1.
type proxyResult struct {
	Clients int `json:"clients"`
	Rounds  int `json:"rounds"`
	// Closed loop, the three paths interleaved.
	Hush         loadResult `json:"hush"`
	Bare         loadResult `json:"bare_reverse_proxy"`
	Direct       loadResult `json:"direct"`
	HushVsBare   float64    `json:"hush_vs_bare"`
	HushVsDirect float64    `json:"hush_vs_direct"`
	// Open loop at a fixed rate, hush and the bare proxy interleaved.
	OpenHush loadResult    `json:"open_loop_hush"`
	OpenBare loadResult    `json:"open_loop_bare"`
	AddedP99 time.Duration `json:"added_p99_ns"`
	// What the upstream received over the whole scenario, per path.
	Upstream map[string]upstreamCounts `json:"upstream"`
}

func runProxyScenario(ctx context.Context, o benchOptions, progress io.Writer) (*proxyResult, error) {
	upstream := &standInSendGrid{paths: map[string]*upstreamCounts{}}
	upBase, stopUp, err := serveHandler(upstream)
	if err != nil {
		return nil, err
	}
	defer stopUp()
	target, err := url.Parse(upBase)
	if err != nil {
		return nil, fmt.Errorf("parse upstream address: %w", err)
	}

	// The baseline: httputil.ReverseProxy on the same tuned transport, no parsing, no policy.
	bare := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = "" },
		Transport: benchTransport(o.Clients),
		// Requests cut off at the end of a slice are not worth a line each.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	bareBase, stopBare, err := serveHandler(http.StripPrefix("/proxy/sendgrid", bare))
	if err != nil {
		return nil, err
	}
	defer stopBare()

	data, err := os.MkdirTemp(o.TempDir, "hush-bench-proxy-")
	if err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	defer os.RemoveAll(data)
	tokens := newBenchTokens()
	cfg, err := benchConfig(filepath.Join(data, "data"), tokens, nil, []configs.Upstream{{
		Name: "sendgrid", Kind: "sendgrid", URL: upBase,
		Category: gateway.CategoryMarketing, Channel: gateway.ChannelEmail,
		Mode: configs.ModeEnforce, OnAllDropped: configs.AllDroppedSuccess,
	}})
	if err != nil {
		return nil, err
	}
	h, err := startBenchHush(ctx, cfg, tokens, "")
	if err != nil {
		return nil, err
	}
	defer h.stop()

	client := &http.Client{Transport: benchTransport(o.Clients), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for i := 0; i < sendRecipients; i += 10 {
		if err := createSilence(ctx, client, h, "email:"+sendRecipient(i)); err != nil {
			return nil, err
		}
	}

	body := sendGridBody()
	send := func(path, base string) requestFunc {
		return func(ctx context.Context, _ int, _ int64) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+sendPath, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer SG.bench-key")
			req.Header.Set(benchPathHeader, path)
			resp, _, err := doRequest(client, req, http.StatusAccepted)
			if err != nil {
				return err
			}
			if path == "hush" {
				if got := resp.Header.Get("Hush-Dropped"); got != "5" {
					return fmt.Errorf("hush answered with Hush-Dropped %q, want 5", got)
				}
			}
			return nil
		}
	}
	hushSend := send("hush", h.base+"/proxy/sendgrid")
	bareSend := send("bare", bareBase+"/proxy/sendgrid")
	directSend := send("direct", upBase)

	r := &proxyResult{Clients: o.Clients, Rounds: o.Rounds}
	// A short warm-up of each path fills the connection pools and bbolt's pages.
	for _, f := range []requestFunc{hushSend, bareSend, directSend} {
		runClosed(ctx, warmUp(o.Duration), o.Clients, f)
	}

	fmt.Fprintf(progress, "proxy: closed loop, %d clients, %s per path in %d rounds\n", o.Clients, o.Duration, o.Rounds)
	res := interleave(ctx, o.Duration, o.Rounds,
		closedLoop(o.Clients, hushSend), closedLoop(o.Clients, bareSend), closedLoop(o.Clients, directSend))
	r.Hush, r.Bare, r.Direct = res[0], res[1], res[2]
	r.HushVsBare = ratio(r.Hush.PerSecond, r.Bare.PerSecond)
	r.HushVsDirect = ratio(r.Hush.PerSecond, r.Direct.PerSecond)

	fmt.Fprintf(progress, "proxy: open loop at %.0f req/s, %s per path in %d rounds\n", o.Rate, o.Duration, o.Rounds)
	res = interleave(ctx, o.Duration, o.Rounds, openLoop(o.Rate, hushSend), openLoop(o.Rate, bareSend))
	r.OpenHush, r.OpenBare = res[0], res[1]
	r.AddedP99 = r.OpenHush.P99 - r.OpenBare.P99

	if o.CPUProfile != "" {
		// Profiled apart from the measured phases, so that profiling costs them nothing.
		fmt.Fprintf(progress, "proxy: CPU profile of hush, closed loop, %s\n", o.Duration)
		if err := profiled(o.CPUProfile, "proxy", func() { runClosed(ctx, o.Duration, o.Clients, hushSend) }); err != nil {
			return nil, err
		}
	}
	// Requests cut off at the end of a slice may still be on their way: wait for the
	// upstream to be quiet before reading its counts.
	stopUp()
	r.Upstream = map[string]upstreamCounts{}
	for _, p := range []string{"hush", "bare", "direct"} {
		r.Upstream[p] = upstream.counts(p)
	}
	return r, nil
}

// warmUp is how long a path is exercised before it is measured.
func warmUp(d time.Duration) time.Duration { return min(d/10, time.Second) }

// createSilence silences identity for a day through the admin API.
func createSilence(ctx context.Context, client *http.Client, h *benchHush, identity string) error {
	body := fmt.Sprintf(`{"identity":%q,"for":"1d","reason":"bench"}`, identity)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/api/v1/silences", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.tokens.admin)
	req.Header.Set("Content-Type", "application/json")
	if _, _, err := doRequest(client, req, http.StatusCreated); err != nil {
		return fmt.Errorf("create a silence: %w", err)
	}
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
