package sendgrid

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

func newUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "sg", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mailSend(body string) *gateway.OutboundRequest {
	return &gateway.OutboundRequest{Upstream: "sg", Method: "POST", Path: SendPath, Body: []byte(body)}
}

func addresses(s *gateway.Send) []string {
	var out []string
	for _, r := range s.Recipients {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out
}

func TestNewUpstream(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		err  string // "" : no error
	}{
		{"no options", nil, ""},
		{"both mappings", map[string]any{
			"categories": map[string]any{"newsletter": "marketing", "receipt": "transactional"},
			"asm_groups": map[any]any{41: "transactional", "42": "survey"},
		}, ""},
		{"unknown option", map[string]any{"categorys": map[string]any{}}, `unknown option "categorys"`},
		{"unknown category", map[string]any{"categories": map[string]any{"x": "promo"}}, `unknown category "promo"`},
		{"categories not a mapping", map[string]any{"categories": "marketing"}, `option "categories"`},
		{"group id not a number", map[string]any{"asm_groups": map[string]any{"news": "marketing"}}, `"news" is not an unsubscribe group id`},
		{"group id not canonical", map[string]any{"asm_groups": map[string]any{"041": "marketing"}}, `"041" is not an unsubscribe group id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUpstream(gateway.UpstreamConfig{Name: "sg", Kind: Kind, Options: tt.opts})
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
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
		want   []string // nil with err "": not a send
		err    string
	}{
		{"to cc bcc across personalizations", "POST", SendPath,
			`{"personalizations":[{"bcc":[{"email":"b@x.com"}],"to":[{"email":"ana@x.com","name":"Ana"},{"email":"Bob <BOB@x.com>"}],"cc":[{"email":"c@x.com"}]},{"to":[{"email":"eve@x.com"}],"cc":null}],"from":{"email":"shop@x.com"}}`,
			[]string{"email:ana@x.com", "email:BOB@x.com", "email:c@x.com", "email:b@x.com", "email:eve@x.com"}, ""},
		{"trailing slash is a send", "POST", SendPath + "/", `{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`, []string{"email:a@x.com"}, ""},
		{"lower-case method is a send", "post", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`, []string{"email:a@x.com"}, ""},
		{"from, reply_to and mail_settings.bcc are not recipients", "POST", SendPath,
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"from":{"email":"p@x.com"}}],"from":{"email":"f@x.com"},"reply_to":{"email":"r@x.com"},"mail_settings":{"bcc":{"email":"arch@x.com","enable":true}}}`,
			[]string{"email:a@x.com"}, ""},
		{"escaped address decoded", "POST", SendPath, `{"personalizations":[{"to":[{"email":"ana\u0040x.com"}]}]}`, []string{"email:ana@x.com"}, ""},
		{"templates are not sends", "GET", "/v3/templates", ``, nil, ""},
		{"GET on the send path is not a send", "GET", SendPath, ``, nil, ""},
		{"batch ids are not sends", "POST", "/v3/mail/batch", `{}`, nil, ""},
		{"v2 mail send refused", "POST", "/api/mail.send.json", "to=a%40x.com", nil, "v2 endpoint"},
		{"invalid json", "POST", SendPath, `{"personalizations":`, nil, "not valid JSON"},
		{"not an object", "POST", SendPath, `[]`, nil, "not a JSON object"},
		{"no personalizations", "POST", SendPath, `{"from":{"email":"f@x.com"}}`, nil, "at least one personalization"},
		{"empty personalizations", "POST", SendPath, `{"personalizations":[]}`, nil, "at least one personalization"},
		{"personalizations not an array", "POST", SendPath, `{"personalizations":{}}`, nil, "at least one personalization"},
		{"repeated personalizations", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com"}]}],"personalizations":[{"to":[{"email":"b@x.com"}]}]}`, nil, "personalizations appears 2 times"},
		{"personalization not an object", "POST", SendPath, `{"personalizations":[1]}`, nil, "personalizations[0] is not an object"},
		{"no to", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com"}]},{"cc":[{"email":"c@x.com"}]}]}`, nil, "personalizations[1].to is required"},
		{"to null", "POST", SendPath, `{"personalizations":[{"to":null}]}`, nil, "personalizations[0].to is required"},
		{"empty to", "POST", SendPath, `{"personalizations":[{"to":[],"cc":[{"email":"c@x.com"}]}]}`, nil, "personalizations[0].to is empty"},
		{"repeated to", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com"}],"to":[{"email":"b@x.com"}]}]}`, nil, "personalizations[0].to appears 2 times"},
		{"cc not an array", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com"}],"cc":{"email":"c@x.com"}}]}`, nil, "personalizations[0].cc is not an array"},
		{"recipient not an object", "POST", SendPath, `{"personalizations":[{"to":["a@x.com"]}]}`, nil, "personalizations[0].to[0] is not an object"},
		{"email missing", "POST", SendPath, `{"personalizations":[{"to":[{"name":"Ana"}]}]}`, nil, "personalizations[0].to[0].email is missing"},
		{"email not a string", "POST", SendPath, `{"personalizations":[{"to":[{"email":5}]}]}`, nil, "to[0].email is not a string"},
		{"email empty", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com"}],"bcc":[{"email":" "}]}]}`, nil, "personalizations[0].bcc[0].email is empty"},
		{"repeated email", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com","email":"b@x.com"}]}]}`, nil, "to[0].email appears 2 times"},
		{"several addresses", "POST", SendPath, `{"personalizations":[{"to":[{"email":"a@x.com, b@x.com"}]}]}`, nil, "several addresses"},
		{"unreadable display form", "POST", SendPath, `{"personalizations":[{"to":[{"email":"Ana <a@x.com"}]}]}`, nil, "not an email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := u.ParseSend(&gateway.OutboundRequest{Method: tt.method, Path: tt.path, Body: []byte(tt.body)})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
					t.Fatalf("error %v, want code invalid containing %q", err, tt.err)
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
				t.Fatal("not read as a send")
			}
			if got := addresses(s); !slices.Equal(got, tt.want) {
				t.Errorf("recipients %v, want %v", got, tt.want)
			}
			if s.Channel != gateway.ChannelEmail {
				t.Errorf("channel %q", s.Channel)
			}
		})
	}
}

func TestCategory(t *testing.T) {
	mapped := newUpstream(t, map[string]any{
		"categories": map[string]any{"newsletter": "marketing", "receipt": "transactional", "nps": "survey", "status": "incident"},
		"asm_groups": map[string]any{"41": "transactional", "7": "marketing"},
	})
	tests := []struct {
		name string
		u    *Upstream
		body string
		want gateway.Category
	}{
		{"no mapping configured", newUpstream(t, nil), `{"categories":["receipt"],"asm":{"group_id":41}}`, ""},
		{"no labels", mapped, `{}`, ""},
		{"one mapped category", mapped, `{"categories":["receipt"]}`, gateway.CategoryTransactional},
		{"unmapped labels say nothing", mapped, `{"categories":["2024-06","receipt"]}`, gateway.CategoryTransactional},
		{"only unmapped labels", mapped, `{"categories":["2024-06"]}`, ""},
		{"marketing beats transactional, in either order", mapped, `{"categories":["receipt","newsletter"]}`, gateway.CategoryMarketing},
		{"survey beats incident", mapped, `{"categories":["status","nps"]}`, gateway.CategorySurvey},
		{"unsubscribe group", mapped, `{"asm":{"group_id":41,"groups_to_display":[7]}}`, gateway.CategoryTransactional},
		{"unsubscribe group and categories: most restrictive", mapped, `{"categories":["receipt"],"asm":{"group_id":7}}`, gateway.CategoryMarketing},
		{"unmapped group", mapped, `{"asm":{"group_id":8}}`, ""},
		{"group id as a string is not SendGrid's", mapped, `{"asm":{"group_id":"41"}}`, ""},
		{"categories not a list", mapped, `{"categories":"receipt"}`, ""},
		{"a personalization's own categories count", mapped, `{"categories":["receipt"],"personalizations":[{"to":[{"email":"b@x.com"}],"categories":["newsletter"]}]}`, gateway.CategoryMarketing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if !strings.Contains(body, "personalizations") {
				body = strings.Replace(body, "{", `{"personalizations":[{"to":[{"email":"a@x.com"}]}],`, 1)
				body = strings.Replace(body, ",}", "}", 1)
			}
			s, err := tt.u.ParseSend(mailSend(body))
			if err != nil {
				t.Fatal(err)
			}
			if s.Category != tt.want {
				t.Errorf("category %q, want %q", s.Category, tt.want)
			}
		})
	}
	if _, err := mapped.ParseSend(mailSend(`{"personalizations":[{"to":[{"email":"a@x.com"}]}],"categories":["receipt"],"categories":["newsletter"]}`)); err == nil || !strings.Contains(err.Error(), "categories appears 2 times") {
		t.Errorf("repeated categories: %v", err)
	}
}

// keepAllBut keeps every recipient but the named addresses.
func keepAllBut(s *gateway.Send, drop ...string) []bool {
	keep := make([]bool, len(s.Recipients))
	for i, r := range s.Recipients {
		keep[i] = !slices.Contains(drop, r.Address)
	}
	return keep
}

func TestRewrite(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name string
		body string
		drop []string
		want string
		err  string
	}{
		{"one to of two; spacing kept",
			`{ "personalizations" : [ { "to" : [ {"email":"a@x.com"} , {"email":"b@x.com","name":"B"} ], "subject":"Hi" } ], "n": 1.50 }`,
			[]string{"b@x.com"},
			`{ "personalizations" : [ { "to" : [ {"email":"a@x.com"} ], "subject":"Hi" } ], "n": 1.50 }`, ""},
		{"emptied cc leaves its personalization",
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"cc":[{"email":"c@x.com"}],"bcc":[{"email":"d@x.com"}]}]}`,
			[]string{"c@x.com"},
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"bcc":[{"email":"d@x.com"}]}]}`, ""},
		{"personalization without to left goes whole, cc and fields with it",
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"cc":[{"email":"c@x.com"}],"dynamic_template_data":{"n":"Ana"},"send_at":1409348513},{"to":[{"email":"e@x.com"}],"custom_args":{"id":"2"}}],"template_id":"d-1"}`,
			[]string{"a@x.com"},
			`{"personalizations":[{"to":[{"email":"e@x.com"}],"custom_args":{"id":"2"}}],"template_id":"d-1"}`, ""},
		{"dropped cc of a removed personalization counted once",
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"cc":[{"email":"c@x.com"}]},{"to":[{"email":"e@x.com"}]}]}`,
			[]string{"a@x.com", "c@x.com"},
			`{"personalizations":[{"to":[{"email":"e@x.com"}]}]}`, ""},
		{"only copies left: nothing to send",
			`{"personalizations":[{"to":[{"email":"a@x.com"}],"cc":[{"email":"c@x.com"}]}]}`,
			[]string{"a@x.com"}, "", "nothing is left to send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mailSend(tt.body)
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := u.Rewrite(req, s, keepAllBut(s, tt.drop...))
			if tt.err != "" {
				if !errors.Is(err, gateway.ErrNothingToSend) {
					t.Fatalf("error %v, want ErrNothingToSend", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
		})
	}
	t.Run("keep flags must match", func(t *testing.T) {
		req := mailSend(`{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`)
		s, _ := u.ParseSend(req)
		if _, err := u.Rewrite(req, s, nil); err == nil {
			t.Error("no error for a wrong keep length")
		}
		if _, err := u.Rewrite(req, &gateway.Send{Recipients: s.Recipients}, []bool{true}); err == nil {
			t.Error("no error for a send another upstream parsed")
		}
	})
}

