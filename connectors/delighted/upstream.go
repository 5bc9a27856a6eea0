package delighted

// The outbound side: Delighted's "Sending to people" call, POST /v1/people.json
// (https://delighted.com/docs/api/sending-to-people), creates or updates a person and
// schedules a survey to them by email, or by SMS when channel is "sms". The body is JSON
// or a form (the documentation's curl examples use both; the official SDKs send JSON).
//
// One call names one person, so a silenced person is never "removed" from it: by default
// hush forwards the call with send=false, which Delighted documents as "create a person
// without scheduling a survey", so the contact is still recorded and only the survey is
// suppressed (gateway.DroppedForwarder). With on_silenced: answer hush answers the call
// itself and Delighted sees nothing.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/mail"
	"strings"

	"github.com/hush-gateway/hush/connectors/formbody"
	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// What hush does with a call for a silenced person (option on_silenced).
const (
	// OnSilencedSendFalse forwards the call with send=false: the person is recorded,
	// no survey is scheduled.
	OnSilencedSendFalse = "send_false"
	// OnSilencedAnswer answers the call in Delighted's place (on_all_dropped decides
	// whether as a success or a refusal); Delighted never sees it.
	OnSilencedAnswer = "answer"
)

// peoplePaths are the paths of the call after the configured URL (https://api.delighted.com):
// the documented one, and the one the official Ruby and Python clients use (no suffix, with
// Accept: application/json).
var peoplePaths = map[string]bool{
	"/v1/people.json": true,
	"/v1/people":      true,
}

// Upstream is Delighted's survey-sending API as the proxy enforces it. Never modified
// after NewUpstream, so it is safe for concurrent use.
type Upstream struct {
	name       string
	category   gateway.Category
	onSilenced string
}

// NewUpstream builds a Delighted upstream. Options:
//
//	on_silenced: send_false (default) or answer: forward a silenced person's call with
//	             send=false, or answer it in Delighted's place
//	category:    the category of survey sends (default survey)
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	mode := opts.String("on_silenced", OnSilencedSendFalse)
	category := opts.String("category", string(gateway.CategorySurvey))
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	if mode != OnSilencedSendFalse && mode != OnSilencedAnswer {
		return nil, fmt.Errorf("upstream %q: option %q for kind %q: %q is not %s or %s",
			cfg.Name, "on_silenced", Kind, mode, OnSilencedSendFalse, OnSilencedAnswer)
	}
	c, err := gateway.ParseCategory(category, false)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: option %q for kind %q: %w", cfg.Name, "category", Kind, err)
	}
	return &Upstream{name: cfg.Name, category: c, onSilenced: mode}, nil
}

// peopleCall is what ParseSend found, kept for Rewrite, ForwardDropped and DroppedResponse.
type peopleCall struct {
	body  []byte
	field string // the recipient's field: "email" or "phone_number"
	// JSON bodies
	doc *jsondoc.Doc
	// form bodies
	pairs []formbody.Pair
}

func outInvalid(format string, args ...any) error {
	return gateway.Errorf(gateway.CodeInvalid, "delighted people call: "+format, args...)
}

