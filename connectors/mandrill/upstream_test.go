package mandrill

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

func newUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "mandrill", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(path string, body []byte) *gateway.OutboundRequest {
	return &gateway.OutboundRequest{Upstream: "mandrill", Method: http.MethodPost, Path: path, Body: body}
}

func addresses(s *gateway.Send) []string {
	var out []string
	for _, r := range s.Recipients {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out
}

func TestParseSend(t *testing.T) {
	// The documented send is tagged password-resets on subaccount customer-123: transactional
	// and service, so service (the more restrictive) is its category.
	u := newUpstream(t, map[string]any{
		"tags":        map[string]any{"password-resets": "transactional", "weekly": "marketing"},
		"subaccounts": map[string]any{"customer-123": "service", "news": "marketing"},
	})
	docs := string(readFile(t, "docs_send.json"))
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		want     []string // nil: not a send
		category gateway.Category
		err      string
	}{
		{"documented send", "POST", "/api/1.0/messages/send.json", docs,
			[]string{"email:recipient.email@example.com"}, gateway.CategoryService, ""},
		{"documented send without .json", "POST", "/api/1.0/messages/send", docs,
			[]string{"email:recipient.email@example.com"}, gateway.CategoryService, ""},
		{"documented send-template", "POST", "/api/1.0/messages/send-template.json", string(readFile(t, "docs_send_template.json")),
			[]string{"email:recipient.email@example.com"}, "", ""},
		{"send-template without .json", "POST", "/api/1.0/messages/send-template", `{"key":"k","template_name":"t","message":{"to":[{"email":"a@example.com"}]}}`,
			[]string{"email:a@example.com"}, "", ""},
		{"three recipients, display name reduced", "POST", "/api/1.0/messages/send.json", string(readFile(t, "send_three_recipients.json")),
			[]string{"email:recipient.email@example.com", "email:second.recipient@example.com", "email:third.recipient@example.com"}, gateway.CategoryService, ""},
		{"most restrictive tag wins", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@example.com"}],"tags":["other","password-resets","weekly"],"subaccount":"customer-123"}}`,
			[]string{"email:a@example.com"}, gateway.CategoryMarketing, ""},
		{"subaccount when no tag maps", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@example.com"}],"tags":["other"],"subaccount":"customer-123"}}`,
			[]string{"email:a@example.com"}, gateway.CategoryService, ""},
		{"subaccount more restrictive than tag", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@example.com"}],"tags":["password-resets"],"subaccount":"news"}}`,
			[]string{"email:a@example.com"}, gateway.CategoryMarketing, ""},
		{"tags not a list", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@example.com"}],"tags":"password-resets"}}`,
			[]string{"email:a@example.com"}, "", ""},
		{"unmapped subaccount", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@example.com"}],"subaccount":"x"}}`,
			[]string{"email:a@example.com"}, "", ""},
		{"not a send: ping", "POST", "/api/1.0/users/ping.json", `{"key":"k"}`, nil, "", ""},
		{"not a send: messages/info", "POST", "/api/1.0/messages/info.json", `{"key":"k","id":"x"}`, nil, "", ""},
		{"not a send: GET", "GET", "/api/1.0/messages/send.json", ``, nil, "", ""},
		{"not a send: trailing slash", "POST", "/api/1.0/messages/send.json/", docs, nil, "", ""},
		{"not a send: other version", "POST", "/api/2.0/messages/send.json", docs, nil, "", ""},
		{"invalid json", "POST", "/api/1.0/messages/send.json", `{"message":`, nil, "", "not valid JSON"},
		{"not an object", "POST", "/api/1.0/messages/send.json", `[]`, nil, "", "not a JSON object"},
		{"no message", "POST", "/api/1.0/messages/send.json", `{"key":"k"}`, nil, "", "message is missing"},
		{"no to", "POST", "/api/1.0/messages/send.json", `{"message":{"subject":"s"}}`, nil, "", "message.to is missing"},
		{"empty to", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[]}}`, nil, "", "names no recipient"},
		{"to element not an object", "POST", "/api/1.0/messages/send.json", `{"message":{"to":["a@example.com"]}}`, nil, "", "message.to[0] is not an object"},
		{"email not a string", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@example.com"},{"email":5}]}}`, nil, "", "message.to[1].email is missing"},
		{"email missing", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"name":"Ana"}]}}`, nil, "", "message.to[0].email is missing"},
		{"email empty", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":" "}]}}`, nil, "", "message.to[0].email is empty"},
		{"message twice", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@x.com"}]},"message":{"to":[{"email":"b@x.com"}]}}`, nil, "", "message appears twice"},
		{"to twice", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@x.com"}],"to":[{"email":"b@x.com"}]}}`, nil, "", "message.to appears twice"},
		{"email twice", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@x.com","email":"b@x.com"}]}}`, nil, "", "message.to[0].email appears twice"},
		{"several addresses in one email", "POST", "/api/1.0/messages/send.json", `{"message":{"to":[{"email":"a@x.com, b@x.com"}]}}`, nil, "", "several addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, []byte(tt.body))
			req.Method = tt.method
			s, err := u.ParseSend(req)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				var ge *gateway.Error
				if !errorsAs(err, &ge) || ge.Code != gateway.CodeInvalid {
					t.Errorf("err %v is not a gateway invalid error", err)
				}
				if strings.Contains(err.Error(), "@") {
					t.Errorf("error quotes an address: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if s != nil {
					t.Fatalf("not a send, got %v", addresses(s))
				}
				return
			}
			if s == nil {
				t.Fatal("send not recognized")
			}
			if got := addresses(s); !slices.Equal(got, tt.want) {
				t.Errorf("recipients = %v, want %v", got, tt.want)
			}
			if s.Channel != gateway.ChannelEmail || s.Category != tt.category {
				t.Errorf("channel %q category %q, want email %q", s.Channel, s.Category, tt.category)
			}
		})
	}
}

