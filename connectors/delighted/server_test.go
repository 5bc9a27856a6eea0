package delighted

import (
	"net/http"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// TestServerDocsExample posts the signed example of docs/connectors/delighted.md over HTTP
// through the real server, engine and a bbolt file: accepted once, a duplicate the second
// time, and refused (nothing stored) without a valid signature.
func TestServerDocsExample(t *testing.T) {
	const (
		secret = "my-delighted-secret"
		body   = `{"event_type":"survey_response.updated","event_id":"evt-demo-1","event_data":{"id":"5435","person":{"id":"5975","email":"ana@example.com","name":"Ana"},"survey_type":"nps","score":3,"comment":"Too slow","created_at":1763631000,"updated_at":1763631600}}`
	)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	src, err := NewSource(gateway.SourceConfig{Name: "delighted", Kind: Kind, Secret: secret, Options: nil})
	if err != nil {
		t.Fatal(err)
	}
	srv := connectortest.NewServer(t, src, connectortest.Options{Name: "delighted", Kind: Kind, DefaultRegion: "ES", Now: now})

	post := func(sig string) (int, gateway.IngestResult) {
		t.Helper()
		h := http.Header{}
		if sig != "" {
			h.Set(HeaderSignature, sig)
		}
		return srv.Deliver("delighted", h, []byte(body))
	}
	good := independentSign(secret, []byte(body))
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: status %d, want 401", code)
	}
	if code, _ := post(independentSign("wrong", []byte(body))); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: status %d, want 401", code)
	}
	if code, res := post(good); code != http.StatusOK || res.Accepted != 1 || res.Duplicates != 0 {
		t.Fatalf("first delivery: %d %+v", code, res)
	}
	if code, res := post(good); code != http.StatusOK || res.Accepted != 0 || res.Duplicates != 1 {
		t.Fatalf("redelivery: %d %+v", code, res)
	}
}
