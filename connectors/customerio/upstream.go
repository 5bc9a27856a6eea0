// Package customerio is the outbound connector for Customer.io's App API: transactional
// messages (POST /v1/send/email, /v1/send/sms, /v1/send/whatsapp, /v1/send/push) and
// API-triggered broadcasts (POST /v1/campaigns/{broadcast_id}/triggers).
//
// Reference: Customer.io's App API OpenAPI description ("Send Messages" tag:
// https://docs.customer.io/integrations/api/app/ — sendEmail, sendSMS, sendPush,
// triggerBroadcast) and the official Go client github.com/customerio/go-customerio
// (send_email.go, send_sms.go, send_push.go, send_whatsapp.go, trigger_broadcast.go,
// transactional.go).
package customerio

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the upstream kind in hush.yaml, and the vendor kind of Customer.io person ids
// ("customerio:<id>"; a cio_id is "customerio:cio_<cio_id>", Customer.io's own notation).
const Kind = "customerio"

// Option names.
const (
	OptTransactionalMessages = "transactional_messages"
	OptBroadcasts            = "broadcasts"
	OptAllowBroadcast        = "allow_broadcast"
)

// endpoint is one kind of send request.
type endpoint int

const (
	epEmail endpoint = iota + 1
	epSMS
	epWhatsApp
	epPush
	epTrigger    // POST /v1/campaigns/{id}/triggers
	epNewsletter // POST /v1/newsletters/{id}/send and /schedule: the newsletter's own audience
)

// Upstream is Customer.io's App API as the proxy enforces it. Safe for concurrent use: never
// modified after construction.
type Upstream struct {
	name string
	// transactional maps a transactional_message_id (a number, or a trigger name, which
	// Customer.io matches case-insensitively: keys are lower-cased) to a category.
	transactional map[string]gateway.Category
	// broadcasts maps a broadcast id (the {broadcast_id} of the trigger path) to a category.
	broadcasts map[string]gateway.Category
	// allowBroadcast lets triggers that name no recipient hush can check (the broadcast's
	// own audience, a recipients filter, a data_file_url) through unchecked.
	allowBroadcast bool
	now            func() time.Time
}

// NewUpstream builds the Customer.io upstream from its options (all optional):
// transactional_messages and broadcasts map Customer.io ids to hush categories;
// allow_broadcast (default false) forwards triggers without explicit recipients unchecked.
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	tx := opts.Categories(OptTransactionalMessages)
	bc := opts.Categories(OptBroadcasts)
	allow := opts.Bool(OptAllowBroadcast, false)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	u := &Upstream{name: cfg.Name, transactional: map[string]gateway.Category{},
		broadcasts: map[string]gateway.Category{}, allowBroadcast: allow, now: time.Now}
	for k, c := range tx {
		key := strings.ToLower(strings.TrimSpace(k))
		if prev, ok := u.transactional[key]; ok && prev != c {
			return nil, fmt.Errorf("upstream %q: option %q: %q is mapped twice (trigger names are case-insensitive)", cfg.Name, OptTransactionalMessages, k)
		}
		u.transactional[key] = c
	}
	for k, c := range bc {
		u.broadcasts[strings.TrimSpace(k)] = c
	}
	return u, nil
}

// route reads the path: which send endpoint, and the broadcast id of a trigger. Paths match
// exactly (Customer.io documents no trailing slash).
func route(method, path string) (endpoint, string) {
	if method != http.MethodPost {
		return 0, ""
	}
	switch path {
	case "/v1/send/email":
		return epEmail, ""
	case "/v1/send/sms":
		return epSMS, ""
	case "/v1/send/whatsapp":
		return epWhatsApp, ""
	case "/v1/send/push":
		return epPush, ""
	}
	if rest, ok := strings.CutPrefix(path, "/v1/campaigns/"); ok {
		if id, ok := strings.CutSuffix(rest, "/triggers"); ok && id != "" && !strings.Contains(id, "/") {
			return epTrigger, id
		}
	}
	if rest, ok := strings.CutPrefix(path, "/v1/newsletters/"); ok {
		id, action, _ := strings.Cut(rest, "/")
		if id != "" && (action == "send" || action == "schedule") {
			return epNewsletter, id
		}
	}
	return 0, ""
}