// goldenRewrites are the testdata sends (SendGrid's own examples, see testdata/SOURCES.md)
// and whom each drops; the expected bodies are testdata/<name>.rewrite.golden.json.
var goldenRewrites = []struct {
	name string
	drop []string
}{
	{"kitchen_sink", []string{"jane.doe@example.com"}},                           // its only cc: the cc list goes
	{"two_groups", []string{"recipient1@example.com", "recipient7@example.com"}}, // first personalization goes whole
	{"cc_bcc", []string{"recipient3@example.com"}},                               // the only bcc
	{"two_senders", []string{"recipient2@example.com"}},                          // the personalization with its own from goes
	{"dynamic_template", nil},                                                    // nothing dropped: the bytes as they came
}

func TestRewriteGolden(t *testing.T) {
	u := newUpstream(t, nil)
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	covered := 0
	for _, g := range goldenRewrites {
		t.Run(g.name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", g.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			req := mailSend(string(body))
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			keep := keepAllBut(s, g.drop...)
			out, err := u.Rewrite(req, s, keep)
			if err != nil {
				t.Fatal(err)
			}
			connectortest.CompareGolden(t, filepath.Join("testdata", g.name+".rewrite.golden.json"), out, *update)
			if len(g.drop) == 0 && !bytes.Equal(out, body) {
				t.Error("nothing dropped, but the body changed")
			}
			// The rewrite still reads as a send with exactly the recipients that survive.
			s2, err := u.ParseSend(mailSend(string(out)))
			if err != nil {
				t.Fatalf("rewrite does not parse: %v", err)
			}
			if got, want := addresses(s2), survivors(s, keep); !slices.Equal(got, want) {
				t.Errorf("rewrite's recipients %v, want %v", got, want)
			}
		})
		covered++
	}
	if n := len(inputs) - countGoldens(inputs); n != covered {
		t.Errorf("%d testdata sends, %d with a golden rewrite", n, covered)
	}
}

