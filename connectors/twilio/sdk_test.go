package twilio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	twiliosdk "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

const (
	silenced = "+34600111222"
	allowed  = "+34600111333"
	sender   = "+15017122661"
	service  = "MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // mapped to transactional
)

// toHush is the HTTP transport a twilio-go client is given so that its requests to
// https://api.twilio.com/… go to hush's /proxy/{upstream}/… instead (the SDK has no base
// URL setting; a custom http.Client is its documented way to reach Twilio through a
// proxy, advanced-examples/custom-http-client.md). It records the bodies it sent.
type toHush struct {
	base *url.URL
	mu   sync.Mutex
	sent [][]byte
}

func (t *toHush) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	t.mu.Lock()
	t.sent = append(t.sent, body)
	t.mu.Unlock()
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = t.base.Scheme, t.base.Host
	out.URL.Path = t.base.Path + r.URL.Path
	out.URL.RawPath = ""
	out.Host = ""
	out.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(out)
}

func (t *toHush) lastSent(tb testing.TB) []byte {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sent) == 0 {
		tb.Fatal("the SDK sent nothing")
	}
	return t.sent[len(t.sent)-1]
}

// sdkClient is twilio-go's RestClient talking to hush's proxy at base.
func sdkClient(t *testing.T, base string) (*twiliosdk.RestClient, *toHush) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	tr := &toHush{base: u}
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(testAccount, "authtoken0123"),
		HTTPClient:  &http.Client{Transport: tr},
	}
	c.SetAccountSid(testAccount)
	return twiliosdk.NewRestClientWithParams(twiliosdk.ClientParams{Client: c}), tr
}

