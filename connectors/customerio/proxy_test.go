package customerio

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// vendorAnswer is the stand-in Customer.io: the documented success bodies.
func vendorAnswer(w http.ResponseWriter, r *http.Request, _ connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/triggers") {
		_, _ = io.WriteString(w, `{"id":3}`)
		return
	}
	_, _ = io.WriteString(w, `{"delivery_id":"ABCDEFG","queued_at":1500111111}`)
}

func newProxy(t *testing.T, mode string, opts map[string]any) *connectortest.Proxy {
	t.Helper()
	return connectortest.NewProxy(t, connectortest.ProxyOptions{
		Name: "cio", Kind: Kind, Connector: newUpstream(t, opts), Channel: gateway.ChannelEmail,
		Mode: mode, Respond: vendorAnswer, DefaultRegion: "ES",
	})
}

// call sends a request the way a Customer.io client does (bearer App API key, JSON).
func call(t *testing.T, p *connectortest.Proxy, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer app-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestProxyMixedTrigger(t *testing.T) {
	p := newProxy(t, "", nil)
	p.Silence("customerio:2")
	p.Silence("email:a@example.com")
	p.Silence("email:road@runner.net")

	body := `{"data":{"headline":"Roadrunner spotted","date":1511315635},"ids":["1","2"],"emails":["a@example.com"],` +
		`"per_user_data":[{"id":"wiley_coyote","data":{"voucher_code":"FESwYm"}},{"email":"road@runner.net","data":{"voucher_code":"cYm6XJ"}}],"id_ignore_missing":true}`
	resp, got := call(t, p, http.MethodPost, "/v1/campaigns/12/triggers", body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "2" || resp.Header.Get("Hush-Dropped") != "3" {
		t.Fatalf("answer %d %s %v", resp.StatusCode, got, resp.Header)
	}
	if string(got) != `{"id":3}` {
		t.Errorf("the vendor's answer was not passed on: %s", got)
	}
	last := p.Last()
	want := `{"data":{"headline":"Roadrunner spotted","date":1511315635},"ids":["1"],` +
		`"per_user_data":[{"id":"wiley_coyote","data":{"voucher_code":"FESwYm"}}],"id_ignore_missing":true}`
	if string(last.Body) != want || last.Path != "/v1/campaigns/12/triggers" || last.Header.Get("Authorization") != "Bearer app-key" {
		t.Errorf("vendor got %s %s (auth %q)\nwant %s", last.Path, last.Body, last.Header.Get("Authorization"), want)
	}
	if d := p.Decisions("customerio:2"); len(d) != 1 || d[0].Allowed || d[0].Reason != "silenced" {
		t.Errorf("decisions of customerio:2: %+v", d)
	}
	if d := p.Decisions("email:road@runner.net"); len(d) != 1 || d[0].Allowed {
		t.Errorf("decisions of road@runner.net: %+v", d)
	}
}

func TestProxyAllSilencedTriggerIsAnsweredLocally(t *testing.T) {
	for _, onAllDropped := range []string{server.AllDroppedSuccess, server.AllDroppedError} {
		t.Run(onAllDropped, func(t *testing.T) {
			p := connectortest.NewProxy(t, connectortest.ProxyOptions{
				Name: "cio", Kind: Kind, Connector: newUpstream(t, nil), Channel: gateway.ChannelEmail,
				OnAllDropped: onAllDropped, Respond: vendorAnswer,
			})
			p.Silence("customerio:2")
			p.Silence("email:a@example.com")
			// Forwarding this with its lists emptied would send the broadcast to its whole
			// audience: it must never reach the vendor.
			resp, got := call(t, p, http.MethodPost, "/v1/campaigns/12/triggers",
				`{"ids":["2"],"per_user_data":[{"email":"a@example.com","data":{}}],"data":{}}`)
			if n := len(p.Requests()); n != 0 {
				t.Fatalf("%d requests reached the vendor: %s", n, p.Requests()[0].Body)
			}
			var v map[string]any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatalf("answer %s: %v", got, err)
			}
			if onAllDropped == server.AllDroppedSuccess {
				if resp.StatusCode != http.StatusOK || v["id"] == nil {
					t.Errorf("answer %d %s, want Customer.io's trigger success", resp.StatusCode, got)
				}
			} else if resp.StatusCode != http.StatusUnprocessableEntity || v["errors"] == nil {
				t.Errorf("answer %d %s, want Customer.io's 422", resp.StatusCode, got)
			}
			if resp.Header.Get("Hush-Dropped") != "2" {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
}

func TestProxyTransactionalEmail(t *testing.T) {
	p := newProxy(t, "", map[string]any{"transactional_messages": map[string]any{"44": "transactional"}})
	p.Silence("email:cool.person@example.com")

	// A receipt (mapped transactional_message_id) reaches a silenced customer, untouched.
	receipt := string(readTestdata(t, "email_docs.json"))
	resp, got := call(t, p, http.MethodPost, "/v1/send/email", receipt)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Dropped") != "0" {
		t.Fatalf("receipt: %d %s %v", resp.StatusCode, got, resp.Header)
	}
	if last := p.Last(); string(last.Body) != receipt {
		t.Errorf("receipt changed on its way: %s", last.Body)
	}

	// An unmapped message to the same customer is withheld; the copy is not sent alone.
	p.Reset()
	resp, got = call(t, p, http.MethodPost, "/v1/send/email",
		`{"transactional_message_id":"winback","to":"Cool <cool.person@example.com>","identifiers":{"id":"9"}}`)
	if resp.StatusCode != http.StatusOK || len(p.Requests()) != 0 {
		t.Fatalf("promotion: %d %s, %d requests reached the vendor", resp.StatusCode, got, len(p.Requests()))
	}
	var v struct {
		DeliveryID string `json:"delivery_id"`
		QueuedAt   int64  `json:"queued_at"`
	}
	if err := json.Unmarshal(got, &v); err != nil || v.DeliveryID == "" || v.QueuedAt == 0 {
		t.Errorf("answer %s (%v), want Customer.io's delivery", got, err)
	}
	resp, got = call(t, p, http.MethodPost, "/v1/send/email",
		`{"transactional_message_id":"winback","to":"cool.person@example.com","bcc":"archive@example.com"}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), "delivery_id") || len(p.Requests()) != 0 ||
		resp.Header.Get("Hush-Allowed") != "0" || resp.Header.Get("Hush-Dropped") != "2" {
		t.Errorf("copy only: %d %v %s, %d requests reached the vendor", resp.StatusCode, resp.Header, got, len(p.Requests()))
	}
	if d := p.Decisions("email:cool.person@example.com"); len(d) < 2 {
		t.Errorf("decisions: %+v", d)
	}
}

func TestProxyTriggerWithoutRecipients(t *testing.T) {
	body := string(readTestdata(t, "trigger_recipients_filter.json"))

	p := newProxy(t, "", nil)
	resp, got := call(t, p, http.MethodPost, "/v1/campaigns/12/triggers", body)
	if resp.StatusCode != http.StatusBadRequest || len(p.Requests()) != 0 || !bytes.Contains(got, []byte("allow_broadcast")) {
		t.Errorf("enforce: %d %s, %d requests reached the vendor", resp.StatusCode, got, len(p.Requests()))
	}

	shadow := newProxy(t, server.ModeShadow, nil)
	resp, _ = call(t, shadow, http.MethodPost, "/v1/campaigns/12/triggers", body)
	if resp.StatusCode != http.StatusOK || string(shadow.Last().Body) != body {
		t.Errorf("shadow: %d, vendor got %d requests", resp.StatusCode, len(shadow.Requests()))
	}

	allowed := newProxy(t, "", map[string]any{"allow_broadcast": true})
	resp, _ = call(t, allowed, http.MethodPost, "/v1/campaigns/12/triggers", `{}`)
	if resp.StatusCode != http.StatusOK || string(allowed.Last().Body) != `{}` {
		t.Errorf("allow_broadcast: %d, vendor got %d requests", resp.StatusCode, len(allowed.Requests()))
	}
}

func TestProxyNonSendUntouched(t *testing.T) {
	p := newProxy(t, "", nil)
	resp, _ := call(t, p, http.MethodGet, "/v1/customers/9/attributes?id_type=id", "")
	last := p.Last()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "" ||
		last.Method != http.MethodGet || last.Path != "/v1/customers/9/attributes" || last.RawQuery != "id_type=id" {
		t.Errorf("%d %v; vendor got %s %s?%s", resp.StatusCode, resp.Header, last.Method, last.Path, last.RawQuery)
	}
}
