package postmark

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

var fuzzPaths = []string{"/email", "/email/batch", "/email/withTemplate", "/email/batchWithTemplates"}

func fuzzSeeds(f *testing.F) {
	for i, name := range []string{"email.json", "batch.json", "withTemplate.json", "batchWithTemplates.json"} {
		f.Add(i, []byte(testdata(f, name)), uint64(0b10))
	}
	f.Add(0, []byte(testdata(f, "email_sdk.json")), uint64(0b101))
	f.Add(0, []byte(`{"To":"Ana <ana@x.com>, \"Doe, J\" <j@x.com>,b@y.com","Cc":"c@x.com (C), <d@x.com>","Bcc":null}`), uint64(0b11011))
	f.Add(1, []byte(`[{"To":"a@x.com","Cc":"c@x.com"},{"to":"g: b@x.com;"},{"To":""},{"Cc":"e@x.com"}]`), uint64(0b0110))
	f.Add(3, []byte(`{"Messages":[{"To":"=?utf-8?q?Ana?= <a@x.com>, b@x.com"},{"To":"<\"c,d\"@x.com>"}]}`), uint64(0b101))
}

// FuzzParseSend: no panic; errors are invalid-send errors; a send names someone.
func FuzzParseSend(f *testing.F) {
	fuzzSeeds(f)
	u := newUpstream(f, map[string]any{"message_streams": map[string]any{"outbound": "transactional"}})
	f.Fuzz(func(t *testing.T, which int, body []byte, _ uint64) {
		p := fuzzPaths[(which%len(fuzzPaths)+len(fuzzPaths))%len(fuzzPaths)]
		s, err := u.ParseSend(post(p, string(body)))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if s == nil || len(s.Recipients) == 0 || s.Channel != gateway.ChannelEmail {
			t.Fatalf("send %+v", s)
		}
	})
}

// FuzzRewrite: a rewrite never adds an address. Re-reading its output gives exactly the
// kept recipients of the messages that were not dropped, in order, and valid JSON.
func FuzzRewrite(f *testing.F) {
	fuzzSeeds(f)
	u := newUpstream(f, nil)
	f.Fuzz(func(t *testing.T, which int, body []byte, bits uint64) {
		p := fuzzPaths[(which%len(fuzzPaths)+len(fuzzPaths))%len(fuzzPaths)]
		req := post(p, string(body))
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
			keep[0] = true // the proxy only rewrites sends that keep someone
		}
		out, err := u.Rewrite(req, s, keep)
		if err != nil {
			if !errors.Is(err, gateway.ErrNothingToSend) && gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("Rewrite: %v", err)
			}
			return
		}
		var want []string
		for _, m := range s.State.(*parsedSend).messages {
			if m.dropped(keep) {
				continue
			}
			for i := m.first; i < m.first+m.count; i++ {
				if keep[i] {
					want = append(want, "email:"+s.Recipients[i].Address)
				}
			}
		}
		again, err := u.ParseSend(&gateway.OutboundRequest{Method: http.MethodPost, Path: p, Body: out})
		if len(want) == 0 && err != nil && strings.Contains(err.Error(), "names no recipient") && json.Valid(out) {
			return // only messages that named nobody are left, for Postmark to answer
		}
		if err != nil {
			t.Fatalf("rewritten send does not parse: %v\n%s", err, out)
		}
		if got := addresses(again); !reflect.DeepEqual(got, want) {
			t.Fatalf("recipients after rewrite %q, want %q\nin  %s\nout %s", got, want, body, out)
		}
	})
}

// FuzzEditResponse: whatever Postmark answers, EditResponse does not panic and writes valid
// JSON with one entry per original message when it edits.
func FuzzEditResponse(f *testing.F) {
	f.Add([]byte(testdata(f, "batch_answer.json")), uint64(0b1011))
	f.Add([]byte(`[{"ErrorCode":406,"Message":"x"}]`), uint64(0b1))
	f.Add([]byte(`{"ErrorCode":0}`), uint64(0))
	f.Add([]byte(`[1, "two", null]`), uint64(0b110))
	u := newUpstream(f, nil)
	const n = 4
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"To":"u%d@x.com","Cc":"c%d@x.com"}`, i, i)
	}
	b.WriteByte(']')
	req := post("/email/batch", b.String())
	s, err := u.ParseSend(req)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, answer []byte, bits uint64) {
		keep := make([]bool, len(s.Recipients))
		for i := range keep {
			keep[i] = bits&(1<<uint(i)) != 0
		}
		out, err := u.EditResponse(req, s, keep, http.StatusOK, http.Header{}, answer)
		if err != nil || string(out) == string(answer) {
			return // forwarded as Postmark wrote it
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(out, &entries); err != nil || len(entries) != n {
			t.Fatalf("edited answer %q (%v) is not %d entries, from %q", out, err, n, answer)
		}
	})
}

func BenchmarkParseRewriteBatch(b *testing.B) {
	u := newUpstream(b, nil)
	var sb strings.Builder
	sb.WriteByte('[')
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"From":"Shop <shop@example.com>","To":"User %d <user%d@example.com>, other%d@example.com","Cc":"cc%d@example.com","Subject":"Order %d","HtmlBody":"<p>Hello</p>","Metadata":{"order":"%d"},"MessageStream":"broadcast"}`, i, i, i, i, i, i)
	}
	sb.WriteByte(']')
	req := post("/email/batch", sb.String())
	b.ReportAllocs()
	for b.Loop() {
		s, err := u.ParseSend(req)
		if err != nil {
			b.Fatal(err)
		}
		keep := make([]bool, len(s.Recipients))
		for i := range keep {
			keep[i] = i%4 != 1
		}
		if _, err := u.Rewrite(req, s, keep); err != nil {
			b.Fatal(err)
		}
	}
}
