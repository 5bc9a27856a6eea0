package sentiment

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestExternal(t *testing.T) {
	builtin, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	const angry = "Es la tercera vez que llamo, una vergüenza"
	want := func(t *testing.T) gateway.Sentiment {
		s, _ := builtin.ScoreText(context.Background(), angry, "")
		return s
	}(t)
	tests := []struct {
		name       string
		answer     func(w http.ResponseWriter)
		wantSource string
		wantScore  float64
		wantLabel  string
		wantCue    string
	}{
		{"score and label", func(w http.ResponseWriter) {
			io.WriteString(w, `{"score": -0.9, "label": "negative", "cues": ["churn_model"]}`)
		},
			gateway.SentimentExternal, -0.9, Negative, "churn_model"},
		{"score only: labelled by the built-in thresholds", func(w http.ResponseWriter) { io.WriteString(w, `{"score": 0.6}`) },
			gateway.SentimentExternal, 0.6, Positive, CueRepeatContact},
		{"server error", func(w http.ResponseWriter) { http.Error(w, "down", http.StatusInternalServerError) },
			gateway.SentimentBuiltin, want.Score, want.Label, CueRepeatContact},
		{"not JSON", func(w http.ResponseWriter) { io.WriteString(w, `<html>`) }, gateway.SentimentBuiltin, want.Score, want.Label, ""},
		{"no score", func(w http.ResponseWriter) { io.WriteString(w, `{"label": "negative"}`) }, gateway.SentimentBuiltin, want.Score, want.Label, ""},
		{"score out of range", func(w http.ResponseWriter) { io.WriteString(w, `{"score": -3}`) }, gateway.SentimentBuiltin, want.Score, want.Label, ""},
		{"unknown label", func(w http.ResponseWriter) { io.WriteString(w, `{"score": 0.1, "label": "meh"}`) }, gateway.SentimentBuiltin, want.Score, want.Label, ""},
		{"answer too large", func(w http.ResponseWriter) {
			io.WriteString(w, `{"score": 0.1, "pad": "`+strings.Repeat("x", maxExternalAnswer)+`"}`)
		}, gateway.SentimentBuiltin, want.Score, want.Label, ""},
		{"too slow", func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond); io.WriteString(w, `{"score": 0.5}`) },
			gateway.SentimentBuiltin, want.Score, want.Label, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.Header.Get("X-Key") != "k" || r.Header.Get("Content-Type") != "application/json" {
					http.Error(w, "bad request", http.StatusBadRequest)
					return
				}
				tt.answer(w)
			}))
			defer srv.Close()
			x, err := NewExternal(ExternalOptions{URL: srv.URL, Header: http.Header{"X-Key": {"k"}}, Timeout: 100 * time.Millisecond, Fallback: builtin})
			if err != nil {
				t.Fatal(err)
			}
			got, err := x.ScoreText(context.Background(), angry, "")
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != tt.wantSource || got.Score != tt.wantScore || got.Label != tt.wantLabel || got.Language != Spanish {
				t.Errorf("got %+v, want source %s score %v label %s", got, tt.wantSource, tt.wantScore, tt.wantLabel)
			}
			if tt.wantCue != "" && !slices.Contains(got.Cues, tt.wantCue) {
				t.Errorf("cues %v lack %s", got.Cues, tt.wantCue)
			}
		})
	}
	if _, err := NewExternal(ExternalOptions{Fallback: builtin}); err == nil {
		t.Error("no url accepted")
	}
	if _, err := NewExternal(ExternalOptions{URL: "http://x"}); err == nil {
		t.Error("no fallback accepted")
	}
}
