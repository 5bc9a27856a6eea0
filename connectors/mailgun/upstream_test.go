package mailgun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func newUpstream(t testing.TB, opts map[string]any) *Upstream {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "mailgun", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// request builds a send from a testdata body: *.form files are form-encoded, *.multipart
// files carry their boundary on their first line.
func request(t testing.TB, file, path string) *gateway.OutboundRequest {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return &gateway.OutboundRequest{Upstream: "mailgun", Method: "POST", Path: path,
		Header: http.Header{"Content-Type": {contentTypeOf(file, body)}}, Body: body}
}

func contentTypeOf(file string, body []byte) string {
	if strings.HasSuffix(file, ".form") {
		return "application/x-www-form-urlencoded"
	}
	first, _, _ := bytes.Cut(body, []byte("\r\n"))
	return "multipart/form-data; boundary=" + strings.TrimPrefix(string(first), "--")
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
		err  string
	}{
		{"no options", nil, ""},
		{"tags", map[string]any{"tags": map[string]any{"receipt": "transactional"}}, ""},
		{"unknown option", map[string]any{"tag": map[string]any{}}, `unknown option "tag"`},
		{"unknown category", map[string]any{"tags": map[string]any{"receipt": "urgent"}}, `"receipt": unknown category`},
		{"tags not a mapping", map[string]any{"tags": "receipt"}, `option "tags"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewUpstream(gateway.UpstreamConfig{Name: "mg", Kind: Kind, Options: tt.opts})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestParseSendTestdata(t *testing.T) {
	u := newUpstream(t, map[string]any{"tags": map[string]any{"newsletters": "marketing", "September newsletter": "survey"}})
	tests := []struct {
		file, path string
		want       []string
		category   gateway.Category
	}{
		{"complex.multipart", "/v3/YOUR_DOMAIN_NAME/messages", []string{"email:foo@example.com", "email:bar@example.com", "email:baz@example.com"}, ""},
		{"batch.multipart", "/v3/YOUR_DOMAIN_NAME/messages", []string{"email:alice@example.com", "email:bob@example.com"}, ""},
		{"mime.multipart", "/v3/YOUR_DOMAIN_NAME/messages.mime", []string{"email:bob@example.com"}, ""},
		{"tagged.form", "/v3/YOUR_DOMAIN_NAME/messages", []string{"email:bar@example.com"}, gateway.CategoryMarketing},
		{"list.form", "/v3/YOUR_DOMAIN_NAME/messages", []string{"email:bob@host.com", "email:alice@example.com", "email:jane@example.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := u.ParseSend(request(t, tt.file, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			if got := addresses(s); !slices.Equal(got, tt.want) {
				t.Errorf("recipients %v, want %v", got, tt.want)
			}
			if s.Channel != gateway.ChannelEmail || s.Category != tt.category {
				t.Errorf("channel %q category %q, want email %q", s.Channel, s.Category, tt.category)
			}
		})
	}
}

func TestParseSend(t *testing.T) {
	u := newUpstream(t, nil)
	const form = "application/x-www-form-urlencoded"
	mp := func(parts ...string) (string, string) {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString("--XyZ\r\n" + p + "\r\n")
		}
		b.WriteString("--XyZ--\r\n")
		return "multipart/form-data; boundary=XyZ", b.String()
	}
	field := func(name, value string) string {
		return `Content-Disposition: form-data; name="` + name + "\"\r\n\r\n" + value
	}
	mpCT, mpToCc := mp(field("to", "ana@example.com"), field("cc", "Bob <BOB@example.com>, eve@example.com"))
	_, mpQP := mp("Content-Disposition: form-data; name=\"to\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nana=40example.com")
	_, mpMimeCC := mp(field("to", "ana@example.com"), field("cc", "bob@example.com"))
	tests := []struct {
		name, method, path, ctype, body string
		want                            []string // nil: not a send
		err                             string
	}{
		{"form send", "POST", "/v3/mg.example.com/messages", form, "to=ana%40example.com&to=bob%40example.com%2C+Eve+%3Ceve%40example.com%3E&cc=&bcc=c%40example.com",
			[]string{"email:ana@example.com", "email:bob@example.com", "email:eve@example.com", "email:c@example.com"}, ""},
		{"multipart send", "POST", "/v3/mg.example.com/messages", mpCT, mpToCc,
			[]string{"email:ana@example.com", "email:BOB@example.com", "email:eve@example.com"}, ""},
		{"mime: only to is read", "POST", "/v3/mg.example.com/messages.mime", mpCT, mpMimeCC, []string{"email:ana@example.com"}, ""},
		{"lower-case method", "post", "/v3/mg.example.com/messages", form, "to=a%40x.com", []string{"email:a@x.com"}, ""},
		{"trailing comma", "POST", "/v3/d/messages", form, "to=a%40x.com%2C", []string{"email:a@x.com"}, ""},

		{"not a send: GET", "GET", "/v3/mg.example.com/messages", "", "", nil, ""},
		{"not a send: domains", "GET", "/v3/domains", "", "", nil, ""},
		{"not a send: events", "POST", "/v3/mg.example.com/events", form, "to=a", nil, ""},
		{"not a send: trailing slash", "POST", "/v3/mg.example.com/messages/", form, "to=a", nil, ""},
		{"not a send: v2", "POST", "/v2/mg.example.com/messages", form, "to=a", nil, ""},
		{"not a send: empty domain", "POST", "/v3//messages", form, "to=a", nil, ""},
		{"not a send: deeper path", "POST", "/v3/a/b/messages", form, "to=a", nil, ""},

		{"no content type", "POST", "/v3/d/messages", "", "to=a%40x.com", nil, "no readable Content-Type"},
		{"json", "POST", "/v3/d/messages", "application/json", `{"to":"a@x.com"}`, nil, `"application/json"`},
		{"bad escape", "POST", "/v3/d/messages", form, "to=%zz", nil, "not a valid form"},
		{"no recipient", "POST", "/v3/d/messages", form, "from=a%40x.com&subject=hi", nil, "names no recipient in to, cc or bcc"},
		{"no recipient on mime", "POST", "/v3/d/messages.mime", mpCT, mpMimeCC[:0] + "--XyZ\r\n" + field("message", "x") + "\r\n--XyZ--", nil, "names no recipient in to"},
		{"not an address", "POST", "/v3/d/messages", form, "to=%25recipient.email%25", nil, "field to holds something that is not an email address"},
		{"one bad address in a list", "POST", "/v3/d/messages", form, "cc=a%40x.com%2C+nobody", nil, "field cc holds"},
		{"unbalanced quote", "POST", "/v3/d/messages", form, "to=%22Ana+%3Ca%40x.com%3E", nil, "field to holds"},
		{"recipient-variables not JSON", "POST", "/v3/d/messages", form, "to=a%40x.com&recipient-variables=%7Bx", nil, "recipient-variables is not a JSON object"},
		{"recipient-variables an array", "POST", "/v3/d/messages", form, "to=a%40x.com&recipient-variables=%5B%5D", nil, "recipient-variables is not a JSON object"},
		{"multipart without boundary", "POST", "/v3/d/messages", "multipart/form-data", mpToCc, nil, "not a valid multipart"},
		{"multipart with another boundary", "POST", "/v3/d/messages", "multipart/form-data; boundary=other", mpToCc, nil, "no opening boundary"},
		{"multipart not closed", "POST", "/v3/d/messages", mpCT, strings.TrimSuffix(mpToCc, "--XyZ--\r\n"), nil, "no closing boundary"},
		{"multipart with LF line ends", "POST", "/v3/d/messages", mpCT, strings.ReplaceAll(mpToCc, "\r\n", "\n"), nil, "multipart"},
		{"quoted-printable recipient field", "POST", "/v3/d/messages", mpCT, mpQP, nil, "Content-Transfer-Encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.ctype != "" {
				h.Set("Content-Type", tt.ctype)
			}
			s, err := u.ParseSend(&gateway.OutboundRequest{Method: tt.method, Path: tt.path, Header: h, Body: []byte(tt.body)})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
					t.Fatalf("err = %v, want invalid %q", err, tt.err)
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
			if s == nil || !slices.Equal(addresses(s), tt.want) {
				t.Fatalf("got %v, want %v", s, tt.want)
			}
		})
	}
}

