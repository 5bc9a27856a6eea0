package twilio

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const testAccount = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

const (
	messagesPath = "/2010-04-01/Accounts/" + testAccount + "/Messages.json"
	callsPath    = "/2010-04-01/Accounts/" + testAccount + "/Calls.json"
)

func newTestUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "twilio", Kind: Kind, URL: "https://api.twilio.com", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	u.now = func() time.Time { return time.Date(2026, 3, 9, 18, 47, 22, 0, time.UTC) }
	return u
}

func readOutbound(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "outbound", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func outboundRequest(method, path string, body []byte) *gateway.OutboundRequest {
	return &gateway.OutboundRequest{
		Upstream: "twilio", Method: method, Path: path, Query: url.Values{},
		Header: http.Header{"Content-Type": []string{"application/x-www-form-urlencoded"}},
		Body:   body,
	}
}

func TestParseSendTestdata(t *testing.T) {
	u := newTestUpstream(t, map[string]any{OptionMessagingServices: map[string]any{"MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "transactional"}})
	tests := []struct {
		file     string
		path     string
		want     gateway.Recipient
		channel  gateway.Channel
		category gateway.Category
	}{
		{"message_sms_sdk.form", messagesPath, gateway.Recipient{Kind: gateway.KindPhone, Address: "+15558675310"}, gateway.ChannelSMS, ""},
		{"message_sms_unencoded_plus.form", messagesPath, gateway.Recipient{Kind: gateway.KindPhone, Address: "+14159352345"}, gateway.ChannelSMS, ""},
		{"message_mms_curl.form", messagesPath, gateway.Recipient{Kind: gateway.KindPhone, Address: "+13105555555"}, gateway.ChannelSMS, ""},
		{"message_whatsapp.form", messagesPath, gateway.Recipient{Kind: gateway.KindPhone, Address: "+15005550006"}, gateway.ChannelWhatsApp, ""},
		{"message_messaging_service.form", messagesPath, gateway.Recipient{Kind: gateway.KindPhone, Address: "+14155552345"}, gateway.ChannelSMS, gateway.CategoryTransactional},
		{"call_sdk.form", callsPath, gateway.Recipient{Kind: gateway.KindPhone, Address: "+15558675310"}, gateway.ChannelVoice, ""},
		{"call_sip.form", callsPath, gateway.Recipient{Kind: Kind, Address: "sip:kevin@example.com"}, gateway.ChannelVoice, ""},
		{"call_client.form", callsPath, gateway.Recipient{Kind: Kind, Address: "client:joey"}, gateway.ChannelVoice, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			send, err := u.ParseSend(outboundRequest(http.MethodPost, tt.path, readOutbound(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if send == nil || len(send.Recipients) != 1 || send.Recipients[0] != tt.want {
				t.Fatalf("recipients %+v, want [%+v]", send, tt.want)
			}
			if send.Channel != tt.channel || send.Category != tt.category {
				t.Errorf("channel %q category %q, want %q %q", send.Channel, send.Category, tt.channel, tt.category)
			}
			// Every recipient hush finds must be one the proxy can turn into an identity.
			if tt.want.Kind == gateway.KindPhone {
				if _, err := gateway.NormalizePhone(send.Recipients[0].Address, ""); err != nil {
					t.Errorf("recipient is not a phone: %v", err)
				}
			} else if _, err := gateway.VendorIdentity(tt.want.Kind, tt.want.Address); err != nil {
				t.Errorf("recipient is not a vendor identity: %v", err)
			}
		})
	}
}

func TestParseSendRecipients(t *testing.T) {
	u := newTestUpstream(t, nil)
	tests := []struct {
		name    string
		path    string
		to      string
		want    gateway.Recipient
		channel gateway.Channel
	}{
		{"national number", messagesPath, "600 111 222", gateway.Recipient{Kind: gateway.KindPhone, Address: "600 111 222"}, gateway.ChannelSMS},
		{"whatsapp upper-case prefix", messagesPath, "WhatsApp:+34600111222", gateway.Recipient{Kind: gateway.KindPhone, Address: "+34600111222"}, gateway.ChannelWhatsApp},
		{"whatsapp unencoded plus", messagesPath, "whatsapp: 34600111222", gateway.Recipient{Kind: gateway.KindPhone, Address: "+34600111222"}, gateway.ChannelWhatsApp},
		{"whatsapp call", callsPath, "whatsapp:+34600111222", gateway.Recipient{Kind: gateway.KindPhone, Address: "+34600111222"}, gateway.ChannelWhatsApp},
		{"client with parameters", callsPath, "client:alice?lang=es", gateway.Recipient{Kind: Kind, Address: "client:alice"}, gateway.ChannelVoice},
		{"sip with parameters", callsPath, "sip:Alice@Example.com;transport=tls?X-h=1", gateway.Recipient{Kind: Kind, Address: "sip:alice@example.com"}, gateway.ChannelVoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send, err := u.ParseSend(outboundRequest(http.MethodPost, tt.path, []byte("To="+url.QueryEscape(tt.to)+"&From=%2B15017122661")))
			if err != nil {
				t.Fatal(err)
			}
			if send.Recipients[0] != tt.want || send.Channel != tt.channel {
				t.Errorf("got %+v %q, want %+v %q", send.Recipients[0], send.Channel, tt.want, tt.channel)
			}
		})
	}
}

func TestParseSendNotSends(t *testing.T) {
	u := newTestUpstream(t, nil)
	tests := []struct{ method, path string }{
		{http.MethodGet, messagesPath},
		{http.MethodGet, callsPath},
		{http.MethodPost, "/2010-04-01/Accounts/" + testAccount + "/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"},
		{http.MethodPost, "/2010-04-01/Accounts/" + testAccount + "/IncomingPhoneNumbers.json"},
		{http.MethodPost, "/2010-04-01/Accounts/" + testAccount + ".json"},
		{http.MethodPost, "/v1/Services"},
		{http.MethodPost, "/2010-04-01/Accounts//Messages.json"},
		{http.MethodDelete, "/2010-04-01/Accounts/" + testAccount + "/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"},
	}
	for _, tt := range tests {
		send, err := u.ParseSend(outboundRequest(tt.method, tt.path, []byte("To=%2B34600111222")))
		if send != nil || err != nil {
			t.Errorf("%s %s: got %+v, %v; want not a send", tt.method, tt.path, send, err)
		}
	}
}

func TestParseSendErrors(t *testing.T) {
	u := newTestUpstream(t, nil)
	tests := []struct {
		name        string
		path        string
		contentType string
		query       string
		body        string
		want        string // in the message
	}{
		{"no To", messagesPath, "", "", "From=%2B15017122661&Body=hi", "To is required"},
		{"empty To", messagesPath, "", "", "To=&Body=hi", "To is required"},
		{"empty body", callsPath, "", "", "", "To is required"},
		{"two To", messagesPath, "", "", "To=%2B34600111222&To=%2B34600111333", "appears 2 times"},
		{"lower-case to", messagesPath, "", "", "to=%2B34600111222", `"to"`},
		{"To in the query", messagesPath, "", "To=%2B34600111222", "Body=hi", "query string"},
		{"bad escape", messagesPath, "", "", "To=%2B34600111222&Body=%zz", "not a valid form"},
		{"json body", messagesPath, "application/json", "", `{"To": "+34600111222"}`, "form-encoded"},
		{"client on messages", messagesPath, "", "", "To=client%3Aalice", "messages to phone numbers and whatsapp"},
		{"messenger", messagesPath, "", "", "To=messenger%3A123", "messages to phone numbers"},
		{"empty whatsapp", messagesPath, "", "", "To=whatsapp%3A", "WhatsApp number is empty"},
		{"empty client", callsPath, "", "", "To=client%3A", "client name is empty"},
		{"empty sip", callsPath, "", "", "To=sip%3A%3Bx%3D1", "SIP address is empty"},
		{"xml endpoint", "/2010-04-01/Accounts/" + testAccount + "/Messages.xml", "", "", "To=%2B34600111222", "Messages.json and"},
		{"no extension", "/2010-04-01/Accounts/" + testAccount + "/Calls", "", "", "To=%2B34600111222", "Calls.json exactly"},
		{"lower case", "/2010-04-01/Accounts/" + testAccount + "/messages.json", "", "", "To=%2B34600111222", "Messages.json and"},
		{"trailing slash", "/2010-04-01/Accounts/" + testAccount + "/Calls.json/", "", "", "To=%2B34600111222", "Calls.json exactly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := outboundRequest(http.MethodPost, tt.path, []byte(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Query, _ = url.ParseQuery(tt.query)
			send, err := u.ParseSend(req)
			if err == nil {
				t.Fatalf("got %+v, want an error", send)
			}
			var ge *gateway.Error
			if !errors.As(err, &ge) || ge.Code != gateway.CodeInvalid {
				t.Errorf("error %v is not a gateway invalid error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "600111") {
				t.Errorf("error %q quotes the number", err)
			}
		})
	}
}

func TestNewUpstreamOptions(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		want string // error text; empty: valid
	}{
		{"none", nil, ""},
		{"services", map[string]any{"messaging_services": map[string]any{"MG1": "transactional", "MG2": "marketing"}, "sid_cache": 0}, ""},
		{"unknown key", map[string]any{"messaging_service": map[string]any{}}, `unknown option "messaging_service"`},
		{"not an MG sid", map[string]any{"messaging_services": map[string]any{"PN1": "transactional"}}, "not a Messaging Service sid"},
		{"unknown category", map[string]any{"messaging_services": map[string]any{"MG1": "urgent"}}, "urgent"},
		{"negative cache", map[string]any{"sid_cache": -1}, "sid_cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUpstream(gateway.UpstreamConfig{Name: "tw", Kind: Kind, Options: tt.opts})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	u := newTestUpstream(t, nil)
	body := readOutbound(t, "message_sms_sdk.form")
	req := outboundRequest(http.MethodPost, messagesPath, body)
	send, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := u.Rewrite(req, send, []bool{true})
	if err != nil || string(got) != string(body) {
		t.Errorf("keep the one recipient: %q, %v; want the body unchanged", got, err)
	}
	if _, err := u.Rewrite(req, send, []bool{false}); err == nil {
		t.Error("dropping the only recipient: no error")
	}
	if _, err := u.Rewrite(req, send, []bool{true, true}); err == nil {
		t.Error("two keep entries for one recipient: no error")
	}
	signed := outboundRequest(http.MethodPost, messagesPath, body)
	signed.Header.Set(HeaderClientValidation, "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig")
	if _, err := u.Rewrite(signed, send, []bool{true}); err == nil || !strings.Contains(err.Error(), "signed") {
		t.Errorf("signed request: %v, want a refusal", err)
	}
}

// decodeObject reads a JSON object answer into a map.
func decodeObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, body)
	}
	return m
}

func TestDroppedResponse(t *testing.T) {
	u := newTestUpstream(t, nil)
	tests := []struct {
		file   string
		path   string
		prefix string
		want   map[string]any
	}{
		{"message_sms_sdk.form", messagesPath, "SM", map[string]any{
			"account_sid": testAccount, "api_version": "2010-04-01", "body": "Hey there!", "status": "queued",
			"to": "+15558675310", "from": "+15017122661", "messaging_service_sid": nil, "num_segments": "1", "num_media": "0",
			"direction": "outbound-api", "price": nil, "error_code": nil, "date_sent": nil,
			"date_created": "Mon, 09 Mar 2026 18:47:22 +0000", "date_updated": "Mon, 09 Mar 2026 18:47:22 +0000"}},
		{"message_messaging_service.form", messagesPath, "SM", map[string]any{
			"from": nil, "messaging_service_sid": "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "num_segments": "0", "body": "O Slash: Ø, PoP: 💩"}},
		{"message_whatsapp.form", messagesPath, "SM", map[string]any{"to": "whatsapp:+15005550006", "from": "whatsapp:+14155238886", "num_segments": "1"}},
		{"message_mms_curl.form", messagesPath, "SM", map[string]any{"num_media": "1", "body": ""}},
		{"call_sdk.form", callsPath, "CA", map[string]any{
			"account_sid": testAccount, "status": "queued", "to": "+15558675310", "from": "+15017122661",
			"direction": "outbound-api", "duration": nil, "price": nil, "answered_by": nil}},
		{"call_sip.form", callsPath, "CA", map[string]any{"to": "sip:kevin@example.com", "from": "kevin"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			req := outboundRequest(http.MethodPost, tt.path, readOutbound(t, tt.file))
			send, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			status, header, body := u.DroppedResponse(req, send, false)
			if status != http.StatusCreated || header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d, content type %q; want 201 JSON", status, header.Get("Content-Type"))
			}
			m := decodeObject(t, body)
			for k, v := range tt.want {
				if m[k] != v {
					t.Errorf("%s = %#v, want %#v", k, m[k], v)
				}
			}
			sid, _ := m["sid"].(string)
			coll := map[string]string{"SM": "Messages", "CA": "Calls"}[tt.prefix]
			if !strings.HasPrefix(sid, tt.prefix) || len(sid) != 34 || !isMadeUp(map[string]resource{"SM": messages, "CA": calls}[tt.prefix], testAccount, sid) {
				t.Errorf("sid %q is not a made-up %s sid", sid, tt.prefix)
			}
			if m["uri"] != "/2010-04-01/Accounts/"+testAccount+"/"+coll+"/"+sid+".json" {
				t.Errorf("uri %v", m["uri"])
			}
			if _, err := time.Parse(time.RFC1123Z, m["date_created"].(string)); err != nil {
				t.Errorf("date_created: %v", err)
			}
		})
	}
}

func TestDroppedResponseScheduled(t *testing.T) {
	u := newTestUpstream(t, nil)
	req := outboundRequest(http.MethodPost, messagesPath, []byte("MessagingServiceSid=MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&To=%2B34600111222&Body=hi&ScheduleType=fixed&SendAt=2026-12-01T10%3A00%3A00Z"))
	send, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _, body := u.DroppedResponse(req, send, false)
	if m := decodeObject(t, body); m["status"] != "scheduled" {
		t.Errorf("status %v, want scheduled", m["status"])
	}
}

func TestDroppedResponseError(t *testing.T) {
	u := newTestUpstream(t, nil)
	for _, path := range []string{messagesPath, callsPath} {
		req := outboundRequest(http.MethodPost, path, []byte("To=%2B34600111222&From=%2B15017122661"))
		send, err := u.ParseSend(req)
		if err != nil {
			t.Fatal(err)
		}
		status, header, body := u.DroppedResponse(req, send, true)
		want := `{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}`
		if status != http.StatusBadRequest || header.Get("Content-Type") != "application/json" || string(body) != want {
			t.Errorf("%s: %d %v %s", path, status, header, body)
		}
	}
}

func TestDroppedResponseForeignSend(t *testing.T) {
	u := newTestUpstream(t, nil)
	req := outboundRequest(http.MethodPost, messagesPath, []byte("To=%2B34600111222"))
	status, _, body := u.DroppedResponse(req, &gateway.Send{Recipients: []gateway.Recipient{{Kind: gateway.KindPhone, Address: "+34600111222"}}}, false)
	if status != http.StatusBadRequest || decodeObject(t, body)["code"] != float64(ErrorUnsubscribed) {
		t.Errorf("a send this upstream did not parse: %d %s; want the 21610 refusal", status, body)
	}
}

func TestSmsSegments(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1}, // two septets each
		{strings.Repeat("€", 81), 2},
		{strings.Repeat("ł", 70), 1}, // not GSM-7: UCS-2
		{strings.Repeat("ł", 71), 2},
		{strings.Repeat("💩", 35), 1}, // two UTF-16 units each
		{strings.Repeat("💩", 36), 2},
	}
	for _, tt := range tests {
		if got := smsSegments(tt.text); got != tt.want {
			t.Errorf("smsSegments(%.12q… %d runes) = %d, want %d", tt.text, len([]rune(tt.text)), got, tt.want)
		}
	}
}

func TestMadeUpSids(t *testing.T) {
	sid := newSid(messages, testAccount)
	if !isMadeUp(messages, testAccount, sid) {
		t.Fatalf("%s not recognised", sid)
	}
	other := "AC" + strings.Repeat("b", 32)
	flipped := sid[:33] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sid[33])+1)%16])
	for name, bad := range map[string]bool{
		"other account":       isMadeUp(messages, other, sid),
		"as a call":           isMadeUp(calls, testAccount, "CA"+sid[2:]),
		"one digit changed":   isMadeUp(messages, testAccount, flipped),
		"upper case":          isMadeUp(messages, testAccount, "SM"+strings.ToUpper(sid[2:])),
		"twilio's own":        isMadeUp(messages, testAccount, "SM872fb94e3b358913777cdb313f25b46f"),
		"short":               isMadeUp(messages, testAccount, sid[:33]),
		"fixture placeholder": isMadeUp(messages, testAccount, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	} {
		if bad {
			t.Errorf("%s: recognised as made up", name)
		}
	}
	if newSid(messages, testAccount) == sid {
		t.Error("two made-up sids are equal")
	}
}

