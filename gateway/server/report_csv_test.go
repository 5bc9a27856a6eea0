package server_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// csvRows parses a CSV answer into metric|dimension → value, failing on a row that is not
// three cells or a row written twice.
func csvRows(t *testing.T, body []byte) (header []string, rows map[string]string) {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("the answer is not CSV (%v): %s", err, body)
	}
	if len(records) == 0 {
		t.Fatal("empty CSV")
	}
	rows = map[string]string{}
	for _, rec := range records[1:] {
		if len(rec) != 3 {
			t.Fatalf("row %q is not metric, dimension, value", rec)
		}
		key := rec[0] + "|" + rec[1]
		if _, dup := rows[key]; dup {
			t.Fatalf("row %s written twice", key)
		}
		rows[key] = rec[2]
	}
	return records[0], rows
}

func TestReportCSV(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if res := h.webhook("d-1", surveyEvent("d-1", "carl@example.com", 1), h.clock.Now(), sourceKey); res.status != http.StatusOK {
		t.Fatalf("webhook: %d %s", res.status, res.body)
	}
	for _, ch := range []string{"email", "sms", "email"} {
		res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{
			"channel": ch, "category": "marketing",
			"recipients": []map[string]string{{"email": "carl@example.com"}, {"email": "dora@example.com"}},
		})
		if res.status != http.StatusOK {
			t.Fatalf("decisions: %d %s", res.status, res.body)
		}
	}
	// A rule name is whatever an operator wrote: a comma, quotes and a formula stay inside
	// one text cell.
	evil := `=HYPERLINK("http://x.test","y"),1`
	err := h.store.Update(context.Background(), func(tx gateway.Tx) error {
		now := h.clock.Now()
		return tx.PutSilence(&gateway.Silence{ID: "s-evil", CustomerID: "c-x", Identity: "email:x@example.com", Rule: evil,
			CreatedBy: "rule:x", Start: now, End: ptrTime(now.Add(time.Hour)), CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}

	res := h.do(http.MethodGet, "/api/v1/report?since=30d&format=csv", viewerToken, nil)
	if res.status != http.StatusOK {
		t.Fatalf("report CSV: %d %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd, want := res.header.Get("Content-Disposition"), `attachment; filename="hush-report-2026-10-21-2026-11-20.csv"`; cd != want {
		t.Errorf("Content-Disposition = %q, want %q", cd, want)
	}
	header, rows := csvRows(t, res.body)
	if strings.Join(header, ",") != "metric,dimension,value" {
		t.Errorf("header = %q", header)
	}
	// carl is silenced on email (twice) but not on sms: the low-CSAT rule's silence covers
	// every channel by default, so all three of carl's contacts were avoided.
	for key, want := range map[string]string{
		"contacts_avoided|":                       "3",
		"contacts_avoided|channel=email":          "2",
		"contacts_avoided|channel=sms":            "1",
		"contacts_avoided|reason=silenced":        "3",
		"contacts_avoided|rule=low-csat":          "3",
		"silences_created|":                       "2",
		"silences_created|rule=low-csat":          "1",
		"silences_created|rule=" + evil:           "1",
		"silences_lifted|":                        "0",
		"median_silence_length_days|":             "0",
		"alerts_sent|":                            "0",
		"follow_ups_sent|":                        "0",
		"decisions|channel=email;outcome=dropped": "2",
		"decisions|channel=email;outcome=allowed": "2",
		"decisions|upstream=api;outcome=allowed":  "3",
		"cost_avoided|":                           "0",
		"since|":                                  "2026-10-21T10:00:00Z",
	} {
		if got, ok := rows[key]; !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", key, got, ok, want)
		}
	}
	if !strings.Contains(string(res.body), `silences_created,"rule==HYPERLINK(""http://x.test"",""y""),1",1`) {
		t.Errorf("the rule name is not one quoted cell:\n%s", res.body)
	}

	// Accept: text/csv asks for the same thing; format=json wins over it; anything else is refused.
	if res := h.do(http.MethodGet, "/api/v1/report?since=30d", viewerToken, nil, "Accept", "text/csv"); res.status != http.StatusOK || !strings.HasPrefix(string(res.body), "metric,dimension,value\n") {
		t.Errorf("Accept: text/csv: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/api/v1/report?format=json", viewerToken, nil, "Accept", "text/csv"); res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Errorf("format=json: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if res := h.do(http.MethodGet, "/api/v1/report?format=xlsx", viewerToken, nil); res.status != http.StatusBadRequest {
		t.Errorf("format=xlsx: %d", res.status)
	}

	// Who may download it: readers, not a decision token, not anonymous.
	for _, tc := range []struct {
		token string
		want  int
	}{{adminToken, 200}, {viewerToken, 200}, {decideToken, 403}, {"", 401}} {
		if res := h.do(http.MethodGet, "/api/v1/report?format=csv", tc.token, nil); res.status != tc.want {
			t.Errorf("token %q: %d, want %d", tc.token, res.status, tc.want)
		}
	}
}
