package typeform

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/connectors/connectortest"
	"github.com/hush-gateway/hush/gateway"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files from the current output")

// goldenOptions configures the source for each fixture as an operator would for that form.
var goldenOptions = map[string]map[string]any{
	// 2017 shape: no refs, so the questions are named by field id.
	"form_response_incoming_webhook": {"email_ref": "S4nP", "comment_ref": "XF8w"},
	// Typeform's documented example: a 1–5 rating, an email question, user_id hidden field.
	"docs_example_payload": {
		"csat_ref": "readable_ref_rating", "email_ref": "readable_ref_email",
		"comment_ref": "[readable_ref_long_text", "id_hidden": "user_id",
	},
}

func TestParseGolden(t *testing.T) {
	connectortest.Golden(t, connectortest.GoldenCase{
		Update: *update,
		Parse: func(t *testing.T, name string, body []byte) (gateway.ParseResult, error) {
			src := newTestSource(t, gateway.SourceConfig{Name: "forms", Secret: testSecret, Options: goldenOptions[name]})
			return src.Parse(request("", body))
		},
		CheckEvent: connectortest.RawIsBody,
	})
}

// scoreBody is a current-shape form_response (documented fields only) with one scored
// question of the given field type and properties.
func scoreBody(fieldType string, props map[string]any, number float64) []byte {
	def := map[string]any{"id": "q1", "ref": "score_q", "type": fieldType, "title": "How did we do?"}
	if props != nil {
		def["properties"] = props
	}
	b, _ := json.Marshal(map[string]any{
		"event_id": "01HX", "event_type": "form_response",
		"form_response": map[string]any{
			"form_id": "f1", "token": "t1", "submitted_at": "2026-11-20T09:30:00Z",
			"hidden":     map[string]any{"email": "ana@example.com", "phone": "+34600111222", "customer_id": 8841},
			"definition": map[string]any{"id": "f1", "title": "Support", "fields": []any{def}},
			"answers": []any{
				map[string]any{"type": "number", "number": number, "field": map[string]any{"id": "q1", "type": fieldType, "ref": "score_q"}},
				map[string]any{"type": "text", "text": " too slow ", "field": map[string]any{"id": "q2", "type": "long_text", "ref": "why"}},
			},
		},
	})
	return b
}

func TestScores(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	steps := func(n int, one bool) map[string]any { return map[string]any{"steps": n, "start_at_one": one} }
	tests := []struct {
		name      string
		option    string // which *_ref names the question
		fieldType string
		props     map[string]any
		number    float64
		want      *float64
		scaleAttr string
	}{
		{"rating 1-5 is csat", "csat_ref", "rating", steps(5, false), 2, f(2), ""},
		{"rating with unknown scale, value fits", "csat_ref", "rating", nil, 4, f(4), ""},
		{"rating 1-10 converted", "csat_ref", "rating", steps(10, false), 10, f(5), "csat_scale"},
		{"rating 1-3 converted", "csat_ref", "rating", steps(3, false), 2, f(3), "csat_scale"},
		{"unknown scale, value does not fit", "csat_ref", "number", nil, 9, nil, ""},
		{"nps question", "nps_ref", "nps", nil, 3, f(3), ""},
		{"opinion scale 0-10 is nps", "nps_ref", "opinion_scale", steps(11, false), 0, f(0), ""},
		{"opinion scale 1-10 converted to nps", "nps_ref", "opinion_scale", steps(10, true), 10, f(10), "nps_scale"},
		{"opinion scale 1-7 is ces", "ces_ref", "opinion_scale", steps(7, true), 6, f(6), ""},
		{"opinion scale 1-5 converted to ces", "ces_ref", "opinion_scale", steps(5, true), 3, f(4), "ces_scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newTestSource(t, gateway.SourceConfig{Secret: testSecret, Options: map[string]any{tt.option: "score_q"}})
			res, err := src.Parse(request("", scoreBody(tt.fieldType, tt.props, tt.number)))
			if err != nil || len(res.Events) != 1 {
				t.Fatalf("Parse = %+v, %v", res, err)
			}
			ev := res.Events[0]
			got := map[string]*float64{"csat_ref": ev.CSAT, "nps_ref": ev.NPS, "ces_ref": ev.CES}
			for opt, v := range got {
				want := (*float64)(nil)
				if opt == tt.option {
					want = tt.want
				}
				if (v == nil) != (want == nil) || v != nil && *v != *want {
					t.Errorf("%s score = %v, want %v", strings.TrimSuffix(opt, "_ref"), show(v), show(want))
				}
			}
			if tt.scaleAttr != "" && ev.Attrs[tt.scaleAttr] == nil {
				t.Errorf("attrs %v do not say the scale was converted (%s)", ev.Attrs, tt.scaleAttr)
			}
			if tt.scaleAttr == "" && (ev.Attrs["csat_scale"] != nil || ev.Attrs["nps_scale"] != nil || ev.Attrs["ces_scale"] != nil) {
				t.Errorf("attrs %v claim a conversion that did not happen", ev.Attrs)
			}
		})
	}
}

