package braze

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/gateway"
)

func newUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "braze", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func post(path, body string) *gateway.OutboundRequest {
	return &gateway.OutboundRequest{Upstream: "braze", Method: "POST", Path: path, Body: []byte(body)}
}

// identities are the send's recipients as the proxy will name them.
func identities(s *gateway.Send) []string {
	var out []string
	for _, r := range s.Recipients {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out
}

// TestDocumentedBodies parses the request bodies of Braze's documentation (testdata/SOURCES.md).
// Several of the documentation's own examples break its rules (a string where an array goes,
// a recipient naming both an external id and an alias): those must be refused, never guessed.
func TestDocumentedBodies(t *testing.T) {
	u := newUpstream(t, map[string]any{"campaigns": map[string]any{"#####": "transactional"}})
	tests := []struct {
		file, path string
		want       []string
		channel    gateway.Channel
		category   gateway.Category
		err        string
	}{
		{"messages_send_email_object.json", "/messages/send", []string{"braze:YOUR_EXTERNAL_USER_ID"}, "email", "", ""},
		{"messages_send_email_attachment.json", "/messages/send", []string{"braze:recipient_user_id"}, "email", "", ""},
		{"campaigns_trigger_dedupe.json", "/campaigns/trigger/send", []string{"braze:userid1", "braze:userid1"}, "", "transactional", ""},
		{"campaigns_trigger_schedule.json", "/campaigns/trigger/schedule/create", []string{"braze:external_user_identifier"}, "", "", ""},
		{"canvas_trigger_send.json", "/canvas/trigger/send", []string{"braze:user_identifier", "braze:alias:example_label:example_name"}, "", "", ""},
		{"err_messages_send_doc.json", "/messages/send", nil, "", "", "broadcast: want true or false"},
		{"err_campaigns_trigger_send_doc.json", "/campaigns/trigger/send", nil, "", "", "recipients[0] names external_user_id and user_alias"},
		{"err_canvas_trigger_send_doc.json", "/canvas/trigger/send", nil, "", "", "recipients[0] names external_user_id and user_alias"},
		{"err_campaigns_trigger_schedule_doc.json", "/campaigns/trigger/schedule/create", nil, "", "", "recipients[0] names external_user_id and user_alias"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := u.ParseSend(post(tt.path, string(body)))
			if tt.err != "" {
				if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSend = %v, want an invalid error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := identities(s); !slices.Equal(got, tt.want) || s.Channel != tt.channel || s.Category != tt.category {
				t.Errorf("ParseSend = %v %q %q, want %v %q %q", got, s.Channel, s.Category, tt.want, tt.channel, tt.category)
			}
		})
	}
}

func TestParseSend(t *testing.T) {
	u := newUpstream(t, map[string]any{
		"campaigns":         map[string]any{"c-receipt": "transactional"},
		"canvases":          map[string]any{"cv-welcome": "service"},
		"campaign_channels": map[string]any{"c-receipt": "email"},
		"canvas_channels":   map[string]any{"cv-welcome": "push"},
	})
	tests := []struct {
		name, method, path, body string
		want                     []string // nil: not a send
		channel                  gateway.Channel
		category                 gateway.Category
		err                      string
	}{
		{"not a send path", "POST", "/users/export/ids", `{"external_ids":["a"]}`, nil, "", "", ""},
		{"GET on a send path", "GET", "/messages/send", ``, nil, "", "", ""},
		{"prefix is not a send", "POST", "/messages/send/x", `{}`, nil, "", "", ""},
		{"ids and aliases", "POST", "/messages/send",
			`{"external_user_ids":["u1"," u2"],"user_aliases":[{"alias_name":"n","alias_label":"l:x%"}],"messages":{"sms":{}}}`,
			[]string{"braze:u1", "braze:u2", "braze:alias:l%3Ax%25:n"}, "sms", "", ""},
		{"trailing slash", "POST", "/messages/send/", `{"external_user_ids":["u1"]}`, []string{"braze:u1"}, "", "", ""},
		{"two push platforms are one channel", "POST", "/messages/send",
			`{"external_user_ids":["u1"],"messages":{"apple_push":{},"android_push":{},"content_card":{}}}`, []string{"braze:u1"}, "push", "", ""},
		{"whatsapp", "POST", "/messages/schedule/create", `{"external_user_ids":["u1"],"messages":{"whats_app":{}}}`, []string{"braze:u1"}, "whatsapp", "", ""},
		{"messages campaign category", "POST", "/messages/send", `{"campaign_id":"c-receipt","external_user_ids":["u1"],"messages":{"email":{}}}`,
			[]string{"braze:u1"}, "email", "transactional", ""},
		{"recipient kinds", "POST", "/campaigns/trigger/send",
			`{"campaign_id":"c-receipt","recipients":[{"email":"Ana <ana@example.com>","prioritization":["unidentified"]},{"braze_id":"5f1"},{"user_alias":{"alias_label":"crm","alias_name":"9"}}]}`,
			[]string{"email:ana@example.com", "braze:braze_id:5f1", "braze:alias:crm:9"}, "email", "transactional", ""},
		{"canvas options", "POST", "/canvas/trigger/schedule/create", `{"canvas_id":"cv-welcome","recipients":[{"external_user_id":"u1"}],"schedule":{"time":"2026-01-01T00:00:00Z"}}`,
			[]string{"braze:u1"}, "push", "service", ""},
		{"audience with recipients checks the recipients", "POST", "/canvas/trigger/send",
			`{"canvas_id":"x","audience":{"AND":[]},"recipients":[{"external_user_id":"u1"}]}`, []string{"braze:u1"}, "", "", ""},

		{"broadcast refused", "POST", "/campaigns/trigger/send", `{"campaign_id":"c","broadcast":true}`, nil, "", "", "broadcast is true"},
		{"broadcast with recipients refused", "POST", "/campaigns/trigger/send", `{"campaign_id":"c","broadcast":true,"recipients":[{"external_user_id":"u1"}]}`, nil, "", "", "broadcast is true"},
		{"segment only refused", "POST", "/messages/send", `{"segment_id":"s","messages":{"email":{}}}`, nil, "", "", "only a segment_id or audience"},
		{"audience only refused", "POST", "/canvas/trigger/send", `{"canvas_id":"c","audience":{"AND":[]}}`, nil, "", "", "only a segment_id or audience"},
		{"no recipients refused", "POST", "/campaigns/trigger/send", `{"campaign_id":"c"}`, nil, "", "", "names no user"},
		{"empty recipients refused", "POST", "/campaigns/trigger/send", `{"campaign_id":"c","recipients":[]}`, nil, "", "", "names no user"},
		{"empty lists refused", "POST", "/messages/send", `{"external_user_ids":[],"user_aliases":[]}`, nil, "", "", "names no user"},
		{"not JSON", "POST", "/messages/send", `{"external_user_ids":`, nil, "", "", "not valid JSON"},
		{"not an object", "POST", "/messages/send", `["u1"]`, nil, "", "", "not a JSON object"},
		{"ids not array", "POST", "/messages/send", `{"external_user_ids":"u1"}`, nil, "", "", "external_user_ids: want an array"},
		{"id not string", "POST", "/messages/send", `{"external_user_ids":[12]}`, nil, "", "", "external_user_ids[0]: want a string"},
		{"empty id", "POST", "/messages/send", `{"external_user_ids":["u1","  "]}`, nil, "", "", "external_user_ids[1] is empty"},
		{"control character", "POST", "/messages/send", `{"external_user_ids":["a\u0007"]}`, nil, "", "", "control character"},
		{"alias without label", "POST", "/messages/send", `{"user_aliases":[{"alias_name":"n"}]}`, nil, "", "", "user_aliases[0]: want exactly one alias_label"},
		{"alias label empty", "POST", "/messages/send", `{"user_aliases":[{"alias_name":"n","alias_label":""}]}`, nil, "", "", "user_aliases[0].alias_label: want a non-empty string"},
		{"recipient naming none", "POST", "/canvas/trigger/send", `{"canvas_id":"c","recipients":[{"context":{}}]}`, nil, "", "", "recipients[0] names none"},
		{"recipient not object", "POST", "/canvas/trigger/send", `{"canvas_id":"c","recipients":["u1"]}`, nil, "", "", "recipients[0]: want a recipient object"},
		{"bad email", "POST", "/campaigns/trigger/send", `{"campaign_id":"c","recipients":[{"email":"not an address"}]}`, nil, "", "", "recipients[0].email is not an email address"},
		{"repeated list", "POST", "/messages/send", `{"external_user_ids":["a"],"external_user_ids":["b"]}`, nil, "", "", `repeats "external_user_ids"`},
		{"repeated recipient key", "POST", "/campaigns/trigger/send", `{"recipients":[{"external_user_id":"a","external_user_id":"b"}]}`, nil, "", "", `repeats "external_user_id"`},
		{"foreign list on a trigger", "POST", "/campaigns/trigger/send", `{"campaign_id":"c","external_user_ids":["u1"],"recipients":[{"external_user_id":"u2"}]}`, nil, "", "", "external_user_ids is not a field"},
		{"foreign list on messages", "POST", "/messages/send", `{"recipients":[{"external_user_id":"u2"}]}`, nil, "", "", "recipients is not a field"},
		{"several channels", "POST", "/messages/send", `{"external_user_ids":["u1"],"messages":{"email":{},"sms":{}}}`, nil, "", "", "several channels (email, sms)"},
		{"messages not an object", "POST", "/messages/send", `{"external_user_ids":["u1"],"messages":[]}`, nil, "", "", "messages: want an object"},
		{"campaign id not a string", "POST", "/campaigns/trigger/send", `{"campaign_id":7,"recipients":[{"external_user_id":"u1"}]}`, nil, "", "", "campaign_id: want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, tt.body)
			req.Method = tt.method
			s, err := u.ParseSend(req)
			if tt.err != "" {
				if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSend = %v, want an invalid error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if s != nil {
					t.Fatalf("ParseSend = %v, want not a send", identities(s))
				}
				return
			}
			if s == nil {
				t.Fatal("ParseSend = nil, want a send")
			}
			if got := identities(s); !slices.Equal(got, tt.want) || s.Channel != tt.channel || s.Category != tt.category {
				t.Errorf("ParseSend = %v %q %q, want %v %q %q", got, s.Channel, s.Category, tt.want, tt.channel, tt.category)
			}
			for _, r := range s.Recipients {
				if r.Kind != gateway.KindEmail {
					if _, err := gateway.VendorIdentity(r.Kind, r.Address); err != nil {
						t.Errorf("recipient %v is no identity: %v", r, err)
					}
				}
			}
		})
	}
}

