package helpscout

import (
	"errors"
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

var goldenReceivedAt = time.Date(2026, 11, 20, 9, 45, 0, 0, time.UTC)

// fixture is one testdata input: testdata/<X-HelpScout-Event>~<variant>.json, since Help
// Scout names the event in a header, not in the body.
type fixture struct {
	path, name, event string
}

func fixtures(t testing.TB) []fixture {
	all, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture
	for _, p := range all {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		event, _, ok := strings.Cut(name, "~")
		if !ok {
			t.Fatalf("%s: name it <event>~<variant>.json", p)
		}
		out = append(out, fixture{path: p, name: name, event: event})
	}
	if len(out) == 0 {
		t.Fatal("no testdata inputs")
	}
	return out
}

func TestParseGolden(t *testing.T) {
	fixtures(t) // the names are <event>~<variant>
	connectortest.Golden(t, connectortest.GoldenCase{
		Update:   *update,
		MustFail: func(name string) bool { return strings.Contains(name, "~err_") },
		Parse: func(t *testing.T, name string, body []byte) (gateway.ParseResult, error) {
			event, _, _ := strings.Cut(name, "~")
			return ParseWebhook(event, body, "helpscout", goldenReceivedAt)
		},
		CheckError: func(t *testing.T, err error) {
			var ge *gateway.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *gateway.Error", err)
			}
		},
	})
}

// TestRedeliverySameIDs: Help Scout retries a delivery with the same body; every event must
// keep its id (and time) whenever it arrives, so that hush counts a duplicate.
func TestRedeliverySameIDs(t *testing.T) {
	for _, f := range fixtures(t) {
		body, _ := os.ReadFile(f.path)
		first, err1 := ParseWebhook(f.event, body, "helpscout", goldenReceivedAt)
		again, err2 := ParseWebhook(f.event, body, "helpscout", goldenReceivedAt.Add(time.Hour))
		connectortest.SameIDsAndTimes(t, f.name, first, err1, again, err2)
	}
}

func TestParseEvents(t *testing.T) {
	convo := func(extra string) string {
		return `{"id":77,"type":"phone","status":"pending","createdAt":"2024-01-02T03:04:05Z","userUpdatedAt":"2024-01-03T00:00:00Z",` +
			`"primaryCustomer":{"id":9,"email":"ana@example.com"}` + extra + `}`
	}
	tests := []struct {
		name    string
		event   string
		body    string
		typ     string
		id      string
		status  string
		channel gateway.Channel
		text    string
		at      string
		ignored int
	}{
		{"test event ignored", "helpscout.test", `{"id":123}`, "", "", "", "", "", "", 1},
		{"agent reply ignored", "convo.agent.reply.created", convo(""), "", "", "", "", "", "", 1},
		{"note ignored", "convo.note.created", convo(""), "", "", "", "", "", "", 1},
		{"customer created ignored", "customer.created", `{"id":9}`, "", "", "", "", "", "", 1},
		{"deleted ignored", "convo.deleted", `{"id":77}`, "", "", "", "", "", "", 1},
		{"pending phone status", EventConvoStatus, convo(""), gateway.EventTicketUpdated,
			"convo.status:77:pending:2024-01-03T00:00:00Z", gateway.StatusPending, gateway.ChannelVoice, "", "2024-01-03T00:00:00Z", 0},
		{"spam is closed but not solved", EventConvoStatus, convo(`,"status":"spam"`), gateway.EventTicketUpdated,
			"convo.status:77:spam:2024-01-03T00:00:00Z", gateway.StatusClosed, gateway.ChannelVoice, "", "2024-01-03T00:00:00Z", 0},
		{"active chat", EventConvoStatus, convo(`,"status":"active","type":"chat"`), gateway.EventTicketUpdated,
			"convo.status:77:active:2024-01-03T00:00:00Z", gateway.StatusOpen, "", "", "2024-01-03T00:00:00Z", 0},
		{"reply without threads uses the waiting time", EventCustomerReply,
			convo(`,"preview":"any news?","customerWaitingSince":{"time":"2024-01-04T00:00:00Z","friendly":"x"}`), gateway.EventTicketUpdated,
			"convo.customer.reply.created:77:2024-01-04T00:00:00Z", gateway.StatusPending, gateway.ChannelVoice, "any news?", "2024-01-04T00:00:00Z", 0},
		{"API 1.0 thread list and customer", EventCustomerReply,
			`{"id":78,"type":"email","status":"active","customer":{"id":5,"firstName":"Ana","lastName":"Ruiz","email":"ana@example.com"},` +
				`"threads":[{"id":501,"type":"customer","body":"<p>hola</p>","createdBy":{"id":5,"type":"customer"},"createdAt":"2024-02-01T00:00:00Z"}]}`,
			gateway.EventTicketUpdated, "convo.customer.reply.created:78:thread:501", gateway.StatusOpen, gateway.ChannelEmail, "hola", "2024-02-01T00:00:00Z", 0},
		{"drafts are not the customer's message", EventCustomerReply,
			`{"id":79,"primaryCustomer":{"id":5},"_embedded":{"threads":[{"id":600,"type":"customer","state":"draft","body":"draft","createdAt":"2024-02-01T00:00:00Z"}]}}`,
			gateway.EventTicketUpdated, "", "", "", "", "2026-11-20T09:45:00Z", 0},
		{"rating not good", EventRating, `{"id":1,"customer":{"id":9},"conversationId":77,"rating":"Not Good","createdAt":"2024-01-05T00:00:00Z"}`,
			gateway.EventSurveyResponse, "satisfaction.ratings:1:2024-01-05T00:00:00Z", "", "", "", "2024-01-05T00:00:00Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseWebhook(tt.event, []byte(tt.body), "hs", goldenReceivedAt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ignored != tt.ignored {
				t.Fatalf("ignored = %d, want %d", res.Ignored, tt.ignored)
			}
			if tt.typ == "" {
				if len(res.Events) != 0 {
					t.Fatalf("got %d events", len(res.Events))
				}
				return
			}
			if len(res.Events) != 1 {
				t.Fatalf("got %d events", len(res.Events))
			}
			ev := res.Events[0]
			if ev.Type != tt.typ || ev.Source != "hs" || ev.At.Format(time.RFC3339) != tt.at {
				t.Errorf("type %s source %s at %s; want %s hs %s", ev.Type, ev.Source, ev.At.Format(time.RFC3339), tt.typ, tt.at)
			}
			if tt.id != "" && ev.ID != tt.id {
				t.Errorf("id = %s, want %s", ev.ID, tt.id)
			}
			if ev.Status != tt.status || ev.Channel != tt.channel || ev.Text != tt.text {
				t.Errorf("status %q channel %q text %q; want %q %q %q", ev.Status, ev.Channel, ev.Text, tt.status, tt.channel, tt.text)
			}
		})
	}
}

