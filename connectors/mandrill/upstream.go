// Package mandrill is the upstream connector for Mandrill (Mailchimp Transactional Email).
//
// Mandrill's API is JSON-RPC over POST (https://mailchimp.com/developer/transactional/api/;
// the older reference at https://mandrillapp.com/api/docs/messages.JSON.html): every call
// carries the API key in the body ("key"), and the two send calls, messages/send and
// messages/send-template, carry the addressees in message.to[] as {email, name, type}
// objects, type being to, cc or bcc. Mandrill answers a send with one entry per recipient
// ({email, status, reject_reason, _id}) and a failure with {status: "error", code, name,
// message} under HTTP 500.
//
// hush removes the silenced addressees from message.to[] together with their entries of
// the per-recipient arrays (message.merge_vars[] and message.recipient_metadata[], keyed by
// rcpt), and puts them back into Mandrill's answer as rejected ("unsub") entries, so a tool
// that reads the answer per recipient sees every addressee it asked for.
//
// The third send call, messages/send-raw, carries a whole MIME document in "raw_message"
// and, optionally, the envelope recipients as a top-level "to" array of address strings;
// without that array Mandrill delivers to the document's own To, Cc and Bcc headers. hush
// does not parse MIME, so a send-raw without "to" is refused, and one with "to" is enforced
// on that array alone: the MIME document, DKIM signature included, reaches Mandrill byte for
// byte.
package mandrill

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration.
const Kind = "mandrill"

// sendPaths are Mandrill's send calls, as they follow the configured upstream URL
// (https://mandrillapp.com): with and without the ".json" output-format suffix, which the
// official clients add and the current reference omits.
var sendPaths = map[string]bool{
	"/api/1.0/messages/send":               true,
	"/api/1.0/messages/send.json":          true,
	"/api/1.0/messages/send-template":      true,
	"/api/1.0/messages/send-template.json": true,
}

// rawSendPaths are Mandrill's messages/send-raw call, spelled as sendPaths are. Its body is
// {key, raw_message, from_email, from_name, to: [address…], async, ip_pool, send_at,
// return_path_domain} (https://mandrillapp.com/api/docs/messages.JSON.html#method=send-raw).
var rawSendPaths = map[string]bool{
	"/api/1.0/messages/send-raw":      true,
	"/api/1.0/messages/send-raw.json": true,
}

// Upstream is Mandrill's send API as the proxy enforces it. Never modified after
// NewUpstream, so it is safe for concurrent use.
type Upstream struct {
	name        string
	tags        map[string]gateway.Category
	subaccounts map[string]gateway.Category
}

// NewUpstream builds a Mandrill upstream. Options:
//
//	tags:        {<message tag>: <category>}: the category of a send carrying the tag in
//	             message.tags[]
//	subaccounts: {<subaccount id>: <category>}: the category of sends on message.subaccount
//
// A send with several mapped labels takes the most restrictive of their categories
// (gateway.StricterCategory), so a newsletter never passes as a receipt because it also carries a
// receipt's tag. Sends with none take the upstream's configured category: Mandrill is
// "transactional" in name only, many tools send newsletters through it.
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	u := &Upstream{
		name:        cfg.Name,
		tags:        opts.Categories("tags"),
		subaccounts: opts.Categories("subaccounts"),
	}
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	return u, nil
}

// sendState is what ParseSend found, kept for Rewrite, EditResponse and DroppedResponse.
type sendState struct {
	doc *jsondoc.Doc
	// to[i] is recipient i's element: a message.to[] object, or for send-raw a string of
	// the top-level to[] array.
	to []*jsondoc.Node
	// perRecipient are the elements of message.merge_vars[] and message.recipient_metadata[]
	// with the address their rcpt names (lower case).
	perRecipient []rcptItem
}

type rcptItem struct {
	node *jsondoc.Node
	rcpt string
}

