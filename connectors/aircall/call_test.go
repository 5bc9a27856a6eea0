package aircall

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var goldenReceivedAt = time.Date(2022, 3, 4, 10, 30, 0, 0, time.UTC)

func TestParseGolden(t *testing.T) {
	connectortest.Golden(t, connectortest.GoldenCase{
		Update: *update,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return ParseCall(body, ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt, DefaultRegion: "GB"})
		},
	})
}

// fixtureWith is the real missed call.ended with some data fields replaced (nil deletes).
func fixtureWith(t *testing.T, data map[string]any) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "call_ended_inbound_missed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	d := doc["data"].(map[string]any)
	for k, v := range data {
		if v == nil {
			delete(d, k)
			continue
		}
		d[k] = v
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseMapping(t *testing.T) {
	null := json.RawMessage("null")
	tests := []struct {
		name      string
		data      map[string]any
		wantType  string // "" : ignored
		wantWait  float64
		wantPhone string
		wantTopic string
	}{
		{"no answer, nobody available", map[string]any{"missed_call_reason": "no_available_agent"}, gateway.EventCallMissed, 17, "+44 330 818 6690", "aircall:caller:443308186690"},
		{"out of opening hours is missed, not abandoned", map[string]any{"missed_call_reason": "out_of_opening_hours"}, gateway.EventCallMissed, 17, "+44 330 818 6690", "aircall:caller:443308186690"},
		{"short abandon", map[string]any{"missed_call_reason": "short_abandoned"}, gateway.EventCallAbandoned, 17, "+44 330 818 6690", "aircall:caller:443308186690"},
		{"abandoned in queue", map[string]any{"missed_call_reason": "abandoned_in_classic"}, gateway.EventCallAbandoned, 17, "+44 330 818 6690", "aircall:caller:443308186690"},
		{"not answered, no reason given", map[string]any{"missed_call_reason": null}, gateway.EventCallMissed, 17, "+44 330 818 6690", "aircall:caller:443308186690"},
		{"answered inbound", map[string]any{"answered_at": 1646389749, "missed_call_reason": null}, gateway.EventCallCompleted, 10, "+44 330 818 6690", "aircall:caller:443308186690"},
		{"national number read with the default region", map[string]any{"raw_digits": "0330 818 6690"}, gateway.EventCallMissed, 17, "0330 818 6690", "aircall:caller:443308186690"},
		{"unreadable number falls back to the contact's", map[string]any{"raw_digits": "unknown", "contact": map[string]any{"id": 5, "phone_numbers": []any{map[string]any{"value": "+34 600 111 222"}}}}, gateway.EventCallMissed, 17, "+34 600 111 222", "aircall:caller:34600111222"},
		{"contact without a phone: topic on the contact", map[string]any{"raw_digits": "unknown", "contact": map[string]any{"id": 5, "emails": []any{map[string]any{"value": "a@example.com"}}}}, gateway.EventCallMissed, 17, "", "aircall:contact:5"},
		{"nobody to attribute the call to", map[string]any{"raw_digits": "unknown"}, "", 0, "", ""},
		{"outbound nobody answered", map[string]any{"direction": "outbound", "missed_call_reason": null}, "", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseCall(fixtureWith(t, tt.data), ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt, DefaultRegion: "GB"})
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
			if ev.Type != tt.wantType || ev.Customer.Phone != tt.wantPhone || ev.Topic != tt.wantTopic {
				t.Errorf("got type %s phone %q topic %q; want %s %q %q", ev.Type, ev.Customer.Phone, ev.Topic, tt.wantType, tt.wantPhone, tt.wantTopic)
			}
			if ev.WaitSeconds == nil || *ev.WaitSeconds != tt.wantWait {
				t.Errorf("wait_seconds = %v, want %v", ev.WaitSeconds, tt.wantWait)
			}
			if ev.ID != "780836754:call.ended" || ev.Channel != gateway.ChannelVoice || !ev.At.Equal(time.Unix(1646389786, 0)) {
				t.Errorf("id %q channel %q at %v", ev.ID, ev.Channel, ev.At)
			}
		})
	}
}

