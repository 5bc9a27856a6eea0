package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/hush-gateway/hush/gateway"
)

// handleWebhook takes one vendor delivery: read (bounded), verify on the raw bytes, parse,
// ingest, and answer 200 only after the durable commit.
func handleWebhook(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := mux.Vars(r)["source"]
		src, ok := deps.Sources[name]
		if !ok {
			// The name is not echoed: it comes from the raw path.
			writeErrorCode(w, gateway.CodeNotFound, "no source is configured under this name")
			deps.Metrics.webhooks.WithLabelValues("unknown", "not_found").Inc()
			return
		}
		start := time.Now()
		outcome := func(o string) { deps.Metrics.webhooks.WithLabelValues(name, o).Inc() }

		body, err := readBody(w, r, deps.Limits.Body)
		if err != nil {
			outcome(string(gateway.ErrorCodeOf(err)))
			writeError(w, r, deps.Logger, err)
			return
		}
		u := *r.URL
		req := &gateway.WebhookRequest{
			Source:     name,
			Method:     r.Method,
			URL:        &u,
			Header:     r.Header.Clone(),
			Body:       body,
			ReceivedAt: deps.Now(),
		}
		if err := src.Connector.Verify(req); err != nil {
			reason := "unknown"
			var ve *gateway.VerifyError
			if errors.As(err, &ve) {
				reason = string(ve.Reason)
			}
			// The reason names what failed, never the secret nor the signatures.
			deps.Logger.WarnContext(r.Context(), "webhook verification failed", "source", name, "reason", reason)
			outcome("unauthorized")
			writeErrorCode(w, gateway.CodeUnauthorized, "the delivery's signature could not be verified")
			return
		}
		parsed, err := src.Connector.Parse(req)
		if err != nil {
			if err := storeDeadLetter(r, deps, req, err); err != nil {
				if !errors.Is(err, context.Canceled) {
					deps.writes.failed()
				}
				deps.Logger.ErrorContext(r.Context(), "dead letter not stored", "source", name, "err", err)
				outcome("unavailable")
				writeErrorCode(w, gateway.CodeUnavailable, "the delivery could not be stored; retry later")
				return
			}
			deps.Logger.WarnContext(r.Context(), "webhook not parsed; kept as dead letter", "source", name)
			outcome("invalid")
			writeErrorCode(w, gateway.CodeInvalid, messageOf(err))
			return
		}
		events := stampEvents(parsed.Events, name, req.ReceivedAt, body)
		res, ok := ingest(w, r, deps, events, parsed.Ignored)
		if !ok {
			outcome("unavailable")
			return
		}
		deps.Metrics.intakeSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
		countIngest(deps.Metrics, name, res)
		writeJSON(w, http.StatusOK, res)
	})
}

// stampEvents fills what hush knows about every event of a delivery and the connector may
// have left out: the source, when it was received and the raw payload.
func stampEvents(events []gateway.Event, source string, receivedAt time.Time, raw []byte) []gateway.Event {
	for i := range events {
		if events[i].Source == "" {
			events[i].Source = source
		}
		if events[i].ReceivedAt.IsZero() {
			events[i].ReceivedAt = receivedAt
		}
		if events[i].Raw == nil {
			events[i].Raw = raw
		}
	}
	return events
}

// ingest hands events to the engine and answers errors itself: a *gateway.Error with its
// code; anything else is storage failing, answered 503 so that the vendor retries.
func ingest(w http.ResponseWriter, r *http.Request, deps Deps, events []gateway.Event, ignored int) (gateway.IngestResult, bool) {
	res, err := deps.Engine.Ingest(r.Context(), events, ignored)
	if err != nil {
		var ge *gateway.Error
		if errors.As(err, &ge) {
			if ge.Code == gateway.CodeUnavailable && !errors.Is(err, context.Canceled) {
				deps.writes.failed() // a caller who left is no sign of a failing disk
			}
			writeError(w, r, deps.Logger, err)
			return res, false
		}
		if !errors.Is(err, context.Canceled) {
			deps.writes.failed()
		}
		deps.Logger.ErrorContext(r.Context(), "ingest failed", "route", routeTemplate(r), "err", err)
		writeErrorCode(w, gateway.CodeUnavailable, "the events could not be stored; retry later")
		return res, false
	}
	deps.writes.succeeded()
	return res, true
}

func countIngest(m *Metrics, source string, res gateway.IngestResult) {
	m.webhooks.WithLabelValues(source, "accepted").Add(float64(res.Accepted))
	m.webhooks.WithLabelValues(source, "duplicate").Add(float64(res.Duplicates))
	m.webhooks.WithLabelValues(source, "ignored").Add(float64(res.Ignored))
}

// sensitiveHeaders are never kept with a dead letter: replay does not verify again, so
// credentials would only be a liability at rest.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie"}

func storeDeadLetter(r *http.Request, deps Deps, req *gateway.WebhookRequest, parseErr error) error {
	header := req.Header.Clone()
	for _, h := range sensitiveHeaders {
		header.Del(h)
	}
	dl := &gateway.DeadLetter{
		ID:         gateway.NewID("dlq", req.ReceivedAt),
		Source:     req.Source,
		ReceivedAt: req.ReceivedAt,
		Error:      parseErr.Error(),
		Header:     header,
		// The query string is not kept: some vendors (Statuspage) can only authenticate
		// with a secret in it, and replay, which does not verify again, never needs it.
		Body: req.Body,
	}
	return deps.Store.Update(r.Context(), func(tx gateway.Tx) error {
		return tx.PutDeadLetter(dl)
	})
}

// replayRequest rebuilds the delivery a dead letter kept.
func replayRequest(dl *gateway.DeadLetter) *gateway.WebhookRequest {
	return &gateway.WebhookRequest{
		Source:     dl.Source,
		Method:     http.MethodPost,
		URL:        &url.URL{Path: "/webhooks/" + url.PathEscape(dl.Source), RawQuery: dl.Query},
		Header:     http.Header(dl.Header).Clone(),
		Body:       dl.Body,
		ReceivedAt: dl.ReceivedAt,
	}
}