// sendState is what ParseSend found, kept for Rewrite and DroppedResponse.
type sendState struct {
	ep    endpoint
	doc   *jsondoc.Doc
	slots []slot // one per recipient, in order
	// email: the to, cc and bcc strings, each split into its addresses.
	lists []*addrList
}

// slot is where one recipient sits: an array element (triggers), an address in one of the
// email's lists, or the whole message (a single-recipient transactional send).
type slot struct {
	elem *jsondoc.Node // trigger audience element
	list *addrList     // email list
	part int           // index in list.parts
}

// addrList is one comma-separated address field of a transactional email.
type addrList struct {
	key   string
	node  *jsondoc.Node
	parts []string // the addresses as written, trimmed
}

func invalid(format string, args ...any) error {
	return gateway.Errorf(gateway.CodeInvalid, format, args...)
}

// ParseSend finds the recipients of a send. Requests on other paths or methods are not
// sends (nil, nil).
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	ep, id := route(req.Method, req.Path)
	if ep == 0 {
		return nil, nil
	}
	if ep == epNewsletter {
		if u.allowBroadcast {
			return nil, nil
		}
		return nil, invalid("a newsletter send goes to the newsletter's own audience, which hush cannot check one person at a time; set %s: true on the upstream to forward it unchecked", OptAllowBroadcast)
	}
	if len(bytes.TrimSpace(req.Body)) == 0 {
		return nil, invalid("send to %s has an empty body", req.Path)
	}
	doc, err := jsondoc.Parse(req.Body)
	if err != nil {
		return nil, invalid("send body is not valid JSON")
	}
	root := doc.Root()
	if root.Kind() != jsondoc.Object {
		return nil, invalid("send body is not a JSON object")
	}
	st := &sendState{ep: ep, doc: doc}
	send := &gateway.Send{State: st}
	switch ep {
	case epTrigger:
		send.Category = u.broadcasts[id]
		ok, err := u.parseTrigger(st, send)
		if err != nil || !ok {
			return nil, err
		}
		return send, nil
	case epEmail:
		send.Channel = gateway.ChannelEmail
		err = parseEmail(st, send)
	case epSMS:
		send.Channel = gateway.ChannelSMS
		err = parsePhoneSend(st, send)
	case epWhatsApp:
		send.Channel = gateway.ChannelWhatsApp
		err = parsePhoneSend(st, send)
	case epPush:
		send.Channel = gateway.ChannelPush
		err = parseIdentifiers(doc, send)
		st.slots = []slot{{}}
	}
	if err != nil {
		return nil, err
	}
	send.Category = u.transactionalCategory(doc)
	return send, nil
}

func (u *Upstream) transactionalCategory(doc *jsondoc.Doc) gateway.Category {
	n := doc.Root().Get("transactional_message_id")
	if n == nil {
		return ""
	}
	key, ok := scalar(doc, n)
	if !ok {
		return ""
	}
	return u.transactional[strings.ToLower(key)]
}

// scalar reads a string, or a number as written (ids are documented as strings, examples
// write them as numbers).
func scalar(doc *jsondoc.Doc, n *jsondoc.Node) (string, bool) {
	if s, ok := n.Str(); ok {
		return strings.TrimSpace(s), true
	}
	if n.Kind() == jsondoc.Number {
		return string(doc.Raw(n)), true
	}
	return "", false
}

// parseEmail reads a transactional email: every address of to, cc and bcc is a recipient
// (Customer.io: "The recipients you want to send to, separated by commas … up to 15 total
// recipients across to, cc, and bcc"). identifiers names the Customer.io profile the
// delivery is filed under; the addresses are who is contacted, so they are what hush checks.
func parseEmail(st *sendState, send *gateway.Send) error {
	root := st.doc.Root()
	for _, key := range []string{"to", "cc", "bcc"} {
		members := root.Members(key)
		if len(members) == 0 {
			continue
		}
		if len(members) > 1 {
			return invalid("%s appears more than once", key)
		}
		n := members[0]
		if n.Kind() == jsondoc.Literal && string(st.doc.Raw(n)) == "null" {
			continue
		}
		s, ok := n.Str()
		if !ok {
			return invalid("%s is not a string", key)
		}
		list := &addrList{key: key, node: n}
		for i, piece := range splitAddresses(s) {
			addr, err := mail.ParseAddress(piece)
			if err != nil {
				return invalid("%s: address %d is not an email address", key, i+1)
			}
			list.parts = append(list.parts, piece)
			send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: addr.Address})
			st.slots = append(st.slots, slot{list: list, part: len(list.parts) - 1})
		}
		st.lists = append(st.lists, list)
	}
	if len(st.lists) == 0 || st.lists[0].key != "to" || len(st.lists[0].parts) == 0 {
		return invalid("transactional email names no recipient in to")
	}
	return nil
}

