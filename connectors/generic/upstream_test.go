package generic

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

func sendgridLike(t testing.TB) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "mail", Kind: Kind, Options: map[string]any{
		"sends": []any{
			map[string]any{
				"path":       "/v3/mail/send",
				"recipients": []any{"/personalizations/*/to/*/email", "/personalizations/*/cc/*/email"},
				"dropped_response": map[string]any{
					"status": uint64(202), "body": "",
				},
			},
			map[string]any{
				"method": "post", "path": "/2010-04-01/Accounts/*/Messages.json", "format": "form",
				"recipients": []any{"To"}, "kind": "phone", "channel": "sms",
				"error_response": map[string]any{"status": uint64(400), "body": `{"code":21610,"message":"unsubscribed"}`},
			},
			map[string]any{"path": "/batch", "recipients": []any{"/messages/*/to", "/messages/*/cc"},
				"dropped_response": map[string]any{"status": uint64(202), "content_type": "text/plain"}},
			map[string]any{"path": "/plain", "recipients": []any{"/to", "/cc"}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func addresses(s *gateway.Send) []string {
	var out []string
	for _, r := range s.Recipients {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out
}

func TestParseSend(t *testing.T) {
	u := sendgridLike(t)
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		want    []string // nil: not a send
		channel gateway.Channel
		err     string
	}{
		{"sendgrid", "POST", "/v3/mail/send",
			`{"personalizations":[{"to":[{"email":"ana@example.com","name":"Ana"},{"email":"Bob <bob@example.com>"}],"cc":[{"email":"cc@example.com"}]},{"to":[{"email":"eve@example.com"}]}],"from":{"email":"shop@example.com"}}`,
			[]string{"email:ana@example.com", "email:bob@example.com", "email:eve@example.com", "email:cc@example.com"}, "", ""},
		{"not a send: other path", "POST", "/v3/templates", `{}`, nil, "", ""},
		{"not a send: other method", "GET", "/v3/mail/send", ``, nil, "", ""},
		{"twilio form with glob", "POST", "/2010-04-01/Accounts/AC123/Messages.json", "To=%2B34600111222&From=%2B15005550006&Body=Hi+there",
			[]string{"phone:+34600111222"}, gateway.ChannelSMS, ""},
		{"glob does not cross segments", "POST", "/2010-04-01/Accounts/AC1/x/Messages.json", "To=1", nil, "", ""},
		{"repeated form field", "POST", "/2010-04-01/Accounts/AC1/Messages.json", "To=%2B1&To=%2B2", []string{"phone:+1", "phone:+2"}, gateway.ChannelSMS, ""},
		{"empty body", "POST", "/v3/mail/send", "  ", nil, "", "empty body"},
		{"invalid json", "POST", "/v3/mail/send", `{"personalizations":`, nil, "", "not valid JSON"},
		{"no recipients where configured", "POST", "/v3/mail/send", `{"personalizations":[]}`, nil, "", "names no recipient"},
		{"recipient not a string", "POST", "/v3/mail/send", `{"personalizations":[{"to":[{"email":5}]}]}`, nil, "", "/personalizations/0/to/0/email is not a string"},
		{"several addresses in one field", "POST", "/v3/mail/send", `{"personalizations":[{"to":[{"email":"a@x.com, b@x.com"}]}]}`, nil, "", "several addresses"},
		{"escaped strings decoded", "POST", "/plain", `{"to":"ana\u0040example.com"}`, []string{"email:ana@example.com"}, "", ""},
		{"bad form escape", "POST", "/2010-04-01/Accounts/AC1/Messages.json", "To=%zz", nil, "", "not a valid form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := u.ParseSend(&gateway.OutboundRequest{Upstream: "mail", Method: tt.method, Path: tt.path, Body: []byte(tt.body)})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
					t.Fatalf("ParseSend error = %v, want invalid containing %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "@x.com") {
					t.Errorf("error %q quotes an address", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if s != nil {
					t.Fatalf("got a send %v for a non-send", addresses(s))
				}
				return
			}
			if got := addresses(s); !slices.Equal(got, tt.want) {
				t.Fatalf("recipients = %v, want %v", got, tt.want)
			}
			if s.Channel != tt.channel {
				t.Errorf("channel = %q, want %q", s.Channel, tt.channel)
			}
		})
	}
}

func TestRewriteJSON(t *testing.T) {
	u := sendgridLike(t)
	// Keys deliberately out of alphabetical order, a number beyond float64 precision, an
	// unknown field and indentation: all must survive byte for byte.
	sendgrid := `{
  "from": {"email": "shop@example.com"},
  "personalizations": [
    {"to": [{"email": "ana@example.com", "name": "Ana"}, {"email": "bob@example.com"}], "custom_args": {"n": 12345678901234567890}},
    {"to": [{"email": "eve@example.com"}], "send_at": 1700000000}
  ],
  "zz_unknown": [1, 2.50, true, null],
  "content": [{"type": "text/plain", "value": "Hi \u00e9"}]
}`
	tests := []struct {
		name string
		path string
		body string
		keep []bool
		want string
	}{
		{"drop one of two in a personalization", "/v3/mail/send", sendgrid, []bool{true, false, true}, `{
  "from": {"email": "shop@example.com"},
  "personalizations": [
    {"to": [{"email": "ana@example.com", "name": "Ana"}], "custom_args": {"n": 12345678901234567890}},
    {"to": [{"email": "eve@example.com"}], "send_at": 1700000000}
  ],
  "zz_unknown": [1, 2.50, true, null],
  "content": [{"type": "text/plain", "value": "Hi \u00e9"}]
}`},
		{"drop the first: the second takes the first's place and spacing", "/v3/mail/send", sendgrid, []bool{false, true, true}, `{
  "from": {"email": "shop@example.com"},
  "personalizations": [
    {"to": [{"email": "bob@example.com"}], "custom_args": {"n": 12345678901234567890}},
    {"to": [{"email": "eve@example.com"}], "send_at": 1700000000}
  ],
  "zz_unknown": [1, 2.50, true, null],
  "content": [{"type": "text/plain", "value": "Hi \u00e9"}]
}`},
		{"emptied personalization removed", "/v3/mail/send", sendgrid, []bool{true, true, false}, `{
  "from": {"email": "shop@example.com"},
  "personalizations": [
    {"to": [{"email": "ana@example.com", "name": "Ana"}, {"email": "bob@example.com"}], "custom_args": {"n": 12345678901234567890}}
  ],
  "zz_unknown": [1, 2.50, true, null],
  "content": [{"type": "text/plain", "value": "Hi \u00e9"}]
}`},
		{"first personalization removed", "/v3/mail/send", sendgrid, []bool{false, false, true}, `{
  "from": {"email": "shop@example.com"},
  "personalizations": [
    {"to": [{"email": "eve@example.com"}], "send_at": 1700000000}
  ],
  "zz_unknown": [1, 2.50, true, null],
  "content": [{"type": "text/plain", "value": "Hi \u00e9"}]
}`},
		{"personalization with a kept cc stays", "/v3/mail/send",
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"cc":[{"email":"c@x.com"}]},{"to":[{"email":"b@x.com"}]}]}`,
			[]bool{false, true, true},
			`{"personalizations":[{"to":[],"cc":[{"email":"c@x.com"}]},{"to":[{"email":"b@x.com"}]}]}`},
		{"string recipient in a batch element with a kept sibling loses only its member", "/batch",
			`{"messages":[{"to":"a@x.com","cc":"c@x.com","text":"t"},{"to":"b@x.com"}]}`,
			[]bool{false, true, true},
			`{"messages":[{"cc":"c@x.com","text":"t"},{"to":"b@x.com"}]}`},
		{"batch element without kept recipients removed", "/batch",
			`{"messages":[{"to":"a@x.com","text":"t"},{"to":"b@x.com"}]}`,
			[]bool{false, true},
			`{"messages":[{"to":"b@x.com"}]}`},
		{"member without array removed", "/plain", `{"to": "a@x.com", "cc": "c@x.com", "subject": "s"}`, []bool{true, false},
			`{"to": "a@x.com", "subject": "s"}`},
		{"last member removed", "/plain", `{"subject": "s", "to": "a@x.com", "cc": "c@x.com" }`, []bool{true, false},
			`{"subject": "s", "to": "a@x.com" }`},
		{"everyone kept returns the body", "/plain", `{"to": "a@x.com", "cc": "c@x.com"}`, []bool{true, true},
			`{"to": "a@x.com", "cc": "c@x.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &gateway.OutboundRequest{Method: "POST", Path: tt.path, Body: []byte(tt.body)}
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Fatalf("Rewrite =\n%s\nwant\n%s", out, tt.want)
			}
			// The rewritten body names exactly the kept recipients, in order.
			again, err := u.ParseSend(&gateway.OutboundRequest{Method: "POST", Path: tt.path, Body: out})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, r := range addresses(s) {
				if tt.keep[i] {
					want = append(want, r)
				}
			}
			if got := addresses(again); !slices.Equal(got, want) {
				t.Fatalf("recipients after rewrite = %v, want %v", got, want)
			}
		})
	}
}

