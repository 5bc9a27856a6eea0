// Package slack sends hush's alerts to a Slack channel through an incoming webhook: a
// Block Kit message, in the configured language, that tells the team which customer is at
// risk, why, what they said and where to see them in the console. The same message, with
// its own header and first line, reminds the team to check back (a rule's follow-up) and
// tells marketing that a customer's silence is over.
//
// The message shows the customer's name and email or phone on purpose: it goes to the
// company's own Slack, to the people who will call the customer back. It is built in
// memory and sent; nothing of it is logged. Everything a customer or a vendor wrote is
// escaped so that it cannot mention (@channel, @here, a user) nor forge links.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the alert kind's name in configuration.
const Kind = "slack"

// MaxTextRunes bounds the event text quoted in a message: enough to read the complaint,
// short enough to keep a channel readable. The full text is in the console.
const MaxTextRunes = 300

// Alert builds Slack incoming-webhook requests. Safe for concurrent use: it is never
// modified after NewAlert.
type Alert struct {
	name string
	url  string // the incoming webhook's URL; it is the credential, so never in messages
}

// NewAlert builds a Slack alert sender. cfg.URL is the incoming webhook's URL (it carries
// the webhook's secret). The kind has no options; any option is an error.
func NewAlert(cfg gateway.AlertConfig) (*Alert, error) {
	opts := options.NewReader(Kind, cfg.Options)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("alert %q: %w", cfg.Name, err)
	}
	if err := options.CheckHTTPURL(cfg.URL, "the Slack incoming webhook's URL"); err != nil {
		return nil, fmt.Errorf("alert %q: %w", cfg.Name, err)
	}
	return &Alert{name: cfg.Name, url: cfg.URL}, nil
}