func countGoldens(paths []string) int {
	n := 0
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.json") {
			n++
		}
	}
	return n
}

// survivors are the recipients a rewrite keeps: the kept ones, except the copies (cc, bcc)
// of a personalization none of whose to recipients is kept.
func survivors(s *gateway.Send, keep []bool) []string {
	st := s.State.(*sendState)
	hasTo := map[int]bool{}
	for i, sp := range st.spots {
		if keep[i] && sp.field == 0 {
			hasTo[sp.pers] = true
		}
	}
	var out []string
	for i, sp := range st.spots {
		if keep[i] && hasTo[sp.pers] {
			out = append(out, s.Recipients[i].Kind+":"+s.Recipients[i].Address)
		}
	}
	return out
}

func TestDroppedResponse(t *testing.T) {
	u := newUpstream(t, nil)
	req := mailSend(`{"personalizations":[{"to":[{"email":"a@x.com"}]}]}`)
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)
	status, h, body := u.DroppedResponse(req, s, false)
	id := h.Get("X-Message-Id")
	if status != http.StatusAccepted || len(body) != 0 || !shape.MatchString(id) {
		t.Errorf("success: %d %v %q", status, h, body)
	}
	if _, h2, _ := u.DroppedResponse(req, s, false); h2.Get("X-Message-Id") == id {
		t.Error("two answers share one message id")
	}

	status, h, body = u.DroppedResponse(req, s, true)
	var e struct {
		Errors []struct {
			Message string  `json:"message"`
			Field   string  `json:"field"`
			Help    *string `json:"help"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest || h.Get("Content-Type") != "application/json" || len(e.Errors) != 1 ||
		e.Errors[0].Field != "personalizations" || !strings.Contains(e.Errors[0].Message, "hush") {
		t.Errorf("refusal: %d %v %s", status, h, body)
	}
}

func FuzzParseSend(f *testing.F) {
	u := newUpstream(f, map[string]any{"categories": map[string]any{"a": "transactional"}, "asm_groups": map[string]any{"1": "marketing"}})
	for _, body := range testdataSends(f) {
		f.Add(body)
	}
	f.Add([]byte(`{"personalizations":[{"to":[{"email":"A <a@x.com>"}],"cc":null}],"categories":["a"],"asm":{"group_id":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := u.ParseSend(mailSend(string(body)))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(s.Recipients) == 0 {
			t.Fatal("a send with no recipients")
		}
	})
}

func FuzzRewrite(f *testing.F) {
	u := newUpstream(f, nil)
	for i, body := range testdataSends(f) {
		f.Add(body, uint64(0b1010101)>>(i%3))
	}
	f.Add([]byte(`{"personalizations":[{"to":[{"email":"a@x.com"},{"email":"b@x.com"}]},{"to":[{"email":"c@x.com"}],"cc":[{"email":"d@x.com"}]}]}`), uint64(0b1001))
	f.Fuzz(func(t *testing.T, body []byte, bits uint64) {
		req := mailSend(string(body))
		s, err := u.ParseSend(req)
		if err != nil {
			return
		}
		keep := make([]bool, len(s.Recipients))
		anyKept := false
		for i := range keep {
			keep[i] = bits&(1<<(uint(i)%64)) != 0
			anyKept = anyKept || keep[i]
		}
		if !anyKept {
			keep[0] = true // Rewrite is only called with a recipient kept
		}
		want := survivors(s, keep)
		out, err := u.Rewrite(req, s, keep)
		if len(want) == 0 {
			if !errors.Is(err, gateway.ErrNothingToSend) {
				t.Fatalf("only copies kept: %v, %s", err, out)
			}
			return
		}
		kept := 0
		for _, k := range keep {
			if k {
				kept++
			}
		}
		if kept != len(want) {
			t.Fatalf("Rewrite left %d keep flags for %d recipients sent", kept, len(want))
		}
		if err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
		s2, err := u.ParseSend(mailSend(string(out)))
		if err != nil {
			t.Fatalf("rewrite does not parse: %v\n%s", err, out)
		}
		if got := addresses(s2); !slices.Equal(got, want) {
			t.Fatalf("rewrite's recipients %v, want %v", got, want)
		}
	})
}

func testdataSends(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, g := range goldenRewrites {
		b, err := os.ReadFile(filepath.Join("testdata", g.name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// BenchmarkRewrite50 reads and rewrites a 50-recipient send (one personalization each,
// with dynamic template data and custom args), dropping every third recipient.
func BenchmarkRewrite50(b *testing.B) {
	u := newUpstream(b, map[string]any{"categories": map[string]any{"newsletter": "marketing"}})
	var sb strings.Builder
	sb.WriteString(`{"from":{"email":"shop@example.com","name":"Shop"},"template_id":"d-c6dcf1f72bdd4beeb15a9aa6c72fcd2c","categories":["newsletter"],"personalizations":[`)
	for i := range 50 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"to":[{"email":"user%d@example.com","name":"User %d"}],"dynamic_template_data":{"first_name":"User","total":"$ %d.95","items":[{"text":"New Line Sneakers","price":"$ 79.95"}]},"custom_args":{"customer_id":"%d"}}`, i, i, i, i)
	}
	sb.WriteString(`],"asm":{"group_id":7},"tracking_settings":{"open_tracking":{"enable":true}}}`)
	req := mailSend(sb.String())
	b.SetBytes(int64(len(req.Body)))
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
