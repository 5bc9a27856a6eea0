package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// quietRule is a checked QuietHoursSpec. Times are minutes after local midnight.
type quietRule struct {
	channels []gateway.Channel // empty: every channel
	from, to int
	deferred bool // action defer: answer "retry later" instead of dropping
}

func compileQuietHours(specs []gateway.QuietHoursSpec) ([]quietRule, error) {
	rules := make([]quietRule, 0, len(specs))
	for i, s := range specs {
		var q quietRule
		for j, c := range s.Channels {
			ch, err := gateway.ParseChannel(string(c), false)
			if err != nil {
				return nil, fmt.Errorf("quiet_hours[%d].channels[%d]: %w", i, j, err)
			}
			q.channels = append(q.channels, ch)
		}
		var err error
		if q.from, err = parseClock(s.From); err != nil {
			return nil, fmt.Errorf("quiet_hours[%d].from: %w", i, err)
		}
		if q.to, err = parseClock(s.To); err != nil {
			return nil, fmt.Errorf("quiet_hours[%d].to: %w", i, err)
		}
		if q.from == q.to {
			return nil, fmt.Errorf("quiet_hours[%d]: from and to are both %s, which is an empty window", i, s.From)
		}
		switch s.Action {
		case gateway.QuietDrop, "":
		case gateway.QuietDefer:
			q.deferred = true
		default:
			return nil, fmt.Errorf("quiet_hours[%d].action: %q is not drop or defer", i, s.Action)
		}
		rules = append(rules, q)
	}
	return rules, nil
}

// parseClock reads "21:00" as minutes after midnight.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day such as 21:00", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (q *quietRule) applies(ch gateway.Channel) bool {
	return len(q.channels) == 0 || slices.Contains(q.channels, ch)
}

// quietUntil reports whether local time t falls in the window and, if so, when the window
// ends (the next local q.to after t).
func (q *quietRule) quietUntil(t time.Time) (time.Time, bool) {
	m := t.Hour()*60 + t.Minute()
	in := q.from < q.to && m >= q.from && m < q.to ||
		q.from > q.to && (m >= q.from || m < q.to) // wraps midnight: 21:00–09:00
	if !in {
		return time.Time{}, false
	}
	y, mo, d := t.Date()
	end := time.Date(y, mo, d, q.to/60, q.to%60, 0, 0, t.Location())
	if !end.After(t) {
		end = time.Date(y, mo, d+1, q.to/60, q.to%60, 0, 0, t.Location())
	}
	return end, true
}

// quietHoursApply reports whether any window restricts channel ch.
func (e *Engine) quietHoursApply(ch gateway.Channel) bool {
	for i := range e.quiet {
		if e.quiet[i].applies(ch) {
			return true
		}
	}
	return false
}

// quietVerdict checks the windows for ch at instant at in loc. When several windows hold, the
// send waits for the latest end, and is deferred only if every holding window defers.
func (e *Engine) quietVerdict(ch gateway.Channel, at time.Time, loc *time.Location) (until time.Time, deferred, quiet bool) {
	local := at.In(loc)
	deferred = true
	for i := range e.quiet {
		q := &e.quiet[i]
		if !q.applies(ch) {
			continue
		}
		end, in := q.quietUntil(local)
		if !in {
			continue
		}
		quiet = true
		deferred = deferred && q.deferred
		if end.After(until) {
			until = end
		}
	}
	if !quiet {
		return time.Time{}, false, false
	}
	return until.UTC(), deferred, true
}

// recipientLocation is the zone quiet hours use for a recipient: the customer's own, else their
// phone's country (the recipient's when hush does not know them), else the configured fallback.
func (e *Engine) recipientLocation(st *customerState, recipient gateway.Identity) *time.Location {
	if st != nil && st.loc != nil {
		return st.loc
	}
	if st == nil && recipient.IsPhone() {
		if l := e.phoneLocation(recipient); l != nil {
			return l
		}
	}
	return e.fallback
}
