package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

var created = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func fullMessage(lang string) *gateway.AlertMessage {
	end := created.Add(15 * 24 * time.Hour)
	csat := 1.0
	return &gateway.AlertMessage{
		Outbox: gateway.OutboxMessage{
			ID: "out_01HX", Kind: "alert", Target: "retention", CustomerID: "cus_1", Rule: "low-csat",
			EventID: "zendesk:ev1", CreatedAt: created, NextAttempt: created,
		},
		Customer: &gateway.Customer{ID: "cus_1", Identities: []gateway.Identity{"zendesk:42", "phone:+34600111222", "email:ana@example.com"}, Name: "Ana García"},
		Event: &gateway.Event{
			ID: "ev1", Source: "zendesk", Type: gateway.EventSurveyResponse, At: created.Add(-time.Minute), Channel: "email",
			CSAT: &csat, Text: "Llevo tres semanas esperando & nadie responde.\nVoy a darme de baja.",
			Sentiment: &gateway.Sentiment{Score: -0.82, Label: "negative", Source: "builtin", Cues: []string{"cancellation", "complaint"}},
		},
		Silence: &gateway.Silence{
			ID: "sil_1", CustomerID: "cus_1", Rule: "low-csat", Reason: "CSAT of 2 or less", Start: created, End: &end,
		},
		ConsoleURL: "https://hush.example.com/console/customers/cus_1",
		Language:   lang,
	}
}

// bareMessage is an alert-only rule's alert whose event is gone.
func bareMessage(lang string) *gateway.AlertMessage {
	m := fullMessage(lang)
	m.Event, m.Silence, m.ConsoleURL = nil, nil, ""
	return m
}

// followUp makes m the follow-up of its rule, due three days after the rule fired.
func followUp(m *gateway.AlertMessage) *gateway.AlertMessage {
	m.Outbox.ID, m.Outbox.Kind, m.Outbox.DueAt = "out_01FU", gateway.OutboxFollowUp, created.Add(3*24*time.Hour)
	return m
}

// silenceEnded makes m the message sent when its silence ran out.
func silenceEnded(m *gateway.AlertMessage) *gateway.AlertMessage {
	m.Outbox.ID, m.Outbox.Kind, m.Outbox.DueAt = "out_01SE", gateway.OutboxSilenceEnded, *m.Silence.End
	return m
}

// liftedByPerson has an operator lift m's silence two days in.
func liftedByPerson(m *gateway.AlertMessage) *gateway.AlertMessage {
	lifted := created.Add(2 * 24 * time.Hour)
	m.Silence.LiftedAt, m.Silence.LiftedBy, m.Silence.LiftReason = &lifted, "admin:ops", "customer called back"
	m.Outbox.DueAt = lifted
	return m
}

func TestMessageGolden(t *testing.T) {
	untilResolved := func(lang string) *gateway.AlertMessage {
		m := fullMessage(lang)
		m.Customer = nil // erased since the alert was queued
		m.Silence.End, m.Silence.UntilResolved, m.Silence.Topic, m.Silence.Grace = nil, true, "ticket:981", gateway.Duration(7*24*time.Hour)
		m.Silence.Shadow = true
		m.Event.Sentiment, m.Event.CSAT, m.Event.Text = nil, nil, ""
		return m
	}
	cases := map[string]*gateway.AlertMessage{
		"es_full":                 fullMessage("es"),
		"en_full":                 fullMessage("en"),
		"es_bare":                 bareMessage("es"),
		"en_bare":                 bareMessage("en"),
		"es_until_resolved":       untilResolved("es"),
		"en_until_resolved":       untilResolved("en"),
		"es_follow_up":            followUp(fullMessage("es")),
		"en_follow_up":            followUp(fullMessage("en")),
		"es_silence_ended":        silenceEnded(fullMessage("es")),
		"en_silence_ended":        silenceEnded(fullMessage("en")),
		"es_silence_ended_lifted": liftedByPerson(silenceEnded(fullMessage("es"))),
		"en_silence_ended_lifted": liftedByPerson(silenceEnded(fullMessage("en"))),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			body, err := encode(Message(m))
			if err != nil {
				t.Fatal(err)
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			out := append(indented.Bytes(), '\n')
			connectortest.CompareGolden(t, filepath.Join("testdata", name+".golden.json"), out, *update)
		})
	}
}

