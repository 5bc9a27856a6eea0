package server_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hush-gateway/hush/connectors"
	"github.com/hush-gateway/hush/connectors/signature"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/hush-gateway/hush/storage/bolt"
)

// The security suite (issue #7, "Security tests"): one server with a source of every
// connector kind, a configured upstream (a recording stand-in) and a second, forbidden
// stand-in that nothing may ever reach. Every case asserts the status and that nothing was
// stored or sent; at the end, the server's log must hold none of the secrets, tokens and
// personal data the requests carried.

// delivery is one webhook request being built: the signing helpers edit it.
type delivery struct {
	header http.Header
	query  string
	body   []byte
	at     time.Time // when the sender signed it (timestamped schemes)
}

func (d *delivery) clone() *delivery {
	return &delivery{header: d.header.Clone(), query: d.query, body: bytes.Clone(d.body), at: d.at}
}

// sourceKind says how one connector kind authenticates, after its documentation (and its
// own tests): sign makes a delivery authentic under secret, strip removes the credential.
type sourceKind struct {
	name        string // the source's name; "": the kind's
	secret      string
	options     map[string]any
	fixture     string // a real delivery from the connector's testdata, yielding ≥ 1 event
	contentType string
	header      http.Header // unsigned headers the vendor also sends
	sign        func(d *delivery, secret string)
	strip       func(d *delivery)
	// bodySigned is false for schemes whose credential is a static token: any body with the
	// right token is authentic (the scheme's limit, documented per connector).
	bodySigned  bool
	timestamped bool
}

func hmacScheme(h signature.HMAC) func(secret string, parts ...[]byte) string {
	return func(secret string, parts ...[]byte) string { return h.Sign([]byte(secret), parts...) }
}

var (
	sha256Hex    = hmacScheme(signature.HMAC{Hash: sha256.New, Encoding: signature.Hex})
	sha256Base64 = hmacScheme(signature.HMAC{Hash: sha256.New, Encoding: signature.Base64})
	sha1Hex      = hmacScheme(signature.HMAC{Hash: sha1.New, Encoding: signature.Hex})
	sha1Base64   = hmacScheme(signature.HMAC{Hash: sha1.New, Encoding: signature.Base64})
)

func headerSigner(name string, value func(secret string, body []byte) string) func(*delivery, string) {
	return func(d *delivery, secret string) { d.header.Set(name, value(secret, d.body)) }
}

func headerStripper(names ...string) func(*delivery) {
	return func(d *delivery) {
		for _, n := range names {
			d.header.Del(n)
		}
	}
}

const twilioPublicURL = "https://hush.example.com/webhooks/twilio"

