package policy

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/sentiment"
)

// storedEvents are every event of a customer as the store keeps them, newest first.
func (h *harness) storedEvents(id gateway.Identity) []gateway.Event {
	h.t.Helper()
	c := h.customer(id)
	var out []gateway.Event
	h.view(func(tx gateway.Tx) error {
		var err error
		out, _, err = tx.Events(gateway.EventQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 100}})
		return err
	})
	return out
}

func TestIntakeScoresText(t *testing.T) {
	analyzer, err := sentiment.New(sentiment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules := mustRules(t, gateway.RuleSpec{Name: "angry", When: `has(event.sentiment) && event.sentiment.label == "negative"`,
		Silence: &gateway.SilenceSpec{For: dayDur(7)}})
	h := newHarness(t, Config{Rules: rules, Sentiment: analyzer})

	angry := event("c1", gateway.EventChatMessage, engineStart, "ana@example.com", func(e *gateway.Event) {
		e.Text = "Es la tercera vez que llamo y nadie me soluciona nada, quiero darme de baja"
		e.Customer.Locale = "es-ES"
	})
	vendor := event("c2", gateway.EventChatMessage, engineStart, "bea@example.com", func(e *gateway.Event) {
		e.Text = "Es una vergüenza, un servicio pésimo"
		e.Sentiment = &gateway.Sentiment{Score: 0.2, Label: "neutral", Source: gateway.SentimentVendor}
	})
	h.ingest(angry, vendor)

	got := h.storedEvents(email("ana@example.com"))[0].Sentiment
	if got == nil || got.Source != gateway.SentimentBuiltin || got.Label != sentiment.Negative || got.Language != sentiment.Spanish ||
		!slices.Contains(got.Cues, sentiment.CueRepeatContact) || !slices.Contains(got.Cues, sentiment.CueCancellation) {
		t.Errorf("stored sentiment of an angry chat: %+v", got)
	}
	if len(h.silences(h.customer(email("ana@example.com")).ID)) != 1 {
		t.Error("the rule did not see the computed sentiment")
	}
	// A vendor's own sentiment is kept as it came.
	if got := h.storedEvents(email("bea@example.com"))[0].Sentiment; got == nil || !reflect.DeepEqual(*got, gateway.Sentiment{Score: 0.2, Label: "neutral", Source: gateway.SentimentVendor}) {
		t.Errorf("vendor sentiment changed: %+v", got)
	}
}

type failingScorer struct{}

func (failingScorer) ScoreText(context.Context, string, string) (gateway.Sentiment, error) {
	return gateway.Sentiment{}, errors.New("scorer down")
}

// A scorer failure never costs the event: it is stored unscored.
func TestIntakeScorerFailureKeepsEvent(t *testing.T) {
	h := newHarness(t, Config{Sentiment: failingScorer{}})
	res := h.ingest(event("c1", gateway.EventChatMessage, engineStart, "ana@example.com", func(e *gateway.Event) { e.Text = "fatal" }))
	if res.Accepted != 1 {
		t.Fatalf("accepted %d", res.Accepted)
	}
	if got := h.storedEvents(email("ana@example.com"))[0]; got.Sentiment != nil || got.Text != "fatal" {
		t.Errorf("stored %+v", got)
	}
}

func TestLanguageOf(t *testing.T) {
	for in, want := range map[string]string{"es-ES": "es", "es_MX": "es", "EN": "en", "": "", "pt-BR": "pt"} {
		if got := languageOf(in); got != want {
			t.Errorf("languageOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// The rule functions use the analyzer they are given (here with a competitor list), and
// analyse a text once however many calls ask about it.
func TestRuleTextFunctions(t *testing.T) {
	a, err := sentiment.New(sentiment.Options{Competitors: []string{"Movistar"}})
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingAnalyzer{a: a}
	rs, err := CompileRules([]gateway.RuleSpec{
		{Name: "competitor", When: `has(event.text) && "competitor" in cues(event.text)`, Silence: &gateway.SilenceSpec{For: dayDur(1)}},
		{Name: "angry", When: `has(event.text) && sentiment(event.text) <= -0.5 && size(cues(event.text)) >= 0`, Silence: &gateway.SilenceSpec{For: dayDur(1)}},
	}, WithTextAnalyzer(counting))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"En Movistar me lo dejan más barato", []string{"competitor"}},
		{"Esto es una estafa, un servicio pésimo y vergonzoso", []string{"angry"}},
		{"Gracias por todo", nil},
	} {
		counting.n = 0
		ev := event("e", gateway.EventChatMessage, engineStart, "ana@example.com", func(e *gateway.Event) { e.Text = tt.text })
		fired, errs := rs.Evaluate(RuleInput{Event: &ev, Now: engineStart})
		var got []string
		for _, f := range fired {
			got = append(got, f.Rule.Name)
		}
		if len(errs) > 0 || !slices.Equal(got, tt.want) {
			t.Errorf("%q fired %v (%v), want %v", tt.text, got, errs, tt.want)
		}
		if counting.n != 1 {
			t.Errorf("%q analysed %d times, want once", tt.text, counting.n)
		}
	}
}

type countingAnalyzer struct {
	a *sentiment.Analyzer
	n int
}

func (c *countingAnalyzer) Analyze(text string) sentiment.Result {
	c.n++
	return c.a.Analyze(text)
}

// A text intake already scored is not scored again by the rules that ask about it.
func TestRulesReuseIntakeScore(t *testing.T) {
	a, err := sentiment.New(sentiment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingAnalyzer{a: a}
	rs, err := CompileRules([]gateway.RuleSpec{{Name: "angry", When: `has(event.text) && sentiment(event.text) <= -0.5`,
		Silence: &gateway.SilenceSpec{For: dayDur(1)}}}, WithTextAnalyzer(counting))
	if err != nil {
		t.Fatal(err)
	}
	text := "Esto es una estafa, un servicio pésimo y vergonzoso"
	scored, _ := a.ScoreText(context.Background(), text, "es")
	ev := event("e", gateway.EventChatMessage, engineStart, "ana@example.com", func(e *gateway.Event) { e.Text, e.Sentiment = text, &scored })
	if fired, errs := rs.Evaluate(RuleInput{Event: &ev, Now: engineStart}); len(fired) != 1 || len(errs) > 0 {
		t.Fatalf("fired %d (%v)", len(fired), errs)
	}
	if counting.n != 0 {
		t.Errorf("the text was analysed %d times again", counting.n)
	}
	// A vendor's score is not the built-in one: the rule scores the text itself.
	ev.Sentiment = &gateway.Sentiment{Score: 0, Label: "neutral", Source: gateway.SentimentVendor}
	if fired, _ := rs.Evaluate(RuleInput{Event: &ev, Now: engineStart}); len(fired) != 1 || counting.n != 1 {
		t.Errorf("with a vendor score: fired %d, analysed %d times", len(fired), counting.n)
	}
}
