package sendgrid

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

const apiKey = "SG.test-key"

// newProxy is hush's real server in front of a stand-in SendGrid that answers every send
// as SendGrid does (202, no body, an X-Message-Id), with bob and dana silenced.
func newProxy(t *testing.T, onAllDropped string) *connectortest.Proxy {
	t.Helper()
	u := newUpstream(t, map[string]any{
		"categories": map[string]any{"receipt": "transactional", "newsletter": "marketing"},
		"asm_groups": map[string]any{"41": "transactional"},
	})
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{
		Name: "sendgrid", Kind: Kind, Connector: u, OnAllDropped: onAllDropped,
		Respond: func(w http.ResponseWriter, r *http.Request, rec connectortest.Recorded) {
			if rec.Path == SendPath {
				w.Header().Set("X-Message-Id", "vendor-id")
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"result":[]}`)
		},
	})
	p.Silence("email:bob@example.com")
	p.Silence("email:dana@example.com")
	return p
}

// sendWithSDK sends m the way sendgrid-go's own examples do, to hush instead of SendGrid.
func sendWithSDK(t *testing.T, p *connectortest.Proxy, m *mail.SGMailV3) (status int, header map[string][]string, body string) {
	t.Helper()
	req := sendgrid.GetRequest(apiKey, SendPath, p.Base)
	req.Method = "POST"
	req.Body = mail.GetRequestBody(m)
	resp, err := sendgrid.MakeRequest(req)
	if err != nil {
		t.Fatalf("SDK: %v", err)
	}
	return resp.StatusCode, resp.Headers, resp.Body
}

func person(p *mail.Personalization, to ...string) *mail.Personalization {
	for _, a := range to {
		p.AddTos(mail.NewEmail(strings.ToUpper(a[:1])+a[1:strings.IndexByte(a, '@')], a))
	}
	return p
}

// mixedBatch: ana (cc bob, bcc carl); dana (cc eve); frank. Bob and dana are silenced.
func mixedBatch() *mail.SGMailV3 {
	m := mail.NewV3Mail()
	m.SetFrom(mail.NewEmail("Shop", "shop@example.com"))
	m.SetTemplateID("d-c6dcf1f72bdd4beeb15a9aa6c72fcd2c")
	m.AddCategories("newsletter", "2026-11")
	m.SetCustomArg("campaign", "winter")
	m.SetMailSettings(mail.NewMailSettings().SetSandboxMode(mail.NewSetting(false)))
	p0 := person(mail.NewPersonalization(), "ana@example.com")
	p0.AddCCs(mail.NewEmail("Bob", "bob@example.com"))
	p0.AddBCCs(mail.NewEmail("Carl", "carl@example.com"))
	p0.SetDynamicTemplateData("total", "$ 239.85")
	p0.SetCustomArg("customer", "ana-1")
	p1 := person(mail.NewPersonalization(), "dana@example.com")
	p1.AddCCs(mail.NewEmail("Eve", "eve@example.com"))
	p1.Subject = "For Dana"
	p1.SetSendAt(1409348513)
	p1.SetSubstitution("%fname%", "Dana")
	p2 := person(mail.NewPersonalization(), "frank@example.com")
	p2.SetHeader("X-Accept-Language", "en")
	p2.SetDynamicTemplateData("items", []map[string]any{{"text": "New Line Sneakers", "price": "$ 79.95"}})
	m.AddPersonalizations(p0, p1, p2)
	return m
}

// withoutSilenced is what SendGrid must receive for mixedBatch, built from the SDK's own
// bytes by cutting the raw text of bob's cc list and of dana's whole personalization (the
// SDK writes compact JSON, so each appears verbatim): everything else byte for byte.
func withoutSilenced(t *testing.T, body []byte) string {
	t.Helper()
	var doc struct {
		Personalizations []json.RawMessage `json:"personalizations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var p0 map[string]json.RawMessage
	if err := json.Unmarshal(doc.Personalizations[0], &p0); err != nil {
		t.Fatal(err)
	}
	s := string(body)
	cut := func(part string) {
		t.Helper()
		if strings.Count(s, part) != 1 {
			t.Fatalf("%s is not in the SDK's body exactly once", part)
		}
		s = strings.Replace(s, part, "", 1)
	}
	cut(`"cc":` + string(p0["cc"]) + `,`)
	cut(string(doc.Personalizations[1]) + `,`)
	return s
}

func TestSDKThroughProxy(t *testing.T) {
	p := newProxy(t, "")

	t.Run("mixed batch arrives without the silenced, the rest intact", func(t *testing.T) {
		p.Reset()
		m := mixedBatch()
		status, h, _ := sendWithSDK(t, p, m)
		if status != http.StatusAccepted || first(h, "X-Message-Id") != "vendor-id" {
			t.Fatalf("SDK got %d %v", status, h)
		}
		// Eve was allowed, but her copy went with dana's personalization: she is counted
		// with the recipients not contacted.
		if first(h, "Hush-Allowed") != "3" || first(h, "Hush-Dropped") != "3" {
			t.Errorf("Hush headers %v", h)
		}
		got := p.Last()
		if want := withoutSilenced(t, mail.GetRequestBody(m)); string(got.Body) != want {
			t.Errorf("vendor got\n%s\nwant\n%s", got.Body, want)
		}
		if got.Header.Get("Authorization") != "Bearer "+apiKey || got.Path != SendPath {
			t.Errorf("vendor request %s %v", got.Path, got.Header)
		}
		// hush records decisions on the customers it knows: the silenced ones.
		for _, who := range []string{"bob", "dana"} {
			d := p.Decisions("email:" + who + "@example.com")
			if len(d) != 1 || d[0].Allowed || d[0].Category != gateway.CategoryMarketing || d[0].Upstream != "sendgrid" {
				t.Errorf("%s's decisions: %+v", who, d)
			}
		}
	})

	t.Run("all silenced: SendGrid's own 202, nothing reaches the vendor", func(t *testing.T) {
		p.Reset()
		m := mail.NewV3Mail()
		m.SetFrom(mail.NewEmail("Shop", "shop@example.com"))
		m.Subject = "Winter sale"
		m.AddContent(mail.NewContent("text/plain", "20% off"))
		p0 := person(mail.NewPersonalization(), "bob@example.com")
		p0.AddCCs(mail.NewEmail("Dana", "dana@example.com"))
		m.AddPersonalizations(p0)
		status, h, body := sendWithSDK(t, p, m)
		if status != http.StatusAccepted || body != "" || len(first(h, "X-Message-Id")) != 22 {
			t.Errorf("SDK got %d %v %q", status, h, body)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached the vendor", n)
		}
	})

	t.Run("a receipt to a silenced customer goes through", func(t *testing.T) {
		for name, mark := range map[string]func(*mail.SGMailV3){
			"category":          func(m *mail.SGMailV3) { m.AddCategories("receipt") },
			"unsubscribe group": func(m *mail.SGMailV3) { m.SetASM(mail.NewASM().SetGroupID(41)) },
		} {
			p.Reset()
			m := mail.NewV3Mail()
			m.SetFrom(mail.NewEmail("Shop", "shop@example.com"))
			m.Subject = "Your receipt"
			m.AddContent(mail.NewContent("text/plain", "Thanks for your order"))
			m.AddPersonalizations(person(mail.NewPersonalization(), "bob@example.com"))
			mark(m)
			status, h, _ := sendWithSDK(t, p, m)
			if status != http.StatusAccepted || first(h, "Hush-Dropped") != "0" {
				t.Errorf("%s: SDK got %d %v", name, status, h)
			}
			if got := p.Last(); !bytes.Equal(got.Body, mail.GetRequestBody(m)) {
				t.Errorf("%s: vendor got %s", name, got.Body)
			}
		}
		// Labelled both receipt and newsletter: the newsletter wins.
		p.Reset()
		m := mail.NewV3Mail()
		m.SetFrom(mail.NewEmail("Shop", "shop@example.com"))
		m.AddCategories("receipt", "newsletter")
		m.AddPersonalizations(person(mail.NewPersonalization(), "bob@example.com"))
		if status, _, _ := sendWithSDK(t, p, m); status != http.StatusAccepted || len(p.Requests()) != 0 {
			t.Errorf("receipt+newsletter: %d, %d requests reached the vendor", status, len(p.Requests()))
		}
	})

	t.Run("templates pass untouched", func(t *testing.T) {
		p.Reset()
		req := sendgrid.GetRequest(apiKey, "/v3/templates", p.Base)
		req.Method = "GET"
		req.QueryParams = map[string]string{"generations": "dynamic", "page_size": "10"}
		resp, err := sendgrid.MakeRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Last()
		if resp.StatusCode != http.StatusOK || resp.Body != `{"result":[]}` || first(resp.Headers, "Hush-Allowed") != "" {
			t.Errorf("SDK got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
		}
		if got.Method != "GET" || got.Path != "/v3/templates" || !strings.Contains(got.RawQuery, "generations=dynamic") ||
			got.Header.Get("Authorization") != "Bearer "+apiKey {
			t.Errorf("vendor got %s %s?%s %v", got.Method, got.Path, got.RawQuery, got.Header)
		}
	})

	t.Run("gzip body through the SDK's compression", func(t *testing.T) {
		p.Reset()
		client := &sendgrid.Client{Request: sendgrid.GetRequest(apiKey, SendPath, p.Base)}
		client.Method = "POST"
		client.Headers["Content-Encoding"] = "gzip"
		m := mixedBatch()
		resp, err := client.Send(m)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusAccepted || first(resp.Headers, "Hush-Dropped") != "3" {
			t.Fatalf("SDK got %d %v", resp.StatusCode, resp.Headers)
		}
		got := p.Last()
		if got.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("vendor got Content-Encoding %q", got.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(got.Body))
		if err != nil {
			t.Fatalf("vendor body is not gzip: %v", err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if want := withoutSilenced(t, mail.GetRequestBody(m)); string(plain) != want {
			t.Errorf("vendor got\n%s\nwant\n%s", plain, want)
		}
	})

	t.Run("only copies left: answered as fully dropped, nothing sent", func(t *testing.T) {
		p.Reset()
		m := mail.NewV3Mail()
		m.SetFrom(mail.NewEmail("Shop", "shop@example.com"))
		p0 := person(mail.NewPersonalization(), "bob@example.com")
		p0.AddCCs(mail.NewEmail("Zoe", "zoe@example.com"))
		m.AddPersonalizations(p0)
		status, h, body := sendWithSDK(t, p, m)
		if status != http.StatusAccepted || body != "" || first(h, "Hush-Allowed") != "0" || first(h, "Hush-Dropped") != "2" {
			t.Errorf("SDK got %d %v %s", status, h, body)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached the vendor", n)
		}
	})
}

func TestSDKAllDroppedAsError(t *testing.T) {
	p := newProxy(t, server.AllDroppedError)
	m := mail.NewV3Mail()
	m.SetFrom(mail.NewEmail("Shop", "shop@example.com"))
	m.AddPersonalizations(person(mail.NewPersonalization(), "bob@example.com", "dana@example.com"))
	status, _, body := sendWithSDK(t, p, m)
	var e struct {
		Errors []struct{ Message, Field string } `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%d %q: %v", status, body, err)
	}
	if status != http.StatusBadRequest || len(e.Errors) != 1 || e.Errors[0].Field != "personalizations" {
		t.Errorf("SDK got %d %s", status, body)
	}
	if n := len(p.Requests()); n != 0 {
		t.Errorf("%d requests reached the vendor", n)
	}
}

func first(h map[string][]string, key string) string {
	if v := http.Header(h).Values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
