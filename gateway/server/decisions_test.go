package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestDecisionsValidation(t *testing.T) {
	many := make([]any, 1001)
	for i := range many {
		many[i] = map[string]string{"id": "crm:1"}
	}
	tests := []struct {
		name    string
		body    any
		status  int
		mention string // the answer must name the field
	}{
		{"malformed JSON", `{"channel":"email",`, 400, "JSON"},
		{"not JSON", `channel=email`, 400, "JSON"},
		{"unknown field", `{"channel":"email","recipients":[{"email":"a@example.com"}],"urgent":true}`, 400, `"urgent"`},
		{"wrong type", `{"channel":"email","recipients":{"email":"a@example.com"}}`, 400, "recipients"},
		{"missing channel", map[string]any{"recipients": []any{map[string]string{"email": "a@example.com"}}}, 400, "channel"},
		{"unknown channel", map[string]any{"channel": "fax", "recipients": []any{map[string]string{"email": "a@example.com"}}}, 400, "channel"},
		{"no recipients", map[string]any{"channel": "email", "recipients": []any{}}, 400, "recipients"},
		{"too many recipients", map[string]any{"channel": "email", "recipients": many}, 400, "recipients"},
		{"two keys", map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": "a@example.com", "phone": "+34600111222"}}}, 400, "recipients[0]"},
		{"no key", map[string]any{"channel": "email", "recipients": []any{map[string]string{}}}, 400, "recipients[0]"},
		{"bad phone", map[string]any{"channel": "sms", "recipients": []any{
			map[string]string{"email": "a@example.com"}, map[string]string{"id": "crm:7"}, map[string]string{"phone": "12"}}}, 400, "recipients[2].phone"},
		{"bad email", map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": "not-an-address"}}}, 400, "recipients[0].email"},
		{"id without vendor", map[string]any{"channel": "email", "recipients": []any{map[string]string{"id": "8841"}}}, 400, "recipients[0].id"},
		{"id with reserved vendor", map[string]any{"channel": "email", "recipients": []any{map[string]string{"id": "email:a@example.com"}}}, 400, "recipients[0].id"},
		{"record not a bool", `{"channel":"email","recipients":[{"email":"a@example.com"}],"record":"yes"}`, 400, "record"},
	}
	h := newHarness(t, harnessOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, tt.body)
			if res.status != tt.status || res.errorCode(t) != "invalid" {
				t.Fatalf("status %d, want %d invalid: %s", res.status, tt.status, res.body)
			}
			if msg := res.errorMessage(t); !strings.Contains(msg, tt.mention) {
				t.Errorf("message %q does not name %q", msg, tt.mention)
			}
			if c := h.counts(); c != (counts{}) {
				t.Errorf("refused request stored %+v", c)
			}
		})
	}
}

func TestDecisionsAnswerAndRecord(t *testing.T) {
	h := newHarness(t, harnessOptions{caps: []gateway.CapSpec{
		{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Max: 1, Per: gateway.Duration(30 * 24 * time.Hour)},
	}})
	sil := h.silence("ana@example.com")

	ask := func(record bool) []gateway.Decision {
		t.Helper()
		res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{
			"channel":  "email",
			"category": "marketing",
			"record":   record,
			"recipients": []any{
				map[string]string{"email": " ANA@example.com "},
				map[string]string{"email": "bea@example.com"},
			},
		})
		if res.status != http.StatusOK {
			t.Fatalf("decisions: %d %s", res.status, res.body)
		}
		var body struct{ Decisions []gateway.Decision }
		res.json(t, &body)
		if len(body.Decisions) != 2 {
			t.Fatalf("got %d decisions for 2 recipients: %s", len(body.Decisions), res.body)
		}
		return body.Decisions
	}

	// A dry check does not count against the cap.
	for range 2 {
		d := ask(false)
		if d[0].Allowed || d[0].Reason != gateway.ReasonSilenced || d[0].SilenceID != sil.ID || d[0].Until == nil {
			t.Errorf("silenced recipient: %+v", d[0])
		}
		if d[0].Recipient != "email:ana@example.com" {
			t.Errorf("recipient not normalized: %q", d[0].Recipient)
		}
		if !d[1].Allowed {
			t.Errorf("dry check %+v: want allowed (nothing counted yet)", d[1])
		}
	}
	// A recorded decision takes the only slot: the next one is capped.
	if d := ask(true); !d[1].Allowed {
		t.Fatalf("first recorded decision: %+v", d[1])
	}
	if d := ask(true); d[1].Allowed || d[1].Reason != gateway.ReasonFrequencyCap {
		t.Errorf("second recorded decision: %+v, want frequency_cap", d[1])
	}
	// record defaults to true; each recorded decision is in the audit log.
	if c := h.counts(); c.decisions != 4 {
		t.Errorf("recorded decisions: %d, want 4 (2 requests × 2 recipients)", c.decisions)
	}
}
