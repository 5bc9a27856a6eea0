package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
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
	deps      server.Deps
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
	s.deps = server.Deps{
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
		Limits:        server.Limits{Body: secBodyLimit},
		DefaultRegion: "ES",
		Metrics:       server.NewMetrics(reg),
		Gatherer:      reg,
		Now:           s.clock.Now,
	}
	srv := newTestHTTPServer(t, server.NewServer(s.deps))
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

// signedGeneric is a delivery to the generic source ("acme") signed correctly, so that what
// is tested is what hush does with the body, not the signature.
func (s *secServer) signedGeneric(id string, body []byte, contentType string) *delivery {
	sk := sourceKinds["generic"]
	d := &delivery{header: http.Header{"Content-Type": {contentType}, "Webhook-Id": {id}}, body: body, at: s.clock.Now()}
	sk.sign(d, sk.secret)
	return d
}

// rawRequest writes a request as bytes on a fresh connection and returns the status line's
// code, or 0 when the server closed the connection without an answer.
func (s *secServer) rawRequest(t *testing.T, raw string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.srv, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func nestedArrays(depth int) []byte {
	return []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
}

func TestSecurityRequestShapes(t *testing.T) {
	s := newSecServer(t)
	const limit = secBodyLimit
	big := []byte(`{"id":"big","type":"survey.response","customer":{"email":"big@example.com"},"text":"` + strings.Repeat("x", limit) + `"}`)
	deep := nestedArrays(100_000)
	deepObject := []byte(`{"id":"deep","type":"survey.response","customer":{"email":"deep@example.com"},"attrs":{"a":` + string(nestedArrays(100_000)) + `}}`)
	s.sent = append(s.sent, "big@example.com", "deep@example.com")

	type shapeCase struct {
		name string
		// send does the request and returns its status.
		send       func(t *testing.T) response
		wantStatus int
		wantCode   string
		// deadLetters is how many dead letters the case keeps: a delivery whose signature
		// verifies but whose body cannot be parsed is kept for an operator (DESIGN §4).
		deadLetters int
	}
	post := func(path, token, contentType string, body []byte) func(t *testing.T) response {
		return func(t *testing.T) response {
			req, err := http.NewRequest(http.MethodPost, s.srv+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			req.Header.Set("Content-Type", contentType)
			return s.do(req)
		}
	}
	webhook := func(id string, body []byte, contentType string) func(t *testing.T) response {
		return func(t *testing.T) response { return s.deliver("acme", s.signedGeneric(id, body, contentType)) }
	}
	chunked := func(path string, d *delivery) func(t *testing.T) response {
		return func(t *testing.T) response {
			// A body of unknown length, larger than the limit: only reading can tell.
			req, err := http.NewRequest(http.MethodPost, s.srv+path, io.MultiReader(bytes.NewReader(d.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = d.header.Clone()
			req.ContentLength = -1
			return s.do(req)
		}
	}
	cases := []shapeCase{
		// Oversized bodies: 413 before anything is verified, parsed or stored.
		{name: "webhook body over limits.body (declared length)", send: webhook("big-1", big, "application/json"), wantStatus: 413, wantCode: "too_large"},
		{name: "webhook body over limits.body (chunked)", send: chunked("/webhooks/acme", s.signedGeneric("big-2", big, "application/json")), wantStatus: 413, wantCode: "too_large"},
		{name: "admin events body over limits.body", send: post("/api/v1/events", adminToken, "application/json", big), wantStatus: 413, wantCode: "too_large"},
		{name: "decision body over limits.body", send: post("/api/v1/decisions", decideToken, "application/json", big), wantStatus: 413, wantCode: "too_large"},
		{name: "proxied body over limits.body", send: post("/proxy/mail/v3/mail/send", "", "application/json", big), wantStatus: 413, wantCode: "too_large"},

		// Malformed bodies behind a valid signature: 400, kept as a dead letter, no event.
		{name: "webhook: truncated JSON", send: webhook("bad-1", []byte(`{"id":"x","type":"survey.respo`), "application/json"), wantStatus: 400, wantCode: "invalid", deadLetters: 1},
		{name: "webhook: 100k nested arrays", send: webhook("deep-1", deep, "application/json"), wantStatus: 400, wantCode: "invalid", deadLetters: 1},
		{name: "webhook: 100k nested arrays inside an event", send: webhook("deep-2", deepObject, "application/json"), wantStatus: 400, wantCode: "invalid", deadLetters: 1},
		{name: "webhook: a form where JSON is expected", send: webhook("form-1", []byte("id=x&type=survey.response&customer.email=form%40example.com"), "application/x-www-form-urlencoded"), wantStatus: 400, wantCode: "invalid", deadLetters: 1},
		{name: "webhook: empty body", send: webhook("empty-1", nil, "application/json"), wantStatus: 400, wantCode: "invalid", deadLetters: 1},
		// Unsigned garbage never gets as far as a dead letter.
		{name: "unsigned webhook: 100k nested arrays to a token-in-body source", send: post("/webhooks/aircall", "", "application/json", append([]byte(`{"token":`), append(deep, '}')...)), wantStatus: 401, wantCode: "unauthorized"},
		{name: "unsigned webhook: malformed form to twilio", send: post("/webhooks/twilio", "", "application/x-www-form-urlencoded", []byte("Body=%zz&From=%2B34600111222")), wantStatus: 401, wantCode: "unauthorized"},
		{name: "webhook to a source that is not configured", send: post("/webhooks/nosuch", "", "application/json", []byte(`{}`)), wantStatus: 404, wantCode: "not_found"},

		// The admin and decision APIs read strict JSON only.
		{name: "admin events: 100k nested arrays", send: post("/api/v1/events", adminToken, "application/json", deep), wantStatus: 400, wantCode: "invalid"},
		{name: "admin events: nested arrays inside an event", send: post("/api/v1/events", adminToken, "application/json", deepObject), wantStatus: 400, wantCode: "invalid"},
		{name: "decisions: 100k nested arrays", send: post("/api/v1/decisions", decideToken, "application/json", deep), wantStatus: 400, wantCode: "invalid"},
		{name: "silence create: truncated JSON", send: post("/api/v1/silences", adminToken, "application/json", []byte(`{"identity":"email:ana@example.com","for":`)), wantStatus: 400, wantCode: "invalid"},
		{name: "silence create: a form instead of JSON", send: post("/api/v1/silences", adminToken, "application/x-www-form-urlencoded", []byte("identity=email%3Aana%40example.com&for=15d")), wantStatus: 400, wantCode: "invalid"},
		{name: "silence create: text/plain JSON with a trailing value", send: post("/api/v1/silences", adminToken, "text/plain", []byte(`{"identity":"email:ana@example.com","for":"15d","reason":"x"} {}`)), wantStatus: 400, wantCode: "invalid"},
		{name: "opt-out create: unknown field", send: post("/api/v1/optouts", adminToken, "application/json", []byte(`{"identity":"phone:+34600111222","channel":"sms","admin":true}`)), wantStatus: 400, wantCode: "invalid"},
		{name: "incident open: wrong type", send: post("/api/v1/incidents", adminToken, "application/json", []byte(`{"title":["x"],"scope":"all"}`)), wantStatus: 400, wantCode: "invalid"},
		{name: "events: a bare string", send: post("/api/v1/events", adminToken, "application/json", []byte(`"survey.response"`)), wantStatus: 400, wantCode: "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.stored()
			upBefore := len(s.upstream.requests())
			res := tc.send(t)
			if res.status != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", res.status, res.body, tc.wantStatus)
			}
			if code := res.errorCode(t); code != tc.wantCode {
				t.Errorf("error code %q, want %q", code, tc.wantCode)
			}
			want := before
			want.deadletters += tc.deadLetters
			if after := s.stored(); after != want {
				t.Errorf("store after: %+v, want %+v", after, want)
			}
			s.noneSent(upBefore)
		})
	}

	// Headers: too many or too large are refused by the server before any handler runs.
	headerCases := []struct {
		name string
		raw  string
		want int
	}{
		{"one header of 80 KiB", "POST /webhooks/acme HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\nContent-Length: 2\r\n\r\n{}", http.StatusRequestHeaderFieldsTooLarge},
		{"10,000 headers", "POST /webhooks/acme HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 10_000) + "Content-Length: 2\r\n\r\n{}", http.StatusRequestHeaderFieldsTooLarge},
		{"CONNECT to another host", "CONNECT " + strings.TrimPrefix(s.forbidden.srv.URL, "http://") + " HTTP/1.1\r\nHost: " + strings.TrimPrefix(s.forbidden.srv.URL, "http://") + "\r\n\r\n", 0},
	}
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.stored()
			got := s.rawRequest(t, tc.raw)
			if tc.want != 0 && got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
			if tc.want == 0 && got >= 200 && got < 300 {
				t.Errorf("status %d, want a refusal", got)
			}
			s.unchanged(before)
			s.noneSent(len(s.upstream.requests()))
		})
	}
	s.checkLogs(t)
}

// secBodyLimit is the security server's limits.body: room for 100k nested arrays (200 KB),
// so that they reach the parsers.
const secBodyLimit = 256 << 10

func TestSecurityProxyPaths(t *testing.T) {
	s := newSecServer(t)
	upstreamHost := strings.TrimPrefix(s.upstream.srv.URL, "http://")
	forbiddenHost := strings.TrimPrefix(s.forbidden.srv.URL, "http://")
	const refused, notFound, forwarded = 400, 404, 202 // 202: the stand-in's answer

	cases := []struct {
		name   string
		method string
		target string // the request line's target, sent as is
		host   string // Host header; "": the server's own
		want   int
		// wantPath is the path the configured upstream must receive (forwarded cases).
		wantPath string
	}{
		{name: "plain send", target: "/proxy/mail/v3/mail/send", want: forwarded, wantPath: "/base/v3/mail/send"},
		{name: "dot-dot", target: "/proxy/mail/../../api/v1/silences", want: refused},
		{name: "dot-dot at the end", target: "/proxy/mail/v3/..", want: refused},
		{name: "single dot", target: "/proxy/mail/./v3", want: refused},
		{name: "percent-encoded dot-dot", target: "/proxy/mail/%2e%2e/%2E%2E/secret", want: refused},
		{name: "dot-dot encoded twice", target: "/proxy/mail/%252e%252e/secret", want: refused},
		{name: "encoded slash with dot-dot", target: "/proxy/mail/v3%2f..%2f..%2fsecret", want: refused},
		{name: "encoded slash twice", target: "/proxy/mail/v3%252f..%252fsecret", want: refused},
		{name: "dot-dot with a path parameter", target: "/proxy/mail/..;/secret", want: refused},
		{name: "double slash", target: "/proxy/mail//" + forbiddenHost + "/x", want: refused},
		{name: "absolute URL in the path", target: "/proxy/mail/http://" + forbiddenHost + "/x", want: refused},
		{name: "encoded absolute URL in the path", target: "/proxy/mail/http:%2f%2f" + forbiddenHost + "%2fx", want: refused},
		{name: "backslashes", target: `/proxy/mail/..\..\secret`, want: refused},
		{name: "encoded backslashes", target: "/proxy/mail/..%5c..%5csecret", want: refused},
		{name: "control character", target: "/proxy/mail/v3%0d%0aHost:%20evil/x", want: refused},
		{name: "upstream not configured", target: "/proxy/forbidden/x", want: notFound},
		{name: "upstream name with credentials", target: "/proxy/mail@" + forbiddenHost + "/x", want: notFound},
		{name: "upstream name dot-dot", target: "/proxy/%2e%2e/x", want: notFound},
		{name: "upstream name with an encoded slash", target: "/proxy/mail%2f..%2fother/x", want: notFound},
		{name: "absolute URL in the request line, another host", target: "http://" + forbiddenHost + "/x", host: forbiddenHost, want: notFound},
		{name: "absolute URL in the request line, proxy path", target: "http://" + forbiddenHost + "/proxy/mail/v3/send", host: forbiddenHost, want: forwarded, wantPath: "/base/v3/send"},
		{name: "Host header of another server", target: "/proxy/mail/v3/send", host: forbiddenHost, want: forwarded, wantPath: "/base/v3/send"},
		{name: "at-sign in the path", target: "/proxy/mail/@" + forbiddenHost + "/x", want: forwarded, wantPath: "/base/@" + forbiddenHost + "/x"},
		{name: "CONNECT through the proxy route", method: "CONNECT", target: forbiddenHost, host: forbiddenHost, want: -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.stored()
			upBefore := len(s.upstream.requests())
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			host := tc.host
			if host == "" {
				host = strings.TrimPrefix(s.srv, "http://")
			}
			raw := method + " " + tc.target + " HTTP/1.1\r\nHost: " + host + "\r\n" +
				"Authorization: Bearer " + proxyAPIKey + "\r\nContent-Type: application/json\r\n" +
				"X-Forwarded-Host: " + forbiddenHost + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
			got := s.rawRequest(t, raw)
			switch {
			case tc.want == -1:
				if got >= 200 && got < 300 {
					t.Errorf("status %d, want a refusal", got)
				}
			case got != tc.want:
				t.Errorf("status %d, want %d", got, tc.want)
			}
			s.unchanged(before)
			reqs := s.upstream.requests()[upBefore:]
			if tc.wantPath == "" {
				s.noneSent(upBefore)
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("the upstream received %d requests, want 1", len(reqs))
			}
			if reqs[0].rawPath != tc.wantPath {
				t.Errorf("the upstream received %q, want %q", reqs[0].rawPath, tc.wantPath)
			}
			if reqs[0].host != upstreamHost {
				t.Errorf("the upstream received Host %q, want its own %q", reqs[0].host, upstreamHost)
			}
			if v := reqs[0].header.Get("X-Forwarded-Host"); v != "" {
				t.Errorf("the upstream received X-Forwarded-Host %q", v)
			}
			if got := s.forbidden.requests(); len(got) != 0 {
				t.Errorf("the forbidden server was reached: %+v", got)
			}
		})
	}
	s.checkLogs(t)
}

