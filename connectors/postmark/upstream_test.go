package postmark

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func newUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "pm", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func post(path, body string) *gateway.OutboundRequest {
	return &gateway.OutboundRequest{Upstream: "pm", Method: http.MethodPost, Path: path, Body: []byte(body)}
}

func addresses(s *gateway.Send) []string {
	var out []string
	for _, r := range s.Recipients {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out
}

func TestNewUpstreamOptions(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		err  string
	}{
		{"none", nil, ""},
		{"streams", map[string]any{"message_streams": map[string]any{"outbound": "transactional", "news": "marketing"}}, ""},
		{"unknown key", map[string]any{"streams": map[string]any{}}, `unknown option "streams"`},
		{"unknown category", map[string]any{"message_streams": map[string]any{"outbound": "urgent"}}, `"outbound": unknown category`},
		{"not a mapping", map[string]any{"message_streams": "outbound"}, `option "message_streams"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUpstream(gateway.UpstreamConfig{Name: "pm", Kind: Kind, Options: tt.opts})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestParseSend(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   []string // nil: not a send
		err    string
	}{
		{"docs single", "POST", "/email", testdata(t, "email.json"), []string{"email:receiver@example.com"}, ""},
		{"sdk single with cc and bcc", "POST", "/email", testdata(t, "email_sdk.json"),
			[]string{"email:receiver@example.com", "email:copied@example.com", "email:blank-copied@example.com"}, ""},
		{"docs batch", "POST", "/email/batch", testdata(t, "batch.json"),
			[]string{"email:receiver1@example.com", "email:receiver2@example.com"}, ""},
		{"docs template", "POST", "/email/withTemplate", testdata(t, "withTemplate.json"), []string{"email:receiver@example.com"}, ""},
		{"template batch", "POST", "/email/batchWithTemplates", testdata(t, "batchWithTemplates.json"),
			[]string{"email:receiver1@example.com", "email:receiver2@example.com"}, ""},
		{"trailing slash as the docs write it", "POST", "/email/withTemplate/", testdata(t, "withTemplate.json"), []string{"email:receiver@example.com"}, ""},
		{"path case ignored", "POST", "/Email/Batch", `[{"To":"a@x.com"}]`, []string{"email:a@x.com"}, ""},
		{"names and lists", "POST", "/email", `{"To":"Ana <ana@x.com>, bob@y.com","Cc":"\"Doe, John\" <John@Z.com>","Bcc":""}`,
			[]string{"email:ana@x.com", "email:bob@y.com", "email:John@Z.com"}, ""},
		{"member case ignored", "POST", "/email", `{"to":"a@x.com","CC":"b@x.com"}`, []string{"email:a@x.com", "email:b@x.com"}, ""},
		{"null cc", "POST", "/email", `{"To":"a@x.com","Cc":null}`, []string{"email:a@x.com"}, ""},
		{"empty list elements", "POST", "/email", `{"To":"a@x.com, , b@x.com,"}`, []string{"email:a@x.com", "email:b@x.com"}, ""},
		{"batch message without recipients", "POST", "/email/batch", `[{"To":""},{"To":"a@x.com"}]`, []string{"email:a@x.com"}, ""},

		{"not a send: GET", "GET", "/email", ``, nil, ""},
		{"not a send: stats", "GET", "/deliverystats", ``, nil, ""},
		{"not a send: other path", "POST", "/templates", `{}`, nil, ""},
		{"not a send: two slashes", "POST", "/email//", `{}`, nil, ""},

		{"bulk api refused, not forwarded unchecked", "POST", "/email/bulk", `{"From":"s@x.com","Messages":[{"To":"a@x.com"}]}`, nil, "Bulk API"},
		{"empty body", "POST", "/email", " ", nil, "empty body"},
		{"invalid json", "POST", "/email", `{"To":`, nil, "not valid JSON"},
		{"single not an object", "POST", "/email", `[{"To":"a@x.com"}]`, nil, "not a JSON object"},
		{"batch not an array", "POST", "/email/batch", `{"To":"a@x.com"}`, nil, "not a JSON array"},
		{"batch item not an object", "POST", "/email/batch", `[{"To":"a@x.com"},"b@x.com"]`, nil, "[1] is not a message object"},
		{"template batch without Messages", "POST", "/email/batchWithTemplates", `{"messages":{}}`, nil, "Messages is not an array"},
		{"to not a string", "POST", "/email", `{"To":["a@x.com"]}`, nil, "To is not a string"},
		{"bad address", "POST", "/email/batch", `[{"To":"a@x.com"},{"To":"a@x.com","Cc":"not an address"}]`, nil, "[1].Cc is not a list of email addresses"},
		{"semicolons", "POST", "/email", `{"To":"a@x.com; b@x.com"}`, nil, "To is not a list"},
		{"address group", "POST", "/email", `{"To":"team: a@x.com, b@x.com;"}`, nil, "cannot split"},
		{"duplicate member", "POST", "/email", `{"To":"a@x.com","to":"b@x.com"}`, nil, "To is given more than once"},
		{"nobody", "POST", "/email", `{"From":"s@x.com","To":" "}`, nil, "names no recipient"},
		{"empty batch", "POST", "/email/batch", `[]`, nil, "names no recipient"},
		{"stream not a string", "POST", "/email/batchWithTemplates", `{"Messages":[{"To":"a@x.com","MessageStream":1}]}`, nil, "Messages[0].MessageStream is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := u.ParseSend(&gateway.OutboundRequest{Method: tt.method, Path: tt.path, Body: []byte(tt.body)})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
					t.Fatalf("err = %v, want invalid %q", err, tt.err)
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
			if got := addresses(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("recipients = %v, want %v", got, tt.want)
			}
			if s.Channel != gateway.ChannelEmail {
				t.Errorf("channel = %q", s.Channel)
			}
		})
	}
}

// TestParseErrorsQuoteNoAddress: an unreadable send is refused with a message that names the
// field, never the address or text.
func TestParseErrorsQuoteNoAddress(t *testing.T) {
	u := newUpstream(t, nil)
	_, err := u.ParseSend(post("/email", `{"To":"secret-person@x.com; other@x.com","Subject":"private"}`))
	if err == nil || strings.Contains(err.Error(), "secret-person") || strings.Contains(err.Error(), "private") {
		t.Errorf("err = %v", err)
	}
}

func TestCategory(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		path string
		body string
		want gateway.Category
	}{
		{"default stream unmapped", nil, "/email", `{"To":"a@x.com","MessageStream":"outbound"}`, ""},
		{"no stream unmapped", nil, "/email", `{"To":"a@x.com"}`, ""},
		{"broadcast is marketing", nil, "/email", `{"To":"a@x.com","MessageStream":"broadcast"}`, gateway.CategoryMarketing},
		{"configured outbound", map[string]any{"message_streams": map[string]any{"outbound": "transactional"}}, "/email",
			`{"To":"a@x.com","MessageStream":"outbound"}`, gateway.CategoryTransactional},
		{"no stream is outbound", map[string]any{"message_streams": map[string]any{"outbound": "transactional"}}, "/email",
			`{"To":"a@x.com"}`, gateway.CategoryTransactional},
		{"broadcast overridden", map[string]any{"message_streams": map[string]any{"broadcast": "survey"}}, "/email",
			`{"To":"a@x.com","MessageStream":"broadcast"}`, gateway.CategorySurvey},
		{"stream ids are exact", nil, "/email", `{"To":"a@x.com","MessageStream":"Broadcast"}`, ""},
		{"mixed batch takes the most restrictive", map[string]any{"message_streams": map[string]any{"outbound": "transactional"}}, "/email/batch",
			`[{"To":"a@x.com"},{"To":"b@x.com","MessageStream":"broadcast"}]`, gateway.CategoryMarketing},
		{"unmapped message counts as the upstream's category", map[string]any{"message_streams": map[string]any{"receipts": "transactional"}}, "/email/batch",
			`[{"To":"a@x.com","MessageStream":"receipts"},{"To":"b@x.com","MessageStream":"other"}]`, gateway.CategoryMarketing},
		{"service over transactional", map[string]any{"message_streams": map[string]any{"receipts": "transactional", "alerts": "service"}}, "/email/batchWithTemplates",
			`{"Messages":[{"To":"a@x.com","MessageStream":"receipts"},{"To":"b@x.com","MessageStream":"alerts"}]}`, gateway.CategoryService},
		{"marketing over survey, whatever the order", map[string]any{"message_streams": map[string]any{"nps": "survey"}}, "/email/batch",
			`[{"To":"a@x.com","MessageStream":"nps"},{"To":"b@x.com","MessageStream":"broadcast"},{"To":"c@x.com","MessageStream":"nps"}]`, gateway.CategoryMarketing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newUpstream(t, tt.opts).ParseSend(post(tt.path, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if s.Category != tt.want {
				t.Errorf("category = %q, want %q", s.Category, tt.want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name string
		path string
		body string
		keep []bool
		want string
		err  string
	}{
		{"drop cc, keep the rest byte for byte", "/email", testdata(t, "email_sdk.json"), []bool{true, false, true},
			strings.Replace(testdata(t, "email_sdk.json"), `"Cc":"copied@example.com",`, "", 1), ""},
		{"drop one of a list, others as written", "/email", `{"To": "Ana <ana@x.com>,bob@y.com ,  \"Doe, John\" <j@z.com>", "Subject": "Hi"}`,
			[]bool{true, false, true}, `{"To": "Ana <ana@x.com>, \"Doe, John\" <j@z.com>", "Subject": "Hi"}`, ""},
		{"unicode names kept unescaped", "/email", `{"To":"Zoë <z@x.com>, b@x.com"}`, []bool{true, false}, `{"To":"Zoë <z@x.com>"}`, ""},
		{"emptied bcc removed", "/email", `{"To":"a@x.com","Bcc":"b@x.com, c@x.com","Tag":"t"}`, []bool{true, false, false}, `{"To":"a@x.com","Tag":"t"}`, ""},
		{"batch message without To dropped (golden)", "/email/batch", testdata(t, "batch.json"), []bool{false, true},
			testdata(t, "batch_keep_second.golden"), ""},
		{"batch message losing To loses its cc too", "/email/batch", `[{"To":"a@x.com","Cc":"c@x.com"},{"To":"b@x.com"}]`,
			[]bool{false, true, true}, `[{"To":"b@x.com"}]`, ""},
		{"template batch", "/email/batchWithTemplates", `{"Messages":[{"To":"a@x.com","TemplateModel":{"n":1.50}},{"To":"b@x.com, c@x.com"}],"x":1}`,
			[]bool{true, true, false}, `{"Messages":[{"To":"a@x.com","TemplateModel":{"n":1.50}},{"To":"b@x.com"}],"x":1}`, ""},
		{"message with only cc dropped when cc all dropped", "/email/batch", `[{"Cc":"a@x.com"},{"To":"b@x.com"}]`,
			[]bool{false, true}, `[{"To":"b@x.com"}]`, ""},
		{"recipient-less message left for Postmark", "/email/batch", `[{"To":""},{"To":"b@x.com"},{"To":"c@x.com"}]`,
			[]bool{true, false}, `[{"To":""},{"To":"b@x.com"}]`, ""},
		{"single send losing To: nothing to send", "/email", `{"To":"a@x.com","Cc":"c@x.com"}`, []bool{false, true}, "", "nothing is left to send"},
		{"batch where every message loses To: nothing to send", "/email/batch", `[{"To":"a@x.com","Cc":"c@x.com"}]`, []bool{false, true}, "", "nothing is left to send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := post(tt.path, tt.body)
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := u.Rewrite(req, s, tt.keep)
			if tt.err != "" {
				if !errors.Is(err, gateway.ErrNothingToSend) || tt.keep[1] {
					t.Fatalf("err = %v (keep %v), want ErrNothingToSend and the Cc unkept", err, tt.keep)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			// Without the state, Rewrite reads the request again and gets the same result.
			again, err := u.Rewrite(req, &gateway.Send{Recipients: s.Recipients}, tt.keep)
			if err != nil || string(again) != string(got) {
				t.Errorf("rewrite without state = %s (%v)", again, err)
			}
		})
	}
}

// responseEntry is Postmark's answer to one message, as the SDKs read it.
type responseEntry struct {
	To          string
	SubmittedAt time.Time
	MessageID   string
	ErrorCode   int64
	Message     string
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDroppedResponse(t *testing.T) {
	u := newUpstream(t, nil)
	fixed := time.Date(2026, 3, 2, 9, 30, 15, 123456700, time.FixedZone("EST", -5*3600))
	u.now = func() time.Time { return fixed }

	t.Run("single success", func(t *testing.T) {
		req := post("/email", `{"To":"Ana <ana@x.com>, b@x.com","Subject":"s"}`)
		s, _ := u.ParseSend(req)
		status, h, body := u.DroppedResponse(req, s, false)
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("status %d header %v", status, h)
		}
		if !strings.HasPrefix(string(body), `{"To":"Ana <ana@x.com>, b@x.com","SubmittedAt":"2026-03-02T09:30:15.1234567-05:00","MessageID":"`) ||
			!strings.HasSuffix(string(body), `","ErrorCode":0,"Message":"OK"}`) {
			t.Errorf("body = %s", body)
		}
		var e responseEntry
		if err := json.Unmarshal(body, &e); err != nil || !uuidPattern.MatchString(e.MessageID) || !e.SubmittedAt.Equal(fixed) {
			t.Errorf("entry %+v (%v)", e, err)
		}
	})
	t.Run("single refusal", func(t *testing.T) {
		req := post("/email/withTemplate", `{"To":"Ana <ana@x.com>","Bcc":"b@x.com","TemplateId":1}`)
		s, _ := u.ParseSend(req)
		status, _, body := u.DroppedResponse(req, s, true)
		want := `{"ErrorCode":406,"Message":"You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ana@x.com, b@x.com. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression."}`
		if status != http.StatusUnprocessableEntity || string(body) != want {
			t.Errorf("%d %s", status, body)
		}
	})
	t.Run("batch success, one entry per message", func(t *testing.T) {
		req := post("/email/batch", testdata(t, "batch.json"))
		s, _ := u.ParseSend(req)
		status, _, body := u.DroppedResponse(req, s, false)
		var entries []responseEntry
		if err := json.Unmarshal(body, &entries); err != nil || status != http.StatusOK || len(entries) != 2 {
			t.Fatalf("%d %s (%v)", status, body, err)
		}
		for i, e := range entries {
			if e.ErrorCode != 0 || e.Message != "OK" || !uuidPattern.MatchString(e.MessageID) || e.To != []string{"receiver1@example.com", "receiver2@example.com"}[i] {
				t.Errorf("entry %d: %+v", i, e)
			}
		}
		if entries[0].MessageID == entries[1].MessageID {
			t.Error("two messages with one MessageID")
		}
	})
	t.Run("batch refusal", func(t *testing.T) {
		req := post("/email/batchWithTemplates", `{"Messages":[{"To":"a@x.com"},{"To":""},{"To":"b@x.com","Cc":"c@x.com"}]}`)
		s, _ := u.ParseSend(req)
		status, _, body := u.DroppedResponse(req, s, true)
		var entries []responseEntry
		if err := json.Unmarshal(body, &entries); err != nil || status != http.StatusOK || len(entries) != 3 {
			t.Fatalf("%d %s (%v)", status, body, err)
		}
		if entries[0].ErrorCode != 406 || !strings.Contains(entries[0].Message, "Found inactive addresses: a@x.com.") ||
			entries[1].ErrorCode != 300 || entries[1].Message != "Zero recipients specified" ||
			entries[2].ErrorCode != 406 || !strings.Contains(entries[2].Message, "addresses: b@x.com, c@x.com.") {
			t.Errorf("entries %+v", entries)
		}
	})
}

func TestEditResponse(t *testing.T) {
	u := newUpstream(t, nil)
	batch := `[{"To":"a@x.com"},{"To":"b@x.com","Cc":"c@x.com"},{"To":"d@x.com"},{"To":"e@x.com"}]`
	req := post("/email/batch", batch)
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	// b (and so its message) and e dropped; c kept but goes with b's message.
	keep := []bool{true, false, true, true, false}
	if _, err := u.Rewrite(req, s, keep); err != nil {
		t.Fatal(err)
	}
	upstream := `[{"ErrorCode":0,"Message":"OK","MessageID":"m-a","SubmittedAt":"2010-11-26T12:01:05.1794748-05:00","To":"a@x.com"},
 {"ErrorCode":406,"Message":"inactive","To":"d@x.com"}]`
	out, err := u.EditResponse(req, s, keep, 200, http.Header{}, []byte(upstream))
	if err != nil {
		t.Fatal(err)
	}
	var entries []responseEntry
	if err := json.Unmarshal(out, &entries); err != nil || len(entries) != 4 {
		t.Fatalf("%s (%v)", out, err)
	}
	if entries[0].MessageID != "m-a" || entries[2].ErrorCode != 406 || entries[2].To != "d@x.com" {
		t.Errorf("upstream entries moved: %+v", entries)
	}
	for _, i := range []int{1, 3} {
		e := entries[i]
		if e.ErrorCode != 0 || e.Message != "OK" || !uuidPattern.MatchString(e.MessageID) || e.SubmittedAt.IsZero() {
			t.Errorf("made-up entry %d: %+v", i, e)
		}
	}
	if entries[1].To != "b@x.com" || entries[3].To != "e@x.com" {
		t.Errorf("made-up entries' To: %q %q", entries[1].To, entries[3].To)
	}
	if !strings.Contains(string(out), `{"ErrorCode":406,"Message":"inactive","To":"d@x.com"}`) {
		t.Errorf("upstream entry not kept byte for byte: %s", out)
	}

	t.Run("entry count does not match", func(t *testing.T) {
		if _, err := u.EditResponse(req, s, keep, 200, nil, []byte(`[{}]`)); err == nil {
			t.Error("accepted one entry for two messages sent")
		}
		if _, err := u.EditResponse(req, s, keep, 200, nil, []byte(`{"ErrorCode":0}`)); err == nil {
			t.Error("accepted an object")
		}
	})
	t.Run("no message removed", func(t *testing.T) {
		only := []bool{true, true, false, true, true}
		body := []byte(`[1,2,3,4]`)
		out, err := u.EditResponse(req, s, only, 200, nil, body)
		if err != nil || string(out) != string(body) {
			t.Errorf("%s %v", out, err)
		}
	})
	t.Run("single send untouched", func(t *testing.T) {
		sreq := post("/email", `{"To":"a@x.com, b@x.com"}`)
		ss, _ := u.ParseSend(sreq)
		body := []byte(`{"To":"a@x.com","ErrorCode":0}`)
		out, err := u.EditResponse(sreq, ss, []bool{true, false}, 200, nil, body)
		if err != nil || string(out) != string(body) {
			t.Errorf("%s %v", out, err)
		}
	})
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []string // raw|addr
		err  bool
	}{
		{"", nil, false},
		{"a@x.com", []string{"a@x.com|a@x.com"}, false},
		{` Ana <ana@x.com> ,"Doe, J" <j@x.com>`, []string{"Ana <ana@x.com>|ana@x.com", `"Doe, J" <j@x.com>|j@x.com`}, false},
		{`"a\",b" <q@x.com>, r@x.com (c,d)`, []string{`"a\",b" <q@x.com>|q@x.com`, `r@x.com (c,d)|r@x.com`}, false},
		{`<"a,b"@x.com>, s@x.com`, []string{`<"a,b"@x.com>|a,b@x.com`, "s@x.com|s@x.com"}, false},
		{"g: a@x.com;", []string{"g: a@x.com;|a@x.com"}, false}, // net/mail reads a group of one as its address
		{"g: a@x.com, b@x.com;", nil, true},
		{"=?utf-8?q?Ana?= <a@x.com>", []string{"=?utf-8?q?Ana?= <a@x.com>|a@x.com"}, false},
		{"a@x.com b@x.com", nil, true},
		{"undisclosed-recipients:;", nil, true},
	}
	for _, tt := range tests {
		items, err := parseAddressList(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		var got []string
		for _, it := range items {
			got = append(got, it.raw+"|"+it.addr)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
		}
	}
}
