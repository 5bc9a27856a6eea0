package intercom

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestCXScoreOnClose: a closed conversation carrying Intercom's CX Score gives a chat.closed
// event with the vendor sentiment; a message of the same conversation keeps none (hush scores
// its words), and neither does the survey response.
func TestCXScoreOnClose(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "docs_v2_conversation_admin_closed_cx_score.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseNotification(body, "intercom", goldenReceivedAt)
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	ev := res.Events[0]
	s := ev.Sentiment
	if s == nil || s.Score != -0.5 || s.Label != "negative" || s.Source != "vendor" {
		t.Fatalf("sentiment = %+v, want {-0.5 negative vendor}", s)
	}
	if ev.Attrs["sentiment_raw"] != "2" || ev.Attrs["sentiment_vendor"] != "intercom" {
		t.Errorf("attrs = %v", ev.Attrs)
	}

	item := `{"type":"conversation","id":"77","created_at":1700000000,"updated_at":1700000050,"state":"open",` +
		`"custom_attributes":{"CX Score rating":1},` +
		`"conversation_rating":{"rating":2,"created_at":1700000010,"contact":{"type":"contact","id":"c1"}},` +
		`"contacts":{"type":"contact.list","contacts":[{"type":"contact","id":"c1"}]},` +
		`"conversation_parts":{"conversation_parts":[{"part_type":"comment","body":"<p>still broken</p>","created_at":1700000040,"author":{"type":"user","id":"c1"}}]}}`
	res, err = ParseNotification(notif(TopicUserReplied, "n-1", item), "intercom", goldenReceivedAt)
	if err != nil || len(res.Events) != 2 {
		t.Fatalf("%+v, %v", res, err)
	}
	for _, ev := range res.Events {
		if ev.Sentiment != nil || ev.Attrs["sentiment_raw"] != nil {
			t.Errorf("%s: sentiment %+v, attrs %v; want none", ev.Type, ev.Sentiment, ev.Attrs)
		}
	}
}

func TestCXSentiment(t *testing.T) {
	cases := []struct {
		attrs string
		score float64
		raw   string
		none  bool
	}{
		{`{"CX Score rating": 5}`, 1, "5", false},
		{`{"CX Score rating": 3, "CX Score explanation": "resolved"}`, 0, "3", false},
		{`{"CX Score rating": "4"}`, 0.5, "4", false}, // a number written as a string
		{`{"cx score rating": 1}`, -1, "1", false},
		{`{"CX Score Rating": 2}`, -0.5, "2", false},
		{`{"CX Score rating": 0}`, 0, "", true},
		{`{"CX Score rating": 6}`, 0, "", true},
		{`{"CX Score rating": -2}`, 0, "", true},
		{`{"CX Score rating": null}`, 0, "", true},
		{`{"CX Score rating": "great"}`, 0, "", true},
		{`{"CX Score rating": [4]}`, 0, "", true},
		{`{"CX Score rating": {"value": 4}}`, 0, "", true},
		{`{"CX Score explanation": "no rating yet"}`, 0, "", true},
		{`{"Rating": 5}`, 0, "", true},
		{`{}`, 0, "", true},
		{`null`, 0, "", true},
		{`[1, 2]`, 0, "", true},
		{`"CX Score rating"`, 0, "", true},
		{``, 0, "", true},
	}
	for _, c := range cases {
		attrs := map[string]any{}
		s := cxSentiment(json.RawMessage(c.attrs), attrs)
		if c.none {
			if s != nil || len(attrs) != 0 {
				t.Errorf("%s: %+v, attrs %v; want none", c.attrs, s, attrs)
			}
			continue
		}
		if s == nil || s.Score != c.score || s.Source != "vendor" || attrs["sentiment_raw"] != c.raw || attrs["sentiment_vendor"] != "intercom" {
			t.Errorf("%s: %+v, attrs %v; want score %v raw %q", c.attrs, s, attrs, c.score, c.raw)
		}
	}
}
