package delighted

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

func newTestUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "delighted", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func outboundFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "outbound", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func peopleCallRequest(path, contentType string, body []byte) *gateway.OutboundRequest {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &gateway.OutboundRequest{Upstream: "delighted", Method: http.MethodPost, Path: path, Header: h, Body: body}
}

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func TestUpstreamParseSend(t *testing.T) {
	u := newTestUpstream(t, nil)
	tests := []struct {
		name    string
		method  string
		path    string
		ct      string
		body    string
		want    string // kind:address; "" not a send
		channel gateway.Channel
		err     string
	}{
		{"documented JSON", "POST", "/v1/people.json", ctJSON, string(outboundFile(t, "docs_people.json")), "email:jony@appleseed.com", gateway.ChannelEmail, ""},
		{"SDK path without suffix", "POST", "/v1/people", ctJSON, string(outboundFile(t, "sdk_people_full.json")), "email:foo+test4@delighted.com", gateway.ChannelEmail, ""},
		{"curl -d form", "POST", "/v1/people.json", ctForm, string(outboundFile(t, "people_form_curl.txt")), "email:jony@appleseed.com", gateway.ChannelEmail, ""},
		{"encoded form", "POST", "/v1/people.json", ctForm, string(outboundFile(t, "people_form_encoded.txt")), "email:jony@appleseed.com", gateway.ChannelEmail, ""},
		{"form without content type", "POST", "/v1/people.json", "", "email=a%40x.com", "email:a@x.com", gateway.ChannelEmail, ""},
		{"JSON without content type", "POST", "/v1/people.json", "", ` {"email":"a@x.com"}`, "email:a@x.com", gateway.ChannelEmail, ""},
		{"sms JSON", "POST", "/v1/people.json", ctJSON, string(outboundFile(t, "people_sms.json")), "phone:+17132746524", gateway.ChannelSMS, ""},
		{"sms form", "POST", "/v1/people.json", ctForm, string(outboundFile(t, "people_sms_form.txt")), "phone:+17132746524", gateway.ChannelSMS, ""},
		{"channel email explicit", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","phone_number":"+1","channel":"email"}`, "email:a@x.com", gateway.ChannelEmail, ""},
		{"display name reduced", "POST", "/v1/people.json", ctJSON, `{"email":"Ana <ana@x.com>"}`, "email:ana@x.com", gateway.ChannelEmail, ""},
		{"null name and phone ignored", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","phone_number":null}`, "email:a@x.com", gateway.ChannelEmail, ""},
		{"send true is a send", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","send":true}`, "email:a@x.com", gateway.ChannelEmail, ""},
		{"not a send: send false", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","send":false}`, "", "", ""},
		{"not a send: send \"false\"", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","send":"false"}`, "", "", ""},
		{"not a send: form send=false", "POST", "/v1/people.json", ctForm, `email=a%40x.com&send=false`, "", "", ""},
		{"not a send: listing", "GET", "/v1/people.json", "", ``, "", "", ""},
		{"not a send: unsubscribes", "POST", "/v1/unsubscribes.json", ctJSON, `{"person_email":"a@x.com"}`, "", "", ""},
		{"not a send: survey responses", "POST", "/v1/survey_responses.json", ctJSON, `{"person":"1","score":10}`, "", "", ""},
		{"not a send: trailing slash", "POST", "/v1/people.json/", ctJSON, `{"email":"a@x.com"}`, "", "", ""},
		{"invalid JSON", "POST", "/v1/people.json", ctJSON, `{"email":`, "", "", "not valid JSON"},
		{"JSON array", "POST", "/v1/people.json", ctJSON, `[{"email":"a@x.com"}]`, "", "", "not a JSON object"},
		{"email not a string", "POST", "/v1/people.json", ctJSON, `{"email":["a@x.com"]}`, "", "", "email is not a string"},
		{"no email", "POST", "/v1/people.json", ctJSON, `{"name":"Ana"}`, "", "", "email is missing"},
		{"phone only, no channel", "POST", "/v1/people.json", ctJSON, `{"phone_number":"+17132746524"}`, "", "", "email is missing"},
		{"sms without phone", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","channel":"sms"}`, "", "", "phone_number is missing"},
		{"unknown channel", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com","channel":"whatsapp"}`, "", "", "neither email nor sms"},
		{"bad form escape", "POST", "/v1/people.json", ctForm, `email=%zz`, "", "", "not a valid form"},
		{"two addresses", "POST", "/v1/people.json", ctJSON, `{"email":"a@x.com, b@x.com"}`, "", "", "not one email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := peopleCallRequest(tt.path, tt.ct, []byte(tt.body))
			req.Method = tt.method
			s, err := u.ParseSend(req)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if ge, ok := err.(*gateway.Error); !ok || ge.Code != gateway.CodeInvalid {
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
			if tt.want == "" {
				if s != nil {
					t.Fatalf("not a send, got %+v", s.Recipients)
				}
				return
			}
			if s == nil || len(s.Recipients) != 1 {
				t.Fatalf("send = %+v", s)
			}
			if got := s.Recipients[0].Kind + ":" + s.Recipients[0].Address; got != tt.want {
				t.Errorf("recipient %s, want %s", got, tt.want)
			}
			if s.Channel != tt.channel || s.Category != gateway.CategorySurvey {
				t.Errorf("channel %q category %q", s.Channel, s.Category)
			}
		})
	}
}

func TestNewUpstreamOptions(t *testing.T) {
	u := newTestUpstream(t, map[string]any{"category": "service", "on_silenced": "answer"})
	s, err := u.ParseSend(peopleCallRequest("/v1/people.json", ctJSON, []byte(`{"email":"a@x.com"}`)))
	if err != nil || s.Category != gateway.CategoryService {
		t.Fatalf("category option: %+v %v", s, err)
	}
	if _, ok, _ := u.ForwardDropped(nil, s); ok {
		t.Error("on_silenced: answer still forwards")
	}
	for _, tt := range []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"on_silenced": "drop"}, `"on_silenced"`},
		{map[string]any{"category": "newsletter"}, `unknown category`},
		{map[string]any{"channel": "sms"}, `unknown option "channel"`},
		{map[string]any{"on_silenced": true}, `"on_silenced"`},
	} {
		_, err := NewUpstream(gateway.UpstreamConfig{Name: "d", Kind: Kind, Options: tt.opts})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.opts, err, tt.want)
		}
	}
}

// TestSendFalse: the silenced person's call, as forwarded, differs from the original only
// by send=false.
func TestSendFalse(t *testing.T) {
	u := newTestUpstream(t, nil)
	tests := []struct {
		name string
		ct   string
		body string
		want string
	}{
		{"documented JSON: member added at the end", ctJSON, string(outboundFile(t, "docs_people.json")),
			"{\n    \"email\": \"jony@appleseed.com\",\n    \"properties\": { \"Purchase Experience\": \"Mobile App\", \"State\": \"CA\" },\"send\":false\n}\n"},
		{"JSON send true replaced in place", ctJSON, `{"email":"a@x.com","send":true,"delay":60}`, `{"email":"a@x.com","send":false,"delay":60}`},
		{"JSON numbers and order kept", ctJSON, string(outboundFile(t, "sdk_people_full.json")),
			`{"email":"foo+test4@delighted.com","name":"Joe Bloggs","properties":{"customer_id":123,"country":"USA","question_product_name":"The London Trench"},"delay":30,"send":false}`},
		{"curl form: appended", ctForm, string(outboundFile(t, "people_form_curl.txt")),
			"email=jony@appleseed.com&properties[Purchase Experience]=Mobile App&properties[State]=CA&send=false"},
		{"form send pair edited only", ctForm, string(outboundFile(t, "people_sms_form.txt")),
			"phone_number=%2B17132746524&channel=sms&send=false&delay=60"},
		{"form with encoded send name", ctForm, "email=a%40x.com&%73end=1", "email=a%40x.com&%73end=false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := peopleCallRequest("/v1/people.json", tt.ct, []byte(tt.body))
			s, err := u.ParseSend(req)
			if err != nil || s == nil {
				t.Fatalf("parse: %v %v", s, err)
			}
			fwd, ok, err := u.ForwardDropped(req, s)
			if err != nil || !ok {
				t.Fatalf("ForwardDropped: %v %v", ok, err)
			}
			if string(fwd) != tt.want {
				t.Errorf("got  %q\nwant %q", fwd, tt.want)
			}
			rw, err := u.Rewrite(req, s, []bool{false})
			if err != nil || !bytes.Equal(rw, fwd) {
				t.Errorf("Rewrite(drop) = %q, %v; want the ForwardDropped body", rw, err)
			}
			// Re-read, the forwarded call schedules no survey.
			if again, err := u.ParseSend(peopleCallRequest("/v1/people.json", tt.ct, fwd)); err != nil || again != nil {
				t.Errorf("forwarded call is still a send: %+v %v", again, err)
			}
			kept, err := u.Rewrite(req, s, []bool{true})
			if err != nil || string(kept) != tt.body {
				t.Errorf("Rewrite(keep) changed the body: %q %v", kept, err)
			}
		})
	}
	if _, err := u.Rewrite(nil, &gateway.Send{Recipients: []gateway.Recipient{{}}}, []bool{true}); err == nil {
		t.Error("no error for a send parsed elsewhere")
	}
}

var personID = regexp.MustCompile(`^[1-9][0-9]{9}$`)

func TestUpstreamDroppedResponse(t *testing.T) {
	u := newTestUpstream(t, map[string]any{"on_silenced": "answer"})
	var docs map[string]any
	if err := json.Unmarshal(outboundFile(t, "docs_people_response.json"), &docs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		ct    string
		body  string
		email any
		phone any // nil: absent
		props map[string]any
		ename any
		field string
	}{
		{"documented JSON", ctJSON, string(outboundFile(t, "docs_people.json")), "jony@appleseed.com", nil,
			map[string]any{"Purchase Experience": "Mobile App", "State": "CA"}, nil, "email"},
		{"SDK JSON with name", ctJSON, string(outboundFile(t, "sdk_people_full.json")), "foo+test4@delighted.com", nil,
			map[string]any{"customer_id": 123.0, "country": "USA", "question_product_name": "The London Trench"}, "Joe Bloggs", "email"},
		{"curl form", ctForm, string(outboundFile(t, "people_form_curl.txt")), "jony@appleseed.com", nil,
			map[string]any{"Purchase Experience": "Mobile App", "State": "CA"}, nil, "email"},
		{"sms", ctJSON, string(outboundFile(t, "people_sms.json")), nil, "+17132746524", map[string]any{"customer_id": 123.0}, nil, "phone_number"},
		{"sms form", ctForm, string(outboundFile(t, "people_sms_form.txt")), nil, "+17132746524", map[string]any{}, nil, "phone_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := peopleCallRequest("/v1/people.json", tt.ct, []byte(tt.body))
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			status, h, body := u.DroppedResponse(req, s, false)
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Fatalf("success: %d %v %s %v", status, h, body, err)
			}
			for k := range docs {
				if _, ok := got[k]; !ok {
					t.Errorf("answer lacks documented member %q: %s", k, body)
				}
			}
			id, _ := got["id"].(string)
			if !personID.MatchString(id) || got["email"] != tt.email || got["name"] != tt.ename || got["survey_scheduled_at"] != nil {
				t.Errorf("answer %s", body)
			}
			if p, ok := got["phone_number"]; (tt.phone == nil) == ok || p != tt.phone && tt.phone != nil {
				t.Errorf("phone_number in %s, want %v", body, tt.phone)
			}
			pj, _ := json.Marshal(got["properties"])
			wj, _ := json.Marshal(tt.props)
			if !bytes.Equal(pj, wj) {
				t.Errorf("properties %s, want %s", pj, wj)
			}

			status, _, body = u.DroppedResponse(req, s, true)
			var e struct {
				Status  int
				Message string
				Errors  map[string][]string
			}
			if err := json.Unmarshal(body, &e); err != nil || status != http.StatusUnprocessableEntity || e.Status != 422 ||
				e.Message != "Unprocessable Entity" || len(e.Errors[tt.field]) != 1 {
				t.Errorf("refusal: %d %s", status, body)
			}
			if bytes.Contains(body, []byte("@")) || bytes.Contains(body, []byte("+1713")) {
				t.Errorf("refusal names the person: %s", body)
			}
		})
	}
	// The refusal has the members of Delighted's documented 422.
	var doc, ours map[string]any
	_ = json.Unmarshal(outboundFile(t, "docs_error_422.json"), &doc)
	_, _, body := u.DroppedResponse(nil, &gateway.Send{}, true)
	if err := json.Unmarshal(body, &ours); err != nil {
		t.Fatal(err)
	}
	for k := range doc {
		if _, ok := ours[k]; !ok {
			t.Errorf("refusal lacks documented member %q", k)
		}
	}
}

