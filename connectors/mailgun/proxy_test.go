package mailgun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// mailgunVendor answers like Mailgun: a queued message for sends, an empty domain list for
// GET /v3/domains.
func mailgunVendor(w http.ResponseWriter, r *http.Request, rec connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, `{"total_count":0,"items":[]}`)
		return
	}
	_, _ = io.WriteString(w, `{"id":"<20240101120000.1.ABCDEF@mg.example.com>","message":"Queued. Thank you."}`)
}

func newProxy(t *testing.T, onAllDropped string) (*connectortest.Proxy, *mailgun.MailgunImpl) {
	t.Helper()
	u := newUpstream(t, map[string]any{"tags": map[string]any{"receipt": "transactional", "newsletter": "marketing"}})
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "mailgun", Kind: Kind, Connector: u,
		Channel: gateway.ChannelEmail, OnAllDropped: onAllDropped, Respond: mailgunVendor})
	p.Silence("email:bob@example.com")
	p.Silence("email:dan@example.com")
	mg := mailgun.NewMailgun("mg.example.com", "key-test")
	// The SDK's base ends in the API version (it refuses one that does not); hush's proxy
	// path goes before it.
	mg.SetAPIBase(p.Base + "/v3")
	return p, mg
}

// formFields reads a multipart body the vendor received: every field's values in order,
// and the raw content of each file part by its file name.
func formFields(t *testing.T, rec connectortest.Recorded) (map[string][]string, map[string][]byte) {
	t.Helper()
	_, params, err := mime.ParseMediaType(rec.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	r := multipart.NewReader(bytes.NewReader(rec.Body), params["boundary"])
	fields, files := map[string][]string{}, map[string][]byte{}
	for {
		part, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			return fields, files
		}
		if err != nil {
			t.Fatalf("vendor got a broken multipart body: %v", err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		if part.FileName() != "" {
			files[part.FileName()] = b
		} else {
			fields[part.FormName()] = append(fields[part.FormName()], string(b))
		}
	}
}

func TestSDKThroughProxy(t *testing.T) {
	p, mg := newProxy(t, "")
	ctx := context.Background()
	attachment := append([]byte("\x00\x01PDF\r\n--boundary-lookalike\r\n"), bytes.Repeat([]byte{0xff, 0x00, '\r', '\n'}, 100)...)

	t.Run("mixed send loses only the silenced recipients", func(t *testing.T) {
		p.Reset()
		m := mailgun.NewMessage("Shop <shop@mg.example.com>", "Spring sale", "Hi there", "Ana <ana@example.com>", "bob@example.com")
		m.AddCC("carol@example.com")
		m.AddBCC("dan@example.com")
		m.AddTag("newsletter")
		m.AddHeader("X-Campaign", "spring")
		m.AddVariable("order", "42")
		m.SetHTML("<p>Hi there</p>")
		m.AddBufferAttachment("catalog.pdf", attachment)
		msg, id, err := mg.Send(ctx, m)
		if err != nil || msg != "Queued. Thank you." || id == "" {
			t.Fatalf("Send: %q %q %v", msg, id, err)
		}
		rec := p.Last()
		if rec.Method != "POST" || rec.Path != "/v3/mg.example.com/messages" {
			t.Fatalf("vendor got %s %s", rec.Method, rec.Path)
		}
		fields, files := formFields(t, rec)
		if !slices.Equal(fields["to"], []string{"Ana <ana@example.com>"}) || !slices.Equal(fields["cc"], []string{"carol@example.com"}) || fields["bcc"] != nil {
			t.Errorf("recipients at the vendor: to %q cc %q bcc %q", fields["to"], fields["cc"], fields["bcc"])
		}
		want := map[string][]string{"from": {"Shop <shop@mg.example.com>"}, "subject": {"Spring sale"}, "text": {"Hi there"},
			"html": {"<p>Hi there</p>"}, "o:tag": {"newsletter"}, "h:X-Campaign": {"spring"}, "v:order": {"42"}}
		for k, v := range want {
			if !slices.Equal(fields[k], v) {
				t.Errorf("field %s: %q, want %q", k, fields[k], v)
			}
		}
		if !bytes.Equal(files["catalog.pdf"], attachment) {
			t.Errorf("attachment changed: %d bytes, want %d", len(files["catalog.pdf"]), len(attachment))
		}
		if d := p.Decisions("email:bob@example.com"); len(d) != 1 || d[0].Allowed || d[0].Upstream != "mailgun" {
			t.Errorf("bob's decisions: %+v", d)
		}
		if d := p.Decisions("email:dan@example.com"); len(d) != 1 || d[0].Allowed {
			t.Errorf("dan's decisions: %+v", d)
		}
	})

	t.Run("batch send loses the silenced recipient's variables", func(t *testing.T) {
		p.Reset()
		m := mailgun.NewMessage("shop@mg.example.com", "Hey %recipient.name%", "Hi %recipient.name%")
		for _, r := range []struct {
			addr, name string
		}{{"ana@example.com", "Ana"}, {"bob@example.com", "Bob"}, {"carol@example.com", "Carol"}} {
			if err := m.AddRecipientAndVariables(r.addr, map[string]any{"name": r.name}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := mg.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		fields, _ := formFields(t, p.Last())
		if !slices.Equal(fields["to"], []string{"ana@example.com", "carol@example.com"}) {
			t.Errorf("to at the vendor: %q", fields["to"])
		}
		var vars map[string]map[string]string
		if len(fields["recipient-variables"]) != 1 || json.Unmarshal([]byte(fields["recipient-variables"][0]), &vars) != nil {
			t.Fatalf("recipient-variables at the vendor: %q", fields["recipient-variables"])
		}
		if len(vars) != 2 || vars["ana@example.com"]["name"] != "Ana" || vars["carol@example.com"]["name"] != "Carol" {
			t.Errorf("recipient-variables at the vendor: %v", vars)
		}
	})

	t.Run("all silenced: Mailgun's success, nothing sent", func(t *testing.T) {
		p.Reset()
		m := mailgun.NewMessage("shop@mg.example.com", "Sale", "Hi", "bob@example.com")
		m.AddBCC("Dan <dan@example.com>")
		msg, id, err := mg.Send(ctx, m)
		if err != nil || msg != "Queued. Thank you." || !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@mg.example.com>") {
			t.Fatalf("Send: %q %q %v", msg, id, err)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached the vendor", n)
		}
	})

	t.Run("a receipt tag makes it transactional", func(t *testing.T) {
		p.Reset()
		m := mailgun.NewMessage("shop@mg.example.com", "Your receipt", "Thanks", "bob@example.com")
		m.AddTag("receipt")
		if _, _, err := mg.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		fields, _ := formFields(t, p.Last())
		if !slices.Equal(fields["to"], []string{"bob@example.com"}) {
			t.Errorf("to at the vendor: %q", fields["to"])
		}
	})

	t.Run("a MIME send with a silenced recipient is refused", func(t *testing.T) {
		p.Reset()
		body := "From: shop@mg.example.com\r\nTo: ana@example.com, bob@example.com\r\nSubject: Sale\r\n\r\nHi\r\n"
		m := mailgun.NewMIMEMessage(io.NopCloser(strings.NewReader(body)), "ana@example.com", "bob@example.com")
		_, _, err := mg.Send(ctx, m)
		var ue *mailgun.UnexpectedResponseError
		if !errors.As(err, &ue) || ue.Actual != http.StatusBadRequest || !bytes.Contains(ue.Data, []byte("DKIM")) {
			t.Fatalf("Send: %v", err)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached the vendor", n)
		}
		// Without a silenced recipient it goes through untouched.
		m = mailgun.NewMIMEMessage(io.NopCloser(strings.NewReader(body)), "ana@example.com")
		if _, _, err := mg.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		_, files := formFields(t, p.Last())
		if string(files["message.mime"]) != body {
			t.Errorf("MIME message changed: %q", files["message.mime"])
		}
	})

	t.Run("other requests pass untouched", func(t *testing.T) {
		p.Reset()
		it := mg.ListDomains(nil)
		var page []mailgun.Domain
		if it.Next(ctx, &page); it.Err() != nil {
			t.Fatal(it.Err())
		}
		rec := p.Last()
		if rec.Method != "GET" || rec.Path != "/v3/domains" || rec.RawQuery != "limit=100" {
			t.Errorf("vendor got %s %s?%s", rec.Method, rec.Path, rec.RawQuery)
		}
	})
}

func TestSDKAllDroppedAsError(t *testing.T) {
	p, mg := newProxy(t, server.AllDroppedError)
	m := mailgun.NewMessage("shop@mg.example.com", "Sale", "Hi", "bob@example.com")
	_, _, err := mg.Send(context.Background(), m)
	var ue *mailgun.UnexpectedResponseError
	if !errors.As(err, &ue) || ue.Actual != http.StatusBadRequest {
		t.Fatalf("Send: %v", err)
	}
	var body map[string]string
	if json.Unmarshal(ue.Data, &body) != nil || body["message"] == "" {
		t.Errorf("refusal body %s", ue.Data)
	}
	if n := len(p.Requests()); n != 0 {
		t.Errorf("%d requests reached the vendor", n)
	}
}
