package postmark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
	"github.com/mrz1836/postmark"
)

// standInPostmark answers like Postmark: one accepted entry per message of a batch, one
// accepted message for a single send, and a small body for anything else.
func standInPostmark(w http.ResponseWriter, r *http.Request, rec connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	entry := func(i int, to string) string {
		return fmt.Sprintf(`{"ErrorCode":0,"Message":"OK","MessageID":"vendor-%d","SubmittedAt":"2014-02-17T07:25:01.4178645-05:00","To":%q}`, i, to)
	}
	switch rec.Path {
	case "/email/batch":
		var msgs []struct{ To string }
		if err := json.Unmarshal(rec.Body, &msgs); err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"ErrorCode":402,"Message":"Invalid JSON"}`)
			return
		}
		var parts []string
		for i, m := range msgs {
			parts = append(parts, entry(i, m.To))
		}
		_, _ = io.WriteString(w, "["+strings.Join(parts, ",")+"]")
	case "/email":
		var m struct{ To string }
		_ = json.Unmarshal(rec.Body, &m)
		_, _ = io.WriteString(w, `{"To":`+fmt.Sprintf("%q", m.To)+`,"SubmittedAt":"2014-02-17T07:25:01.4178645-05:00","MessageID":"vendor-single","ErrorCode":0,"Message":"OK"}`)
	default:
		_, _ = io.WriteString(w, `{"InactiveMails":2,"Bounces":[{"Name":"All","Count":2}]}`)
	}
}

func newProxy(t *testing.T, opts map[string]any, allDropped string) (*connectortest.Proxy, *postmark.Client) {
	t.Helper()
	u, err := NewUpstream(gateway.UpstreamConfig{Name: "postmark", Kind: Kind, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "postmark", Kind: Kind, Connector: u,
		Channel: gateway.ChannelEmail, OnAllDropped: allDropped, Respond: standInPostmark})
	client := postmark.NewClient("server-token", "")
	client.BaseURL = p.Base // the SDK's documented field for the API root
	return p, client
}

// TestSDKThroughProxy drives github.com/mrz1836/postmark through hush's real proxy.
func TestSDKThroughProxy(t *testing.T) {
	ctx := context.Background()
	p, client := newProxy(t, map[string]any{"message_streams": map[string]any{"outbound": "transactional", "newsletter": "marketing"}}, "")
	p.Silence("email:bob@example.com")

	t.Run("mixed batch", func(t *testing.T) {
		p.Reset()
		emails := []postmark.Email{
			{From: "shop@example.com", To: "Ana <ana@example.com>", Subject: "News 1", HTMLBody: "<p>1</p>", Tag: "news", Metadata: map[string]string{"n": "1"}, MessageStream: "newsletter"},
			{From: "shop@example.com", To: "Bob <bob@example.com>", Cc: "carl@example.com", Subject: "News 2", TextBody: "2", MessageStream: "newsletter"},
			{From: "shop@example.com", To: "dan@example.com, Bob <BOB@example.com>", Bcc: "bob@example.com", Subject: "News 3", TextBody: "3", MessageStream: "newsletter"},
		}
		res, err := client.SendEmailBatch(ctx, emails)
		if err != nil {
			t.Fatal(err)
		}
		var got []postmark.Email
		if err := json.Unmarshal(p.Last().Body, &got); err != nil {
			t.Fatal(err)
		}
		want := []postmark.Email{emails[0], emails[2]}
		want[1].To, want[1].Bcc = "dan@example.com", ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("vendor got %+v\nwant %+v", got, want)
		}
		if len(res) != 3 {
			t.Fatalf("SDK got %d answers for 3 messages: %+v", len(res), res)
		}
		if res[0].MessageID != "vendor-0" || res[2].MessageID != "vendor-1" || res[2].To != "dan@example.com" {
			t.Errorf("vendor answers not at their messages' indexes: %+v", res)
		}
		if res[1].ErrorCode != 0 || res[1].Message != "OK" || !uuidPattern.MatchString(res[1].MessageID) || res[1].SubmittedAt.IsZero() || res[1].To != "Bob <bob@example.com>" {
			t.Errorf("made-up answer for the dropped message: %+v", res[1])
		}
	})

	t.Run("all silenced single send", func(t *testing.T) {
		p.Reset()
		res, err := client.SendEmail(ctx, postmark.Email{From: "shop@example.com", To: "bob@example.com", Subject: "Sale", TextBody: "x", MessageStream: "broadcast"})
		if err != nil {
			t.Fatalf("SDK saw an error: %v", err)
		}
		if res.ErrorCode != 0 || res.To != "bob@example.com" || !uuidPattern.MatchString(res.MessageID) {
			t.Errorf("answer %+v", res)
		}
		if n := len(p.Requests()); n != 0 {
			t.Errorf("%d requests reached the vendor", n)
		}
	})

	t.Run("transactional stream goes through", func(t *testing.T) {
		p.Reset()
		res, err := client.SendEmail(ctx, postmark.Email{From: "shop@example.com", To: "bob@example.com", Subject: "Receipt", TextBody: "x", MessageStream: "outbound"})
		if err != nil || res.MessageID != "vendor-single" {
			t.Fatalf("%+v %v", res, err)
		}
		if !strings.Contains(string(p.Last().Body), `"To":"bob@example.com"`) {
			t.Errorf("vendor got %s", p.Last().Body)
		}
	})

	t.Run("non-send untouched", func(t *testing.T) {
		p.Reset()
		stats, err := client.GetDeliveryStats(ctx)
		if err != nil || stats.InactiveMails != 2 {
			t.Fatalf("%+v %v", stats, err)
		}
		last := p.Last()
		if last.Method != http.MethodGet || last.Path != "/deliverystats" || last.Header.Get("X-Postmark-Server-Token") != "server-token" {
			t.Errorf("vendor got %s %s %v", last.Method, last.Path, last.Header)
		}
	})

	t.Run("decisions recorded", func(t *testing.T) {
		bob := p.Decisions("email:bob@example.com")
		var dropped, allowed int
		for _, d := range bob {
			if d.Allowed {
				allowed++
			} else {
				dropped++
			}
		}
		// Dropped: batch message 2 and message 3 (To and Bcc), the broadcast send. Allowed:
		// the transactional receipt.
		if dropped != 4 || allowed != 1 {
			t.Errorf("bob: %d dropped, %d allowed: %+v", dropped, allowed, bob)
		}
	})
}

// TestSDKRefusalMode: with on_all_dropped: error the SDK sees Postmark's inactive-recipient
// error, and a batch gets Postmark's per-message errors.
func TestSDKRefusalMode(t *testing.T) {
	ctx := context.Background()
	p, client := newProxy(t, nil, server.AllDroppedError)
	p.Silence("email:bob@example.com")

	_, err := client.SendEmail(ctx, postmark.Email{From: "shop@example.com", To: "bob@example.com", Subject: "Sale", TextBody: "x"})
	var apiErr postmark.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != 406 || !strings.Contains(apiErr.Message, "bob@example.com") {
		t.Errorf("single: %#v", err)
	}
	res, err := client.SendEmailBatch(ctx, []postmark.Email{{From: "shop@example.com", To: "bob@example.com", Subject: "a", TextBody: "x"}})
	if err != nil || len(res) != 1 || res[0].ErrorCode != 406 {
		t.Errorf("batch: %+v %v", res, err)
	}
	if n := len(p.Requests()); n != 0 {
		t.Errorf("%d requests reached the vendor", n)
	}
}

// TestCcOnlyLeftIsDropped: a single send whose To is silenced but whose Cc is not is never
// forwarded (Postmark requires To; promoting the Cc would change the message): it is
// answered as a fully dropped send.
func TestCcOnlyLeftIsDropped(t *testing.T) {
	p, client := newProxy(t, nil, "")
	p.Silence("email:bob@example.com")
	res, err := client.SendEmail(context.Background(), postmark.Email{From: "shop@example.com", To: "bob@example.com", Cc: "carl@example.com", Subject: "a", TextBody: "x"})
	if err != nil || res.ErrorCode != 0 || res.MessageID == "" {
		t.Errorf("SDK got %+v, %v; want Postmark's OK", res, err)
	}
	if n := len(p.Requests()); n != 0 {
		t.Errorf("%d requests reached the vendor", n)
	}
}
