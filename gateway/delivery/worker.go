// Package delivery sends the alerts rules queue in the outbox (hush issue #6, "Closed loop").
//
// The outbox is the durable state. Every pass reads the due pending messages, asks the
// alert's gateway.AlertSender for the HTTP request, sends it with a few quick in-process
// retries (go-retryablehttp), and records the outcome in one store Update:
//
//   - 2xx: delivered (DeliveredAt).
//   - 429, 5xx, network errors and timeouts: Attempts+1, LastError, and NextAttempt on a
//     persisted schedule (exponential backoff with full jitter from 1 s, capped at 10 min,
//     or the destination's Retry-After, capped at 1 h), so a restart resumes the schedule.
//   - any other 4xx, a sender that cannot build the request, an alert name with no sender,
//     or a message older than MaxAge: dead (DeadAt, DeadReason); an operator may replay it.
//
// Age: a message still waiting when MaxAge after CreatedAt has passed dies without another
// attempt. One made due after that point on purpose (an operator's retry through the admin
// API sets NextAttempt to now) gets one attempt; if that fails too, it is dead again.
//
// Delivery is at least once, not exactly once: the message is marked delivered in the
// store right after the destination's 2xx, and if the process dies (or the commit fails)
// between the two, the next pass sends it again. Senders put the outbox ID in an
// idempotency header (Idempotency-Key, or Standard Webhooks' webhook-id) so that a
// destination that deduplicates shows it once; one that does not (a Slack incoming webhook)
// may show it twice in that narrow window.
//
// Several replicas sharing one store (PostgreSQL) claim each message before its attempt, so
// that only one of them sends it (claim.go).
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hush-gateway/hush/gateway"
)

// Defaults of Config.
const (
	DefaultLanguage     = "es"
	DefaultMaxAge       = 24 * time.Hour
	DefaultRate         = 1.0 // attempts per second per alert
	DefaultBurst        = 10
	DefaultSyncRate     = 20.0 // sync jobs per second per upstream (each makes 1–3 calls)
	DefaultSyncBurst    = 100
	DefaultPollInterval = time.Second
	DefaultBatchSize    = 500
	DefaultRetryMax     = 2
	DefaultRetryWaitMin = 200 * time.Millisecond
	DefaultRetryWaitMax = 2 * time.Second

	// The persisted schedule: 1 s · 2^attempts with full jitter, capped; a destination's
	// Retry-After is honoured up to maxRetryAfter.
	backoffBase   = time.Second
	backoffCap    = 10 * time.Minute
	maxRetryAfter = time.Hour
)

