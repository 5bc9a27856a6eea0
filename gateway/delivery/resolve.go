package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// alertPayload is the part of the outbox payload the worker reads (written by
// gateway/policy putAlert): references, never the customer's words.
type alertPayload struct {
	CustomerID string `json:"customer_id"`
	EventID    string `json:"event_id"` // source:id
	SilenceID  string `json:"silence_id,omitempty"`
}

// maxEventScan bounds the events read to find the triggering one: the store indexes a
// customer's events by time, not by ID, and the trigger is almost always among the newest.
const maxEventScan = 300

// resolve reads what the alert shows from the store, as it is now. Records that are gone
// (an erased customer, a pruned event) are left nil; only a store failure is an error.
func (w *Worker) resolve(ctx context.Context, m *gateway.OutboxMessage) (*gateway.AlertMessage, error) {
	var p alertPayload
	if len(m.Payload) > 0 {
		// A payload that does not parse still gets its alert, with what the message says.
		_ = json.Unmarshal(m.Payload, &p)
	}
	customerID := firstNonEmpty(m.CustomerID, p.CustomerID)
	eventRef := firstNonEmpty(p.EventID, m.EventID)
	am := &gateway.AlertMessage{Outbox: *m, Language: w.cfg.Language}
	err := w.cfg.Store.View(ctx, func(tx gateway.Tx) error {
		am.Customer, am.Silence, am.Event = nil, nil, nil
		if customerID != "" {
			c, err := tx.Customer(customerID)
			if err != nil && !errors.Is(err, gateway.ErrNotFound) {
				return fmt.Errorf("read customer: %w", err)
			}
			am.Customer = c
		}
		if p.SilenceID != "" {
			s, err := tx.Silence(p.SilenceID)
			if err != nil && !errors.Is(err, gateway.ErrNotFound) {
				return fmt.Errorf("read silence: %w", err)
			}
			am.Silence = s
		}
		if customerID != "" && eventRef != "" && am.Customer != nil {
			ev, err := findEvent(tx, customerID, eventRef)
			if err != nil {
				return err
			}
			am.Event = ev
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolve alert %s: %w", m.ID, err)
	}
	am.ConsoleURL = w.consoleURL(am.Customer, customerID)
	return am, nil
}

// findEvent looks for the event source:id among the customer's newest maxEventScan events.
func findEvent(tx gateway.Tx, customerID, ref string) (*gateway.Event, error) {
	q := gateway.EventQuery{CustomerID: customerID, Page: gateway.Page{Limit: 100}}
	for seen := 0; seen < maxEventScan; {
		events, next, err := tx.Events(q)
		if err != nil {
			if errors.Is(err, gateway.ErrNotFound) {
				return nil, nil
			}
			return nil, fmt.Errorf("read events: %w", err)
		}
		for i := range events {
			if events[i].Source+":"+events[i].ID == ref {
				return &events[i], nil
			}
		}
		seen += len(events)
		if next == "" || len(events) == 0 {
			break
		}
		q.Cursor = next
	}
	return nil, nil
}

// consoleURL links to the customer in the console: by its first identity (what the
// console and the API address customers by), else by ID.
func (w *Worker) consoleURL(c *gateway.Customer, customerID string) string {
	if w.cfg.PublicURL == "" {
		return ""
	}
	key := customerID
	if c != nil && len(c.Identities) > 0 {
		key = c.Identities[0].String()
	}
	if key == "" {
		return ""
	}
	return strings.TrimRight(w.cfg.PublicURL, "/") + "/console/customers/" + url.PathEscape(key)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
