package bolt

import (
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The record kinds kept in tables, and how each is indexed. These are schema definitions:
// read-only after construction.

func byCustomer(customer string, at time.Time) ([]byte, time.Time, bool) {
	if customer == "" {
		return nil, at, false
	}
	return idPrefix(customer), at, true
}

var silenceTable = &table[gateway.Silence]{
	kind:   "silence",
	bucket: bucketSilences,
	id:     func(s *gateway.Silence) *string { return &s.ID },
	indexes: []index[gateway.Silence]{
		{bucket: bucketSilencesByStart, entry: func(s *gateway.Silence) ([]byte, time.Time, bool) { return nil, s.Start, true }},
		{bucket: bucketSilencesByCustomer, entry: func(s *gateway.Silence) ([]byte, time.Time, bool) { return byCustomer(s.CustomerID, s.Start) }},
	},
	customer:   func(s *gateway.Silence) *string { return &s.CustomerID },
	byCustomer: 1,
}

var optOutTable = &table[gateway.OptOut]{
	kind:   "opt-out",
	bucket: bucketOptOuts,
	id:     func(o *gateway.OptOut) *string { return &o.ID },
	indexes: []index[gateway.OptOut]{
		{bucket: bucketOptOutsByTime, entry: func(o *gateway.OptOut) ([]byte, time.Time, bool) { return nil, o.CreatedAt, true }},
		{bucket: bucketOptOutsByCustomer, entry: func(o *gateway.OptOut) ([]byte, time.Time, bool) { return byCustomer(o.CustomerID, o.CreatedAt) }},
	},
	customer:   func(o *gateway.OptOut) *string { return &o.CustomerID },
	byCustomer: 1,
}

var incidentTable = &table[gateway.Incident]{
	kind:   "incident",
	bucket: bucketIncidents,
	id:     func(i *gateway.Incident) *string { return &i.ID },
	indexes: []index[gateway.Incident]{
		{bucket: bucketIncidentsByTime, entry: func(i *gateway.Incident) ([]byte, time.Time, bool) { return nil, i.OpenedAt, true }},
	},
}

var decisionTable = &table[gateway.Decision]{
	kind:   "decision",
	bucket: bucketDecisions,
	id:     func(d *gateway.Decision) *string { return &d.ID },
	indexes: []index[gateway.Decision]{
		{bucket: bucketDecisionsByTime, entry: func(d *gateway.Decision) ([]byte, time.Time, bool) { return nil, d.At, true }},
		{bucket: bucketDecisionsByCustomer, entry: func(d *gateway.Decision) ([]byte, time.Time, bool) { return byCustomer(d.CustomerID, d.At) }},
	},
	customer:   func(d *gateway.Decision) *string { return &d.CustomerID },
	byCustomer: 1,
}

var contactTable = &table[gateway.Contact]{
	kind:   "contact",
	bucket: bucketContacts,
	id:     func(c *gateway.Contact) *string { return &c.ID },
	indexes: []index[gateway.Contact]{
		{
			bucket: bucketContactsByCustomer,
			entry:  func(c *gateway.Contact) ([]byte, time.Time, bool) { return byCustomer(c.CustomerID, c.At) },
			// Cap counting reads channel and category straight from the index.
			value: func(c *gateway.Contact) []byte { return contactValue(c.Channel, c.Category) },
		},
	},
	customer:   func(c *gateway.Contact) *string { return &c.CustomerID },
	byCustomer: 0,
}

func contactValue(ch gateway.Channel, cat gateway.Category) []byte {
	return join([]byte(ch), []byte{0}, []byte(cat))
}

var deadLetterTable = &table[gateway.DeadLetter]{
	kind:   "dead letter",
	bucket: bucketDeadLetters,
	id:     func(d *gateway.DeadLetter) *string { return &d.ID },
	indexes: []index[gateway.DeadLetter]{
		{bucket: bucketDeadLettersByTime, entry: func(d *gateway.DeadLetter) ([]byte, time.Time, bool) { return nil, d.ReceivedAt, true }},
	},
}

var outboxTable = &table[gateway.OutboxMessage]{
	kind:   "outbox message",
	bucket: bucketOutbox,
	id:     func(m *gateway.OutboxMessage) *string { return &m.ID },
	indexes: []index[gateway.OutboxMessage]{
		{bucket: bucketOutboxByTime, entry: func(m *gateway.OutboxMessage) ([]byte, time.Time, bool) { return nil, m.CreatedAt, true }},
		// Only pending messages (neither delivered nor dead), so the dispatcher's poll does
		// not wade through history nor through messages it gave up on. Files written before
		// DeadAt existed hold no dead messages, so their entries are already right.
		{bucket: bucketOutboxPending, entry: func(m *gateway.OutboxMessage) ([]byte, time.Time, bool) {
			return nil, m.CreatedAt, m.State() == gateway.OutboxPending
		}},
		// Only dead messages: few among many delivered ones, and what an operator looks for.
		{bucket: bucketOutboxDead, entry: func(m *gateway.OutboxMessage) ([]byte, time.Time, bool) {
			return nil, m.CreatedAt, m.State() == gateway.OutboxDead
		}},
	},
}

// Positions in outboxTable.indexes.
const (
	outboxTimeIndex = iota
	outboxPendingIndex
	outboxDeadIndex
)
