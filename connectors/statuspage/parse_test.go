package statuspage

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var goldenReceivedAt = time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)

// goldenResult is what a golden file holds: the parse result, or the error's code and message.
type goldenResult struct {
	Events  []gateway.Event `json:"events,omitempty"`
	Ignored int             `json:"ignored,omitempty"`
	Error   *goldenError    `json:"error,omitempty"`
}

type goldenError struct {
	Code    gateway.ErrorCode `json:"code"`
	Message string            `json:"message"`
}

// inputs lists testdata/*.json but the goldens.
func inputs(t testing.TB) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, ".golden.json") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("no testdata inputs")
	}
	return out
}

// TestParseGolden parses every input with a default source. Inputs named err_* must fail;
// every other one must parse.
func TestParseGolden(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, in := range inputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			res, err := src.Parse(request("secret="+testSecret, readTestdata(t, filepath.Base(in))))
			var got goldenResult
			if err != nil {
				if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
					t.Errorf("error %v does not have code invalid", err)
				}
				got.Error = &goldenError{Code: gateway.ErrorCodeOf(err), Message: gateway.ErrorMessageOf(err)}
				if !strings.HasPrefix(name, "err_") {
					t.Errorf("unexpected error: %v", err)
				}
			} else {
				got.Events, got.Ignored = res.Events, res.Ignored
				if strings.HasPrefix(name, "err_") {
					t.Errorf("want an error, got %d events", len(res.Events))
				}
			}
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, out)
			}
		})
	}
}

func TestParseSameDeliveryTwiceSameIDs(t *testing.T) {
	src := newSource(t, gateway.SourceConfig{Secret: testSecret})
	ids := map[string]string{}
	for _, in := range inputs(t) {
		body := readTestdata(t, filepath.Base(in))
		first, err1 := src.Parse(request("", body))
		later := request("", body)
		later.ReceivedAt = goldenReceivedAt.Add(time.Hour) // a retry, an hour later
		second, err2 := src.Parse(later)
		if (err1 == nil) != (err2 == nil) || len(first.Events) != len(second.Events) {
			t.Fatalf("%s: results differ: %v / %v", in, err1, err2)
		}
		for i := range first.Events {
			if first.Events[i].ID != second.Events[i].ID || !first.Events[i].At.Equal(second.Events[i].At) {
				t.Errorf("%s: event %d: %s at %s, then %s at %s", in, i,
					first.Events[i].ID, first.Events[i].At, second.Events[i].ID, second.Events[i].At)
			}
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
	for _, in := range inputs(f) {
		f.Add(readTestdata(f, filepath.Base(in)))
	}
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