// isJSON tells the body's format by its Content-Type, else by its first byte.
func isJSON(h http.Header, body []byte) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	switch {
	case strings.Contains(ct, "json"):
		return true
	case strings.Contains(ct, "x-www-form-urlencoded"):
		return false
	}
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// ParseSend reads a people call: its one recipient is phone_number when channel is "sms",
// else email. A call that already says send=false schedules no survey and is not a send.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if req.Method != http.MethodPost || !peoplePaths[req.Path] {
		return nil, nil
	}
	pc := &peopleCall{body: req.Body}
	var fields map[string]string // the scalar fields that matter, decoded
	var notString string         // a field among them that is not a string
	if isJSON(req.Header, req.Body) {
		doc, err := jsondoc.Parse(req.Body)
		if err != nil {
			return nil, outInvalid("body is not valid JSON")
		}
		if doc.Root().Kind() != jsondoc.Object {
			return nil, outInvalid("body is not a JSON object")
		}
		pc.doc = doc
		fields = map[string]string{}
		for _, key := range []string{"email", "phone_number", "channel", "send"} {
			n := doc.Root().Get(key)
			if n == nil {
				continue
			}
			switch s, ok := n.Str(); {
			case ok:
				fields[key] = s
			case key == "send" && n.Kind() == jsondoc.Literal:
				fields[key] = string(doc.Raw(n)) // true, false or null
			case n.Kind() == jsondoc.Literal && string(doc.Raw(n)) == "null":
				// null: as if absent
			default:
				notString = key
			}
		}
	} else {
		pairs, err := formbody.Split(req.Body)
		if err != nil {
			return nil, outInvalid("%v", err)
		}
		pc.pairs = pairs
		fields = map[string]string{}
		for _, p := range pairs { // the last of a repeated field wins, as Delighted reads forms
			switch p.Name {
			case "email", "phone_number", "channel", "send":
				fields[p.Name] = p.Value
			}
		}
	}
	if notString != "" {
		return nil, outInvalid("%s is not a string", notString)
	}
	if strings.EqualFold(strings.TrimSpace(fields["send"]), "false") {
		return nil, nil // Delighted records the person and sends nothing
	}
	send := &gateway.Send{Category: u.category, State: pc}
	switch ch := strings.ToLower(strings.TrimSpace(fields["channel"])); ch {
	case "sms":
		pc.field = "phone_number"
		send.Channel = gateway.ChannelSMS
		phone := strings.TrimSpace(fields["phone_number"])
		if phone == "" {
			return nil, outInvalid("channel is sms but phone_number is missing or empty")
		}
		send.Recipients = []gateway.Recipient{{Kind: gateway.KindPhone, Address: phone}}
	case "", "email":
		pc.field = "email"
		send.Channel = gateway.ChannelEmail
		email := strings.TrimSpace(fields["email"])
		if email == "" {
			return nil, outInvalid("email is missing or empty (set channel to sms to survey by phone_number)")
		}
		if strings.ContainsAny(email, "<,\"(") {
			a, err := mail.ParseAddress(email)
			if err != nil {
				return nil, outInvalid("email is not one email address")
			}
			email = a.Address
		}
		send.Recipients = []gateway.Recipient{{Kind: gateway.KindEmail, Address: email}}
	default:
		return nil, outInvalid("channel is neither email nor sms")
	}
	return send, nil
}

func callOf(send *gateway.Send) (*peopleCall, error) {
	pc, ok := send.State.(*peopleCall)
	if !ok || pc == nil {
		return nil, errors.New("the send was not parsed by this upstream")
	}
	return pc, nil
}

// Rewrite: a people call names one person, so it is either forwarded as it is (kept) or
// with send=false (not kept; the proxy only asks for that through ForwardDropped).
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	pc, err := callOf(send)
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	if len(keep) != 1 || len(send.Recipients) != 1 {
		return nil, fmt.Errorf("rewrite: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	if keep[0] {
		return bytes.Clone(pc.body), nil
	}
	return pc.sendFalse()
}

// sendFalse is the call with send=false and every other byte as it was: in JSON the send
// member is set (added at the end when absent); in a form every send pair becomes
// send=false, or one is appended.
func (pc *peopleCall) sendFalse() ([]byte, error) {
	if pc.doc != nil {
		edit := pc.doc.Edit()
		edit.Set(pc.doc.Root(), "send", []byte("false"))
		out, err := edit.Bytes()
		if err != nil {
			return nil, fmt.Errorf("set send=false: %w", err)
		}
		return out, nil
	}
	var parts [][]byte
	found := false
	for _, p := range pc.pairs {
		if len(p.Raw) > 0 && p.Name == "send" {
			found = true
			parts = append(parts, append(bytes.Clone(p.RawName), "=false"...))
			continue
		}
		parts = append(parts, p.Raw)
	}
	if !found {
		parts = append(parts, []byte("send=false"))
	}
	return formbody.Join(parts), nil
}