// TestMessageLanguage checks what the goldens are meant to show, so that a wrong golden
// cannot be accepted by -update unnoticed.
func TestMessageLanguage(t *testing.T) {
	tests := []struct {
		lang       string
		want, nope []string
	}{
		{"es", []string{"Cliente en riesgo: regla low-csat", "*Motivo*", "*Silencio hasta*", "*Último contacto*", "Ver cliente", "Ana García", "ana@example.com", "señales: cancellation, complaint", "-0.82 (negative)", "CSAT 1"}, []string{"Customer at risk"}},
		{"en", []string{"Customer at risk: rule low-csat", "*Reason*", "*Silenced until*", "*Last contact*", "View customer", "Ana García", "ana@example.com", "cues: cancellation, complaint"}, []string{"Cliente"}},
		{"fr", []string{"Customer at risk: rule low-csat"}, nil}, // unknown languages fall back to English
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			b, _ := json.Marshal(Message(fullMessage(tt.lang)))
			var s string
			// Compare on decoded text: JSON escapes some runes.
			var p Payload
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			s = flatten(p)
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("message lacks %q:\n%s", w, s)
				}
			}
			for _, w := range tt.nope {
				if strings.Contains(s, w) {
					t.Errorf("message has %q", w)
				}
			}
		})
	}
}

