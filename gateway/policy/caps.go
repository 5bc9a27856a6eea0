package policy

import (
	"fmt"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// capRule is a checked CapSpec.
type capRule struct {
	channel  gateway.Channel  // or ChannelAny
	category gateway.Category // or CategoryAny
	max      int
	per      time.Duration
	name     string // "voice/sales 3 per 30d", as decisions report it
}

func compileCaps(specs []gateway.CapSpec) ([]capRule, error) {
	caps := make([]capRule, 0, len(specs))
	for i, s := range specs {
		ch, err := gateway.ParseChannel(string(s.Channel), true)
		if err != nil {
			return nil, fmt.Errorf("caps[%d].channel: %w", i, err)
		}
		cat, err := gateway.ParseCategory(string(s.Category), true)
		if err != nil {
			return nil, fmt.Errorf("caps[%d].category: %w", i, err)
		}
		if cat.NeverBlocked() {
			return nil, fmt.Errorf("caps[%d].category: %s messages are never capped", i, cat)
		}
		if s.Max <= 0 {
			return nil, fmt.Errorf("caps[%d].max: must be at least 1 (got %d)", i, s.Max)
		}
		if s.Per.D() <= 0 {
			return nil, fmt.Errorf("caps[%d].per: must be a positive duration such as 30d", i)
		}
		caps = append(caps, capRule{
			channel: ch, category: cat, max: s.Max, per: s.Per.D(),
			name: fmt.Sprintf("%s/%s %d per %s", ch, cat, s.Max, s.Per),
		})
	}
	return caps, nil
}

func (c *capRule) applies(ch gateway.Channel, cat gateway.Category) bool {
	return (c.channel == gateway.ChannelAny || c.channel == ch) &&
		(c.category == gateway.CategoryAny || c.category == cat)
}

// capsApply reports whether any cap counts sends on ch in cat.
func (e *Engine) capsApply(ch gateway.Channel, cat gateway.Category) bool {
	if cat.NeverBlocked() {
		return false
	}
	for i := range e.caps {
		if e.caps[i].applies(ch, cat) {
			return true
		}
	}
	return false
}

// capVerdict is the outcome of checking every cap that applies to one send.
type capVerdict struct {
	cap   string     // first cap that is full; "" when every cap has room
	until *time.Time // when every full cap has room again
}

// checkCaps counts the customer's contacts against every cap that applies at time at. It only
// reads: the caller reserves a slot (PutContact) in the same transaction when it passes.
func (e *Engine) checkCaps(tx gateway.Tx, customerID string, ch gateway.Channel, cat gateway.Category, at time.Time) (capVerdict, error) {
	var v capVerdict
	for i := range e.caps {
		c := &e.caps[i]
		if !c.applies(ch, cat) {
			continue
		}
		since := at.Add(-c.per)
		n, err := tx.CountContacts(customerID, since, c.channel, c.category)
		if err != nil {
			return v, fmt.Errorf("counting contacts for cap %s: %w", c.name, err)
		}
		if n < c.max {
			continue
		}
		freeAt, err := capFreesAt(tx, customerID, c, since, at)
		if err != nil {
			return v, err
		}
		if v.cap == "" {
			v.cap = c.name
		}
		if v.until == nil || freeAt.After(*v.until) {
			v.until = &freeAt
		}
	}
	return v, nil
}

// capFreesAt finds when a full cap has room again: when its max-th newest contact leaves the
// window. The store only counts, so this searches, to the second, for the latest time T with
// at least max contacts at or after T: that is the max-th newest contact's time (rounded
// down), and the slot frees one window later (rounded up to the next second unless it sits
// exactly on the second).
func capFreesAt(tx gateway.Tx, customerID string, c *capRule, since, at time.Time) (time.Time, error) {
	lo, hi := int64(0), int64(at.Sub(since)/time.Second)+1 // count(since+lo) >= max; count(since+hi) < max
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		n, err := tx.CountContacts(customerID, since.Add(time.Duration(mid)*time.Second), c.channel, c.category)
		if err != nil {
			return time.Time{}, fmt.Errorf("counting contacts for cap %s: %w", c.name, err)
		}
		if n >= c.max {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Contacts are often taken on whole seconds: when the max-th newest sits exactly on the
	// second found, the slot frees exactly one window after it.
	found := since.Add(time.Duration(lo) * time.Second)
	n, err := tx.CountContacts(customerID, found.Add(time.Nanosecond), c.channel, c.category)
	if err != nil {
		return time.Time{}, fmt.Errorf("counting contacts for cap %s: %w", c.name, err)
	}
	if n < c.max {
		return found.Add(c.per).UTC(), nil
	}
	return since.Add(time.Duration(hi) * time.Second).Add(c.per).UTC(), nil
}