// ForwardDropped forwards a silenced person's call with send=false, unless the upstream is
// set to answer such calls itself.
func (u *Upstream) ForwardDropped(req *gateway.OutboundRequest, send *gateway.Send) ([]byte, bool, error) {
	if u.onSilenced != OnSilencedSendFalse {
		return nil, false, nil
	}
	pc, err := callOf(send)
	if err != nil {
		return nil, false, fmt.Errorf("forward dropped: %w", err)
	}
	body, err := pc.sendFalse()
	if err != nil {
		return nil, false, err
	}
	return body, true, nil
}

// madeUpPersonID is a person id in Delighted's shape: a decimal number in a string.
func madeUpPersonID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(9e9))
	if err != nil {
		return "1000000000"
	}
	return n.Add(n, big.NewInt(1e9)).String()
}

// DroppedResponse answers a silenced person's call in Delighted's place. Success is the
// documented answer to "Sending to people" ({"id", "email", "name", "survey_scheduled_at",
// "properties"}; "phone_number" too for an SMS call) for a person with no survey
// scheduled (survey_scheduled_at null, as Delighted answers send=false), echoing the
// call's name and properties. The refusal is Delighted's documented 422:
// {"status":422,"message":"Unprocessable Entity","errors":{<field>:[…]}}.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	pc, _ := callOf(send)
	field := "email"
	if pc != nil && pc.field != "" {
		field = pc.field
	}
	if asError {
		var b bytes.Buffer
		b.WriteString(`{"status":422,"message":"Unprocessable Entity","errors":{`)
		b.Write(jsondoc.Quote(field))
		b.WriteString(`:["is silenced; hush scheduled no survey"]}}`)
		return http.StatusUnprocessableEntity, h, b.Bytes()
	}
	email, name, phone, props := []byte("null"), []byte("null"), []byte(nil), []byte("{}")
	if pc != nil {
		email, name, phone, props = pc.echo()
	}
	var b bytes.Buffer
	b.WriteString(`{"id":"`)
	b.WriteString(madeUpPersonID())
	b.WriteString(`","email":`)
	b.Write(email)
	b.WriteString(`,"name":`)
	b.Write(name)
	if phone != nil {
		b.WriteString(`,"phone_number":`)
		b.Write(phone)
	}
	b.WriteString(`,"survey_scheduled_at":null,"properties":`)
	b.Write(props)
	b.WriteByte('}')
	return http.StatusOK, h, b.Bytes()
}

// echo returns the call's email, name, phone_number (nil when absent) and properties as
// JSON values for the made-up answer.
func (pc *peopleCall) echo() (email, name, phone, props []byte) {
	email, name, props = []byte("null"), []byte("null"), []byte("{}")
	if pc.doc != nil {
		root := pc.doc.Root()
		str := func(key string) []byte {
			if n := root.Get(key); n != nil && n.Kind() == jsondoc.String {
				return pc.doc.Raw(n)
			}
			return nil
		}
		if v := str("email"); v != nil {
			email = v
		}
		if v := str("name"); v != nil {
			name = v
		}
		phone = str("phone_number")
		if n := root.Get("properties"); n != nil && n.Kind() == jsondoc.Object {
			props = pc.doc.Raw(n)
		}
		return email, name, phone, props
	}
	// A form: properties[key]=value pairs, in order, the last of a repeated key winning.
	var keys []string
	values := map[string]string{}
	for _, p := range pc.pairs {
		switch {
		case p.Name == "email":
			email = jsondoc.Quote(p.Value)
		case p.Name == "name":
			name = jsondoc.Quote(p.Value)
		case p.Name == "phone_number":
			phone = jsondoc.Quote(p.Value)
		case strings.HasPrefix(p.Name, "properties[") && strings.HasSuffix(p.Name, "]"):
			k := p.Name[len("properties[") : len(p.Name)-1]
			if _, ok := values[k]; !ok {
				keys = append(keys, k)
			}
			values[k] = p.Value
		}
	}
	if len(keys) > 0 {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsondoc.Quote(k))
			b.WriteByte(':')
			b.Write(jsondoc.Quote(values[k]))
		}
		b.WriteByte('}')
		props = b.Bytes()
	}
	return email, name, phone, props
}

// Compile-time checks: the proxy finds these through type assertions.
var (
	_ gateway.Upstream         = (*Upstream)(nil)
	_ gateway.DroppedForwarder = (*Upstream)(nil)
)
