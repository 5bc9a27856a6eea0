package delivery

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts what the worker does, for /metrics. A nil *Metrics counts nothing.
type Metrics struct {
	outcomes   *prometheus.CounterVec
	reconciled *prometheus.CounterVec
}

// NewMetrics creates the worker's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hush_outbox_attempts_total",
			Help: "Outbox messages tried, by kind (alert, follow_up, silence_ended, sync), target (alert or upstream name) and outcome (delivered, failed: tried again later, dead: given up).",
		}, []string{"kind", "target", "outcome"}),
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hush_suppression_reconcile_jobs_total",
			Help: "Sync jobs queued by the full reconcile of a suppression list, by upstream: differences the per-change jobs had not (yet) carried.",
		}, []string{"upstream"}),
	}
	reg.MustRegister(m.outcomes, m.reconciled)
	return m
}

func (m *Metrics) outcome(msg *outboxRef, o outcome) {
	if m == nil {
		return
	}
	var label string
	switch o {
	case delivered:
		label = "delivered"
	case failed:
		label = "failed"
	case dead:
		label = "dead"
	default:
		return
	}
	m.outcomes.WithLabelValues(msg.kind, msg.target, label).Inc()
}

func (m *Metrics) reconcileJobs(upstream string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.reconciled.WithLabelValues(upstream).Add(float64(n))
}

// outboxRef is what a metric says about a message.
type outboxRef struct{ kind, target string }
