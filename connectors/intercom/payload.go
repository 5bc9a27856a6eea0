package intercom

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"

	"github.com/hush-gateway/hush/connectors/jsonval"
)

// The wire shapes below hold only the fields hush reads. Decoding is lenient about fields it
// does not know (Intercom adds fields across API versions) and tolerant of the scalar types
// Intercom is inconsistent about: ids are strings in most objects and numbers in some
// (admin_assignee_id: 0), timestamps are Unix seconds.

// notification is Intercom's webhook envelope ("notification_event").
type notification struct {
	Type      string     `json:"type"`
	ID        jsonval.ID `json:"id"`
	Topic     string     `json:"topic"`
	AppID     jsonval.ID `json:"app_id"`
	CreatedAt unixTime   `json:"created_at"`
	Data      struct {
		Item json.RawMessage `json:"item"`
	} `json:"data"`
}

// conversation is data.item for conversation.* topics. API 1.x sends the customer as `user`
// and the first message as `conversation_message`; API 2.x sends `contacts` and `source`.
type conversation struct {
	ID                  jsonval.ID   `json:"id"`
	CreatedAt           unixTime     `json:"created_at"`
	UpdatedAt           unixTime     `json:"updated_at"`
	State               string       `json:"state"`
	Open                *bool        `json:"open"`
	User                *person      `json:"user"`
	ConversationMessage *message     `json:"conversation_message"`
	Source              *message     `json:"source"`
	Contacts            *contactList `json:"contacts"`
	Parts               *partList    `json:"conversation_parts"`
	Rating              *rating      `json:"conversation_rating"`
	Tags                *tagList     `json:"tags"`
	// CustomAttributes are the conversation's data attributes; hush reads only the CX Score
	// (cxSentiment) and never fails a notification over them.
	CustomAttributes json.RawMessage `json:"custom_attributes"`
}

// person is a customer or an author: a v1 user/lead, a v2 contact reference, or the author of
// a message or part.
type person struct {
	Type       string     `json:"type"`
	ID         jsonval.ID `json:"id"`
	UserID     jsonval.ID `json:"user_id"`     // v1: the app's own id of the user
	ExternalID jsonval.ID `json:"external_id"` // v2: the same, renamed
	Name       string     `json:"name"`
	Email      string     `json:"email"`
	Phone      string     `json:"phone"`
}

// message is the message that opened a conversation (v1 conversation_message, v2 source).
type message struct {
	Type        string `json:"type"` // v2 source: email, sms, whatsapp, phone_call, conversation…
	DeliveredAs string `json:"delivered_as"`
	Subject     string `json:"subject"`
	Body        string `json:"body"`
	Author      person `json:"author"`
}

type contactList struct {
	Contacts []person `json:"contacts"`
}

type partList struct {
	Conversation []part `json:"conversation_parts"`
	Ticket       []part `json:"ticket_parts"`
}

// part is one conversation or ticket part: a comment, a note, a close, an assignment…
type part struct {
	ID        jsonval.ID `json:"id"`
	PartType  string     `json:"part_type"`
	Body      string     `json:"body"`
	CreatedAt unixTime   `json:"created_at"`
	Author    person     `json:"author"`
}

// rating is conversation_rating: a 1–5 score and an optional remark. Conversations without a
// rating carry {} or nulls.
type rating struct {
	Rating    *jsonval.Number `json:"rating"`
	Remark    string          `json:"remark"`
	CreatedAt unixTime        `json:"created_at"` // when the rating was requested
	UpdatedAt unixTime        `json:"updated_at"` // newer API versions: when it was last changed
	Contact   *person         `json:"contact"`
	Customer  *person         `json:"customer"` // API 1.x name of contact
	Teammate  *person         `json:"teammate"`
}

type tagList struct {
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
}

// ticket is data.item for ticket.* topics (or data.item.ticket for ticket.closed from API
// 2.15 on).
type ticket struct {
	Type       string       `json:"type"`
	ID         jsonval.ID   `json:"id"`
	TicketID   jsonval.ID   `json:"ticket_id"`
	State      ticketState  `json:"ticket_state"`
	TicketType *ticketType  `json:"ticket_type"`
	Contacts   *contactList `json:"contacts"`
	CreatedAt  unixTime     `json:"created_at"`
	UpdatedAt  unixTime     `json:"updated_at"`
	Open       *bool        `json:"open"`
	Parts      *partList    `json:"ticket_parts"`
	Channel    string       `json:"channel"`
	Nested     *ticket      `json:"ticket"`
}

type ticketType struct {
	Name string `json:"name"`
}

// ticketState is ticket_state: an object with a category in API 2.x, a bare string before.
type ticketState struct {
	Category string
	Label    string
}

func (s *ticketState) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &s.Category)
	}
	var obj struct {
		Category      string `json:"category"`
		InternalLabel string `json:"internal_label"`
		ExternalLabel string `json:"external_label"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	s.Category, s.Label = obj.Category, obj.ExternalLabel
	if s.Label == "" {
		s.Label = obj.InternalLabel
	}
	return nil
}

// unixTime is a timestamp in Unix seconds; zero when absent, null or 0.
type unixTime int64

// maxUnix bounds timestamps to year 9999 so that time arithmetic cannot overflow.
const maxUnix = 253402300799

func (u *unixTime) UnmarshalJSON(b []byte) error {
	var n jsonval.Number
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*u = 0
		return nil
	}
	if err := n.UnmarshalJSON(b); err != nil || n < 0 || n > maxUnix {
		return jsonval.TypeError(b, reflect.TypeFor[int64]())
	}
	*u = unixTime(n)
	return nil
}

// Time is the timestamp in UTC; zero when unset.
func (u unixTime) Time() time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(int64(u), 0).UTC()
}