func TestParseAnsweredDurations(t *testing.T) {
	res, err := ParseCall(fixtureWith(t, map[string]any{"answered_at": 1646389749, "ended_at": 1646389869, "duration": 130}),
		ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	ev := res.Events[0]
	// Aircall's duration (130) runs from started_at; the conversation is ended - answered.
	if *ev.WaitSeconds != 10 || *ev.DurationSeconds != 120 || ev.Attrs["total_seconds"] != float64(130) || ev.Status != gateway.StatusSolved {
		t.Fatalf("wait %v duration %v attrs %v status %q", *ev.WaitSeconds, *ev.DurationSeconds, ev.Attrs, ev.Status)
	}
	// An outbound answered call is a contact, but the customer did not wait for anybody.
	res, err = ParseCall(fixtureWith(t, map[string]any{"direction": "outbound", "answered_at": 1646389749}),
		ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt})
	if err != nil || len(res.Events) != 1 || res.Events[0].Type != gateway.EventCallCompleted || res.Events[0].WaitSeconds != nil {
		t.Fatalf("outbound answered: %+v %v", res, err)
	}
}

func TestParseSameDeliverySameID(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "call_ended_inbound_missed.json"))
	if err != nil {
		t.Fatal(err)
	}
	first, err1 := ParseCall(body, ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt})
	again, err2 := ParseCall(body, ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt.Add(time.Hour)})
	if err1 != nil || err2 != nil || len(first.Events) != 1 || len(again.Events) != 1 {
		t.Fatalf("%v %v", err1, err2)
	}
	if first.Events[0].ID != again.Events[0].ID || !first.Events[0].At.Equal(again.Events[0].At) {
		t.Fatalf("redelivery: id %q at %v, then %q at %v", first.Events[0].ID, first.Events[0].At, again.Events[0].ID, again.Events[0].At)
	}
}

func TestParseErrorsNameNoPersonalData(t *testing.T) {
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"id of the wrong type", map[string]any{"id": true}, `"data.id"`},
		{"direction unknown", map[string]any{"direction": "+44 330 818 6690"}, `"data.direction"`},
		{"raw_digits not a string", map[string]any{"raw_digits": 443308186690}, `"data.raw_digits"`},
		{"answered_at negative", map[string]any{"answered_at": -5}, `"data.answered_at"`},
		{"data not an object", map[string]any{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCall(fixtureWith(t, tt.data), ParseOptions{Source: "phones"})
			if tt.want == "" {
				return // only checked not to panic below
			}
			if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want code invalid naming %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "330 818") {
				t.Errorf("error %q quotes the phone number", err)
			}
		})
	}
	_, err := ParseCall([]byte(`{"event":"call.ended","data":"780836754"}`), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), `"data" is not an object`) {
		t.Fatalf("data as a string: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseCall(body, ParseOptions{Source: "phones", ReceivedAt: goldenReceivedAt, DefaultRegion: "GB"})
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(res.Events)+res.Ignored != 1 {
			t.Fatalf("a delivery is one event or one ignored, got %+v", res)
		}
		for _, ev := range res.Events {
			if ev.ID == "" || ev.Source != "phones" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() || ev.Topic == "" {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ids, _ := ev.Identities("GB"); len(ids) == 0 {
				t.Fatalf("event names nobody hush can resolve: %+v", ev.Customer)
			}
			for _, s := range []*float64{ev.WaitSeconds, ev.DurationSeconds} {
				if s != nil && *s < 0 {
					t.Fatalf("negative seconds in %+v", ev)
				}
			}
		}
		// Verification must never panic on what parsing saw either.
		_, _ = bodyToken(body)
	})
}