func TestCategory(t *testing.T) {
	u := newUpstream(t, map[string]any{"tags": map[string]any{
		"receipt": "transactional", "alert": "incident", "newsletter": "marketing", "nps": "survey"}})
	tests := []struct {
		tags []string
		want gateway.Category
	}{
		{nil, ""},
		{[]string{"unmapped"}, ""},
		{[]string{"receipt"}, gateway.CategoryTransactional},
		{[]string{"x", "receipt", "alert"}, gateway.CategoryIncident},
		{[]string{"receipt", "newsletter"}, gateway.CategoryMarketing},
		{[]string{"newsletter", "receipt"}, gateway.CategoryMarketing},
		{[]string{"nps", "newsletter"}, gateway.CategoryMarketing},
		{[]string{"Receipt"}, ""}, // tags match exactly
	}
	for _, tt := range tests {
		var body []string
		for _, tag := range tt.tags {
			body = append(body, "o%3Atag="+tag)
		}
		body = append(body, "to=a%40x.com")
		s, err := u.ParseSend(&gateway.OutboundRequest{Method: "POST", Path: "/v3/d/messages",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(strings.Join(body, "&"))})
		if err != nil {
			t.Fatal(err)
		}
		if s.Category != tt.want {
			t.Errorf("tags %v: category %q, want %q", tt.tags, s.Category, tt.want)
		}
	}
}

