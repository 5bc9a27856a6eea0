package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// extendedMail is the real generic mail upstream plus the optional interfaces a vendor
// connector may implement, each switched on by a field, so the proxy's use of them can be
// tested apart from any one vendor.
type extendedMail struct {
	gateway.Upstream
	category gateway.Category // set on every send
	edits    bool             // ResponseEditor: appends what was dropped to the answer
	forwards bool             // DroppedForwarder: forwards {"to":[],"suppressed":true}
	// coupled: recipient 1 is only sent to with recipient 0 (a Cc with its To); when that
	// leaves nobody, Rewrite says ErrNothingToSend.
	coupled bool
}

func (m extendedMail) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	if m.coupled && !keep[0] && len(keep) > 1 {
		keep[1] = false
		if !slices.Contains(keep, true) {
			return nil, gateway.ErrNothingToSend
		}
	}
	return m.Upstream.Rewrite(req, send, keep)
}

func (m extendedMail) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	s, err := m.Upstream.ParseSend(req)
	if s != nil {
		s.Category = m.category
	}
	return s, err
}

func (m extendedMail) EditResponse(req *gateway.OutboundRequest, send *gateway.Send, keep []bool, status int, header http.Header, body []byte) ([]byte, error) {
	if !m.edits {
		return nil, fmt.Errorf("not editing")
	}
	dropped := 0
	for _, k := range keep {
		if !k {
			dropped++
		}
	}
	return fmt.Appendf(nil, `{"upstream":%s,"status":%d,"dropped":%d}`, body, status, dropped), nil
}

func (m extendedMail) AnswerLocally(req *gateway.OutboundRequest) (int, http.Header, []byte, bool) {
	if req.Method == http.MethodGet && strings.HasPrefix(req.Path, "/v1/messages/hush-") {
		return http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(`{"id":"` + req.Path[len("/v1/messages/"):] + `"}`), true
	}
	return 0, nil, nil, false
}

func (m extendedMail) ForwardDropped(req *gateway.OutboundRequest, send *gateway.Send) ([]byte, bool, error) {
	if !m.forwards {
		return nil, false, nil
	}
	return []byte(`{"to":[],"suppressed":true}`), true, nil
}

func extendedUpstreams(t *testing.T, m extendedMail) []server.Upstream {
	m.Upstream = mailConnector(t)
	return []server.Upstream{{Name: "ext", Kind: "generic", Connector: m, Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing}}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("forwarded body is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestProxyGzipBodies(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: mailUpstreams(t), bodyLimit: 4096})
	h.silence("ana@example.com")
	plain := []byte(`{"to": ["ana@example.com", "bea@example.com"], "n": 1.50}`)

	res := h.do(http.MethodPost, "/proxy/mail/v1/send", "", gzipped(t, plain), "Content-Encoding", "gzip")
	if res.status != http.StatusAccepted || res.header.Get("Hush-Dropped") != "1" {
		t.Fatalf("gzip send: %d %s %v", res.status, res.body, res.header)
	}
	got := h.upstream.requests()[0]
	if got.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("forwarded Content-Encoding %q", got.header.Get("Content-Encoding"))
	}
	if b := gunzip(t, got.body); string(b) != `{"to": ["bea@example.com"], "n": 1.50}` {
		t.Errorf("forwarded body decompresses to %s", b)
	}

	// Nothing dropped: the caller's compressed bytes go on exactly.
	orig := gzipped(t, []byte(`{"to": ["bea@example.com"]}`))
	res = h.do(http.MethodPost, "/proxy/mail/v1/send", "", orig, "Content-Encoding", "gzip")
	if reqs := h.upstream.requests(); res.status != http.StatusAccepted || !bytes.Equal(reqs[len(reqs)-1].body, orig) {
		t.Errorf("unrewritten gzip send not forwarded byte for byte (%d)", res.status)
	}

	tests := []struct {
		name   string
		body   []byte
		enc    string
		status int
		msg    string
	}{
		{"bomb", gzipped(t, bytes.Repeat([]byte(" "), 10000)), "gzip", http.StatusRequestEntityTooLarge, "decompressed"},
		{"not gzip", plain, "gzip", http.StatusBadRequest, "not gzip"},
		{"brotli send", []byte{0x1b, 0x2, 0x3}, "br", http.StatusBadRequest, "Content-Encoding: gzip, not br"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.upstream.requests())
			res := h.do(http.MethodPost, "/proxy/mail/v1/send", "", tt.body, "Content-Encoding", tt.enc)
			if res.status != tt.status || !strings.Contains(res.errorMessage(t), tt.msg) {
				t.Errorf("%d %s, want %d mentioning %q", res.status, res.body, tt.status, tt.msg)
			}
			if len(h.upstream.requests()) != before {
				t.Error("refused send was forwarded")
			}
		})
	}
	// A compressed non-send is none of hush's business.
	res = h.do(http.MethodPost, "/proxy/mail/v1/lists", "", []byte{0x1b, 0x2}, "Content-Encoding", "br")
	if res.status != http.StatusAccepted {
		t.Errorf("br non-send: %d %s", res.status, res.body)
	}
}

