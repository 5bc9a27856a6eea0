package twilio

import (
	"bytes"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var goldenReceivedAt = time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)

func testSource(t testing.TB) *Source {
	t.Helper()
	src, err := NewSource(gateway.SourceConfig{Name: "twilio", Kind: Kind, Options: map[string]any{
		OptionAuthToken: "12345", OptionPublicURL: "https://hush.example.com/webhooks/twilio",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func formRequest(body string, at time.Time) *gateway.WebhookRequest {
	return &gateway.WebhookRequest{Source: "twilio", Method: "POST", URL: &url.URL{Path: "/webhooks/twilio"},
		Header: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(body), ReceivedAt: at}
}

func TestParseGolden(t *testing.T) {
	src := testSource(t)
	connectortest.Golden(t, connectortest.GoldenCase{
		Ext:    ".form",
		Update: *update,
		CheckInput: func(t *testing.T, path string, body []byte) {
			if bytes.HasSuffix(body, []byte("\n")) {
				t.Fatalf("%s ends with a newline; a Twilio body does not", path)
			}
		},
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return src.Parse(formRequest(string(body), goldenReceivedAt))
		},
	})
}

// form builds a body from pairs, in order.
func form(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]) + "=" + url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

func TestParseCallStatuses(t *testing.T) {
	src := testSource(t)
	call := func(status, direction string) string {
		return form("CallSid", "CA01", "CallStatus", status, "Direction", direction,
			"From", "+34600111222", "To", "+34911234567", "CallDuration", "30",
			"Timestamp", "Fri, 20 Nov 2026 09:30:00 +0000")
	}
	tests := []struct {
		name, body string
		wantType   string // "" means ignored
		wantPhone  string
		wantLine   string
	}{
		{"completed inbound", call("completed", "inbound"), gateway.EventCallCompleted, "+34600111222", "+34911234567"},
		{"completed outbound-api", call("completed", "outbound-api"), gateway.EventCallCompleted, "+34911234567", "+34600111222"},
		{"completed outbound-dial", call("completed", "outbound-dial"), gateway.EventCallCompleted, "+34911234567", "+34600111222"},
		{"busy", call("busy", "inbound"), gateway.EventCallMissed, "+34600111222", "+34911234567"},
		{"no-answer outbound", call("no-answer", "outbound-api"), gateway.EventCallMissed, "+34911234567", "+34600111222"},
		{"canceled inbound", call("canceled", "inbound"), gateway.EventCallAbandoned, "+34600111222", "+34911234567"},
		{"canceled outbound (by the business)", call("canceled", "outbound-api"), "", "", ""},
		{"status in upper case", call("COMPLETED", "Inbound"), gateway.EventCallCompleted, "+34600111222", "+34911234567"},
		{"queued", call("queued", "outbound-api"), "", "", ""},
		{"initiated", call("initiated", "outbound-api"), "", "", ""},
		{"ringing", call("ringing", "inbound"), "", "", ""},
		{"in-progress", call("in-progress", "inbound"), "", "", ""},
		{"failed", call("failed", "outbound-api"), "", "", ""},
		{"recording callback", form("CallSid", "CA01", "RecordingSid", "RE01", "RecordingStatus", "completed"), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := src.Parse(formRequest(tt.body, goldenReceivedAt))
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
			status := strings.ToLower(url.Values(mustQuery(t, tt.body)).Get("CallStatus"))
			checks := []struct {
				what      string
				got, want any
			}{
				{"type", ev.Type, tt.wantType},
				{"id", ev.ID, "CA01:" + status},
				{"phone", ev.Customer.Phone, tt.wantPhone},
				{"topic", ev.Topic, "twilio:caller:" + tt.wantPhone},
				{"twilio_number", ev.Attrs["twilio_number"], tt.wantLine},
				{"channel", ev.Channel, gateway.ChannelVoice},
				{"at", ev.At, time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)},
				{"source", ev.Source, "twilio"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			if (ev.DurationSeconds != nil) != (tt.wantType == gateway.EventCallCompleted) {
				t.Errorf("duration_seconds = %v for %s", ev.DurationSeconds, tt.wantType)
			}
		})
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseMessages(t *testing.T) {
	src := testSource(t)
	msg := func(extra ...string) string {
		return form(append([]string{"MessageSid", "SM01", "From", "+34600111222", "To", "+34911234567", "SmsStatus", "received"}, extra...)...)
	}
	tests := []struct {
		name      string
		body      string
		wantTypes []string
		wantIDs   []string
		channel   gateway.Channel
	}{
		{"plain text", msg("Body", "hola"), []string{"sms.inbound"}, []string{"SM01"}, gateway.ChannelSMS},
		{"STOP", msg("Body", "STOP"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"stop lower case with spaces", msg("Body", "  stop \r\n"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"STOP ALL with a space", msg("Body", "Stop All"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"unsubscribe", msg("Body", "Unsubscribe"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"alto accented", msg("Body", "ÁLTO"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"cancelar with combining accent", msg("Body", "cancela\u0301r"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"parar", msg("Body", "Parar"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"keyword inside a sentence is not one", msg("Body", "please stop calling"), []string{"sms.inbound"}, []string{"SM01"}, gateway.ChannelSMS},
		{"keyword with punctuation is not one", msg("Body", "STOP!"), []string{"sms.inbound"}, []string{"SM01"}, gateway.ChannelSMS},
		{"unstop", msg("Body", "unstop"), []string{"sms.inbound", "consent.optin"}, []string{"SM01", "SM01:optin"}, gateway.ChannelSMS},
		{"yes", msg("Body", "Yes"), []string{"sms.inbound", "consent.optin"}, []string{"SM01", "SM01:optin"}, gateway.ChannelSMS},
		{"activar", msg("Body", "ACTIVAR"), []string{"sms.inbound", "consent.optin"}, []string{"SM01", "SM01:optin"}, gateway.ChannelSMS},
		{"alta", msg("Body", "alta"), []string{"sms.inbound", "consent.optin"}, []string{"SM01", "SM01:optin"}, gateway.ChannelSMS},
		{"help", msg("Body", "HELP"), []string{"sms.inbound"}, []string{"SM01"}, gateway.ChannelSMS},
		{"ayuda", msg("Body", "Ayuda"), []string{"sms.inbound"}, []string{"SM01"}, gateway.ChannelSMS},
		{"OptOutType STOP with a custom keyword", msg("Body", "NO MORE", "OptOutType", "STOP"), []string{"sms.inbound", "consent.optout"}, []string{"SM01", "SM01:optout"}, gateway.ChannelSMS},
		{"OptOutType START", msg("Body", "VUELVO", "OptOutType", "START"), []string{"sms.inbound", "consent.optin"}, []string{"SM01", "SM01:optin"}, gateway.ChannelSMS},
		{"OptOutType HELP wins over the body", msg("Body", "STOP", "OptOutType", "HELP"), []string{"sms.inbound"}, []string{"SM01"}, gateway.ChannelSMS},
		{"whatsapp", form("MessageSid", "SM02", "From", "whatsapp:+34600111222", "To", "whatsapp:+14155550199", "Body", "baja"),
			[]string{"sms.inbound", "consent.optout"}, []string{"SM02", "SM02:optout"}, gateway.ChannelWhatsApp},
		{"only the deprecated SmsSid", form("SmsSid", "SM03", "From", "+34600111222", "Body", "hola"), []string{"sms.inbound"}, []string{"SM03"}, gateway.ChannelSMS},
		{"outbound status callback", form("MessageSid", "SM04", "MessageStatus", "delivered", "From", "+34911234567", "To", "+34600111222"), nil, nil, ""},
		{"outbound status callback, SmsStatus only", form("MessageSid", "SM04", "SmsStatus", "undelivered", "From", "+34911234567"), nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := src.Parse(formRequest(tt.body, goldenReceivedAt))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantTypes == nil {
				if len(res.Events) != 0 || res.Ignored != 1 {
					t.Fatalf("want ignored, got %+v", res)
				}
				return
			}
			var types, ids []string
			for _, ev := range res.Events {
				types, ids = append(types, ev.Type), append(ids, ev.ID)
				if ev.Channel != tt.channel || ev.Customer.Phone == "" || !ev.At.Equal(goldenReceivedAt) {
					t.Errorf("event %s: channel %q, phone %q, at %v", ev.ID, ev.Channel, ev.Customer.Phone, ev.At)
				}
			}
			if strings.Join(types, ",") != strings.Join(tt.wantTypes, ",") || strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Fatalf("got types %v ids %v, want %v %v", types, ids, tt.wantTypes, tt.wantIDs)
			}
			if in := res.Events[0]; in.Text != mustQuery(t, tt.body).Get("Body") {
				t.Errorf("text = %q", in.Text)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	src := testSource(t)
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "body is empty"},
		{"blank", " \n", "body is empty"},
		{"broken JSON", `{"MessageSid":`, "not valid JSON"},
		{"bad form escape", "MessageSid=SM01&Body=%zz", "not form-encoded"},
		{"neither sid", "From=%2B34600111222&Body=hola", "neither MessageSid nor CallSid"},
		{"message without From", "MessageSid=SM01&Body=secret-text", `parameter "From" is missing`},
		{"call without Direction", "CallSid=CA01&CallStatus=completed&From=%2B34600111222", `parameter "Direction" is missing`},
		{"call with unknown Direction", "CallSid=CA01&CallStatus=busy&Direction=sideways&From=%2B34600111222", `parameter "Direction" is "sideways"`},
		{"outbound call without To", "CallSid=CA01&CallStatus=busy&Direction=outbound-api&From=%2B34911234567", `parameter "To" is missing`},
		{"bad duration", "CallSid=CA01&CallStatus=completed&Direction=inbound&From=%2B34600111222&CallDuration=-4", `parameter "CallDuration"`},
		{"bad timestamp", "CallSid=CA01&CallStatus=completed&Direction=inbound&From=%2B34600111222&Timestamp=yesterday", `parameter "Timestamp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := src.Parse(formRequest(tt.body, goldenReceivedAt))
			if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want invalid containing %q", err, tt.want)
			}
			for _, personal := range []string{"600111222", "911234567", "secret-text"} {
				if strings.Contains(err.Error(), personal) {
					t.Errorf("error %q quotes personal data", err)
				}
			}
		})
	}
}

func TestParseJSONIsIgnored(t *testing.T) {
	// Twilio signs JSON bodies (Studio's HTTP widget, Event Streams) with bodySHA256; they
	// verify but are not message or call callbacks.
	res, err := testSource(t).Parse(formRequest(`[{"specversion":"1.0","type":"com.twilio.messaging.message.delivered"}]`, goldenReceivedAt))
	if err != nil || res.Ignored != 1 || len(res.Events) != 0 {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
}

func TestParseSameDeliverySameIDs(t *testing.T) {
	src := testSource(t)
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.form"))
	for _, in := range inputs {
		body, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		first, err1 := src.Parse(formRequest(string(body), goldenReceivedAt))
		again, err2 := src.Parse(formRequest(string(body), goldenReceivedAt.Add(time.Hour)))
		connectortest.SameIDs(t, in, first, err1, again, err2)
	}
}

func TestParseReceivedAtDefaultsToNow(t *testing.T) {
	res, err := testSource(t).Parse(formRequest("MessageSid=SM01&From=%2B34600111222&Body=hola", time.Time{}))
	if err != nil || res.Events[0].At.IsZero() || res.Events[0].At.Location() != time.UTC {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", ".form")
	src := testSource(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := src.Parse(formRequest(string(body), goldenReceivedAt))
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
			if ev.ID == "" || ev.Source != "twilio" || ev.Type == "" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ev.Customer.Phone == "" {
				t.Fatalf("event %s names no customer", ev.ID)
			}
			if ids[ev.ID] {
				t.Fatalf("duplicate id %q", ev.ID)
			}
			ids[ev.ID] = true
		}
	})
}