// Config configures a Worker. Store is required; the rest have defaults.
type Config struct {
	Store gateway.Store
	// Senders by alert name (the `alerts:` list). A message for a name with no entry dies;
	// a nil sender records only (alert kind log): its messages are marked delivered.
	Senders map[string]gateway.AlertSender
	// Lists are the suppression lists of the upstreams with `sync: true`, by upstream name:
	// the worker runs their sync jobs (gateway.OutboxSync) and reconciles them in full.
	Lists map[string]SyncTarget
	// ReconcileInterval is how often Run reconciles every list in full (default 1h); the
	// first reconcile runs when Run starts.
	ReconcileInterval time.Duration
	// PublicURL is the console's base URL ("https://hush.example.com"). The alert links to
	// PublicURL + "/console/customers/" + the path-escaped first identity of the customer (the
	// console and the API address customers by identity), or the customer ID when it has
	// none. "" leaves AlertMessage.ConsoleURL empty.
	PublicURL string
	// Language of the alert text: es (default) or en.
	Language string
	// MaxAge is how long a message is tried before it dies (default 24h).
	MaxAge time.Duration
	// Rate and Burst limit attempts per alert name: a token bucket refilled at Rate per
	// second holding at most Burst (defaults 1/s and 10). A message over its alert's rate
	// waits for a later pass; it is not a failed attempt.
	Rate  float64
	Burst int
	// SyncRate and SyncBurst are the same for each synced upstream's sync jobs (defaults
	// 20/s and 100): a vendor's API takes many more calls than a team's Slack channel, and
	// the first reconcile of a list may queue one job per silenced customer.
	SyncRate  float64
	SyncBurst int
	// ClaimLease is how long a replica's claim on a message holds when the store is shared
	// by several replicas (claim.go); default DefaultClaimLease.
	ClaimLease time.Duration
	// PollInterval is how often Run looks for due messages (default 1s); Wake runs early.
	PollInterval time.Duration
	// BatchSize bounds the messages one pass reads (default 500); the rest wait a pass.
	BatchSize int
	// In-process retries of one attempt (go-retryablehttp): RetryMax extra tries (default
	// 2; negative: none), waiting RetryWaitMin doubling up to RetryWaitMax (200ms, 2s).
	// A Retry-After longer than RetryWaitMax is left to the persisted schedule.
	RetryMax     int
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per outcome: IDs, alert names, statuses. Never URLs (they
	// may hold tokens), bodies or personal data. Default: discard.
	Logger *slog.Logger
	// HTTPClient replaces the tuned client under the retries (tests: a short timeout).
	HTTPClient *http.Client
	// Metrics counts outcomes for /metrics (nil: none).
	Metrics *Metrics
}

// Worker delivers due outbox alerts. It is safe for concurrent use; passes never overlap.
type Worker struct {
	cfg    Config
	client *retryablehttp.Client
	limits *limiter
	syncs  *limiter // per synced upstream
	wake   chan struct{}
	pass   sync.Mutex
	// jitter picks the wait in [0, d] for the persisted schedule.
	jitter func(d time.Duration) time.Duration
}

// New returns a Worker for cfg with the defaults filled in.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("delivery worker: no store")
	}
	switch cfg.Language {
	case "":
		cfg.Language = DefaultLanguage
	case "es", "en":
	default:
		return nil, fmt.Errorf("delivery worker: language %q: want es or en", cfg.Language)
	}
	cfg.MaxAge = positiveOr(cfg.MaxAge, DefaultMaxAge)
	cfg.Rate = positiveOr(cfg.Rate, DefaultRate)
	cfg.Burst = positiveOr(cfg.Burst, DefaultBurst)
	cfg.SyncRate = positiveOr(cfg.SyncRate, DefaultSyncRate)
	cfg.SyncBurst = positiveOr(cfg.SyncBurst, DefaultSyncBurst)
	cfg.PollInterval = positiveOr(cfg.PollInterval, DefaultPollInterval)
	cfg.ReconcileInterval = positiveOr(cfg.ReconcileInterval, DefaultReconcileInterval)
	cfg.BatchSize = positiveOr(cfg.BatchSize, DefaultBatchSize)
	switch {
	case cfg.RetryMax == 0:
		cfg.RetryMax = DefaultRetryMax
	case cfg.RetryMax < 0:
		cfg.RetryMax = 0
	}
	cfg.RetryWaitMin = positiveOr(cfg.RetryWaitMin, DefaultRetryWaitMin)
	cfg.RetryWaitMax = positiveOr(cfg.RetryWaitMax, DefaultRetryWaitMax)
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = cfg.RetryWaitMin
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient()
	}
	cfg.ClaimLease = positiveOr(cfg.ClaimLease, DefaultClaimLease)
	w := &Worker{
		cfg:    cfg,
		limits: newLimiter(cfg.Rate, cfg.Burst),
		syncs:  newLimiter(cfg.SyncRate, cfg.SyncBurst),
		wake:   make(chan struct{}, 1),
		jitter: fullJitter,
	}
	w.client = &retryablehttp.Client{
		HTTPClient:   cfg.HTTPClient,
		Logger:       nil, // the worker logs outcomes itself, without URLs
		RetryMax:     cfg.RetryMax,
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		CheckRetry:   w.checkRetry,
		Backoff:      retryablehttp.DefaultBackoff,
		// Hand back the last response (or error) as it is: the worker classifies it.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return w, nil
}