// TestParseSendRaw: messages/send-raw is enforced on its top-level to[] (the envelope);
// without it the recipients are in the MIME headers, which hush does not read, so it is
// refused.
func TestParseSendRaw(t *testing.T) {
	// Options for the other sends do not apply: send-raw has no tags or subaccount field.
	u := newUpstream(t, map[string]any{
		"tags":        map[string]any{"password-resets": "transactional"},
		"subaccounts": map[string]any{"customer-123": "service"},
	})
	docs := string(readFile(t, "docs_send_raw.json"))
	const noTo = "without a to list"
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   []string // nil: not a send
		err    string
	}{
		{"documented send-raw", "POST", "/api/1.0/messages/send-raw.json", docs,
			[]string{"email:recipient.email@example.com"}, ""},
		{"documented send-raw without .json", "POST", "/api/1.0/messages/send-raw", docs,
			[]string{"email:recipient.email@example.com"}, ""},
		{"three recipients, display name reduced", "POST", "/api/1.0/messages/send-raw.json", string(readFile(t, "send_raw_three_recipients.json")),
			[]string{"email:recipient.email@example.com", "email:second.recipient@example.com", "email:third.recipient@example.com"}, ""},
		{"tag-like fields are not read", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":["a@x.com"],"tags":["password-resets"],"subaccount":"customer-123"}`,
			[]string{"email:a@x.com"}, ""},
		{"not a send: GET", "GET", "/api/1.0/messages/send-raw.json", ``, nil, ""},
		{"not a send: trailing slash", "POST", "/api/1.0/messages/send-raw.json/", docs, nil, ""},
		{"not a send: other spelling", "POST", "/api/1.0/messages/send_raw.json", docs, nil, ""},
		{"not a send: inbound/send-raw", "POST", "/api/1.0/inbound/send-raw.json", docs, nil, ""},
		{"no to", "POST", "/api/1.0/messages/send-raw.json", `{"key":"k","raw_message":"To: a@x.com\n\nhi"}`, nil, noTo},
		{"to null", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":null}`, nil, noTo},
		{"to empty", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":[]}`, nil, noTo},
		{"a send-style message.to is not send-raw's to", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","message":{"to":[{"email":"a@x.com"}]}}`, nil, noTo},
		{"to a string", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":"a@x.com"}`, nil, "to is not an array"},
		{"to element an object", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":["a@x.com",{"email":"b@x.com"}]}`, nil, "to[1] is not a string"},
		{"to element empty", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":[" "]}`, nil, "to[0] is empty"},
		{"several addresses in one element", "POST", "/api/1.0/messages/send-raw.json", `{"raw_message":"x","to":["a@x.com, b@x.com"]}`, nil, "several addresses"},
		{"to twice", "POST", "/api/1.0/messages/send-raw.json", `{"to":["a@x.com"],"raw_message":"x","to":["b@x.com"]}`, nil, "to appears twice"},
		{"invalid json", "POST", "/api/1.0/messages/send-raw.json", `{"to":[`, nil, "not valid JSON"},
		{"not an object", "POST", "/api/1.0/messages/send-raw.json", `["a@x.com"]`, nil, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, []byte(tt.body))
			req.Method = tt.method
			s, err := u.ParseSend(req)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				var ge *gateway.Error
				if !errorsAs(err, &ge) || ge.Code != gateway.CodeInvalid {
					t.Errorf("err %v is not a gateway invalid error", err)
				}
				if strings.Contains(err.Error(), "@") {
					t.Errorf("error quotes an address: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if s != nil {
					t.Fatalf("not a send, got %v", addresses(s))
				}
				return
			}
			if s == nil {
				t.Fatal("send not recognized")
			}
			if got := addresses(s); !slices.Equal(got, tt.want) {
				t.Errorf("recipients = %v, want %v", got, tt.want)
			}
			if s.Channel != gateway.ChannelEmail || s.Category != "" {
				t.Errorf("channel %q category %q, want email and no category", s.Channel, s.Category)
			}
		})
	}
	t.Run("refusal tells the caller what to do", func(t *testing.T) {
		_, err := u.ParseSend(post("/api/1.0/messages/send-raw.json", []byte(`{"raw_message":"x"}`)))
		if err == nil || !strings.Contains(err.Error(), "list every recipient in to") {
			t.Errorf("err = %v", err)
		}
	})
}

func errorsAs(err error, target **gateway.Error) bool {
	e, ok := err.(*gateway.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestNewUpstreamErrors(t *testing.T) {
	tests := []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"tag": map[string]any{}}, `unknown option "tag"`},
		{map[string]any{"tags": map[string]any{"x": "newsletter"}}, `unknown category "newsletter"`},
		{map[string]any{"subaccounts": "marketing"}, `"subaccounts"`},
	}
	for _, tt := range tests {
		_, err := NewUpstream(gateway.UpstreamConfig{Name: "m", Kind: Kind, Options: tt.opts})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.opts, err, tt.want)
		}
	}
}