// keepAllBut is a keep slice dropping the recipients whose address is in drop.
func keepAllBut(s *gateway.Send, drop ...string) []bool {
	keep := make([]bool, len(s.Recipients))
	for i, r := range s.Recipients {
		keep[i] = !slices.Contains(drop, strings.ToLower(r.Address))
	}
	return keep
}

func TestRewriteGolden(t *testing.T) {
	u := newUpstream(t, nil)
	tests := []struct {
		name, file, path string
		drop             []string
	}{
		{"complex_drop_cc", "complex.multipart", "/v3/YOUR_DOMAIN_NAME/messages", []string{"bar@example.com"}},
		{"complex_drop_bcc", "complex.multipart", "/v3/YOUR_DOMAIN_NAME/messages", []string{"baz@example.com"}},
		{"batch_drop_bob", "batch.multipart", "/v3/YOUR_DOMAIN_NAME/messages", []string{"bob@example.com"}},
		{"batch_drop_alice", "batch.multipart", "/v3/YOUR_DOMAIN_NAME/messages", []string{"alice@example.com"}},
		{"list_drop_bob", "list.form", "/v3/YOUR_DOMAIN_NAME/messages", []string{"bob@host.com"}},
		{"list_drop_jane", "list.form", "/v3/YOUR_DOMAIN_NAME/messages", []string{"jane@example.com"}},
		{"list_keep_all", "list.form", "/v3/YOUR_DOMAIN_NAME/messages", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, tt.file, tt.path)
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			keep := keepAllBut(s, tt.drop...)
			out, err := u.Rewrite(req, s, keep)
			if err != nil {
				t.Fatal(err)
			}
			checkRewrite(t, u, req, s, keep, out)
			connectortest.CompareGolden(t, filepath.Join("testdata", "rewrite_"+tt.name+".golden"), out, *update)
		})
	}
}

// checkRewrite asserts what every rewrite must do: the result re-parses to exactly the kept
// recipients in order; every field but to, cc, bcc and recipient-variables is byte for
// byte what it was, in the same order; recipient-variables only lost members.
func checkRewrite(t testing.TB, u *Upstream, req *gateway.OutboundRequest, s *gateway.Send, keep []bool, out []byte) {
	t.Helper()
	var want []string
	for i, r := range s.Recipients {
		if keep[i] {
			want = append(want, r.Kind+":"+r.Address)
		}
	}
	req2 := *req
	req2.Body = out
	s2, err := u.ParseSend(&req2)
	if err != nil {
		t.Fatalf("rewritten body does not parse: %v\n%q", err, out)
	}
	if got := addresses(s2); !slices.Equal(got, want) {
		t.Fatalf("rewritten recipients %v, want %v", got, want)
	}
	before, after := s.State.(*sendState), s2.State.(*sendState)
	if a, b := untouched(before), untouched(after); !slices.EqualFunc(a, b, bytes.Equal) {
		t.Fatalf("fields other than the recipients' changed:\n%q\n%q", a, b)
	}
	for i, v := range after.vars {
		old := map[string]bool{}
		root := before.vars[i].doc.Root()
		for j := range root.Len() {
			old[root.Key(j)] = true
		}
		root = v.doc.Root()
		for j := range root.Len() {
			if !old[root.Key(j)] {
				t.Fatalf("recipient-variables gained a member")
			}
		}
	}
}