// sourceKinds has one entry per connector kind with an inbound side. A kind in
// connectors.All() without an entry fails TestSecurityWebhookSignatures.
var sourceKinds = map[string]sourceKind{
	"aircall": {
		secret: "sec-aircall-token-5e1f", fixture: "aircall/testdata/derived_call_ended_inbound_answered.json",
		// Aircall's only proof is the webhook token in the body's top-level "token".
		sign: func(d *delivery, secret string) { d.body = setJSONField(d.body, "token", secret) },
		strip: func(d *delivery) {
			d.body = setJSONField(d.body, "token", "")
		},
	},
	"delighted": {
		secret: "sec-delighted-7c2a", fixture: "delighted/testdata/survey_response_updated_non_promoter.json",
		sign:       headerSigner("X-Delighted-Webhook-Signature", func(s string, b []byte) string { return "sha256=" + sha256Hex(s, b) }),
		strip:      headerStripper("X-Delighted-Webhook-Signature"),
		bodySigned: true,
	},
	"freshdesk": {
		secret: "sec-freshdesk-token-91bd", fixture: "freshdesk/testdata/hush_feedback_unhappy.json",
		sign:  func(d *delivery, secret string) { d.header.Set("X-Hush-Token", secret) },
		strip: headerStripper("X-Hush-Token"),
	},
	"generic": {
		name:   "acme", // the fixture's events name their source
		secret: "sec-generic-3b8e", fixture: "generic/testdata/batch_mixed.json",
		// Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body".
		sign: func(d *delivery, secret string) {
			if d.header.Get("webhook-id") == "" {
				d.header.Set("webhook-id", "msg_security_1")
			}
			ts := fmt.Sprint(d.at.Unix())
			d.header.Set("webhook-timestamp", ts)
			d.header.Set("webhook-signature", "v1,"+sha256Base64(secret, []byte(d.header.Get("webhook-id")+"."+ts+"."), d.body))
		},
		strip:      headerStripper("webhook-signature"),
		bodySigned: true, timestamped: true,
	},
	"helpscout": {
		secret: "sec-helpscout-40c1", fixture: "helpscout/testdata/satisfaction.ratings~bad.json",
		header:     http.Header{"X-Helpscout-Event": {"satisfaction.ratings"}},
		sign:       headerSigner("X-HelpScout-Signature", func(s string, b []byte) string { return sha1Base64(s, b) }),
		strip:      headerStripper("X-HelpScout-Signature"),
		bodySigned: true,
	},
	"intercom": {
		secret: "sec-intercom-d04f", fixture: "intercom/testdata/conversation_user_created.json",
		sign:       headerSigner("X-Hub-Signature", func(s string, b []byte) string { return "sha1=" + sha1Hex(s, b) }),
		strip:      headerStripper("X-Hub-Signature"),
		bodySigned: true,
	},
	"pagerduty": {
		secret: "sec-pagerduty-88aa", fixture: "pagerduty/testdata/triggered_v3.json",
		sign:       headerSigner("X-PagerDuty-Signature", func(s string, b []byte) string { return "v1=" + sha256Hex(s, b) }),
		strip:      headerStripper("X-PagerDuty-Signature"),
		bodySigned: true,
	},
	"statuspage": {
		secret: "sec-statuspage-q-61e0", fixture: "statuspage/testdata/incident_created.json",
		// Statuspage can only authenticate with a secret in the URL's query.
		sign:  func(d *delivery, secret string) { d.query = url.Values{"secret": {secret}}.Encode() },
		strip: func(d *delivery) { d.query = "" },
	},
	"twilio": {
		secret: "sec-twilio-auth-2f9d", fixture: "twilio/testdata/sms_optout_type_stop.form",
		options:     map[string]any{"public_url": twilioPublicURL},
		contentType: "application/x-www-form-urlencoded",
		// base64 HMAC-SHA1 of the public URL followed by the sorted form parameters.
		sign: func(d *delivery, secret string) {
			params, err := url.ParseQuery(string(d.body))
			if err != nil {
				params = url.Values{} // a tampered body: sign what can be read
			}
			d.header.Set("X-Twilio-Signature", signature.TwilioSign([]byte(secret), twilioPublicURL, params))
		},
		strip:      headerStripper("X-Twilio-Signature"),
		bodySigned: true,
	},
	"typeform": {
		secret: "sec-typeform-a7b3", fixture: "typeform/testdata/docs_example_payload.json",
		options: map[string]any{
			"csat_ref": "readable_ref_rating", "email_ref": "readable_ref_email",
			"comment_ref": "[readable_ref_long_text", "id_hidden": "user_id",
		},
		sign:       headerSigner("Typeform-Signature", func(s string, b []byte) string { return "sha256=" + sha256Base64(s, b) }),
		strip:      headerStripper("Typeform-Signature"),
		bodySigned: true,
	},
	"zendesk": {
		secret: "sec-zendesk-0e4c", fixture: "zendesk/testdata/template_satisfaction_bad.json",
		// base64 HMAC-SHA256 of the timestamp header's value followed by the body.
		sign: func(d *delivery, secret string) {
			ts := d.at.UTC().Format(time.RFC3339)
			d.header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
			d.header.Set("X-Zendesk-Webhook-Signature", sha256Base64(secret, []byte(ts), d.body))
		},
		strip:      headerStripper("X-Zendesk-Webhook-Signature"),
		bodySigned: true, timestamped: true,
	},
}

func (k sourceKind) sourceName(kind string) string {
	if k.name != "" {
		return k.name
	}
	return kind
}