func invalid(format string, args ...any) error {
	return gateway.Errorf(gateway.CodeInvalid, "mandrill send: "+format, args...)
}

// ParseSend finds the addressees of a messages/send, messages/send-template or
// messages/send-raw call; every other request is not a send. Messages name fields and
// positions, never addresses.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if req.Method != http.MethodPost || (!sendPaths[req.Path] && !rawSendPaths[req.Path]) {
		return nil, nil
	}
	doc, err := jsondoc.Parse(req.Body)
	if err != nil {
		return nil, invalid("body is not valid JSON")
	}
	root := doc.Root()
	if root.Kind() != jsondoc.Object {
		return nil, invalid("body is not a JSON object")
	}
	if rawSendPaths[req.Path] {
		return parseRaw(doc)
	}
	// A key Mandrill reads once, written twice, could hide an addressee from hush.
	if len(root.Members("message")) > 1 {
		return nil, invalid("message appears twice")
	}
	msg := root.Get("message")
	if msg == nil || msg.Kind() != jsondoc.Object {
		return nil, invalid("message is missing or not an object")
	}
	if len(msg.Members("to")) > 1 {
		return nil, invalid("message.to appears twice")
	}
	to := msg.Get("to")
	if to == nil || to.Kind() != jsondoc.Array {
		return nil, invalid("message.to is missing or not an array")
	}
	if to.Len() == 0 {
		return nil, invalid("message.to names no recipient")
	}
	st := &sendState{doc: doc}
	send := &gateway.Send{Channel: gateway.ChannelEmail, State: st}
	for i := range to.Len() {
		el := to.Item(i)
		if el.Kind() != jsondoc.Object {
			return nil, invalid("message.to[%d] is not an object", i)
		}
		if len(el.Members("email")) > 1 {
			return nil, invalid("message.to[%d].email appears twice", i)
		}
		email := el.Get("email")
		s, ok := "", false
		if email != nil {
			s, ok = email.Str()
		}
		if !ok {
			return nil, invalid("message.to[%d].email is missing or not a string", i)
		}
		addr, err := bareAddress(s)
		if err != nil {
			return nil, invalid("message.to[%d].email %v", i, err)
		}
		send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: addr})
		st.to = append(st.to, el)
	}
	for _, field := range []string{"merge_vars", "recipient_metadata"} {
		arr := msg.Get(field)
		if arr == nil || arr.Kind() != jsondoc.Array {
			continue // absent, or a shape Mandrill would refuse: left for Mandrill to judge
		}
		for i := range arr.Len() {
			el := arr.Item(i)
			if el.Kind() != jsondoc.Object || el.Get("rcpt") == nil {
				continue
			}
			s, ok := el.Get("rcpt").Str()
			if !ok {
				continue
			}
			if addr, err := bareAddress(s); err == nil {
				st.perRecipient = append(st.perRecipient, rcptItem{node: el, rcpt: strings.ToLower(addr)})
			}
		}
	}
	send.Category = u.category(msg)
	return send, nil
}

// parseRaw reads a messages/send-raw body: its recipients are the strings of the top-level
// to[] array. Without that array (absent, null or empty) Mandrill reads the recipients from
// the To, Cc and Bcc headers of raw_message, which hush does not parse: such a send is
// refused rather than forwarded unchecked.
//
// send-raw has no tags or subaccount field (a raw message carries them as X-MC-Tags /
// X-MC-Subaccount headers inside the MIME document), so Send.Category stays empty: the
// caller's Hush-Category header or the upstream's category decides.
func parseRaw(doc *jsondoc.Doc) (*gateway.Send, error) {
	root := doc.Root()
	if len(root.Members("to")) > 1 {
		return nil, invalid("to appears twice")
	}
	to := root.Get("to")
	if to == nil || string(doc.Raw(to)) == "null" || (to.Kind() == jsondoc.Array && to.Len() == 0) {
		return nil, invalid("messages/send-raw without a to list: hush does not read the To, Cc and Bcc headers of raw_message; list every recipient in to")
	}
	if to.Kind() != jsondoc.Array {
		return nil, invalid("to is not an array of email addresses")
	}
	st := &sendState{doc: doc}
	send := &gateway.Send{Channel: gateway.ChannelEmail, State: st}
	for i := range to.Len() {
		el := to.Item(i)
		s, ok := el.Str()
		if !ok {
			return nil, invalid("to[%d] is not a string", i)
		}
		addr, err := bareAddress(s)
		if err != nil {
			return nil, invalid("to[%d] %v", i, err)
		}
		send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: addr})
		st.to = append(st.to, el)
	}
	return send, nil
}