// untouched lists the raw bytes of every pair or part a rewrite must keep as it is.
func untouched(st *sendState) [][]byte {
	var out [][]byte
	if st.multi != nil {
		for _, p := range st.multi.parts {
			if !edited(p.name, st.mime) {
				out = append(out, p.raw)
			}
		}
		return out
	}
	for _, p := range st.form {
		if !edited(p.Name, st.mime) {
			out = append(out, p.Raw)
		}
	}
	return out
}

func TestRewriteDetails(t *testing.T) {
	u := newUpstream(t, nil)
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, body string
		drop       []string
		want       string
	}{
		{"list keeps entries as written", "to=%22Ana+A%22+%3Cana%40x.com%3E%2C+bob%40x.com%2Ceve%40x.com&x=1",
			[]string{"bob@x.com"}, "to=%22Ana+A%22+%3Cana%40x.com%3E%2C+eve%40x.com&x=1"},
		{"emptied field removed, raw neighbours kept", "a=%41&cc=bob%40x.com&&to=ana%40x.com&b=1+2",
			[]string{"bob@x.com"}, "a=%41&&to=ana%40x.com&b=1+2"},
		{"last field removed", "to=ana%40x.com&cc=bob%40x.com", []string{"bob@x.com"}, "to=ana%40x.com"},
		{"name kept as written", "t%6F=bob%40x.com%2Cana%40x.com", []string{"bob@x.com"}, "t%6F=ana%40x.com"},
		{"recipient-variables trimmed, display-name keys too", `to=ana%40x.com&to=bob%40x.com&recipient-variables=` + url.QueryEscape(`{"ana@x.com": {"n": 1.50}, "Bob <BOB@x.com>": {"n": 2}}`),
			[]string{"bob@x.com"}, `to=ana%40x.com&recipient-variables=` + url.QueryEscape(`{"ana@x.com": {"n": 1.50}}`)},
		{"recipient-variables of an address also kept elsewhere stay", `to=bob%40x.com&cc=ana%40x.com&bcc=bob%40x.com&recipient-variables=` + url.QueryEscape(`{"bob@x.com":{}}`),
			nil, ""},
		{"emptied recipient-variables stays {}", `to=ana%40x.com&cc=bob%40x.com&recipient-variables=` + url.QueryEscape(`{"bob@x.com":{"id":2}}`),
			[]string{"bob@x.com"}, `to=ana%40x.com&recipient-variables=` + url.QueryEscape(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &gateway.OutboundRequest{Method: "POST", Path: "/v3/d/messages", Header: http.Header{"Content-Type": {form}}, Body: []byte(tt.body)}
			s, err := u.ParseSend(req)
			if err != nil {
				t.Fatal(err)
			}
			keep := keepAllBut(s, tt.drop...)
			if tt.drop == nil {
				// bob is in to and bcc: drop only the bcc one.
				keep = []bool{true, true, false}
				tt.want = tt.body[:strings.Index(tt.body, "&bcc")] + tt.body[strings.Index(tt.body, "&recipient"):]
			}
			out, err := u.Rewrite(req, s, keep)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
			checkRewrite(t, u, req, s, keep, out)
		})
	}
}

