package generic

import (
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var goldenReceivedAt = time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)

func TestParseGolden(t *testing.T) {
	connectortest.Golden(t, connectortest.GoldenCase{
		Update: *update,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return ParseEvents(body, ParseOptions{
				Source: "acme", DeliveryID: "msg_2Kx", ReceivedAt: goldenReceivedAt, DefaultRegion: "ES",
			})
		},
		CheckError: func(t *testing.T, err error) {
			var ge *gateway.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *gateway.Error", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v does not carry a *FieldError", err)
			}
		},
		CheckEvent: func(t *testing.T, _ []byte, ev gateway.Event) {
			if !json.Valid(ev.Raw) {
				t.Errorf("event %s: Raw is not the JSON of the event", ev.ID)
			}
		},
	})
}

func TestParseDefaults(t *testing.T) {
	body := []byte(`[{"type":"call.missed","customer":{"email":"a@x.com"}},{"type":"call.missed","customer":{"email":"b@x.com"},"at":"2026-01-02T03:04:05Z"}]`)
	res, err := ParseEvents(body, ParseOptions{Source: "crm", DeliveryID: "d1", ReceivedAt: goldenReceivedAt})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 {
		t.Fatalf("got %d events", len(res.Events))
	}
	tests := []struct {
		got, want any
		what      string
	}{
		{res.Events[0].ID, "d1#0", "array id from webhook-id"},
		{res.Events[1].ID, "d1#1", "second array id"},
		{res.Events[0].Source, "crm", "source from the configured name"},
		{res.Events[0].At, goldenReceivedAt, "missing at is the time of receipt"},
		{res.Events[1].At, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "given at"},
		{res.Events[1].ReceivedAt, goldenReceivedAt, "received at"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.what, tt.got, tt.want)
		}
	}
	// A single object takes the delivery id as is.
	res, err = ParseEvents([]byte(`{"type":"call.missed","customer":{"email":"a@x.com"}}`), ParseOptions{Source: "crm", DeliveryID: "d2"})
	if err != nil || res.Events[0].ID != "d2" {
		t.Fatalf("single object id: %v %v", res.Events, err)
	}
	// Without a delivery id (admin API) an id is required; without a configured source, source is.
	_, err = ParseEvents([]byte(`{"type":"call.missed","customer":{"email":"a@x.com"}}`), ParseOptions{Source: "crm"})
	if err == nil || !strings.Contains(err.Error(), `field "id" is required`) {
		t.Fatalf("missing id: %v", err)
	}
	_, err = ParseEvents([]byte(`{"id":"1","type":"call.missed","customer":{"email":"a@x.com"}}`), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), `field "source" is required`) {
		t.Fatalf("missing source: %v", err)
	}
}

func TestParseLimits(t *testing.T) {
	one := `{"type":"call.missed","customer":{"email":"a@x.com"}}`
	many := func(n int) []byte {
		return []byte("[" + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + "]")
	}
	if res, err := ParseEvents(many(MaxEvents), ParseOptions{Source: "s", DeliveryID: "d"}); err != nil || len(res.Events) != MaxEvents {
		t.Fatalf("%d events: %v", MaxEvents, err)
	}
	if _, err := ParseEvents(many(MaxEvents+1), ParseOptions{Source: "s", DeliveryID: "d"}); err == nil {
		t.Fatalf("%d events accepted", MaxEvents+1)
	}
	for _, body := range []string{"", "  ", "[]", "null", "true"} {
		if _, err := ParseEvents([]byte(body), ParseOptions{Source: "s", DeliveryID: "d"}); gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
			t.Errorf("body %q: err = %v, want invalid", body, err)
		}
	}
}

func TestParseErrorsKeepPersonalDataOut(t *testing.T) {
	bodies := []string{
		`{"type":"survey.response","customer":{"email":"secret.person at nowhere"}}`,
		`{"type":"survey.response","customer":{"phone":"secret-phone-123"}}`,
		`{"type":"survey.response","customer":{"ids":{"zendesk":"secret\u0001"}}}`,
	}
	for _, b := range bodies {
		_, err := ParseEvents([]byte(b), ParseOptions{Source: "s", DeliveryID: "d"})
		if err == nil {
			t.Fatalf("%s accepted", b)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q quotes the identity", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseEvents(body, ParseOptions{Source: "acme", DeliveryID: "d", ReceivedAt: goldenReceivedAt})
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(res.Events)+res.Ignored == 0 {
			t.Fatal("accepted a body with no events")
		}
		ids := map[string]bool{}
		for _, ev := range res.Events {
			if ev.ID == "" || ev.Source != "acme" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ids[ev.ID] {
				t.Fatalf("duplicate id %q", ev.ID)
			}
			ids[ev.ID] = true
			if ev.CSAT != nil && (*ev.CSAT < 1 || *ev.CSAT > 5) {
				t.Fatalf("csat %v out of range", *ev.CSAT)
			}
		}
	})
}