// TestRewriteGolden drops addressees of the documented send with three addressees; the
// result is compared with a golden file and re-parsed.
func TestRewriteGolden(t *testing.T) {
	u := newUpstream(t, nil)
	body := readFile(t, "send_three_recipients.json")
	tests := []struct {
		golden string
		keep   []bool
	}{
		{"send_three_recipients.drop_second.golden.json", []bool{true, false, true}},
		{"send_three_recipients.keep_second.golden.json", []bool{false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			req := post("/api/1.0/messages/send.json", body)
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			connectortest.CompareGolden(t, filepath.Join("testdata", tt.golden), out, *update)
			checkRewrite(t, u, req, s, tt.keep, out)
		})
	}
}

// checkRewrite: the rewritten body re-parses to exactly the kept addressees, in order; no
// per-recipient entry names a dropped-only address, every kept one keeps its entries, and
// every field outside message.to, merge_vars and recipient_metadata is unchanged.
func checkRewrite(t testing.TB, u *Upstream, req *gateway.OutboundRequest, s *gateway.Send, keep []bool, out []byte) {
	t.Helper()
	again, err := u.ParseSend(post(req.Path, out))
	if err != nil || again == nil {
		t.Fatalf("rewritten body does not parse: %v", err)
	}
	var want []string
	kept, dropped := map[string]bool{}, map[string]bool{}
	for i, k := range keep {
		a := strings.ToLower(s.Recipients[i].Address)
		if k {
			want = append(want, s.Recipients[i].Kind+":"+s.Recipients[i].Address)
			kept[a] = true
		} else {
			dropped[a] = true
		}
	}
	if got := addresses(again); !slices.Equal(got, want) {
		t.Fatalf("rewritten recipients = %v, want %v", got, want)
	}
	var before, after map[string]any
	if json.Unmarshal(req.Body, &before) != nil || json.Unmarshal(out, &after) != nil {
		t.Fatal("body or rewrite does not decode")
	}
	for _, field := range []string{"merge_vars", "recipient_metadata"} {
		countRcpt := func(doc map[string]any) map[string]int {
			n := map[string]int{}
			msg, _ := doc["message"].(map[string]any)
			arr, _ := msg[field].([]any)
			for _, el := range arr {
				if m, ok := el.(map[string]any); ok {
					if r, ok := m["rcpt"].(string); ok {
						n[strings.ToLower(r)]++
					}
				}
			}
			return n
		}
		b, a := countRcpt(before), countRcpt(after)
		for r, n := range b {
			switch {
			case dropped[r] && !kept[r] && a[r] != 0:
				t.Errorf("%s still names a dropped addressee", field)
			case kept[r] && a[r] != n:
				t.Errorf("%s lost a kept addressee's entry", field)
			}
		}
	}
	// Every other field is unchanged.
	bm, _ := before["message"].(map[string]any)
	am, _ := after["message"].(map[string]any)
	for _, m := range []map[string]any{bm, am} {
		if m != nil {
			delete(m, "to")
			delete(m, "merge_vars")
			delete(m, "recipient_metadata")
		}
	}
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	if !bytes.Equal(bj, aj) {
		t.Errorf("fields outside the recipients changed:\n%s\n%s", bj, aj)
	}
}

