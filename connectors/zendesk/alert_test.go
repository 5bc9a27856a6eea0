package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// alertOptions is a valid configuration; tests copy and change it.
func alertOptions() map[string]any {
	return map[string]any{
		"email":     "hush-bot@example.com",
		"api_token": "tok3n",
		"group_id":  uint64(360001234567), // real ids pass 2^31; goccy/go-yaml decodes them as uint64
	}
}

func newTestAlert(t *testing.T, url string, opts map[string]any) *Alert {
	t.Helper()
	a, err := NewAlert(gateway.AlertConfig{Name: "retention", Kind: AlertKind, URL: url, Options: opts})
	if err != nil {
		t.Fatalf("NewAlert: %v", err)
	}
	return a
}

// fullMessage is an alert with everything a ticket can show.
func fullMessage(lang string) *gateway.AlertMessage {
	at := time.Date(2026, 11, 22, 8, 4, 0, 0, time.UTC)
	end := at.Add(15 * 24 * time.Hour)
	csat := 1.0
	return &gateway.AlertMessage{
		Outbox: gateway.OutboxMessage{
			ID: "out_01JDX7Q3W5B2C8ZK4N6M9P0R1S", Kind: "alert", Target: "retention",
			CustomerID: "cus_1", Rule: "low-csat", EventID: "zendesk:ev-1", CreatedAt: at,
		},
		Customer: &gateway.Customer{
			ID: "cus_1", Name: "Ana García",
			Identities: []gateway.Identity{"email:ana@example.com", "phone:+34600111222", "zendesk:8841"},
		},
		Event: &gateway.Event{
			ID: "ev-1", Source: "zendesk", Type: "survey.response", At: at, CSAT: &csat,
			Text:      "Tercera vez que llamo.\nNadie me soluciona nada, me voy a la competencia.",
			Sentiment: &gateway.Sentiment{Score: -0.82, Label: "negative", Source: "builtin"},
		},
		Silence: &gateway.Silence{
			ID: "sil_1", CustomerID: "cus_1", Rule: "low-csat", Start: at, End: &end,
			Categories: []gateway.Category{"marketing", "sales", "survey"},
		},
		ConsoleURL: "https://hush.example.com/console/customers/cus_1",
		Language:   lang,
	}
}

// bareMessage is an alert whose customer was erased and whose event and silence are gone.
func bareMessage() *gateway.AlertMessage {
	return &gateway.AlertMessage{
		Outbox:   gateway.OutboxMessage{ID: "out_bare", Kind: "alert", Target: "retention", Rule: "churn-words"},
		Language: "en",
	}
}

// followUp makes m the follow-up of its rule, due three days after the rule fired.
func followUp(m *gateway.AlertMessage) *gateway.AlertMessage {
	m.Outbox.ID, m.Outbox.Kind, m.Outbox.DueAt = "out_follow_up", gateway.OutboxFollowUp, m.Outbox.CreatedAt.Add(3*24*time.Hour)
	return m
}

// silenceEnded makes m the message sent when its silence ran out.
func silenceEnded(m *gateway.AlertMessage) *gateway.AlertMessage {
	m.Outbox.ID, m.Outbox.Kind, m.Outbox.DueAt = "out_silence_ended", gateway.OutboxSilenceEnded, *m.Silence.End
	return m
}

// liftedByPerson has an operator lift m's silence two days in.
func liftedByPerson(m *gateway.AlertMessage) *gateway.AlertMessage {
	lifted := m.Silence.Start.Add(2 * 24 * time.Hour)
	m.Silence.LiftedAt, m.Silence.LiftedBy, m.Silence.LiftReason = &lifted, "admin:ops", "customer called back"
	m.Outbox.DueAt = lifted
	return m
}

