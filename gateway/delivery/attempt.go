package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hush-gateway/hush/gateway"
)

// deliver makes one attempt at m and records its outcome. An error is a store error (or
// ctx ending): nothing was recorded and m stays as it was.
func (w *Worker) deliver(ctx context.Context, m *gateway.OutboxMessage) (outcome, error) {
	switch m.Kind {
	case gateway.OutboxAlert, gateway.OutboxFollowUp, gateway.OutboxSilenceEnded:
	case gateway.OutboxSync:
		return w.sync(ctx, m)
	default:
		return skipped, nil // kinds this worker does not send
	}
	now := w.cfg.Now()
	sender, ok := w.cfg.Senders[m.Target]
	if !ok {
		return w.die(ctx, m.ID, now, fmt.Sprintf("no alert named %q is configured", m.Target))
	}
	if sender == nil {
		// A record-only destination (alert kind log): the outbox entry is the record.
		return w.record(ctx, m.ID, func(rec *gateway.OutboxMessage) outcome {
			rec.DeliveredAt = &now
			return delivered
		})
	}
	if ok, o, err := w.admit(ctx, m, now, w.limits); !ok {
		return o, err
	}
	am, err := w.resolve(ctx, m)
	if err != nil {
		return skipped, err
	}
	if m.Kind == gateway.OutboxSilenceEnded {
		if o, done, err := w.holdUntilEnded(ctx, m, am, now); done {
			return o, err
		}
	}
	req, err := sender.Request(ctx, am)
	if err != nil {
		// A sender fails only on a bug or a misconfiguration: retrying will not help.
		return w.die(ctx, m.ID, now, "alert sender could not build the request: "+truncate(err.Error(), 200))
	}
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return w.die(ctx, m.ID, now, "alert sender built an unreadable request body")
	}
	resp, err := w.client.Do(rreq)
	if ctx.Err() != nil {
		// Shutting down: not the destination's fault. The message stays due and is sent
		// again (same idempotency key) by the next run.
		if resp != nil {
			resp.Body.Close()
		}
		return skipped, ctx.Err()
	}
	now = w.cfg.Now()
	if err != nil {
		return w.retryLater(ctx, m, now, errorClass(err), 0, false)
	}
	// The body is not kept nor logged (it may echo the alert); read a little so the
	// connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	status := resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		return w.record(ctx, m.ID, func(rec *gateway.OutboxMessage) outcome {
			rec.Attempts++
			rec.DeliveredAt = &now
			rec.LastError = ""
			return delivered
		})
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return w.die(ctx, m.ID, now, fmt.Sprintf("destination answered %d", status))
	default: // 429, 5xx, and the odd 1xx/3xx left over: MaxAge bounds them
		ra, ok := retryAfter(resp.Header, now)
		return w.retryLater(ctx, m, now, fmt.Sprintf("destination answered %d", status), ra, ok)
	}
}

// retryLater records a failed attempt and schedules the next: after the destination's
// Retry-After when it gave one, else 1 s · 2^attempts (capped at 10 min) with full jitter.
func (w *Worker) retryLater(ctx context.Context, m *gateway.OutboxMessage, now time.Time, reason string, ra time.Duration, hasRA bool) (outcome, error) {
	wait := ra
	if !hasRA {
		wait = w.jitter(backoff(m.Attempts))
	}
	next := now.Add(wait)
	expired := now.Sub(startOf(m)) > w.cfg.MaxAge
	o, err := w.record(ctx, m.ID, func(rec *gateway.OutboxMessage) outcome {
		rec.Attempts++
		rec.LastError = reason
		if expired {
			rec.DeadAt, rec.DeadReason = &now, w.gaveUp()
			return dead
		}
		rec.NextAttempt = next
		return failed
	})
	switch {
	case err != nil:
	case o == failed:
		w.cfg.Logger.Warn("outbox delivery failed", "outbox_id", m.ID, "kind", m.Kind, "target", m.Target,
			"attempts", m.Attempts+1, "error", reason, "next_attempt", next)
	case o == dead:
		w.cfg.Logger.Warn("outbox message given up", "outbox_id", m.ID, "kind", m.Kind, "target", m.Target, "error", reason, "reason", w.gaveUp())
	}
	return o, err
}

// die moves the message to the dead letters with reason.
func (w *Worker) die(ctx context.Context, id string, now time.Time, reason string) (outcome, error) {
	o, err := w.record(ctx, id, func(rec *gateway.OutboxMessage) outcome {
		rec.DeadAt = &now
		rec.DeadReason = reason
		return dead
	})
	if err == nil && o == dead {
		w.cfg.Logger.Warn("outbox message given up", "outbox_id", id, "reason", reason)
	}
	return o, err
}

