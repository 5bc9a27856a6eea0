package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

type listPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func TestSilencesLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	res := h.do(http.MethodPost, "/api/v1/silences", adminToken, map[string]any{
		"identity": "+34 600 111 222", "until": testStart.Add(48 * time.Hour).Format(time.RFC3339),
		"categories": []string{"sales"}, "channels": []string{"voice"}, "reason": "angry call",
	})
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var s gateway.Silence
	res.json(t, &s)
	if s.ID == "" || s.Identity != "phone:+34600111222" || s.CreatedBy != "admin:ops" || s.Reason != "angry call" ||
		len(s.Channels) != 1 || s.Channels[0] != gateway.ChannelVoice || s.End == nil || !s.End.Equal(testStart.Add(48*time.Hour)) {
		t.Errorf("created silence: %+v", s)
	}

	var active listPage[gateway.Silence]
	h.do(http.MethodGet, "/api/v1/silences?active=true", viewerToken, nil).json(t, &active)
	if len(active.Items) != 1 || active.Items[0].ID != s.ID {
		t.Fatalf("active silences: %+v", active)
	}
	var byIdentity listPage[gateway.Silence]
	h.do(http.MethodGet, "/api/v1/silences?identity="+url.QueryEscape("phone:+34600111222"), viewerToken, nil).json(t, &byIdentity)
	if len(byIdentity.Items) != 1 {
		t.Errorf("silences by identity: %+v", byIdentity)
	}

	res = h.do(http.MethodDelete, "/api/v1/silences/"+s.ID, adminToken, map[string]string{"reason": "resolved by phone"})
	if res.status != http.StatusOK {
		t.Fatalf("lift: %d %s", res.status, res.body)
	}
	var lifted gateway.Silence
	res.json(t, &lifted)
	if lifted.LiftedAt == nil || lifted.LiftedBy != "admin:ops" || lifted.LiftReason != "resolved by phone" {
		t.Errorf("lifted silence: %+v", lifted)
	}
	h.do(http.MethodGet, "/api/v1/silences?active=true", viewerToken, nil).json(t, &active)
	if len(active.Items) != 0 {
		t.Errorf("active silences after lifting: %+v", active.Items)
	}
	var all listPage[gateway.Silence]
	h.do(http.MethodGet, "/api/v1/silences", viewerToken, nil).json(t, &all)
	if len(all.Items) != 1 {
		t.Errorf("a lifted silence is history and stays listed: %+v", all.Items)
	}
	if res := h.do(http.MethodDelete, "/api/v1/silences/sil_missing", adminToken, nil); res.status != http.StatusNotFound || res.errorCode(t) != "not_found" {
		t.Errorf("lifting an unknown silence: %d %s", res.status, res.body)
	}
}

