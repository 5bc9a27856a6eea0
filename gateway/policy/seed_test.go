package policy_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
)

func seedRules(tb testing.TB) *policy.RuleSet {
	tb.Helper()
	cfg, err := configs.Default(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := policy.CompileRules(cfg.Rules)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// ev is an event at t0 of one type, shaped by the options.
func ev(typ string, opts ...func(*gateway.Event)) gateway.Event {
	e := gateway.Event{ID: "e", Source: "test", Type: typ, At: t0, Customer: gateway.EventCustomer{Email: "ana@example.com"}}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func csat(v float64) func(*gateway.Event) { return func(e *gateway.Event) { e.CSAT = num(v) } }
func nps(v float64) func(*gateway.Event)  { return func(e *gateway.Event) { e.NPS = num(v) } }
func topic(t string) func(*gateway.Event) { return func(e *gateway.Event) { e.Topic = t } }
func status(s string) func(*gateway.Event) {
	return func(e *gateway.Event) { e.Status = s }
}
func tags(ts ...string) func(*gateway.Event) { return func(e *gateway.Event) { e.Tags = ts } }
func text(s string) func(*gateway.Event)     { return func(e *gateway.Event) { e.Text = s } }
func wait(s float64) func(*gateway.Event)    { return func(e *gateway.Event) { e.WaitSeconds = num(s) } }
func ago(d time.Duration) func(*gateway.Event) {
	return func(e *gateway.Event) { e.At = t0.Add(-d) }
}
func sentiment(score float64, label string) func(*gateway.Event) {
	return func(e *gateway.Event) {
		e.Text = "text"
		e.Sentiment = &gateway.Sentiment{Score: score, Label: label, Source: "builtin"}
	}
}

// Each seed rule of the embedded default, against the event that should fire it and its
// closest neighbours that should not. Seed rules must also never fail to evaluate on an
// ordinary event: a failure is counted and logged on every delivery.
func TestSeedRules(t *testing.T) {
	rs := seedRules(t)
	tests := []struct {
		name    string
		event   gateway.Event
		earlier []gateway.Event // history before the event, newest first
		want    []string        // rules that fire
	}{
		{"csat 2 of 5", ev("survey.response", csat(2)), nil, []string{"low-csat"}},
		{"csat 1 of 5", ev("survey.response", csat(1)), nil, []string{"low-csat"}},
		{"csat 3 of 5", ev("survey.response", csat(3)), nil, nil},
		{"survey without scores", ev("survey.response"), nil, nil},
		{"csat on a ticket event", ev("ticket.updated", csat(1)), nil, nil},

		{"nps 6", ev("survey.response", nps(6)), nil, []string{"detractor-nps"}},
		{"nps 0", ev("survey.response", nps(0)), nil, []string{"detractor-nps"}},
		{"nps 7", ev("survey.response", nps(7)), nil, nil},
		{"nps 10 and csat 2", ev("survey.response", nps(10), csat(2)), nil, []string{"low-csat"}},

		{"angry chat", ev("chat.message", sentiment(-0.6, "negative")), nil, []string{"negative-sentiment"}},
		{"chat at the threshold", ev("chat.message", sentiment(-0.5, "")), nil, []string{"negative-sentiment"}},
		{"chat labelled negative, mild score", ev("chat.message", sentiment(-0.3, "negative")), nil, []string{"negative-sentiment"}},
		{"slightly negative chat", ev("chat.message", sentiment(-0.4, "neutral")), nil, nil},
		{"happy chat", ev("chat.message", sentiment(0.8, "positive")), nil, nil},
		{"chat without sentiment", ev("chat.message"), nil, nil},
		{"angry call transcript", ev("call.completed", sentiment(-0.9, "negative")), nil, []string{"negative-sentiment"}},
		{"angry survey comment, good score", ev("survey.response", csat(4), sentiment(-0.7, "negative")), nil, []string{"negative-sentiment"}},
		{"angry ticket is not a chat", ev("ticket.opened", sentiment(-0.9, "negative")), nil, nil},
		// Texts hush scores itself: sentiment(event.text) and cues(event.text).
		{"angry Spanish chat, no sentiment given", ev("chat.message", text("Esto es una vergüenza, un servicio pésimo y nadie me ayuda")), nil, []string{"negative-sentiment"}},
		{"angry English transcript, vendor said neutral", ev("call.completed", text("this is absolutely ridiculous, worst service ever, I'm furious"),
			func(e *gateway.Event) { e.Sentiment = &gateway.Sentiment{Score: 0, Label: "neutral", Source: "vendor"} }), nil, []string{"negative-sentiment"}},
		{"polite Spanish chat", ev("chat.message", text("Claro que sí, no hay problema. Gracias, todo perfecto")), nil, nil},
		{"leaving, in Spanish", ev("chat.message", text("Quiero darme de baja, me voy a la competencia")), nil, []string{"frustration-cues"}},
		{"regulator, in English", ev("survey.response", text("I will report you to Ofcom")), nil, []string{"frustration-cues"}},
		{"third call, in Spanish", ev("call.completed", text("es la tercera vez que llamo por lo mismo")), nil, []string{"negative-sentiment", "frustration-cues"}},
		{"cancel an appointment is not leaving", ev("chat.message", text("Can I cancel my appointment on Tuesday please?")), nil, nil},
		{"SMS BAJA is an SMS opt-out, not a goodbye", ev("sms.inbound", text("Darme de BAJA")), nil, nil},
		{"cues on a ticket update do not count", ev("ticket.updated", text("Quiero darme de baja")), nil, nil},

		{"third contact about a topic in a day", ev("call.completed", topic("z:1")),
			[]gateway.Event{ev("chat.message", topic("z:1"), ago(3*time.Hour)), ev("ticket.opened", topic("z:1"), ago(20*time.Hour))},
			[]string{"repeated-contacts"}},
		{"second contact about a topic", ev("call.completed", topic("z:1")),
			[]gateway.Event{ev("ticket.opened", topic("z:1"), ago(20*time.Hour))}, nil},
		{"third contact, the first 25h ago", ev("call.completed", topic("z:1")),
			[]gateway.Event{ev("chat.message", topic("z:1"), ago(3*time.Hour)), ev("ticket.opened", topic("z:1"), ago(25*time.Hour))}, nil},
		{"three contacts about different topics", ev("call.completed", topic("z:1")),
			[]gateway.Event{ev("chat.message", topic("z:2"), ago(3*time.Hour)), ev("ticket.opened", topic("z:3"), ago(4*time.Hour))}, nil},
		{"updates and surveys are not contacts", ev("ticket.updated", topic("z:1")),
			[]gateway.Event{ev("ticket.updated", topic("z:1"), ago(time.Hour)), ev("survey.response", topic("z:1"), ago(2*time.Hour)), ev("ticket.opened", topic("z:1"), ago(3*time.Hour))}, nil},
		{"three contacts without a topic", ev("call.completed"),
			[]gateway.Event{ev("call.completed", ago(time.Hour)), ev("call.completed", ago(2*time.Hour))}, nil},

		{"abandoned after two minutes", ev("call.abandoned", wait(120)), nil, []string{"abandoned-call"}},
		{"abandoned after nine minutes", ev("call.abandoned", wait(540)), nil, []string{"abandoned-call"}},
		{"abandoned after 119 seconds", ev("call.abandoned", wait(119)), nil, nil},
		{"abandoned, wait unknown", ev("call.abandoned"), nil, nil},
		{"missed call after a long wait", ev("call.missed", wait(600)), nil, nil},

		{"complaint opened", ev("ticket.opened", topic("z:9"), tags("complaint"), status("open")), nil, []string{"open-complaint"}},
		{"complaint updated, pending", ev("ticket.updated", topic("z:9"), tags("billing", "complaint"), status("pending")), nil, []string{"open-complaint"}},
		{"complaint without status", ev("ticket.opened", topic("z:9"), tags("complaint")), nil, []string{"open-complaint"}},
		{"complaint solved", ev("ticket.updated", topic("z:9"), tags("complaint"), status("solved")), nil, nil},
		{"complaint closed", ev("ticket.updated", topic("z:9"), tags("complaint"), status("closed")), nil, nil},
		{"complaint ticket.solved", ev("ticket.solved", topic("z:9"), tags("complaint")), nil, nil},
		{"ticket without the tag", ev("ticket.opened", topic("z:9"), tags("billing"), status("open")), nil, nil},
		{"complaint without a topic", ev("ticket.opened", tags("complaint"), status("open")), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			history := append([]gateway.Event{tt.event}, tt.earlier...)
			fired, errs := rs.Evaluate(policy.RuleInput{Event: &tt.event, History: history, Now: t0.Add(time.Second)})
			if len(errs) > 0 {
				t.Errorf("evaluation errors: %v", errs)
			}
			var got []string
			for _, f := range fired {
				got = append(got, f.Rule.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
		})
	}
}

// The actions of the seed rules, as DESIGN §6 describes them.
func TestSeedRuleActions(t *testing.T) {
	rs := seedRules(t)
	want := map[string]gateway.RuleSpec{
		"low-csat":           {Silence: &gateway.SilenceSpec{For: days(15)}, Alert: "retention"},
		"detractor-nps":      {Silence: &gateway.SilenceSpec{For: days(30)}, Alert: "retention"},
		"negative-sentiment": {Silence: &gateway.SilenceSpec{For: days(7)}},
		"frustration-cues":   {Silence: &gateway.SilenceSpec{For: days(30)}, Alert: "retention"},
		"repeated-contacts":  {Silence: &gateway.SilenceSpec{UntilResolved: true, Then: days(7)}},
		"abandoned-call":     {Silence: &gateway.SilenceSpec{For: days(2)}},
		"open-complaint":     {Silence: &gateway.SilenceSpec{UntilResolved: true, Then: days(1)}},
	}
	rules := rs.Rules()
	if len(rules) != len(want) {
		t.Errorf("%d seed rules, want %d", len(rules), len(want))
	}
	for _, r := range rules {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected seed rule %q", r.Name)
			continue
		}
		if !reflect.DeepEqual(r.Silence, w.Silence) || r.Alert != w.Alert || r.Shadow {
			t.Errorf("%s: silence %+v alert %q shadow %v; want %+v alert %q", r.Name, r.Silence, r.Alert, r.Shadow, w.Silence, w.Alert)
		}
		if r.Description == "" {
			t.Errorf("%s has no description", r.Name)
		}
	}
}

// BenchmarkEvaluateSeedRules measures one event through every seed rule, with a customer
// history of 50 events over the last month.
func BenchmarkEvaluateSeedRules(b *testing.B) {
	rs := seedRules(b)
	history := make([]gateway.Event, 50)
	types := []string{"chat.message", "ticket.updated", "call.completed", "survey.response", "ticket.opened"}
	for i := range history {
		history[i] = ev(types[i%len(types)], topic(fmt.Sprintf("z:%d", i%4)), ago(time.Duration(i)*13*time.Hour), status("open"))
	}
	history[0] = ev("chat.message", topic("z:0"), tags("complaint"), sentiment(-0.7, "negative"))
	in := policy.RuleInput{Event: &history[0], Customer: &gateway.Customer{ID: "c", Tags: []string{"vip"}}, History: history, Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		fired, errs := rs.Evaluate(in)
		if len(errs) > 0 || len(fired) == 0 {
			b.Fatalf("fired %d, errors %v", len(fired), errs)
		}
	}
}