func requestBody(t *testing.T, req *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares a request body with testdata/alert/<name>.golden.json (indented;
// -update rewrites it).
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	connectortest.CompareGolden(t, filepath.Join("testdata", "alert", name+".golden.json"), pretty.Bytes(), *update)
}

func TestAlertGoldenBodies(t *testing.T) {
	withRequester := alertOptions()
	withRequester["requester"] = "customer"
	custom := alertOptions()
	custom["priority"] = "urgent"
	custom["tags"] = []any{"churn_risk"}
	custom["language"] = "es"
	for _, tc := range []struct {
		name string
		opts map[string]any
		msg  *gateway.AlertMessage
	}{
		{"full_es", alertOptions(), fullMessage("es")},
		{"full_en", alertOptions(), fullMessage("en")},
		{"bare_en", alertOptions(), bareMessage()},
		{"requester_customer", withRequester, fullMessage("en")},
		{"options_language_es", custom, fullMessage("en")},
		{"follow_up_es", alertOptions(), followUp(fullMessage("es"))},
		{"follow_up_en", alertOptions(), followUp(fullMessage("en"))},
		{"silence_ended_es", alertOptions(), silenceEnded(fullMessage("es"))},
		{"silence_ended_lifted_en", alertOptions(), liftedByPerson(silenceEnded(fullMessage("en")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestAlert(t, "https://acme.example.com", tc.opts)
			req, err := a.Request(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, requestBody(t, req))
		})
	}
}

func TestAlertRequestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		opts      map[string]any
		want      string
	}{
		{"subdomain", "", map[string]any{"subdomain": "Acme"}, "https://acme.zendesk.com/api/v2/tickets.json"},
		{"url", "http://127.0.0.1:8080/zd/", nil, "http://127.0.0.1:8080/zd/api/v2/tickets.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := alertOptions()
			for k, v := range tc.opts {
				opts[k] = v
			}
			a := newTestAlert(t, tc.url, opts)
			m := fullMessage("es")
			req, err := a.Request(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != http.MethodPost || req.URL.String() != tc.want {
				t.Errorf("request = %s %s, want POST %s", req.Method, req.URL, tc.want)
			}
			user, pass, ok := req.BasicAuth()
			if !ok || user != "hush-bot@example.com/token" || pass != "tok3n" {
				t.Errorf("basic auth = %q, %q, %v; want the API-token form email/token:token", user, pass, ok)
			}
			for h, want := range map[string]string{
				"Content-Type":    "application/json",
				"Accept":          "application/json",
				"Idempotency-Key": m.Outbox.ID,
			} {
				if got := req.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			// The worker may send the same request again: the body must be replayable.
			first := requestBody(t, req)
			if req.GetBody == nil {
				t.Fatal("GetBody is nil: the request cannot be retried")
			}
			again, err := req.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(again); !bytes.Equal(b, first) {
				t.Error("GetBody returns a different body")
			}
			var body struct {
				Ticket struct {
					ExternalID string `json:"external_id"`
					GroupID    int64  `json:"group_id"`
					Comment    struct {
						Public *bool `json:"public"`
					} `json:"comment"`
				} `json:"ticket"`
			}
			if err := json.Unmarshal(first, &body); err != nil {
				t.Fatal(err)
			}
			if body.Ticket.ExternalID != "hush:"+m.Outbox.ID || body.Ticket.GroupID != 360001234567 {
				t.Errorf("external_id %q, group_id %d", body.Ticket.ExternalID, body.Ticket.GroupID)
			}
			if body.Ticket.Comment.Public == nil || *body.Ticket.Comment.Public {
				t.Error(`comment.public must be sent as false: a public first comment may be emailed to the requester`)
			}
		})
	}
}

func TestAlertTruncatesLongTexts(t *testing.T) {
	a := newTestAlert(t, "https://acme.example.com", alertOptions())
	m := fullMessage("en")
	m.Outbox.Rule = strings.Repeat("r", 300)
	m.Event.Text = strings.Repeat("ñ", 5000)
	req, err := a.Request(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	var body ticketRequest
	if err := json.Unmarshal(requestBody(t, req), &body); err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(body.Ticket.Subject); n != maxSubjectRunes || !strings.HasSuffix(body.Ticket.Subject, "…") {
		t.Errorf("subject has %d runes, want %d ending in …", n, maxSubjectRunes)
	}
	quoted := strings.Repeat("ñ", maxEventTextRunes-1) + "…\n"
	if !strings.Contains(body.Ticket.Comment.Body, "> "+quoted) || strings.Contains(body.Ticket.Comment.Body, strings.Repeat("ñ", maxEventTextRunes)) {
		t.Error("event text is not cut to 1000 characters ending in …")
	}
}

func TestAlertRequestRefusesMessageWithoutID(t *testing.T) {
	a := newTestAlert(t, "https://acme.example.com", alertOptions())
	for _, m := range []*gateway.AlertMessage{nil, {}} {
		if _, err := a.Request(context.Background(), m); err == nil {
			t.Errorf("Request(%v) succeeded; an alert needs its outbox id as idempotency key", m)
		}
	}
}

func TestNewAlertOptions(t *testing.T) {
	with := func(changes map[string]any) map[string]any {
		o := alertOptions()
		for k, v := range changes {
			if v == nil {
				delete(o, k)
			} else {
				o[k] = v
			}
		}
		return o
	}
	for _, tc := range []struct {
		name    string
		url     string
		opts    map[string]any
		wantErr string // "" means valid
	}{
		{"url only", "https://acme.example.com", with(nil), ""},
		{"subdomain only", "", with(map[string]any{"subdomain": "acme"}), ""},
		{"group id as string", "https://a.example.com", with(map[string]any{"group_id": "360001234567"}), ""},
		{"group id as int", "https://a.example.com", with(map[string]any{"group_id": 42}), ""},
		{"all optional", "https://a.example.com", with(map[string]any{"priority": "low", "tags": "vip", "language": "en", "requester": "none"}), ""},
		{"no base", "", with(nil), `option "subdomain" (or url) is required`},
		{"both bases", "https://a.example.com", with(map[string]any{"subdomain": "acme"}), "not both"},
		{"bad subdomain", "", with(map[string]any{"subdomain": "acme.zendesk.com"}), `option "subdomain" must be`},
		{"bad url", "ftp://a.example.com", with(nil), "url must be"},
		{"no email", "https://a.example.com", with(map[string]any{"email": nil}), `option "email" for kind "zendesk" is required`},
		{"email not an address", "https://a.example.com", with(map[string]any{"email": "bot"}), `option "email" must be`},
		{"no token", "https://a.example.com", with(map[string]any{"api_token": nil}), `option "api_token" for kind "zendesk" is required`},
		{"token not a string", "https://a.example.com", with(map[string]any{"api_token": 12}), `option "api_token" for kind "zendesk": want a string`},
		{"no group", "https://a.example.com", with(map[string]any{"group_id": nil}), `option "group_id" (the retention group's id) is required`},
		{"group zero", "https://a.example.com", with(map[string]any{"group_id": 0}), `option "group_id" must be`},
		{"group fraction", "https://a.example.com", with(map[string]any{"group_id": 1.5}), `option "group_id" must be`},
		{"group words", "https://a.example.com", with(map[string]any{"group_id": "retention"}), `option "group_id" must be`},
		{"bad priority", "https://a.example.com", with(map[string]any{"priority": "asap"}), `option "priority" must be one of urgent, high, normal, low`},
		{"tag with space", "https://a.example.com", with(map[string]any{"tags": []any{"churn risk"}}), `option "tags"`},
		{"empty tags", "https://a.example.com", with(map[string]any{"tags": []any{""}}), `option "tags"`},
		{"bad language", "https://a.example.com", with(map[string]any{"language": "fr"}), `option "language" must be es or en`},
		{"bad requester", "https://a.example.com", with(map[string]any{"requester": "agent"}), `option "requester" must be none or customer`},
		{"unknown key", "https://a.example.com", with(map[string]any{"token": "x"}), `unknown option "token" for kind "zendesk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAlert(gateway.AlertConfig{Name: "retention", Kind: AlertKind, URL: tc.url, Options: tc.opts})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("NewAlert: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("NewAlert succeeded, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error = %q, want it to contain %q", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), `alert "retention"`) {
					t.Errorf("error %q does not name the alert", err)
				}
				if strings.Contains(err.Error(), "tok3n") {
					t.Errorf("error %q shows the API token", err)
				}
			}
		})
	}
}

// fakeZendesk stands in for the Tickets API as its docs describe it: API-token basic auth,
// POST /api/v2/tickets.json answered 201 Created with a Location header and {"ticket": {…}},
// and idempotency: a repeated Idempotency-Key gets the first ticket back (header
// x-idempotency-lookup: hit) instead of creating another one.
type fakeZendesk struct {
	user     string // "email/token"
	password string

	mu      sync.Mutex
	tickets []map[string]any
	byKey   map[string]int // Idempotency-Key → ticket index
}

func (z *fakeZendesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != ticketsPath {
		http.Error(w, `{"error":"InvalidEndpoint"}`, http.StatusNotFound)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != z.user || p != z.password {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"Couldn't authenticate you"}`)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	var body struct {
		Ticket map[string]any `json:"ticket"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Ticket == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"InvalidJSON"}`)
		return
	}

	z.mu.Lock()
	key := r.Header.Get("Idempotency-Key")
	i, seen := z.byKey[key]
	lookup := "miss"
	if seen && key != "" {
		lookup = "hit"
	} else {
		i = len(z.tickets)
		t := body.Ticket
		t["id"] = float64(i + 1)
		t["url"] = fmt.Sprintf("http://%s%s/%d.json", r.Host, strings.TrimSuffix(ticketsPath, ".json"), i+1)
		z.tickets = append(z.tickets, t)
		if key != "" {
			z.byKey[key] = i
		}
	}
	stored := z.tickets[i]
	z.mu.Unlock()

	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Location", stored["url"].(string))
	w.Header().Set("x-idempotency-lookup", lookup)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"ticket": stored})
}

