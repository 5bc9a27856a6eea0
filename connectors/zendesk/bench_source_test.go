package zendesk_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/zendesk"
	"github.com/hush-gateway/hush/gateway"
)

// BenchmarkVerifyAndParse is the connector's share of a Zendesk webhook: the signature
// check over timestamp + body and the parse of the ticket.created event envelope that
// `hush bench` sends in its intake scenario.
//
//	go test ./connectors/zendesk -run '^$' -bench VerifyAndParse -benchmem
func BenchmarkVerifyAndParse(b *testing.B) {
	secret := "bench-signing-secret"
	src, err := zendesk.NewSource(gateway.SourceConfig{Name: "zendesk", Kind: zendesk.Kind, Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join("testdata", "event_ticket_created.json"))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 9, 12, 8, 0, time.UTC)
	ts := at.Format(time.RFC3339)
	h := http.Header{}
	h.Set(zendesk.HeaderTimestamp, ts)
	h.Set(zendesk.HeaderSignature, zendesk.Sign([]byte(secret), ts, body))
	req := &gateway.WebhookRequest{Source: "zendesk", Method: http.MethodPost, Header: h, Body: body, ReceivedAt: at}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Verify(req); err != nil {
			b.Fatal(err)
		}
		res, err := src.Parse(req)
		if err != nil || len(res.Events) != 1 {
			b.Fatalf("parse: %d events, %v", len(res.Events), err)
		}
	}
}