func outboundSeeds(f *testing.F) {
	for _, name := range []string{"docs_people.json", "sdk_people_full.json", "people_sms.json", "people_form_curl.txt", "people_form_encoded.txt", "people_sms_form.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "outbound", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".json"))
	}
	f.Add([]byte(`{"email":"a@x.com","send":"false","send":true}`), true)
	f.Add([]byte(`send=1&send=2&email=a%40x.com`), false)
}

func FuzzParseSend(f *testing.F) {
	outboundSeeds(f)
	u := newTestUpstream(f, nil)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := ctForm
		if asJSON {
			ct = ctJSON
		}
		s, err := u.ParseSend(peopleCallRequest("/v1/people.json", ct, body))
		if err != nil {
			if strings.Contains(err.Error(), "@") {
				t.Errorf("error quotes an address: %v", err)
			}
			return
		}
		if s != nil && (len(s.Recipients) != 1 || s.Recipients[0].Address == "") {
			t.Fatalf("send with recipients %+v", s.Recipients)
		}
	})
}

// FuzzRewrite: kept, the call is unchanged; dropped, it re-reads as no send at all, and
// its answer in Delighted's place is JSON.
func FuzzRewrite(f *testing.F) {
	outboundSeeds(f)
	u := newTestUpstream(f, nil)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := ctForm
		if asJSON {
			ct = ctJSON
		}
		req := peopleCallRequest("/v1/people.json", ct, body)
		s, err := u.ParseSend(req)
		if err != nil || s == nil {
			return
		}
		kept, err := u.Rewrite(req, s, []bool{true})
		if err != nil || !bytes.Equal(kept, body) {
			t.Fatalf("kept call changed: %v", err)
		}
		dropped, err := u.Rewrite(req, s, []bool{false})
		if err != nil {
			t.Fatal(err)
		}
		again, err := u.ParseSend(peopleCallRequest("/v1/people.json", ct, dropped))
		if err != nil || again != nil {
			t.Fatalf("dropped call %q still a send: %+v %v", dropped, again, err)
		}
		for _, asError := range []bool{false, true} {
			if _, _, b := u.DroppedResponse(req, s, asError); !json.Valid(b) {
				t.Fatalf("answer is not JSON: %s", b)
			}
		}
	})
}

func BenchmarkUpstreamParseSendFalse(b *testing.B) {
	u := newTestUpstream(b, nil)
	body := outboundFile(b, "sdk_people_full.json")
	b.ReportAllocs()
	for b.Loop() {
		req := peopleCallRequest("/v1/people.json", ctJSON, body)
		s, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := u.ForwardDropped(req, s); err != nil {
			b.Fatal(err)
		}
	}
}
