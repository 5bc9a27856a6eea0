package intercom

import (
	"fmt"
	"strings"

	"github.com/hush-gateway/hush/connectors/htmltext"
	"github.com/hush-gateway/hush/gateway"
)

// conversationEvents maps conversation.* topics:
//
//	conversation.user.created   chat.message, the customer's opening message
//	conversation.user.replied   chat.message, the customer's newest reply
//	conversation.admin.closed   chat.closed, status closed
//	conversation.rating.added   survey.response (below)
//
// Whatever the topic, a conversation whose item carries a conversation_rating with a score
// also gives a survey.response. Its id is derived from the rating, not the notification, so
// that the rating.added notification and later ones embedding the same rating are one
// response to hush (duplicates, not new responses).
func (p *parser) conversationEvents() ([]gateway.Event, error) {
	var c conversation
	if err := p.decodeItem(&c); err != nil {
		return nil, err
	}
	convID := strings.TrimSpace(string(c.ID))
	if convID == "" {
		return nil, invalid(`field "data.item.id" (the conversation id) is required`)
	}
	if len(convID) > maxIDLength/2 {
		return nil, invalid(`field "data.item.id" is longer than %d characters`, maxIDLength/2)
	}
	topic := "intercom:conversation:" + convID

	opening := c.Source // API 2.x
	if opening == nil {
		opening = c.ConversationMessage // API 1.x
	}
	var ref *person
	switch {
	case c.User != nil:
		ref = c.User
	case c.Contacts != nil && len(c.Contacts.Contacts) > 0:
		ref = &c.Contacts.Contacts[0]
	case c.Rating != nil && c.Rating.Contact != nil:
		ref = c.Rating.Contact
	case c.Rating != nil && c.Rating.Customer != nil:
		ref = c.Rating.Customer
	}

	var events []gateway.Event
	if p.n.Topic != TopicRatingAdded {
		id, err := p.notificationID()
		if err != nil {
			return nil, err
		}
		ev := p.event(id, gateway.EventChatMessage, topic)
		var author *person
		switch p.n.Topic {
		case TopicUserCreated:
			if opening != nil {
				author = &opening.Author
				ev.Text = htmltext.Plain(opening.Body)
				if ev.Text == "" {
					ev.Text = htmltext.Plain(opening.Subject)
				}
			}
			ev.At = p.at(c.CreatedAt)
		case TopicUserReplied:
			reply := lastPart(c.Parts, func(pt *part) bool { return customerAuthor(pt.Author.Type) && pt.Body != "" })
			var replyAt unixTime
			if reply != nil {
				author, ev.Text, replyAt = &reply.Author, htmltext.Plain(reply.Body), reply.CreatedAt
			}
			ev.At = p.at(replyAt, c.UpdatedAt)
		case TopicAdminClosed:
			ev.Type = gateway.EventChatClosed
			closed := lastPart(c.Parts, func(pt *part) bool { return pt.PartType == "close" })
			var closedAt unixTime
			if closed != nil {
				closedAt = closed.CreatedAt
			}
			ev.At = p.at(closedAt, c.UpdatedAt)
		}
		if author == nil && opening != nil {
			author = &opening.Author // v2 references carry no email: the opener's author may
		}
		var external string
		ev.Customer, external = customer(ref, author)
		if namesNobody(ev.Customer) {
			return nil, invalid(`the conversation names no customer (data.item.user, data.item.contacts or the message author)`)
		}
		p.conversationDetails(&ev, &c, opening, external)
		if p.n.Topic == TopicAdminClosed {
			ev.Status = gateway.StatusClosed
			// The CX Score rates the conversation as a whole: it belongs on its close, which
			// has no text of its own, not on a message hush scores from its words.
			ev.Sentiment = cxSentiment(c.CustomAttributes, ev.Attrs)
		}
		events = append(events, ev)
	}

	survey, err := p.ratingEvent(&c, topic, ref, opening)
	if err != nil {
		return nil, err
	}
	if survey != nil {
		events = append(events, *survey)
	} else if p.n.Topic == TopicRatingAdded {
		return nil, invalid(`field "data.item.conversation_rating.rating" is required for topic %q`, TopicRatingAdded)
	}
	return events, nil
}

