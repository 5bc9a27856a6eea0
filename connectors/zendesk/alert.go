package zendesk

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// AlertKind is the kind of a Zendesk alert in the `alerts:` list of hush.yaml.
const AlertKind = "zendesk"

// ticketsPath is the Tickets API's create endpoint
// (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket).
const ticketsPath = "/api/v2/tickets.json"

// Limits of what an alert writes into a ticket. Zendesk caps a subject at 150 characters;
// the customer's own words are cut so that the note stays readable (the console has it all).
const (
	maxSubjectRunes   = 150
	maxEventTextRunes = 1000
)

// Requester choices: who the ticket is "from".
const (
	// RequesterNone leaves the requester to Zendesk: the API user (the agent whose token
	// hush uses). The customer is named in the private note only, so no trigger writes to
	// them. The default.
	RequesterNone = "none"
	// RequesterCustomer makes the customer (by email, created in Zendesk if new) the
	// requester, so the ticket sits in their history. Triggers that notify requesters of
	// new tickets may then email them; see docs/alerts.md.
	RequesterCustomer = "customer"
)

var (
	subdomainPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	priorities       = []string{"urgent", "high", "normal", "low"}
	defaultTags      = []string{"hush", "retention"}
)

// Alert creates a Zendesk ticket for each alert: assigned to the retention group, with a
// private note that says who the customer is, which rule fired, until when they are
// silenced and what they said. A rule's follow-up and a silence's end get a ticket of their
// own too, with their own subject, first line and tag; an unknown outbox kind is written
// as an alert. It implements gateway.AlertSender.
type Alert struct {
	name      string
	endpoint  string // base URL + ticketsPath
	auth      string // the whole Authorization header value; never logged
	groupID   int64
	priority  string
	tags      []string
	language  string // "" follows each message's language
	requester string
}

var _ gateway.AlertSender = (*Alert)(nil)

// NewAlert reads a zendesk alert's configuration. Options: subdomain (or the alert's url as
// the API base, for tests and proxies; exactly one of them), email and api_token (API token
// authentication), group_id (the retention group), and optionally priority (default high),
// tags (default hush, retention), language (es or en, instead of the message's) and
// requester (none, the default, or customer). Unknown keys are errors.
func NewAlert(cfg gateway.AlertConfig) (*Alert, error) {
	r := options.NewReader(AlertKind, cfg.Options)
	subdomain := strings.ToLower(strings.TrimSpace(r.String("subdomain", "")))
	email := strings.TrimSpace(r.RequiredString("email"))
	token := r.RequiredString("api_token")
	groupID, groupErr := readGroupID(r)
	priority := r.String("priority", "high")
	tags := r.StringSlice("tags")
	tagsSet := r.Has("tags")
	language := r.String("language", "")
	requester := r.String("requester", RequesterNone)

	var errs []error
	if err := r.Done(); err != nil {
		errs = append(errs, err)
	}
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if groupErr != nil {
		bad("%v", groupErr)
	}

	var base string
	switch {
	case subdomain != "" && cfg.URL != "":
		bad("set either option subdomain or url, not both")
	case subdomain != "":
		if !subdomainPattern.MatchString(subdomain) {
			bad(`option "subdomain" must be the name before .zendesk.com (letters, digits, hyphens)`)
		}
		base = "https://" + subdomain + ".zendesk.com"
	case cfg.URL != "":
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("url must be an http(s) base URL such as https://example.zendesk.com, without query")
		} else {
			base = strings.TrimRight(u.String(), "/")
		}
	default:
		bad(`option "subdomain" (or url) is required`)
	}
	if email != "" && !strings.Contains(email, "@") {
		bad(`option "email" must be the email address of the agent the API token belongs to`)
	}
	if !slices.Contains(priorities, priority) {
		bad(`option "priority" must be one of %s`, strings.Join(priorities, ", "))
	}
	if !tagsSet {
		tags = slices.Clone(defaultTags)
	}
	for _, tag := range tags {
		// Zendesk splits tags on spaces; a tag with one would silently become two.
		if tag == "" || strings.ContainsFunc(tag, func(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == ',' }) {
			bad(`option "tags": every tag must be a non-empty word without spaces or commas`)
			break
		}
	}
	if language != "" && language != "es" && language != "en" {
		bad(`option "language" must be es or en`)
	}
	if requester != RequesterNone && requester != RequesterCustomer {
		bad(`option "requester" must be %s or %s`, RequesterNone, RequesterCustomer)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("alert %q (kind %s): %w", cfg.Name, AlertKind, errors.Join(errs...))
	}
	cred := base64.StdEncoding.EncodeToString([]byte(email + "/token:" + token))
	return &Alert{
		name: cfg.Name, endpoint: base + ticketsPath, auth: "Basic " + cred,
		groupID: groupID, priority: priority, tags: tags, language: language, requester: requester,
	}, nil
}