// positiveOr is v, or def when v is zero or negative (an unset Config field).
func positiveOr[T int | float64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// NewHTTPClient returns the client alerts are sent with: its own transport with bounded
// dial, TLS and response-header times, and 15 s for a whole attempt.
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: t, Timeout: 15 * time.Second}
}

// Wake asks Run for a pass now (after an alert was queued). It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers due messages every PollInterval, and on Wake, until ctx is done. A failed
// pass is logged and the next one tries again.
func (w *Worker) Run(ctx context.Context) error {
	tick := time.NewTicker(w.cfg.PollInterval)
	defer tick.Stop()
	if len(w.cfg.Lists) > 0 {
		go w.reconcileEvery(ctx)
	}
	for {
		if _, _, _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Error("outbox delivery pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-w.wake:
		}
	}
}

// reconcileEvery reconciles every synced list now and then every ReconcileInterval, until
// ctx is done. A failed reconcile is logged; the next one tries again.
func (w *Worker) reconcileEvery(ctx context.Context) {
	tick := time.NewTicker(w.cfg.ReconcileInterval)
	defer tick.Stop()
	for {
		if _, err := w.Reconcile(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Error("suppression reconcile failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// outcome of one message in a pass.
type outcome int

const (
	skipped   outcome = iota // not tried: over its alert's rate, not an alert, or no longer pending
	delivered                // 2xx, recorded
	failed                   // retryable failure, rescheduled
	dead                     // given up, recorded
)

// DeliverDue makes one pass over the pending messages due now: each is tried once,
// independently. Messages of one alert go in order, one at a time; alerts go in parallel.
// After a failed attempt, an alert's remaining messages wait for the next pass, so a
// destination that is down costs one attempt (not one per message) per pass. err joins the
// store errors met; the messages they hit stay pending and are tried again.
func (w *Worker) DeliverDue(ctx context.Context) (nDelivered, nFailed, nDead int, err error) {
	w.pass.Lock()
	defer w.pass.Unlock()

	due, err := w.due(ctx, w.cfg.Now())
	if err != nil {
		return 0, 0, 0, err
	}
	byAlert := map[string][]gateway.OutboxMessage{}
	var order []string
	for _, m := range due {
		if _, ok := byAlert[m.Target]; !ok {
			order = append(order, m.Target)
		}
		byAlert[m.Target] = append(byAlert[m.Target], m)
	}

	var (
		counts [4]atomic.Int64
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	for _, name := range order {
		wg.Go(func() {
			for i := range byAlert[name] {
				if ctx.Err() != nil {
					return
				}
				o, err := w.deliver(ctx, &byAlert[name][i])
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					return
				}
				counts[o].Add(1)
				w.cfg.Metrics.outcome(&outboxRef{kind: byAlert[name][i].Kind, target: name}, o)
				if o == failed {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return int(counts[delivered].Load()), int(counts[failed].Load()), int(counts[dead].Load()), errors.Join(errs...)
}

// due lists up to BatchSize pending messages with NextAttempt <= now, oldest first.
func (w *Worker) due(ctx context.Context, now time.Time) ([]gateway.OutboxMessage, error) {
	var out []gateway.OutboxMessage
	err := w.cfg.Store.View(ctx, func(tx gateway.Tx) error {
		out = out[:0]
		q := gateway.OutboxQuery{State: gateway.OutboxPending, DueBy: now}
		for {
			q.Limit = min(w.cfg.BatchSize-len(out), 1000)
			page, next, err := tx.Outbox(q)
			if err != nil {
				return err
			}
			out = append(out, page...)
			if next == "" || len(out) >= w.cfg.BatchSize {
				return nil
			}
			q.Cursor = next
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list due outbox messages: %w", err)
	}
	return out, nil
}
