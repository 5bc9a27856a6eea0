package generic

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
)

// TestThroughProxy drives a configured JSON send through hush's real proxy: the silenced
// recipient never reaches the vendor, every other byte does, and the decisions are recorded.
func TestThroughProxy(t *testing.T) {
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "mail", Kind: Kind, Connector: sendgridLike(t), Channel: "email"})
	p.Silence("email:bob@example.com")

	send := func(body string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Post(p.Base+"/plain?x=1", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp, buf.Bytes()
	}
	resp, _ := send(`{"to": "ana@example.com", "cc": "bob@example.com", "n": 1.50}`)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Dropped") != "1" || resp.Header.Get("Hush-Allowed") != "1" {
		t.Fatalf("mixed send: %d %v", resp.StatusCode, resp.Header)
	}
	got := p.Last()
	if string(got.Body) != `{"to": "ana@example.com", "n": 1.50}` || got.Path != "/plain" || got.RawQuery != "x=1" {
		t.Errorf("vendor got %s %s?%s", got.Body, got.Path, got.RawQuery)
	}
	if d := p.Decisions("email:bob@example.com"); len(d) != 1 || d[0].Allowed {
		t.Errorf("bob's decisions: %+v", d)
	}

	p.Reset()
	resp, body := send(`{"to": "bob@example.com"}`)
	if resp.StatusCode != http.StatusOK || len(p.Requests()) != 0 || !bytes.Contains(body, []byte(`"dropped"`)) {
		t.Errorf("all-dropped send: %d %s, %d requests reached the vendor", resp.StatusCode, body, len(p.Requests()))
	}
}