func TestRewriteCases(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name string
		body string
		keep []bool
		want string
	}{
		{"compact, middle dropped",
			`{"key":"k","message":{"to":[{"email":"a@x.com"},{"email":"b@x.com","type":"cc"},{"email":"c@x.com"}],"merge_vars":[{"rcpt":"b@x.com","vars":[]},{"rcpt":"a@x.com","vars":[]}],"global_merge_vars":[{"name":"n","content":1.50}]}}`,
			[]bool{true, false, true},
			`{"key":"k","message":{"to":[{"email":"a@x.com"},{"email":"c@x.com"}],"merge_vars":[{"rcpt":"a@x.com","vars":[]}],"global_merge_vars":[{"name":"n","content":1.50}]}}`},
		{"rcpt matched without case, display name reduced",
			`{"message":{"to":[{"email":"Bob <BOB@x.com>"},{"email":"a@x.com"}],"recipient_metadata":[{"rcpt":"bob@X.com","values":{}},{"rcpt":"a@x.com","values":{"n":1}}]}}`,
			[]bool{false, true},
			`{"message":{"to":[{"email":"a@x.com"}],"recipient_metadata":[{"rcpt":"a@x.com","values":{"n":1}}]}}`},
		{"address listed twice, one kept: its data stays",
			`{"message":{"to":[{"email":"a@x.com"},{"email":"a@x.com","type":"bcc"},{"email":"b@x.com"}],"merge_vars":[{"rcpt":"a@x.com"}]}}`,
			[]bool{true, false, true},
			`{"message":{"to":[{"email":"a@x.com"},{"email":"b@x.com"}],"merge_vars":[{"rcpt":"a@x.com"}]}}`},
		{"odd per-recipient shapes are left to Mandrill",
			`{"message":{"to":[{"email":"a@x.com"},{"email":"b@x.com"}],"merge_vars":{"rcpt":"b@x.com"},"recipient_metadata":["b@x.com",{"rcpt":7},{"values":{}}]}}`,
			[]bool{true, false},
			`{"message":{"to":[{"email":"a@x.com"}],"merge_vars":{"rcpt":"b@x.com"},"recipient_metadata":["b@x.com",{"rcpt":7},{"values":{}}]}}`},
		{"all kept: unchanged",
			`{"message":{"to":[{"email":"a@x.com"}]} }`,
			[]bool{true},
			`{"message":{"to":[{"email":"a@x.com"}]} }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post("/api/1.0/messages/send.json", []byte(tt.body))
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
		})
	}
	t.Run("wrong keep length", func(t *testing.T) {
		req := post("/api/1.0/messages/send.json", []byte(`{"message":{"to":[{"email":"a@x.com"}]}}`))
		s, _ := u.ParseSend(req)
		if _, err := u.Rewrite(req, s, []bool{true, false}); err == nil {
			t.Error("no error for 2 keep flags and 1 recipient")
		}
		if _, err := u.Rewrite(req, &gateway.Send{Recipients: s.Recipients}, []bool{true}); err == nil {
			t.Error("no error for a send parsed elsewhere")
		}
	})
}

// TestRewriteRawGolden drops addressees of a send-raw: only the envelope to[] changes;
// raw_message (and its DKIM signature) is copied byte for byte, even though the dropped
// addressee is still named in its To header.
func TestRewriteRawGolden(t *testing.T) {
	u := newUpstream(t, nil)
	body := readFile(t, "send_raw_three_recipients.json")
	tests := []struct {
		golden string
		keep   []bool
	}{
		{"send_raw_three_recipients.drop_second.golden.json", []bool{true, false, true}},
		{"send_raw_three_recipients.keep_second.golden.json", []bool{false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			req := post("/api/1.0/messages/send-raw.json", body)
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			connectortest.CompareGolden(t, filepath.Join("testdata", tt.golden), out, *update)
			checkRawRewrite(t, u, req, s, tt.keep, out)
		})
	}
}

// checkRawRewrite: the rewritten send-raw re-parses to exactly the kept addressees, in
// order; raw_message is byte-identical; every member but to is unchanged.
func checkRawRewrite(t testing.TB, u *Upstream, req *gateway.OutboundRequest, s *gateway.Send, keep []bool, out []byte) {
	t.Helper()
	again, err := u.ParseSend(post(req.Path, out))
	if err != nil || again == nil {
		t.Fatalf("rewritten body does not parse: %v", err)
	}
	var want []string
	for i, k := range keep {
		if k {
			want = append(want, s.Recipients[i].Kind+":"+s.Recipients[i].Address)
		}
	}
	if got := addresses(again); !slices.Equal(got, want) {
		t.Fatalf("rewritten recipients = %v, want %v", got, want)
	}
	if b, a := rawMember(t, req.Body, "raw_message"), rawMember(t, out, "raw_message"); !bytes.Equal(b, a) {
		t.Errorf("raw_message changed:\n%s\n%s", b, a)
	}
	var before, after map[string]json.RawMessage
	if json.Unmarshal(req.Body, &before) != nil || json.Unmarshal(out, &after) != nil {
		t.Fatal("body or rewrite does not decode")
	}
	delete(before, "to")
	delete(after, "to")
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	if !bytes.Equal(bj, aj) {
		t.Errorf("members other than to changed:\n%s\n%s", bj, aj)
	}
}

// rawMember is the exact bytes of a top-level member's value.
func rawMember(t testing.TB, body []byte, key string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}

func TestRewriteRawCases(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name string
		body string
		keep []bool
		want string
	}{
		{"compact, first dropped, unknown members kept",
			`{"key":"k","raw_message":"To: a@x.com, b@x.com\r\n\r\nhi","to":["a@x.com","B <b@x.com>"],"send_at":null,"x":1.50}`,
			[]bool{false, true},
			`{"key":"k","raw_message":"To: a@x.com, b@x.com\r\n\r\nhi","to":["B <b@x.com>"],"send_at":null,"x":1.50}`},
		{"last dropped",
			`{"to": [ "a@x.com", "b@x.com" ], "raw_message": "x"}`,
			[]bool{true, false},
			`{"to": [ "a@x.com" ], "raw_message": "x"}`},
		{"all kept: unchanged",
			`{"to":["a@x.com"] ,"raw_message":"x"}`,
			[]bool{true},
			`{"to":["a@x.com"] ,"raw_message":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post("/api/1.0/messages/send-raw.json", []byte(tt.body))
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
		})
	}
	// An emptied to[] would make Mandrill deliver to every header recipient.
	t.Run("nobody kept", func(t *testing.T) {
		req := post("/api/1.0/messages/send-raw.json", []byte(`{"to":["a@x.com","b@x.com"],"raw_message":"x"}`))
		s, err := u.ParseSend(req)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := u.Rewrite(req, s, []bool{false, false}); !errors.Is(err, gateway.ErrNothingToSend) {
			t.Errorf("got %s, %v; want ErrNothingToSend", out, err)
		}
	})
}