func TestRewriteForm(t *testing.T) {
	u := sendgridLike(t)
	body := "From=%2B15005550006&To=%2B1&Body=Hello%20w%C3%B6rld&To=%2B2&StatusCallback=https%3A%2F%2Fx"
	req := &gateway.OutboundRequest{Method: "POST", Path: "/2010-04-01/Accounts/AC1/Messages.json", Body: []byte(body)}
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := u.Rewrite(req, s, []bool{false, true})
	if err != nil {
		t.Fatal(err)
	}
	if want := "From=%2B15005550006&Body=Hello%20w%C3%B6rld&To=%2B2&StatusCallback=https%3A%2F%2Fx"; string(out) != want {
		t.Fatalf("Rewrite = %s, want %s", out, want)
	}
	if _, err := u.Rewrite(req, s, []bool{true}); err == nil {
		t.Fatal("wrong number of keep flags accepted")
	}
}

func TestDroppedResponse(t *testing.T) {
	u := sendgridLike(t)
	parse := func(path, body string) (*gateway.OutboundRequest, *gateway.Send) {
		req := &gateway.OutboundRequest{Method: "POST", Path: path, Body: []byte(body)}
		s, err := u.ParseSend(req)
		if err != nil {
			t.Fatal(err)
		}
		return req, s
	}
	tests := []struct {
		name        string
		path, body  string
		asError     bool
		status      int
		contentType string
		body2       string
	}{
		{"configured status, default body", "/v3/mail/send", `{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`, false, 202, "application/json", DefaultDroppedResponse.Body},
		{"empty body on purpose", "/batch", `{"messages":[{"to":"a@x.com"}]}`, false, 202, "text/plain", ""},
		{"default refusal", "/v3/mail/send", `{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`, true, 400, "application/json", DefaultErrorResponse.Body},
		{"configured refusal", "/2010-04-01/Accounts/AC1/Messages.json", "To=%2B1", true, 400, "application/json", `{"code":21610,"message":"unsubscribed"}`},
		{"default success", "/2010-04-01/Accounts/AC1/Messages.json", "To=%2B1", false, 200, "application/json", DefaultDroppedResponse.Body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, s := parse(tt.path, tt.body)
			status, h, body := u.DroppedResponse(req, s, tt.asError)
			if status != tt.status || h.Get("Content-Type") != tt.contentType || string(body) != tt.body2 {
				t.Fatalf("DroppedResponse = %d %q %s", status, h.Get("Content-Type"), body)
			}
			if strings.Contains(string(body), "a@x.com") {
				t.Error("the answer names a recipient")
			}
		})
	}
	if !json.Valid([]byte(DefaultDroppedResponse.Body)) || !json.Valid([]byte(DefaultErrorResponse.Body)) {
		t.Fatal("default bodies must be JSON")
	}
}

