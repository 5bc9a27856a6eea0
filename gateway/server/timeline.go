package server

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// timelineItem is one entry of a customer's timeline: an event or a decision.
type timelineItem struct {
	Kind     string            `json:"kind"` // "event" | "decision"
	At       time.Time         `json:"at"`
	Event    *gateway.Event    `json:"event,omitempty"`
	Decision *gateway.Decision `json:"decision,omitempty"`
}

// streamPos is where one of the two merged listings stands: the store cursor of the page
// being read, how far into that page, and whether the listing is exhausted. Store cursors
// are opaque and point at page boundaries, so a merge that stops mid-page must remember
// the offset and read that page again with the same size.
type streamPos struct {
	Cursor string `json:"c,omitempty"`
	Offset int    `json:"o,omitempty"`
	Done   bool   `json:"d,omitempty"`
}

// timelineCursor is the opaque cursor of a timeline page.
type timelineCursor struct {
	PageSize  int       `json:"n"`
	Events    streamPos `json:"e"`
	Decisions streamPos `json:"x"`
}

func (c timelineCursor) encode() string {
	b, _ := json.Marshal(c) // plain struct: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeTimelineCursor(s string) (timelineCursor, error) {
	var c timelineCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.PageSize < 1 || c.PageSize > 1000 ||
		c.Events.Offset < 0 || c.Decisions.Offset < 0 {
		return c, invalidf("cursor is not one this server handed out")
	}
	return c, nil
}

// timelineStart reads where a timeline page starts and how long it is: the first page of
// page.Limit items (defaultTimelineLimit when 0), or where page.Cursor left off.
func timelineStart(page gateway.Page) (timelineCursor, int, error) {
	limit := page.Limit
	if limit == 0 {
		limit = defaultTimelineLimit
	}
	if page.Cursor == "" {
		return timelineCursor{PageSize: limit}, limit, nil
	}
	cur, err := decodeTimelineCursor(page.Cursor)
	return cur, limit, err
}

// stream reads one listing page by page from a position.
type stream[T any] struct {
	pos   streamPos
	fetch func(cursor string) ([]T, string, error)
	page  []T
	next  string
	ready bool
}

// peek returns the next item without consuming it.
func (s *stream[T]) peek() (*T, error) {
	for !s.pos.Done {
		if !s.ready {
			page, next, err := s.fetch(s.pos.Cursor)
			if err != nil {
				return nil, err
			}
			s.page, s.next, s.ready = page, next, true
		}
		if s.pos.Offset < len(s.page) {
			return &s.page[s.pos.Offset], nil
		}
		if s.next == "" {
			s.pos.Done = true
			break
		}
		s.pos = streamPos{Cursor: s.next}
		s.ready = false
	}
	return nil, nil
}

func (s *stream[T]) pop() { s.pos.Offset++ }

// readTimeline merges the customer's events and decisions, newest first, into one page.
func readTimeline(tx gateway.Tx, customerID string, cur timelineCursor, limit int) ([]timelineItem, string, error) {
	events := &stream[gateway.Event]{pos: cur.Events, fetch: func(c string) ([]gateway.Event, string, error) {
		return tx.Events(gateway.EventQuery{CustomerID: customerID, Page: gateway.Page{Limit: cur.PageSize, Cursor: c}})
	}}
	decisions := &stream[gateway.Decision]{pos: cur.Decisions, fetch: func(c string) ([]gateway.Decision, string, error) {
		return tx.Decisions(gateway.DecisionQuery{CustomerID: customerID, Page: gateway.Page{Limit: cur.PageSize, Cursor: c}})
	}}
	items := []timelineItem{}
	for len(items) < limit {
		e, err := events.peek()
		if err != nil {
			return nil, "", err
		}
		d, err := decisions.peek()
		if err != nil {
			return nil, "", err
		}
		switch {
		case e == nil && d == nil:
			return items, "", nil
		case d == nil || e != nil && !e.At.Before(d.At):
			ev := *e
			ev.Raw = nil // raw payloads stay out of the API
			items = append(items, timelineItem{Kind: "event", At: ev.At, Event: &ev})
			events.pop()
		default:
			dec := *d
			items = append(items, timelineItem{Kind: "decision", At: dec.At, Decision: &dec})
			decisions.pop()
		}
	}
	// Only hand out a cursor when something is left.
	e, err := events.peek()
	if err != nil {
		return nil, "", err
	}
	d, err := decisions.peek()
	if err != nil {
		return nil, "", err
	}
	if e == nil && d == nil {
		return items, "", nil
	}
	next := timelineCursor{PageSize: cur.PageSize, Events: events.pos, Decisions: decisions.pos}
	return items, next.encode(), nil
}