// TestSecurityAdminAuth walks every route of routes.go: each one is either public (listed
// here, with why) or needs a token, and each write needs the admin role. A new route
// without a case here fails.
func TestSecurityAdminAuth(t *testing.T) {
	s := newSecServer(t)
	public := map[string]string{
		"/":                  consolePublic,
		"/healthz":           "process liveness, says nothing",
		"/readyz":            "storage readiness, says nothing",
		"/metrics":           "Prometheus scrape: counts by route and source, no identities",
		"/webhooks/{source}": "authenticated by each vendor's signature",
		"/proxy/{upstream}":  "carries the caller's own vendor credentials",
		"/pause/{token}":     "customer pause page: the signed, expiring token in the path is the credential (gateway/pause; pause_test.go)",
		"/api/v1/decisions":  "", // needs a token: listed in the roles below
	}
	delete(public, "/api/v1/decisions")
	routes, err := server.Routes(s.deps)
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{identity}", url.PathEscape("email:ana.secreta@example.com"), "{id}", "sil_does_not_exist")
	s.sent = append(s.sent, "ana.secreta@example.com")
	body := []byte(`{"identity":"email:ana.secreta@example.com","for":"15d","reason":"mi texto privado","channel":"sms","title":"t","scope":"all"}`)
	s.sent = append(s.sent, "mi texto privado")

	type authCase struct {
		name  string
		token string // "": none; a raw Authorization value when it has a space
		want  int
	}
	covered := 0
	for _, rt := range routes {
		if strings.HasPrefix(rt.Template, "/console") {
			public[rt.Template] = consolePublic
		}
		if why, ok := public[rt.Template]; ok {
			if why == consolePublic {
				covered += checkConsoleWithoutSession(t, s, rt, fill)
			}
			continue
		}
		if !strings.HasPrefix(rt.Template, "/api/") {
			t.Errorf("route %s is neither public (listed with a reason) nor under /api/", rt.Template)
			continue
		}
		for _, method := range rt.Methods {
			if method == http.MethodHead {
				continue // answered as GET
			}
			read := method == http.MethodGet
			decide := rt.Template == "/api/v1/decisions"
			viewer, decider := 403, 403
			switch {
			case decide:
				decider = 0 // allowed: not an auth refusal
			case read:
				viewer = 0
			}
			cases := []authCase{
				{"no token", "", 401},
				{"wrong token", "not-a-token-3f3f", 401},
				{"token in another scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+adminToken)), 401},
				{"empty bearer", "Bearer ", 401},
				{"viewer token", viewerToken, viewer},
				{"decide token", decideToken, decider},
			}
			for _, c := range cases {
				if c.want == 0 {
					continue
				}
				covered++
				t.Run(method+" "+rt.Template+"/"+c.name, func(t *testing.T) {
					before := s.stored()
					var rd io.Reader
					if !read {
						rd = bytes.NewReader(body)
					}
					req, err := http.NewRequest(method, s.srv+fill.Replace(rt.Template), rd)
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case c.token == "":
					case strings.Contains(c.token, " "):
						req.Header.Set("Authorization", c.token)
					default:
						req.Header.Set("Authorization", "Bearer "+c.token)
					}
					req.Header.Set("Content-Type", "application/json")
					res := s.do(req)
					if res.status != c.want {
						t.Fatalf("status %d %s, want %d", res.status, res.body, c.want)
					}
					want := map[int]string{401: "unauthorized", 403: "forbidden"}[c.want]
					if code := res.errorCode(t); code != want {
						t.Errorf("error code %q, want %q", code, want)
					}
					if bytes.Contains(res.body, []byte("ana.secreta")) {
						t.Errorf("the refusal echoes the identity: %s", res.body)
					}
					s.unchanged(before)
				})
			}
		}
	}
	if covered == 0 {
		t.Fatal("no route was checked")
	}
	s.checkLogs(t)
}

