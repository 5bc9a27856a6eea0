package zendesk

import (
	"strings"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/sentiment"
)

// triageSentiment reads the sentiment Zendesk's intelligent triage gave the ticket from its
// tags: triage sets its Sentiment field and adds the field's value as a tag,
// "sentiment__very_negative" … "sentiment__very_positive", so both the event webhooks
// (detail.tags) and the trigger template ({{ticket.tags}}) carry it without an
// account-specific field id. It returns nil when no tag names a level, or when the tags name
// two different levels (a hand-edited ticket: hush does not guess which one is current).
//
// The mapped score is on the event; the tag as written is attrs.sentiment_raw and the vendor
// attrs.sentiment_vendor, so that the timeline shows where the score came from.
func triageSentiment(tags []string, attrs map[string]any) *gateway.Sentiment {
	var found *gateway.Sentiment
	var raw string
	for _, t := range tags {
		if !strings.HasPrefix(strings.ToLower(t), sentiment.ZendeskSentimentTagPrefix) {
			continue
		}
		s, ok := sentiment.FromZendeskLevel(t)
		if !ok {
			continue
		}
		if found != nil && (found.Score != s.Score || found.Label != s.Label) {
			return nil
		}
		found, raw = &s, t
	}
	if found != nil {
		attrs["sentiment_vendor"] = VendorName
		attrs["sentiment_raw"] = raw
	}
	return found
}