func TestNewUpstreamErrors(t *testing.T) {
	tests := []struct {
		name string
		send map[string]any
		want string
	}{
		{"no path", map[string]any{"recipients": []any{"/to"}}, "must start with '/'"},
		{"bad pattern", map[string]any{"path": "/a/[", "recipients": []any{"/to"}}, "not a valid pattern"},
		{"no recipients", map[string]any{"path": "/a"}, "recipients is required"},
		{"pointer without slash", map[string]any{"path": "/a", "recipients": []any{"to"}}, "not a JSON pointer"},
		{"bad format", map[string]any{"path": "/a", "format": "xml", "recipients": []any{"/to"}}, `format "xml"`},
		{"bad kind", map[string]any{"path": "/a", "kind": "E Mail", "recipients": []any{"/to"}}, `kind "E Mail"`},
		{"bad channel", map[string]any{"path": "/a", "channel": "fax", "recipients": []any{"/to"}}, "unknown channel"},
		{"bad status", map[string]any{"path": "/a", "recipients": []any{"/to"}, "dropped_response": map[string]any{"status": uint64(42)}}, "status 42"},
		{"typo in a key", map[string]any{"path": "/a", "recipient": []any{"/to"}}, `unknown key "recipient"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUpstream(gateway.UpstreamConfig{Name: "m", Kind: Kind, Options: map[string]any{"sends": []any{tt.send}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewUpstream = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzParseSend(f *testing.F) {
	u := sendgridLike(f)
	f.Add("/v3/mail/send", []byte(`{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`))
	f.Add("/2010-04-01/Accounts/A/Messages.json", []byte("To=%2B1&To=2"))
	f.Add("/batch", []byte(`{"messages":[{"to":"a"},{"to":"b","cc":"c"}]}`))
	f.Fuzz(func(t *testing.T, p string, body []byte) {
		s, err := u.ParseSend(&gateway.OutboundRequest{Method: "POST", Path: p, Body: body})
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if s != nil && len(s.Recipients) == 0 {
			t.Fatal("a send with no recipients")
		}
	})
}

func FuzzRewrite(f *testing.F) {
	u := sendgridLike(f)
	f.Add(0, []byte(`{"personalizations":[{"to":[{"email":"a@x.com"},{"email":"b@x.com"}]},{"to":[{"email":"c@x.com"}],"cc":[{"email":"d@x.com"}]}]}`), uint64(0b0101))
	f.Add(1, []byte(`{"messages":[{"to":"a","cc":"c","x":[1,{"y":2}]},{"to":"b"}]}`), uint64(0b110))
	f.Add(2, []byte(`{"to":"a","cc":"b","to":"c"}`), uint64(0b01))
	f.Add(3, []byte("To=1&x=%20&To=2&&To=3"), uint64(0b101))
	paths := []string{"/v3/mail/send", "/batch", "/plain", "/2010-04-01/Accounts/A/Messages.json"}
	f.Fuzz(func(t *testing.T, which int, body []byte, bits uint64) {
		if which < 0 {
			which = -which
		}
		p := paths[which%len(paths)]
		req := &gateway.OutboundRequest{Method: "POST", Path: p, Body: body}
		s, err := u.ParseSend(req)
		if err != nil || s == nil {
			return
		}
		keep := make([]bool, len(s.Recipients))
		any := false
		for i := range keep {
			keep[i] = bits&(1<<(uint(i)%64)) != 0
			any = any || keep[i]
		}
		if !any {
			keep[0] = true // Rewrite is only called with at least one recipient kept
		}
		out, err := u.Rewrite(req, s, keep)
		if err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
		var want []string
		for i, r := range addresses(s) {
			if keep[i] {
				want = append(want, r)
			}
		}
		if !strings.Contains(p, "Messages") {
			if !json.Valid(out) {
				t.Fatalf("Rewrite output is not JSON: %s", out)
			}
		} else if _, err := url.ParseQuery(string(out)); err != nil && !strings.Contains(err.Error(), "semicolon") {
			t.Fatalf("Rewrite output is not a form: %q", out)
		}
		again, err := u.ParseSend(&gateway.OutboundRequest{Method: "POST", Path: p, Body: out})
		if err != nil {
			t.Fatalf("rewritten body does not parse: %v\n%s", err, out)
		}
		if got := addresses(again); !slices.Equal(got, want) {
			t.Fatalf("recipients after rewrite = %v, want %v\nin:  %s\nout: %s", got, want, body, out)
		}
	})
}

func BenchmarkRewriteSendGrid(b *testing.B) {
	u := sendgridLike(b)
	var sb strings.Builder
	sb.WriteString(`{"from":{"email":"shop@example.com"},"personalizations":[`)
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"to":[{"email":"user%d@example.com","name":"User %d"}],"custom_args":{"id":%d}}`, i, i, i)
	}
	sb.WriteString(`],"content":[{"type":"text/html","value":"<p>Hello</p>"}]}`)
	req := &gateway.OutboundRequest{Method: "POST", Path: "/v3/mail/send", Body: []byte(sb.String())}
	b.ReportAllocs()
	for b.Loop() {
		s, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		keep := make([]bool, len(s.Recipients))
		for i := range keep {
			keep[i] = i%3 != 0
		}
		if _, err := u.Rewrite(req, s, keep); err != nil {
			b.Fatal(err)
		}
	}
}
