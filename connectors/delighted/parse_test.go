package delighted

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

func TestParseGolden(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Name: "cx", Secret: testSecret})
	connectortest.Golden(t, connectortest.GoldenCase{
		Update: *update,
		Parse: func(t *testing.T, _ string, body []byte) (gateway.ParseResult, error) {
			return src.Parse(request("", body))
		},
		CheckEvent: connectortest.RawIsBody,
	})
}

// response builds a survey_response payload from documented fields only.
func response(eventType, eventID, surveyType string, score any) []byte {
	data := map[string]any{
		"id":         "5435",
		"person":     map[string]any{"id": "5975", "email": "ana@example.com", "phone_number": "+34600111222", "name": "Ana"},
		"score":      score,
		"comment":    "  slow  ",
		"created_at": 1700000000,
		"updated_at": 1700000600,
		"tags":       []any{"billing", 7, ""},
	}
	if surveyType != "" {
		data["survey_type"] = surveyType
	}
	w := map[string]any{"event_type": eventType, "event_data": data}
	if eventID != "" {
		w["event_id"] = eventID
	}
	b, _ := json.Marshal(w)
	return b
}

func TestSurveyTypes(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name       string
		opts       map[string]any
		surveyType string
		score      any
		nps, csat  *float64
		ces        *float64
		scaleAttr  string // attrs key that must say the scale was converted
	}{
		{"nps", nil, "nps", 3, f(3), nil, nil, ""},
		{"enps is nps", nil, "enps", 10, f(10), nil, nil, ""},
		{"csat", nil, "csat", 2, nil, f(2), nil, ""},
		{"smileys are csat", nil, "smileys", 1, nil, f(1), nil, ""},
		{"5-star is csat", nil, "five_star", 4, nil, f(4), nil, ""},
		{"ces 7-point", nil, "ces", 6, nil, nil, f(6), ""},
		{"ces 5-point converted", map[string]any{"ces_scale": 5}, "ces", 3, nil, nil, f(4), "ces_scale"},
		{"ces 5-point top", map[string]any{"ces_scale": 5}, "ces", 5, nil, nil, f(7), "ces_scale"},
		{"thumbs up", nil, "thumbs", 1, nil, f(5), nil, "csat_scale"},
		{"thumbs down", nil, "thumbs", 0, nil, f(1), nil, "csat_scale"},
		{"survey type is case-insensitive", nil, "CSAT", 5, nil, f(5), nil, ""},
		{"missing type defaults to nps", nil, "", 6, f(6), nil, nil, ""},
		{"missing type uses the option", map[string]any{"survey_type": "csat"}, "", 2, nil, f(2), nil, ""},
		{"pmf has no hush score", nil, "pmf", 3, nil, nil, nil, ""},
		{"unknown type has no hush score", nil, "likert", 3, nil, nil, nil, ""},
		{"csat out of range is not a csat", nil, "csat", 9, nil, nil, nil, ""},
		{"nps out of range is not an nps", nil, "nps", 11, nil, nil, nil, ""},
		{"no score", nil, "nps", nil, nil, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newTestSource(t, gateway.SourceConfig{Secret: testSecret, Options: tt.opts})
			res, err := src.Parse(request("", response(EventResponseCreated, "e1", tt.surveyType, tt.score)))
			if err != nil || len(res.Events) != 1 {
				t.Fatalf("Parse = %+v, %v", res, err)
			}
			ev := res.Events[0]
			for _, c := range []struct {
				what      string
				got, want *float64
			}{{"nps", ev.NPS, tt.nps}, {"csat", ev.CSAT, tt.csat}, {"ces", ev.CES, tt.ces}} {
				if (c.got == nil) != (c.want == nil) || c.got != nil && *c.got != *c.want {
					t.Errorf("%s = %v, want %v", c.what, show(c.got), show(c.want))
				}
			}
			if tt.scaleAttr != "" && ev.Attrs[tt.scaleAttr] == nil {
				t.Errorf("attrs %v do not say the scale was converted (%s)", ev.Attrs, tt.scaleAttr)
			}
			if tt.score != nil && ev.Attrs["delighted_score"] == nil {
				t.Errorf("attrs %v lack the raw delighted_score", ev.Attrs)
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
	src := newTestSource(t, gateway.SourceConfig{Name: "cx", Secret: testSecret})
	res, err := src.Parse(request("", response(EventResponseUpdated, "", "csat", 1)))
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
	ev := res.Events[0]
	tests := []struct {
		what      string
		got, want any
	}{
		{"id without event_id", ev.ID, "survey_response.updated:5435:1700000600"},
		{"source", ev.Source, "cx"},
		{"type", ev.Type, gateway.EventSurveyResponse},
		{"at is updated_at for updates", ev.At.Unix(), int64(1700000600)},
		{"topic", ev.Topic, "delighted:response:5435"},
		{"text trimmed", ev.Text, "slow"},
		{"email", ev.Customer.Email, "ana@example.com"},
		{"phone", ev.Customer.Phone, "+34600111222"},
		{"name", ev.Customer.Name, "Ana"},
		{"vendor id", ev.Customer.IDs["delighted"], "5975"},
		{"string tags only", strings.Join(ev.Tags, ","), "billing"},
		{"event type in attrs", ev.Attrs["event_type"], EventResponseUpdated},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.what, tt.got, tt.want)
		}
	}
	res, err = src.Parse(request("", response(EventResponseCreated, "", "csat", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Events[0]; got.At.Unix() != 1700000000 || got.ID != "survey_response.created:5435:1700000600" {
		t.Errorf("created: at %v id %s; want created_at and its own id", got.At.Unix(), got.ID)
	}
}

func TestSameDeliveryTwiceSameIDs(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, body := range [][]byte{
		response(EventResponseUpdated, "evt-1", "nps", 2),
		response(EventResponseUpdated, "", "nps", 2), // no event_id: the derived id
	} {
		first, err1 := src.Parse(request("", body))
		second, err2 := src.Parse(request("", append([]byte(nil), body...)))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if first.Events[0].ID != second.Events[0].ID {
			t.Fatalf("ids differ: %s, %s", first.Events[0].ID, second.Events[0].ID)
		}
	}
	// A later change of the same response (a comment added) is a new event.
	a, _ := src.Parse(request("", response(EventResponseUpdated, "", "nps", 2)))
	later := bytes.Replace(response(EventResponseUpdated, "", "nps", 2), []byte("1700000600"), []byte("1700000900"), 1)
	b, err := src.Parse(request("", later))
	if err != nil || a.Events[0].ID == b.Events[0].ID {
		t.Fatalf("a later update got the same id %s (%v)", a.Events[0].ID, err)
	}
}

func TestIgnoredEventTypes(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	for _, body := range []string{
		// unsubscribe.created: Delighted documents the type and its event_id (example value).
		`{"event_type":"unsubscribe.created","event_id":"eb148ac882fadd6c48acfdff638646d939f76204df2283c3f5e2e94cb88a030a","event_data":{}}`,
		`{"event_type":"survey_response.deleted","event_data":{"id":"1"}}`,
	} {
		res, err := src.Parse(request("", []byte(body)))
		if err != nil || res.Ignored != 1 || len(res.Events) != 0 {
			t.Errorf("%s: Parse = %+v, %v; want ignored", body, res, err)
		}
	}
}

func TestParseErrorsKeepPersonalDataOut(t *testing.T) {
	src := newTestSource(t, gateway.SourceConfig{Secret: testSecret})
	bodies := []string{
		`{"event_type":"survey_response.updated","event_data":{"id":"1","person":{"id":"secret\u0001person"}}}`,
		`{"event_type":"survey_response.updated","event_data":{"id":"1","person":{"name":"secret person"}}}`,
		`{"event_type":"survey_response.updated","event_data":{"id":"1","person":{"email":["secret@x.com"]}}}`,
		`{"event_type":"survey_response.updated","event_data":{"id":"1","person":{"id":"1"},"comment":{"secret":1}}}`,
		`{"event_type":"survey_response.updated","event_data":"secret"}`,
	}
	for _, b := range bodies {
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
	f.Add(response(EventResponseCreated, "", "thumbs", 1))
	src := newTestSource(f, gateway.SourceConfig{Name: "cx", Secret: testSecret, Options: map[string]any{"ces_scale": 5}})
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
			if ev.ID == "" || ev.Source != "cx" || ev.Type == "" || !gateway.KnownEventType(ev.Type) || ev.At.IsZero() {
				t.Fatalf("incomplete event %+v", ev)
			}
			if ev.CSAT != nil && (*ev.CSAT < 1 || *ev.CSAT > 5) || ev.NPS != nil && (*ev.NPS < 0 || *ev.NPS > 10) ||
				ev.CES != nil && (*ev.CES < 1 || *ev.CES > 7) {
				t.Fatalf("score out of range: %+v", ev)
			}
			if _, bad := ev.Identities("ES"); len(ev.Customer.IDs) == 0 && ev.Customer.Email == "" && ev.Customer.Phone == "" {
				t.Fatalf("event about nobody (%v)", bad)
			}
		}
	})
}
