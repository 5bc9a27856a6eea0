package typeform

import (
	"net/http"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// TestServerDocsExample posts the signed example of docs/connectors/typeform.md over HTTP
// through the real server, engine and a bbolt file: accepted once, a duplicate the second
// time, and refused (nothing stored) without a valid signature.
func TestServerDocsExample(t *testing.T) {
	const (
		secret = "my-typeform-secret"
		body   = `{"event_id":"01HDEMO","event_type":"form_response","form_response":{"form_id":"lT4Z3j","token":"tok1","submitted_at":"2026-11-20T09:30:00Z","hidden":{"email":"ana@example.com"},"definition":{"id":"lT4Z3j","title":"Support","fields":[{"id":"q1","ref":"support_rating","type":"rating","title":"How did we do?"}]},"answers":[{"type":"number","number":1,"field":{"id":"q1","type":"rating","ref":"support_rating"}}]}}`
	)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	src, err := NewSource(gateway.SourceConfig{Name: "typeform-support", Kind: Kind, Secret: secret, Options: map[string]any{"csat_ref": "support_rating", "comment_ref": "why", "id_kind": "crm"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := connectortest.NewServer(t, src, connectortest.Options{Name: "typeform-support", Kind: Kind, DefaultRegion: "ES", Now: now})

	post := func(sig string) (int, gateway.IngestResult) {
		t.Helper()
		h := http.Header{}
		if sig != "" {
			h.Set(HeaderSignature, sig)
		}
		return srv.Deliver("typeform-support", h, []byte(body))
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