// category maps the message's tags and subaccount through the options; the most
// restrictive mapped category wins. Empty: no label is mapped.
func (u *Upstream) category(msg *jsondoc.Node) gateway.Category {
	var found gateway.Category
	if tags := msg.Get("tags"); tags != nil && tags.Kind() == jsondoc.Array {
		for i := range tags.Len() {
			if s, ok := tags.Item(i).Str(); ok {
				if c, ok := u.tags[s]; ok {
					found = gateway.StricterCategory(found, c)
				}
			}
		}
	}
	if sub := msg.Get("subaccount"); sub != nil {
		if s, ok := sub.Str(); ok {
			if c, ok := u.subaccounts[s]; ok {
				found = gateway.StricterCategory(found, c)
			}
		}
	}
	return found
}

// bareAddress reduces "Ana <ana@example.com>" to ana@example.com; one field with several
// addresses is refused, since removing one of them would mean rewriting the string.
func bareAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("is empty")
	}
	if !strings.ContainsAny(s, "<,\"(") {
		return s, nil
	}
	list, err := mail.ParseAddressList(s)
	if err != nil || len(list) == 0 {
		return "", errors.New("is not an email address")
	}
	if len(list) > 1 {
		return "", errors.New("holds several addresses; hush needs one address per recipient")
	}
	return list[0].Address, nil
}

func stateOf(send *gateway.Send) (*sendState, error) {
	st, ok := send.State.(*sendState)
	if !ok || st == nil {
		return nil, errors.New("the send was not parsed by this upstream")
	}
	return st, nil
}

