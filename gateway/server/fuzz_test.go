package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Fuzz targets of the request decoders: whatever a caller sends, the answer is a 400 (or
// 413) *gateway.Error sentence, never a panic nor a 500; and the proxy path checks never let
// a request reach anything but the configured upstream's base path.

// isCallerError reports whether err is the *gateway.Error a handler answers 400 or 413 with.
func isCallerError(err error) bool {
	var ge *gateway.Error
	return errors.As(err, &ge) && (ge.Code == gateway.CodeInvalid || ge.Code == gateway.CodeTooLarge)
}

// FuzzParseEvents: POST /api/v1/events bodies. A refusal is a 400 *gateway.Error; an
// accepted body gives 1..1000 events that passed checkEvent, with the fields hush sets on
// intake (received_at, customer_id, seq) set by hush, not by the caller.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{
		`{"id":"e1","type":"survey.response","customer":{"email":"ana@example.com"},"score":2}`,
		`[{"id":"e1","type":"ticket.created","customer":{"phone":"+34600111222"},"channel":"sms"},{"id":"e2","type":"incident.opened"}]`,
		`{"id":"e1","type":"survey.response","customer":{"ids":{"zendesk":"1"}},"customer_id":"cus_x","seq":7,"at":"2026-01-02T03:04:05Z"}`,
		`[]`, `{}`, ``, `[{"id":"e1"}`, `{"id":"e1","type":"nope"}`, `{"id":1}`, `{"id":"e","type":"survey.response","x":1}`,
		`{"id":"e","type":"survey.response","customer":{"email":"ana@example.com"}} {}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"id":"e","type":"survey.response","customer":{"email":"not an address"}}`, `null`, `[null]`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := parseEvents(body, now)
		if err != nil {
			if !isCallerError(err) {
				t.Fatalf("parseEvents(%q): %T %v, want a 400 *gateway.Error", body, err, err)
			}
			return
		}
		if len(events) == 0 || len(events) > maxEventsPerRequest {
			t.Fatalf("parseEvents(%q) accepted %d events", body, len(events))
		}
		for i := range events {
			e := &events[i]
			if e.ID == "" || !gateway.KnownEventType(e.Type) || e.Source == "" || len(e.Raw) == 0 {
				t.Fatalf("parseEvents(%q) accepted an incomplete event %+v", body, e)
			}
			if !e.ReceivedAt.Equal(now) || e.CustomerID != "" || e.Seq != 0 {
				t.Fatalf("parseEvents(%q) kept a field hush sets: %+v", body, e)
			}
		}
	})
}

// FuzzRequestBodies: the JSON bodies of the decision API and the admin API (silences, lifts,
// opt-outs, incidents, customer links) decoded as the handlers decode them. A refusal is a
// 400 sentence that never quotes more than a field name (no value, which may be personal
// data); a decision body that decodes either becomes a request or is refused the same way.
func FuzzRequestBodies(f *testing.F) {
	for i, s := range []string{
		`{"channel":"email","category":"marketing","recipients":[{"email":"ana@example.com"},{"phone":"+34600111222"},{"id":"zendesk:1"}]}`,
		`{"channel":"email","recipients":[{"email":"a@b.c","phone":"+1"}],"record":false}`,
		`{"recipients":[{"id":"sms:1"}]}`, `{"recipients":[{}]}`, `{"recipients":"x"}`,
		`{"customer":"email:ana@example.com","duration":"15d","channels":["email"],"reason":"r"}`,
		`{"duration":"7000w7000w7000w7000w7000w"}`, `{"duration":-1}`, `{"reason":"lifted"}`,
		`{"identity":"+34600111222","channels":["sms","any"]}`, `{"title":"outage","until":"2026-12-05T10:00:00Z"}`,
		`{"identity":"zendesk:1"}`, `{"a":1}`, `[]`, `null`, `{"channel":"email"} {}`, `{"channel":"email"`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	targets := []func() any{
		func() any { return new(decisionRequestBody) },
		func() any { return new(silenceBody) },
		func() any { return new(liftBody) },
		func() any { return new(optOutBody) },
		func() any { return new(incidentBody) },
		func() any { return new(linkBody) },
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		v := targets[int(which)%len(targets)]()
		err := unmarshalStrict(body, v, "")
		if err != nil {
			if !isCallerError(err) {
				t.Fatalf("decoding %q into %T: %T %v, want a 400 *gateway.Error", body, v, err, err)
			}
			return
		}
		if d, ok := v.(*decisionRequestBody); ok {
			if _, err := d.toRequest("ES"); err != nil && !isCallerError(err) {
				t.Fatalf("decision body %q: %T %v, want a 400 *gateway.Error", body, err, err)
			}
		}
	})
}

