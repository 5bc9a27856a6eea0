package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestSilenceExtend(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	s := h.silence("ana@example.com") // 15 days from testStart
	stored := func() gateway.Silence {
		t.Helper()
		var got *gateway.Silence
		if err := h.store.View(context.Background(), func(tx gateway.Tx) error {
			var err error
			got, err = tx.Silence(s.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return *got
	}
	end := *s.End
	path := "/api/v1/silences/" + s.ID + "/extend"

	// Refusals change nothing.
	refusals := []struct {
		name  string
		token string
		body  any
		want  int
	}{
		{"viewer", viewerToken, map[string]any{"for": "15d"}, http.StatusForbidden},
		{"neither for nor until", adminToken, map[string]any{"reason": "x"}, http.StatusBadRequest},
		{"both", adminToken, map[string]any{"for": "15d", "until": testStart.Add(40 * 24 * time.Hour).Format(time.RFC3339)}, http.StatusBadRequest},
		{"bad duration", adminToken, map[string]any{"for": "soon"}, http.StatusBadRequest},
		{"negative duration", adminToken, map[string]any{"for": "-1d"}, http.StatusBadRequest},
		{"until not a time", adminToken, map[string]any{"until": "next week"}, http.StatusBadRequest},
		{"until in the past", adminToken, map[string]any{"until": testStart.Add(-time.Hour).Format(time.RFC3339)}, http.StatusBadRequest},
		{"until before the current end", adminToken, map[string]any{"until": end.Add(-time.Hour).Format(time.RFC3339)}, http.StatusBadRequest},
	}
	for _, tt := range refusals {
		res := h.do(http.MethodPost, path, tt.token, tt.body)
		if res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
		if got := stored(); !got.End.Equal(end) || got.ExtendedBy != "" {
			t.Fatalf("%s changed the silence: end %v, extended by %q", tt.name, got.End, got.ExtendedBy)
		}
	}
	if res := h.do(http.MethodPost, "/api/v1/silences/sil_nope/extend", adminToken, map[string]any{"for": "1d"}); res.status != http.StatusNotFound {
		t.Errorf("unknown silence: %d %s", res.status, res.body)
	}

	// for: that much later than the current end.
	res := h.do(http.MethodPost, path, adminToken, map[string]any{"for": "7d", "reason": "still angry"})
	if res.status != http.StatusOK {
		t.Fatalf("extend for 7d: %d %s", res.status, res.body)
	}
	var answered gateway.Silence
	res.json(t, &answered)
	want := end.Add(7 * 24 * time.Hour)
	if got := stored(); !got.End.Equal(want) || got.ExtendedBy != "admin:ops" || got.ExtendReason != "still angry" {
		t.Errorf("after for 7d: end %v by %q why %q, want end %v by admin:ops", got.End, got.ExtendedBy, got.ExtendReason, want)
	}
	if answered.End == nil || !answered.End.Equal(want) {
		t.Errorf("answered end %v, want %v", answered.End, want)
	}

	// until: exactly that time.
	until := testStart.Add(60 * 24 * time.Hour)
	res = h.do(http.MethodPost, path, adminToken, map[string]any{"until": until.Format(time.RFC3339)})
	if res.status != http.StatusOK {
		t.Fatalf("extend until: %d %s", res.status, res.body)
	}
	if got := stored(); !got.End.Equal(until) {
		t.Errorf("after until: end %v, want %v", got.End, until)
	}
	// The decision API still withholds marketing after the old end.
	h.clock.Set(want.Add(time.Hour))
	if d := h.dryDecision("ana@example.com"); d.Allowed || d.SilenceID != s.ID {
		t.Errorf("decision after the old end: %+v, want dropped by %s", d, s.ID)
	}
}