// readGroupID reads group_id, a Zendesk id: a positive whole number, written bare or quoted.
// Zendesk ids pass 2^31 (360001234567), beyond what options.Int accepts, so it is read here.
func readGroupID(r *options.Reader) (int64, error) {
	var v any
	if !r.Decode("group_id", &v) {
		return 0, errors.New(`option "group_id" (the retention group's id) is required`)
	}
	const want = `option "group_id" must be a Zendesk group id (a positive whole number)`
	switch n := v.(type) {
	case float64:
		if n >= 1 && n <= 1<<53 && n == math.Trunc(n) {
			return int64(n), nil
		}
	case string:
		if id, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, errors.New(want)
}

// ticketRequest is the body of Create Ticket: {"ticket": {...}}.
type ticketRequest struct {
	Ticket ticket `json:"ticket"`
}

type ticket struct {
	Subject    string        `json:"subject"`
	Comment    ticketComment `json:"comment"`
	Requester  *ticketPerson `json:"requester,omitempty"`
	GroupID    int64         `json:"group_id"`
	Priority   string        `json:"priority"`
	Tags       []string      `json:"tags"`
	ExternalID string        `json:"external_id"`
}

// ticketComment is the ticket's first comment. It is always private (an internal note): it
// holds what the customer said and why hush acted, which is for agents, not for the customer.
type ticketComment struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

type ticketPerson struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Request builds the Create Ticket call for one alert. The outbox id is the Idempotency-Key
// (Zendesk answers a retry of a created ticket with the first ticket instead of a new one)
// and, prefixed with "hush:", the ticket's external_id, so agents and scripts can find the
// ticket of an alert.
func (a *Alert) Request(ctx context.Context, m *gateway.AlertMessage) (*http.Request, error) {
	if m == nil || m.Outbox.ID == "" {
		return nil, fmt.Errorf("zendesk alert %q: message without an outbox id", a.name)
	}
	lang := a.language
	if lang == "" {
		lang = messageLanguage(m.Language)
	}
	t := texts[lang]
	rule := cmp.Or(m.Outbox.Rule, t.noRule)
	subject, tags := t.subject, a.tags
	switch m.Outbox.Kind {
	case gateway.OutboxFollowUp:
		subject, tags = t.subjectFollowUp, withTag(a.tags, tagFollowUp)
	case gateway.OutboxSilenceEnded:
		subject, tags = t.subjectEnded, withTag(a.tags, tagSilenceEnded)
	}
	body := ticketRequest{Ticket: ticket{
		Subject:    truncateRunes(subject+rule, maxSubjectRunes),
		Comment:    ticketComment{Body: noteBody(t, m, rule), Public: false},
		GroupID:    a.groupID,
		Priority:   a.priority,
		Tags:       tags,
		ExternalID: "hush:" + m.Outbox.ID,
	}}
	if a.requester == RequesterCustomer {
		body.Ticket.Requester = customerRequester(m.Customer)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the note quotes the customer with "> "; keep it readable
	if err := enc.Encode(body); err != nil {
		return nil, fmt.Errorf("encoding zendesk ticket: %w", err)
	}
	// bytes.Reader lets net/http set GetBody, so the worker can resend the same bytes.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint, bytes.NewReader(b.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("building zendesk ticket request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", a.auth)
	req.Header.Set("Idempotency-Key", m.Outbox.ID)
	return req, nil
}

// Tags added to the configured ones on a follow-up's or an ended silence's ticket, so that
// views and triggers can tell them from alerts.
const (
	tagFollowUp     = "follow-up"
	tagSilenceEnded = "silence-ended"
)

// withTag is tags plus tag, in a new slice: the configured tags are shared by concurrent
// requests and must not be appended to in place.
func withTag(tags []string, tag string) []string {
	if slices.Contains(tags, tag) {
		return tags
	}
	return append(slices.Clone(tags), tag)
}

// customerRequester names the customer by their first email, with their name; nil when hush
// knows no email for them (Zendesk needs one to find or create an end user).
func customerRequester(c *gateway.Customer) *ticketPerson {
	if c == nil {
		return nil
	}
	for _, id := range c.Identities {
		if id.IsEmail() {
			return &ticketPerson{Name: c.Name, Email: id.Value()}
		}
	}
	return nil
}

func messageLanguage(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "es") {
		return "es"
	}
	return "en"
}

// alertTexts is the wording of a ticket in one language.
type alertTexts struct {
	subject, noRule                                                 string
	subjectFollowUp, subjectEnded, introFollowUp, introEnded        string
	liftedBy                                                        string
	introSilenced, introAlert, customer, erased, noName, identities string
	rule, silence, until, untilResolved, noSilence                  string
	lifted, shadow, event, noEvent, text, sentiment                 string
	scores, console, footer, outbox                                 string
}

var texts = map[string]alertTexts{
	"es": {
		subject: "Cliente en riesgo: ", noRule: "(sin regla)",
		subjectFollowUp: "Seguimiento: ", subjectEnded: "Silencio terminado: ",
		introFollowUp: "La regla se activó el %s; toca volver a contactar (p. ej. llamar) para comprobar que el problema está resuelto.",
		introEnded:    "El silencio terminó el %s; marketing puede volver a escribir.",
		liftedBy:      " (levantado por %s)",
		introSilenced: "hush ha detectado un cliente en riesgo y lo ha puesto en silencio (detalles abajo).",
		introAlert:    "hush ha detectado un cliente en riesgo.",
		customer:      "Cliente", erased: "(borrado de hush)", noName: "(sin nombre)", identities: "Identidades",
		rule: "Regla", silence: "Silencio", until: "hasta %s", untilResolved: "hasta que se resuelva %s",
		noSilence: "ninguno (la regla solo avisa)", lifted: "levantado el %s", shadow: " (modo sombra: no se aplica)",
		event: "Evento", noEvent: "(no disponible)", text: "Texto", sentiment: "Sentimiento",
		scores: "Puntuaciones", console: "Ver en la consola", outbox: "Alerta",
		footer: "Nota interna creada por hush; el cliente no la ve.",
	},
	"en": {
		subject: "Customer at risk: ", noRule: "(no rule)",
		subjectFollowUp: "Follow-up: ", subjectEnded: "Silence ended: ",
		introFollowUp: "The rule fired on %s; time to check back (e.g. call) that the problem is solved.",
		introEnded:    "The silence ended on %s; marketing may write again.",
		liftedBy:      " (lifted by %s)",
		introSilenced: "hush found a customer at risk and silenced them (details below).",
		introAlert:    "hush found a customer at risk.",
		customer:      "Customer", erased: "(erased from hush)", noName: "(no name)", identities: "Identities",
		rule: "Rule", silence: "Silence", until: "until %s", untilResolved: "until %s is resolved",
		noSilence: "none (the rule only alerts)", lifted: "lifted on %s", shadow: " (shadow mode: not enforced)",
		event: "Event", noEvent: "(not available)", text: "Text", sentiment: "Sentiment",
		scores: "Scores", console: "Open in the console", outbox: "Alert",
		footer: "Internal note created by hush; the customer does not see it.",
	},
}

// noteBody writes the private note: plain text (Zendesk's comment "body"), so nothing the
// customer wrote is ever read as markup.
func noteBody(t alertTexts, m *gateway.AlertMessage, rule string) string {
	var b strings.Builder
	line := func(label, value string) { fmt.Fprintf(&b, "%s: %s\n", label, value) }

	switch {
	case m.Outbox.Kind == gateway.OutboxFollowUp:
		fmt.Fprintf(&b, t.introFollowUp+"\n\n", formatTime(m.FiredAt()))
	case m.Outbox.Kind == gateway.OutboxSilenceEnded:
		at, by := m.SilenceEndedAt()
		when := formatTime(at)
		if by != "" {
			when += fmt.Sprintf(t.liftedBy, oneLine(by))
		}
		fmt.Fprintf(&b, t.introEnded+"\n\n", when)
	case m.Silence != nil:
		b.WriteString(t.introSilenced + "\n\n")
	default:
		b.WriteString(t.introAlert + "\n\n")
	}
	if c := m.Customer; c != nil {
		line(t.customer, cmp.Or(oneLine(c.Name), t.noName))
		ids := make([]string, 0, len(c.Identities))
		for _, id := range c.Identities {
			ids = append(ids, id.String())
		}
		if len(ids) > 0 {
			line(t.identities, strings.Join(ids, ", "))
		}
	} else {
		line(t.customer, t.erased)
	}
	line(t.rule, rule)
	line(t.silence, silenceText(t, m.Silence))

	if ev := m.Event; ev != nil {
		b.WriteString("\n")
		line(t.event, oneLine(ev.Type)+" · "+oneLine(ev.Source)+" · "+ev.At.UTC().Format(time.RFC3339))
		if s := scoresText(ev); s != "" {
			line(t.scores, s)
		}
		if ev.Sentiment != nil {
			s := strconv.FormatFloat(ev.Sentiment.Score, 'f', 2, 64)
			if ev.Sentiment.Label != "" {
				s += " (" + oneLine(ev.Sentiment.Label) + ")"
			}
			line(t.sentiment, s)
		}
		if text := strings.TrimSpace(ev.Text); text != "" {
			b.WriteString(t.text + ":\n" + quote(truncateRunes(text, maxEventTextRunes)) + "\n")
		}
	} else {
		line(t.event, t.noEvent)
	}

	b.WriteString("\n")
	if m.ConsoleURL != "" {
		line(t.console, m.ConsoleURL)
	}
	line(t.outbox, m.Outbox.ID)
	b.WriteString(t.footer)
	return b.String()
}

func silenceText(t alertTexts, s *gateway.Silence) string {
	if s == nil {
		return t.noSilence
	}
	var out string
	switch {
	case s.LiftedAt != nil:
		out = fmt.Sprintf(t.lifted, formatTime(*s.LiftedAt))
	case s.End != nil:
		out = fmt.Sprintf(t.until, formatTime(*s.End))
	case s.Topic != "":
		out = fmt.Sprintf(t.untilResolved, oneLine(s.Topic))
	default:
		out = fmt.Sprintf(t.until, "?")
	}
	if len(s.Categories) > 0 {
		cats := make([]string, len(s.Categories))
		for i, c := range s.Categories {
			cats[i] = string(c)
		}
		out += " [" + strings.Join(cats, ", ") + "]"
	}
	if s.Shadow {
		out += t.shadow
	}
	return out
}

// scoresText lists the survey scores an event carries: "CSAT 1, NPS 3".
func scoresText(ev *gateway.Event) string {
	var parts []string
	for _, s := range []struct {
		name string
		v    *float64
	}{{"CSAT", ev.CSAT}, {"NPS", ev.NPS}, {"CES", ev.CES}} {
		if s.v != nil {
			parts = append(parts, s.name+" "+strconv.FormatFloat(*s.v, 'f', -1, 64))
		}
	}
	return strings.Join(parts, ", ")
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// quote prefixes every line of the customer's text with "> " so it reads as a quotation.
func quote(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// oneLine keeps a value on its line: names and types come from vendors.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncateRunes cuts s to at most n runes, ending with "…" when it cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