// TestErrorsNameNoRecipient: a refused send's message never quotes who it was for.
func TestErrorsNameNoRecipient(t *testing.T) {
	u := newUpstream(t, nil)
	for _, body := range []string{
		`{"recipients":[{"email":"secret-person@example.com","external_user_id":"secret-id"}]}`,
		`{"recipients":[{"email":"secret-person"}]}`,
		`{"recipients":[{"external_user_id":"secret-id\u0001"}]}`,
	} {
		_, err := u.ParseSend(post("/campaigns/trigger/send", body))
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseSend(%s) = %v", body, err)
		}
	}
}

func TestAllowBroadcast(t *testing.T) {
	u := newUpstream(t, map[string]any{"allow_broadcast": true})
	for _, body := range []string{`{"campaign_id":"c","broadcast":true}`, `{"campaign_id":"c","audience":{"AND":[]}}`, `{"campaign_id":"c"}`} {
		s, err := u.ParseSend(post("/campaigns/trigger/send", body))
		if err != nil || s != nil {
			t.Errorf("ParseSend(%s) = %v, %v; want forwarded unchecked", body, s, err)
		}
	}
	// Still a send when it names users: they are checked.
	s, err := u.ParseSend(post("/campaigns/trigger/send", `{"campaign_id":"c","recipients":[{"external_user_id":"u1"}]}`))
	if err != nil || s == nil || len(s.Recipients) != 1 {
		t.Errorf("ParseSend = %v, %v", s, err)
	}
}