func TestProxySendCategoryPrecedence(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: extendedUpstreams(t, extendedMail{category: gateway.CategoryTransactional})})
	h.silence("ana@example.com")
	body := []byte(`{"to": ["ana@example.com"]}`)
	// The send's own category (transactional) wins over the upstream's (marketing)…
	if res := h.do(http.MethodPost, "/proxy/ext/v1/send", "", body); res.status != http.StatusAccepted || res.header.Get("Hush-Allowed") != "1" {
		t.Errorf("transactional send: %d %v", res.status, res.header)
	}
	// …and the caller's header wins over the send's.
	if res := h.do(http.MethodPost, "/proxy/ext/v1/send", "", body, "Hush-Category", "marketing"); res.header.Get("Hush-Dropped") != "1" {
		t.Errorf("Hush-Category marketing: %d %v", res.status, res.header)
	}
	if n := len(h.upstream.requests()); n != 1 {
		t.Errorf("%d requests forwarded, want 1", n)
	}
}

func TestProxyResponseEditor(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: extendedUpstreams(t, extendedMail{edits: true})})
	h.silence("ana@example.com")
	res := h.do(http.MethodPost, "/proxy/ext/v1/send", "", []byte(`{"to": ["ana@example.com", "bea@example.com"]}`), "Accept-Encoding", "gzip")
	want := `{"upstream":{"queued":true},"status":202,"dropped":1}`
	if res.status != http.StatusAccepted || string(res.body) != want || res.header.Get("Content-Length") != fmt.Sprint(len(want)) {
		t.Errorf("partly dropped send answered %d %s %v, want %s", res.status, res.body, res.header, want)
	}
	if ae := h.upstream.requests()[0].header.Get("Accept-Encoding"); ae != "identity" {
		t.Errorf("upstream asked for Accept-Encoding %q; an answer hush edits must come uncompressed", ae)
	}
	// Nothing dropped: the answer is the upstream's own.
	res = h.do(http.MethodPost, "/proxy/ext/v1/send", "", []byte(`{"to": ["bea@example.com"]}`))
	if string(res.body) != `{"queued":true}` {
		t.Errorf("answer to an untouched send was edited: %s", res.body)
	}
	// A failed upstream answer is not edited.
	h.upstream.setStatus(http.StatusBadRequest)
	res = h.do(http.MethodPost, "/proxy/ext/v1/send", "", []byte(`{"to": ["ana@example.com", "bea@example.com"]}`))
	if res.status != http.StatusBadRequest || string(res.body) != `{"queued":true}` {
		t.Errorf("4xx answer: %d %s", res.status, res.body)
	}
}