// consolePublic is why the console's routes take no bearer token.
const consolePublic = "console: session cookie + CSRF, covered by console tests"

// checkConsoleWithoutSession posts to a console route without a session cookie (with a
// made-up CSRF field): nothing may change, and the answer is a refusal or the way to sign in.
func checkConsoleWithoutSession(t *testing.T, s *secServer, rt server.Route, fill *strings.Replacer) int {
	checked := 0
	for _, method := range rt.Methods {
		if method != http.MethodPost {
			continue
		}
		checked++
		t.Run(method+" "+rt.Template+"/no session", func(t *testing.T) {
			before := s.stored()
			form := "csrf=forged&token=" + adminToken + "&identity=email%3Aana.secreta%40example.com&for=15d&reason=x&title=t&scope=all"
			req, err := http.NewRequest(method, s.srv+fill.Replace(rt.Template), strings.NewReader(form))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			res := response{status: resp.StatusCode, header: resp.Header, body: b}
			switch res.status {
			case http.StatusUnauthorized, http.StatusForbidden, http.StatusSeeOther:
			default:
				t.Fatalf("status %d %s, want a refusal", res.status, res.body)
			}
			if res.header.Get("Set-Cookie") != "" && strings.Contains(res.header.Get("Set-Cookie"), "hush_session=") &&
				!strings.Contains(res.header.Get("Set-Cookie"), "hush_session=;") {
				t.Errorf("a post without a session was given one: %s", res.header.Get("Set-Cookie"))
			}
			if bytes.Contains(res.body, []byte("ana.secreta")) {
				t.Errorf("the refusal echoes the identity: %s", res.body)
			}
			s.unchanged(before)
		})
	}
	return checked
}
