package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hush-gateway/hush/configs"
)

// benchHush is a hush wired in-process exactly as `hush serve` wires it (wire(): the real
// store with fsync, engine, connectors and handler), behind a real net/http server on
// loopback.
type benchHush struct {
	app     *app
	base    string
	tokens  benchTokens
	srv     *http.Server
	cancel  context.CancelFunc
	served  chan error
	workers chan struct{}
	// dropStorage removes the benchmark's database schema (a no-op on bbolt).
	dropStorage func()
}

// benchTokens are the admin API tokens of a benchmark hush, generated per run.
type benchTokens struct{ admin, decide string }

func newBenchTokens() benchTokens {
	return benchTokens{admin: randomHex(16), decide: randomHex(16)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchConfig is the embedded default config (its seed rules, caps, quiet hours and alert)
// with the benchmark's data directory, tokens, sources and upstreams on top.
func benchConfig(data string, tokens benchTokens, sources []configs.Source, upstreams []configs.Upstream) (*configs.Config, error) {
	cfg, err := configs.Default(func(string) string { return "" })
	if err != nil {
		return nil, fmt.Errorf("load the default config: %w", err)
	}
	cfg.Data = data
	cfg.Listen = "127.0.0.1:0"
	cfg.Admin.Tokens = []configs.Token{
		{Name: "bench-admin", Token: tokens.admin, Role: configs.RoleAdmin},
		{Name: "bench-decide", Token: tokens.decide, Role: configs.RoleDecide},
	}
	cfg.Sources = sources
	cfg.Upstreams = upstreams
	return cfg, nil
}

// useBenchStorage points cfg at a fresh schema of the PostgreSQL database dsn (when dsn is
// set); the returned function drops the schema.
func useBenchStorage(ctx context.Context, cfg *configs.Config, dsn string) (func(), error) {
	if dsn == "" {
		return func() {}, nil
	}
	schema := "hush_bench_" + randomHex(6)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to the benchmark database %s: %w", storageKind(dsn), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("create the benchmark schema: %w", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("read the benchmark database's address: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg.Storage = u.String()
	return func() {
		ctx := context.WithoutCancel(ctx)
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = c.Close(ctx)
		}
	}, nil
}

// startBenchHush wires hush from cfg and serves it on a loopback port with the same server
// settings as `hush serve`. Logs are formatted as serve formats them, then discarded, so
// that their cost is counted without a terminal in the way. A storageDSN (postgres://…)
// puts it on a fresh schema of that database, dropped by stop.
func startBenchHush(ctx context.Context, cfg *configs.Config, tokens benchTokens, storageDSN string) (_ *benchHush, err error) {
	dropStorage, err := useBenchStorage(ctx, cfg, storageDSN)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			dropStorage()
		}
	}()
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e := env{getenv: func(string) string { return "" }, stdin: bytes.NewReader(nil), stdout: io.Discard, stderr: io.Discard, now: time.Now}
	a, err := wire(ctx, cfg, e, log)
	if err != nil {
		return nil, fmt.Errorf("wire hush: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		a.store.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := newHTTPServer(a.handler, cfg, log)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &benchHush{
		app: a, base: "http://" + displayAddr(ln.Addr()), tokens: tokens, srv: srv,
		cancel: cancel, served: make(chan error, 1), workers: make(chan struct{}), dropStorage: dropStorage,
	}
	// The alert worker runs as in serve: intake's alerts are delivered (kind log) while the
	// load runs, as they would be in production.
	go func() {
		defer close(h.workers)
		_ = a.worker.Run(wctx)
	}()
	go func() { h.served <- srv.Serve(ln) }()
	return h, nil
}

// stop drains the server, stops the worker and closes the store.
func (h *benchHush) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := h.srv.Shutdown(ctx)
	if serr := <-h.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	h.cancel()
	<-h.workers
	err = errors.Join(err, h.app.store.Close())
	h.dropStorage()
	return err
}

// serveHandler serves h on a loopback port with serve's settings, for the baselines.
func serveHandler(h http.Handler) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// doRequest sends req and reads the whole answer; a status other than want is an error.
func doRequest(client *http.Client, req *http.Request, want int) (*http.Response, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != want {
		return nil, nil, fmt.Errorf("%s %s: status %d, want %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, want, body)
	}
	return resp, body, nil
}