func TestRewrite(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name, path, body string
		keep             []bool
		want             string
	}{
		{"one id of several", "/messages/send",
			`{"campaign_id":"c", "external_user_ids": ["u1", "u2", "u3"], "n": 1.50}`, []bool{true, false, true},
			`{"campaign_id":"c", "external_user_ids": ["u1", "u3"], "n": 1.50}`},
		// external_user_ids emptied while an alias is kept: the key goes, it is not left as [].
		{"emptied list loses its key", "/messages/send",
			`{"external_user_ids": ["u1"], "user_aliases": [{"alias_name": "n", "alias_label": "l"}], "messages": {"email": {}}}`,
			[]bool{false, true},
			`{"user_aliases": [{"alias_name": "n", "alias_label": "l"}], "messages": {"email": {}}}`},
		{"emptied last list loses its key", "/messages/schedule/create",
			`{"external_user_ids": ["u1"], "user_aliases": [{"alias_name": "n", "alias_label": "l"}]}`,
			[]bool{true, false},
			`{"external_user_ids": ["u1"]}`},
		{"a list given empty stays as given", "/messages/send",
			`{"user_aliases": [], "external_user_ids": ["u1", "u2"]}`, []bool{false, true},
			`{"user_aliases": [], "external_user_ids": ["u2"]}`},
		{"recipient removed with its properties", "/campaigns/trigger/send",
			`{"campaign_id":"c","trigger_properties":{"all":1},"recipients":[
  {"external_user_id":"u1","trigger_properties":{"name":"A"},"send_to_existing_only":false,"attributes":{"first_name":"A"}},
  {"user_alias":{"alias_name":"n","alias_label":"l"},"trigger_properties":{"name":"B"}},
  {"email":"c@example.com","prioritization":["unidentified"],"canvas_entry_properties":{"x":1}}
]}`, []bool{false, true, false},
			`{"campaign_id":"c","trigger_properties":{"all":1},"recipients":[
  {"user_alias":{"alias_name":"n","alias_label":"l"},"trigger_properties":{"name":"B"}}
]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, tt.body)
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
			again, err := u.ParseSend(post(tt.path, string(out)))
			if err != nil {
				t.Fatalf("rewritten send does not parse: %v", err)
			}
			var want []string
			for i, id := range identities(s) {
				if tt.keep[i] {
					want = append(want, id)
				}
			}
			if got := identities(again); !slices.Equal(got, want) {
				t.Errorf("recipients after rewrite = %v, want %v", got, want)
			}
		})
	}
}

// TestRewriteDocumentedCanvas rewrites the documented Canvas trigger and compares it with
// its golden file: only the dropped recipient object is gone.
func TestRewriteDocumentedCanvas(t *testing.T) {
	u := newUpstream(t, nil)
	body, err := os.ReadFile("testdata/canvas_trigger_send.json")
	if err != nil {
		t.Fatal(err)
	}
	req := post("/canvas/trigger/send", string(body))
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := u.Rewrite(req, s, []bool{false, true})
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/canvas_trigger_send.keep_alias.golden.json"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Errorf("Rewrite =\n%s\nwant\n%s", out, want)
	}
}

func TestRewriteErrors(t *testing.T) {
	u := newUpstream(t, nil)
	req := post("/messages/send", `{"external_user_ids":["u1","u2"]}`)
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Rewrite(req, s, []bool{true}); err == nil {
		t.Error("Rewrite with too few keep flags succeeded")
	}
	// Never called with nothing kept; if it were, it must refuse rather than forward a send
	// without recipients, which Braze would deliver to the whole segment.
	if out, err := u.Rewrite(req, s, []bool{false, false}); err == nil {
		t.Errorf("Rewrite keeping nobody = %s, want an error", out)
	}
	// Without the parse state (another process, a retry), the body is read again.
	out, err := u.Rewrite(req, &gateway.Send{Recipients: s.Recipients}, []bool{false, true})
	if err != nil || string(out) != `{"external_user_ids":["u2"]}` {
		t.Errorf("Rewrite without state = %s, %v", out, err)
	}
}

func TestDroppedResponse(t *testing.T) {
	u := newUpstream(t, nil)
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, path := range []string{"/messages/send", "/canvas/trigger/send", "/campaigns/trigger/schedule/create"} {
		// Build the send from a body each endpoint accepts.
		req := post(path, `{"recipients":[{"external_user_id":"u1"}]}`)
		if path == "/messages/send" {
			req = post(path, `{"external_user_ids":["u1"]}`)
		}
		s, err := u.ParseSend(req)
		if err != nil {
			t.Fatal(err)
		}
		status, h, body := u.DroppedResponse(req, s, false)
		var got map[string]string
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: answer is not a JSON object of strings: %s", path, body)
		}
		scheduled := strings.Contains(path, "schedule")
		if status != http.StatusCreated || !strings.HasPrefix(h.Get("Content-Type"), "application/json") ||
			got["message"] != "success" || !hexID.MatchString(got["dispatch_id"]) ||
			scheduled != hexID.MatchString(got["schedule_id"]) || len(got) != 2+boolInt(scheduled) {
			t.Errorf("%s: DroppedResponse = %d %v %s", path, status, h, body)
		}
		status, _, body = u.DroppedResponse(req, s, true)
		var refusal struct {
			Message string   `json:"message"`
			Errors  []string `json:"errors"`
		}
		if err := json.Unmarshal(body, &refusal); err != nil || status != http.StatusBadRequest ||
			refusal.Message != "No Recipients" || len(refusal.Errors) != 1 {
			t.Errorf("%s: refusal = %d %s", path, status, body)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestNewUpstreamErrors(t *testing.T) {
	tests := []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"allow_broadcasts": true}, `unknown option "allow_broadcasts"`},
		{map[string]any{"allow_broadcast": "yes"}, `"allow_broadcast"`},
		{map[string]any{"campaigns": map[string]any{"c": "promo"}}, `unknown category "promo"`},
		{map[string]any{"canvases": []any{"c"}}, `"canvases"`},
		{map[string]any{"campaign_channels": map[string]any{"c": "fax"}}, `"campaign_channels" for kind "braze": "c": unknown channel "fax"`},
		{map[string]any{"canvas_channels": map[string]any{"c": 3}}, `"canvas_channels"`},
		{map[string]any{"multi_channel": "any"}, `"multi_channel"`},
	}
	for _, tt := range tests {
		_, err := NewUpstream(gateway.UpstreamConfig{Name: "braze", Kind: Kind, Options: tt.opts})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewUpstream(%v) = %v, want it to contain %q", tt.opts, err, tt.want)
		}
	}
}

func TestMultiChannelOption(t *testing.T) {
	u := newUpstream(t, map[string]any{"multi_channel": "sms"})
	s, err := u.ParseSend(post("/messages/send", `{"external_user_ids":["u1"],"messages":{"email":{},"apple_push":{}}}`))
	if err != nil || s.Channel != gateway.ChannelSMS {
		t.Fatalf("ParseSend = %+v, %v", s, err)
	}
}

// audienceLeft reports whether a send body still names users in one of its lists.
func audienceLeft(t *testing.T, body []byte) bool {
	t.Helper()
	doc, err := jsondoc.Parse(body)
	if err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	for _, k := range allLists {
		for _, n := range doc.Root().Members(k) {
			if n.Kind() == jsondoc.Array && n.Len() > 0 {
				return true
			}
		}
	}
	return false
}

var fuzzPaths = []string{"/messages/send", "/campaigns/trigger/send", "/canvas/trigger/send",
	"/messages/schedule/create", "/campaigns/trigger/schedule/create", "/canvas/trigger/schedule/create"}

func addSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for i, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(i, b, uint64(0b10))
	}
	f.Add(0, []byte(`{"external_user_ids":["a","b"],"user_aliases":[{"alias_name":"n","alias_label":"l"}]}`), uint64(0b100))
	f.Add(0, []byte(`{"external_user_ids":["a"],"user_aliases":[{"alias_name":"n","alias_label":"l"}],"segment_id":"s"}`), uint64(0b10))
	f.Add(1, []byte(`{"recipients":[{"external_user_id":"a"},{"email":"b@x.com"},{"braze_id":"c"}],"audience":{}}`), uint64(0b010))
}

func FuzzParseSend(f *testing.F) {
	u := newUpstream(f, nil)
	addSeeds(f)
	f.Fuzz(func(t *testing.T, which int, body []byte, _ uint64) {
		p := fuzzPaths[uint(which)%uint(len(fuzzPaths))]
		s, err := u.ParseSend(post(p, string(body)))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if s == nil {
			t.Fatalf("a POST to %s was not a send", p)
		}
		if len(s.Recipients) == 0 || !audienceLeft(t, body) {
			t.Fatal("a send with no recipients was accepted: Braze would send it to a whole segment")
		}
	})
}

// FuzzRewrite: a rewrite keeps exactly the kept recipients, in order, and never leaves a
// send without an audience list.
func FuzzRewrite(f *testing.F) {
	u := newUpstream(f, nil)
	addSeeds(f)
	f.Fuzz(func(t *testing.T, which int, body []byte, bits uint64) {
		p := fuzzPaths[uint(which)%uint(len(fuzzPaths))]
		req := post(p, string(body))
		s, err := u.ParseSend(req)
		if err != nil || s == nil {
			return
		}
		keep := make([]bool, len(s.Recipients))
		kept := false
		for i := range keep {
			keep[i] = bits&(1<<(uint(i)%64)) != 0
			kept = kept || keep[i]
		}
		if !kept {
			keep[len(keep)-1] = true // Rewrite is only called with at least one recipient kept
		}
		out, err := u.Rewrite(req, s, keep)
		if err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("Rewrite output is not JSON: %s", out)
		}
		if !audienceLeft(t, out) {
			t.Fatalf("Rewrite left no audience list:\nin:  %s\nout: %s", body, out)
		}
		for _, k := range allLists {
			before := mustRoot(t, body).Get(k)
			if n := mustRoot(t, out).Get(k); n != nil && n.Len() == 0 && before != nil && before.Len() > 0 {
				t.Fatalf("Rewrite left %s emptied as []:\n%s", k, out)
			}
		}
		again, err := u.ParseSend(post(p, string(out)))
		if err != nil {
			t.Fatalf("rewritten body does not parse: %v\n%s", err, out)
		}
		var want []string
		for i, id := range identities(s) {
			if keep[i] {
				want = append(want, id)
			}
		}
		if got := identities(again); !slices.Equal(got, want) {
			t.Fatalf("recipients after rewrite = %v, want %v\nin:  %s\nout: %s", got, want, body, out)
		}
	})
}

func mustRoot(t *testing.T, b []byte) *jsondoc.Node {
	t.Helper()
	doc, err := jsondoc.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

// BenchmarkParseRewrite is a full 50-recipient trigger (Braze's maximum per request), one in
// three dropped.
func BenchmarkParseRewrite(b *testing.B) {
	u := newUpstream(b, map[string]any{"campaigns": map[string]any{"c-1": "marketing"}})
	var sb strings.Builder
	sb.WriteString(`{"campaign_id":"c-1","send_id":"s-1","trigger_properties":{"promo":"SPRING"},"recipients":[`)
	for i := range 50 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"external_user_id":"user-%d","trigger_properties":{"first_name":"User %d","cart_total":%d.99},"send_to_existing_only":true}`, i, i, i)
	}
	sb.WriteString(`]}`)
	req := post("/campaigns/trigger/send", sb.String())
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