// Rewrite removes the dropped addressees' message.to[] elements, and the merge_vars[] and
// recipient_metadata[] entries whose rcpt names only dropped addressees. Everything else
// (global_merge_vars, tags, metadata, key, async, send_at…) is copied byte for byte.
//
// For send-raw it removes the dropped addresses from the top-level to[] (the envelope) and
// nothing else: raw_message, and so its DKIM signature, stays byte for byte. A dropped
// address still shows in the document's own To/Cc headers, which the kept recipients see,
// but Mandrill delivers to the envelope only, so the dropped person receives nothing.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st, err := stateOf(send)
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	if len(keep) != len(send.Recipients) || len(keep) != len(st.to) {
		return nil, fmt.Errorf("rewrite: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	// An emptied send-raw to[] would make Mandrill deliver to every header recipient, the
	// dropped ones included: a send left with nobody is never written.
	if !slices.Contains(keep, true) {
		return nil, gateway.ErrNothingToSend
	}
	kept, dropped := map[string]bool{}, map[string]bool{}
	for i, k := range keep {
		addr := strings.ToLower(send.Recipients[i].Address)
		if k {
			kept[addr] = true
		} else {
			dropped[addr] = true
		}
	}
	if len(dropped) == 0 {
		return bytes.Clone(st.doc.Bytes()), nil
	}
	edit := st.doc.Edit()
	for i, k := range keep {
		if !k {
			edit.Remove(st.to[i])
		}
	}
	for _, it := range st.perRecipient {
		// An address both kept and dropped (listed twice) is still sent to: its data stays.
		if dropped[it.rcpt] && !kept[it.rcpt] {
			edit.Remove(it.node)
		}
	}
	out, err := edit.Bytes()
	if err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	return out, nil
}

// madeUpID is a message id in Mandrill's shape: 32 lower-case hex digits.
func madeUpID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// rejectedEntry is Mandrill's answer entry for an addressee it would not send to because
// they unsubscribed: the nearest of its documented reject reasons (hard-bounce, soft-bounce,
// spam, unsub, custom, invalid-sender, invalid, test-mode-limit, unsigned, rule) to a
// customer hush silenced.
func rejectedEntry(email string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"email":`)
	b.Write(jsondoc.Quote(email))
	b.WriteString(`,"status":"rejected","reject_reason":"unsub","_id":"`)
	b.WriteString(madeUpID())
	b.WriteString(`"}`)
	return b.Bytes()
}

// EditResponse puts the dropped addressees back into Mandrill's answer to a partly dropped
// send, as rejected entries, in the request's recipient order as far as the answer allows:
// each kept addressee takes the first unused answer entry with its address; answer entries
// no addressee claimed (Mandrill answers in its own order and spelling) follow at the end.
// Answer entries are copied byte for byte.
func (u *Upstream) EditResponse(req *gateway.OutboundRequest, send *gateway.Send, keep []bool, status int, header http.Header, body []byte) ([]byte, error) {
	if len(keep) != len(send.Recipients) {
		return nil, fmt.Errorf("edit mandrill answer: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	doc, err := jsondoc.Parse(body)
	if err != nil || doc.Root().Kind() != jsondoc.Array {
		return nil, errors.New("edit mandrill answer: the answer is not a JSON array")
	}
	root := doc.Root()
	used := make([]bool, root.Len())
	emailOf := func(i int) string {
		el := root.Item(i)
		if el.Kind() != jsondoc.Object || el.Get("email") == nil {
			return ""
		}
		s, _ := el.Get("email").Str()
		return strings.ToLower(strings.TrimSpace(s))
	}
	var parts [][]byte
	for i, rc := range send.Recipients {
		if !keep[i] {
			parts = append(parts, rejectedEntry(rc.Address))
			continue
		}
		want := strings.ToLower(rc.Address)
		for j := range used {
			if !used[j] && emailOf(j) == want {
				used[j] = true
				parts = append(parts, doc.Raw(root.Item(j)))
				break
			}
		}
	}
	for j := range used {
		if !used[j] {
			parts = append(parts, doc.Raw(root.Item(j)))
		}
	}
	var b bytes.Buffer
	b.Grow(len(body) + 100*len(send.Recipients))
	b.WriteByte('[')
	b.Write(bytes.Join(parts, []byte(",")))
	b.WriteByte(']')
	return b.Bytes(), nil
}

// DroppedResponse answers a send whose every addressee was dropped as Mandrill answers a
// send it rejected entirely: 200 with one rejected ("unsub") entry per addressee, in
// request order; never an empty array, which tools read as "Mandrill sent to nobody and
// said nothing". asError: Mandrill's error object under HTTP 500, as Mandrill reports
// every failed call ({"status":"error","code":-2,"name":"ValidationError","message":…}).
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	if asError {
		return http.StatusInternalServerError, h,
			[]byte(`{"status":"error","code":-2,"name":"ValidationError","message":"every recipient was withheld by hush; nothing was sent"}`)
	}
	parts := make([][]byte, 0, len(send.Recipients))
	for _, rc := range send.Recipients {
		parts = append(parts, rejectedEntry(rc.Address))
	}
	return http.StatusOK, h, append(append([]byte{'['}, bytes.Join(parts, []byte(","))...), ']')
}

// Compile-time checks: the proxy finds these through type assertions.
var (
	_ gateway.Upstream       = (*Upstream)(nil)
	_ gateway.ResponseEditor = (*Upstream)(nil)
)
