package pagerduty

import (
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var goldenReceivedAt = time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)

func TestParseGolden(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: "k"})
	connectortest.Golden(t, connectortest.GoldenCase{
		Update: *update,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return src.Parse(request("", body))
		},
	})
}

func TestParseSameDeliveryTwiceSameIDs(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: "k"})
	for _, in := range connectortest.Inputs(t, "", "") {
		body := readTestdata(t, filepath.Base(in))
		first, err1 := src.Parse(request("", body))
		later := request("", body)
		later.ReceivedAt = goldenReceivedAt.Add(time.Hour) // a retry, an hour later
		second, err2 := src.Parse(later)
		connectortest.SameIDsAndTimes(t, in, first, err1, second, err2)
	}
}

// withEventType rewrites a fixture's event_type, for the mapping table.
func withEventType(t *testing.T, file, eventType string) []byte {
	t.Helper()
	var doc map[string]map[string]any
	if err := json.Unmarshal(readTestdata(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	doc["event"]["event_type"] = eventType
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMappingAndFilters(t *testing.T) {
	triggered := readTestdata(t, "triggered_v3.json") // service PA2P440 "pig208", urgency high
	reopened := readTestdata(t, "reopened_v3.json")   // service PLVTM9H "Default Service", urgency low
	resolved := readTestdata(t, "resolved_v3.json")   // service PA2P440, urgency high
	tests := []struct {
		name     string
		opts     map[string]any
		body     []byte
		wantType string // "" = ignored
		wantAttr map[string]any
	}{
		{"triggered opens", nil, triggered, gateway.EventIncidentOpened, map[string]any{"scope": "all", "title": "Test Incident 3", "service": "pig208", "urgency": "high"}},
		{"reopened opens", nil, reopened, gateway.EventIncidentOpened, map[string]any{"urgency": "low", "priority": "P3"}},
		{"resolved resolves", nil, resolved, gateway.EventIncidentResolved, map[string]any{"title": "Test Incident"}},
		{"acknowledged is ignored", nil, withEventType(t, "triggered_v3.json", "incident.acknowledged"), "", nil},
		{"unacknowledged is ignored", nil, withEventType(t, "triggered_v3.json", "incident.unacknowledged"), "", nil},
		{"a future event type is ignored", nil, withEventType(t, "triggered_v3.json", "incident.something_new"), "", nil},
		{"scope from config", map[string]any{"scope": "tag:fibra"}, triggered, gateway.EventIncidentOpened, map[string]any{"scope": "tag:fibra"}},
		{"service by id", map[string]any{"services": []any{"PA2P440"}}, triggered, gateway.EventIncidentOpened, nil},
		{"service by name, any case", map[string]any{"services": []any{"PIG208"}}, triggered, gateway.EventIncidentOpened, nil},
		{"other service ignored", map[string]any{"services": []any{"PA2P440"}}, reopened, "", nil},
		{"urgency accepted", map[string]any{"urgencies": []any{"high"}}, triggered, gateway.EventIncidentOpened, nil},
		{"low urgency ignored", map[string]any{"urgencies": []any{"high"}}, reopened, "", nil},
		{"resolution passes any filter", map[string]any{"services": []any{"PX"}, "urgencies": []any{"low"}}, resolved, gateway.EventIncidentResolved, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, gateway.SourceConfig{Secret: "k", Options: tt.opts})
			res, err := src.Parse(request("", tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantType == "" {
				if len(res.Events) != 0 || res.Ignored != 1 {
					t.Fatalf("want ignored, got %+v", res)
				}
				return
			}
			if len(res.Events) != 1 || res.Ignored != 0 {
				t.Fatalf("want one event, got %+v", res)
			}
			ev := res.Events[0]
			if ev.Type != tt.wantType || ev.Source != "pd" || !strings.HasPrefix(ev.Topic, "pagerduty:incident:") {
				t.Fatalf("event %+v", ev)
			}
			for k, v := range tt.wantAttr {
				if ev.Attrs[k] != v {
					t.Errorf("attrs.%s = %v, want %v", k, ev.Attrs[k], v)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: "k"})
	tests := []struct {
		name, body, want string
	}{
		{"empty", ``, "ends too early"},
		{"array", `[]`, "body is a JSON array; want an object"},
		{"v2 webhook", `{"messages":[{"event":"incident.trigger"}]}`, "V1/V2 webhook"},
		{"no event", `{"incident":{}}`, `field "event" is missing`},
		{"event null", `{"event":null}`, `field "event" is missing`},
		{"no event type", `{"event":{"id":"E1"}}`, `field "event.event_type" is missing`},
		{"no id", `{"event":{"event_type":"incident.triggered","data":{"id":"P1"}}}`, `field "event.id" is missing`},
		{"no data", `{"event":{"id":"E1","event_type":"incident.resolved"}}`, `field "event.data" is missing`},
		{"no incident id", `{"event":{"id":"E1","event_type":"incident.resolved","data":{"title":"secret title"}}}`, `field "event.data.id" is missing`},
		{"title not a string", `{"event":{"id":"E1","event_type":"incident.triggered","data":{"id":"P1","title":7}}}`, `field "event.data.title" is a JSON number; want a string`},
		{"data not an object", `{"event":{"id":"E1","event_type":"incident.triggered","data":"secret title"}}`, `field "event.data" is a JSON string; want an object`},
		{"bad time", `{"event":{"id":"E1","event_type":"incident.triggered","occurred_at":"yesterday","data":{"id":"P1"}}}`, `field "event.occurred_at" is not an RFC 3339 time`},
		{"trailing data", `{"event":{"id":"E1","event_type":"x"}} {}`, "after its JSON value"},
		{"long id", `{"event":{"id":"` + strings.Repeat("x", 300) + `","event_type":"incident.resolved","data":{"id":"P1"}}}`, "longer than 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := src.Parse(request("", []byte(tt.body)))
			if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want invalid containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret title") || strings.Contains(err.Error(), "yesterday") {
				t.Errorf("error %q echoes the payload", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	src := newSource(f, gateway.SourceConfig{Secret: "k", Options: map[string]any{"urgencies": []any{"high"}}})
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := src.Parse(request("", body))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(res.Events)+res.Ignored != 1 {
			t.Fatalf("a delivery is one event, got %+v", res)
		}
		for _, ev := range res.Events {
			if ev.ID == "" || ev.Source != "pd" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() ||
				ev.Topic == "pagerduty:incident:" || ev.Attrs["scope"] != "all" {
				t.Fatalf("incomplete event %+v", ev)
			}
		}
	})
}