// splitAddresses splits an address list at the commas that separate addresses (not those
// inside a quoted display name, a comment or angle brackets); empty pieces are skipped.
func splitAddresses(s string) []string {
	var out []string
	quoted, escaped := false, false
	angle, paren := 0, 0
	start := 0
	flush := func(end int) {
		if p := strings.TrimSpace(s[start:end]); p != "" {
			out = append(out, p)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle++
		case c == '>':
			angle = max(angle-1, 0)
		case c == '(':
			paren++
		case c == ')':
			paren = max(paren-1, 0)
		case c == ',' && angle == 0 && paren == 0:
			flush(i)
			start = i + 1
		}
	}
	flush(len(s))
	return out
}

// parsePhoneSend reads a transactional SMS or WhatsApp message: one message to one person.
// The to number, when given, is who receives it; without it Customer.io uses the phone of
// the person named by identifiers, so that person is the recipient.
func parsePhoneSend(st *sendState, send *gateway.Send) error {
	root := st.doc.Root()
	if n := root.Get("to"); n != nil && !(n.Kind() == jsondoc.Literal && string(st.doc.Raw(n)) == "null") {
		s, ok := n.Str()
		if !ok {
			return invalid("to is not a string")
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return invalid("to is empty")
		}
		if strings.Contains(s, ",") {
			return invalid("to holds several numbers; Customer.io sends a message to one number")
		}
		send.Recipients = []gateway.Recipient{{Kind: gateway.KindPhone, Address: s}}
		st.slots = []slot{{}}
		return nil
	}
	if err := parseIdentifiers(st.doc, send); err != nil {
		return err
	}
	st.slots = []slot{{}}
	return nil
}

// parseIdentifiers reads identifiers, "one of, and only one of, id, email, or cio_id": the
// person a push (whose to names devices, not a person) or an SMS without to goes to.
func parseIdentifiers(doc *jsondoc.Doc, send *gateway.Send) error {
	n := doc.Root().Get("identifiers")
	if n == nil || n.Kind() != jsondoc.Object {
		return invalid("identifiers is missing or not an object: name the person with one of id, email or cio_id")
	}
	var found []gateway.Recipient
	for i := 0; i < n.Len(); i++ {
		key := n.Key(i)
		v := n.Item(i)
		if isNull(doc, v) {
			continue // not given
		}
		val, ok := scalar(doc, v)
		if !ok || val == "" {
			return invalid("identifiers.%s is not a string", key)
		}
		switch key {
		case "id":
			found = append(found, gateway.Recipient{Kind: Kind, Address: val})
		case "cio_id":
			found = append(found, gateway.Recipient{Kind: Kind, Address: "cio_" + val})
		case "email":
			addr, err := mail.ParseAddress(val)
			if err != nil {
				return invalid("identifiers.email is not an email address")
			}
			found = append(found, gateway.Recipient{Kind: gateway.KindEmail, Address: addr.Address})
		}
	}
	switch len(found) {
	case 0:
		return invalid("identifiers names nobody: give one of id, email or cio_id")
	case 1:
		send.Recipients = found
		return nil
	default:
		return invalid("identifiers holds more than one of id, email and cio_id; Customer.io takes only one")
	}
}

// audienceKeys are a trigger's explicit recipient lists.
var audienceKeys = []string{"ids", "emails", "per_user_data"}