// record applies change to the stored message in one Update, unless it is no longer
// pending (an operator, or another replica, settled it meanwhile). change must compute the
// same writes each time: Update may run it more than once.
func (w *Worker) record(ctx context.Context, id string, change func(*gateway.OutboxMessage) outcome) (outcome, error) {
	o := skipped
	err := w.cfg.Store.Update(ctx, func(tx gateway.Tx) error {
		o = skipped
		rec, err := tx.OutboxMessage(id)
		if errors.Is(err, gateway.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.State() != gateway.OutboxPending {
			return nil
		}
		o = change(rec)
		return tx.PutOutbox(rec)
	})
	if err != nil {
		return skipped, fmt.Errorf("record outbox message %s: %w", id, err)
	}
	if o == delivered {
		w.cfg.Logger.Info("outbox message delivered", "outbox_id", id)
	}
	return o, nil
}

// checkRetry is retryablehttp.DefaultRetryPolicy (network errors, 429, 5xx except 501),
// never retrying another 4xx, and leaving a Retry-After longer than RetryWaitMax to the
// persisted schedule instead of holding the pass that long.
func (w *Worker) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, cerr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	if !retry || cerr != nil || resp == nil {
		return retry, cerr
	}
	if s := resp.StatusCode; s >= 400 && s < 500 && s != http.StatusTooManyRequests {
		return false, nil
	}
	if ra, ok := retryAfter(resp.Header, w.cfg.Now()); ok && ra > w.cfg.RetryWaitMax {
		return false, nil
	}
	return true, nil
}

// backoff is the persisted schedule's ceiling after attempts failed attempts.
func backoff(attempts int) time.Duration {
	if attempts >= 20 { // 2^20 s is far past the cap; avoid overflow
		return backoffCap
	}
	return min(backoffBase<<attempts, backoffCap)
}

// fullJitter waits a uniformly random time in [0, d] ("full jitter"), so that alerts that
// failed together do not come back together.
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// retryAfter parses Retry-After (seconds or an HTTP date), capped at maxRetryAfter.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// errorClass names a transport error without its text: url.Error's message holds the URL,
// and alert URLs carry tokens (Slack webhooks, Zendesk credentials in query strings).
func errorClass(err error) string {
	var (
		netErr  net.Error
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		uaErr   x509.UnknownAuthorityError
		hostErr x509.HostnameError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	case errors.As(err, &certErr), errors.As(err, &uaErr), errors.As(err, &hostErr):
		return "tls certificate not trusted"
	default:
		return "network error"
	}
}

// gaveUp is the dead reason of a message past MaxAge.
func (w *Worker) gaveUp() string { return "gave up after " + shortDuration(w.cfg.MaxAge) }

// shortDuration prints 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// startOf is when a message was meant to go out: its due time when scheduled (a
// follow-up, a silence's end), else when it was written. MaxAge counts from there.
func startOf(m *gateway.OutboxMessage) time.Time {
	if !m.DueAt.IsZero() {
		return m.DueAt
	}
	return m.CreatedAt
}

// holdUntilEnded keeps a silence_ended message back while its silence is still in force
// (extended since, or waiting for its topic to be resolved): it is moved to the silence's
// current end, or checked again in an hour when the silence has none yet. Not an attempt.
// A silence that no longer exists (its customer was erased) has nothing to announce.
func (w *Worker) holdUntilEnded(ctx context.Context, m *gateway.OutboxMessage, am *gateway.AlertMessage, now time.Time) (outcome, bool, error) {
	s := am.Silence
	if s == nil {
		o, err := w.die(ctx, m.ID, now, "the silence no longer exists")
		return o, true, err
	}
	if !s.ActiveAt(now) {
		return skipped, false, nil // over: announce it
	}
	next := now.Add(time.Hour)
	if s.End != nil && s.End.After(now) {
		next = *s.End
	}
	_, err := w.record(ctx, m.ID, func(rec *gateway.OutboxMessage) outcome {
		rec.NextAttempt, rec.DueAt = next, next
		return skipped
	})
	return skipped, true, err
}

// admit is the gate before any attempt (an alert or a sync job); ok false means return o
// and err as they are.
//   - Expired while waiting (the worker was down, or behind): it dies without an attempt. A
//     message due only after its deadline was put there on purpose (an operator's retry
//     through the admin API, or the worker's own last backoff): it gets its attempt, and a
//     failure then is final (see retryLater).
//   - Over its destination's pace: it waits for a later pass, without counting as a failure.
//   - With a store several replicas share: only the replica that claims it goes on.
func (w *Worker) admit(ctx context.Context, m *gateway.OutboxMessage, now time.Time, pace *limiter) (ok bool, o outcome, err error) {
	if deadline := startOf(m).Add(w.cfg.MaxAge); now.After(deadline) && !m.NextAttempt.After(deadline) {
		o, err = w.die(ctx, m.ID, now, w.gaveUp())
		return false, o, err
	}
	if !pace.allow(m.Target, now) {
		return false, skipped, nil
	}
	if claimed, err := w.claim(ctx, m, now); !claimed || err != nil {
		return false, skipped, err
	}
	return true, skipped, nil
}