// FuzzProxyPath: whatever path a caller puts after /proxy/{upstream}, a path checkProxyPath
// lets through joins the upstream's base URL to give a URL on the same scheme and host,
// under the base path, with no ".." segment even once decoded again, and nothing but the
// caller's query.
func FuzzProxyPath(f *testing.F) {
	for _, s := range []string{
		"/v3/mail/send", "/", "/a/../b", "/a/%2e%2e/b", "/a/%252e%252e/b", "//evil.example/x", "/http://evil.example",
		"/a%2F..%2Fb", "/a\\b", "/a%5cb", "/a%00b", "/%zz", "/a/./b", "/a%2f%2fb", "/@evil.example", "/;..",
		"/%2e", "/.%2e/", "/a?b=1", "/a#frag", "/%252f%252fevil",
	} {
		f.Add(s, "q=1")
	}
	base, err := url.Parse("https://api.vendor.example/base/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rest, rawQuery string) {
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest
		}
		if err := checkProxyPath(rest); err != nil {
			if !isCallerError(err) {
				t.Fatalf("checkProxyPath(%q): %T %v", rest, err, err)
			}
			return
		}
		decoded, err := url.PathUnescape(rest)
		if err != nil {
			t.Fatalf("checkProxyPath let %q through but it does not unescape: %v", rest, err)
		}
		target := proxyTarget(base, rest, decoded, rawQuery)
		// What the transport would put on the wire, read back the way a server would.
		wire, err := url.Parse(target.String())
		if err != nil {
			return // the transport refuses to send it: nothing reaches anyone
		}
		if wire.Scheme != base.Scheme || wire.Host != base.Host || wire.User != nil {
			t.Fatalf("path %q reaches %s://%s (%s)", rest, wire.Scheme, wire.Host, target)
		}
		if !strings.HasPrefix(wire.Path, "/base/") {
			t.Fatalf("path %q leaves the base path: %q", rest, wire.Path)
		}
		for _, p := range []string{wire.Path, wire.EscapedPath()} {
			if again, err := url.PathUnescape(p); err == nil {
				p = again
			}
			for _, seg := range strings.Split(p, "/") {
				if seg == ".." {
					t.Fatalf("path %q reaches the upstream as %q", rest, wire.EscapedPath())
				}
			}
		}
	})
}

// FuzzTimelineCursor: a cursor a caller sends back is either refused with a 400 or one the
// server could have handed out: its fields in range, and encoding it gives a cursor that
// decodes to the same value.
func FuzzTimelineCursor(f *testing.F) {
	for _, c := range []timelineCursor{
		{PageSize: 50},
		{PageSize: 1000, Events: streamPos{Cursor: "abc", Offset: 3}, Decisions: streamPos{Done: true}},
	} {
		f.Add(c.encode())
	}
	for _, s := range []string{"", "!", "e30", "eyJuIjowfQ", "eyJuIjotMX0", "eyJuIjoxLCJlIjp7Im8iOi0xfX0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeTimelineCursor(s)
		if err != nil {
			if !isCallerError(err) {
				t.Fatalf("decodeTimelineCursor(%q): %T %v", s, err, err)
			}
			return
		}
		if c.PageSize < 1 || c.PageSize > 1000 || c.Events.Offset < 0 || c.Decisions.Offset < 0 {
			t.Fatalf("decodeTimelineCursor(%q) = %+v: out of range", s, c)
		}
		again, err := decodeTimelineCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("cursor %+v does not round-trip: %+v, %v", c, again, err)
		}
	})
}

