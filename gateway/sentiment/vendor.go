package sentiment

import (
	"math"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// Vendor scores: when a payload already carries a sentiment a vendor computed, hush maps it
// onto its own scale ([-1, 1], label negative | neutral | positive) instead of scoring the
// text again. Every function here is pure, never panics, and answers ok=false for a value
// outside the vendor's documented range or one it does not recognise (NaN, ±Inf, an unknown
// label): a malformed vendor score is absent, never guessed.
//
// The Source of every result is "vendor" (gateway.Sentiment: vendor | builtin | external).
// Which vendor, and its raw value, are the caller's to record in the event's attributes
// (sentiment_vendor, sentiment_raw), so that the timeline shows why.

// vendorSource is gateway.Sentiment.Source for a score a vendor computed.
const vendorSource = "vendor"

// vendorLabel is the label of a score on hush's scale given the half-width of the vendor's
// neutral band: score <= -band is negative, score >= band positive, anything between
// neutral. Each vendor has its own band (documented at its function); the built-in scorer's
// thresholds are its own and deliberately not shared.
func vendorLabel(score, band float64) string {
	switch {
	case score <= -band:
		return Negative
	case score >= band:
		return Positive
	}
	return Neutral
}

// finite reports whether f is a real number (not NaN nor ±Inf).
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// FromLabelProbability maps a classifier's label and its probability, as Twilio's
// Conversational Intelligence "Sentiment Analysis" pre-built operator returns them
// (predicted_label "positive", "negative", "neutral" or "mixed"; predicted_probability):
//
//	positive, p → score  p, label positive
//	negative, p → score -p, label negative
//	neutral,  p → score  0, label neutral
//	mixed,    p → score  0, label neutral
//
// The label is read case-insensitively and p must be in [0, 1]. The probability is how sure
// the model is of its label, so it scales a polar label's score: a negative said with
// probability 0.55 is a weaker signal than one said with 0.98. For neutral and mixed it
// says nothing about direction: "mixed" means the conversation holds both positive and
// negative sentiment, and hush's scale has no place for "both", so it is neutral (0) and the
// caller keeps the vendor's "mixed" in the event's attributes.
//
// Vendor documentation:
//   - https://www.twilio.com/docs/conversational-intelligence/pre-built-operators
//     (Sentiment Analysis: "Classifies conversation sentiment as positive, negative, neutral,
//     or mixed")
//   - https://www.twilio.com/docs/voice/intelligence/api/transcript-operator-results-subresource
//     (predicted_label, predicted_probability, label_probabilities)
func FromLabelProbability(label string, p float64) (gateway.Sentiment, bool) {
	if !finite(p) || p < 0 || p > 1 {
		return gateway.Sentiment{}, false
	}
	s := gateway.Sentiment{Source: vendorSource}
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "positive":
		s.Score, s.Label = p, Positive
	case "negative":
		s.Score, s.Label = -p, Negative
	case "neutral", "mixed":
		s.Score, s.Label = 0, Neutral
	default:
		return gateway.Sentiment{}, false
	}
	return s, true
}

// genesysNeutralBand is the half-width of Genesys's neutral band on hush's scale: Genesys
// reads an overall customer sentiment score above −20 and below 20 as neutral, 20 to 55 as
// slightly positive and above 55 as positive (negative symmetrically). hush has no "slightly":
// slightly negative is negative, because a mildly unhappy customer is exactly who a
// cool-down is for.
const genesysNeutralBand = 0.20

// FromGenesys maps a Genesys Cloud overall customer sentiment score, −100 (extremely
// dissatisfied) to +100 (extremely satisfied), onto hush's scale by dividing by 100.
// Labels: ≤ −20 negative, ≥ 20 positive, between neutral (genesysNeutralBand).
//
// Genesys has no hush connector: a Genesys integration posts hush's normalized event to the
// generic source with the score already mapped by this function, or an operator maps it by
// hand with the same rule.
//
// Vendor documentation:
//   - Genesys Cloud Resource Center, "Understand sentiment analysis": the overall customer
//     sentiment score "ranges from -100 to +100, with -100 being extremely dissatisfied and
//     +100 being extremely satisfied" (quoted from the Resource Center at
//     https://www.sipoch.com/en/article/300330019017904; Genesys's own page on sentiment
//     markers, which links to it: https://help.mypurecloud.com/?p=216385)
//   - https://help.dev-genesys.cloud/faqs/category/sentiment-analysis (how to read scores)
//
// The ±20 / ±55 bands are the ones Genesys's Speech and Text Analytics views use, as
// reproduced by the Genesys Cloud MCP server's interpretSentiment
// (https://app.unpkg.com/@makingchatbots/genesys-cloud-mcp-server@0.0.11/files/dist/tools/conversationSentiment/interpretSentiment.js);
// no Genesys page stating them was found, so they are recorded here as that source's reading.
func FromGenesys(score float64) (gateway.Sentiment, bool) {
	if !finite(score) || score < -100 || score > 100 {
		return gateway.Sentiment{}, false
	}
	s := score / 100
	return gateway.Sentiment{Score: s, Label: vendorLabel(s, genesysNeutralBand), Source: vendorSource}, true
}

