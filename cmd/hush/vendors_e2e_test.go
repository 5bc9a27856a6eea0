package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
)

// The vendor end-to-end tests post real vendor webhooks (the captured and documented
// payloads in connectors/<vendor>/testdata), signed as each vendor signs them, to the real
// binary running the shipped seed rules, and read the outcome through the decision API.
// Signatures are computed here with the standard library from each vendor's documented
// scheme (docs/connectors/<vendor>.md), not with the connectors' own helpers.

// The vendors' secrets, handed to hush through the fake environment.
const (
	delightedSecret = "e2e-delighted-secret-0123456789"
	zendeskSecret   = "e2e-zendesk-secret-0123456789"
	aircallToken    = "e2e0aircall0token0123456789abcdef"
	twilioAuthToken = "e2e-twilio-auth-token-0123456789"
	// twilioPublicURL is the source's public_url in testdata/vendors_sources.yaml: what
	// Twilio signs, whatever address the request reaches hush on.
	twilioPublicURL = "https://hush.example.com/webhooks/twilio"
	pagerdutySecret = "e2e-pagerduty-secret-0123456789"
)

var vendorEnv = map[string]string{
	"DELIGHTED_SECRET":  delightedSecret,
	"ZENDESK_SECRET":    zendeskSecret,
	"AIRCALL_TOKEN":     aircallToken,
	"TWILIO_AUTH_TOKEN": twilioAuthToken,
	"PAGERDUTY_SECRET":  pagerdutySecret,
}