// FuzzDecodeBody: a gzip request body the proxy reads never expands past the limit (a
// refusal is a 400 or 413 *gateway.Error), identity bodies come back untouched, and
// encodeBody's output decodes to what was encoded.
func FuzzDecodeBody(f *testing.F) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return buf.Bytes()
	}
	f.Add("gzip", gz([]byte(`{"personalizations":[]}`)))
	f.Add("gzip", gz(bytes.Repeat([]byte("a"), 5000)))
	f.Add("x-gzip", gz(nil))
	f.Add("gzip", []byte("not gzip"))
	f.Add("gzip", gz([]byte("x"))[:10])
	f.Add("", []byte("plain"))
	f.Add("br", []byte("\x0b"))
	const limit = 1024
	f.Fuzz(func(t *testing.T, enc string, body []byte) {
		plain, ok, err := decodeBody(enc, body, limit)
		if err != nil {
			if !isCallerError(err) {
				t.Fatalf("decodeBody(%q): %T %v", enc, err, err)
			}
			return
		}
		if !ok || enc == "" {
			if !bytes.Equal(plain, body) {
				t.Fatalf("decodeBody(%q) changed a body it does not read", enc)
			}
			return
		}
		if len(plain) > limit {
			t.Fatalf("decodeBody(%q) expanded to %d bytes, limit %d", enc, len(plain), limit)
		}
		re, err := encodeBody(enc, plain)
		if err != nil {
			t.Fatalf("encodeBody(%q): %v", enc, err)
		}
		back, _, err := decodeBody(enc, re, limit)
		if err != nil || !bytes.Equal(back, plain) {
			t.Fatalf("encodeBody(%q) does not decode back: %v", enc, err)
		}
	})
}

// FuzzLocalPath: whatever a form or a query names as the place to go after signing in, after
// switching language or after a form, the console redirects only within hush. A browser
// resolving the result against the console's own URL stays on the same scheme and host;
// backslashes and tabs or newlines (which browsers read as slashes or drop) never pass.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{
		"/console/silences?rule=low-csat", "/", "//evil.example/x", "/\\evil.example", "https://evil.example/",
		"/%2F%2Fevil.example", "/console/../x", "\t//evil.example", "/\t/evil.example", "javascript:alert(1)",
		"/console/customers/email%3Aana%40example.com", "///evil.example", "/console/@evil.example",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://hush.example/console/silences")
	f.Fuzz(func(t *testing.T, s string) {
		p := localPath(s)
		if b := localBack(s, "/fallback"); b != "/fallback" && (b != p || !strings.HasPrefix(b, consolePrefix+"/")) {
			t.Fatalf("localBack(%q) = %q, want the fallback or a console path", s, b)
		}
		if p == "" {
			return
		}
		if p != s {
			t.Fatalf("localPath(%q) = %q: it must accept as is or refuse", s, p)
		}
		if strings.ContainsAny(p, "\\\t\r\n") {
			t.Fatalf("localPath let %q through: browsers read a backslash as a slash and drop tabs", s)
		}
		ref, err := url.Parse(p)
		if err != nil {
			t.Fatalf("localPath let %q through, which does not parse: %v", s, err)
		}
		if got := base.ResolveReference(ref); got.Scheme != base.Scheme || got.Host != base.Host {
			t.Fatalf("localPath let %q through, which leads to %s", s, got)
		}
	})
}
