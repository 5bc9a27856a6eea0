package mandrill

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// standIn answers like Mandrill: one "sent" entry per message.to[] addressee it received,
// or for send-raw per address of the top-level to[].
func standIn(w http.ResponseWriter, r *http.Request, rec connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if !strings.Contains(rec.Path, "/messages/send") {
		_, _ = io.WriteString(w, `"PONG!"`)
		return
	}
	var req struct {
		Message struct {
			To []struct {
				Email string `json:"email"`
			} `json:"to"`
		} `json:"message"`
		To []string `json:"to"` // send-raw
	}
	if err := json.Unmarshal(rec.Body, &req); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"status":"error","code":-2,"name":"ValidationError","message":"bad JSON"}`)
		return
	}
	emails := req.To
	for _, to := range req.Message.To {
		emails = append(emails, to.Email)
	}
	var parts []string
	for i, email := range emails {
		parts = append(parts, `{"email":"`+email+`","status":"sent","reject_reason":null,"_id":"`+strings.Repeat(string(rune('a'+i)), 32)+`"}`)
	}
	_, _ = io.WriteString(w, "["+strings.Join(parts, ",")+"]")
}

func call(t *testing.T, url string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestThroughProxy drives Mandrill's documented request bodies through hush's real proxy
// (bbolt store, policy engine) in front of a stand-in Mandrill.
func TestThroughProxy(t *testing.T) {
	u := newUpstream(t, map[string]any{"tags": map[string]any{"invoices": "transactional"}})
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "mandrill", Kind: Kind, Connector: u,
		Channel: gateway.ChannelEmail, Respond: standIn})
	p.Silence("email:second.recipient@example.com")
	p.Silence("email:recipient.email@example.com")

	three := readFile(t, "send_three_recipients.json")

	t.Run("mixed send", func(t *testing.T) {
		p.Reset()
		resp, body := call(t, p.Base+"/api/1.0/messages/send.json", three, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "1" || resp.Header.Get("Hush-Dropped") != "2" {
			t.Fatalf("mixed send: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		got := p.Last()
		if got.Path != "/api/1.0/messages/send.json" {
			t.Errorf("vendor got path %s", got.Path)
		}
		// Exactly what the connector's rewrite makes: only the third addressee, every other
		// byte as sent.
		req := post("/api/1.0/messages/send.json", three)
		s, err := u.ParseSend(req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := u.Rewrite(req, s, []bool{false, false, true})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, want) {
			t.Errorf("vendor got\n%s\nwant\n%s", got.Body, want)
		}
		for _, gone := range []string{"second.recipient", "recipient.email@", "123456", "123457"} {
			if bytes.Contains(got.Body, []byte(gone)) {
				t.Errorf("vendor body still has %q", gone)
			}
		}
		for _, stays := range []string{`"key": "example key"`, `"global_merge_vars"`, `"send_at": "example send_at"`, `"user_id": 123458`, `"bcc_address": "message.bcc_address@example.com"`} {
			if !bytes.Contains(got.Body, []byte(stays)) {
				t.Errorf("vendor body lost %s", stays)
			}
		}
		// The answer lists every addressee, in request order: the dropped ones rejected.
		var entries []entry
		if err := json.Unmarshal(body, &entries); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		var states []string
		for _, e := range entries {
			states = append(states, e.Email+"/"+e.Status)
		}
		wantStates := []string{"recipient.email@example.com/rejected", "second.recipient@example.com/rejected", "third.recipient@example.com/sent"}
		if !slices.Equal(states, wantStates) {
			t.Errorf("answer entries %v, want %v", states, wantStates)
		}
	})

	t.Run("all dropped", func(t *testing.T) {
		p.Reset()
		resp, body := call(t, p.Base+"/api/1.0/messages/send-template.json", readFile(t, "docs_send_template.json"), nil)
		if resp.StatusCode != http.StatusOK || len(p.Requests()) != 0 {
			t.Fatalf("all-dropped send: %d, %d requests reached Mandrill", resp.StatusCode, len(p.Requests()))
		}
		var entries []entry
		if err := json.Unmarshal(body, &entries); err != nil || len(entries) != 1 {
			t.Fatalf("answer %s: %v", body, err)
		}
		if e := entries[0]; e.Email != "recipient.email@example.com" || e.Status != "rejected" || e.RejectReason == nil || *e.RejectReason != "unsub" || !hexID.MatchString(e.ID) {
			t.Errorf("entry %+v", e)
		}
	})

	t.Run("transactional by header", func(t *testing.T) {
		p.Reset()
		resp, _ := call(t, p.Base+"/api/1.0/messages/send.json", three, map[string]string{"Hush-Category": "transactional"})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Dropped") != "0" {
			t.Fatalf("transactional send: %d %v", resp.StatusCode, resp.Header)
		}
		if got := p.Last(); !bytes.Equal(got.Body, three) {
			t.Errorf("transactional send was changed:\n%s", got.Body)
		}
	})

	t.Run("transactional by tag", func(t *testing.T) {
		p.Reset()
		body := []byte(`{"key":"k","message":{"to":[{"email":"second.recipient@example.com"}],"tags":["invoices"]}}`)
		resp, _ := call(t, p.Base+"/api/1.0/messages/send.json", body, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "1" {
			t.Fatalf("tagged send: %d %v", resp.StatusCode, resp.Header)
		}
		if got := p.Last(); !bytes.Equal(got.Body, body) {
			t.Errorf("tagged send was changed: %s", got.Body)
		}
	})

	t.Run("not a send", func(t *testing.T) {
		p.Reset()
		resp, body := call(t, p.Base+"/api/1.0/users/ping.json", []byte(`{"key":"example key"}`), nil)
		if resp.StatusCode != http.StatusOK || string(body) != `"PONG!"` || resp.Header.Get("Hush-Allowed") != "" {
			t.Fatalf("ping: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if got := p.Last(); string(got.Body) != `{"key":"example key"}` || got.Path != "/api/1.0/users/ping.json" {
			t.Errorf("vendor got %s %s", got.Path, got.Body)
		}
	})

	t.Run("unreadable send refused", func(t *testing.T) {
		p.Reset()
		resp, _ := call(t, p.Base+"/api/1.0/messages/send.json", []byte(`{"message":{"to":[]}}`), nil)
		if resp.StatusCode != http.StatusBadRequest || len(p.Requests()) != 0 {
			t.Errorf("empty to[]: %d, %d requests reached Mandrill", resp.StatusCode, len(p.Requests()))
		}
	})

	t.Run("decisions recorded", func(t *testing.T) {
		d := p.Decisions("email:second.recipient@example.com")
		if len(d) == 0 {
			t.Fatal("no decisions for the silenced addressee")
		}
		allowed, dropped := 0, 0
		for _, x := range d {
			if x.Allowed {
				allowed++
			} else {
				dropped++
			}
		}
		// mixed + dropped; transactional header + tag allowed.
		if dropped != 1 || allowed != 2 {
			t.Errorf("second's decisions: %d allowed, %d dropped", allowed, dropped)
		}
		// first: mixed and template sends dropped, the transactional one allowed.
		allowed, dropped = 0, 0
		for _, x := range p.Decisions("email:recipient.email@example.com") {
			if x.Allowed {
				allowed++
			} else {
				dropped++
			}
		}
		if dropped != 2 || allowed != 1 {
			t.Errorf("first's decisions: %d allowed, %d dropped", allowed, dropped)
		}
	})
}

// TestThroughProxyAllDroppedError: with on_all_dropped: error hush answers Mandrill's error
// object under HTTP 500.
func TestThroughProxyAllDroppedError(t *testing.T) {
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "mandrill", Kind: Kind, Connector: newUpstream(t, nil),
		Channel: gateway.ChannelEmail, OnAllDropped: "error", Respond: standIn})
	p.Silence("email:recipient.email@example.com")
	resp, body := call(t, p.Base+"/api/1.0/messages/send.json", readFile(t, "docs_send.json"), nil)
	var e struct{ Status, Name string }
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusInternalServerError || e.Status != "error" || e.Name != "ValidationError" {
		t.Errorf("refusal: %d %s", resp.StatusCode, body)
	}
	if len(p.Requests()) != 0 {
		t.Error("the refused send reached Mandrill")
	}
}

// TestThroughProxySendRaw: messages/send-raw is enforced on its envelope to[]; the MIME
// document reaches Mandrill byte for byte, and a send-raw without to[] is refused.
func TestThroughProxySendRaw(t *testing.T) {
	u := newUpstream(t, nil)
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "mandrill", Kind: Kind, Connector: u,
		Channel: gateway.ChannelEmail, Respond: standIn})
	p.Silence("email:second.recipient@example.com")
	three := readFile(t, "send_raw_three_recipients.json")

	t.Run("mixed send", func(t *testing.T) {
		p.Reset()
		resp, body := call(t, p.Base+"/api/1.0/messages/send-raw.json", three, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "2" || resp.Header.Get("Hush-Dropped") != "1" {
			t.Fatalf("mixed send: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		got := p.Last()
		if got.Path != "/api/1.0/messages/send-raw.json" {
			t.Errorf("vendor got path %s", got.Path)
		}
		var sent struct {
			To []string `json:"to"`
		}
		if err := json.Unmarshal(got.Body, &sent); err != nil {
			t.Fatal(err)
		}
		if want := []string{"recipient.email@example.com", "third.recipient@example.com"}; !slices.Equal(sent.To, want) {
			t.Errorf("vendor got to %v, want %v", sent.To, want)
		}
		if b, a := rawMember(t, three, "raw_message"), rawMember(t, got.Body, "raw_message"); !bytes.Equal(b, a) {
			t.Errorf("raw_message changed on the way:\n%s\n%s", b, a)
		}
		if want := readFile(t, "send_raw_three_recipients.drop_second.golden.json"); !bytes.Equal(got.Body, want) {
			t.Errorf("vendor got\n%s\nwant\n%s", got.Body, want)
		}
		var entries []entry
		if err := json.Unmarshal(body, &entries); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		var states []string
		for _, e := range entries {
			states = append(states, e.Email+"/"+e.Status)
		}
		wantStates := []string{"recipient.email@example.com/sent", "second.recipient@example.com/rejected", "third.recipient@example.com/sent"}
		if !slices.Equal(states, wantStates) {
			t.Errorf("answer entries %v, want %v", states, wantStates)
		}
	})

	t.Run("all silenced", func(t *testing.T) {
		p.Reset()
		body := []byte(`{"key":"k","raw_message":"To: second.recipient@example.com\r\n\r\nhi","to":["Second <second.recipient@example.com>"]}`)
		resp, answer := call(t, p.Base+"/api/1.0/messages/send-raw", body, nil)
		if resp.StatusCode != http.StatusOK || len(p.Requests()) != 0 {
			t.Fatalf("all-silenced send-raw: %d, %d requests reached Mandrill", resp.StatusCode, len(p.Requests()))
		}
		var entries []entry
		if err := json.Unmarshal(answer, &entries); err != nil || len(entries) != 1 {
			t.Fatalf("answer %s: %v", answer, err)
		}
		if e := entries[0]; e.Email != "second.recipient@example.com" || e.Status != "rejected" || e.RejectReason == nil || *e.RejectReason != "unsub" {
			t.Errorf("entry %+v", e)
		}
	})

	t.Run("no to refused", func(t *testing.T) {
		p.Reset()
		body := []byte(`{"key":"k","raw_message":"To: second.recipient@example.com\r\n\r\nhi"}`)
		resp, answer := call(t, p.Base+"/api/1.0/messages/send-raw.json", body, nil)
		if resp.StatusCode != http.StatusBadRequest || len(p.Requests()) != 0 {
			t.Fatalf("send-raw without to: %d %s, %d requests reached Mandrill", resp.StatusCode, answer, len(p.Requests()))
		}
		if !bytes.Contains(answer, []byte(`"invalid"`)) || bytes.Contains(answer, []byte("@")) {
			t.Errorf("refusal %s", answer)
		}
	})

	t.Run("decisions recorded", func(t *testing.T) {
		dropped := 0
		for _, d := range p.Decisions("email:second.recipient@example.com") {
			if !d.Allowed {
				dropped++
			}
		}
		if dropped != 2 {
			t.Errorf("%d dropped decisions for the silenced addressee, want 2 (mixed, all silenced)", dropped)
		}
	})
}