// conversationDetails fills what every event about a conversation shares: status, channel,
// tags and a few attributes.
func (p *parser) conversationDetails(ev *gateway.Event, c *conversation, opening *message, external string) {
	switch strings.ToLower(c.State) {
	case "open":
		ev.Status = gateway.StatusOpen
	case "closed":
		ev.Status = gateway.StatusClosed
	case "snoozed":
		ev.Status = gateway.StatusPending
	default:
		if c.Open != nil {
			ev.Status = gateway.StatusOpen
			if !*c.Open {
				ev.Status = gateway.StatusClosed
			}
		}
	}
	if opening != nil && opening.Type != "" && opening.Type != "conversation_message" {
		ev.Channel = channelOf(opening.Type)
		ev.Attrs["source_type"] = opening.Type
	}
	if opening != nil && opening.DeliveredAs != "" {
		ev.Attrs["delivered_as"] = opening.DeliveredAs
	}
	if external != "" {
		ev.Attrs["external_id"] = external
	}
	if c.Tags != nil {
		for _, t := range c.Tags.Tags {
			if name := strings.TrimSpace(t.Name); name != "" {
				ev.Tags = append(ev.Tags, name)
			}
		}
	}
}

// ratingEvent is the survey.response of a rated conversation; nil when it has no score.
// Intercom's conversation rating is CSAT on hush's own 1–5 scale, so the score is kept as is.
func (p *parser) ratingEvent(c *conversation, topic string, ref *person, opening *message) (*gateway.Event, error) {
	r := c.Rating
	if r == nil || r.Rating == nil {
		return nil, nil
	}
	score := float64(*r.Rating)
	if score < 1 || score > 5 {
		return nil, invalid(`field "data.item.conversation_rating.rating" is %s; want 1 to 5`, formatScore(score))
	}
	// One rating request is one response; a changed score is a new one.
	id := fmt.Sprintf("conversation:%s:rating:%d:%s", strings.TrimSpace(string(c.ID)), int64(r.CreatedAt), formatScore(score))
	ev := p.event(id, gateway.EventSurveyResponse, topic)
	ev.CSAT = &score
	ev.Text = strings.TrimSpace(r.Remark)
	switch {
	case r.UpdatedAt != 0:
		ev.At = r.UpdatedAt.Time()
	case p.n.Topic == TopicRatingAdded:
		ev.At = p.at() // the notification is the rating being added
	default:
		ev.At = p.at(r.CreatedAt)
	}
	// The rater is the conversation's customer unless the rating names someone else (a
	// conversation with several contacts): the v1 user object has the email a reference lacks.
	rater := ref
	for _, rc := range []*person{r.Contact, r.Customer} {
		if rc != nil && rc.ID != "" && (rater == nil || rater.ID != rc.ID) {
			rater = rc
			break
		}
	}
	var author *person
	if opening != nil {
		author = &opening.Author
	}
	var external string
	ev.Customer, external = customer(rater, author)
	if namesNobody(ev.Customer) {
		return nil, invalid(`the rated conversation names no customer (data.item.conversation_rating.contact or data.item.contacts)`)
	}
	p.conversationDetails(&ev, c, opening, external)
	ev.Tags = nil // conversation tags describe the conversation, not the response
	if r.Teammate != nil && r.Teammate.ID != "" {
		ev.Attrs["teammate_id"] = string(r.Teammate.ID)
	}
	return &ev, nil
}

// lastPart returns the newest part that matches; Intercom lists parts oldest first.
func lastPart(parts *partList, match func(*part) bool) *part {
	if parts == nil {
		return nil
	}
	for _, list := range [][]part{parts.Conversation, parts.Ticket} {
		for i := len(list) - 1; i >= 0; i-- {
			if match(&list[i]) {
				return &list[i]
			}
		}
	}
	return nil
}