// flatten is every text of a message, one per line.
func flatten(p Payload) string {
	var b strings.Builder
	b.WriteString(p.Text + "\n")
	for _, bl := range p.Blocks {
		if bl.Text != nil {
			b.WriteString(bl.Text.Text + "\n")
		}
		for _, f := range bl.Fields {
			b.WriteString(f.Text + "\n")
		}
		for _, e := range bl.Elements {
			raw, _ := json.Marshal(e)
			b.Write(raw)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestMessageShape(t *testing.T) {
	full := Message(fullMessage("es"))
	var types []string
	for _, b := range full.Blocks {
		types = append(types, b.Type)
	}
	if got := strings.Join(types, ","); got != "header,section,section,actions" {
		t.Errorf("blocks = %s", got)
	}
	if n := len(full.Blocks[1].Fields); n != 6 {
		t.Errorf("%d fields, want customer, reason, silence, last contact, event, sentiment", n)
	}
	btn, ok := full.Blocks[3].Elements[0].(Button)
	if !ok || btn.URL != "https://hush.example.com/console/customers/cus_1" {
		t.Errorf("button = %+v", full.Blocks[3].Elements[0])
	}

	bare := Message(bareMessage("es"))
	if len(bare.Blocks) != 2 || len(bare.Blocks[1].Fields) != 2 {
		t.Errorf("without event, silence and console URL: %d blocks, %d fields; want header and customer+reason", len(bare.Blocks), len(bare.Blocks[1].Fields))
	}
	if !strings.Contains(flatten(bare), "regla low-csat") {
		t.Error("without a silence the reason is not the rule's name")
	}
	// The phone is preferred to a vendor id only when there is no email.
	m := bareMessage("en")
	m.Customer.Identities = []gateway.Identity{"zendesk:42", "phone:+34600111222"}
	if !strings.Contains(flatten(Message(m)), "+34600111222") {
		t.Error("the phone is not shown when there is no email")
	}
	m.Customer = nil
	if s := flatten(Message(m)); !strings.Contains(s, "(customer erased)") {
		t.Errorf("erased customer:\n%s", s)
	}
}

func TestMessageCannotPing(t *testing.T) {
	m := fullMessage("en")
	m.Customer.Name = "<!channel> Eve"
	m.Event.Text = "hello <!here> and <@U024BE7LH> <!subteam^SAZ94GDB8> see <https://evil.example.com|your invoice> & more"
	m.Silence.Reason = "<!everyone>"
	p := Message(m)
	s := flatten(p)
	// The dates are the only Slack markup that is not escaped: they are hush's own.
	if n := len(dateMarkup.FindAllString(s, -1)); n != 2 {
		t.Errorf("%d dates, want the silence end and the last contact", n)
	}
	s = dateMarkup.ReplaceAllString(s, "DATE")
	for _, bad := range []string{"<!", "<@", "<https"} {
		if strings.Contains(s, bad) {
			t.Errorf("message contains %q:\n%s", bad, s)
		}
	}
	if !strings.Contains(s, "&lt;!here&gt;") || !strings.Contains(s, "&lt;@U024BE7LH&gt;") || !strings.Contains(s, "&amp; more") {
		t.Errorf("text not escaped as Slack wants:\n%s", s)
	}
}

// TestMessageKinds checks what each outbox kind's message says, in both languages, beyond
// what the goldens hold: the header, the line that says what to do and its date.
func TestMessageKinds(t *testing.T) {
	fired := "<!date^1714557600^{date_short_pretty} {time}|2024-05-01 10:00 UTC>"
	ended := "<!date^1715853600^{date_short_pretty} {time}|2024-05-16 10:00 UTC>"
	lifted := "<!date^1714730400^{date_short_pretty} {time}|2024-05-03 10:00 UTC>"
	tests := []struct {
		name   string
		m      *gateway.AlertMessage
		header string
		lead   string // the section after the header; "" when the message has none
		nope   []string
	}{
		{"es alert", fullMessage("es"), "Cliente en riesgo: regla low-csat", "", nil},
		{"es follow_up", followUp(fullMessage("es")), "Seguimiento: regla low-csat",
			"La regla se activó el " + fired + "; toca volver a contactar (p. ej. llamar) para comprobar que el problema está resuelto.",
			[]string{"Cliente en riesgo", "Follow-up"}},
		{"en follow_up", followUp(fullMessage("en")), "Follow-up: rule low-csat",
			"The rule fired on " + fired + "; time to check back (e.g. call) that the problem is solved.",
			[]string{"Customer at risk", "Seguimiento"}},
		{"es silence_ended", silenceEnded(fullMessage("es")), "Silencio terminado: regla low-csat",
			"El silencio terminó el " + ended + "; marketing puede volver a escribir.", []string{"Cliente en riesgo", "levantado por"}},
		{"en silence_ended", silenceEnded(fullMessage("en")), "Silence ended: rule low-csat",
			"The silence ended on " + ended + "; marketing may write again.", []string{"Customer at risk", "lifted by"}},
		{"es silence_ended lifted", liftedByPerson(silenceEnded(fullMessage("es"))), "Silencio terminado: regla low-csat",
			"El silencio terminó el " + lifted + " (levantado por admin:ops); marketing puede volver a escribir.", nil},
		{"en silence_ended lifted", liftedByPerson(silenceEnded(fullMessage("en"))), "Silence ended: rule low-csat",
			"The silence ended on " + lifted + " (lifted by admin:ops); marketing may write again.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Message(tt.m)
			if got := p.Blocks[0].Text.Text; got != tt.header {
				t.Errorf("header = %q, want %q", got, tt.header)
			}
			if !strings.HasPrefix(p.Text, tt.header+" — ") {
				t.Errorf("notification text = %q, want the header first", p.Text)
			}
			var lead string
			if b := p.Blocks[1]; b.Text != nil {
				lead = b.Text.Text
			}
			if lead != tt.lead {
				t.Errorf("lead = %q, want %q", lead, tt.lead)
			}
			// The customer, event and silence fields are the alert's.
			fieldsAt := 1
			if tt.lead != "" {
				fieldsAt = 2
			}
			fields := p.Blocks[fieldsAt].Fields
			if len(fields) != 6 {
				t.Errorf("%d fields, want the alert's 6", len(fields))
			}
			s := flatten(p)
			for _, w := range tt.nope {
				if strings.Contains(s, w) {
					t.Errorf("message has %q:\n%s", w, s)
				}
			}
		})
	}
}

func TestMessageKindLiftedAfterEnd(t *testing.T) {
	// Lifted after it had run out: the silence ended at its end, nobody ended it early.
	m := silenceEnded(fullMessage("en"))
	late := m.Silence.End.Add(time.Hour)
	m.Silence.LiftedAt, m.Silence.LiftedBy = &late, "admin:ops"
	lead := Message(m).Blocks[1].Text.Text
	if !strings.Contains(lead, "2024-05-16 10:00 UTC") || strings.Contains(lead, "lifted by") {
		t.Errorf("lead = %q", lead)
	}
	// Without its silence (erased since), the message says when it was due.
	m = silenceEnded(fullMessage("es"))
	m.Silence = nil
	if lead := Message(m).Blocks[1].Text.Text; !strings.Contains(lead, "2024-05-16 10:00 UTC") {
		t.Errorf("lead without a silence = %q", lead)
	}
	// A person's name cannot ping either.
	m = liftedByPerson(silenceEnded(fullMessage("en")))
	m.Silence.LiftedBy = "admin:<!channel>"
	if lead := Message(m).Blocks[1].Text.Text; strings.Contains(lead, "<!channel>") || !strings.Contains(lead, "admin:&lt;!channel&gt;") {
		t.Errorf("lifted_by not escaped: %q", lead)
	}
}

func TestMessageUnknownKindIsAnAlert(t *testing.T) {
	want, _ := encode(Message(fullMessage("es")))
	for _, kind := range []string{"", "reminder_v2"} {
		m := fullMessage("es")
		m.Outbox.Kind = kind
		if got, _ := encode(Message(m)); !bytes.Equal(got, want) {
			t.Errorf("kind %q: message differs from the alert's:\n%s", kind, got)
		}
	}
}

var dateMarkup = regexp.MustCompile(`<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9: -]+UTC>`)

func TestMessageTruncatesText(t *testing.T) {
	m := fullMessage("en")
	m.Event.Text = strings.Repeat("ñ", 1000) + "TAIL"
	text := Message(m).Blocks[2].Text.Text
	if strings.Contains(text, "TAIL") || !strings.HasSuffix(text, "…") {
		t.Errorf("long text not cut: %d bytes", len(text))
	}
	if n := strings.Count(text, "ñ"); n != MaxTextRunes-1 {
		t.Errorf("kept %d runes of the text, want %d", n, MaxTextRunes-1)
	}
	// Escaping comes after the cut: an entity is never cut in half.
	m.Event.Text = strings.Repeat("a", MaxTextRunes-2) + "&&&&"
	if text := Message(m).Blocks[2].Text.Text; !strings.HasSuffix(text, "&amp;…") {
		t.Errorf("text ends %q", text[len(text)-12:])
	}
}

func TestRequest(t *testing.T) {
	var got struct {
		header http.Header
		body   []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.header = r.Header.Clone()
		got.body, _ = io.ReadAll(r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	a, err := NewAlert(gateway.AlertConfig{Name: "retention", Kind: Kind, URL: srv.URL + "/services/T0/B0/XXXX"})
	if err != nil {
		t.Fatal(err)
	}
	m := fullMessage("es")
	req, err := a.Request(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/services/T0/B0/XXXX" || req.GetBody == nil {
		t.Errorf("request %s %s (GetBody set: %v)", req.Method, req.URL.Path, req.GetBody != nil)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.header.Get("Idempotency-Key") != "out_01HX" || !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", got.header)
	}
	want, _ := encode(Message(m))
	if !bytes.Equal(got.body, want) {
		t.Errorf("body sent:\n%s\nwant\n%s", got.body, want)
	}

	m.Outbox.ID = ""
	if _, err := a.Request(context.Background(), m); err == nil {
		t.Error("a message without an outbox id was accepted")
	}
	if _, err := a.Request(context.Background(), nil); err == nil {
		t.Error("a nil message was accepted")
	}
}

func TestNewAlertErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.AlertConfig
		want string
	}{
		{"no url", gateway.AlertConfig{Name: "retention"}, "url is required"},
		{"not http", gateway.AlertConfig{Name: "retention", URL: "hooks.slack.com/services/T0/B0/s3cr3t"}, "http"},
		{"no host", gateway.AlertConfig{Name: "retention", URL: "https:///services/T0/B0/s3cr3t"}, "no host"},
		{"unknown option", gateway.AlertConfig{Name: "retention", URL: "https://hooks.example.com/x", Options: map[string]any{"channel": "#retention"}}, `unknown option "channel"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAlert(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %s", err, tt.want)
			}
			if !strings.Contains(err.Error(), `"retention"`) || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("err = %v: must name the alert and not echo the url", err)
			}
		})
	}
}

var _ gateway.AlertSender = (*Alert)(nil)
