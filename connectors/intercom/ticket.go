package intercom

import (
	"strings"

	"github.com/hush-gateway/hush/connectors/htmltext"
	"github.com/hush-gateway/hush/gateway"
)

// ticketEvents maps ticket.* topics:
//
//	ticket.created          ticket.opened
//	ticket.state.updated    ticket.updated; ticket.solved when the state is resolved
//	ticket.contact.replied  ticket.updated, with the customer's reply as text
//	ticket.resolved         ticket.solved, status solved
//	ticket.closed           ticket.solved, status closed
//
// Teammate-side ticket topics (notes, assignments, admin replies, attribute changes) are
// not contacts from the customer and are ignored.
func (p *parser) ticketEvents() ([]gateway.Event, error) {
	var t ticket
	if err := p.decodeItem(&t); err != nil {
		return nil, err
	}
	if t.Nested != nil {
		// API 2.15+ ticket.closed wraps the ticket: data.item.ticket.
		t = *t.Nested
	}
	ticketID := strings.TrimSpace(string(t.ID))
	if ticketID == "" {
		return nil, invalid(`field "data.item.id" (the ticket id) is required`)
	}
	if len(ticketID) > maxIDLength {
		return nil, invalid(`field "data.item.id" is longer than %d characters`, maxIDLength)
	}
	id, err := p.notificationID()
	if err != nil {
		return nil, err
	}
	ev := p.event(id, gateway.EventTicketUpdated, "intercom:ticket:"+ticketID)
	ev.Status = ticketStatus(&t)
	ev.Channel = channelOf(t.Channel)

	var ref, author *person
	if t.Contacts != nil && len(t.Contacts.Contacts) > 0 {
		ref = &t.Contacts.Contacts[0]
	}
	switch p.n.Topic {
	case TopicTicketCreated:
		ev.Type = gateway.EventTicketOpened
		ev.At = p.at(t.CreatedAt)
	case TopicTicketStateUpdated:
		if ev.Status == gateway.StatusSolved {
			ev.Type = gateway.EventTicketSolved
		}
		ev.At = p.at(t.UpdatedAt)
	case TopicTicketContactReplied:
		reply := lastPart(t.Parts, func(pt *part) bool { return customerAuthor(pt.Author.Type) && pt.Body != "" })
		var replyAt unixTime
		if reply != nil {
			author, ev.Text, replyAt = &reply.Author, htmltext.Plain(reply.Body), reply.CreatedAt
		}
		ev.At = p.at(replyAt, t.UpdatedAt)
	case TopicTicketResolved:
		ev.Type, ev.Status = gateway.EventTicketSolved, gateway.StatusSolved
		ev.At = p.at(t.UpdatedAt)
	case TopicTicketClosed:
		ev.Type, ev.Status = gateway.EventTicketSolved, gateway.StatusClosed
		ev.At = p.at(t.UpdatedAt)
	}

	var external string
	ev.Customer, external = customer(ref, author)
	if namesNobody(ev.Customer) {
		return nil, invalid(`the ticket names no customer (data.item.contacts)`)
	}
	if external != "" {
		ev.Attrs["external_id"] = external
	}
	if v := strings.TrimSpace(string(t.TicketID)); v != "" {
		ev.Attrs["ticket_id"] = v
	}
	if t.State.Category != "" {
		ev.Attrs["ticket_state"] = t.State.Category
	}
	if t.TicketType != nil && t.TicketType.Name != "" {
		ev.Attrs["ticket_type"] = t.TicketType.Name
	}
	return []gateway.Event{ev}, nil
}

// ticketStatus maps the ticket state's category (submitted, in_progress,
// waiting_on_customer, resolved) to hush's statuses; without one, the open flag decides.
func ticketStatus(t *ticket) string {
	switch strings.ToLower(t.State.Category) {
	case "submitted", "in_progress":
		return gateway.StatusOpen
	case "waiting_on_customer":
		return gateway.StatusPending
	case "resolved":
		return gateway.StatusSolved
	}
	if t.Open != nil {
		if *t.Open {
			return gateway.StatusOpen
		}
		return gateway.StatusClosed
	}
	return ""
}