// vendorAnswer is the stand-in Twilio: 201 with a resource under a sid of its own for
// creates, 200 with a resource for anything else.
func vendorAnswer(w http.ResponseWriter, r *http.Request, rec connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json")
	status, sid := http.StatusOK, "SM0123456789abcdef0123456789abcdef"
	if strings.Contains(rec.Path, "/Calls") {
		sid = "CA0123456789abcdef0123456789abcdef"
	}
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"sid": %q, "status": "queued", "account_sid": %q}`, sid, testAccount)
}

func newSDKProxy(t *testing.T, onAllDropped string) *connectortest.Proxy {
	t.Helper()
	up := newTestUpstream(t, map[string]any{OptionMessagingServices: map[string]any{service: "transactional"}})
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{
		Name: "twilio", Kind: Kind, Connector: up, Channel: gateway.ChannelSMS,
		OnAllDropped: onAllDropped, Respond: vendorAnswer, DefaultRegion: "ES",
	})
	p.Silence(silenced)
	return p
}

func TestSDKThroughProxy(t *testing.T) {
	p := newSDKProxy(t, "")
	rc, tr := sdkClient(t, p.Base)

	t.Run("message to a silenced number is answered by hush", func(t *testing.T) {
		p.Reset()
		params := (&twapi.CreateMessageParams{}).SetTo(silenced).SetFrom(sender).SetBody("20% off this week!")
		msg, err := rc.Api.CreateMessage(params)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Sid == nil || !strings.HasPrefix(*msg.Sid, "SM") || len(*msg.Sid) != 34 || *msg.Status != "queued" ||
			*msg.To != silenced || *msg.From != sender || *msg.Body != "20% off this week!" || *msg.AccountSid != testAccount {
			t.Errorf("made-up message: %+v", msg)
		}
		if n := len(p.Requests()); n != 0 {
			t.Fatalf("%d requests reached Twilio", n)
		}
		// The tool polls the message it believes it created: hush answers, Twilio never sees it.
		got, err := rc.Api.FetchMessage(*msg.Sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if *got.Sid != *msg.Sid || *got.Status != "canceled" || *got.To != silenced {
			t.Errorf("fetched: sid %v status %v to %v", *got.Sid, *got.Status, *got.To)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("the fetch reached Twilio (%d requests)", n)
		}
	})

	t.Run("message to an allowed number reaches Twilio byte for byte", func(t *testing.T) {
		p.Reset()
		params := (&twapi.CreateMessageParams{}).SetTo(allowed).SetFrom(sender).SetBody("Hola & adiós: 5+5=10 💬").
			SetStatusCallback("https://tool.example.com/status?x=1&y=2").SetMediaUrl([]string{"https://demo.twilio.com/owl.png", "https://demo.twilio.com/owl2.png"}).
			SetValidityPeriod(600)
		msg, err := rc.Api.CreateMessage(params)
		if err != nil {
			t.Fatal(err)
		}
		if *msg.Sid != "SM0123456789abcdef0123456789abcdef" {
			t.Errorf("answer is not Twilio's: %+v", msg)
		}
		got := p.Last()
		if got.Method != http.MethodPost || got.Path != "/2010-04-01/Accounts/"+testAccount+"/Messages.json" {
			t.Errorf("Twilio got %s %s", got.Method, got.Path)
		}
		if sent := tr.lastSent(t); !bytes.Equal(got.Body, sent) {
			t.Errorf("Twilio got\n%s\nthe SDK sent\n%s", got.Body, sent)
		}
		if user, pass, ok := (&http.Request{Header: got.Header}).BasicAuth(); !ok || user != testAccount || pass != "authtoken0123" {
			t.Error("the caller's credentials did not reach Twilio")
		}
	})

	t.Run("WhatsApp message to a silenced number is dropped", func(t *testing.T) {
		p.Reset()
		msg, err := rc.Api.CreateMessage((&twapi.CreateMessageParams{}).SetTo("whatsapp:" + silenced).SetFrom("whatsapp:+14155238886").SetBody("Hello from Go!"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(*msg.Sid, "SM") || *msg.To != "whatsapp:"+silenced || *msg.Status != "queued" {
			t.Errorf("made-up message: %+v", msg)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached Twilio", n)
		}
	})

	t.Run("call to a silenced number is dropped", func(t *testing.T) {
		p.Reset()
		call, err := rc.Api.CreateCall((&twapi.CreateCallParams{}).SetTo(silenced).SetFrom(sender).SetUrl("http://demo.twilio.com/docs/voice.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(*call.Sid, "CA") || *call.Status != "queued" || *call.To != silenced {
			t.Errorf("made-up call: %+v", call)
		}
		fetched, err := rc.Api.FetchCall(*call.Sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if *fetched.Status != "canceled" || *fetched.Sid != *call.Sid {
			t.Errorf("fetched call: %+v", fetched)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached Twilio", n)
		}
	})

	t.Run("transactional messaging service reaches a silenced number", func(t *testing.T) {
		p.Reset()
		msg, err := rc.Api.CreateMessage((&twapi.CreateMessageParams{}).SetTo(silenced).SetMessagingServiceSid(service).SetBody("Your code is 123456"))
		if err != nil {
			t.Fatal(err)
		}
		if *msg.Sid != "SM0123456789abcdef0123456789abcdef" {
			t.Errorf("answer is not Twilio's: %+v", msg)
		}
		if got := p.Last(); !bytes.Equal(got.Body, tr.lastSent(t)) {
			t.Errorf("Twilio got %s", got.Body)
		}
	})

	t.Run("requests that are not sends pass", func(t *testing.T) {
		p.Reset()
		if _, err := rc.Api.FetchMessage("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nil); err != nil {
			t.Fatal(err)
		}
		got := p.Last()
		if got.Method != http.MethodGet || got.Path != "/2010-04-01/Accounts/"+testAccount+"/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json" {
			t.Errorf("Twilio got %s %s", got.Method, got.Path)
		}
	})

	t.Run("decisions are recorded", func(t *testing.T) {
		var dropped, passed int
		for _, d := range p.Decisions(silenced) {
			if d.Allowed {
				passed++
			} else {
				dropped++
			}
		}
		// Dropped: the SMS, the WhatsApp message and the call; allowed: the transactional one.
		if dropped != 3 || passed != 1 {
			t.Errorf("silenced number: %d dropped, %d allowed; want 3 and 1", dropped, passed)
		}
		// (The allowed number belongs to no customer hush knows, so nothing is kept for it.)
	})
}

func TestSDKRefusal(t *testing.T) {
	p := newSDKProxy(t, server.AllDroppedError)
	rc, _ := sdkClient(t, p.Base)
	_, err := rc.Api.CreateMessage((&twapi.CreateMessageParams{}).SetTo(silenced).SetFrom(sender).SetBody("20% off"))
	var te *twclient.TwilioRestError
	if !errors.As(err, &te) || te.Code != ErrorUnsubscribed || te.Status != http.StatusBadRequest ||
		te.Message != "Attempt to send to unsubscribed recipient" || te.MoreInfo != "https://www.twilio.com/docs/errors/21610" {
		t.Fatalf("error %v (%T), want Twilio error 21610", err, err)
	}
	if n := len(p.Requests()); n != 0 {
		t.Errorf("%d requests reached Twilio", n)
	}
}