// parseTrigger reads an API-triggered broadcast. Its recipients are the elements of ids,
// emails and per_user_data. A trigger without them goes to the broadcast's whole audience
// (or a recipients filter, or a data_file_url): nobody hush can check. ok false: not a send
// hush checks (allow_broadcast).
func (u *Upstream) parseTrigger(st *sendState, send *gateway.Send) (bool, error) {
	root := st.doc.Root()
	unchecked := ""
	if n := root.Get("data_file_url"); n != nil && !isNull(st.doc, n) {
		unchecked = "data_file_url"
	}
	if n := root.Get("recipients"); n != nil && !isNull(st.doc, n) {
		unchecked = "recipients"
	}
	for _, key := range append([]string{"data_file_url", "recipients"}, audienceKeys...) {
		if len(root.Members(key)) > 1 {
			return false, invalid("%s appears more than once", key)
		}
	}
	for _, key := range audienceKeys {
		arr := root.Get(key)
		if arr == nil || isNull(st.doc, arr) {
			continue
		}
		if arr.Kind() != jsondoc.Array {
			return false, invalid("%s is not an array", key)
		}
		for i := 0; i < arr.Len(); i++ {
			rc, err := audienceMember(st.doc, key, i, arr.Item(i))
			if err != nil {
				return false, err
			}
			send.Recipients = append(send.Recipients, rc)
			st.slots = append(st.slots, slot{elem: arr.Item(i)})
		}
	}
	if unchecked != "" || len(send.Recipients) == 0 {
		if u.allowBroadcast && len(send.Recipients) == 0 {
			return false, nil
		}
		if !u.allowBroadcast {
			what := "the broadcast's own audience (no ids, emails or per_user_data)"
			if unchecked == "recipients" {
				what = "a recipients filter"
			} else if unchecked == "data_file_url" {
				what = "a data_file_url"
			}
			return false, invalid("this broadcast trigger sends to %s, which hush cannot check one person at a time; name the people in ids, emails or per_user_data, or set %s: true on the upstream to forward such triggers unchecked", what, OptAllowBroadcast)
		}
	}
	return true, nil
}

func isNull(doc *jsondoc.Doc, n *jsondoc.Node) bool {
	return n.Kind() == jsondoc.Literal && string(doc.Raw(n)) == "null"
}

// audienceMember reads one element of ids (a person id), emails (an address) or
// per_user_data ({"id" | "email", "data"}).
func audienceMember(doc *jsondoc.Doc, key string, i int, n *jsondoc.Node) (gateway.Recipient, error) {
	switch key {
	case "ids":
		id, ok := scalar(doc, n)
		if !ok || id == "" {
			return gateway.Recipient{}, invalid("ids[%d] is not an id", i)
		}
		return gateway.Recipient{Kind: Kind, Address: id}, nil
	case "emails":
		s, ok := n.Str()
		if !ok {
			return gateway.Recipient{}, invalid("emails[%d] is not a string", i)
		}
		addr, err := mail.ParseAddress(s)
		if err != nil {
			return gateway.Recipient{}, invalid("emails[%d] is not an email address", i)
		}
		return gateway.Recipient{Kind: gateway.KindEmail, Address: addr.Address}, nil
	}
	if n.Kind() != jsondoc.Object {
		return gateway.Recipient{}, invalid("per_user_data[%d] is not an object", i)
	}
	idNode, emailNode := n.Get("id"), n.Get("email")
	switch {
	case idNode != nil && emailNode != nil:
		return gateway.Recipient{}, invalid("per_user_data[%d] has both id and email; hush needs one person per entry", i)
	case idNode != nil:
		id, ok := scalar(doc, idNode)
		if !ok || id == "" {
			return gateway.Recipient{}, invalid("per_user_data[%d].id is not an id", i)
		}
		return gateway.Recipient{Kind: Kind, Address: id}, nil
	case emailNode != nil:
		s, ok := emailNode.Str()
		if !ok {
			return gateway.Recipient{}, invalid("per_user_data[%d].email is not a string", i)
		}
		addr, err := mail.ParseAddress(s)
		if err != nil {
			return gateway.Recipient{}, invalid("per_user_data[%d].email is not an email address", i)
		}
		return gateway.Recipient{Kind: gateway.KindEmail, Address: addr.Address}, nil
	}
	return gateway.Recipient{}, invalid("per_user_data[%d] has neither id nor email", i)
}

