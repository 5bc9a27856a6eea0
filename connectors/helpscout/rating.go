package helpscout

import (
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// CSATScale names Help Scout's three-point happiness scale in attrs.csat_scale: hush keeps
// CSAT on 1–5, so Great is 5, Okay 3 and Not Good (the API writes "Bad") 1.
const CSATScale = "great/okay/not-good"

// ratingScores maps Help Scout's rating words, lower-cased, to CSAT.
var ratingScores = map[string]float64{
	"great":    5,
	"okay":     3,
	"ok":       3,
	"bad":      1,
	"not good": 1,
	"not-good": 1,
	"notgood":  1,
}

// ratingEvent maps satisfaction.ratings to a survey.response. Its id is the rating's id and
// modifiedAt: a retry is a duplicate, a rating changed later (a comment added) is new.
func (p *parser) ratingEvent() (gateway.Event, error) {
	var r rating
	if err := p.decode(&r); err != nil {
		return gateway.Event{}, err
	}
	ratingID := strings.TrimSpace(string(r.ID))
	if ratingID == "" {
		return gateway.Event{}, invalid(`field "id" (the rating id) is required`)
	}
	word := strings.ToLower(strings.Join(strings.Fields(r.Rating), " "))
	score, ok := ratingScores[word]
	if !ok {
		if word == "" {
			return gateway.Event{}, invalid(`field "rating" is required (Great, Okay or Bad)`)
		}
		return gateway.Event{}, invalid(`field "rating" is not Great, Okay or Bad`)
	}
	ev := gateway.Event{
		Source: p.source,
		Type:   gateway.EventSurveyResponse,
		CSAT:   &score,
		Text:   strings.TrimSpace(r.Comments),
		At:     p.first(r.ModifiedAt.Time, r.CreatedAt.Time),
		Attrs: map[string]any{
			"helpscout_event": p.event,
			"csat_scale":      CSATScale,
			"rating":          strings.TrimSpace(r.Rating),
		},
	}
	var err error
	if ev.ID, err = p.deliveryID(ratingID, stamp(nonZero(r.ModifiedAt.Time, r.CreatedAt.Time))); err != nil {
		return gateway.Event{}, err
	}
	conv := strings.TrimSpace(string(r.ConversationID))
	if conv == "" {
		conv = strings.TrimSpace(string(r.TicketID))
	}
	if conv != "" {
		ev.Topic = "helpscout:conversation:" + conv
	}
	if t := strings.TrimSpace(string(r.ThreadID)); t != "" {
		ev.Attrs["thread_id"] = t
	}
	if r.Mailbox != nil && r.Mailbox.ID != "" {
		ev.Attrs["mailbox_id"] = string(r.Mailbox.ID)
	}
	if ev.Customer, ok = customerOf(r.Customer); !ok {
		return gateway.Event{}, invalid(`the rating names no customer (customer.id or customer.emails)`)
	}
	return ev, nil
}