func TestAnswerLocally(t *testing.T) {
	u := newTestUpstream(t, map[string]any{OptionSidCache: 2})
	drop := func(path, file string) string {
		req := outboundRequest(http.MethodPost, path, readOutbound(t, file))
		send, err := u.ParseSend(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _, body := u.DroppedResponse(req, send, false)
		return decodeObject(t, body)["sid"].(string)
	}
	get := func(method, path string) (int, []byte, bool) {
		status, _, body, ok := u.AnswerLocally(&gateway.OutboundRequest{Method: method, Path: path, Header: http.Header{}})
		return status, body, ok
	}
	base := "/2010-04-01/Accounts/" + testAccount
	sm := drop(messagesPath, "message_sms_sdk.form")
	ca := drop(callsPath, "call_sdk.form")

	status, body, ok := get(http.MethodGet, base+"/Messages/"+sm+".json")
	m := decodeObject(t, body)
	if !ok || status != http.StatusOK || m["sid"] != sm || m["status"] != "canceled" || m["to"] != "+15558675310" || m["from"] != "+15017122661" || m["body"] != "" {
		t.Errorf("fetch remembered message: %d %v %s", status, ok, body)
	}
	status, body, ok = get(http.MethodGet, base+"/Calls/"+ca+".json")
	if m := decodeObject(t, body); !ok || status != http.StatusOK || m["sid"] != ca || m["status"] != "canceled" || m["to"] != "+15558675310" {
		t.Errorf("fetch remembered call: %d %v %s", status, ok, body)
	}

	// A third drop evicts the oldest (cache of 2): the answer is the minimal resource.
	drop(messagesPath, "message_whatsapp.form")
	status, body, ok = get(http.MethodGet, base+"/Messages/"+sm+".json")
	if m := decodeObject(t, body); !ok || status != http.StatusOK || m["sid"] != sm || m["status"] != "canceled" || m["to"] != nil || m["account_sid"] != testAccount {
		t.Errorf("fetch forgotten message: %d %v %s", status, ok, body)
	}
	// A sid made by another replica or before a restart is recognised all the same.
	fresh := newSid(calls, testAccount)
	if status, _, ok := get(http.MethodGet, base+"/Calls/"+fresh+".json"); !ok || status != http.StatusOK {
		t.Errorf("fetch of a sid made elsewhere: %d %v", status, ok)
	}
	if status, body, ok := get(http.MethodDelete, base+"/Calls/"+ca+".json"); !ok || status != http.StatusNoContent || len(body) != 0 {
		t.Errorf("delete: %d %v %q", status, ok, body)
	}

	for _, path := range []string{
		base + "/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json", // Twilio's
		base + "/Calls/" + sm + ".json",                            // a message sid under Calls
		"/2010-04-01/Accounts/AC" + strings.Repeat("b", 32) + "/Messages/" + sm + ".json",
		base + "/Messages/" + sm + "/Media.json",
		base + "/Messages/" + sm,
		base + "/Messages.json",
	} {
		if _, _, ok := get(http.MethodGet, path); ok {
			t.Errorf("GET %s answered locally; want forwarded", path)
		}
	}
	if _, _, ok := get(http.MethodPut, base+"/Messages/"+sm+".json"); ok {
		t.Error("PUT answered locally")
	}
}

// FuzzParseSend: no body makes ParseSend panic; a send it accepts has one recipient and
// its dropped answers are valid JSON.
func FuzzParseSend(f *testing.F) {
	entries, _ := filepath.Glob(filepath.Join("testdata", "outbound", "*.form"))
	for _, e := range entries {
		b, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasPrefix(filepath.Base(e), "call_"))
	}
	f.Add([]byte("To=%2B34600111222&To=x"), false)
	f.Add([]byte("To=whatsapp%3A%20&Body=%FF%FE"), false)
	u := newTestUpstream(f, nil)
	f.Fuzz(func(t *testing.T, body []byte, isCall bool) {
		path := messagesPath
		if isCall {
			path = callsPath
		}
		req := outboundRequest(http.MethodPost, path, body)
		send, err := u.ParseSend(req)
		if err != nil {
			return
		}
		if send == nil || len(send.Recipients) != 1 || send.Recipients[0].Address == "" {
			t.Fatalf("accepted send %+v", send)
		}
		for _, asError := range []bool{false, true} {
			_, _, out := u.DroppedResponse(req, send, asError)
			if !json.Valid(out) {
				t.Fatalf("dropped answer (error %v) is not JSON: %s", asError, out)
			}
		}
	})
}

