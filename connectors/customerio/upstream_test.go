package customerio

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func newUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "cio", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(path string, body []byte) *gateway.OutboundRequest {
	return &gateway.OutboundRequest{Upstream: "cio", Method: http.MethodPost, Path: path, Body: body}
}

func recipients(s *gateway.Send) []string {
	var out []string
	for _, r := range s.Recipients {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out
}

func TestNewUpstreamOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts map[string]any
		want string // error substring; empty: accepted
	}{
		{"none", nil, ""},
		{"all", map[string]any{"transactional_messages": map[string]any{"44": "transactional", "PwdReset": "service"},
			"broadcasts": map[string]any{"7": "marketing"}, "allow_broadcast": true}, ""},
		{"unknown key", map[string]any{"allow_broadcasts": true}, `unknown option "allow_broadcasts"`},
		{"bad category", map[string]any{"broadcasts": map[string]any{"7": "promo"}}, `"broadcasts"`},
		{"wrong type", map[string]any{"allow_broadcast": "yes"}, `"allow_broadcast"`},
		{"names differing only in case", map[string]any{"transactional_messages": map[string]any{"reset": "service", "RESET": "marketing"}}, "mapped twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUpstream(gateway.UpstreamConfig{Name: "cio", Kind: Kind, Options: tt.opts})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}

func TestParseSend(t *testing.T) {
	u := newUpstream(t, map[string]any{
		"transactional_messages": map[string]any{"44": "transactional", "PwdReset": "service"},
		"broadcasts":             map[string]any{"12": "survey"},
	})
	tests := []struct {
		name, path string
		body       []byte
		want       []string
		channel    gateway.Channel
		category   gateway.Category
	}{
		{"documented email", "/v1/send/email", readTestdata(t, "email_docs.json"),
			[]string{"email:cool.person@example.com", "email:bcc@example.com"}, gateway.ChannelEmail, gateway.CategoryTransactional},
		{"display name", "/v1/send/email", readTestdata(t, "email_display_name.json"),
			[]string{"email:sarah@example.io"}, gateway.ChannelEmail, ""},
		{"comma lists and a trigger name", "/v1/send/email",
			[]byte(`{"transactional_message_id":"pwdreset","to":"\"Doe, Ana\" <ana@example.com>, bob@example.com","cc":"cc@example.com","identifiers":{"id":"7"}}`),
			[]string{"email:ana@example.com", "email:bob@example.com", "email:cc@example.com"}, gateway.ChannelEmail, gateway.CategoryService},
		{"sms to a number", "/v1/send/sms", readTestdata(t, "sms_sdk.json"), []string{"phone:+12345678900"}, gateway.ChannelSMS, ""},
		{"sms without to", "/v1/send/sms", []byte(`{"transactional_message_id":44,"identifiers":{"cio_id":3000001}}`),
			[]string{"customerio:cio_3000001"}, gateway.ChannelSMS, gateway.CategoryTransactional},
		{"whatsapp", "/v1/send/whatsapp", []byte(`{"transactional_message_id":1,"identifiers":{"email":"ana@example.com"},"to":"+34600111222"}`),
			[]string{"phone:+34600111222"}, gateway.ChannelWhatsApp, ""},
		{"push goes to the identified person", "/v1/send/push", readTestdata(t, "push_sdk.json"),
			[]string{"customerio:customer_1"}, gateway.ChannelPush, ""},
		{"trigger ids", "/v1/campaigns/12/triggers", readTestdata(t, "trigger_ids.json"),
			[]string{"customerio:c1", "customerio:c2"}, "", gateway.CategorySurvey},
		{"trigger emails", "/v1/campaigns/5/triggers", readTestdata(t, "trigger_emails.json"),
			[]string{"email:a@example.com", "email:b@example.com"}, "", ""},
		{"trigger per_user_data", "/v1/campaigns/5/triggers", readTestdata(t, "trigger_per_user_data.json"),
			[]string{"customerio:wiley_coyote", "email:road@runner.net"}, "", ""},
		{"trigger mixed, numeric id", "/v1/campaigns/5/triggers",
			[]byte(`{"ids":[17,"x"],"emails":["a@example.com"],"per_user_data":[{"email":"b@example.com","data":{}}]}`),
			[]string{"customerio:17", "customerio:x", "email:a@example.com", "email:b@example.com"}, "", ""},
		{"an empty list beside a full one", "/v1/campaigns/5/triggers", []byte(`{"ids":[],"emails":["a@example.com"]}`),
			[]string{"email:a@example.com"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := u.ParseSend(post(tt.path, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if s == nil {
				t.Fatal("not a send")
			}
			if got := recipients(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("recipients %v, want %v", got, tt.want)
			}
			if s.Channel != tt.channel || s.Category != tt.category {
				t.Errorf("channel %q category %q, want %q %q", s.Channel, s.Category, tt.channel, tt.category)
			}
		})
	}
}

func TestParseSendNotSends(t *testing.T) {
	u := newUpstream(t, nil)
	for _, r := range []*gateway.OutboundRequest{
		{Method: http.MethodGet, Path: "/v1/send/email"},
		{Method: http.MethodPost, Path: "/v1/send/email/"},
		{Method: http.MethodGet, Path: "/v1/campaigns/5/triggers"},
		{Method: http.MethodGet, Path: "/v1/campaigns/5/triggers/3"},
		{Method: http.MethodPost, Path: "/v1/campaigns//triggers"},
		{Method: http.MethodPost, Path: "/v1/customers/search", Body: []byte(`{}`)},
		{Method: http.MethodGet, Path: "/v1/newsletters/3"},
	} {
		s, err := u.ParseSend(r)
		if s != nil || err != nil {
			t.Errorf("%s %s: %v, %v; want not a send", r.Method, r.Path, s, err)
		}
	}
}

func TestParseSendErrors(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name, path, body, want string
	}{
		{"not json", "/v1/send/email", `{"to":`, "not valid JSON"},
		{"empty body", "/v1/send/email", ` `, "empty body"},
		{"array body", "/v1/send/email", `[]`, "not a JSON object"},
		{"email without to", "/v1/send/email", `{"identifiers":{"id":"1"},"bcc":"b@example.com"}`, "no recipient in to"},
		{"email to empty", "/v1/send/email", `{"to":"","identifiers":{"id":"1"}}`, "no recipient in to"},
		{"email bad address", "/v1/send/email", `{"to":"ana@example.com, nobody"}`, "to: address 2"},
		{"email to twice", "/v1/send/email", `{"to":"a@example.com","to":"b@example.com"}`, "more than once"},
		{"email to number", "/v1/send/email", `{"to":5}`, "to is not a string"},
		{"sms two numbers", "/v1/send/sms", `{"to":"+34600111222,+34600111333"}`, "several numbers"},
		{"push without identifiers", "/v1/send/push", `{"to":"all"}`, "identifiers is missing"},
		{"two identifiers", "/v1/send/push", `{"identifiers":{"id":"1","email":"a@example.com"}}`, "more than one"},
		{"empty identifiers", "/v1/send/sms", `{"identifiers":{}}`, "names nobody"},
		{"default audience", "/v1/campaigns/5/triggers", `{}`, "the broadcast's own audience"},
		{"emptied lists only", "/v1/campaigns/5/triggers", `{"ids":[],"emails":null,"data":{"x":1}}`, "the broadcast's own audience"},
		{"filter", "/v1/campaigns/5/triggers", string(readTestdata(t, "trigger_recipients_filter.json")), "a recipients filter"},
		{"data file", "/v1/campaigns/5/triggers", string(readTestdata(t, "trigger_data_file.json")), "a data_file_url"},
		{"ids beside a filter", "/v1/campaigns/5/triggers", `{"ids":["1"],"recipients":{"segment":{"id":3}}}`, "a recipients filter"},
		{"ids twice", "/v1/campaigns/5/triggers", `{"ids":["1"],"ids":[]}`, "more than once"},
		{"ids not array", "/v1/campaigns/5/triggers", `{"ids":"1"}`, "ids is not an array"},
		{"bad email in list", "/v1/campaigns/5/triggers", `{"emails":["x"]}`, "emails[0]"},
		{"per_user_data both", "/v1/campaigns/5/triggers", `{"per_user_data":[{"id":"1","email":"a@example.com"}]}`, "both id and email"},
		{"per_user_data neither", "/v1/campaigns/5/triggers", `{"per_user_data":[{"data":{}}]}`, "neither id nor email"},
		{"newsletter", "/v1/newsletters/3/send", `{}`, "newsletter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := u.ParseSend(post(tt.path, []byte(tt.body)))
			if err == nil {
				t.Fatalf("accepted: %v", recipients(s))
			}
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want code invalid mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "@example.com") {
				t.Errorf("error quotes an address: %v", err)
			}
		})
	}
}

func TestAllowBroadcast(t *testing.T) {
	u := newUpstream(t, map[string]any{"allow_broadcast": true})
	for _, name := range []string{"trigger_default.json", "trigger_recipients_filter.json", "trigger_data_file.json"} {
		s, err := u.ParseSend(post("/v1/campaigns/5/triggers", readTestdata(t, name)))
		if s != nil || err != nil {
			t.Errorf("%s: %v, %v; want forwarded unchecked", name, s, err)
		}
	}
	if s, err := u.ParseSend(post("/v1/newsletters/3/schedule", []byte(`{"scheduled_at":1719849600}`))); s != nil || err != nil {
		t.Errorf("newsletter: %v, %v", s, err)
	}
	// Explicit recipients are still checked.
	s, err := u.ParseSend(post("/v1/campaigns/5/triggers", []byte(`{"ids":["1"],"data_file_url":"s3://b/f"}`)))
	if err != nil || s == nil || len(s.Recipients) != 1 {
		t.Fatalf("ids beside a data file: %v, %v", s, err)
	}
}

func TestRewrite(t *testing.T) {
	u := newUpstream(t, nil)
	mixed := `{"data":{"n":1.50},"ids":["1", "2"],"emails":["a@example.com"],"per_user_data":[{"id":"3","data":{"v":"x"}},{"email":"b@example.com","data":{"v":"y"}}],"id_ignore_missing":true}`
	tests := []struct {
		name, path, body string
		keep             []bool
		want             string
	}{
		{"trigger: one id", "/v1/campaigns/5/triggers", mixed, []bool{true, false, true, true, true},
			`{"data":{"n":1.50},"ids":["1"],"emails":["a@example.com"],"per_user_data":[{"id":"3","data":{"v":"x"}},{"email":"b@example.com","data":{"v":"y"}}],"id_ignore_missing":true}`},
		{"trigger: emptied lists go as keys", "/v1/campaigns/5/triggers", mixed, []bool{false, false, false, true, false},
			`{"data":{"n":1.50},"per_user_data":[{"id":"3","data":{"v":"x"}}],"id_ignore_missing":true}`},
		{"trigger: per_user_data entry with its data", "/v1/campaigns/5/triggers", mixed, []bool{true, true, true, false, true},
			`{"data":{"n":1.50},"ids":["1", "2"],"emails":["a@example.com"],"per_user_data":[{"email":"b@example.com","data":{"v":"y"}}],"id_ignore_missing":true}`},
		{"trigger: documented per_user_data", "/v1/campaigns/5/triggers", string(readTestdata(t, "trigger_per_user_data.json")), []bool{false, true},
			"{\n  \"per_user_data\": [\n    {\n      \"email\": \"road@runner.net\",\n      \"data\": {\n        \"voucher_code\": \"cYm6XJ\"\n      }\n    }\n  ],\n  \"data\": {\n    \"headline\": \"Roadrunner spotted in Albuquerque!\",\n    \"date\": 1511315635,\n    \"text\": \"We received reports of a roadrunner in your immediate area! Head to your dashboard to view more information!\"\n  }\n}\n"},
		{"email: bcc dropped", "/v1/send/email", `{"to":"a@example.com","bcc":"b@example.com","subject":"x"}`, []bool{true, false},
			`{"to":"a@example.com","subject":"x"}`},
		{"email: one of a list", "/v1/send/email", `{"to":"\"Doe, Ana\" <ana@example.com>,bob@example.com, c@example.com","cc":"d@example.com, e@example.com"}`,
			[]bool{true, false, true, false, true},
			`{"to":"\"Doe, Ana\" <ana@example.com>, c@example.com","cc":"e@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, []byte(tt.body))
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
			again, err := u.ParseSend(post(tt.path, out))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, r := range recipients(s) {
				if tt.keep[i] {
					want = append(want, r)
				}
			}
			if got := recipients(again); !reflect.DeepEqual(got, want) {
				t.Errorf("re-parse %v, want %v", got, want)
			}
		})
	}
}

func TestRewriteRefusals(t *testing.T) {
	u := newUpstream(t, nil)
	req := post("/v1/send/email", []byte(`{"to":"a@example.com","bcc":"archive@example.com"}`))
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	keep := []bool{false, true}
	if _, err := u.Rewrite(req, s, keep); !errors.Is(err, gateway.ErrNothingToSend) || keep[1] {
		t.Errorf("only the copy kept: %v (keep %v), want ErrNothingToSend and the copy unkept", err, keep)
	}
	if _, err := u.Rewrite(req, s, []bool{false, false}); err == nil {
		t.Error("nothing kept: rewritten")
	}
	if _, err := u.Rewrite(req, s, []bool{true}); err == nil {
		t.Error("wrong number of keep flags accepted")
	}
	if _, err := u.Rewrite(req, &gateway.Send{Recipients: s.Recipients}, []bool{true, false}); err == nil {
		t.Error("a send without state rewritten")
	}
	tr := post("/v1/campaigns/5/triggers", readTestdata(t, "trigger_ids.json"))
	ts, _ := u.ParseSend(tr)
	if out, err := u.Rewrite(tr, ts, []bool{true, true}); err != nil || string(out) != string(tr.Body) {
		t.Errorf("everything kept: %s, %v", out, err)
	}
}

func TestDroppedResponse(t *testing.T) {
	u := newUpstream(t, nil)
	now := time.Unix(1500111111, 0)
	u.now = func() time.Time { return now }
	tests := []struct {
		name, path, body string
		asError          bool
		status           int
		check            func(t *testing.T, v map[string]any)
	}{
		{"email success", "/v1/send/email", `{"to":"a@example.com"}`, false, 200, func(t *testing.T, v map[string]any) {
			if id, _ := v["delivery_id"].(string); id == "" || v["queued_at"] != float64(1500111111) {
				t.Errorf("body %v", v)
			}
		}},
		{"sms refused", "/v1/send/sms", `{"to":"+34600111222"}`, true, 400, func(t *testing.T, v map[string]any) {
			meta, _ := v["meta"].(map[string]any)
			if msg, _ := meta["error"].(string); !strings.Contains(msg, "withheld by hush") {
				t.Errorf("body %v", v)
			}
		}},
		{"trigger success", "/v1/campaigns/5/triggers", `{"ids":["1"]}`, false, 200, func(t *testing.T, v map[string]any) {
			if id, _ := v["id"].(float64); id < 1 || id != float64(int64(id)) {
				t.Errorf("body %v", v)
			}
		}},
		{"trigger refused", "/v1/campaigns/5/triggers", `{"ids":["1"]}`, true, 422, func(t *testing.T, v map[string]any) {
			errs, _ := v["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["status"] != "422" {
				t.Errorf("body %v", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, []byte(tt.body))
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			status, h, body := u.DroppedResponse(req, s, tt.asError)
			if status != tt.status || h.Get("Content-Type") != "application/json" {
				t.Errorf("status %d content type %q", status, h.Get("Content-Type"))
			}
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			tt.check(t, v)
			if strings.Contains(string(body), "@example.com") || strings.Contains(string(body), "600111222") {
				t.Errorf("answer names a recipient: %s", body)
			}
		})
	}
}

func TestSplitAddresses(t *testing.T) {
	for in, want := range map[string][]string{
		"a@x.com":                          {"a@x.com"},
		" a@x.com , b@x.com ,":             {"a@x.com", "b@x.com"},
		`"Doe, Ana" <a@x.com>, b@x.com`:    {`"Doe, Ana" <a@x.com>`, "b@x.com"},
		`"A \", B" <a@x.com>`:              {`"A \", B" <a@x.com>`},
		"a@x.com (Ana, the boss), b@x.com": {"a@x.com (Ana, the boss)", "b@x.com"},
		"":                                 nil,
	} {
		if got := splitAddresses(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitAddresses(%q) = %q, want %q", in, got, want)
		}
	}
}

var fuzzPaths = []string{"/v1/campaigns/5/triggers", "/v1/send/email", "/v1/send/sms", "/v1/send/push", "/v1/send/whatsapp"}

func seeds(f *testing.F) {
	for _, name := range []string{"trigger_ids.json", "trigger_emails.json", "trigger_per_user_data.json", "trigger_default.json", "trigger_data_file.json", "trigger_recipients_filter.json"} {
		f.Add(0, readTestdata(f, name), uint64(0b01))
	}
	f.Add(0, []byte(`{"ids":["1","2"],"emails":["a@x.com"],"per_user_data":[{"id":"3"},{"email":"b@x.com"}]}`), uint64(0b10100))
	f.Add(0, []byte(`{"ids":[],"emails":["a@x.com","c@x.com"]}`), uint64(0b10))
	f.Add(1, readTestdata(f, "email_docs.json"), uint64(0b01))
	f.Add(1, readTestdata(f, "email_display_name.json"), uint64(1))
	f.Add(1, []byte(`{"to":"a@x.com, \"B, b\" <b@x.com>","cc":"c@x.com","bcc":"d@x.com,e@x.com"}`), uint64(0b10101))
	f.Add(2, readTestdata(f, "sms_sdk.json"), uint64(1))
	f.Add(3, readTestdata(f, "push_sdk.json"), uint64(1))
}

func FuzzParseSend(f *testing.F) {
	u := newUpstream(f, nil)
	seeds(f)
	f.Fuzz(func(t *testing.T, which int, body []byte, _ uint64) {
		p := fuzzPaths[uint(which)%uint(len(fuzzPaths))]
		s, err := u.ParseSend(post(p, body))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if s == nil || len(s.Recipients) == 0 {
			t.Fatal("a send with no recipient was accepted")
		}
	})
}

func FuzzRewrite(f *testing.F) {
	u := newUpstream(f, nil)
	seeds(f)
	f.Fuzz(func(t *testing.T, which int, body []byte, bits uint64) {
		p := fuzzPaths[uint(which)%uint(len(fuzzPaths))]
		req := post(p, body)
		s, err := u.ParseSend(req)
		if err != nil || s == nil {
			return
		}
		keep := make([]bool, len(s.Recipients))
		kept := 0
		for i := range keep {
			keep[i] = bits&(1<<(uint(i)%64)) != 0
			if keep[i] {
				kept++
			}
		}
		if kept == 0 {
			keep[len(keep)-1] = true // Rewrite is only called with at least one recipient kept
		}
		out, err := u.Rewrite(req, s, keep)
		if err != nil {
			if errors.Is(err, gateway.ErrNothingToSend) || len(keep) == 1 {
				return // only copies kept, or a one-person message: refused, nothing forwarded
			}
			t.Fatalf("Rewrite: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("Rewrite output is not JSON: %s", out)
		}
		// The output must still name its people explicitly: a trigger whose lists were
		// emptied would go to the broadcast's whole audience, and re-parse refuses it.
		again, err := u.ParseSend(post(p, out))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		var want []string
		for i, r := range recipients(s) {
			if keep[i] {
				want = append(want, r)
			}
		}
		if got := recipients(again); !reflect.DeepEqual(got, want) {
			t.Fatalf("re-parse %v, want %v (from %s to %s)", got, want, body, out)
		}
	})
}

func BenchmarkParseAndRewrite(b *testing.B) {
	u := newUpstream(b, nil)
	var sb strings.Builder
	sb.WriteString(`{"data":{"headline":"Spring sale","date":1511315635},"per_user_data":[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"email":"person` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `@example.com","data":{"voucher_code":"FESwYm","first_name":"Hugh"}}`)
	}
	sb.WriteString(`],"email_ignore_missing":true}`)
	req := post("/v1/campaigns/5/triggers", []byte(sb.String()))
	b.SetBytes(int64(len(req.Body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		keep := make([]bool, len(s.Recipients))
		for j := range keep {
			keep[j] = j%10 != 0
		}
		if _, err := u.Rewrite(req, s, keep); err != nil {
			b.Fatal(err)
		}
	}
}