// TestRewriteCopiesNotSentAlone: Mailgun requires to; when every to address is dropped, the
// cc and bcc copies are not sent alone and the send is answered as fully dropped.
func TestRewriteCopiesNotSentAlone(t *testing.T) {
	u := newUpstream(t, nil)
	req := request(t, "complex.multipart", "/v3/YOUR_DOMAIN_NAME/messages")
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	keep := keepAllBut(s, "foo@example.com", "baz@example.com")
	if _, err := u.Rewrite(req, s, keep); !errors.Is(err, gateway.ErrNothingToSend) || slices.Contains(keep, true) {
		t.Errorf("only the cc kept: %v (keep %v), want ErrNothingToSend and nobody kept", err, keep)
	}
}

func TestRewriteMIMERefused(t *testing.T) {
	u := newUpstream(t, nil)
	req := request(t, "mime.multipart", "/v3/YOUR_DOMAIN_NAME/messages.mime")
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := u.Rewrite(req, s, []bool{true})
	if err != nil || !bytes.Equal(out, req.Body) {
		t.Fatalf("nothing dropped: %v, body changed %v", err, !bytes.Equal(out, req.Body))
	}
	// Two recipients, one dropped.
	req.Body = bytes.Replace(req.Body, []byte("\r\n\r\nbob@example.com"), []byte("\r\n\r\nbob@example.com, ana@example.com"), 1)
	s, err = u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.Rewrite(req, s, []bool{false, true})
	if gateway.ErrorCodeOf(err) != gateway.CodeInvalid || !strings.Contains(gateway.ErrorMessageOf(err), "DKIM") {
		t.Fatalf("err = %v, want invalid mentioning DKIM", err)
	}
	if strings.Contains(err.Error(), "@") {
		t.Errorf("error quotes an address: %v", err)
	}
}

func TestRewriteErrors(t *testing.T) {
	u := newUpstream(t, nil)
	req := request(t, "list.form", "/v3/d/messages")
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Rewrite(req, s, []bool{true}); err == nil {
		t.Error("wrong keep length accepted")
	}
	if _, err := u.Rewrite(req, &gateway.Send{Recipients: s.Recipients}, []bool{true, true, true}); err == nil {
		t.Error("send without state accepted")
	}
}

func TestDroppedResponse(t *testing.T) {
	u := newUpstream(t, nil)
	req := request(t, "tagged.form", "/v3/mg.example.com/messages")
	s, err := u.ParseSend(req)
	if err != nil {
		t.Fatal(err)
	}
	status, h, body := u.DroppedResponse(req, s, false)
	var ok struct{ ID, Message string }
	if err := json.Unmarshal(body, &ok); err != nil || status != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("success: %d %v %s %v", status, h, body, err)
	}
	if ok.Message != "Queued. Thank you." || !regexp.MustCompile(`^<\d{14}\.[0-9a-f]{16}@mg\.example\.com>$`).MatchString(ok.ID) {
		t.Errorf("success body %s", body)
	}
	if !bytes.Contains(body, []byte(`"<`)) {
		t.Errorf("id's angle brackets escaped: %s", body)
	}
	_, _, again := u.DroppedResponse(req, s, false)
	if bytes.Equal(body, again) {
		t.Error("two answers share a message id")
	}
	status, h, body = u.DroppedResponse(req, s, true)
	var refused map[string]string
	if err := json.Unmarshal(body, &refused); err != nil || status != http.StatusBadRequest || h.Get("Content-Type") != "application/json" ||
		len(refused) != 1 || refused["message"] == "" || strings.Contains(refused["message"], "@") {
		t.Errorf("error: %d %v %s %v", status, h, body, err)
	}
}