// Request builds the POST of one alert to the incoming webhook. Slack has no idempotency
// key; the outbox id goes in Idempotency-Key anyway, for proxies and test receivers.
func (a *Alert) Request(ctx context.Context, m *gateway.AlertMessage) (*http.Request, error) {
	if m == nil || m.Outbox.ID == "" {
		return nil, errors.New("slack alert: the message has no outbox id")
	}
	body, err := encode(Message(m))
	if err != nil {
		return nil, fmt.Errorf("encoding slack alert %s: %w", m.Outbox.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		// err would quote the URL, which is the webhook's secret.
		return nil, fmt.Errorf("building slack alert %s for %q: the request could not be made", m.Outbox.ID, a.name)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Idempotency-Key", m.Outbox.ID)
	return req, nil
}

// encode writes the message as JSON without Go's HTML escaping of <, > and &: the text is
// already escaped for Slack, and "\u003c" would only make it harder to read in a capture.
func encode(p Payload) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Payload is an incoming-webhook message: Text is the notification's fallback, Blocks what
// the channel shows.
type Payload struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is one Block Kit layout block (header, section, context or actions).
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []any  `json:"elements,omitempty"` // Text (context) or Button (actions)
}

// Text is a Block Kit text object, "plain_text" or "mrkdwn".
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Button is a link button.
type Button struct {
	Type     string `json:"type"` // "button"
	Text     Text   `json:"text"`
	URL      string `json:"url"`
	ActionID string `json:"action_id"`
}

func plain(s string) *Text { return &Text{Type: "plain_text", Text: s} }
func mrkdwn(s string) Text { return Text{Type: "mrkdwn", Text: s} }

// words are a message's fixed texts in one language.
type words struct {
	title, customer, erased, reason, ruleReason, silence, untilResolved, shadow, lifted string
	lastContact, event, message, sentiment, cues, view                                  string
	// Follow-ups and ended silences: their headers and the line that says what to do.
	followUpTitle, followUpLead, endedTitle, endedLead, liftedBy string
}

var languages = map[string]words{
	"es": {
		title: "Cliente en riesgo: regla %s", customer: "Cliente", erased: "(cliente borrado)",
		reason: "Motivo", ruleReason: "regla %s", silence: "Silencio hasta",
		untilResolved: "que se resuelva «%s», y %s más", shadow: "modo sombra: registrado, no aplicado",
		lifted: "levantado el %s", lastContact: "Último contacto", event: "Evento", message: "Mensaje",
		sentiment: "Sentimiento", cues: "señales", view: "Ver cliente",
		followUpTitle: "Seguimiento: regla %s",
		followUpLead:  "La regla se activó el %s; toca volver a contactar (p. ej. llamar) para comprobar que el problema está resuelto.",
		endedTitle:    "Silencio terminado: regla %s",
		endedLead:     "El silencio terminó el %s; marketing puede volver a escribir.",
		liftedBy:      " (levantado por %s)",
	},
	"en": {
		title: "Customer at risk: rule %s", customer: "Customer", erased: "(customer erased)",
		reason: "Reason", ruleReason: "rule %s", silence: "Silenced until",
		untilResolved: "“%s” is resolved, then %s more", shadow: "shadow mode: recorded, not enforced",
		lifted: "lifted %s", lastContact: "Last contact", event: "Event", message: "Message",
		sentiment: "Sentiment", cues: "cues", view: "View customer",
		followUpTitle: "Follow-up: rule %s",
		followUpLead:  "The rule fired on %s; time to check back (e.g. call) that the problem is solved.",
		endedTitle:    "Silence ended: rule %s",
		endedLead:     "The silence ended on %s; marketing may write again.",
		liftedBy:      " (lifted by %s)",
	},
}

// Message builds the Slack message of an outbox message in m.Language (English unless
// "es"). Its kind decides the header and, for a follow-up or an ended silence, a first
// line that says what to do now; an unknown kind is shown as an alert, so that it is seen
// rather than dropped. It depends on the message only, so every attempt of one message
// posts the same text.
func Message(m *gateway.AlertMessage) Payload {
	w, ok := languages[m.Language]
	if !ok {
		w = languages["en"]
	}
	rule := truncate(m.Outbox.Rule, 80)
	var title, lead string
	switch m.Outbox.Kind {
	case gateway.OutboxFollowUp:
		title = fmt.Sprintf(w.followUpTitle, rule)
		lead = fmt.Sprintf(w.followUpLead, date(m.FiredAt()))
	case gateway.OutboxSilenceEnded:
		title = fmt.Sprintf(w.endedTitle, rule)
		at, by := m.SilenceEndedAt()
		when := date(at)
		if by != "" {
			when += fmt.Sprintf(w.liftedBy, escape(truncate(by, 100)))
		}
		lead = fmt.Sprintf(w.endedLead, when)
	default:
		title = fmt.Sprintf(w.title, rule)
	}

	who := w.erased
	if c := m.Customer; c != nil {
		var lines []string
		if c.Name != "" {
			lines = append(lines, escape(truncate(c.Name, 200)))
		}
		if id := primaryIdentity(c.Identities); id != "" {
			lines = append(lines, escape(id))
		}
		if len(lines) == 0 {
			lines = append(lines, escape(c.ID))
		}
		who = strings.Join(lines, "\n")
	}

	reason := fmt.Sprintf(w.ruleReason, m.Outbox.Rule)
	if s := m.Silence; s != nil && s.Reason != "" {
		// The rule's description, copied into the silence when the rule created it.
		reason = s.Reason
	}
	fields := []Text{
		mrkdwn(label(w.customer) + who),
		mrkdwn(label(w.reason) + escape(truncate(reason, 500))),
	}
	if s := m.Silence; s != nil {
		fields = append(fields, mrkdwn(label(w.silence)+silenceEnd(w, s)))
	}
	if ev := m.Event; ev != nil {
		fields = append(fields,
			mrkdwn(label(w.lastContact)+contact(ev)),
			mrkdwn(label(w.event)+eventSummary(ev)))
		if s := ev.Sentiment; s != nil {
			line := fmt.Sprintf("%+.2f", s.Score)
			if s.Label != "" {
				line += " (" + escape(s.Label) + ")"
			}
			if len(s.Cues) > 0 {
				line += "\n" + w.cues + ": " + escape(strings.Join(s.Cues, ", "))
			}
			fields = append(fields, mrkdwn(label(w.sentiment)+line))
		}
	}

	blocks := []Block{{Type: "header", Text: plain(truncate(title, 150))}}
	if lead != "" {
		t := mrkdwn(lead)
		blocks = append(blocks, Block{Type: "section", Text: &t})
	}
	blocks = append(blocks, Block{Type: "section", Fields: fields})
	if ev := m.Event; ev != nil && strings.TrimSpace(ev.Text) != "" {
		t := mrkdwn(label(w.message) + quote(escape(truncate(strings.TrimSpace(ev.Text), MaxTextRunes))))
		blocks = append(blocks, Block{Type: "section", Text: &t})
	}
	if m.ConsoleURL != "" {
		blocks = append(blocks, Block{Type: "actions", Elements: []any{
			Button{Type: "button", Text: *plain(w.view), URL: m.ConsoleURL, ActionID: "hush_view_customer"},
		}})
	}

	fallback := escape(title)
	if c := m.Customer; c != nil && c.Name != "" {
		fallback += " — " + escape(truncate(c.Name, 200))
	}
	return Payload{Text: fallback, Blocks: blocks}
}

func label(s string) string { return "*" + s + "*\n" }

// silenceEnd says until when the customer is silenced.
func silenceEnd(w words, s *gateway.Silence) string {
	var out string
	switch {
	case s.End != nil:
		out = date(*s.End)
	case s.UntilResolved:
		out = fmt.Sprintf(w.untilResolved, escape(s.Topic), s.Grace.String())
	default:
		out = "—"
	}
	if s.LiftedAt != nil {
		out += "\n_" + fmt.Sprintf(w.lifted, date(*s.LiftedAt)) + "_"
	}
	if s.Shadow {
		out += "\n_" + w.shadow + "_"
	}
	return out
}

// contact is when and where the customer last spoke to the company: the triggering event.
func contact(ev *gateway.Event) string {
	out := date(ev.At)
	where := escape(ev.Source)
	if ev.Channel != "" {
		where += " (" + escape(string(ev.Channel)) + ")"
	}
	if where != "" {
		out += "\n" + where
	}
	return out
}

// eventSummary is the event's type and the scores it carries.
func eventSummary(ev *gateway.Event) string {
	parts := []string{"`" + escape(ev.Type) + "`"}
	for _, s := range []struct {
		name string
		v    *float64
	}{{"CSAT", ev.CSAT}, {"NPS", ev.NPS}, {"CES", ev.CES}} {
		if s.v != nil {
			parts = append(parts, fmt.Sprintf("%s %g", s.name, *s.v))
		}
	}
	return strings.Join(parts, " · ")
}

// date writes a time Slack shows in each reader's own time zone, with UTC as the fallback
// of clients that cannot.
func date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// primaryIdentity is the identity a person would contact: an email, else a phone, else a
// vendor id as stored.
func primaryIdentity(ids []gateway.Identity) string {
	for _, kind := range []string{gateway.KindEmail, gateway.KindPhone} {
		for _, id := range ids {
			if id.Kind() == kind {
				return id.Value()
			}
		}
	}
	if len(ids) > 0 {
		return ids[0].String()
	}
	return ""
}

// escape makes text safe in Slack's mrkdwn: with &, < and > escaped, no "<!here>",
// "<!channel>", "<@U123>" nor "<https://…|label>" in a customer's words is acted upon.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// quote prefixes every line with mrkdwn's quote marker (added after escaping, so it is the
// only ">" that Slack reads as markup).
func quote(s string) string {
	return ">" + strings.ReplaceAll(s, "\n", "\n>")
}

// truncate keeps at most n runes, marking a cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
