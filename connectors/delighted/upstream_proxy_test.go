package delighted

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

// delightedStandIn answers a people call as Delighted documents it: the person, with a
// survey scheduled unless the call says send=false.
func delightedStandIn(w http.ResponseWriter, r *http.Request, rec connectortest.Recorded) {
	w.Header().Set("Content-Type", "application/json")
	scheduled := "1580068364"
	if bytes.Contains(rec.Body, []byte(`"send":false`)) || bytes.Contains(rec.Body, []byte("send=false")) {
		scheduled = "null"
	}
	_, _ = io.WriteString(w, `{"id":"1","email":"x","name":null,"survey_scheduled_at":`+scheduled+`,"properties":{}}`)
}

func postCall(t *testing.T, url, contentType string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("YOUR_DELIGHTED_API_KEY", "")
	req.Header.Set("Content-Type", contentType)
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

// TestUpstreamThroughProxy drives documented people calls through hush's real proxy (bbolt
// store, policy engine) in front of a stand-in Delighted.
func TestUpstreamThroughProxy(t *testing.T) {
	u := newTestUpstream(t, nil)
	p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "delighted", Kind: Kind, Connector: u,
		Respond: delightedStandIn, DefaultRegion: "US"})
	p.Silence("email:jony@appleseed.com")
	p.Silence("+17132746524")

	t.Run("silenced email: forwarded with send=false", func(t *testing.T) {
		p.Reset()
		body := outboundFile(t, "docs_people.json")
		resp, answer := postCall(t, p.Base+"/v1/people.json", ctJSON, body, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Dropped") != "1" {
			t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, answer)
		}
		got := p.Last()
		want := "{\n    \"email\": \"jony@appleseed.com\",\n    \"properties\": { \"Purchase Experience\": \"Mobile App\", \"State\": \"CA\" },\"send\":false\n}\n"
		if string(got.Body) != want || got.Path != "/v1/people.json" {
			t.Errorf("Delighted got %s %q", got.Path, got.Body)
		}
		if user, _, ok := (&http.Request{Header: got.Header}).BasicAuth(); !ok || user != "YOUR_DELIGHTED_API_KEY" {
			t.Error("the API key did not reach Delighted")
		}
		var person struct {
			SurveyScheduledAt *int64 `json:"survey_scheduled_at"`
		}
		if err := json.Unmarshal(answer, &person); err != nil || person.SurveyScheduledAt != nil {
			t.Errorf("caller got %s", answer)
		}
	})

	t.Run("silenced sms form: only the send pair changes", func(t *testing.T) {
		p.Reset()
		resp, _ := postCall(t, p.Base+"/v1/people", ctForm, outboundFile(t, "people_sms_form.txt"), nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Dropped") != "1" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		if got := p.Last(); string(got.Body) != "phone_number=%2B17132746524&channel=sms&send=false&delay=60" {
			t.Errorf("Delighted got %q", got.Body)
		}
	})

	t.Run("allowed: untouched", func(t *testing.T) {
		p.Reset()
		body := outboundFile(t, "sdk_people_full.json")
		resp, _ := postCall(t, p.Base+"/v1/people.json", ctJSON, body, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "1" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		if got := p.Last(); !bytes.Equal(got.Body, body) {
			t.Errorf("Delighted got %q", got.Body)
		}
	})

	t.Run("service category by header: untouched", func(t *testing.T) {
		p.Reset()
		body := outboundFile(t, "docs_people.json")
		resp, _ := postCall(t, p.Base+"/v1/people.json", ctJSON, body, map[string]string{"Hush-Category": "service"})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "1" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		if got := p.Last(); !bytes.Equal(got.Body, body) {
			t.Errorf("Delighted got %q", got.Body)
		}
	})

	t.Run("not a send: unsubscribe passes", func(t *testing.T) {
		p.Reset()
		body := []byte(`{"person_email":"jony@appleseed.com"}`)
		resp, _ := postCall(t, p.Base+"/v1/unsubscribes.json", ctJSON, body, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hush-Allowed") != "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		if got := p.Last(); !bytes.Equal(got.Body, body) || got.Path != "/v1/unsubscribes.json" {
			t.Errorf("Delighted got %s %q", got.Path, got.Body)
		}
	})

	t.Run("unreadable call refused", func(t *testing.T) {
		p.Reset()
		resp, _ := postCall(t, p.Base+"/v1/people.json", ctJSON, []byte(`{"name":"Jony"}`), nil)
		if resp.StatusCode != http.StatusBadRequest || len(p.Requests()) != 0 {
			t.Errorf("%d, %d requests reached Delighted", resp.StatusCode, len(p.Requests()))
		}
	})

	t.Run("decisions recorded", func(t *testing.T) {
		allowed, dropped := 0, 0
		for _, d := range p.Decisions("email:jony@appleseed.com") {
			if d.Allowed {
				allowed++
			} else {
				dropped++
			}
		}
		if dropped != 1 || allowed != 1 {
			t.Errorf("jony: %d allowed, %d dropped", allowed, dropped)
		}
		if d := p.Decisions("+17132746524"); len(d) != 1 || d[0].Allowed {
			t.Errorf("phone: %+v", d)
		}
	})
}

// TestUpstreamThroughProxyAnswer: with on_silenced: answer Delighted never sees a silenced
// person's call; hush answers with the person shape, or the 422 with on_all_dropped: error.
func TestUpstreamThroughProxyAnswer(t *testing.T) {
	for _, mode := range []string{"", "error"} {
		t.Run("on_all_dropped="+mode, func(t *testing.T) {
			u := newTestUpstream(t, map[string]any{"on_silenced": "answer"})
			p := connectortest.NewProxy(t, connectortest.ProxyOptions{Name: "delighted", Kind: Kind, Connector: u,
				Respond: delightedStandIn, OnAllDropped: mode, Channel: gateway.ChannelEmail})
			p.Silence("email:jony@appleseed.com")
			resp, answer := postCall(t, p.Base+"/v1/people.json", ctJSON, outboundFile(t, "docs_people.json"), nil)
			if len(p.Requests()) != 0 {
				t.Fatal("the silenced person's call reached Delighted")
			}
			var got map[string]any
			if err := json.Unmarshal(answer, &got); err != nil {
				t.Fatalf("answer %s", answer)
			}
			if mode == "" {
				if resp.StatusCode != http.StatusOK || got["email"] != "jony@appleseed.com" || got["survey_scheduled_at"] != nil {
					t.Errorf("%d %s", resp.StatusCode, answer)
				}
			} else if resp.StatusCode != http.StatusUnprocessableEntity || got["message"] != "Unprocessable Entity" {
				t.Errorf("%d %s", resp.StatusCode, answer)
			}
		})
	}
}