// setJSONField sets (or with "" removes) a top-level field of a JSON object.
func setJSONField(body []byte, key, value string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		panic(fmt.Sprintf("fixture is not a JSON object: %v", err))
	}
	if value == "" {
		delete(m, key)
	} else {
		v, _ := json.Marshal(value)
		m[key] = v
	}
	out, _ := json.Marshal(m)
	return out
}

// flipByte changes one letter in the middle of the body to another, keeping it printable.
func flipByte(b []byte) []byte {
	out := bytes.Clone(b)
	for i := len(out) / 2; i < len(out); i++ {
		c := out[i]
		if c >= 'a' && c <= 'y' {
			out[i] = c + 1
			return out
		}
	}
	panic("no letter to flip")
}

// secServer is hush's real handler with a source of every kind, over a real bbolt file.
type secServer struct {
	t         *testing.T
	clock     *clock
	store     *bolt.Store
	srv       string
	client    *http.Client
	logs      *lockedBuffer
	upstream  *recordingUpstream // the configured upstream
	forbidden *recordingUpstream // must never be reached
	// sent collects every secret, token and piece of personal data requests carried, for the
	// log check at the end.
	sent []string
}

const proxyAPIKey = "SG.sec-proxy-api-key-77f0"

func newSecServer(t *testing.T) *secServer {
	t.Helper()
	s := &secServer{
		t: t, clock: &clock{t: testStart}, logs: &lockedBuffer{},
		upstream: newRecordingUpstream(t), forbidden: newRecordingUpstream(t),
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	s.store = store
	rules, err := policy.CompileRules([]gateway.RuleSpec{lowCSAT})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policy.New(context.Background(), store, policy.Config{Rules: rules, DefaultRegion: "ES", Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]server.Source{}
	for _, k := range connectors.All() {
		if k.NewSource == nil {
			continue
		}
		sk, ok := sourceKinds[k.Name]
		if !ok {
			t.Errorf("source kind %q has no entry in sourceKinds: add how it signs, and a fixture", k.Name)
			continue
		}
		name := sk.sourceName(k.Name)
		c, err := connectors.Source(gateway.SourceConfig{Name: name, Kind: k.Name, Secret: sk.secret, Options: sk.options, DefaultRegion: "ES"})
		if err != nil {
			t.Fatalf("source %s: %v", k.Name, err)
		}
		sources[name] = server.Source{Name: name, Kind: k.Name, Connector: c}
		s.sent = append(s.sent, sk.secret, "wrong-"+sk.secret)
	}
	reg := prometheus.NewRegistry()
	handler := server.NewServer(server.Deps{
		Logger:  slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Store:   store,
		Engine:  engine,
		Sources: sources,
		Upstreams: map[string]server.Upstream{
			"mail": {Name: "mail", Kind: "generic", URL: mustURL(t, s.upstream.srv.URL+"/base")},
		},
		Tokens: []server.Token{
			{Name: "ops", Token: adminToken, Role: server.RoleAdmin},
			{Name: "lead", Token: viewerToken, Role: server.RoleViewer},
			{Name: "crm", Token: decideToken, Role: server.RoleDecide},
		},
		Limits:        server.Limits{Body: 64 << 10},
		DefaultRegion: "ES",
		Metrics:       server.NewMetrics(reg),
		Gatherer:      reg,
		Now:           s.clock.Now,
	})
	srv := newTestHTTPServer(t, handler)
	s.srv = srv
	s.client = &http.Client{Timeout: 30 * time.Second}
	s.sent = append(s.sent, adminToken, viewerToken, decideToken, proxyAPIKey, "not-a-token-3f3f")
	return s
}

// newTestHTTPServer serves handler on loopback with the timeouts cmd/hush sets, and the
// standard library's header limit.
func newTestHTTPServer(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// stored is everything a refused request must not have added.
type stored struct {
	customers, events, silences, optouts, incidents, deadletters, outbox int
}

func (s *secServer) stored() stored {
	s.t.Helper()
	var st stored
	err := s.store.View(context.Background(), func(tx gateway.Tx) error {
		var ids []string
		if err := tx.ForEachCustomer(func(c *gateway.Customer) error {
			ids = append(ids, c.ID)
			return nil
		}); err != nil {
			return err
		}
		st.customers = len(ids)
		for _, id := range ids {
			ev, _, err := tx.Events(gateway.EventQuery{CustomerID: id, Page: gateway.Page{Limit: 1000}})
			if err != nil {
				return err
			}
			st.events += len(ev)
		}
		si, _, err := tx.Silences(gateway.SilenceQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		oo, _, err := tx.OptOuts(gateway.OptOutQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		in, _, err := tx.Incidents(gateway.IncidentQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		dl, _, err := tx.DeadLetters(gateway.Page{Limit: 1000})
		if err != nil {
			return err
		}
		ob, _, err := tx.Outbox(gateway.OutboxQuery{Page: gateway.Page{Limit: 1000}})
		if err != nil {
			return err
		}
		st.silences, st.optouts, st.incidents, st.deadletters, st.outbox = len(si), len(oo), len(in), len(dl), len(ob)
		return nil
	})
	if err != nil {
		s.t.Fatalf("reading the store: %v", err)
	}
	return st
}

func (s *secServer) do(req *http.Request) response {
	s.t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *secServer) deliver(source string, d *delivery) response {
	s.t.Helper()
	u := s.srv + "/webhooks/" + source
	if d.query != "" {
		u += "?" + d.query
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(d.body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header = d.header.Clone()
	return s.do(req)
}

// unchanged fails the test when the store differs from before.
func (s *secServer) unchanged(before stored) {
	s.t.Helper()
	if after := s.stored(); after != before {
		s.t.Errorf("a refused request changed the store: before %+v, after %+v", before, after)
	}
}

// noneSent fails the test when a stand-in upstream received anything since the marks.
func (s *secServer) noneSent(upstreamBefore int) {
	s.t.Helper()
	if got := s.upstream.requests(); len(got) != upstreamBefore {
		s.t.Errorf("the upstream received %d requests, want %d: %+v", len(got), upstreamBefore, got[upstreamBefore:])
	}
	if got := s.forbidden.requests(); len(got) != 0 {
		s.t.Errorf("the forbidden server was reached: %+v", got)
	}
}

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	phonePattern = regexp.MustCompile(`\+[0-9]{8,15}`)
)

// personalData extracts what a request body says of a person: emails, E.164 phones (also
// form-encoded) and the text of what they wrote, as the connector parsed it.
func personalData(body []byte) []string {
	text := string(body)
	if dec, err := url.QueryUnescape(text); err == nil {
		text += "\n" + dec
	}
	var out []string
	out = append(out, emailPattern.FindAllString(text, -1)...)
	out = append(out, phonePattern.FindAllString(text, -1)...)
	return out
}

func TestSecurityWebhookSignatures(t *testing.T) {
	s := newSecServer(t)
	for _, k := range connectors.All() {
		if k.NewSource == nil {
			continue
		}
		sk, ok := sourceKinds[k.Name]
		if !ok {
			continue // reported by newSecServer
		}
		fixture, err := os.ReadFile(filepath.Join("..", "..", "connectors", sk.fixture))
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		s.sent = append(s.sent, personalData(fixture)...)
		s.sent = append(s.sent, goldenTexts(t, sk.fixture)...)
		base := &delivery{header: http.Header{}, body: fixture, at: s.clock.Now()}
		for name, v := range sk.header {
			base.header[name] = v
		}
		ct := sk.contentType
		if ct == "" {
			ct = "application/json"
		}
		base.header.Set("Content-Type", ct)
		sk.sign(base, sk.secret) // aircall puts its token into the body
		authentic := func() *delivery {
			d := base.clone()
			sk.sign(d, sk.secret)
			return d
		}

		type forgery struct {
			name  string
			build func() *delivery
		}
		forgeries := []forgery{
			{"wrong secret", func() *delivery { d := base.clone(); sk.sign(d, "wrong-"+sk.secret); return d }},
			{"signature missing", func() *delivery { d := authentic(); sk.strip(d); return d }},
		}
		if sk.bodySigned {
			forgeries = append(forgeries,
				forgery{"one flipped body byte", func() *delivery {
					d := authentic()
					d.body = flipByte(d.body)
					return d
				}},
				forgery{"signature of another body", func() *delivery {
					d := base.clone()
					d.body = []byte(`{"signed":"something else"}`)
					sk.sign(d, sk.secret)
					d.body = base.body
					return d
				}})
		}
		if sk.timestamped {
			forgeries = append(forgeries,
				forgery{"stale timestamp", func() *delivery {
					d := base.clone()
					d.at = s.clock.Now().Add(-6 * time.Minute)
					sk.sign(d, sk.secret)
					return d
				}},
				forgery{"timestamp in the future", func() *delivery {
					d := base.clone()
					d.at = s.clock.Now().Add(6 * time.Minute)
					sk.sign(d, sk.secret)
					return d
				}})
		}
		for _, f := range forgeries {
			t.Run(k.Name+"/"+f.name, func(t *testing.T) {
				before := s.stored()
				res := s.deliver(sk.sourceName(k.Name), f.build())
				if res.status != http.StatusUnauthorized || res.errorCode(t) != "unauthorized" {
					t.Fatalf("status %d %s, want 401 unauthorized", res.status, res.body)
				}
				s.unchanged(before)
			})
		}
		t.Run(k.Name+"/replay of an accepted delivery", func(t *testing.T) {
			before := s.stored()
			var first, again struct{ Accepted, Duplicates, Ignored int }
			res := s.deliver(sk.sourceName(k.Name), authentic())
			if res.status != http.StatusOK {
				t.Fatalf("the authentic delivery answered %d %s, want 200", res.status, res.body)
			}
			res.json(t, &first)
			if first.Accepted == 0 {
				t.Fatalf("the authentic delivery stored nothing (%s): the forgeries above prove nothing", res.body)
			}
			afterFirst := s.stored()
			if afterFirst == before {
				t.Fatalf("an accepted delivery left the store as it was: %+v", before)
			}
			res = s.deliver(sk.sourceName(k.Name), authentic())
			if res.status != http.StatusOK {
				t.Fatalf("the replay answered %d %s, want 200 (acknowledged, not stored)", res.status, res.body)
			}
			res.json(t, &again)
			if again.Accepted != 0 || again.Duplicates != first.Accepted {
				t.Errorf("the replay answered %s, want %d duplicates and nothing accepted", res.body, first.Accepted)
			}
			if now := s.stored(); now != afterFirst {
				t.Errorf("the replay changed the store: after the first delivery %+v, after the replay %+v", afterFirst, now)
			}
		})
	}
	s.checkLogs(t)
}

// checkLogs asserts that nothing the requests carried in confidence reached the log.
func (s *secServer) checkLogs(t *testing.T) {
	t.Helper()
	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("the captured log holds no access log line; the check below would prove nothing:\n%s", logs)
	}
	lower := strings.ToLower(logs)
	for _, secret := range s.sent {
		if secret == "" {
			continue
		}
		if strings.Contains(lower, strings.ToLower(secret)) {
			t.Errorf("the log contains %q, which a request carried", secret)
		}
	}
}

// goldenTexts returns the message texts the connector reads from a fixture (its golden
// file's events' text), so that the log check covers what customers wrote.
func goldenTexts(t *testing.T, fixture string) []string {
	t.Helper()
	golden := strings.TrimSuffix(strings.TrimSuffix(fixture, ".json"), ".form") + ".golden.json"
	b, err := os.ReadFile(filepath.Join("..", "..", "connectors", golden))
	if err != nil {
		t.Fatalf("golden file of %s: %v", fixture, err)
	}
	var g struct {
		Events []struct {
			Text string `json:"text"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("golden file of %s: %v", fixture, err)
	}
	var out []string
	for _, e := range g.Events {
		// Short texts ("Stop") are words that occur anywhere; long ones are what someone wrote.
		if len(e.Text) >= 12 {
			out = append(out, e.Text)
		}
	}
	return out
}