// Rewrite returns the body with only the kept recipients.
//
// Triggers: a dropped person's element of ids, emails or per_user_data (with its data) is
// removed. A list that loses every element is removed as a key — never forwarded empty, since
// a trigger without ids/emails/per_user_data goes to the broadcast's whole audience.
// Emails: a dropped address is removed from its to, cc or bcc list; an emptied cc or bcc is
// removed. When every address in to is dropped, the cc and bcc copies are not sent alone (a
// copy of a message its addressee does not get): they are marked not kept and Rewrite
// returns gateway.ErrNothingToSend, which the proxy answers as a fully dropped send.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st, ok := send.State.(*sendState)
	if !ok || st == nil {
		return nil, errors.New("rewrite: the send was not parsed by this upstream")
	}
	if len(keep) != len(send.Recipients) || len(keep) != len(st.slots) {
		return nil, fmt.Errorf("rewrite: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	kept := 0
	for _, k := range keep {
		if k {
			kept++
		}
	}
	if kept == len(keep) {
		return bytes.Clone(st.doc.Bytes()), nil
	}
	if kept == 0 {
		return nil, errors.New("rewrite: no recipient is kept; the send must not be forwarded")
	}
	edit := st.doc.Edit()
	switch st.ep {
	case epTrigger:
		if err := rewriteTrigger(st, edit, keep); err != nil {
			return nil, err
		}
	case epEmail:
		if err := rewriteEmail(st, edit, keep); err != nil {
			return nil, err
		}
	default:
		// One message to one person: all or nothing, and the proxy never calls Rewrite with
		// nothing dropped or nothing kept.
		return nil, errors.New("rewrite: a single-recipient send cannot be partly dropped")
	}
	out, err := edit.Bytes()
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	return out, nil
}

func rewriteTrigger(st *sendState, edit *jsondoc.Edit, keep []bool) error {
	for i, k := range keep {
		if !k {
			edit.Remove(st.slots[i].elem)
		}
	}
	root := st.doc.Root()
	remaining := 0
	for _, key := range audienceKeys {
		arr := root.Get(key)
		if arr == nil || arr.Kind() != jsondoc.Array {
			continue
		}
		if edit.Emptied(arr) {
			edit.Remove(arr)
			continue
		}
		remaining += edit.Remaining(arr)
	}
	if remaining == 0 {
		// Cannot happen with a kept recipient; never forward a trigger without its audience.
		return errors.New("rewrite: every audience list of the trigger would be empty")
	}
	return nil
}

func rewriteEmail(st *sendState, edit *jsondoc.Edit, keep []bool) error {
	keptParts := map[*addrList][]string{}
	for i, k := range keep {
		s := st.slots[i]
		if k {
			keptParts[s.list] = append(keptParts[s.list], s.list.parts[s.part])
		}
	}
	for _, l := range st.lists {
		left := keptParts[l]
		switch {
		case len(left) == len(l.parts):
			continue
		case len(left) > 0:
			edit.Replace(l.node, jsondoc.Quote(strings.Join(left, ", ")))
		case l.key == "to":
			for i := range keep {
				keep[i] = false
			}
			return gateway.ErrNothingToSend
		default:
			edit.Remove(l.node)
		}
	}
	return nil
}

// DroppedResponse answers a send whose every recipient was dropped in Customer.io's shape.
//
// Transactional sends: 200 {"delivery_id": "…", "queued_at": <unix seconds>} (sendEmail,
// sendSMS, sendPush responses "Returns a unique ID for the delivery"); refused: 400
// {"meta": {"error": "…"}} (their documented 400 body, which go-customerio reads as
// TransactionalError). Triggers: 200 {"id": <trigger id>}; refused: 422 {"errors":
// [{"detail": "…", "status": "422"}]} (triggerBroadcast's validation error).
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	const msg = "every recipient was withheld by hush; nothing was sent"
	ep := epEmail
	if st, ok := send.State.(*sendState); ok && st != nil {
		ep = st.ep
	}
	if ep == epTrigger {
		if asError {
			return http.StatusUnprocessableEntity, h, []byte(`{"errors":[{"detail":"` + msg + `","status":"422"}]}`)
		}
		return http.StatusOK, h, []byte(`{"id":` + strconv.FormatUint(randomUint(1<<31-1), 10) + `}`)
	}
	if asError {
		return http.StatusBadRequest, h, []byte(`{"meta":{"error":"` + msg + `"}}`)
	}
	now := u.now()
	body := `{"delivery_id":` + string(jsondoc.Quote(deliveryID(now))) + `,"queued_at":` + strconv.FormatInt(now.Unix(), 10) + `}`
	return http.StatusOK, h, []byte(body)
}

// deliveryID makes up a delivery id shaped like Customer.io's (an opaque token of letters
// and digits).
func deliveryID(now time.Time) string {
	return gateway.NewID("", now)
}

// randomUint is a random number in [1, n].
func randomUint(n uint64) uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return binary.BigEndian.Uint64(b[:])%n + 1
}
