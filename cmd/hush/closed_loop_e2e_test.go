package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
	twiliosdk "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hush-gateway/hush/gateway"
)

// The closed loop through the binary: vendor webhooks in (signed as the vendors sign them),
// the shipped seed rules, and the vendors' own Go SDKs sending through hush's proxy to a
// stand-in of SendGrid and Twilio that records what reaches it.

const twilioAccount = "AC0123456789abcdef0123456789abcdef"

// standInVendor answers like SendGrid (202, X-Message-Id) on /v3/mail/send and like Twilio
// (201 with a resource) on the 2010-04-01 API, and records every request.
type standInVendor struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []vendorRequest
}

type vendorRequest struct {
	path string
	body []byte
}

func newStandInVendor(t *testing.T) *standInVendor {
	v := &standInVendor{}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v.mu.Lock()
		v.reqs = append(v.reqs, vendorRequest{path: r.URL.Path, body: body})
		v.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/2010-04-01/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"sid": "SMffffffffffffffffffffffffffffffff", "status": "queued", "account_sid": %q}`, twilioAccount)
			return
		}
		w.Header().Set("X-Message-Id", "vendor-message-id")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *standInVendor) requests() []vendorRequest {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]vendorRequest(nil), v.reqs...)
}

// closedLoopConfig is the vendors' config (seed rules, vendor sources) with SendGrid and
// Twilio behind the proxy, both pointing at the stand-in.
func closedLoopConfig(t *testing.T, vendorURL string) string {
	t.Helper()
	text, err := os.ReadFile(vendorsConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	text = append(text, fmt.Sprintf(`
upstreams:
  - {name: sendgrid, kind: sendgrid, url: %q, categories: {receipts: transactional}}
  - {name: twilio, kind: twilio, url: %q, channel: sms}
