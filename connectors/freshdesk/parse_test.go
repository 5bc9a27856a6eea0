package freshdesk

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var goldenReceivedAt = time.Date(2026, 11, 23, 10, 21, 0, 0, time.UTC)

// wantError lists the inputs that must not parse, besides the err_* files.
var wantError = map[string]bool{}

func TestParseGolden(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "freshdesk", Kind: Kind, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	connectortest.Golden(t, connectortest.GoldenCase{
		Update:    *update,
		WantError: wantError,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return src.Parse(&gateway.WebhookRequest{Source: "freshdesk", Body: body, ReceivedAt: goldenReceivedAt})
		},
		CheckEvent: connectortest.RawIsBody,
	})
}

// TestRedeliveryKeepsIDs parses every input twice, received at different times and with
// other headers, as a retry would arrive: the event ids must not change.
func TestRedeliveryKeepsIDs(t *testing.T) {
	for _, in := range connectortest.Inputs(t, "", "") {
		body, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		first, err1 := ParseBody(body, "freshdesk", goldenReceivedAt)
		again, err2 := ParseBody(body, "freshdesk", goldenReceivedAt.Add(47*time.Minute))
		connectortest.SameIDs(t, in, first, err1, again, err2)
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseBody(body, "freshdesk", goldenReceivedAt)
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(res.Events)+res.Ignored == 0 {
			t.Fatal("accepted a body with no events")
		}
		for _, ev := range res.Events {
			if ev.ID == "" || len(ev.ID) > maxIDLength || ev.Source != "freshdesk" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ev.Customer.Email == "" && ev.Customer.Phone == "" && len(ev.Customer.IDs) == 0 {
				t.Fatalf("event about nobody: %+v", ev)
			}
			if ev.CSAT != nil && (*ev.CSAT < 1 || *ev.CSAT > 5) {
				t.Fatalf("csat %v out of range", *ev.CSAT)
			}
		}
	})
}

func wrap(fields string) []byte { return []byte(`{"freshdesk_webhook": {` + fields + `}}`) }

func TestMapping(t *testing.T) {
	tests := []struct {
		name    string
		fields  string
		typ     string
		status  string
		csat    float64
		ignored int
	}{
		{"created", `"triggered_event":"{ticket_action:created}","ticket_id":"1","ticket_status":"Open","requester_email":"a@x.com"`, gateway.EventTicketOpened, "open", 0, 0},
		{"status to 3", `"triggered_event":"{status:{from:2,to:3}}","ticket_id":"1","ticket_status":"Pending","requester_email":"a@x.com"`, gateway.EventTicketUpdated, "pending", 0, 0},
		{"status to 5 by number", `"triggered_event":"{status:{from:4,to:5}}","ticket_id":"1","requester_email":"a@x.com"`, gateway.EventTicketSolved, "closed", 0, 0},
		{"no trigger, resolved", `"ticket_id":"1","ticket_status":"Resolved","requester_id":"7"`, gateway.EventTicketSolved, "solved", 0, 0},
		{"note on a resolved ticket", `"triggered_event":"{note_type:public}","ticket_id":"1","ticket_status":"Resolved","requester_id":"7"`, gateway.EventTicketUpdated, "solved", 0, 0},
		{"deleted", `"triggered_event":"{ticket_action:deleted}","ticket_id":"1","requester_id":"7"`, "", "", 0, 1},
		{"rating 103", `"ticket_id":"1","requester_id":"7","satisfaction_rating":"103"`, gateway.EventSurveyResponse, "", 5, 0},
		{"rating neutral", `"ticket_id":"1","requester_id":"7","satisfaction_rating":"Neutral"`, gateway.EventSurveyResponse, "", 3, 0},
		{"rating unhappy", `"ticket_id":"1","requester_id":"7","satisfaction_rating":"-101"`, gateway.EventSurveyResponse, "", 2, 0},
		{"rating not good (classic)", `"ticket_id":"1","requester_id":"7","satisfaction_rating":"Not Good"`, gateway.EventSurveyResponse, "", 1, 0},
		{"numbers unquoted", `"ticket_id":11,"requester_id":48000123456`, gateway.EventTicketUpdated, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseBody(wrap(tt.fields), "freshdesk", goldenReceivedAt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ignored != tt.ignored {
				t.Fatalf("ignored = %d, want %d", res.Ignored, tt.ignored)
			}
			if tt.typ == "" {
				if len(res.Events) != 0 {
					t.Fatalf("events = %+v, want none", res.Events)
				}
				return
			}
			if len(res.Events) != 1 || res.Events[0].Type != tt.typ || res.Events[0].Status != tt.status {
				t.Fatalf("events = %+v, want one %s with status %q", res.Events, tt.typ, tt.status)
			}
			if ev := res.Events[0]; tt.csat != 0 && (ev.CSAT == nil || *ev.CSAT != tt.csat) {
				t.Errorf("csat = %v, want %v", ev.CSAT, tt.csat)
			}
		})
	}
}

func TestIDsDifferPerUpdate(t *testing.T) {
	id := func(fields string) string {
		res, err := ParseBody(wrap(fields), "freshdesk", goldenReceivedAt)
		if err != nil || len(res.Events) != 1 {
			t.Fatalf("ParseBody = %+v, %v", res, err)
		}
		return res.Events[0].ID
	}
	base := `"ticket_id":"9","requester_id":"1",`
	a := id(base + `"triggered_event":"{status:{from:2,to:3}}","updated_at":"2026-11-20T10:00:00Z"`)
	for _, other := range []string{
		base + `"triggered_event":"{status:{from:2,to:3}}","updated_at":"2026-11-20T10:00:01Z"`,
		base + `"triggered_event":"{priority:{from:1,to:2}}","updated_at":"2026-11-20T10:00:00Z"`,
		base + `"triggered_event":"{status:{from:2,to:3}}"`,
	} {
		if got := id(other); got == a {
			t.Errorf("%s: same id %q", other, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	bodies := []struct {
		body    []byte
		mention string
	}{
		{wrap(`"ticket_id":"secret-ticket","requester_email":"secret@x.com"`), "ticket_id"},
		{wrap(`"ticket_id":"1","requester_name":"Secret Person"`), "names no customer"},
		{wrap(`"ticket_id":"1","requester_id":"secret\u0001"`), "requester_id"},
		{wrap(`"ticket_id":"1","requester_id":"2","satisfaction_rating":"secretly fine"`), "satisfaction_rating"},
		{wrap(`"ticket_id":"1","requester_email":["secret@x.com"]`), "requester_email"},
		{wrap(`"ticket_id":"1","requester_id":"2","ticket_tags":{"secret":1}`), "ticket_tags"},
		{[]byte(`["secret"]`), "JSON object"},
	}
	for _, b := range bodies {
		_, err := ParseBody(b.body, "freshdesk", goldenReceivedAt)
		if err == nil {
			t.Fatalf("%s accepted", b.body)
		}
		if strings.Contains(err.Error(), "ecret") || !strings.Contains(err.Error(), b.mention) {
			t.Errorf("error %q: quotes the payload or does not mention %q", err, b.mention)
		}
	}
}