func TestAdminBodyValidationStoresNothing(t *testing.T) {
	tests := []struct {
		name, path string
		body       any
		mention    string
	}{
		{"silence malformed JSON", "/api/v1/silences", `{"identity":`, "JSON"},
		{"silence unknown field", "/api/v1/silences", `{"identity":"a@example.com","for":"1d","forever":true}`, `"forever"`},
		{"silence without length", "/api/v1/silences", map[string]any{"identity": "a@example.com"}, "for"},
		{"silence for and until", "/api/v1/silences", map[string]any{"identity": "a@example.com", "for": "1d", "until": "2030-01-01T00:00:00Z"}, "not both"},
		{"silence bad duration", "/api/v1/silences", map[string]any{"identity": "a@example.com", "for": "fortnight"}, "for"},
		{"silence until in the past", "/api/v1/silences", map[string]any{"identity": "a@example.com", "until": "2020-01-01T00:00:00Z"}, "until"},
		{"silence bad identity", "/api/v1/silences", map[string]any{"identity": "nobody", "for": "1d"}, "identity"},
		{"silence bad category", "/api/v1/silences", map[string]any{"identity": "a@example.com", "for": "1d", "categories": []string{"spam"}}, "categories[0]"},
		{"silence bad channel", "/api/v1/silences", map[string]any{"identity": "a@example.com", "for": "1d", "channels": []string{"email", "fax"}}, "channels[1]"},
		{"opt-out without channel", "/api/v1/optouts", map[string]any{"identity": "a@example.com"}, "channel"},
		{"opt-out without identity", "/api/v1/optouts", map[string]any{"channel": "sms"}, "identity"},
		{"incident without title", "/api/v1/incidents", map[string]any{"scope": "all"}, "title"},
		{"incident bad scope", "/api/v1/incidents", map[string]any{"title": "down", "scope": "everyone"}, "scope"},
		{"event without id", "/api/v1/events", map[string]any{"type": "ticket.opened", "customer": map[string]string{"email": "a@example.com"}}, "id"},
		{"event array names the element", "/api/v1/events", []any{
			map[string]any{"id": "e1", "type": "ticket.opened", "customer": map[string]string{"email": "a@example.com"}},
			map[string]any{"id": "e2", "type": "ticket.exploded", "customer": map[string]string{"email": "a@example.com"}},
		}, "events[1].type"},
		{"event unknown field", "/api/v1/events", `{"id":"e1","type":"ticket.opened","customer":{"email":"a@example.com"},"mood":"bad"}`, `"mood"`},
		{"event wrong type", "/api/v1/events", `[{"id":"e1","type":"survey.response","customer":{"email":"a@example.com"},"csat":"low"}]`, "events[0].csat"},
		{"link without identities", "/api/v1/customers/a@example.com/identities", map[string]any{"identities": []string{}}, "identities"},
		{"link bad identity", "/api/v1/customers/a@example.com/identities", map[string]any{"identities": []string{"crm:1", "nobody"}}, "identities[1]"},
	}
	h := newHarness(t, harnessOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(http.MethodPost, tt.path, adminToken, tt.body)
			if res.status != http.StatusBadRequest || res.errorCode(t) != "invalid" {
				t.Fatalf("status %d: %s", res.status, res.body)
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

func TestOptOutsLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	res := h.do(http.MethodPost, "/api/v1/optouts", adminToken, map[string]any{"identity": "600111222", "channel": "sms", "reason": "asked by phone"})
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var o gateway.OptOut
	res.json(t, &o)
	if o.ID == "" || o.Identity != "phone:+34600111222" || o.Channel != gateway.ChannelSMS || o.CreatedBy != "admin:ops" {
		t.Errorf("opt-out: %+v", o)
	}
	dec := h.do(http.MethodPost, "/api/v1/decisions", adminToken, map[string]any{"channel": "sms", "category": "service", "record": false,
		"recipients": []any{map[string]string{"phone": "600 111 222"}}})
	if !strings.Contains(string(dec.body), `"allowed":true`) {
		t.Errorf("service messages pass an opt-out (DESIGN §2): %s", dec.body)
	}
	dec = h.do(http.MethodPost, "/api/v1/decisions", adminToken, map[string]any{"channel": "sms", "record": false,
		"recipients": []any{map[string]string{"phone": "600 111 222"}}})
	if !strings.Contains(string(dec.body), `"reason":"opted_out"`) {
		t.Errorf("decision after opt-out: %s", dec.body)
	}
	var list listPage[gateway.OptOut]
	h.do(http.MethodGet, "/api/v1/optouts?active=true", viewerToken, nil).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != o.ID {
		t.Fatalf("active opt-outs: %+v", list)
	}
	res = h.do(http.MethodDelete, "/api/v1/optouts/"+o.ID, adminToken, nil)
	var lifted gateway.OptOut
	res.json(t, &lifted)
	if res.status != http.StatusOK || lifted.LiftedAt == nil || lifted.LiftedBy != "admin:ops" {
		t.Errorf("lift: %d %s", res.status, res.body)
	}
	h.do(http.MethodGet, "/api/v1/optouts?active=true", viewerToken, nil).json(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("active opt-outs after lifting: %+v", list.Items)
	}
}

func TestIncidentsLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	res := h.do(http.MethodPost, "/api/v1/incidents", adminToken, map[string]any{"title": "Payments down", "scope": "all", "categories": []string{"marketing"}})
	if res.status != http.StatusCreated {
		t.Fatalf("open: %d %s", res.status, res.body)
	}
	var inc gateway.Incident
	res.json(t, &inc)
	if inc.ID == "" || inc.Title != "Payments down" || inc.Scope != "all" || inc.CreatedBy != "admin:ops" {
		t.Errorf("incident: %+v", inc)
	}
	dec := h.do(http.MethodPost, "/api/v1/decisions", adminToken, map[string]any{"channel": "email", "record": false,
		"recipients": []any{map[string]string{"email": "anyone@example.com"}}})
	if !strings.Contains(string(dec.body), `"reason":"incident"`) {
		t.Errorf("decision during the incident: %s", dec.body)
	}
	var open listPage[gateway.Incident]
	h.do(http.MethodGet, "/api/v1/incidents?open=true", viewerToken, nil).json(t, &open)
	if len(open.Items) != 1 {
		t.Fatalf("open incidents: %+v", open)
	}
	res = h.do(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/resolve", adminToken, nil)
	var resolved gateway.Incident
	res.json(t, &resolved)
	if res.status != http.StatusOK || resolved.ResolvedAt == nil {
		t.Fatalf("resolve: %d %s", res.status, res.body)
	}
	h.do(http.MethodGet, "/api/v1/incidents?open=true", viewerToken, nil).json(t, &open)
	if len(open.Items) != 0 {
		t.Errorf("open incidents after resolving: %+v", open.Items)
	}
	if res := h.do(http.MethodPost, "/api/v1/incidents/inc_missing/resolve", adminToken, nil); res.status != http.StatusNotFound {
		t.Errorf("resolving an unknown incident: %d", res.status)
	}
}

func TestEventsAPI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	one := map[string]any{"id": "e1", "type": "survey.response", "at": testStart.Add(-time.Hour), "csat": 1,
		"customer": map[string]any{"email": "ana@example.com", "ids": map[string]string{"crm": "77"}}}
	res := h.do(http.MethodPost, "/api/v1/events", adminToken, one)
	if res.status != http.StatusOK || string(res.body) != `{"accepted":1,"duplicates":0,"ignored":0}`+"\n" {
		t.Fatalf("one event: %d %s", res.status, res.body)
	}
	two := []any{one, map[string]any{"id": "e2", "type": "ticket.opened", "customer": map[string]any{"ids": map[string]string{"crm": "77"}}}}
	res = h.do(http.MethodPost, "/api/v1/events", adminToken, two)
	if res.status != http.StatusOK || string(res.body) != `{"accepted":1,"duplicates":1,"ignored":0}`+"\n" {
		t.Fatalf("array: %d %s", res.status, res.body)
	}
	events := h.customerEvents("crm:77")
	if len(events) != 2 {
		t.Fatalf("events: %+v", events)
	}
	for _, e := range events {
		if e.Source != "api" {
			t.Errorf("event %s source %q, want api", e.ID, e.Source)
		}
	}
	if c := h.counts(); c.silences != 1 || c.customers != 1 {
		t.Errorf("after a CSAT of 1 through the API: %+v", c)
	}
}

func TestCustomerView(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for i := range 3 {
		body := map[string]any{"id": fmt.Sprintf("e%d", i), "type": "ticket.updated", "at": testStart.Add(time.Duration(i-10) * time.Minute),
			"customer": map[string]any{"email": "ana@example.com", "name": "Ana", "tags": []string{"vip"}}}
		if res := h.do(http.MethodPost, "/api/v1/events", adminToken, body); res.status != http.StatusOK {
			t.Fatalf("event %d: %d %s", i, res.status, res.body)
		}
	}
	sil := h.silence("ana@example.com")
	h.clock.Set(testStart.Add(time.Minute))
	for range 2 {
		h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": "ana@example.com"}}})
	}

	// 3 events then 2 decisions, newest first, two per page.
	path := "/api/v1/customers/" + url.PathEscape("email:ana@example.com") + "?limit=2"
	var kinds []string
	var firstPage customerAnswer
	for page := 0; ; page++ {
		res := h.do(http.MethodGet, path, viewerToken, nil)
		if res.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", page, res.status, res.body)
		}
		var c customerAnswer
		res.json(t, &c)
		if page == 0 {
			firstPage = c
		}
		if len(c.Timeline.Items) > 2 {
			t.Fatalf("page %d has %d items, limit 2", page, len(c.Timeline.Items))
		}
		for _, it := range c.Timeline.Items {
			label := it.Kind
			if it.Event != nil {
				label += ":" + it.Event.ID
			}
			kinds = append(kinds, label)
		}
		if c.Timeline.NextCursor == "" {
			break
		}
		if page > 5 {
			t.Fatal("timeline does not end")
		}
		path = "/api/v1/customers/ana@example.com?limit=2&cursor=" + url.QueryEscape(c.Timeline.NextCursor)
	}
	want := "decision decision event:e2 event:e1 event:e0"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("timeline = %s, want %s", got, want)
	}
	c := firstPage
	if c.Customer.ID == "" || len(c.Identities) != 1 || c.Identities[0] != "email:ana@example.com" || c.Attributes.Name != "Ana" {
		t.Errorf("customer: %+v", c)
	}
	if len(c.Silences.Active) != 1 || c.Silences.Active[0].ID != sil.ID || len(c.Silences.Past) != 0 {
		t.Errorf("silences: %+v", c.Silences)
	}

	// Link a phone, then find the same customer by it.
	res := h.do(http.MethodPost, "/api/v1/customers/ana@example.com/identities", adminToken, map[string]any{"identities": []string{"+34600111222"}})
	if res.status != http.StatusOK {
		t.Fatalf("link: %d %s", res.status, res.body)
	}
	var byPhone customerAnswer
	res = h.do(http.MethodGet, "/api/v1/customers/"+url.PathEscape("phone:+34600111222"), viewerToken, nil)
	res.json(t, &byPhone)
	if res.status != http.StatusOK || byPhone.Customer.ID != c.Customer.ID || len(byPhone.Identities) != 2 {
		t.Errorf("customer by linked phone: %d %s", res.status, res.body)
	}

	// Erase: gone, everything about them.
	if res := h.do(http.MethodDelete, "/api/v1/customers/ana@example.com", adminToken, nil); res.status != http.StatusNoContent {
		t.Fatalf("erase: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/api/v1/customers/ana@example.com", viewerToken, nil); res.status != http.StatusNotFound || res.errorCode(t) != "not_found" {
		t.Errorf("after erasure: %d %s", res.status, res.body)
	}
	if got := h.counts(); got.customers != 0 || got.silences != 0 || got.decisions != 0 {
		t.Errorf("after erasure the store holds %+v", got)
	}
	if res := h.do(http.MethodGet, "/api/v1/customers/nobody", viewerToken, nil); res.status != http.StatusBadRequest {
		t.Errorf("unparseable identity: %d %s", res.status, res.body)
	}
}

type customerAnswer struct {
	Customer   gateway.Customer   `json:"customer"`
	Identities []gateway.Identity `json:"identities"`
	Attributes struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	} `json:"attributes"`
	Timeline listPage[struct {
		Kind     string            `json:"kind"`
		Event    *gateway.Event    `json:"event"`
		Decision *gateway.Decision `json:"decision"`
	}] `json:"timeline"`
	Silences struct {
		Active []gateway.Silence `json:"active"`
		Past   []gateway.Silence `json:"past"`
	} `json:"silences"`
	OptOuts []gateway.OptOut `json:"optouts"`
}

func TestReport(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.silence("ana@example.com")
	h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "recipients": []any{map[string]string{"email": "ana@example.com"}}})
	res := h.do(http.MethodGet, "/api/v1/report?since=30d", viewerToken, nil)
	var rep gateway.Report
	res.json(t, &rep)
	if res.status != http.StatusOK || rep.DecisionsByReason[gateway.ReasonSilenced] != 1 || !rep.Since.Equal(testStart.Add(-30*24*time.Hour)) {
		t.Errorf("report: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodGet, "/api/v1/report?since=lately", viewerToken, nil); res.status != http.StatusBadRequest {
		t.Errorf("bad since: %d", res.status)
	}
}
