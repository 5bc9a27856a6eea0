package zendesk

import (
	"bytes"
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

var goldenReceivedAt = time.Date(2026, 11, 23, 10, 21, 0, 0, time.UTC)

// wantError lists the inputs that must not parse, besides the err_* files. Zulip's trigger
// template (ticket_create_update) names the requester only by name: no identity hush can use.
var wantError = map[string]bool{"ticket_create_update": true}

func TestParseGolden(t *testing.T) {
	src, err := NewSource(gateway.SourceConfig{Name: "zendesk", Kind: Kind, Secret: TestSigningSecret})
	if err != nil {
		t.Fatal(err)
	}
	connectortest.Golden(t, connectortest.GoldenCase{
		Update:    *update,
		WantError: wantError,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return src.Parse(&gateway.WebhookRequest{Source: "zendesk", Body: body, ReceivedAt: goldenReceivedAt})
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
		first, err1 := ParseBody(body, "zendesk", goldenReceivedAt)
		again, err2 := ParseBody(body, "zendesk", goldenReceivedAt.Add(47*time.Minute))
		connectortest.SameIDs(t, in, first, err1, again, err2)
	}
}

func TestTemplateIDsDifferPerUpdate(t *testing.T) {
	body := func(status, updated string) []byte {
		return []byte(`{"event":"ticket.updated","ticket_id":"9","ticket_status":"` + status + `","requester_id":"1","updated_at":"` + updated + `"}`)
	}
	id := func(b []byte) string {
		res, err := ParseBody(b, "zendesk", goldenReceivedAt)
		if err != nil || len(res.Events) != 1 {
			t.Fatalf("ParseBody(%s) = %+v, %v", b, res, err)
		}
		return res.Events[0].ID
	}
	a := id(body("Open", "2026-11-20T10:00Z"))
	tests := []struct {
		name string
		b    []byte
	}{
		{"later update", body("Open", "2026-11-20T10:05Z")},
		{"other status, same minute", body("Pending", "2026-11-20T10:00Z")},
		{"date-only updated_at", body("Open", "November 20, 2026")},
	}
	for _, tt := range tests {
		if got := id(tt.b); got == a {
			t.Errorf("%s: same id %q", tt.name, got)
		}
	}
	// Date-only updated_at: the id falls back to the body's hash, and At to the time of receipt.
	res, _ := ParseBody(body("Open", "November 20, 2026"), "zendesk", goldenReceivedAt)
	if ev := res.Events[0]; !strings.Contains(ev.ID, ":sha256:") || !ev.At.Equal(goldenReceivedAt) {
		t.Errorf("date-only: id %q at %v", ev.ID, ev.At)
	}
}

func TestTemplateMapping(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantType string
		status   string
		ignored  int
	}{
		{"no event, status new", `{"ticket_id":"1","ticket_status":"New","requester_id":"2"}`, gateway.EventTicketOpened, "open", 0},
		{"no event, status open", `{"ticket_id":"1","ticket_status":"Open","requester_id":"2"}`, gateway.EventTicketUpdated, "open", 0},
		{"no event, status closed", `{"ticket_id":"1","ticket_status":"Closed","requester_id":"2"}`, gateway.EventTicketSolved, "closed", 0},
		{"updated to solved", `{"event":"ticket.updated","ticket_id":"1","ticket_status":"Solved","requester_id":"2"}`, gateway.EventTicketSolved, "solved", 0},
		{"updated to on-hold", `{"event":"ticket.updated","ticket_id":"1","ticket_status":"On-hold","requester_id":"2"}`, gateway.EventTicketUpdated, "pending", 0},
		{"explicit solved", `{"event":"ticket.solved","ticket_id":"1","requester_email":"a@x.com"}`, gateway.EventTicketSolved, "", 0},
		{"good rating", `{"event":"satisfaction.rated","ticket_id":"1","requester_id":"2","satisfaction_rating":"good"}`, gateway.EventSurveyResponse, "", 0},
		{"unknown event name", `{"event":"ticket.merged","ticket_id":"1","requester_id":"2"}`, "", "", 1},
		{"unoffered rating", `{"event":"satisfaction.rated","ticket_id":"1","requester_id":"2","satisfaction_rating":"unoffered"}`, "", "", 1},
		{"user event", `{"type":"zen:event-type:user.created","id":"u1","detail":{"id":"2"}}`, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseBody([]byte(tt.body), "zendesk", goldenReceivedAt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ignored != tt.ignored {
				t.Fatalf("ignored = %d, want %d", res.Ignored, tt.ignored)
			}
			if tt.wantType == "" {
				if len(res.Events) != 0 {
					t.Fatalf("events = %+v, want none", res.Events)
				}
				return
			}
			if len(res.Events) != 1 || res.Events[0].Type != tt.wantType || res.Events[0].Status != tt.status {
				t.Fatalf("events = %+v, want one %s with status %q", res.Events, tt.wantType, tt.status)
			}
			if tt.wantType == gateway.EventSurveyResponse && (res.Events[0].CSAT == nil || *res.Events[0].CSAT != 5) {
				t.Errorf("csat = %v, want 5", res.Events[0].CSAT)
			}
		})
	}
}

func TestParseErrorsKeepPersonalDataOut(t *testing.T) {
	bodies := []string{
		`{"ticket_id":"secret-ticket","requester_email":"secret@x.com"}`,
		`{"ticket_id":"1","requester_id":"secret\u0001"}`,
		`{"event":"satisfaction.rated","ticket_id":"1","requester_id":"2","satisfaction_rating":"secret rating"}`,
		`{"type":"zen:event-type:ticket.created","id":"e","detail":{"id":"secret","requester_id":"2"}}`,
		`{"ticket_id":"1","requester_id":["secret"]}`,
	}
	for _, b := range bodies {
		_, err := ParseBody([]byte(b), "zendesk", goldenReceivedAt)
		if err == nil {
			t.Fatalf("%s accepted", b)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q quotes the payload", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseBody(body, "zendesk", goldenReceivedAt)
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
			if ev.ID == "" || len(ev.ID) > maxIDLength || ev.Source != "zendesk" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
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

// TestZulipTemplateWithRequester checks that the Zulip-style fixture parses once it names the
// requester: its other keys are the hush template's.
func TestZulipTemplateWithRequester(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "ticket_create_update.json"))
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.Replace(body, []byte(`"ticket_id": "7",`), []byte(`"ticket_id": "7", "requester_email": "tester@example.com",`), 1)
	res, err := ParseBody(body, "zendesk", goldenReceivedAt)
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("ParseBody = %+v, %v", res, err)
	}
	ev := res.Events[0]
	tests := []struct {
		what      string
		got, want any
	}{
		{"type", ev.Type, gateway.EventTicketUpdated},
		{"status", ev.Status, gateway.StatusOpen},
		{"topic", ev.Topic, "zendesk:ticket:7"},
		{"tags", strings.Join(ev.Tags, ","), "change_address,help,order"},
		{"name", ev.Customer.Name, "testerzulip"},
		{"at: a date only is not a time", ev.At, goldenReceivedAt},
		{"priority", ev.Attrs["priority"], "normal"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}
