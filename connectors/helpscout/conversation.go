package helpscout

import (
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/htmltext"
	"github.com/hush-gateway/hush/gateway"
)

// conversationEvent maps the convo.* events hush uses:
//
//	convo.created                 ticket.opened, text = the customer's first message
//	convo.customer.reply.created  ticket.updated, text = the customer's newest message
//	convo.status                  ticket.solved when closed, else ticket.updated
//
// A customer reply is the same contact continuing, so it is ticket.updated, not a
// chat.message: hush counts chat messages and opened tickets as contacts, and one email
// exchange must not count as repeated contacts.
func (p *parser) conversationEvent() (gateway.Event, error) {
	var c conversation
	if err := p.decode(&c); err != nil {
		return gateway.Event{}, err
	}
	convID := strings.TrimSpace(string(c.ID))
	if convID == "" {
		return gateway.Event{}, invalid(`field "id" (the conversation id) is required`)
	}

	ev := gateway.Event{
		Source:  p.source,
		Topic:   "helpscout:conversation:" + convID,
		Status:  statusOf(c.Status),
		Channel: channelOf(c.Type),
		Attrs:   map[string]any{"helpscout_event": p.event},
	}
	if s := strings.ToLower(strings.TrimSpace(c.Status)); s != "" {
		ev.Attrs["helpscout_status"] = s
	}
	if c.Type != "" {
		ev.Attrs["conversation_type"] = c.Type
	}
	if n := strings.TrimSpace(string(c.Number)); n != "" {
		ev.Attrs["conversation_number"] = n
	}
	if m := strings.TrimSpace(string(c.MailboxID)); m != "" {
		ev.Attrs["mailbox_id"] = m
	}
	for _, t := range c.Tags {
		name := strings.TrimSpace(t.Tag)
		if name == "" {
			name = strings.TrimSpace(t.Name)
		}
		if name != "" {
			ev.Tags = append(ev.Tags, name)
		}
	}
	updatedAt := c.UserUpdatedAt.Time
	if updatedAt.IsZero() {
		updatedAt = c.UserModifiedAt.Time
	}
	if updatedAt.IsZero() {
		updatedAt = c.ModifiedAt.Time
	}

	var (
		moment string
		author *person
		err    error
	)
	switch p.event {
	case EventConvoCreated:
		ev.Type = gateway.EventTicketOpened
		// A conversation is created once: its id alone names the delivery.
		moment = "created"
		if t := customerThread(c.allThreads(), false); t != nil {
			ev.Text, author = t.text(), t.author()
		}
		if ev.Text == "" && c.CreatedBy != nil && c.CreatedBy.Type == "customer" {
			ev.Text = strings.TrimSpace(c.Preview)
		}
		if c.CreatedBy != nil && c.CreatedBy.Type != "" {
			ev.Attrs["created_by"] = c.CreatedBy.Type
		}
		ev.At = p.first(c.CreatedAt.Time, updatedAt)
	case EventCustomerReply:
		ev.Type = gateway.EventTicketUpdated
		var waiting time.Time
		if c.CustomerWaiting != nil {
			waiting = c.CustomerWaiting.Time.Time
		}
		if t := customerThread(c.allThreads(), true); t != nil {
			ev.Text, author = t.text(), t.author()
			if id := strings.TrimSpace(string(t.ID)); id != "" {
				moment = "thread:" + id
			}
			ev.At = p.first(t.CreatedAt.Time, waiting, updatedAt)
		} else {
			ev.Text = strings.TrimSpace(c.Preview)
			ev.At = p.first(waiting, updatedAt)
		}
		if moment == "" {
			// Without the thread, the customer's waiting time names the reply; with no
			// time at all, the body digest does.
			moment = stamp(nonZero(waiting, updatedAt))
		}
	case EventConvoStatus:
		ev.Type = gateway.EventTicketUpdated
		if ev.Status == gateway.StatusClosed && strings.EqualFold(c.Status, "closed") {
			ev.Type = gateway.EventTicketSolved
		}
		at := updatedAt
		if strings.EqualFold(c.Status, "closed") && !c.ClosedAt.IsZero() {
			at = c.ClosedAt.Time
		}
		if !at.IsZero() {
			moment = strings.ToLower(strings.TrimSpace(c.Status)) + ":" + stamp(at)
		}
		ev.At = p.first(at)
	}
	if ev.ID, err = p.deliveryID(convID, moment); err != nil {
		return gateway.Event{}, err
	}

	var ok bool
	ev.Customer, ok = customerOf(c.PrimaryCustomer, c.Customer, author)
	if !ok {
		return gateway.Event{}, invalid(`the conversation names no customer (primaryCustomer or customer)`)
	}
	return ev, nil
}

// customerThread returns the customer's newest (or, newest false, oldest) published thread.
func customerThread(threads []thread, newest bool) *thread {
	var found *thread
	for i := range threads {
		t := &threads[i]
		if !t.byCustomer() || (t.State != "" && t.State != "published") {
			continue
		}
		if found == nil || newest && t.CreatedAt.After(found.CreatedAt.Time) || !newest && t.CreatedAt.Before(found.CreatedAt.Time) {
			found = t
		}
	}
	return found
}

func (t *thread) byCustomer() bool {
	return t.Type == "customer" || t.CreatedBy != nil && t.CreatedBy.Type == "customer"
}

func (t *thread) text() string {
	if t.Body != "" {
		return htmltext.Plain(t.Body)
	}
	return strings.TrimSpace(t.Text)
}

// author is the customer who wrote the thread, to complete the conversation's customer.
func (t *thread) author() *person {
	if t.CreatedBy != nil && t.CreatedBy.Type == "customer" {
		return t.CreatedBy
	}
	return t.Customer
}

// statusOf maps Help Scout's conversation statuses: active → open, pending → pending,
// closed and spam → closed (a spam conversation is over as far as silences go).
func statusOf(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "active", "open":
		return gateway.StatusOpen
	case "pending":
		return gateway.StatusPending
	case "closed", "spam":
		return gateway.StatusClosed
	}
	return ""
}

// channelOf maps a conversation's type: email → email, phone → voice; chats have no hush
// channel.
func channelOf(t string) gateway.Channel {
	switch strings.ToLower(t) {
	case "email":
		return gateway.ChannelEmail
	case "phone":
		return gateway.ChannelVoice
	}
	return ""
}
