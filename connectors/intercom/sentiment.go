package intercom

import (
	"encoding/json"
	"strings"

	"github.com/hush-gateway/hush/connectors/jsonval"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/sentiment"
)

// cxScoreAttribute is the conversation data attribute in which Intercom puts its CX Score, an
// AI rating of the whole conversation from 1 to 5; custom_attributes["CX Score explanation"]
// beside it says why. The name is matched ignoring case.
const cxScoreAttribute = "CX Score rating"

// cxSentiment reads the CX Score from a conversation's custom_attributes and maps it onto
// hush's scale (sentiment.FromIntercomCX). It is nil when the attribute is absent, null, not
// a number, or outside 1–5: a conversation's attributes belong to the workspace, so a value
// hush cannot read is no sentiment rather than a refused notification. The score as Intercom
// wrote it is attrs.sentiment_raw, and attrs.sentiment_vendor is "intercom".
func cxSentiment(customAttributes json.RawMessage, attrs map[string]any) *gateway.Sentiment {
	var all map[string]json.RawMessage
	if json.Unmarshal(customAttributes, &all) != nil {
		return nil
	}
	for name, raw := range all {
		if !strings.EqualFold(strings.TrimSpace(name), cxScoreAttribute) {
			continue
		}
		var n *jsonval.Number
		if json.Unmarshal(raw, &n) != nil || n == nil {
			return nil
		}
		s, ok := sentiment.FromIntercomCX(float64(*n))
		if !ok {
			return nil
		}
		attrs["sentiment_vendor"] = Vendor
		attrs["sentiment_raw"] = formatScore(float64(*n))
		return &s
	}
	return nil
}