func (z *fakeZendesk) ticketCount() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return len(z.tickets)
}

func send(t *testing.T, client *http.Client, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d, body not JSON: %v", resp.StatusCode, err)
	}
	return resp, out
}

func TestAlertAgainstFakeZendesk(t *testing.T) {
	z := &fakeZendesk{user: "hush-bot@example.com/token", password: "tok3n", byKey: map[string]int{}}
	srv := httptest.NewServer(z)
	t.Cleanup(srv.Close)
	a := newTestAlert(t, srv.URL, alertOptions())
	ctx := context.Background()

	m := fullMessage("es")
	req, err := a.Request(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	resp, out := send(t, srv.Client(), req)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("x-idempotency-lookup") != "miss" {
		t.Fatalf("status %d, lookup %q; want 201 and a new ticket", resp.StatusCode, resp.Header.Get("x-idempotency-lookup"))
	}
	tk, _ := out["ticket"].(map[string]any)
	if tk["external_id"] != "hush:"+m.Outbox.ID || tk["group_id"] != float64(360001234567) || tk["priority"] != "high" {
		t.Errorf("stored ticket = %v", tk)
	}
	if resp.Header.Get("Location") != tk["url"] {
		t.Errorf("Location %q, ticket url %v", resp.Header.Get("Location"), tk["url"])
	}

	// A retry of the same alert (a fresh request, as the worker builds one per attempt)
	// finds the first ticket; another alert creates its own.
	retry, err := a.Request(ctx, fullMessage("es"))
	if err != nil {
		t.Fatal(err)
	}
	resp, out = send(t, srv.Client(), retry)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("x-idempotency-lookup") != "hit" {
		t.Errorf("retry: status %d, lookup %q; want 201 hit", resp.StatusCode, resp.Header.Get("x-idempotency-lookup"))
	}
	if again, _ := out["ticket"].(map[string]any); again["id"] != tk["id"] {
		t.Errorf("retry answered ticket %v, want %v", again["id"], tk["id"])
	}
	other, err := a.Request(ctx, bareMessage())
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := send(t, srv.Client(), other); resp.StatusCode != http.StatusCreated {
		t.Errorf("second alert: status %d", resp.StatusCode)
	}
	if n := z.ticketCount(); n != 2 {
		t.Errorf("%d tickets created, want 2 (one per alert)", n)
	}

	// A wrong token is refused with 401: the worker does not retry other 4xx.
	badOpts := alertOptions()
	badOpts["api_token"] = "wrong"
	bad, err := newTestAlert(t, srv.URL, badOpts).Request(ctx, fullMessage("en"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := send(t, srv.Client(), bad); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", resp.StatusCode)
	}
	if n := z.ticketCount(); n != 2 {
		t.Errorf("%d tickets after a refused request, want 2", n)
	}
}

// TestAlertAuthorizationHeader checks the exact header bytes against the documented form
// (Basic base64("{email_address}/token:{api_token}")), independently of net/http's parser.
func TestAlertAuthorizationHeader(t *testing.T) {
	a := newTestAlert(t, "https://acme.example.com", alertOptions())
	req, err := a.Request(context.Background(), bareMessage())
	if err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("hush-bot@example.com/token:tok3n"))
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
}

// ticketOf builds the request for m and decodes the ticket's subject, note and tags.
func ticketOf(t *testing.T, a *Alert, m *gateway.AlertMessage) (subject, note string, tags []string) {
	t.Helper()
	req, err := a.Request(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Ticket struct {
			Subject string   `json:"subject"`
			Tags    []string `json:"tags"`
			Comment struct {
				Body   string `json:"body"`
				Public bool   `json:"public"`
			} `json:"comment"`
			ExternalID string `json:"external_id"`
		} `json:"ticket"`
	}
	if err := json.Unmarshal(requestBody(t, req), &body); err != nil {
		t.Fatal(err)
	}
	if body.Ticket.Comment.Public || body.Ticket.ExternalID != "hush:"+m.Outbox.ID || req.Header.Get("Idempotency-Key") != m.Outbox.ID {
		t.Errorf("kind %q: ticket not a private note keyed by its own outbox id: %+v", m.Outbox.Kind, body.Ticket)
	}
	return body.Ticket.Subject, body.Ticket.Comment.Body, body.Ticket.Tags
}

// TestAlertKinds checks each outbox kind's subject, first line and tags in both languages
// (the goldens show whole tickets; this says what they must contain).
func TestAlertKinds(t *testing.T) {
	a := newTestAlert(t, "https://acme.example.com", alertOptions())
	tests := []struct {
		name    string
		m       *gateway.AlertMessage
		subject string
		lead    string
		tags    []string
	}{
		{"alert es", fullMessage("es"), "Cliente en riesgo: low-csat",
			"hush ha detectado un cliente en riesgo y lo ha puesto en silencio (detalles abajo).", []string{"hush", "retention"}},
		{"follow_up es", followUp(fullMessage("es")), "Seguimiento: low-csat",
			"La regla se activó el 2026-11-22 08:04 UTC; toca volver a contactar (p. ej. llamar) para comprobar que el problema está resuelto.",
			[]string{"hush", "retention", "follow-up"}},
		{"follow_up en", followUp(fullMessage("en")), "Follow-up: low-csat",
			"The rule fired on 2026-11-22 08:04 UTC; time to check back (e.g. call) that the problem is solved.",
			[]string{"hush", "retention", "follow-up"}},
		{"silence_ended es", silenceEnded(fullMessage("es")), "Silencio terminado: low-csat",
			"El silencio terminó el 2026-12-07 08:04 UTC; marketing puede volver a escribir.", []string{"hush", "retention", "silence-ended"}},
		{"silence_ended en", silenceEnded(fullMessage("en")), "Silence ended: low-csat",
			"The silence ended on 2026-12-07 08:04 UTC; marketing may write again.", []string{"hush", "retention", "silence-ended"}},
		{"silence_ended lifted es", liftedByPerson(silenceEnded(fullMessage("es"))), "Silencio terminado: low-csat",
			"El silencio terminó el 2026-11-24 08:04 UTC (levantado por admin:ops); marketing puede volver a escribir.",
			[]string{"hush", "retention", "silence-ended"}},
		{"silence_ended lifted en", liftedByPerson(silenceEnded(fullMessage("en"))), "Silence ended: low-csat",
			"The silence ended on 2026-11-24 08:04 UTC (lifted by admin:ops); marketing may write again.",
			[]string{"hush", "retention", "silence-ended"}},
		{"unknown kind", func() *gateway.AlertMessage { m := fullMessage("en"); m.Outbox.Kind = "reminder_v2"; return m }(),
			"Customer at risk: low-csat", "hush found a customer at risk and silenced them (details below).", []string{"hush", "retention"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, note, tags := ticketOf(t, a, tt.m)
			if subject != tt.subject {
				t.Errorf("subject = %q, want %q", subject, tt.subject)
			}
			if first, _, _ := strings.Cut(note, "\n"); first != tt.lead {
				t.Errorf("first line = %q, want %q", first, tt.lead)
			}
			if strings.Join(tags, ",") != strings.Join(tt.tags, ",") {
				t.Errorf("tags = %v, want %v", tags, tt.tags)
			}
			// The customer, silence and event follow as in an alert.
			for _, w := range []string{"Ana García", "ana@example.com", "low-csat", "survey.response", tt.m.Outbox.ID} {
				if !strings.Contains(note, w) {
					t.Errorf("note lacks %q:\n%s", w, note)
				}
			}
		})
	}
}

func TestAlertKindTagsNotShared(t *testing.T) {
	// A configured tag list that already has the kind's tag keeps it once; and adding it
	// for one ticket never changes the configured list other tickets use.
	opts := alertOptions()
	opts["tags"] = []any{"churn", "follow-up"}
	a := newTestAlert(t, "https://acme.example.com", opts)
	if _, _, tags := ticketOf(t, a, followUp(fullMessage("en"))); strings.Join(tags, ",") != "churn,follow-up" {
		t.Errorf("follow-up tags = %v", tags)
	}
	if _, _, tags := ticketOf(t, a, silenceEnded(fullMessage("en"))); strings.Join(tags, ",") != "churn,follow-up,silence-ended" {
		t.Errorf("silence-ended tags = %v", tags)
	}
	if _, _, tags := ticketOf(t, a, fullMessage("en")); strings.Join(tags, ",") != "churn,follow-up" {
		t.Errorf("alert tags after other kinds = %v", tags)
	}
}