func TestProxyLocalAnswer(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: extendedUpstreams(t, extendedMail{})})
	res := h.do(http.MethodGet, "/proxy/ext/v1/messages/hush-123", "", nil)
	var got struct{ ID string }
	res.json(t, &got)
	if res.status != http.StatusOK || got.ID != "hush-123" || len(h.upstream.requests()) != 0 {
		t.Errorf("local answer %d %s; %d forwarded", res.status, res.body, len(h.upstream.requests()))
	}
	if res := h.do(http.MethodGet, "/proxy/ext/v1/messages/vendor-9", "", nil); res.status != http.StatusAccepted || len(h.upstream.requests()) != 1 {
		t.Errorf("vendor's own message: %d, %d forwarded", res.status, len(h.upstream.requests()))
	}
}

func TestProxyDroppedForwarder(t *testing.T) {
	h := newHarness(t, harnessOptions{upstreams: extendedUpstreams(t, extendedMail{forwards: true})})
	h.silence("ana@example.com")
	res := h.do(http.MethodPost, "/proxy/ext/v1/send", "", gzipped(t, []byte(`{"to": ["ana@example.com"]}`)), "Content-Encoding", "gzip")
	if res.status != http.StatusAccepted || res.header.Get("Hush-Dropped") != "1" || res.header.Get("Hush-Allowed") != "0" {
		t.Fatalf("forwarded dropped send: %d %s %v", res.status, res.body, res.header)
	}
	reqs := h.upstream.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests forwarded", len(reqs))
	}
	var doc map[string]any
	if err := json.Unmarshal(gunzip(t, reqs[0].body), &doc); err != nil || doc["suppressed"] != true {
		t.Errorf("forwarded %s (%v)", reqs[0].body, err)
	}
	if d := h.decisionsOf(gateway.Identity("email:ana@example.com")); len(d) != 1 || d[0].Allowed {
		t.Errorf("decisions: %+v", d)
	}
}

func TestProxyRewriteRemovesCoupledRecipients(t *testing.T) {
	h := newHarness(t, harnessOptions{
		upstreams: extendedUpstreams(t, extendedMail{coupled: true}),
		caps:      []gateway.CapSpec{{Channel: gateway.ChannelEmail, Category: gateway.CategoryMarketing, Max: 1, Per: gateway.Duration(24 * time.Hour)}},
	})
	h.silence("ana@example.com")
	capped := func(email string) bool {
		t.Helper()
		res := h.do(http.MethodPost, "/api/v1/decisions", decideToken, map[string]any{"channel": "email", "record": false,
			"recipients": []any{map[string]string{"email": email}}})
		return strings.Contains(string(res.body), `"reason":"frequency_cap"`)
	}

	// Ana (dropped) takes Bea with her; Cid goes on.
	res := h.do(http.MethodPost, "/proxy/ext/v1/send", "", []byte(`{"to": ["ana@example.com", "bea@example.com", "cid@example.com"]}`))
	if res.status != http.StatusAccepted || res.header.Get("Hush-Allowed") != "1" || res.header.Get("Hush-Dropped") != "2" {
		t.Fatalf("coupled send: %d %s %v", res.status, res.body, res.header)
	}
	if got := string(h.upstream.requests()[0].body); got != `{"to": ["cid@example.com"]}` {
		t.Errorf("forwarded %s", got)
	}
	if capped("bea@example.com") {
		t.Error("Bea was not contacted, but her cap slot was kept")
	}
	if !capped("cid@example.com") {
		t.Error("Cid was contacted, but his cap slot was given back")
	}

	// Only Ana and Bea: nothing is left to send, so hush answers as for a fully dropped send.
	res = h.do(http.MethodPost, "/proxy/ext/v1/send", "", []byte(`{"to": ["ana@example.com", "bea@example.com"]}`))
	if res.status != http.StatusAccepted || string(res.body) != `{"queued":true}` || res.header.Get("Hush-Allowed") != "0" || res.header.Get("Hush-Dropped") != "2" {
		t.Errorf("nothing to send: %d %s %v", res.status, res.body, res.header)
	}
	if n := len(h.upstream.requests()); n != 1 {
		t.Errorf("%d requests forwarded, want 1", n)
	}
	if capped("bea@example.com") {
		t.Error("Bea's cap slot was kept for a send that never left")
	}
}
