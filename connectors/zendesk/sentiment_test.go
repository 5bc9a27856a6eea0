package zendesk

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTriageSentimentOnEvents parses the fixtures that carry intelligent triage's tag, through
// both kinds of webhook: the event carries the vendor's score on hush's scale and attrs say
// where it came from; a survey response keeps no ticket sentiment (its comment is its own).
func TestTriageSentimentOnEvents(t *testing.T) {
	cases := []struct {
		file  string
		score float64
		label string
		raw   string
	}{
		{"event_ticket_tags_changed_sentiment.json", -1, "negative", "sentiment__very_negative"},
		{"template_ticket_updated_sentiment.json", -0.6, "negative", "sentiment__negative"},
		{"template_satisfaction_bad_sentiment.json", 0, "", ""},
		{"event_ticket_created.json", 0, "", ""}, // no triage tag yet
	}
	for _, c := range cases {
		body, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		res, err := ParseBody(body, "zendesk", goldenReceivedAt)
		if err != nil || len(res.Events) != 1 {
			t.Fatalf("%s: %+v, %v", c.file, res, err)
		}
		ev := res.Events[0]
		if c.label == "" {
			if ev.Sentiment != nil || ev.Attrs["sentiment_raw"] != nil {
				t.Errorf("%s: sentiment %+v, attrs %v; want none", c.file, ev.Sentiment, ev.Attrs)
			}
			continue
		}
		s := ev.Sentiment
		if s == nil || s.Score != c.score || s.Label != c.label || s.Source != "vendor" {
			t.Fatalf("%s: sentiment = %+v, want {%v %s vendor}", c.file, s, c.score, c.label)
		}
		if ev.Attrs["sentiment_raw"] != c.raw || ev.Attrs["sentiment_vendor"] != "zendesk" {
			t.Errorf("%s: attrs %v; want sentiment_raw %q, sentiment_vendor zendesk", c.file, ev.Attrs, c.raw)
		}
	}
}

func TestTriageSentimentTags(t *testing.T) {
	cases := []struct {
		name  string
		tags  []string
		score float64
		none  bool
	}{
		{"one level", []string{"vip", "sentiment__positive"}, 0.6, false},
		{"upper case", []string{"SENTIMENT__VERY_POSITIVE"}, 1, false},
		{"neutral", []string{"sentiment__neutral"}, 0, false},
		{"same level twice", []string{"sentiment__negative", "sentiment__negative"}, -0.6, false},
		{"two levels: ambiguous", []string{"sentiment__negative", "sentiment__very_positive"}, 0, true},
		{"unknown level", []string{"sentiment__furious"}, 0, true},
		{"prefix only", []string{"sentiment__"}, 0, true},
		{"look-alike tag", []string{"negative", "sentiment_negative", "customer_sentiment__negative"}, 0, true},
		{"no tags", nil, 0, true},
	}
	for _, c := range cases {
		attrs := map[string]any{}
		s := triageSentiment(c.tags, attrs)
		if c.none {
			if s != nil || len(attrs) != 0 {
				t.Errorf("%s: %+v, attrs %v; want none", c.name, s, attrs)
			}
			continue
		}
		if s == nil || s.Score != c.score || s.Source != "vendor" || attrs["sentiment_vendor"] != "zendesk" {
			t.Errorf("%s: %+v, attrs %v; want score %v from vendor zendesk", c.name, s, attrs, c.score)
		}
	}
}