// vendorsConfig writes the embedded default config with its sources replaced by those of
// testdata/vendors_sources.yaml, and returns its path. A config file replaces the default
// entirely, so the seed rules are taken from the default's text rather than copied.
func vendorsConfig(t *testing.T) string {
	t.Helper()
	sources, err := os.ReadFile(filepath.Join("testdata", "vendors_sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(configs.DefaultYAML()), "\n")
	var out strings.Builder
	replaced := 0
	for i := 0; i < len(lines); i++ {
		if strings.TrimRight(lines[i], "\r\n") != "sources:" {
			out.WriteString(lines[i])
			continue
		}
		replaced++
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
			i++ // the default's own source entries
		}
		out.Write(sources)
	}
	if replaced != 1 {
		t.Fatalf("the default config has %d top-level sources: blocks, want 1", replaced)
	}
	text := []byte(out.String())

	// The result must differ from the default in its sources only.
	getenv := fakeEnv(map[string]string{"HUSH_ADMIN_TOKEN": adminToken, "HUSH_GENERIC_SECRET": genericSecret})
	def, err := configs.Default(getenv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := configs.Parse(text, "vendors.yaml", func(k string) string {
		if v, ok := vendorEnv[k]; ok {
			return v
		}
		return getenv(k)
	})
	if err != nil {
		t.Fatalf("spliced config: %v\n%s", err, text)
	}
	if len(got.Rules) == 0 || !reflect.DeepEqual(got.Rules, def.Rules) {
		t.Fatalf("spliced config rules %+v; want the default's seed rules %+v", got.Rules, def.Rules)
	}
	if !reflect.DeepEqual(got.Caps, def.Caps) || !reflect.DeepEqual(got.QuietHours, def.QuietHours) ||
		got.Timezone != def.Timezone || got.DefaultRegion != def.DefaultRegion {
		t.Fatalf("spliced config changed more than the sources")
	}
	var kinds []string
	for _, s := range got.SourceConfigs() {
		kinds = append(kinds, s.Kind)
	}
	if want := []string{"delighted", "zendesk", "aircall", "twilio", "pagerduty"}; !slices.Equal(kinds, want) {
		t.Fatalf("spliced config sources %v; want %v", kinds, want)
	}

	path := filepath.Join(t.TempDir(), "vendors.yaml")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startVendorHush runs hush with the vendor sources and the seed rules.
func startVendorHush(t *testing.T, clock *testClock, config string) *hushProcess {
	t.Helper()
	return startHush(t, clock, hushOptions{config: config, env: vendorEnv})
}

// --- fixtures ---

// fixture reads connectors/<vendor>/testdata/<name> byte for byte.
func fixture(t *testing.T, vendor, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "connectors", vendor, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonFixture decodes a JSON fixture for editing; numbers stay as written.
func jsonFixture(t *testing.T, vendor, name string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(fixture(t, vendor, name)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s/%s: %v", vendor, name, err)
	}
	return m
}

// object is m[key], which the fixture must have as a JSON object.
func object(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("fixture has no object %q: %v", key, m)
	}
	return o
}

func encodeJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- signing, as each vendor documents it ---

func mac(h func() hash.Hash, key string, parts ...string) []byte {
	m := hmac.New(h, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// delivery is one vendor webhook request.
type delivery struct {
	source string
	body   []byte
	header http.Header
	// sigHeader holds the signature; "" when the proof is in the body (Aircall's token).
	sigHeader string
}

// delightedDelivery: X-Delighted-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>.
func delightedDelivery(body []byte) delivery {
	return delivery{source: "delighted", body: body, sigHeader: "X-Delighted-Webhook-Signature", header: http.Header{
		"Content-Type":                  {"application/json"},
		"X-Delighted-Webhook-Signature": {"sha256=" + hex.EncodeToString(mac(sha256.New, delightedSecret, string(body)))},
	}}
}

// zendeskDelivery: base64(HMAC-SHA256(secret, timestamp + body)), the timestamp RFC 3339.
func zendeskDelivery(signedAt time.Time, body []byte) delivery {
	ts := signedAt.UTC().Format(time.RFC3339)
	return delivery{source: "zendesk", body: body, sigHeader: "X-Zendesk-Webhook-Signature", header: http.Header{
		"Content-Type":                          {"application/json"},
		"X-Zendesk-Webhook-Signature-Timestamp": {ts},
		"X-Zendesk-Webhook-Signature":           {base64.StdEncoding.EncodeToString(mac(sha256.New, zendeskSecret, ts, string(body)))},
	}}
}

// aircallDelivery: Aircall signs nothing; the webhook's token is in the body.
func aircallDelivery(body []byte) delivery {
	return delivery{source: "aircall", body: body, header: http.Header{"Content-Type": {"application/json"}}}
}

// twilioDelivery: base64(HMAC-SHA1(auth token, public URL + every POST parameter sorted by
// name, name then value)).
func twilioDelivery(t *testing.T, form []byte) delivery {
	t.Helper()
	params, err := url.ParseQuery(string(form))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	signed := twilioPublicURL
	for _, k := range names {
		for _, v := range params[k] {
			signed += k + v
		}
	}
	return delivery{source: "twilio", body: form, sigHeader: "X-Twilio-Signature", header: http.Header{
		"Content-Type":       {"application/x-www-form-urlencoded"},
		"X-Twilio-Signature": {base64.StdEncoding.EncodeToString(mac(sha1.New, twilioAuthToken, signed))},
	}}
}

// pagerdutyDelivery: X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, body)>.
func pagerdutyDelivery(body []byte) delivery {
	header := http.Header{"Content-Type": {"application/json"}}
	// Set, not a literal key: PagerDuty's name is not in canonical form.
	header.Set("X-PagerDuty-Signature", "v1="+hex.EncodeToString(mac(sha256.New, pagerdutySecret, string(body))))
	return delivery{source: "pagerduty", body: body, sigHeader: "X-PagerDuty-Signature", header: header}
}

// flipByte changes one character in the middle of s to another of the same alphabet (hex
// and base64 both have a and b), so the value stays well-formed but is wrong.
func flipByte(s string) string {
	i := len(s) / 2
	c := byte('a')
	if s[i] == 'a' {
		c = 'b'
	}
	return s[:i] + string(c) + s[i+1:]
}

// forged is d with one byte of its signature flipped.
func forged(t *testing.T, d delivery) delivery {
	t.Helper()
	if d.sigHeader == "" {
		t.Fatalf("%s delivery has no signature header to flip", d.source)
	}
	f := d
	f.header = d.header.Clone()
	f.header.Set(d.sigHeader, flipByte(d.header.Get(d.sigHeader)))
	return f
}

// deliver posts d to /webhooks/<source>, as the vendor does: with no admin credentials.
func (h *hushProcess) deliver(d delivery) (*http.Response, []byte) {
	h.t.Helper()
	header := d.header.Clone()
	header.Set("Authorization", "none") // webhooks are authenticated by their signature alone
	return h.request(http.MethodPost, "/webhooks/"+d.source, d.body, header)
}

// deliverWant posts d and checks hush answered 200 with the counts want.
func (h *hushProcess) deliverWant(d delivery, want webhookCounts) {
	h.t.Helper()
	resp, b := h.deliver(d)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("%s webhook: status %d, want 200; body: %s\nlogs:\n%s", d.source, resp.StatusCode, b, h.logs)
	}
	var got webhookCounts
	if err := json.Unmarshal(b, &got); err != nil {
		h.t.Fatalf("%s webhook answer %s: %v", d.source, b, err)
	}
	if got != want {
		h.t.Fatalf("%s webhook answered %s, want %+v", d.source, b, want)
	}
}

// deliverRefused posts d (a forged delivery) and checks it is refused with 401. The caller
// then checks that nothing changed; the genuine delivery, posted next, shows by being
// accepted (not counted as a duplicate) that the refused one left no trace.
func (h *hushProcess) deliverRefused(d delivery) {
	h.t.Helper()
	resp, b := h.deliver(d)
	if resp.StatusCode != http.StatusUnauthorized {
		h.t.Fatalf("%s webhook with a flipped signature byte: status %d (%s), want 401", d.source, resp.StatusCode, b)
	}
}

// --- decisions ---

// assertRuleSilence checks, now, that every category a seed rule silences is dropped for
// to on channel by rule, until until (nil: no end, the topic is open), and that
// transactional messages still pass.
func assertRuleSilence(t *testing.T, h *hushProcess, channel string, to recipient, rule string, until *time.Time) {
	t.Helper()
	for _, cat := range silencedCategories {
		d := h.check(channel, cat, to)
		if d.Allowed || d.Reason != gateway.ReasonSilenced || d.Rule != rule || d.SilenceID == "" {
			t.Fatalf("%s %s to %v: %+v; want dropped, silenced by %s", channel, cat, to, d, rule)
		}
		switch {
		case until == nil && d.Until != nil:
			t.Errorf("%s %s to %v dropped until %s; want no end while the topic is open", channel, cat, to, d.Until)
		case until != nil && (d.Until == nil || !d.Until.Equal(*until)):
			t.Errorf("%s %s to %v dropped until %v; want %s", channel, cat, to, d.Until, until.Format(time.RFC3339))
		}
	}
	if d := h.check(channel, "transactional", to); !d.Allowed {
		t.Errorf("transactional %s to %v: %+v; want allowed through a silence", channel, to, d)
	}
}

func assertAllowed(t *testing.T, h *hushProcess, channel, category string, to recipient, when string) {
	t.Helper()
	if d := h.check(channel, category, to); !d.Allowed {
		t.Fatalf("%s: %s %s to %v: %+v; want allowed", when, channel, category, to, d)
	}
}

func timePtr(tm time.Time) *time.Time { return &tm }

// TestVendorWebhooksEndToEnd: each vendor's real webhook, signed as the vendor signs it,
// leads through the binary to what the shipped seed rules promise; a redelivery is a
// duplicate, and the same delivery with one signature byte flipped is refused with 401 and
// leaves no trace.
func TestVendorWebhooksEndToEnd(t *testing.T) {
	config := vendorsConfig(t)

	t.Run("delighted detractor silenced by detractor-nps", func(t *testing.T) {
		clock := newTestClock(t0)
		h := startVendorHush(t, clock, config)
		// A captured NPS response of 5 (a detractor), as answered now.
		payload := jsonFixture(t, "delighted", "survey_response_updated_non_promoter.json")
		resp := object(t, payload, "event_data")
		resp["created_at"] = clock.Now().Add(-10 * time.Minute).Unix()
		resp["updated_at"] = clock.Now().Unix()
		customer := email(object(t, resp, "person")["email"].(string))
		d := delightedDelivery(encodeJSON(t, payload))

		h.deliverRefused(forged(t, d))
		assertAllowed(t, h, "email", "marketing", customer, "after a forged delivery")

		h.deliverWant(d, webhookCounts{Accepted: 1})
		assertRuleSilence(t, h, "email", customer, "detractor-nps", timePtr(t0.Add(30*day)))
		assertAllowed(t, h, "email", "marketing", email(neighbour), "the neighbour after the detractor")

		h.deliverWant(d, webhookCounts{Duplicates: 1})
		clock.Set(t0.Add(30*day + time.Second))
		assertAllowed(t, h, "email", "marketing", customer, "30 days after the detractor")
	})

	t.Run("zendesk bad rating silenced by low-csat", func(t *testing.T) {
		clock := newTestClock(t0)
		h := startVendorHush(t, clock, config)
		// The template body of a "Bad" satisfaction rating, updated now; signed a second ago.
		payload := jsonFixture(t, "zendesk", "template_satisfaction_bad.json")
		payload["updated_at"] = clock.Now().Format("2006-01-02T15:04Z")
		if payload["requester_email"] != "Ana@Example.com" || payload["requester_phone"] != "+34 600 111 222" {
			t.Fatalf("fixture requester %v / %v; the test expects ana", payload["requester_email"], payload["requester_phone"])
		}
		d := zendeskDelivery(clock.Now().Add(-time.Second), encodeJSON(t, payload))

		h.deliverRefused(forged(t, d))
		assertAllowed(t, h, "email", "marketing", email(ana), "after a forged delivery")

		h.deliverWant(d, webhookCounts{Accepted: 1})
		end := t0.Add(15 * day)
		assertRuleSilence(t, h, "email", email(ana), "low-csat", &end)
		// The template named her phone too: she is silenced there as well.
		assertRuleSilence(t, h, "sms", phone("600 111 222"), "low-csat", &end)
		assertAllowed(t, h, "email", "marketing", email(neighbour), "the neighbour after ana's rating")

		var csat float64
		for _, it := range h.customer(anaID).Timeline.Items {
			if it.Event != nil && it.Event.Type == "survey.response" && it.Event.CSAT != nil {
				csat = *it.Event.CSAT
			}
		}
		if csat != 1 {
			t.Errorf("ana's timeline survey.response csat %v; want 1 (Zendesk \"Bad\")", csat)
		}

		h.deliverWant(zendeskDelivery(clock.Now(), d.body), webhookCounts{Duplicates: 1})
		clock.Set(end.Add(time.Second))
		assertAllowed(t, h, "email", "marketing", email(ana), "15 days after the rating")
	})

	t.Run("aircall three calls in a day silenced by repeated-contacts", func(t *testing.T) {
		clock := newTestClock(t0)
		h := startVendorHush(t, clock, config)
		caller := phone("+443308186690") // the captured call's raw_digits, +44 330 818 6690
		// call is a captured call.ended, edited into call id from digits, ended at end.
		call := func(fixtureName string, id int64, digits string, end time.Time, token string) []byte {
			payload := jsonFixture(t, "aircall", fixtureName)
			payload["token"] = token
			payload["timestamp"] = end.Unix()
			data := object(t, payload, "data")
			data["id"] = id
			data["raw_digits"] = digits
			if data["answered_at"] != nil {
				data["answered_at"] = end.Add(-3 * time.Minute).Unix()
			}
			data["started_at"] = end.Add(-4 * time.Minute).Unix()
			data["ended_at"] = end.Add(-30 * time.Second).Unix()
			return encodeJSON(t, payload)
		}
		const (
			missed   = "call_ended_inbound_missed.json"
			answered = "derived_call_ended_inbound_answered.json"
			digits   = "+44 330 818 6690"
		)

		// Three calls from another number over more than a day are not "three in 24 h".
		other := phone("+443308186691")
		for i, ago := range []time.Duration{25 * time.Hour, 12 * time.Hour, 0} {
			h.deliverWant(aircallDelivery(call(missed, int64(100+i), "+44 330 818 6691", clock.Now().Add(-ago), aircallToken)), webhookCounts{Accepted: 1})
		}
		assertAllowed(t, h, "voice", "sales", other, "after three calls over 25 hours")

		for i := int64(1); i <= 2; i++ {
			h.deliverWant(aircallDelivery(call(missed, i, digits, clock.Now(), aircallToken)), webhookCounts{Accepted: 1})
			assertAllowed(t, h, "voice", "sales", caller, fmt.Sprintf("after missed call %d", i))
			assertAllowed(t, h, "sms", "marketing", caller, fmt.Sprintf("after missed call %d", i))
			clock.Advance(3 * time.Hour)
		}

		// The third call, first with one byte of its token flipped.
		h.deliverRefused(aircallDelivery(call(missed, 3, digits, clock.Now(), flipByte(aircallToken))))
		assertAllowed(t, h, "voice", "sales", caller, "after a forged third call")

		third := aircallDelivery(call(missed, 3, digits, clock.Now(), aircallToken))
		h.deliverWant(third, webhookCounts{Accepted: 1})
		assertRuleSilence(t, h, "voice", caller, "repeated-contacts", nil)
		assertRuleSilence(t, h, "sms", caller, "repeated-contacts", nil)
		h.deliverWant(third, webhookCounts{Duplicates: 1})

		// Unresolved, it holds however long it takes.
		clock.Advance(10 * day)
		assertRuleSilence(t, h, "voice", caller, "repeated-contacts", nil)

		// An answered call solves the caller's topic: the silence then ends a week later.
		h.deliverWant(aircallDelivery(call(answered, 4, digits, clock.Now(), aircallToken)), webhookCounts{Accepted: 1})
		end := clock.Now().Add(7 * day)
		assertRuleSilence(t, h, "voice", caller, "repeated-contacts", &end)
		clock.Set(end.Add(time.Second))
		assertAllowed(t, h, "voice", "sales", caller, "a week after the caller was answered")
	})

	t.Run("twilio BAJA opts out of sms only", func(t *testing.T) {
		clock := newTestClock(t0)
		h := startVendorHush(t, clock, config)
		const mobile = "+34600111222" // the From of the captured " Darme de BAJA"

		// hush first learns that the mobile is ana's: a Delighted promoter answer (no
		// silence) names both.
		survey := jsonFixture(t, "delighted", "survey_response_updated_promoter.json")
		survey["event_id"] = "e2e-promoter-1"
		resp := object(t, survey, "event_data")
		resp["updated_at"] = clock.Now().Unix()
		person := object(t, resp, "person")
		person["email"], person["phone_number"] = ana, mobile
		h.deliverWant(delightedDelivery(encodeJSON(t, survey)), webhookCounts{Accepted: 1})
		if ids := h.customer("phone:" + mobile).Identities; !slices.Contains(ids, gateway.Identity(anaID)) {
			t.Fatalf("identities of %s: %v; want ana's email among them", mobile, ids)
		}
		assertAllowed(t, h, "sms", "marketing", phone(mobile), "before BAJA")
		assertAllowed(t, h, "email", "marketing", email(ana), "before BAJA")

		d := twilioDelivery(t, fixture(t, "twilio", "sms_keyword_darme_de_baja.form"))
		h.deliverRefused(forged(t, d))
		assertAllowed(t, h, "sms", "marketing", phone(mobile), "after a forged BAJA")

		// sms.inbound and consent.optout.
		h.deliverWant(d, webhookCounts{Accepted: 2})
		dec := h.check("sms", "marketing", phone(mobile))
		if dec.Allowed || dec.Reason != gateway.ReasonOptedOut || dec.OptOutID == "" {
			t.Errorf("sms marketing after BAJA: %+v; want dropped, opted_out", dec)
		}
		if dec := h.check("sms", "marketing", phone("600 111 222")); dec.Allowed || dec.Reason != gateway.ReasonOptedOut {
			t.Errorf("sms marketing to the national form after BAJA: %+v; want dropped, opted_out", dec)
		}
		assertAllowed(t, h, "email", "marketing", email(ana), "email after an SMS BAJA")
		v := h.customer("phone:" + mobile)
		if len(v.OptOuts) != 1 || v.OptOuts[0].Channel != gateway.ChannelSMS || !v.OptOuts[0].Active() {
			t.Errorf("opt-outs of %s: %+v; want one active on sms", mobile, v.OptOuts)
		}

		h.deliverWant(d, webhookCounts{Duplicates: 2})
	})

	t.Run("pagerduty incident drops marketing for everyone until resolved", func(t *testing.T) {
		clock := newTestClock(t0)
		h := startVendorHush(t, clock, config)
		stranger := email("stranger@example.org") // a customer hush has never heard of

		triggered := jsonFixture(t, "pagerduty", "triggered_v3.json")
		ev := object(t, triggered, "event")
		ev["occurred_at"] = clock.Now().Format(time.RFC3339Nano)
		incidentID := object(t, ev, "data")["id"]
		d := pagerdutyDelivery(encodeJSON(t, triggered))

		h.deliverRefused(forged(t, d))
		assertAllowed(t, h, "email", "marketing", stranger, "after a forged trigger")

		h.deliverWant(d, webhookCounts{Accepted: 1})
		var open struct {
			Items []gateway.Incident `json:"items"`
		}
		h.api(http.MethodGet, "/api/v1/incidents?open=true", nil, http.StatusOK, &open)
		if len(open.Items) != 1 || open.Items[0].Title != "Test Incident 3" {
			t.Fatalf("open incidents %+v; want the PagerDuty one, \"Test Incident 3\"", open.Items)
		}
		inc := open.Items[0]
		for _, to := range []recipient{email(ana), stranger, phone("+34600111222")} {
			ch := "email"
			if to["phone"] != "" {
				ch = "sms"
			}
			dec := h.check(ch, "marketing", to)
			if dec.Allowed || dec.Reason != gateway.ReasonIncident || dec.IncidentID != inc.ID {
				t.Errorf("%s marketing to %v during the incident: %+v; want dropped, incident %s", ch, to, dec, inc.ID)
			}
			assertAllowed(t, h, ch, "incident", to, "incident notice during the incident")
			assertAllowed(t, h, ch, "transactional", to, "during the incident")
		}
		h.deliverWant(d, webhookCounts{Duplicates: 1})

		// PagerDuty's resolution of the same incident (the captured resolution is of
		// another one).
		clock.Advance(2 * time.Hour)
		resolved := jsonFixture(t, "pagerduty", "resolved_v3.json")
		rev := object(t, resolved, "event")
		rev["occurred_at"] = clock.Now().Format(time.RFC3339Nano)
		object(t, rev, "data")["id"] = incidentID
		h.deliverWant(pagerdutyDelivery(encodeJSON(t, resolved)), webhookCounts{Accepted: 1})

		assertAllowed(t, h, "email", "marketing", email(ana), "after incident.resolved")
		assertAllowed(t, h, "email", "marketing", stranger, "after incident.resolved")
		h.api(http.MethodGet, "/api/v1/incidents?open=true", nil, http.StatusOK, &open)
		if len(open.Items) != 0 {
			t.Errorf("open incidents after incident.resolved: %+v; want none", open.Items)
		}
	})
}