// zendeskLevels are Zendesk intelligent triage's five sentiment values on hush's scale. The
// strong levels are the ends of the scale; the plain ones sit at 0.6, past the middle,
// because Zendesk calls them negative/positive outright (not "slightly").
var zendeskLevels = map[string]gateway.Sentiment{
	"very_negative": {Score: -1, Label: Negative, Source: vendorSource},
	"negative":      {Score: -0.6, Label: Negative, Source: vendorSource},
	"neutral":       {Score: 0, Label: Neutral, Source: vendorSource},
	"positive":      {Score: 0.6, Label: Positive, Source: vendorSource},
	"very_positive": {Score: 1, Label: Positive, Source: vendorSource},
}

// ZendeskSentimentTagPrefix starts the tag intelligent triage adds to a ticket for its
// Sentiment field: "sentiment__very_negative", "sentiment__neutral"…
const ZendeskSentimentTagPrefix = "sentiment__"

// FromZendeskLevel maps a Zendesk intelligent triage Sentiment value:
//
//	Very negative → −1    Negative → −0.6    Neutral → 0    Positive → 0.6    Very positive → 1
//
// The level is accepted as Zendesk writes it in each place: the field's option title
// ("Very negative", "Very Negative"), its value or tag ("very_negative",
// "sentiment__very_negative"). Case, surrounding space and a space or hyphen for the
// underscore do not matter; anything else is ok=false.
//
// Vendor documentation:
//   - https://support.zendesk.com/hc/en-us/articles/4550640560538 (intelligent triage adds
//     the Sentiment field, "Possible values are Very Positive, Positive, Neutral, Negative,
//     and Very Negative", and the tag sentiment__<value of Sentiment field>)
//   - https://support.zendesk.com/hc/en-us/articles/4685355428250 (viewing the predictions)
func FromZendeskLevel(level string) (gateway.Sentiment, bool) {
	l := strings.ToLower(strings.TrimSpace(level))
	l = strings.TrimPrefix(l, ZendeskSentimentTagPrefix)
	l = strings.NewReplacer(" ", "_", "-", "_").Replace(l)
	s, ok := zendeskLevels[l]
	return s, ok
}

// intercomNeutralBand is the half-width of the neutral band for Intercom's CX Score on hush's
// scale: 1 and 2 (−1, −0.5) are negative, 3 (0) neutral, 4 and 5 (0.5, 1) positive.
const intercomNeutralBand = 0.5

// FromIntercomCX maps Intercom's CX Score, an AI rating of every conversation from 1 to 5
// (it blends resolution, customer sentiment and service quality), linearly onto hush's scale:
// 1 → −1, 2 → −0.5, 3 → 0, 4 → 0.5, 5 → 1. Labels: 1–2 negative, 3 neutral, 4–5 positive
// (intercomNeutralBand). Intercom's own team reviews conversations scored 1 to 3; 3 stays
// neutral here because it is the middle of the scale, and rules can still test the score.
//
// Vendor documentation:
//   - https://www.intercom.com/help/en/articles/10495092-understand-customer-experience-at-scale-with-the-customer-experience-cx-score
//   - https://community.intercom.com/analyze-fin-93/how-can-i-view-the-individual-signals-behind-a-cx-score-12790
//     ("an overall 1–5 rating plus an AI-generated explanation")
func FromIntercomCX(score float64) (gateway.Sentiment, bool) {
	if !finite(score) || score < 1 || score > 5 {
		return gateway.Sentiment{}, false
	}
	s := (score - 3) / 2
	return gateway.Sentiment{Score: s, Label: vendorLabel(s, intercomNeutralBand), Source: vendorSource}, true
}