// sdkBodies are requests the real mailgun-go SDK sends, captured by a stand-in server: a
// plain send with cc, bcc, tags and an attachment, a batch send with recipient variables,
// and a MIME send.
func sdkBodies(t testing.TB) []*gateway.OutboundRequest {
	t.Helper()
	var mu sync.Mutex
	var out []*gateway.OutboundRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		out = append(out, &gateway.OutboundRequest{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/sdk"),
			Header: http.Header{"Content-Type": {r.Header.Get("Content-Type")}}, Body: body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"<1@mg.example.com>","message":"Queued. Thank you."}`)
	}))
	defer srv.Close()
	mg := mailgun.NewMailgun("mg.example.com", "key-test")
	mg.SetAPIBase(srv.URL + "/sdk/v3")
	ctx := context.Background()

	m := mailgun.NewMessage("Shop <shop@mg.example.com>", "Hello", "Hi there", "Ana <ana@example.com>", "bob@example.com")
	m.AddCC("carol@example.com")
	m.AddBCC("dan@example.com")
	m.AddTag("newsletter")
	m.AddBufferAttachment("report.bin", []byte("\x00\x01binary\r\n--\r\n"))
	m.SetHTML("<p>Hi</p>")
	batch := mailgun.NewMessage("shop@mg.example.com", "Hey %recipient.name%", "Hi %recipient.name%")
	for i, a := range []string{"ana@example.com", "bob@example.com", "carol@example.com"} {
		if err := batch.AddRecipientAndVariables(a, map[string]any{"name": fmt.Sprint("n", i), "id": i}); err != nil {
			t.Fatal(err)
		}
	}
	mimeMsg := mailgun.NewMIMEMessage(io.NopCloser(strings.NewReader("From: shop@mg.example.com\r\nTo: ana@example.com\r\nSubject: x\r\n\r\nbody\r\n")), "ana@example.com")
	for _, msg := range []*mailgun.Message{m, batch, mimeMsg} {
		if _, _, err := mg.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestParseSendSDKBodies(t *testing.T) {
	u := newUpstream(t, map[string]any{"tags": map[string]any{"newsletter": "marketing"}})
	reqs := sdkBodies(t)
	want := [][]string{
		{"email:carol@example.com", "email:dan@example.com", "email:ana@example.com", "email:bob@example.com"}, // the SDK writes cc and bcc before to
		{"email:ana@example.com", "email:bob@example.com", "email:carol@example.com"},
		{"email:ana@example.com"},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, req := range reqs {
		s, err := u.ParseSend(req)
		if err != nil {
			t.Fatalf("%s: %v", req.Path, err)
		}
		if !slices.Equal(addresses(s), want[i]) {
			t.Errorf("%s: %v, want %v", req.Path, addresses(s), want[i])
		}
	}
	// The batch: dropping bob trims the variables and leaves every other part as it was.
	s, _ := u.ParseSend(reqs[1])
	keep := keepAllBut(s, "bob@example.com")
	out, err := u.Rewrite(reqs[1], s, keep)
	if err != nil {
		t.Fatal(err)
	}
	checkRewrite(t, u, reqs[1], s, keep, out)
	if bytes.Contains(out, []byte("bob@example.com")) || !bytes.Contains(out, []byte(`"carol@example.com":{"id":2,"name":"n2"}`)) {
		t.Errorf("batch rewrite: %q", out)
	}
}

func seedBodies(f *testing.F) []*gateway.OutboundRequest {
	reqs := sdkBodies(f)
	for _, tf := range []struct{ file, path string }{
		{"complex.multipart", "/v3/d/messages"}, {"batch.multipart", "/v3/d/messages"},
		{"mime.multipart", "/v3/d/messages.mime"}, {"tagged.form", "/v3/d/messages"}, {"list.form", "/v3/d/messages"},
	} {
		reqs = append(reqs, request(f, tf.file, tf.path))
	}
	return reqs
}

// fuzzRequest builds a send from fuzz input: multipart with the given boundary unless it
// is empty (then a form), on messages or messages.mime.
func fuzzRequest(mimeSend bool, boundary string, body []byte) *gateway.OutboundRequest {
	ct := "application/x-www-form-urlencoded"
	if boundary != "" {
		ct = "multipart/form-data; boundary=" + boundary
	}
	p := "/v3/d/messages"
	if mimeSend {
		p += ".mime"
	}
	return &gateway.OutboundRequest{Method: "POST", Path: p, Header: http.Header{"Content-Type": {ct}}, Body: body}
}

func boundaryOf(req *gateway.OutboundRequest) string {
	_, b, _ := strings.Cut(req.Header.Get("Content-Type"), "boundary=")
	return b
}

func FuzzParseSend(f *testing.F) {
	u := newUpstream(f, map[string]any{"tags": map[string]any{"newsletter": "marketing"}})
	for _, r := range seedBodies(f) {
		f.Add(strings.HasSuffix(r.Path, ".mime"), boundaryOf(r), r.Body)
	}
	f.Fuzz(func(t *testing.T, mimeSend bool, boundary string, body []byte) {
		s, err := u.ParseSend(fuzzRequest(mimeSend, boundary, body))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if s == nil || len(s.Recipients) == 0 {
			t.Fatal("a send with no recipients")
		}
	})
}

func FuzzRewrite(f *testing.F) {
	u := newUpstream(f, nil)
	for i, r := range seedBodies(f) {
		f.Add(strings.HasSuffix(r.Path, ".mime"), boundaryOf(r), r.Body, uint64(0b0101)<<(i%3))
	}
	f.Fuzz(func(t *testing.T, mimeSend bool, boundary string, body []byte, bits uint64) {
		req := fuzzRequest(mimeSend, boundary, body)
		s, err := u.ParseSend(req)
		if err != nil || s == nil {
			return
		}
		keep := make([]bool, len(s.Recipients))
		anyKept, anyDropped := false, false
		for i := range keep {
			keep[i] = bits&(1<<(uint(i)%64)) != 0
			anyKept = anyKept || keep[i]
		}
		if !anyKept {
			keep[0] = true // Rewrite is only called with at least one recipient kept
		}
		for _, k := range keep {
			anyDropped = anyDropped || !k
		}
		toKept := false
		st := s.State.(*sendState)
		for i, a := range st.at {
			toKept = toKept || keep[i] && st.lists[a.list].field.name == fieldTo
		}
		out, err := u.Rewrite(req, s, keep)
		if mimeSend && anyDropped {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("mime send with a drop: %v", err)
			}
			return
		}
		if !anyDropped {
			// Nothing withheld: the send goes as it came, whatever its lists (a send with
			// only cc is Mailgun's to refuse, not hush's).
			if err != nil || !bytes.Equal(out, req.Body) {
				t.Fatalf("nothing dropped, yet Rewrite = %v", err)
			}
			return
		}
		if !toKept {
			// Only cc/bcc copies kept: they are not sent alone.
			if !errors.Is(err, gateway.ErrNothingToSend) || slices.Contains(keep, true) {
				t.Fatalf("only copies kept: %v (keep %v)", err, keep)
			}
			return
		}
		if err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
		checkRewrite(t, u, req, s, keep, out)
	})
}

func BenchmarkParseRewrite(b *testing.B) {
	u := newUpstream(b, nil)
	// A batch of 500 with recipient variables and a 200 KiB attachment, as the SDK sends it.
	m := mailgun.NewMessage("shop@mg.example.com", "Hey %recipient.name%", "Hi %recipient.name%")
	for i := range 500 {
		_ = m.AddRecipientAndVariables(fmt.Sprintf("user%d@example.com", i), map[string]any{"name": fmt.Sprint("User ", i), "id": i})
	}
	m.AddBufferAttachment("catalog.pdf", bytes.Repeat([]byte("%PDF-1.7 binary\r\n"), 12000))
	var captured *gateway.OutboundRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		captured = &gateway.OutboundRequest{Method: r.Method, Path: r.URL.Path,
			Header: http.Header{"Content-Type": {r.Header.Get("Content-Type")}}, Body: body}
		_, _ = io.WriteString(w, `{"id":"<1@x>","message":"Queued. Thank you."}`)
	}))
	mg := mailgun.NewMailgun("mg.example.com", "key-test")
	mg.SetAPIBase(srv.URL + "/v3")
	if _, _, err := mg.Send(context.Background(), m); err != nil {
		b.Fatal(err)
	}
	srv.Close()
	b.ReportAllocs()
	for b.Loop() {
		s, err := u.ParseSend(captured)
		if err != nil {
			b.Fatal(err)
		}
		keep := make([]bool, len(s.Recipients))
		for i := range keep {
			keep[i] = i%3 != 0
		}
		if _, err := u.Rewrite(captured, s, keep); err != nil {
			b.Fatal(err)
		}
	}
}
