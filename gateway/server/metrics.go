package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the server's Prometheus collectors. They live in the registry the caller
// gives, never in the global default one, so that several servers (tests) do not collide.
type Metrics struct {
	reg             prometheus.Registerer
	httpRequests    *prometheus.CounterVec
	webhooks        *prometheus.CounterVec
	intakeSeconds   *prometheus.HistogramVec
	decisions       *prometheus.CounterVec
	proxyRequests   *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hush_http_requests_total",
			Help: "HTTP requests answered, by route template and status code.",
		}, []string{"route", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hush_webhooks_total",
			Help: "Webhook deliveries, by source and outcome (accepted, duplicate, unauthorized, invalid, too_large, unavailable…).",
		}, []string{"source", "outcome"}),
		intakeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hush_intake_duration_seconds",
			Help:    "Time from receiving a webhook to its durable commit, by source.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"source"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hush_decisions_total",
			Help: "Decisions made, by reason (allowed for allowed), channel and upstream (api for the decision API).",
		}, []string{"reason", "channel", "upstream"}),
		proxyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hush_proxy_requests_total",
			Help: "Proxied requests, by upstream and the status answered to the caller.",
		}, []string{"upstream", "status"}),
		upstreamSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hush_upstream_duration_seconds",
			Help:    "Time an upstream took to answer headers, by upstream.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"upstream"}),
	}
	reg.MustRegister(m.httpRequests, m.webhooks, m.intakeSeconds, m.decisions, m.proxyRequests, m.upstreamSeconds)
	return m
}

// snapshotSizer is implemented by engines that can tell how many records their in-memory
// snapshot holds; the gauge is registered only for those.
type snapshotSizer interface {
	SnapshotSize() int
}

// registerSnapshotGauge exports the engine's snapshot size when it can tell it.
// Registering twice (two servers sharing one Metrics) is harmless: the second is refused.
func (m *Metrics) registerSnapshotGauge(engine any) {
	sizer, ok := engine.(snapshotSizer)
	if !ok || m.reg == nil {
		return
	}
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hush_snapshot_records",
		Help: "Active silences, opt-outs and incidents held in the in-memory decision snapshot.",
	}, func() float64 { return float64(sizer.SnapshotSize()) }))
}

// feedWatcher is implemented by engines that follow a store shared by several processes.
type feedWatcher interface {
	FeedStatus() (lastOK time.Time, failing, shared bool)
}

// registerFeedGauges exports whether the snapshot keeps up with other replicas' commits:
// when the shared store does not answer, decisions still come from the snapshot, which may
// be behind, and these say so.
func (m *Metrics) registerFeedGauges(engine any) {
	w, ok := engine.(feedWatcher)
	if !ok || m.reg == nil {
		return
	}
	if _, _, shared := w.FeedStatus(); !shared {
		return
	}
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hush_snapshot_feed_failing",
		Help: "1 while the shared store's change feed cannot be read: decisions are answered from the snapshot as it was, possibly missing other replicas' latest silences.",
	}, func() float64 {
		if _, failing, _ := w.FeedStatus(); failing {
			return 1
		}
		return 0
	}))
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hush_snapshot_feed_last_success_timestamp_seconds",
		Help: "When the snapshot last read other replicas' commits from the shared store (Unix seconds).",
	}, func() float64 {
		last, _, _ := w.FeedStatus()
		return float64(last.UnixNano()) / 1e9
	}))
}

// decisionLogWatcher is implemented by engines that write their decision log in batches.
type decisionLogWatcher interface {
	DecisionLogStats() (queued int, failedCommits uint64)
}

// registerDecisionLogGauges exports the batched decision log's backlog and failed commits,
// for engines that have one.
func (m *Metrics) registerDecisionLogGauges(engine any) {
	w, ok := engine.(decisionLogWatcher)
	if !ok || m.reg == nil {
		return
	}
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hush_decision_log_queued",
		Help: "Sends whose decisions are queued for the batched decision log and not yet committed (bounded; senders wait when it is full).",
	}, func() float64 { q, _ := w.DecisionLogStats(); return float64(q) }))
	_ = m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "hush_decision_log_failed_commits_total",
		Help: "Commits of the batched decision log that failed and were retried (storage trouble).",
	}, func() float64 { _, f := w.DecisionLogStats(); return float64(f) }))
}

// registerWriteGauge exports whether storage's last write failed (full or read-only disk):
// webhooks are answered 503 meanwhile. Refused on a second server sharing the registry.
func (m *Metrics) registerWriteGauge(writes *writeHealth) {
	if m.reg == nil {
		return
	}
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hush_storage_write_failing",
		Help: "1 while storage's last write failed (webhooks are answered 503), else 0.",
	}, func() float64 {
		if !writes.lastFailure().IsZero() {
			return 1
		}
		return 0
	}))
}
