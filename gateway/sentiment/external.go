package sentiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// External scores texts with an HTTP service a team runs itself (a fine-tuned model, a
// cloud API behind a small adapter) and falls back to the built-in scorer whenever the
// service fails, is slow or answers nonsense: intake never waits longer than Timeout and
// never loses an event to it.
//
// The service receives POST {"text": "…", "language": "es"} (language may be empty) with
// Content-Type application/json, and answers 200 {"score": -0.72, "label": "negative",
// "cues": ["cancellation"]}: score in [-1, 1] required, label (negative | neutral |
// positive) and cues optional. The built-in scorer's cues are always added.
type External struct {
	url      string
	header   http.Header
	timeout  time.Duration
	client   *http.Client
	fallback gateway.SentimentScorer
	log      *slog.Logger
}

// ExternalOptions configure NewExternal.
type ExternalOptions struct {
	URL     string        // required: http:// or https://
	Header  http.Header   // sent with every request (Authorization…); never logged
	Timeout time.Duration // per text; default 2s
	Client  *http.Client  // default: a client of its own
	// Fallback scores a text when the service does not, and supplies cues: the built-in
	// scorer. Required.
	Fallback gateway.SentimentScorer
	Logger   *slog.Logger // nil: discard
}

// maxExternalAnswer bounds what is read of the service's answer.
const maxExternalAnswer = 64 << 10

// NewExternal builds an external scorer.
func NewExternal(o ExternalOptions) (*External, error) {
	if o.URL == "" {
		return nil, errors.New("external sentiment scorer: url is required")
	}
	if o.Fallback == nil {
		return nil, errors.New("external sentiment scorer: a fallback scorer is required")
	}
	x := &External{url: o.URL, header: o.Header.Clone(), timeout: o.Timeout, client: o.Client, fallback: o.Fallback, log: o.Logger}
	if x.timeout <= 0 {
		x.timeout = 2 * time.Second
	}
	if x.client == nil {
		x.client = &http.Client{}
	}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	return x, nil
}

type externalAnswer struct {
	Score    *float64 `json:"score"`
	Label    string   `json:"label"`
	Language string   `json:"language"`
	Cues     []string `json:"cues"`
}

// ScoreText asks the service, and answers with the built-in scorer's result when it fails.
func (x *External) ScoreText(ctx context.Context, text, language string) (gateway.Sentiment, error) {
	builtin, err := x.fallback.ScoreText(ctx, text, language)
	if err != nil {
		return gateway.Sentiment{}, err
	}
	ans, err := x.ask(ctx, text, language)
	if err != nil {
		// The error names the service's status or the problem, never the text.
		x.log.WarnContext(ctx, "external sentiment scorer failed; built-in score used", "err", err)
		return builtin, nil
	}
	out := gateway.Sentiment{Score: *ans.Score, Label: ans.Label, Source: gateway.SentimentExternal,
		Language: builtin.Language, Cues: builtin.Cues}
	if out.Label == "" {
		out.Label = labelOf(out.Score)
	}
	if ans.Language != "" {
		out.Language = ans.Language
	}
	for _, c := range ans.Cues {
		if c != "" && !slices.Contains(out.Cues, c) {
			out.Cues = append(out.Cues, c)
		}
	}
	return out, nil
}

func (x *External) ask(ctx context.Context, text, language string) (externalAnswer, error) {
	var ans externalAnswer
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	body, err := json.Marshal(map[string]string{"text": text, "language": language})
	if err != nil {
		return ans, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.url, bytes.NewReader(body))
	if err != nil {
		return ans, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range x.header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := x.client.Do(req)
	if err != nil {
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) {
			err = uerr.Unwrap() // a *url.Error would repeat the URL, which may hold a key
		}
		return ans, fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxExternalAnswer+1))
	if err != nil {
		return ans, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return ans, fmt.Errorf("answered %d", resp.StatusCode)
	}
	if len(raw) > maxExternalAnswer {
		return ans, fmt.Errorf("answer is larger than %d bytes", maxExternalAnswer)
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return ans, errors.New("answer is not the expected JSON object")
	}
	switch {
	case ans.Score == nil:
		return ans, errors.New("answer has no score")
	case math.IsNaN(*ans.Score) || *ans.Score < -1 || *ans.Score > 1:
		return ans, errors.New("answer's score is outside [-1, 1]")
	case ans.Label != "" && ans.Label != Negative && ans.Label != Neutral && ans.Label != Positive:
		return ans, errors.New("answer's label is not negative, neutral or positive")
	}
	return ans, nil
}
