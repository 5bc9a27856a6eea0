// Package suppress holds what the vendors' suppression-list clients share: one HTTP call
// with a bounded answer, and the classification of a vendor's refusal into a
// *gateway.SyncError the delivery worker acts on (try again later, or give up).
package suppress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// MaxAnswer bounds the bytes read from a vendor's answer.
const MaxAnswer = 1 << 20

// maxRetryAfter caps a vendor's Retry-After.
const maxRetryAfter = time.Hour

// Call sends req with c and reads its answer. A 2xx returns the status and body. Any other
// status returns them too, with a *gateway.SyncError from Refusal (so a caller can accept a
// 404 on remove, or reclassify a vendor's own error names). A transport error is returned
// wrapped with op, never with the URL (a vendor URL may carry a key).
func Call(c gateway.Doer, req *http.Request, op string) (status int, body []byte, err error) {
	resp, err := c.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return 0, nil, ctxErr
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL
		}
		return 0, nil, &TransportError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return resp.StatusCode, nil, &TransportError{Op: op, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, body, nil
	}
	return resp.StatusCode, body, Refusal(op, resp.StatusCode, resp.Header, "")
}

// Refusal classifies a non-2xx answer: 408, 429 and 5xx can be tried again (after the
// vendor's Retry-After when it gave one); every other status is permanent. message is the
// vendor's own error text ("" to use the status text); it must not hold the address.
func Refusal(op string, status int, h http.Header, message string) *gateway.SyncError {
	e := &gateway.SyncError{Op: op, Status: status, Message: truncate(message, 200)}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		e.RetryAfter = RetryAfter(h, time.Now())
	default:
		e.Permanent = true
	}
	return e
}

// RetryAfter reads Retry-After (seconds or an HTTP date) capped at an hour; 0 when absent.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// TransportError is a call that got no answer (refused, reset, timed out). It is always
// worth trying again.
type TransportError struct {
	Op  string
	Err error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("suppression list %s: no answer: %v", e.Op, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// NewRequest builds a request to target with a body (nil for none), the context, and
// the JSON headers most vendors want; callers add their credentials.
func NewRequest(ctx context.Context, method, target string, body []byte, contentType string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", method, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hush-suppression-sync")
	return req, nil
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