// TestRawAnswers: a partly or fully dropped send-raw is answered like messages/send, one
// entry per addressee of to[].
func TestRawAnswers(t *testing.T) {
	u := newUpstream(t, nil)
	req := post("/api/1.0/messages/send-raw.json", readFile(t, "send_raw_three_recipients.json"))
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	answer := `[{"email":"recipient.email@example.com","status":"sent","_id":"aaa"},{"email":"third.recipient@example.com","status":"sent","_id":"ccc"}]`
	out, err := u.EditResponse(req, s, []bool{true, false, true}, http.StatusOK, http.Header{}, []byte(answer))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range decodeEntries(t, out) {
		got = append(got, e.Email+"/"+e.Status)
	}
	want := []string{"recipient.email@example.com/sent", "second.recipient@example.com/rejected", "third.recipient@example.com/sent"}
	if !slices.Equal(got, want) {
		t.Errorf("edited answer %v, want %v", got, want)
	}
	status, _, body := u.DroppedResponse(req, s, false)
	got = got[:0]
	for _, e := range decodeEntries(t, body) {
		if e.RejectReason == nil || *e.RejectReason != "unsub" || !hexID.MatchString(e.ID) {
			t.Errorf("made-up entry %+v", e)
		}
		got = append(got, e.Email+"/"+e.Status)
	}
	want = []string{"recipient.email@example.com/rejected", "second.recipient@example.com/rejected", "third.recipient@example.com/rejected"}
	if status != http.StatusOK || !slices.Equal(got, want) {
		t.Errorf("dropped answer %d %v, want 200 %v", status, got, want)
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

type entry struct {
	Email        string  `json:"email"`
	Status       string  `json:"status"`
	RejectReason *string `json:"reject_reason"`
	ID           string  `json:"_id"`
}

func decodeEntries(t testing.TB, body []byte) []entry {
	t.Helper()
	var out []entry
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("answer is not an array of entries: %v: %s", err, body)
	}
	return out
}

func TestEditResponse(t *testing.T) {
	u := newUpstream(t, nil)
	req := post("/api/1.0/messages/send.json", readFile(t, "send_three_recipients.json"))
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	keep := []bool{true, false, true}
	tests := []struct {
		name   string
		answer string
		want   []string // email/status, in order
		raw    []string // substrings that must be copied byte for byte
	}{
		{"Mandrill's order", `[{"email":"recipient.email@example.com","status":"sent","_id":"aaa","reject_reason":null},{"email":"third.recipient@example.com","status":"queued","_id":"ccc","queued_reason":"attachments"}]`,
			[]string{"recipient.email@example.com/sent", "second.recipient@example.com/rejected", "third.recipient@example.com/queued"},
			[]string{`{"email":"recipient.email@example.com","status":"sent","_id":"aaa","reject_reason":null}`, `"queued_reason":"attachments"`}},
		{"reversed, other case", `[ {"email":"third.recipient@example.com","status":"sent","_id":"ccc"}, {"email":"Recipient.Email@example.com","status":"sent","_id":"aaa"} ]`,
			[]string{"Recipient.Email@example.com/sent", "second.recipient@example.com/rejected", "third.recipient@example.com/sent"}, nil},
		{"unknown entry kept at the end", `[{"email":"recipient.email@example.com","status":"sent","_id":"a"},{"email":"someone.else@example.com","status":"invalid","_id":"z"}]`,
			[]string{"recipient.email@example.com/sent", "second.recipient@example.com/rejected", "someone.else@example.com/invalid"}, nil},
		{"empty answer", `[]`, []string{"second.recipient@example.com/rejected"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := u.EditResponse(req, s, keep, http.StatusOK, http.Header{}, []byte(tt.answer))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range decodeEntries(t, out) {
				got = append(got, e.Email+"/"+e.Status)
				if e.Status == "rejected" {
					if e.RejectReason == nil || *e.RejectReason != "unsub" || !hexID.MatchString(e.ID) {
						t.Errorf("made-up entry %+v", e)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("entries = %v, want %v", got, tt.want)
			}
			for _, r := range tt.raw {
				if !bytes.Contains(out, []byte(r)) {
					t.Errorf("answer lost %s", r)
				}
			}
		})
	}
	for _, bad := range []string{`{"status":"error"}`, `[`, ``} {
		if _, err := u.EditResponse(req, s, keep, 200, http.Header{}, []byte(bad)); err == nil {
			t.Errorf("no error for answer %q", bad)
		}
	}
	if _, err := u.EditResponse(req, s, []bool{true}, 200, http.Header{}, []byte(`[]`)); err == nil {
		t.Error("no error for a keep of the wrong length")
	}
}

func TestDroppedResponse(t *testing.T) {
	u := newUpstream(t, nil)
	req := post("/api/1.0/messages/send.json", readFile(t, "send_three_recipients.json"))
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	status, h, body := u.DroppedResponse(req, s, false)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("success: %d %v", status, h)
	}
	entries := decodeEntries(t, body)
	if len(entries) != 3 {
		t.Fatalf("%d entries for 3 addressees: %s", len(entries), body)
	}
	ids := map[string]bool{}
	for i, e := range entries {
		if e.Email != s.Recipients[i].Address || e.Status != "rejected" || e.RejectReason == nil || *e.RejectReason != "unsub" || !hexID.MatchString(e.ID) {
			t.Errorf("entry %d = %+v", i, e)
		}
		ids[e.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("made-up ids repeat: %v", ids)
	}

	status, h, body = u.DroppedResponse(req, s, true)
	var e struct {
		Status, Name, Message string
		Code                  *int
	}
	if err := json.Unmarshal(body, &e); err != nil || status != http.StatusInternalServerError ||
		e.Status != "error" || e.Name != "ValidationError" || e.Code == nil || e.Message == "" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("refusal: %d %v %s", status, h, body)
	}
	if bytes.Contains(body, []byte("@")) {
		t.Errorf("refusal names an address: %s", body)
	}
	// The documented error shape has the same members.
	var doc map[string]any
	if err := json.Unmarshal(readFile(t, "docs_error_invalid_key.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var ours map[string]any
	_ = json.Unmarshal(body, &ours)
	for k := range doc {
		if _, ok := ours[k]; !ok {
			t.Errorf("refusal lacks documented member %q", k)
		}
	}
}

// TestEntryShapeMatchesDocs: hush's made-up entries have the members of Mandrill's
// documented answer entry.
func TestEntryShapeMatchesDocs(t *testing.T) {
	var docs []map[string]any
	if err := json.Unmarshal(readFile(t, "docs_send_response.json"), &docs); err != nil {
		t.Fatal(err)
	}
	var ours map[string]any
	if err := json.Unmarshal(rejectedEntry("a@example.com"), &ours); err != nil {
		t.Fatal(err)
	}
	for k := range docs[0] {
		if _, ok := ours[k]; !ok {
			t.Errorf("made-up entry lacks member %q", k)
		}
	}
}

func seeds(f *testing.F) {
	for _, name := range []string{"docs_send.json", "docs_send_template.json", "send_three_recipients.json", "docs_send_raw.json", "send_raw_three_recipients.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0b101))
	}
	f.Add([]byte(`{"message":{"to":[{"email":"a@x.com"},{"email":"a@x.com"},{"email":"B <b@x.com>"}],"merge_vars":[{"rcpt":"a@x.com"},{"rcpt":"b@x.com"}]}}`), uint8(0b010))
	f.Add([]byte(`{"message":{"to":[]}}`), uint8(1))
	f.Add([]byte(`{"to":["a@x.com","A <a@x.com>","b@x.com"],"raw_message":"To: a@x.com\r\n\r\nhi"}`), uint8(0b100))
	f.Add([]byte(`{"raw_message":"To: a@x.com\r\n\r\nhi","to":[]}`), uint8(1))
}

// fuzzPaths are the send calls every fuzz input is tried on: the message.to[] shape and the
// send-raw to[] shape.
var fuzzPaths = []string{"/api/1.0/messages/send.json", "/api/1.0/messages/send-raw.json"}

func FuzzParseSend(f *testing.F) {
	seeds(f)
	u := newUpstream(f, map[string]any{"tags": map[string]any{"password-resets": "transactional"}})
	f.Fuzz(func(t *testing.T, body []byte, _ uint8) {
		for _, path := range fuzzPaths {
			s, err := u.ParseSend(post(path, body))
			if err != nil {
				if strings.Contains(err.Error(), "@") {
					t.Errorf("%s: error quotes an address: %v", path, err)
				}
				continue
			}
			if s == nil || len(s.Recipients) == 0 {
				t.Fatalf("%s: a send with no recipients and no error", path)
			}
		}
	})
}

func FuzzRewrite(f *testing.F) {
	seeds(f)
	u := newUpstream(f, nil)
	f.Fuzz(func(t *testing.T, body []byte, mask uint8) {
		for _, path := range fuzzPaths {
			fuzzRewriteOne(t, u, post(path, body), mask)
		}
	})
}

// fuzzRewriteOne rewrites one parsed send with the keep flags of mask (at least one kept)
// and checks that the result re-parses to exactly the kept recipients.
func fuzzRewriteOne(t *testing.T, u *Upstream, req *gateway.OutboundRequest, mask uint8) {
	t.Helper()
	s, err := u.ParseSend(req)
	if err != nil || s == nil {
		return
	}
	keep := make([]bool, len(s.Recipients))
	any := false
	for i := range keep {
		keep[i] = mask&(1<<(i%8)) != 0
		any = any || keep[i]
	}
	if !any {
		keep[0] = true
	}
	out, err := u.Rewrite(req, s, keep)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("rewrite is not JSON: %s", out)
	}
	again, err := u.ParseSend(post(req.Path, out))
	if err != nil || again == nil {
		t.Fatalf("rewrite does not parse: %v", err)
	}
	var want []string
	for i, k := range keep {
		if k {
			want = append(want, s.Recipients[i].Address)
		}
	}
	var got []string
	for _, r := range again.Recipients {
		got = append(got, r.Address)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: rewrite recipients %v, want %v", req.Path, got, want)
	}
}

func FuzzEditResponse(f *testing.F) {
	f.Add([]byte(`[{"email":"a@x.com","status":"sent","_id":"1"},{"email":"c@x.com","status":"queued","_id":"3"}]`), uint8(0b101))
	f.Add([]byte(`[]`), uint8(0b001))
	f.Add([]byte(`{"status":"error","code":-1,"name":"Invalid_Key","message":"Invalid API key"}`), uint8(0b011))
	u := newUpstream(f, nil)
	req := post("/api/1.0/messages/send.json", []byte(`{"message":{"to":[{"email":"a@x.com"},{"email":"b@x.com"},{"email":"c@x.com"}]}}`))
	s, err := u.ParseSend(req)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, answer []byte, mask uint8) {
		keep := []bool{mask&1 != 0, mask&2 != 0, mask&4 != 0}
		out, err := u.EditResponse(req, s, keep, 200, http.Header{}, answer)
		if err != nil {
			return
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(out, &entries); err != nil {
			t.Fatalf("edited answer is not a JSON array: %s", out)
		}
		var in []json.RawMessage
		_ = json.Unmarshal(answer, &in)
		dropped := 0
		for _, k := range keep {
			if !k {
				dropped++
			}
		}
		if len(entries) != len(in)+dropped {
			t.Fatalf("%d entries from %d answered and %d dropped", len(entries), len(in), dropped)
		}
	})
}

func BenchmarkParseRewrite(b *testing.B) {
	u := newUpstream(b, nil)
	body := readFile(b, "send_three_recipients.json")
	keep := []bool{true, false, true}
	b.ReportAllocs()
	for b.Loop() {
		req := post("/api/1.0/messages/send.json", body)
		s, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.Rewrite(req, s, keep); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRewriteRaw(b *testing.B) {
	u := newUpstream(b, nil)
	body := readFile(b, "send_raw_three_recipients.json")
	keep := []bool{true, false, true}
	b.ReportAllocs()
	for b.Loop() {
		req := post("/api/1.0/messages/send-raw.json", body)
		s, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.Rewrite(req, s, keep); err != nil {
			b.Fatal(err)
		}
	}
}
