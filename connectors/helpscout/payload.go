package helpscout

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/jsonval"
)

// The wire shapes below hold only the fields hush reads. Help Scout's webhook bodies are the
// Mailbox API 2.0 resources (a conversation, a rating…); older payloads (API 1.0 names such
// as customer.firstName, threads, modifiedAt) are read too. Unknown fields are ignored.

// conversation is the body of convo.* events.
type conversation struct {
	ID              jsonval.ID `json:"id"`
	Number          jsonval.ID `json:"number"`
	Type            string     `json:"type"` // email, chat, phone
	Status          string     `json:"status"`
	Subject         string     `json:"subject"`
	Preview         string     `json:"preview"`
	MailboxID       jsonval.ID `json:"mailboxId"`
	CreatedBy       *person    `json:"createdBy"`
	CreatedAt       isoTime    `json:"createdAt"`
	ClosedAt        isoTime    `json:"closedAt"`
	UserUpdatedAt   isoTime    `json:"userUpdatedAt"`
	ModifiedAt      isoTime    `json:"modifiedAt"`     // API 1.0
	UserModifiedAt  isoTime    `json:"userModifiedAt"` // API 1.0
	CustomerWaiting *struct {
		Time isoTime `json:"time"`
	} `json:"customerWaitingSince"`
	Source *struct {
		Type string `json:"type"`
		Via  string `json:"via"`
	} `json:"source"`
	Tags            []tag      `json:"tags"`
	PrimaryCustomer *person    `json:"primaryCustomer"`
	Customer        *person    `json:"customer"` // API 1.0
	Threads         threadList `json:"threads"`
	Embedded        *struct {
		Threads []thread `json:"threads"`
	} `json:"_embedded"`
}

// threadList is "threads": a list of threads in API 1.0 payloads, the number of threads in
// 2.0 ones (which put the list, when embedded, in _embedded.threads). A number reads as none.
type threadList []thread

func (l *threadList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]thread)(l))
	}
	var n *float64
	if err := json.Unmarshal(b, &n); err != nil {
		return jsonval.TypeError(b, reflect.TypeFor[[]thread]())
	}
	return nil
}

// allThreads lists the conversation's threads wherever the payload put them.
func (c *conversation) allThreads() []thread {
	if c.Embedded != nil && len(c.Embedded.Threads) > 0 {
		return c.Embedded.Threads
	}
	return c.Threads
}

// person is a customer or a user (agent), in API 2.0 (first, last) or 1.0 (firstName,
// lastName, emails) spelling.
type person struct {
	ID        jsonval.ID `json:"id"`
	Type      string     `json:"type"` // customer, user
	First     string     `json:"first"`
	Last      string     `json:"last"`
	FirstName string     `json:"firstName"`
	LastName  string     `json:"lastName"`
	Email     string     `json:"email"`
	Emails    []entry    `json:"emails"`
	Phone     string     `json:"phone"`
	Phones    []entry    `json:"phones"`
}

// entry is one value of a customer's emails or phones list.
type entry struct {
	Value string `json:"value"`
}

func (p *person) name() string {
	first, last := p.First, p.Last
	if first == "" && last == "" {
		first, last = p.FirstName, p.LastName
	}
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

func (p *person) email() string {
	if e := strings.TrimSpace(p.Email); e != "" {
		return e
	}
	for _, e := range p.Emails {
		if v := strings.TrimSpace(e.Value); v != "" {
			return v
		}
	}
	return ""
}

func (p *person) phone() string {
	if v := strings.TrimSpace(p.Phone); v != "" {
		return v
	}
	for _, e := range p.Phones {
		if v := strings.TrimSpace(e.Value); v != "" {
			return v
		}
	}
	return ""
}

// thread is one message, note or line item of a conversation.
type thread struct {
	ID        jsonval.ID `json:"id"`
	Type      string     `json:"type"` // customer, message, note, lineitem, chat, phone…
	State     string     `json:"state"`
	Body      string     `json:"body"`
	Text      string     `json:"text"`
	CreatedBy *person    `json:"createdBy"`
	Customer  *person    `json:"customer"`
	CreatedAt isoTime    `json:"createdAt"`
}

type tag struct {
	Tag  string `json:"tag"`  // API 2.0
	Name string `json:"name"` // other spellings
}

// UnmarshalJSON reads a tag written as an object or, in older payloads, as a bare string.
func (t *tag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &t.Tag)
	}
	type plain tag
	return json.Unmarshal(b, (*plain)(t))
}

// rating is the body of satisfaction.ratings.
type rating struct {
	ID             jsonval.ID `json:"id"`
	Customer       *person    `json:"customer"`
	TicketID       jsonval.ID `json:"ticketId"`       // the conversation's id
	ConversationID jsonval.ID `json:"conversationId"` // the same, as later payloads name it
	ThreadID       jsonval.ID `json:"threadId"`
	Mailbox        *struct {
		ID jsonval.ID `json:"id"`
	} `json:"mailbox"`
	Rating     string  `json:"rating"`
	Comments   string  `json:"comments"`
	CreatedAt  isoTime `json:"createdAt"`
	ModifiedAt isoTime `json:"modifiedAt"`
}

// isoTime is an ISO 8601 / RFC 3339 time ("2015-04-13T12:34:12Z"); zero when absent or null.
type isoTime struct{ time.Time }

func (t *isoTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return jsonval.TypeError(b, reflect.TypeFor[time.Time]())
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return jsonval.TypeError(b, reflect.TypeFor[time.Time]())
	}
	t.Time = v.UTC()
	return nil
}
