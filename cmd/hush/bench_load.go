package main

import (
	"context"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one load phase measured. Latencies are kept whole (a few hundred thousand
// at most for a 10-second phase) so that percentiles are exact, not bucketed.
type loadResult struct {
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	FirstErr  string        `json:"first_error,omitempty"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"per_second"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`

	// Open loop only.
	Rate      float64 `json:"target_rate,omitempty"`
	Scheduled int     `json:"scheduled,omitempty"`
	Late      int     `json:"late,omitempty"`    // requests started more than lateAfter after their slot
	Skipped   int     `json:"skipped,omitempty"` // slots not started: maxInFlight requests were outstanding
	Sustained *bool   `json:"sustained,omitempty"`
}

// requestFunc sends one request; worker numbers the client (closed loop) and seq counts
// requests across the phase, so that bodies can be made unique.
type requestFunc func(ctx context.Context, worker int, seq int64) error

// recorder collects what the slices of one phase measured, from many goroutines.
type recorder struct {
	mu      sync.Mutex
	d       []time.Duration
	errs    int
	first   string
	elapsed time.Duration
	seq     atomic.Int64

	rate                     float64
	scheduled, late, skipped int
	span                     time.Duration // open loop: the scheduled time, without the drain
}

func (l *recorder) add(d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs++
		if l.first == "" {
			l.first = err.Error()
		}
		return
	}
	l.d = append(l.d, d)
}

func (l *recorder) result() loadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.d)
	r := loadResult{Requests: len(l.d), Errors: l.errs, FirstErr: l.first, Elapsed: l.elapsed}
	if l.elapsed > 0 {
		r.PerSecond = float64(len(l.d)) / l.elapsed.Seconds()
	}
	r.P50, r.P99 = percentile(l.d, 0.50), percentile(l.d, 0.99)
	if n := len(l.d); n > 0 {
		r.Max = l.d[n-1]
	}
	if l.rate > 0 {
		r.Rate, r.Scheduled, r.Late, r.Skipped = l.rate, l.scheduled, l.late, l.skipped
		// The achieved rate counts answered requests over the scheduled span, not the drain.
		if l.span > 0 {
			r.PerSecond = float64(len(l.d)) / l.span.Seconds()
		}
		sustained := l.skipped == 0 && l.errs == 0 && r.PerSecond >= 0.95*l.rate &&
			float64(l.late) <= 0.01*float64(l.scheduled)
		r.Sustained = &sustained
	}
	return r
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// slice is one stretch of load on one path, recorded into rec.
type slice func(ctx context.Context, dur time.Duration, rec *recorder)

// interleave runs each path's slices in turn, rounds times, dur/rounds each: a comparison
// whose paths alternate every few seconds is not skewed by a change in the machine's
// background load the way back-to-back phases are.
func interleave(ctx context.Context, dur time.Duration, rounds int, paths ...slice) []loadResult {
	recs := make([]*recorder, len(paths))
	for i := range recs {
		recs[i] = &recorder{}
	}
	rounds = max(1, rounds)
	for range rounds {
		for i, p := range paths {
			if ctx.Err() != nil {
				break
			}
			p(ctx, dur/time.Duration(rounds), recs[i])
		}
	}
	out := make([]loadResult, len(recs))
	for i, r := range recs {
		out[i] = r.result()
	}
	return out
}

// closedLoop is a slice of clients goroutines that each send the next request as soon as the
// previous one is answered: the most the server can take at that concurrency. At the end of
// the slice no new request starts and those in flight are waited for and counted (cutting
// them off would throw away work the server did, and more of it the slower the path), so the
// slice's time includes that drain.
func closedLoop(clients int, do requestFunc) slice {
	return func(ctx context.Context, dur time.Duration, rec *recorder) {
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(dur)
		for w := range clients {
			wg.Go(func() {
				for ctx.Err() == nil && time.Now().Before(deadline) {
					t := time.Now()
					err := do(ctx, w, rec.seq.Add(1))
					rec.add(time.Since(t), err)
				}
			})
		}
		wg.Wait()
		rec.mu.Lock()
		rec.elapsed += time.Since(start)
		rec.mu.Unlock()
	}
}

// runClosed measures one path alone.
func runClosed(ctx context.Context, dur time.Duration, clients int, do requestFunc) loadResult {
	return interleave(ctx, dur, 1, closedLoop(clients, do))[0]
}

// lateAfter is how far behind its slot an open-loop request may start before it counts as
// late: the scheduler's own jitter on a busy machine is well under it.
const lateAfter = 5 * time.Millisecond

// maxInFlight bounds an open-loop slice's outstanding requests: past it the server is not
// keeping up, and piling more goroutines on would only measure the load generator.
const maxInFlight = 4096

// openLoop is a slice that starts requests at a fixed rate whether or not earlier ones are
// answered, and measures each latency from its scheduled slot (so a stalled server cannot
// hide its queueing delay by slowing the sender down: no coordinated omission).
func openLoop(rate float64, do requestFunc) slice {
	return func(ctx context.Context, dur time.Duration, rec *recorder) {
		var (
			wg                    sync.WaitGroup
			inFlight              atomic.Int64
			late, skipped, issued int
		)
		interval := time.Duration(float64(time.Second) / rate)
		total := int64(dur.Seconds() * rate)
		timer := time.NewTimer(0)
		defer timer.Stop()
		<-timer.C
		start := time.Now()
	schedule:
		for i := range total {
			slot := start.Add(time.Duration(i) * interval)
			if d := time.Until(slot); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
					break schedule
				case <-timer.C:
				}
			}
			issued++
			if time.Since(slot) > lateAfter {
				late++
			}
			if inFlight.Load() >= maxInFlight {
				skipped++
				continue
			}
			inFlight.Add(1)
			wg.Go(func() {
				defer inFlight.Add(-1)
				err := do(ctx, 0, rec.seq.Add(1))
				rec.add(time.Since(slot), err)
			})
		}
		span := time.Since(start)
		wg.Wait()
		rec.mu.Lock()
		rec.rate = rate
		rec.scheduled += issued
		rec.late += late
		rec.skipped += skipped
		rec.span += max(span, time.Duration(float64(issued)*float64(interval)))
		rec.elapsed += time.Since(start)
		rec.mu.Unlock()
	}
}

// benchTransport is tuned like hush's own upstream transport (keep-alive, enough idle
// connections for every client), so that no side of a comparison pays for new connections.
func benchTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        max(1000, conns),
		MaxIdleConnsPerHost: max(100, conns),
		IdleConnTimeout:     90 * time.Second,
	}
}
