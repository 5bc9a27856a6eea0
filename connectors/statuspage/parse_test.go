package statuspage

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
	src := newSource(t, gateway.SourceConfig{Secret: testSecret})
	connectortest.Golden(t, connectortest.GoldenCase{
		Update: *update,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return src.Parse(request("secret="+testSecret, body))
		},
	})
}

func TestParseSameDeliveryTwiceSameIDs(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: testSecret})
	ids := map[string]string{}
	for _, in := range connectortest.Inputs(t, "", "") {
		body := readTestdata(t, filepath.Base(in))
		first, err1 := src.Parse(request("", body))
		later := request("", body)
		later.ReceivedAt = goldenReceivedAt.Add(time.Hour) // a retry, an hour later
		second, err2 := src.Parse(later)
		connectortest.SameIDsAndTimes(t, in, first, err1, second, err2)
		for i := range first.Events {
			if other, ok := ids[first.Events[i].ID]; ok {
				t.Errorf("%s and %s (two updates) share the id %s", in, other, first.Events[i].ID)
			}
			ids[first.Events[i].ID] = in
		}
	}
}

// edit rewrites fields of a fixture's incident, for the mapping table (nil deletes).
func edit(t *testing.T, file string, fields map[string]any) []byte {
	t.Helper()
	var doc map[string]map[string]any
	if err := json.Unmarshal(readTestdata(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if v == nil {
			delete(doc["incident"], k)
		} else {
			doc["incident"][k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStatuses(t *testing.T) {
	const created, updated, resolved = "2017-12-26T07:32:00.507Z", "2017-12-26T07:37:20.837Z", "2017-12-26T07:37:20.785Z"
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	maint := map[string]any{"maintenance": true}
	tests := []struct {
		name   string
		opts   map[string]any
		fields map[string]any
		want   string // "" = ignored
		wantAt time.Time
	}{
		{"investigating opens at creation", nil, map[string]any{"status": "investigating"}, gateway.EventIncidentOpened, at(created)},
		{"identified opens", nil, map[string]any{"status": "identified"}, gateway.EventIncidentOpened, at(created)},
		{"monitoring re-opens (the engine keeps one)", nil, map[string]any{"status": "monitoring"}, gateway.EventIncidentOpened, at(created)},
		{"resolved resolves at resolved_at", nil, map[string]any{"status": "resolved"}, gateway.EventIncidentResolved, at(resolved)},
		{"postmortem resolves at resolved_at", nil, map[string]any{"status": "postmortem"}, gateway.EventIncidentResolved, at(resolved)},
		{"resolved without resolved_at: updated_at", nil, map[string]any{"status": "resolved", "resolved_at": nil}, gateway.EventIncidentResolved, at(updated)},
		{"no times at all: time of receipt", nil, map[string]any{"status": "identified", "created_at": nil, "updated_at": nil, "resolved_at": nil}, gateway.EventIncidentOpened, goldenReceivedAt},
		{"maintenance ignored by default", nil, map[string]any{"status": "in_progress", "scheduled_for": created}, "", time.Time{}},
		{"maintenance scheduled: ignored", maint, map[string]any{"status": "scheduled", "scheduled_for": created}, "", time.Time{}},
		{"maintenance in progress opens at update", maint, map[string]any{"status": "in_progress", "scheduled_for": created}, gateway.EventIncidentOpened, at(updated)},
		{"maintenance verifying opens", maint, map[string]any{"status": "verifying", "scheduled_for": created}, gateway.EventIncidentOpened, at(updated)},
		{"maintenance completed resolves", maint, map[string]any{"status": "completed", "scheduled_for": created}, gateway.EventIncidentResolved, at(resolved)},
		{"unknown status ignored", nil, map[string]any{"status": "haunted"}, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, gateway.SourceConfig{Secret: testSecret, Options: tt.opts})
			res, err := src.Parse(request("", edit(t, "incident_update.json", tt.fields)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(res.Events) != 0 || res.Ignored != 1 {
					t.Fatalf("want ignored, got %+v", res)
				}
				return
			}
			if len(res.Events) != 1 {
				t.Fatalf("want one event, got %+v", res)
			}
			ev := res.Events[0]
			if ev.Type != tt.want || !ev.At.Equal(tt.wantAt) || ev.Topic != "statuspage:incident:z3lct0r596n4" {
				t.Fatalf("event %s at %s topic %s; want %s at %s", ev.Type, ev.At, ev.Topic, tt.want, tt.wantAt)
			}
		})
	}
}

func TestParseIDs(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: testSecret, Options: map[string]any{"scope": "tag:fibra"}})
	tests := []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"incident id and updated_at", nil, "z3lct0r596n4:2017-12-26T07:37:20.837Z"},
		{"updated_at normalized to UTC", map[string]any{"updated_at": "2017-12-26T08:37:20.837+01:00"}, "z3lct0r596n4:2017-12-26T07:37:20.837Z"},
		{"no updated_at: latest update id", map[string]any{"updated_at": nil}, "z3lct0r596n4:cdwfdrjlp53y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := src.Parse(request("", edit(t, "incident_update.json", tt.fields)))
			if err != nil {
				t.Fatal(err)
			}
			if ev := res.Events[0]; ev.ID != tt.want || ev.Attrs["scope"] != "tag:fibra" || ev.Attrs["update"] != "cdwfdrjlp53y" {
				t.Fatalf("id %s attrs %v, want %s", ev.ID, ev.Attrs, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: testSecret})
	tests := []struct {
		name, body, want string
	}{
		{"empty", ``, "ends too early"},
		{"array", `[{"incident":{}}]`, "body is a JSON array; want an object"},
		{"neither incident nor component", `{"page":{"id":"p"}}`, "not a Statuspage webhook"},
		{"incident null", `{"incident":null}`, "not a Statuspage webhook"},
		{"no incident id", `{"incident":{"status":"identified","name":"secret name"}}`, `field "incident.id" is missing`},
		{"no status", `{"incident":{"id":"i1"}}`, `field "incident.status" is missing`},
		{"name not a string", `{"incident":{"id":"i1","status":"identified","name":7}}`, `field "incident.name" is a JSON number; want a string`},
		{"bad updated_at", `{"incident":{"id":"i1","status":"identified","updated_at":"secret o'clock"}}`, `field "incident.updated_at" is not an RFC 3339 time`},
		{"no version at all", `{"incident":{"id":"i1","status":"identified"}}`, `field "incident.updated_at" is missing`},
		{"trailing data", `{"component":{}} x`, "after its JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := src.Parse(request("", []byte(tt.body)))
			if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want invalid containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q echoes the payload", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	src := newSource(f, gateway.SourceConfig{Secret: testSecret, Options: map[string]any{"maintenance": true}})
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
			if ev.ID == "" || len(ev.ID) > maxIDLength || ev.Source != "sp" || !gateway.KnownEventType(ev.Type) ||
				ev.At.IsZero() || ev.Topic == "statuspage:incident:" || ev.Attrs["scope"] != "all" {
				t.Fatalf("incomplete event %+v", ev)
			}
		}
	})
}
