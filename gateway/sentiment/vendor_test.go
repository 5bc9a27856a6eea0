package sentiment

import (
	"math"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

// want builds the expected vendor sentiment; ok=false cases use the zero value.
func want(score float64, label string) gateway.Sentiment {
	return gateway.Sentiment{Score: score, Label: label, Source: "vendor"}
}

func checkVendor(t *testing.T, name string, got gateway.Sentiment, ok bool, exp gateway.Sentiment, expOK bool) {
	t.Helper()
	if ok != expOK {
		t.Fatalf("%s: ok = %v, want %v (got %+v)", name, ok, expOK, got)
	}
	if !ok {
		if got.Score != 0 || got.Label != "" || got.Source != "" {
			t.Errorf("%s: not ok but returned %+v; want the zero Sentiment", name, got)
		}
		return
	}
	if math.Abs(got.Score-exp.Score) > 1e-12 || got.Label != exp.Label || got.Source != exp.Source {
		t.Errorf("%s = %+v, want %+v", name, got, exp)
	}
	if got.Score < -1 || got.Score > 1 {
		t.Errorf("%s: score %v outside [-1, 1]", name, got.Score)
	}
}

func TestFromLabelProbability(t *testing.T) {
	cases := []struct {
		label string
		p     float64
		want  gateway.Sentiment
		ok    bool
	}{
		{"positive", 0.9, want(0.9, Positive), true},
		{"negative", 0.93, want(-0.93, Negative), true},
		{"NEGATIVE", 1, want(-1, Negative), true},
		{" Negative ", 0.5, want(-0.5, Negative), true},
		{"neutral", 0.99, want(0, Neutral), true},
		{"mixed", 0.8, want(0, Neutral), true},
		{"Mixed", 0, want(0, Neutral), true},
		{"positive", 0, want(0, Positive), true}, // the vendor's label is kept even at p=0
		{"negative", 0, want(0, Negative), true},
		// Out of range or malformed.
		{"negative", 1.0001, gateway.Sentiment{}, false},
		{"negative", 93, gateway.Sentiment{}, false}, // a percentage is not a probability
		{"positive", -0.1, gateway.Sentiment{}, false},
		{"positive", math.NaN(), gateway.Sentiment{}, false},
		{"positive", math.Inf(1), gateway.Sentiment{}, false},
		{"negative", math.Inf(-1), gateway.Sentiment{}, false},
		{"", 0.5, gateway.Sentiment{}, false},
		{"angry", 0.5, gateway.Sentiment{}, false},
		{"very_negative", 0.5, gateway.Sentiment{}, false},
		{"neg", 0.5, gateway.Sentiment{}, false},
	}
	for _, c := range cases {
		got, ok := FromLabelProbability(c.label, c.p)
		checkVendor(t, "FromLabelProbability("+c.label+")", got, ok, c.want, c.ok)
	}
}

func TestFromGenesys(t *testing.T) {
	cases := []struct {
		score float64
		want  gateway.Sentiment
		ok    bool
	}{
		{-100, want(-1, Negative), true},
		{-56, want(-0.56, Negative), true},
		{-55, want(-0.55, Negative), true},
		{-20, want(-0.2, Negative), true}, // Genesys: −55 to −20 is slightly negative
		{-19.5, want(-0.195, Neutral), true},
		{0, want(0, Neutral), true},
		{19, want(0.19, Neutral), true},
		{20, want(0.2, Positive), true}, // slightly positive
		{60, want(0.6, Positive), true},
		{100, want(1, Positive), true},
		{-100.5, gateway.Sentiment{}, false},
		{101, gateway.Sentiment{}, false},
		{1000, gateway.Sentiment{}, false},
		{math.NaN(), gateway.Sentiment{}, false},
		{math.Inf(1), gateway.Sentiment{}, false},
		{math.Inf(-1), gateway.Sentiment{}, false},
	}
	for _, c := range cases {
		got, ok := FromGenesys(c.score)
		checkVendor(t, "FromGenesys", got, ok, c.want, c.ok)
	}
}

func TestFromZendeskLevel(t *testing.T) {
	cases := []struct {
		level string
		want  gateway.Sentiment
		ok    bool
	}{
		{"very_negative", want(-1, Negative), true},
		{"negative", want(-0.6, Negative), true},
		{"neutral", want(0, Neutral), true},
		{"positive", want(0.6, Positive), true},
		{"very_positive", want(1, Positive), true},
		// The option titles as the placeholder and the agent's view show them.
		{"Very negative", want(-1, Negative), true},
		{"Very Negative", want(-1, Negative), true},
		{"Very Positive", want(1, Positive), true},
		{"Neutral", want(0, Neutral), true},
		// The tag intelligent triage adds.
		{"sentiment__very_negative", want(-1, Negative), true},
		{"SENTIMENT__NEGATIVE", want(-0.6, Negative), true},
		{"sentiment__positive", want(0.6, Positive), true},
		{" very-positive ", want(1, Positive), true},
		// Malformed.
		{"", gateway.Sentiment{}, false},
		{"sentiment__", gateway.Sentiment{}, false},
		{"very negative!", gateway.Sentiment{}, false},
		{"very_very_negative", gateway.Sentiment{}, false},
		{"mixed", gateway.Sentiment{}, false},
		{"-1", gateway.Sentiment{}, false},
		{"intent__billing", gateway.Sentiment{}, false},
		{"sentiment_negative", gateway.Sentiment{}, false}, // one underscore: not the triage tag
	}
	for _, c := range cases {
		got, ok := FromZendeskLevel(c.level)
		checkVendor(t, "FromZendeskLevel("+c.level+")", got, ok, c.want, c.ok)
	}
}

func TestFromIntercomCX(t *testing.T) {
	cases := []struct {
		score float64
		want  gateway.Sentiment
		ok    bool
	}{
		{1, want(-1, Negative), true},
		{2, want(-0.5, Negative), true},
		{2.5, want(-0.25, Neutral), true},
		{3, want(0, Neutral), true},
		{3.9, want(0.45, Neutral), true},
		{4, want(0.5, Positive), true},
		{5, want(1, Positive), true},
		{0, gateway.Sentiment{}, false},
		{0.99, gateway.Sentiment{}, false},
		{5.01, gateway.Sentiment{}, false},
		{10, gateway.Sentiment{}, false},
		{-3, gateway.Sentiment{}, false},
		{math.NaN(), gateway.Sentiment{}, false},
		{math.Inf(1), gateway.Sentiment{}, false},
	}
	for _, c := range cases {
		got, ok := FromIntercomCX(c.score)
		checkVendor(t, "FromIntercomCX", got, ok, c.want, c.ok)
	}
}

// TestVendorScoresStayOnScale sweeps each numeric mapping across and beyond its vendor range:
// every accepted value lands in [-1, 1] with a hush label, and nothing panics.
func TestVendorScoresStayOnScale(t *testing.T) {
	labels := map[string]bool{Negative: true, Neutral: true, Positive: true}
	check := func(name string, x float64, s gateway.Sentiment, ok bool) {
		if !ok {
			return
		}
		if s.Score < -1 || s.Score > 1 || !labels[s.Label] || s.Source != "vendor" {
			t.Fatalf("%s(%v) = %+v", name, x, s)
		}
	}
	for x := -150.0; x <= 150; x += 0.25 {
		s, ok := FromGenesys(x)
		check("FromGenesys", x, s, ok)
		if ok != (x >= -100 && x <= 100) {
			t.Fatalf("FromGenesys(%v) ok = %v", x, ok)
		}
		s, ok = FromIntercomCX(x / 10)
		check("FromIntercomCX", x/10, s, ok)
		for _, l := range []string{"positive", "negative", "neutral", "mixed"} {
			s, ok = FromLabelProbability(l, x/100)
			check("FromLabelProbability", x/100, s, ok)
		}
	}
}
