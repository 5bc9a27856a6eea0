package braze

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/server"
)

// brazeAnswers stands in for Braze: every request is a success with a dispatch id.
func brazeAnswers(w http.ResponseWriter, _ *http.Request, _ connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"dispatch_id":"from-braze","message":"success"}`)
}

func newProxy(t *testing.T, mode, onAllDropped string, opts map[string]any) *connectortest.Proxy {
	t.Helper()
	return connectortest.NewProxy(t, connectortest.ProxyOptions{
		Name: "braze", Kind: Kind, Connector: newUpstream(t, opts), Channel: gateway.ChannelEmail,
		Mode: mode, OnAllDropped: onAllDropped, Respond: brazeAnswers,
	})
}

// call sends a request the way a Braze client does (JSON body, bearer key) through hush.
func call(t *testing.T, p *connectortest.Proxy, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", p.Base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test-rest-key")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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

func TestProxyMixedSend(t *testing.T) {
	p := newProxy(t, "", "", nil)
	p.Silence("braze:bob")
	p.Silence("braze:alias:crm:carol")

	// /messages/send: bob's id and carol's alias go; user_aliases, emptied, goes with its key.
	resp, _ := call(t, p, "/messages/send",
		`{"external_user_ids": ["ana", "bob"], "user_aliases": [{"alias_name": "carol", "alias_label": "crm"}], "campaign_id": "c-1", "messages": {"email": {"app_id": "a", "subject": "Hi", "from": "Shop <shop@example.com>", "body": "<p>Hi</p>"}}}`)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Hush-Allowed") != "1" || resp.Header.Get("Hush-Dropped") != "2" {
		t.Fatalf("mixed send: %d %v", resp.StatusCode, resp.Header)
	}
	got := p.Last()
	want := `{"external_user_ids": ["ana"], "campaign_id": "c-1", "messages": {"email": {"app_id": "a", "subject": "Hi", "from": "Shop <shop@example.com>", "body": "<p>Hi</p>"}}}`
	if string(got.Body) != want || got.Path != "/messages/send" || got.Header.Get("Authorization") != "Bearer test-rest-key" {
		t.Errorf("Braze got %s %s\n%s\nwant\n%s", got.Method, got.Path, got.Body, want)
	}

	// A Canvas trigger: bob's recipient object goes with its context and attributes.
	p.Reset()
	resp, _ = call(t, p, "/canvas/trigger/send",
		`{"canvas_id":"cv","context":{"sale":true},"recipients":[{"external_user_id":"bob","context":{"n":1},"attributes":{"first_name":"Bob"}},{"external_user_id":"ana","context":{"n":2}}]}`)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Hush-Dropped") != "1" {
		t.Fatalf("mixed trigger: %d %v", resp.StatusCode, resp.Header)
	}
	if got := p.Last(); string(got.Body) != `{"canvas_id":"cv","context":{"sale":true},"recipients":[{"external_user_id":"ana","context":{"n":2}}]}` {
		t.Errorf("Braze got %s", got.Body)
	}

	// Decisions are recorded for every user, under their Braze identities.
	if d := p.Decisions("braze:bob"); len(d) != 2 || d[0].Allowed || d[0].Reason != gateway.ReasonSilenced {
		t.Errorf("bob's decisions: %+v", d)
	}
	if d := p.Decisions("braze:alias:crm:carol"); len(d) != 1 || d[0].Allowed {
		t.Errorf("carol's decisions: %+v", d)
	}
}

// TestProxyAllSilenced: a send whose every user is silenced never reaches Braze — a
// forwarded empty list would reach the campaign's whole segment — and the caller gets
// Braze's own success answer (or its refusal, with on_all_dropped: error).
func TestProxyAllSilenced(t *testing.T) {
	for _, tt := range []struct {
		path, body string
	}{
		{"/campaigns/trigger/send", `{"campaign_id":"c-1","recipients":[{"external_user_id":"bob","trigger_properties":{"x":1}},{"user_alias":{"alias_name":"carol","alias_label":"crm"}}]}`},
		{"/messages/send", `{"external_user_ids":["bob"],"user_aliases":[{"alias_name":"carol","alias_label":"crm"}],"messages":{"sms":{}}}`},
		{"/canvas/trigger/schedule/create", `{"canvas_id":"cv","recipients":[{"external_user_id":"bob"}],"schedule":{"time":"2030-01-01T10:00:00Z"}}`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			p := newProxy(t, "", "", nil)
			p.Silence("braze:bob")
			p.Silence("braze:alias:crm:carol")
			resp, body := call(t, p, tt.path, tt.body)
			var answer map[string]string
			if err := json.Unmarshal(body, &answer); err != nil || resp.StatusCode != http.StatusCreated ||
				answer["message"] != "success" || len(answer["dispatch_id"]) != 32 || answer["dispatch_id"] == "from-braze" {
				t.Errorf("all silenced: %d %s", resp.StatusCode, body)
			}
			if n := len(p.Requests()); n != 0 {
				t.Fatalf("%d requests reached Braze; a fully silenced send must never be forwarded", n)
			}
			if d := p.Decisions("braze:bob"); len(d) != 1 || d[0].Allowed {
				t.Errorf("bob's decisions: %+v", d)
			}
		})
	}

	p := newProxy(t, "", server.AllDroppedError, nil)
	p.Silence("braze:bob")
	resp, body := call(t, p, "/campaigns/trigger/send", `{"campaign_id":"c-1","recipients":[{"external_user_id":"bob"}]}`)
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(`"message":"No Recipients"`)) || len(p.Requests()) != 0 {
		t.Errorf("all silenced, on_all_dropped error: %d %s, %d requests", resp.StatusCode, body, len(p.Requests()))
	}
}

// TestProxyTransactional: a silence does not stop a campaign the upstream maps to
// transactional, nor a send the caller marks transactional with Hush-Category.
func TestProxyTransactional(t *testing.T) {
	p := newProxy(t, "", "", map[string]any{"campaigns": map[string]any{"c-receipt": "transactional"}})
	p.Silence("braze:bob")
	body := `{"campaign_id":"c-receipt","recipients":[{"external_user_id":"bob","trigger_properties":{"order":"A-1"}}]}`
	resp, _ := call(t, p, "/campaigns/trigger/send", body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Hush-Allowed") != "1" || string(p.Last().Body) != body {
		t.Errorf("mapped receipt: %d %v", resp.StatusCode, resp.Header)
	}
	if d := p.Decisions("braze:bob"); len(d) != 1 || !d[0].Allowed {
		t.Errorf("bob's receipt decision: %+v", d)
	}
	p.Reset()
	body = `{"campaign_id":"c-other","recipients":[{"external_user_id":"bob"}]}`
	resp, _ = call(t, p, "/campaigns/trigger/send", body, "Hush-Category", "transactional")
	if resp.StatusCode != http.StatusCreated || string(p.Last().Body) != body {
		t.Errorf("Hush-Category receipt: %d %v", resp.StatusCode, resp.Header)
	}
	if h := p.Last().Header.Get("Hush-Category"); h != "" {
		t.Errorf("Hush-Category reached Braze: %q", h)
	}
}

// TestProxyBroadcast: a broadcast cannot be checked per user: refused in enforce mode (it
// never reaches Braze), forwarded as it is in shadow mode or with allow_broadcast.
func TestProxyBroadcast(t *testing.T) {
	body := `{"campaign_id":"c-1","broadcast":true,"trigger_properties":{"sale":"50%"}}`

	p := newProxy(t, "", "", nil)
	resp, answer := call(t, p, "/campaigns/trigger/send", body)
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(answer, []byte("allow_broadcast")) || len(p.Requests()) != 0 {
		t.Errorf("enforce: %d %s, %d requests reached Braze", resp.StatusCode, answer, len(p.Requests()))
	}
	resp, _ = call(t, p, "/messages/send", `{"segment_id":"everyone","messages":{"email":{}}}`)
	if resp.StatusCode != http.StatusBadRequest || len(p.Requests()) != 0 {
		t.Errorf("segment send in enforce: %d, %d requests reached Braze", resp.StatusCode, len(p.Requests()))
	}

	p = newProxy(t, server.ModeShadow, "", nil)
	resp, _ = call(t, p, "/campaigns/trigger/send", body)
	if resp.StatusCode != http.StatusCreated || string(p.Last().Body) != body {
		t.Errorf("shadow: %d, Braze got %s", resp.StatusCode, p.Last().Body)
	}

	p = newProxy(t, "", "", map[string]any{"allow_broadcast": true})
	resp, _ = call(t, p, "/campaigns/trigger/send", body)
	if resp.StatusCode != http.StatusCreated || string(p.Last().Body) != body {
		t.Errorf("allow_broadcast: %d, Braze got %s", resp.StatusCode, p.Last().Body)
	}
}

// TestProxyShadowKeepsSilenced: shadow mode decides and records, but changes nothing.
func TestProxyShadowKeepsSilenced(t *testing.T) {
	p := newProxy(t, server.ModeShadow, "", nil)
	p.Silence("braze:bob")
	body := `{"campaign_id":"c-1","recipients":[{"external_user_id":"bob"}]}`
	resp, _ := call(t, p, "/campaigns/trigger/send", body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Hush-Shadow") != "1" || string(p.Last().Body) != body {
		t.Errorf("shadow: %d %v", resp.StatusCode, resp.Header)
	}
	if d := p.Decisions("braze:bob"); len(d) != 1 {
		t.Errorf("bob's decisions: %+v", d)
	}
}

// TestProxyNotASend: other Braze endpoints pass through untouched.
func TestProxyNotASend(t *testing.T) {
	p := newProxy(t, "", "", nil)
	p.Silence("braze:bob")
	body := `{"external_ids":["bob"],"fields_to_export":["email"]}`
	resp, answer := call(t, p, "/users/export/ids", body)
	got := p.Last()
	if resp.StatusCode != http.StatusCreated || string(answer) != `{"dispatch_id":"from-braze","message":"success"}` ||
		string(got.Body) != body || got.Path != "/users/export/ids" || resp.Header.Get("Hush-Dropped") != "" {
		t.Errorf("export: %d %s, Braze got %s %s", resp.StatusCode, answer, got.Path, got.Body)
	}
	if d := p.Decisions("braze:bob"); len(d) != 0 {
		t.Errorf("decisions recorded for a non-send: %+v", d)
	}
}

// TestProxyGzip: a compressed send is checked like a plain one; Braze gets it rewritten and
// compressed again.
func TestProxyGzip(t *testing.T) {
	p := newProxy(t, "", "", nil)
	p.Silence("braze:bob")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = io.WriteString(zw, `{"campaign_id":"c-1","recipients":[{"external_user_id":"bob"},{"external_user_id":"ana"}]}`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", p.Base+"/campaigns/trigger/send", &zipped)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := p.Last()
	zr, err := gzip.NewReader(bytes.NewReader(got.Body))
	if err != nil {
		t.Fatalf("Braze got a body that is not gzip (%v): %q", err, got.Body)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || string(plain) != `{"campaign_id":"c-1","recipients":[{"external_user_id":"ana"}]}` {
		t.Errorf("gzip send: %d, Braze got %s", resp.StatusCode, plain)
	}
}