// FuzzRewrite: a rewrite never changes who receives the send.
func FuzzRewrite(f *testing.F) {
	entries, _ := filepath.Glob(filepath.Join("testdata", "outbound", "*.form"))
	for _, e := range entries {
		b, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	u := newTestUpstream(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := outboundRequest(http.MethodPost, messagesPath, body)
		send, err := u.ParseSend(req)
		if err != nil {
			return
		}
		out, err := u.Rewrite(req, send, []bool{true})
		if err != nil {
			t.Fatal(err)
		}
		again, err := u.ParseSend(outboundRequest(http.MethodPost, messagesPath, out))
		if err != nil || len(again.Recipients) != 1 || again.Recipients[0] != send.Recipients[0] {
			t.Fatalf("re-parse of the rewrite: %+v, %v", again, err)
		}
	})
}

func BenchmarkParseSendRewrite(b *testing.B) {
	u := newTestUpstream(b, map[string]any{OptionMessagingServices: map[string]any{"MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "transactional"}})
	req := outboundRequest(http.MethodPost, messagesPath, readOutbound(b, "message_messaging_service.form"))
	b.ReportAllocs()
	for b.Loop() {
		send, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.Rewrite(req, send, []bool{true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDroppedResponse(b *testing.B) {
	u := newTestUpstream(b, nil)
	req := outboundRequest(http.MethodPost, messagesPath, readOutbound(b, "message_sms_sdk.form"))
	send, err := u.ParseSend(req)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		u.DroppedResponse(req, send, false)
	}
}
