package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/gateway"
	alertdelivery "github.com/hush-gateway/hush/gateway/delivery"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/sentiment"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage"
	"github.com/hush-gateway/hush/storage/bolt"
)

// serveFlags are the command-line settings of `hush serve`; each falls back to its HUSH_*
// variable, then to the config file.
type serveFlags struct {
	config, listen, data string
}

func parseServeFlags(name string, args []string, e env) (serveFlags, []string, error) {
	var f serveFlags
	fs := flag.NewFlagSet("hush "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&f.config, "config", e.getenv("HUSH_CONFIG"), "config file (default: the embedded default config)")
	fs.StringVar(&f.listen, "listen", e.getenv("HUSH_LISTEN"), "address to listen on (default from config, \":8080\")")
	fs.StringVar(&f.data, "data", e.getenv("HUSH_DATA"), "data directory (default from config, \"data\")")
	if err := fs.Parse(args); err != nil {
		return f, nil, usageError(err.Error())
	}
	return f, fs.Args(), nil
}

// loadConfig reads the config file, or the embedded default when there is none, and applies
// the flags on top.
func loadConfig(f serveFlags, e env) (*configs.Config, error) {
	var (
		cfg *configs.Config
		err error
	)
	if f.config == "" {
		cfg, err = configs.Default(e.getenv)
	} else {
		var data []byte
		data, err = os.ReadFile(f.config)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		cfg, err = configs.Parse(data, f.config, e.getenv)
	}
	if err != nil {
		return nil, err
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.data != "" {
		cfg.Data = f.data
	}
	if cfg.Data == "" {
		cfg.Data = "data"
	}
	if cfg.Listen == "" {
		cfg.Listen = ":8080"
	}
	return cfg, nil
}

func newLogger(e env) *slog.Logger {
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(e.getenv("HUSH_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(e.getenv("HUSH_LOG_FORMAT"), "json") {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// app is a wired hush: the store, the engine and the HTTP handler.
type app struct {
	cfg     *configs.Config
	store   gateway.Store
	engine  *policy.Engine
	handler http.Handler
	worker  *alertdelivery.Worker
	log     *slog.Logger
}

// wire builds every part from the config. It owns the store it opens: on error it closes it.
func wire(ctx context.Context, cfg *configs.Config, e env, log *slog.Logger) (_ *app, err error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	analyzer, scorer, err := buildSentiment(cfg, log)
	if err != nil {
		return nil, err
	}
	rules, err := policy.CompileRules(cfg.Rules, policy.WithTextAnalyzer(analyzer))
	if err != nil {
		return nil, fmt.Errorf("compile rules: %w", err)
	}
	sources, err := buildSources(cfg, log)
	if err != nil {
		return nil, err
	}
	upstreams, err := buildUpstreams(cfg)
	if err != nil {
		return nil, err
	}
	senders, err := buildAlerts(cfg)
	if err != nil {
		return nil, err
	}
	lists, err := buildSyncLists(cfg)
	if err != nil {
		return nil, err
	}
	tokens, err := adminTokens(cfg, e, log)
	if err != nil {
		return nil, err
	}
	pause, err := pauseLinks(cfg, log)
	if err != nil {
		return nil, err
	}

	store, err := storage.Open(ctx, cfg.Storage, cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	engine, err := policy.New(ctx, store, policy.Config{
		ScratchStore:  scratchStore,
		Rules:         rules,
		Caps:          cfg.Caps,
		QuietHours:    cfg.QuietHours,
		Timezone:      cfg.Timezone,
		DefaultRegion: cfg.DefaultRegion,
		Costs:         cfg.Costs,
		Sentiment:     scorer,
		SyncUpstreams: slices.Sorted(maps.Keys(lists)),
		// Sends no cap covers are forwarded without waiting for their audit records'
		// fsync; the records follow in batches (docs/performance.md).
		BatchDecisionLog: true,
		Now:              e.now,
		Logger:           log,
	})
	if err != nil {
		return nil, fmt.Errorf("start engine: %w", err)
	}

	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: %w", cfg.Timezone, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := server.NewServer(server.Deps{
		Store:         store,
		Engine:        engine,
		Sources:       sources,
		Upstreams:     upstreams,
		Tokens:        tokens,
		Limits:        server.Limits{Body: cfg.Limits.Body, RequestTimeout: cfg.Limits.RequestTimeout.D()},
		DefaultRegion: cfg.DefaultRegion,
		Location:      loc,
		Language:      cfg.Language,
		Rules:         cfg.Rules,
		Caps:          cfg.Caps,
		QuietHours:    cfg.QuietHours,
		ParseRules:    func(b []byte) ([]gateway.RuleSpec, error) { return configs.ParseRules(b, "rules") },
		Logger:        log,
		Metrics:       server.NewMetrics(reg),
		Gatherer:      reg,
		Now:           e.now,
		Pause:         pause,
	})
	worker, err := alertdelivery.New(alertdelivery.Config{
		Store: store, Senders: senders, Lists: lists, PublicURL: cfg.PublicURL, Language: cfg.Language,
		Metrics: alertdelivery.NewMetrics(reg),
		Now:     e.now, Logger: log.With("component", "delivery"),
	})
	if err != nil {
		return nil, fmt.Errorf("start alert delivery: %w", err)
	}
	return &app{cfg: cfg, store: store, engine: engine, handler: handler, worker: worker, log: log}, nil
}

// buildAlerts builds every configured alert destination's sender (nil for kind log, which
// only records), reporting refusals at the alert's line in the config file.
func buildAlerts(cfg *configs.Config) (map[string]gateway.AlertSender, error) {
	out := make(map[string]gateway.AlertSender)
	var errs configs.Errors
	for i, a := range cfg.Alerts {
		s, err := connectors.Alert(gateway.AlertConfig{Name: a.Name, Kind: a.Kind, URL: a.URL, Options: a.Options})
		if err != nil {
			errs.Issues = append(errs.Issues, cfg.IssueAt(fmt.Sprintf("alerts[%d]", i), err.Error()))
			continue
		}
		out[a.Name] = s
	}
	if len(errs.Issues) > 0 {
		return nil, &errs
	}
	return out, nil
}

// buildSyncLists builds the suppression-list client of every upstream with sync: true,
// reporting refusals at the upstream's line in the config file.
func buildSyncLists(cfg *configs.Config) (map[string]alertdelivery.SyncTarget, error) {
	out := make(map[string]alertdelivery.SyncTarget)
	var errs configs.Errors
	for i, uc := range cfg.UpstreamConfigs() {
		if !uc.Sync {
			continue
		}
		l, err := connectors.SuppressionList(uc)
		if err != nil {
			errs.Issues = append(errs.Issues, cfg.IssueAt(fmt.Sprintf("upstreams[%d]", i), err.Error()))
			continue
		}
		out[uc.Name] = alertdelivery.SyncTarget{List: l, Category: uc.Category}
	}
	if len(errs.Issues) > 0 {
		return nil, &errs
	}
	return out, nil
}

// buildSources builds every configured source's connector. Connectors check their own
// options; what they refuse is reported at the source's line in the config file.
func buildSources(cfg *configs.Config, log *slog.Logger) (map[string]server.Source, error) {
	out := make(map[string]server.Source)
	var errs configs.Errors
	for i, sc := range cfg.SourceConfigs() {
		c, err := connectors.Source(sc)
		if err != nil {
			errs.Issues = append(errs.Issues, cfg.IssueAt(fmt.Sprintf("sources[%d]", i), err.Error()))
			continue
		}
		if sc.Insecure {
			log.Warn("source accepts unsigned deliveries (insecure: true)", "source", sc.Name, "kind", sc.Kind)
		}
		out[sc.Name] = server.Source{Name: sc.Name, Kind: sc.Kind, Connector: c}
	}
	if len(errs.Issues) > 0 {
		return nil, &errs
	}
	return out, nil
}

// buildUpstreams builds every configured upstream's connector, reporting refusals at the
// upstream's line in the config file.
func buildUpstreams(cfg *configs.Config) (map[string]server.Upstream, error) {
	out := make(map[string]server.Upstream)
	var errs configs.Errors
	for i, uc := range cfg.UpstreamConfigs() {
		conf := cfg.Upstreams[i]
		c, err := connectors.Upstream(uc)
		if err == nil && conf.Name != uc.Name {
			err = fmt.Errorf("internal: upstream order changed while converting the config")
		}
		var u *url.URL
		if err == nil {
			u, err = url.Parse(uc.URL)
		}
		if err != nil {
			errs.Issues = append(errs.Issues, cfg.IssueAt(fmt.Sprintf("upstreams[%d]", i), err.Error()))
			continue
		}
		out[uc.Name] = server.Upstream{
			Name: uc.Name, Kind: uc.Kind, URL: u, Connector: c,
			Category: uc.Category, Channel: uc.Channel,
			Mode: conf.Mode, OnAllDropped: conf.OnAllDropped, Timeout: conf.Timeout.D(),
		}
	}
	if len(errs.Issues) > 0 {
		return nil, &errs
	}
	return out, nil
}

// adminTokens returns the configured tokens; with none configured, HUSH_ADMIN_TOKEN, or else
// a token generated once into <data>/admin-token (mode 0600) whose path — never its value —
// is logged.
func adminTokens(cfg *configs.Config, e env, log *slog.Logger) ([]server.Token, error) {
	var out []server.Token
	for _, t := range cfg.Admin.Tokens {
		if t.Token == "" {
			log.Warn("admin token is empty and is ignored", "token", t.Name)
			continue
		}
		out = append(out, server.Token{Name: t.Name, Token: t.Token, Role: t.Role})
	}
	if len(cfg.Admin.Tokens) > 0 {
		return out, nil
	}
	if tok := e.getenv("HUSH_ADMIN_TOKEN"); tok != "" {
		return []server.Token{{Name: "admin", Token: tok, Role: "admin"}}, nil
	}
	path := filepath.Join(cfg.Data, "admin-token")
	tok, err := readOrCreateToken(path)
	if err != nil {
		return nil, err
	}
	log.Info("admin token file (send it as Authorization: Bearer <token>)", "path", path)
	return []server.Token{{Name: "admin", Token: tok, Role: "admin"}}, nil
}

func readOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate admin token: %w", err)
	}
	tok := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	return tok, nil
}

// drainTimeout bounds how long SIGTERM waits for in-flight requests.
const drainTimeout = 30 * time.Second

func serve(ctx context.Context, args []string, e env) error {
	f, rest, err := parseServeFlags("serve", args, e)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fmt.Sprintf("serve takes no arguments, got %q", rest))
	}
	log := newLogger(e)
	cfg, err := loadConfig(f, e)
	if err != nil {
		return err
	}
	a, err := wire(ctx, cfg, e, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	// Runs before the store closes (defers run last in, first out): the queued decision log
	// is written first, for at most drainTimeout (a store that cannot write would keep it
	// retrying). A no-op after the explicit close below.
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		defer cancel()
		_ = a.engine.Close(closeCtx)
	}()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := newHTTPServer(a.handler, cfg, log)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	if e.httpServer != nil {
		e.httpServer(srv)
	}
	base := "http://" + displayAddr(ln.Addr())
	log.Info("hush listening", "url", base, "version", buildVersion(), "storage", storageKind(cfg.Storage), "data", cfg.Data)
	fmt.Fprintf(e.stdout, "hush listening on %s\n", base)
	if e.ready != nil {
		e.ready(base)
	}

	// The janitor, the alert worker and the snapshot's follower of other replicas' commits
	// (a shared store only) run until shutdown, and stop before the store closes.
	janitorDone := make(chan struct{})
	janitorCtx, stopJanitor := context.WithCancel(ctx)
	go func() {
		defer close(janitorDone)
		runJanitor(janitorCtx, a.store, cfg.Retention, e.now, log)
	}()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		if err := a.worker.Run(janitorCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("alert delivery stopped", "err", err)
		}
	}()

	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		_ = a.engine.Follow(janitorCtx) // returns at once for a store only this process uses
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopJanitor()
		<-janitorDone
		<-workerDone
		<-followDone
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", drainTimeout.String())
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(drainCtx)
	stopJanitor()
	<-janitorDone
	<-workerDone
	<-followDone
	if err := a.engine.Close(drainCtx); err != nil {
		log.Error("decision log not fully written", "err", err)
	}
	if err := a.store.Close(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("drain: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// storageKind names the back end without the DSN, which can carry a password.
func storageKind(dsn string) string {
	scheme, _, _ := strings.Cut(dsn, ":")
	return scheme
}

// janitorInterval is how often retention runs.
const janitorInterval = time.Hour

// runJanitor prunes events, decisions and dedupe keys past their retention, once at start
// and then every janitorInterval.
func runJanitor(ctx context.Context, store gateway.Store, r configs.Retention, now func() time.Time, log *slog.Logger) {
	prune := func() {
		t := now()
		cut := func(d gateway.Duration) time.Time {
			if d <= 0 {
				return time.Time{}
			}
			return t.Add(-d.D())
		}
		var n int
		err := store.Update(ctx, func(tx gateway.Tx) error {
			var err error
			n, err = tx.Prune(cut(r.Events), cut(r.Decisions), cut(r.Dedupe))
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("retention janitor", "err", err)
			}
			return
		}
		if n > 0 {
			log.Info("retention janitor pruned records", "records", n)
		}
	}
	prune()
	tick := time.NewTicker(janitorInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			prune()
		}
	}
}

// buildSentiment builds the built-in English/Spanish scorer (for intake and the rules'
// sentiment() and cues()) and the scorer intake uses: the built-in one, or the configured
// external service falling back to it.
func buildSentiment(cfg *configs.Config, log *slog.Logger) (*sentiment.Analyzer, gateway.SentimentScorer, error) {
	analyzer, err := sentiment.New(sentiment.Options{Competitors: cfg.Sentiment.Competitors, DefaultLanguage: cfg.Sentiment.Language})
	if err != nil {
		return nil, nil, fmt.Errorf("build the sentiment scorer: %w", err)
	}
	if cfg.Sentiment.URL == "" {
		return analyzer, analyzer, nil
	}
	header := http.Header{}
	for k, v := range cfg.Sentiment.Headers {
		header.Set(k, v)
	}
	ext, err := sentiment.NewExternal(sentiment.ExternalOptions{
		URL: cfg.Sentiment.URL, Header: header, Timeout: cfg.Sentiment.Timeout.D(),
		Fallback: analyzer, Logger: log.With("component", "sentiment"),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("build the external sentiment scorer: %w", err)
	}
	return analyzer, ext, nil
}

// scratchStore opens a simulation's scratch bbolt file (policy.Config.ScratchStore): no fsync,
// since it is thrown away, and one transaction at a time, since the replay writes one after
// the other and bbolt's batch delay would only add latency.
func scratchStore(dir string) (gateway.Store, error) {
	return bolt.Open(filepath.Join(dir, "simulate.db"), bolt.Options{NoSync: true, MaxBatchSize: 1})
}

// newHTTPServer is the HTTP server hush serves with (the benchmark's hush uses it too, so
// it measures these limits). Every limit is explicit: the zero values mean "no limit", and
// a client that sends its headers or body a byte at a time (slowloris) would hold a
// connection forever.
func newHTTPServer(h http.Handler, cfg *configs.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.Limits.RequestTimeout.D() + 10*time.Second,
		WriteTimeout:      cfg.Limits.RequestTimeout.D() + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