func TestRatingScale(t *testing.T) {
	for word, want := range map[string]float64{"Great": 5, "great": 5, "Okay": 3, "OK": 3, "Bad": 1, "Not Good": 1, "not  good": 1, "not-good": 1} {
		body := `{"id":1,"customer":{"id":9},"rating":"` + word + `","createdAt":"2024-01-05T00:00:00Z"}`
		res, err := ParseWebhook(EventRating, []byte(body), "hs", goldenReceivedAt)
		if err != nil {
			t.Fatalf("%q: %v", word, err)
		}
		ev := res.Events[0]
		if *ev.CSAT != want || ev.Attrs["csat_scale"] != CSATScale || ev.Attrs["rating"] != word {
			t.Errorf("%q: csat %v attrs %v", word, *ev.CSAT, ev.Attrs)
		}
	}
}

// TestIDWithoutMoment: a payload with no time that names the delivery gets an id from its
// body, stable across retries and different for a different body.
func TestIDWithoutMoment(t *testing.T) {
	a := `{"id":80,"primaryCustomer":{"id":5},"status":"active"}`
	b := `{"id":80,"primaryCustomer":{"id":5},"status":"pending"}`
	ra, _ := ParseWebhook(EventConvoStatus, []byte(a), "hs", goldenReceivedAt)
	ra2, _ := ParseWebhook(EventConvoStatus, []byte(a), "hs", goldenReceivedAt.Add(time.Minute))
	rb, _ := ParseWebhook(EventConvoStatus, []byte(b), "hs", goldenReceivedAt)
	if len(ra.Events) != 1 || len(rb.Events) != 1 {
		t.Fatal("no events")
	}
	if ra.Events[0].ID != ra2.Events[0].ID || ra.Events[0].ID == rb.Events[0].ID || !strings.HasPrefix(ra.Events[0].ID, "convo.status:80:sha256:") {
		t.Fatalf("ids %s %s %s", ra.Events[0].ID, ra2.Events[0].ID, rb.Events[0].ID)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, event, body, want string
	}{
		{"no event header", "", `{"id":1}`, "X-HelpScout-Event header is missing"},
		{"empty body", EventConvoCreated, " ", "body is empty"},
		{"array", EventConvoCreated, `[{"id":1}]`, "not a JSON object"},
		{"not json", EventConvoCreated, `{"id":`, "not valid JSON"},
		{"trailing", EventConvoCreated, `{"id":1,"primaryCustomer":{"id":2}} x`, "after the JSON object"},
		{"no conversation id", EventConvoCreated, `{"primaryCustomer":{"id":2}}`, "conversation id"},
		{"no rating id", EventRating, `{"customer":{"id":2},"rating":"Great"}`, "rating id"},
		{"no rating", EventRating, `{"id":1,"customer":{"id":2}}`, `"rating" is required`},
		{"rating names nobody", EventRating, `{"id":1,"rating":"Great","customer":{}}`, "names no customer"},
		{"wrong type", EventConvoCreated, `{"id":1,"primaryCustomer":{"id":2,"email":["secret@example.com"]}}`, `"primaryCustomer.email"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWebhook(tt.event, []byte(tt.body), "hs", goldenReceivedAt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("err = %v, want invalid containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret@") {
				t.Errorf("error %q quotes personal data", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	events := []string{EventConvoCreated, EventCustomerReply, EventConvoStatus, EventRating, "convo.deleted"}
	for _, fx := range fixtures(f) {
		if b, err := os.ReadFile(fx.path); err == nil {
			for i, e := range events {
				if e == fx.event {
					f.Add(uint8(i), b)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		res, err := ParseWebhook(events[int(which)%len(events)], body, "helpscout", goldenReceivedAt)
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(res.Events)+res.Ignored != 1 {
			t.Fatalf("%d events, %d ignored", len(res.Events), res.Ignored)
		}
		for _, ev := range res.Events {
			if ev.ID == "" || len(ev.ID) > maxIDLength || ev.Source != "helpscout" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ev.CSAT != nil && (*ev.CSAT < 1 || *ev.CSAT > 5) {
				t.Fatalf("csat %v out of range", *ev.CSAT)
			}
			if ev.Customer.Email == "" && ev.Customer.Phone == "" && len(ev.Customer.IDs) == 0 {
				t.Fatalf("event %s names nobody", ev.ID)
			}
		}
	})
}