func show(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseFields(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Name: "forms", Secret: testSecret, Options: map[string]any{
		"csat_ref": "score_q", "comment_ref": "why", "id_kind": "crm",
	}})
	res, err := src.Parse(request("", scoreBody("rating", nil, 1)))
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
	ev := res.Events[0]
	tests := []struct {
		what      string
		got, want any
	}{
		{"id", ev.ID, "01HX"},
		{"source", ev.Source, "forms"},
		{"type", ev.Type, gateway.EventSurveyResponse},
		{"at", ev.At.Format("2006-01-02T15:04:05Z07:00"), "2026-11-20T09:30:00Z"},
		{"topic", ev.Topic, "typeform:form:f1"},
		{"text", ev.Text, "too slow"},
		{"email from hidden", ev.Customer.Email, "ana@example.com"},
		{"phone from hidden", ev.Customer.Phone, "+34600111222"},
		{"numeric hidden id under id_kind", ev.Customer.IDs["crm"], "8841"},
		{"token", ev.Attrs["response_token"], "t1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

func TestContactAnswersWinOverHidden(t *testing.T) {
	body := []byte(`{"event_id":"e1","event_type":"form_response","form_response":{"form_id":"f1","token":"t",
	  "hidden":{"email":"hidden@example.com"},
	  "answers":[{"type":"email","email":"asked@example.com","field":{"id":"a","type":"email","ref":"mail"}},
	             {"type":"phone_number","phone_number":"+14155550100","field":{"id":"b","type":"phone_number","ref":"tel"}}]}}`)
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret, Options: map[string]any{"email_ref": "mail", "phone_ref": "tel"}})
	res, err := src.Parse(request("", body))
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
	if c := res.Events[0].Customer; c.Email != "asked@example.com" || c.Phone != "+14155550100" {
		t.Fatalf("customer = %+v", c)
	}
}

func TestIgnored(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, body := range []string{
		`{"event_id":"e1","event_type":"form_partial_response","form_response":{"form_id":"f1"}}`,
		// A response that names nobody: nothing to silence, and refusing it would make
		// Typeform retry and then disable the webhook.
		`{"event_id":"e2","event_type":"form_response","form_response":{"form_id":"f1","token":"t","answers":[]}}`,
	} {
		res, err := src.Parse(request("", []byte(body)))
		if err != nil || res.Ignored != 1 || len(res.Events) != 0 {
			t.Errorf("%s: Parse = %+v, %v; want ignored", body, res, err)
		}
	}
}

func TestSameDeliveryTwiceSameIDs(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	withID := scoreBody("rating", nil, 3)
	withoutID := bytes.Replace(withID, []byte(`"event_id":"01HX",`), nil, 1)
	for _, body := range [][]byte{withID, withoutID} {
		a, err1 := src.Parse(request("", body))
		b, err2 := src.Parse(request("", append([]byte(nil), body...)))
		if err1 != nil || err2 != nil || len(a.Events) != 1 || a.Events[0].ID != b.Events[0].ID {
			t.Fatalf("ids differ or errors: %+v %+v %v %v", a, b, err1, err2)
		}
	}
	res, _ := src.Parse(request("", withoutID))
	if got := res.Events[0].ID; got != "form_response:f1:t1" {
		t.Fatalf("id without event_id = %s", got)
	}
}

func TestParseErrorsKeepPersonalDataOut(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, b := range []string{
		`{"event_type":"form_response","form_response":{"form_id":"f1","submitted_at":"secret-time"}}`,
		`{"event_type":"form_response","form_response":{"form_id":"f1","hidden":{"customer_id":"secret\u0001"}}}`,
		`{"event_type":"form_response","form_response":{"form_id":"f1","answers":[{"text":["secret"]}]}}`,
		`{"event_type":"form_response","form_response":"secret"}`,
	} {
		_, err := src.Parse(request("", []byte(b)))
		if err == nil || gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
			t.Fatalf("%s: err = %v, want invalid", b, err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q quotes the payload", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	connectortest.AddSeeds(f, "", "")
	f.Add(scoreBody("opinion_scale", map[string]any{"steps": 10, "start_at_one": true}, 7))
	src := newTestSource(f, gateway.SourceConfig{Name: "forms", Secret: testSecret, Options: map[string]any{
		"csat_ref": "score_q", "nps_ref": "readable_ref_opinion_scale", "ces_ref": "q1", "email_ref": "S4nP",
	}})
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := src.Parse(request("", body))
		if err != nil {
			if gateway.ErrorCodeOf(err) != gateway.CodeInvalid {
				t.Fatalf("error without code invalid: %v", err)
			}
			return
		}
		if len(res.Events)+res.Ignored != 1 {
			t.Fatalf("one delivery gave %d events and %d ignored", len(res.Events), res.Ignored)
		}
		for _, ev := range res.Events {
			if ev.ID == "" || ev.Source != "forms" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ev.CSAT != nil && (*ev.CSAT < 1 || *ev.CSAT > 5) || ev.NPS != nil && (*ev.NPS < 0 || *ev.NPS > 10) ||
				ev.CES != nil && (*ev.CES < 1 || *ev.CES > 7) {
				t.Fatalf("score out of range: %+v", ev)
			}
		}
	})
}