`, vendorURL, vendorURL)...)
	path := filepath.Join(t.TempDir(), "closed-loop.yaml")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostRewriter sends twilio-go's requests for api.twilio.com to hush's /proxy/twilio (the
// SDK's documented way to go through a proxy is a custom http.Client).
type hostRewriter struct{ base *url.URL }

func (h hostRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = h.base.Scheme, h.base.Host, ""
	out.URL.Path, out.URL.RawPath = h.base.Path+r.URL.Path, ""
	return http.DefaultTransport.RoundTrip(out)
}

func TestClosedLoopThroughVendorSDKs(t *testing.T) {
	vendor := newStandInVendor(t)
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{config: closedLoopConfig(t, vendor.srv.URL), env: vendorEnv})

	// 1. A Delighted detractor: the seed rule detractor-nps silences them for 30 days.
	payload := jsonFixture(t, "delighted", "survey_response_updated_non_promoter.json")
	resp := object(t, payload, "event_data")
	resp["updated_at"] = clock.Now().Unix()
	detractor := object(t, resp, "person")["email"].(string)
	h.deliverWant(delightedDelivery(encodeJSON(t, payload)), webhookCounts{Accepted: 1})

	// 2. " Darme de BAJA" by SMS: the mobile opts out of SMS.
	const mobile = "+34600111222"
	h.deliverWant(twilioDelivery(t, fixture(t, "twilio", "sms_keyword_darme_de_baja.form")), webhookCounts{Accepted: 2})

	// 3. A newsletter through sendgrid-go to the detractor and a neighbour: only the
	// neighbour reaches SendGrid, the rest of the SDK's JSON intact.
	sg := func(m *mail.SGMailV3) (int, http.Header) {
		t.Helper()
		req := sendgrid.GetRequest("SG.e2e-key", "/v3/mail/send", h.base+"/proxy/sendgrid")
		req.Method = "POST"
		req.Body = mail.GetRequestBody(m)
		res, err := sendgrid.API(req)
		if err != nil {
			t.Fatalf("sendgrid-go: %v", err)
		}
		return res.StatusCode, http.Header(res.Headers)
	}
	newsletter := func(to ...string) *mail.SGMailV3 {
		m := mail.NewV3Mail()
		m.SetFrom(mail.NewEmail("Tienda", "news@shop.example"))
		m.Subject = "Ofertas de invierno"
		for _, addr := range to {
			p := mail.NewPersonalization()
			p.AddTos(mail.NewEmail("", addr))
			p.SetSubstitution("-name-", addr)
			m.AddPersonalizations(p)
		}
		m.AddContent(mail.NewContent("text/plain", "Hola -name-, 20% de descuento"))
		return m
	}
	status, header := sg(newsletter(detractor, neighbour))
	if status != http.StatusAccepted || header.Get("Hush-Dropped") != "1" || header.Get("X-Message-Id") != "vendor-message-id" {
		t.Fatalf("mixed newsletter: %d %v", status, header)
	}
	reqs := vendor.requests()
	if len(reqs) != 1 || bytes.Contains(reqs[0].body, []byte(detractor)) || !bytes.Contains(reqs[0].body, []byte(neighbour)) {
		t.Fatalf("SendGrid received %d requests: %s", len(reqs), reqs[len(reqs)-1].body)
	}
	var forwarded struct {
		Personalizations []json.RawMessage `json:"personalizations"`
		Subject          string            `json:"subject"`
	}
	if err := json.Unmarshal(reqs[0].body, &forwarded); err != nil || len(forwarded.Personalizations) != 1 || forwarded.Subject != "Ofertas de invierno" {
		t.Errorf("forwarded %s (%v)", reqs[0].body, err)
	}

	// Only the detractor: answered by hush in SendGrid's shape, nothing reaches SendGrid.
	status, header = sg(newsletter(detractor))
	if status != http.StatusAccepted || header.Get("X-Message-Id") == "" || header.Get("Hush-Dropped") != "1" || len(vendor.requests()) != 1 {
		t.Fatalf("newsletter to the detractor only: %d %v, %d requests forwarded", status, header, len(vendor.requests()))
	}
	// A receipt (category mapped to transactional) still reaches the detractor.
	receipt := newsletter(detractor)
	receipt.AddCategories("receipts")
	if status, header = sg(receipt); status != http.StatusAccepted || header.Get("Hush-Allowed") != "1" || len(vendor.requests()) != 2 {
		t.Fatalf("receipt: %d %v", status, header)
	}

	// 4. twilio-go: an SMS to the mobile that said BAJA is answered by hush with a queued
	// Message, and fetching it is answered by hush too; another number goes through.
	base, err := url.Parse(h.base + "/proxy/twilio")
	if err != nil {
		t.Fatal(err)
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(twilioAccount, "e2eauthtoken0123"), HTTPClient: &http.Client{Transport: hostRewriter{base}}}
	c.SetAccountSid(twilioAccount)
	tw := twiliosdk.NewRestClientWithParams(twiliosdk.ClientParams{Client: c})
	sms := func(to string) *twapi.ApiV2010Message {
		t.Helper()
		params := &twapi.CreateMessageParams{}
		params.SetTo(to)
		params.SetFrom("+15017122661")
		params.SetBody("Última oportunidad: 20% de descuento")
		msg, err := tw.Api.CreateMessage(params)
		if err != nil {
			t.Fatalf("twilio-go CreateMessage(%s): %v", to, err)
		}
		return msg
	}
	msg := sms(mobile)
	if msg.Sid == nil || !strings.HasPrefix(*msg.Sid, "SM") || msg.Status == nil || *msg.Status != "queued" || len(vendor.requests()) != 2 {
		t.Fatalf("SMS to the opted-out mobile: %+v, %d requests forwarded", msg, len(vendor.requests()))
	}
	fetched, err := tw.Api.FetchMessage(*msg.Sid, &twapi.FetchMessageParams{})
	if err != nil || fetched.Sid == nil || *fetched.Sid != *msg.Sid || len(vendor.requests()) != 2 {
		t.Fatalf("fetch of hush's made-up message: %+v %v", fetched, err)
	}
	if other := sms("+34600999888"); other.Sid == nil || *other.Sid != "SMffffffffffffffffffffffffffffffff" || len(vendor.requests()) != 3 {
		t.Fatalf("SMS to another number: %+v", other)
	}

	// 5. The detractor's timeline shows the proxy's decisions, with the rule behind them.
	v := h.customer("email:" + detractor)
	var dropped, allowed int
	for _, it := range v.Timeline.Items {
		if it.Decision == nil {
			continue
		}
		switch {
		case !it.Decision.Allowed && it.Decision.Reason == gateway.ReasonSilenced && it.Decision.Rule == "detractor-nps":
			dropped++
		case it.Decision.Allowed:
			allowed++
		}
	}
	if dropped != 2 || allowed != 1 {
		t.Errorf("detractor's timeline: %d dropped by detractor-nps, %d allowed; want 2 and 1", dropped, allowed)
	}
}
