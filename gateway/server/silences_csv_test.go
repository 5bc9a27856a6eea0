package server_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestSilencesCSV(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ana := h.silence("ana@example.com")
	bea := h.silence("+34 600 111 222")

	res := h.do(http.MethodGet, "/api/v1/silences?active=true&format=csv", viewerToken, nil)
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv export: %d %v", res.status, res.header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, res.body)
	}
	if want := []string{"email", "phone", "customer_id", "silence_id", "rule", "categories", "channels", "start", "end"}; !slices.Equal(rows[0], want) {
		t.Errorf("header %v", rows[0])
	}
	bySilence := map[string][]string{}
	for _, r := range rows[1:] {
		bySilence[r[3]] = r
	}
	if r := bySilence[ana.ID]; len(r) == 0 || r[0] != "ana@example.com" || r[1] != "" || r[2] != ana.CustomerID || r[5] != "marketing sales survey" || r[8] == "" {
		t.Errorf("ana's row %v", r)
	}
	if r := bySilence[bea.ID]; len(r) == 0 || r[0] != "" || r[1] != "+34600111222" {
		t.Errorf("bea's row %v", r)
	}
	if len(rows) != 3 {
		t.Errorf("%d rows, want a header and 2", len(rows))
	}

	// Filters apply; an unknown identity is an empty list, not an error.
	res = h.do(http.MethodGet, "/api/v1/silences?format=csv&identity=email:ana@example.com", viewerToken, nil)
	if rows, _ := csv.NewReader(strings.NewReader(string(res.body))).ReadAll(); len(rows) != 2 || rows[1][3] != ana.ID {
		t.Errorf("filtered export: %s", res.body)
	}
	res = h.do(http.MethodGet, "/api/v1/silences?format=csv&identity=email:nobody@example.com", viewerToken, nil)
	if res.status != http.StatusOK || strings.Count(string(res.body), "\n") != 1 {
		t.Errorf("export for an unknown identity: %d %q", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/api/v1/silences?format=xml", viewerToken, nil); res.status != http.StatusBadRequest {
		t.Errorf("format=xml: %d", res.status)
	}
	if res := h.do(http.MethodGet, "/api/v1/silences?format=csv", "", nil); res.status != http.StatusUnauthorized {
		t.Errorf("export without a token: %d", res.status)
	}
}
