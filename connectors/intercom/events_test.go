package intercom

import (
	"errors"
	"flag"
	"os"
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
			return ParseNotification(body, "intercom", goldenReceivedAt)
		},
		CheckError: func(t *testing.T, err error) {
			var ge *gateway.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *gateway.Error", err)
			}
		},
	})
}

// TestRedeliverySameIDs: Intercom retries a notification with the same id; every event it
// gives must keep its id (and everything else) so that hush counts a duplicate.
func TestRedeliverySameIDs(t *testing.T) {
	for _, in := range connectortest.Inputs(t, "", "") {
		body, _ := os.ReadFile(in)
		first, err1 := ParseNotification(body, "intercom", goldenReceivedAt)
		again, err2 := ParseNotification(body, "intercom", goldenReceivedAt.Add(time.Minute))
		connectortest.SameIDsAndTimes(t, in, first, err1, again, err2)
	}
}

// notif builds a notification around an item for the table tests.
func notif(topic, id, item string) []byte {
	return []byte(`{"type":"notification_event","id":"` + id + `","topic":"` + topic +
		`","created_at":1700000100,"app_id":"app1","data":{"type":"notification_event_data","item":` + item + `}}`)
}

func TestParseTopics(t *testing.T) {
	conv := func(extra string) string {
		return `{"type":"conversation","id":"77","created_at":1700000000,"updated_at":1700000050,"state":"open",` +
			`"contacts":{"type":"contact.list","contacts":[{"type":"contact","id":"c1","external_id":"u-9"}]}` + extra + `}`
	}
	ticket := func(state string) string {
		return `{"type":"ticket","id":"88","ticket_id":"5","ticket_state":` + state +
			`,"created_at":1700000000,"updated_at":1700000060,"contacts":{"type":"contact.list","contacts":[{"type":"contact","id":"c1"}]}}`
	}
	tests := []struct {
		name    string
		body    []byte
		types   []string
		ids     []string
		status  string
		channel gateway.Channel
		text    string
		csat    float64
		at      int64
		ignored int
	}{
		{"ping ignored", notif("ping", "", `{"type":"ping","message":"hi"}`), nil, nil, "", "", "", 0, 0, 1},
		{"admin reply ignored", notif("conversation.admin.replied", "n1", conv("")), nil, nil, "", "", "", 0, 0, 1},
		{"contact topic ignored", notif("contact.user.created", "n1", `{"type":"contact","id":"c1"}`), nil, nil, "", "", "", 0, 0, 1},
		{"ticket note ignored", notif("ticket.note.created", "n1", ticket(`"submitted"`)), nil, nil, "", "", "", 0, 0, 1},
		{"user reply picks the newest customer part",
			notif(TopicUserReplied, "n2", conv(`,"conversation_parts":{"conversation_parts":[`+
				`{"part_type":"comment","body":"<p>first</p>","created_at":1700000010,"author":{"type":"user","id":"c1","email":"ana@example.com"}},`+
				`{"part_type":"comment","body":"<p>from admin</p>","created_at":1700000020,"author":{"type":"admin","id":"a1","email":"agent@example.com"}},`+
				`{"part_type":"comment","body":"<p>second <i>try</i></p>","created_at":1700000030,"author":{"type":"lead","id":"c1","email":"ana@example.com"}}]}`)),
			[]string{gateway.EventChatMessage}, []string{"n2"}, gateway.StatusOpen, "", "second try", 0, 1700000030, 0},
		{"snoozed is pending; sms source",
			notif(TopicUserCreated, "n3", `{"type":"conversation","id":"77","created_at":1700000000,"state":"snoozed",`+
				`"source":{"type":"sms","body":"STOP calling me","author":{"type":"user","id":"c1"}},"contacts":{"contacts":[{"id":"c1"}]}}`),
			[]string{gateway.EventChatMessage}, []string{"n3"}, gateway.StatusPending, gateway.ChannelSMS, "STOP calling me", 0, 1700000000, 0},
		{"messenger source has no channel",
			notif(TopicUserCreated, "n4", `{"type":"conversation","id":"77","state":"open","source":{"type":"conversation","subject":"Only a subject","body":"","author":{"type":"user","id":"c1"}}}`),
			[]string{gateway.EventChatMessage}, []string{"n4"}, gateway.StatusOpen, "", "Only a subject", 0, 1700000100, 0},
		{"phone call is voice",
			notif(TopicUserCreated, "n5", `{"type":"conversation","id":"77","state":"open","source":{"type":"phone_call","author":{"type":"user","id":"c1"}}}`),
			[]string{gateway.EventChatMessage}, []string{"n5"}, gateway.StatusOpen, gateway.ChannelVoice, "", 0, 1700000100, 0},
		{"closed with an earlier rating gives the rating too",
			notif(TopicAdminClosed, "n6", conv(`,"state":"closed","conversation_rating":{"rating":5,"remark":"great","created_at":1699999000,"contact":{"id":"c1"}}`)),
			[]string{gateway.EventChatClosed, gateway.EventSurveyResponse}, []string{"n6", "conversation:77:rating:1699999000:5"}, gateway.StatusClosed, "", "", 0, 1700000050, 0},
		{"rating added without created_at",
			notif(TopicRatingAdded, "n7", conv(`,"conversation_rating":{"rating":"3","remark":" ok "}`)),
			[]string{gateway.EventSurveyResponse}, []string{"conversation:77:rating:0:3"}, gateway.StatusOpen, "", "ok", 3, 1700000100, 0},
		{"ticket waiting on customer is pending",
			notif(TopicTicketStateUpdated, "n8", ticket(`{"category":"waiting_on_customer"}`)),
			[]string{gateway.EventTicketUpdated}, []string{"n8"}, gateway.StatusPending, "", "", 0, 1700000060, 0},
		{"ticket state resolved is solved",
			notif(TopicTicketStateUpdated, "n9", ticket(`{"category":"resolved"}`)),
			[]string{gateway.EventTicketSolved}, []string{"n9"}, gateway.StatusSolved, "", "", 0, 1700000060, 0},
		{"ticket resolved topic",
			notif(TopicTicketResolved, "n10", ticket(`{"category":"resolved"}`)),
			[]string{gateway.EventTicketSolved}, []string{"n10"}, gateway.StatusSolved, "", "", 0, 1700000060, 0},
		{"ticket contact reply",
			notif(TopicTicketContactReplied, "n11", `{"type":"ticket","id":"88","ticket_state":{"category":"in_progress"},"contacts":{"contacts":[{"id":"c1"}]},`+
				`"ticket_parts":{"ticket_parts":[{"part_type":"comment","body":"<p>Any news?</p>","created_at":1700000070,"author":{"type":"user","id":"c1","email":"ana@example.com"}}]}}`),
			[]string{gateway.EventTicketUpdated}, []string{"n11"}, gateway.StatusOpen, "", "Any news?", 0, 1700000070, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseNotification(tt.body, "ic", goldenReceivedAt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ignored != tt.ignored || len(res.Events) != len(tt.types) {
				t.Fatalf("got %d events, %d ignored; want %d, %d", len(res.Events), res.Ignored, len(tt.types), tt.ignored)
			}
			for i, ev := range res.Events {
				if ev.Type != tt.types[i] || ev.ID != tt.ids[i] || ev.Source != "ic" {
					t.Errorf("event %d: %s %s %s, want %s %s", i, ev.Type, ev.ID, ev.Source, tt.types[i], tt.ids[i])
				}
				if ev.Customer.IDs[Vendor] != "c1" {
					t.Errorf("event %d: customer ids %v", i, ev.Customer.IDs)
				}
			}
			if len(res.Events) == 0 {
				return
			}
			ev := res.Events[0]
			if ev.Type == gateway.EventSurveyResponse && (ev.CSAT == nil || *ev.CSAT != tt.csat) {
				t.Errorf("csat = %v, want %v", ev.CSAT, tt.csat)
			}
			if ev.Status != tt.status || ev.Channel != tt.channel || ev.Text != tt.text || ev.At.Unix() != tt.at {
				t.Errorf("status %q channel %q text %q at %d; want %q %q %q %d", ev.Status, ev.Channel, ev.Text, ev.At.Unix(),
					tt.status, tt.channel, tt.text, tt.at)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", "  ", "body is empty"},
		{"array", `[{"type":"notification_event"}]`, "not a JSON object"},
		{"not json", `{"type":`, "not valid JSON"},
		{"trailing data", `{"type":"notification_event","topic":"ping"} {}`, "after the JSON object"},
		{"other vendor", `{"event_type":"survey_response.created"}`, `"type" is not "notification_event"`},
		{"no topic", `{"type":"notification_event","id":"n"}`, `"topic" is required`},
		{"no id on a mapped topic", string(notif(TopicUserCreated, "", `{"id":"1","user":{"id":"u"}}`)), `"id" is required`},
		{"item missing", `{"type":"notification_event","id":"n","topic":"conversation.user.created","data":{}}`, `"data.item" is required`},
		{"item not an object", string(notif(TopicUserCreated, "n", `"x"`)), `"data.item" is not a JSON object`},
		{"conversation without id", string(notif(TopicUserCreated, "n", `{"user":{"id":"u"}}`)), "conversation id"},
		{"rating added without a score", string(notif(TopicRatingAdded, "n", `{"id":"1","user":{"id":"u"},"conversation_rating":{}}`)), "rating\" is required"},
		{"ticket without customer", string(notif(TopicTicketCreated, "n", `{"id":"1"}`)), "names no customer"},
		{"wrong type in item", string(notif(TopicUserCreated, "n", `{"id":"1","user":{"id":"u","email":5}}`)), `"data.item.user.email"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNotification([]byte(tt.body), "ic", goldenReceivedAt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("err = %v, want invalid containing %q", err, tt.want)
			}
		})
	}
}

func TestParseErrorsKeepPersonalDataOut(t *testing.T) {
	body := notif(TopicUserCreated, "n", `{"id":"1","user":{"id":"u","email":"secret@example.com","name":7}}`)
	_, err := ParseNotification(body, "ic", goldenReceivedAt)
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q quotes personal data", err)
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseNotification(body, "intercom", goldenReceivedAt)
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
			if ev.ID == "" || len(ev.ID) > maxIDLength || ev.Source != "intercom" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ids[ev.ID] {
				t.Fatalf("duplicate id %q", ev.ID)
			}
			ids[ev.ID] = true
			if ev.CSAT != nil && (*ev.CSAT < 1 || *ev.CSAT > 5) {
				t.Fatalf("csat %v out of range", *ev.CSAT)
			}
			if namesNobody(ev.Customer) {
				t.Fatalf("event %s names nobody", ev.ID)
			}
		}
	})
}
