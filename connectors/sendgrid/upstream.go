// Package sendgrid is hush's upstream for the SendGrid v3 Mail Send API: it finds the
// recipients of POST /v3/mail/send (personalizations[].to/cc/bcc[].email), removes the ones
// hush withholds by editing the raw JSON, reads the send's category from its own categories
// and unsubscribe group, and answers a fully withheld send the way SendGrid answers a send.
//
// API reference: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
package sendgrid

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the upstream kind in hush.yaml.
const Kind = "sendgrid"

// Paths of the send endpoints, as they follow /proxy/{upstream}.
const (
	// SendPath is v3 Mail Send, the only endpoint hush enforces.
	SendPath = "/v3/mail/send"
	// legacySendPath is the retired v2 Mail Send (form-encoded). hush cannot check it, so a
	// request there is refused in enforce mode rather than forwarded unchecked.
	legacySendPath = "/api/mail.send.json"
)

// The three recipient lists of a personalization, in the order hush reads them.
var recipientFields = [...]string{"to", "cc", "bcc"}

// Upstream is the SendGrid v3 Mail Send API. Safe for concurrent use: never modified after
// construction.
type Upstream struct {
	// categories maps a SendGrid category (the body's top-level "categories") to a hush
	// category; asmGroups an unsubscribe group id (asm.group_id, in decimal) to one.
	categories map[string]gateway.Category
	asmGroups  map[string]gateway.Category
}

// NewUpstream builds a SendGrid upstream. Options:
//
//	categories: {<SendGrid category>: <hush category>}
//	asm_groups: {<unsubscribe group id>: <hush category>}
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	u := &Upstream{
		categories: opts.Categories("categories"),
		asmGroups:  opts.Categories("asm_groups"),
	}
	var errs []error
	if err := opts.Done(); err != nil {
		errs = append(errs, err)
	}
	for id := range u.asmGroups {
		n, err := strconv.ParseUint(id, 10, 63)
		if err != nil || strconv.FormatUint(n, 10) != id {
			errs = append(errs, fmt.Errorf("option %q for kind %q: %q is not an unsubscribe group id (a whole number)", "asm_groups", Kind, id))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	return u, nil
}

// spot is where one recipient sits: which personalization, which list, which element.
type spot struct {
	pers  int           // index in personalizations
	field int           // index in recipientFields
	list  *jsondoc.Node // the to/cc/bcc array
	elem  *jsondoc.Node // the {"email": …, "name": …} element
}

// sendState is what ParseSend found, kept for Rewrite.
type sendState struct {
	doc   *jsondoc.Doc
	pers  *jsondoc.Node // the personalizations array
	spots []spot        // one per recipient, in the send's order
}

func invalid(format string, args ...any) error {
	return gateway.Errorf(gateway.CodeInvalid, format, args...)
}

// isPath reports whether p is the endpoint path. A trailing slash and letter case are
// tolerated: reading more requests as sends can only refuse or check more, never let one
// through unchecked.
func isPath(p, endpoint string) bool {
	return strings.EqualFold(strings.TrimSuffix(p, "/"), endpoint)
}

// ParseSend finds the recipients of a v3 Mail Send: every personalizations[i].to[j].email,
// then cc, then bcc, personalization by personalization. Other requests are not sends
// (nil, nil), except the retired v2 Mail Send, which is refused.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if !strings.EqualFold(req.Method, http.MethodPost) {
		return nil, nil
	}
	if isPath(req.Path, legacySendPath) {
		return nil, invalid("hush enforces SendGrid's v3 Mail Send (POST %s) only; the v2 endpoint %s is not checked, so it is not forwarded", SendPath, legacySendPath)
	}
	if !isPath(req.Path, SendPath) {
		return nil, nil
	}
	doc, err := jsondoc.Parse(req.Body)
	if err != nil {
		return nil, invalid("mail send body is not valid JSON")
	}
	root := doc.Root()
	if root.Kind() != jsondoc.Object {
		return nil, invalid("mail send body is not a JSON object")
	}
	pers, err := only(root, "personalizations", "")
	if err != nil {
		return nil, err
	}
	if pers == nil || pers.Kind() != jsondoc.Array || pers.Len() == 0 {
		// SendGrid: "You must have at least one personalization."
		return nil, invalid("personalizations must be an array with at least one personalization")
	}
	st := &sendState{doc: doc, pers: pers}
	send := &gateway.Send{Channel: gateway.ChannelEmail, State: st}
	for i := range pers.Len() {
		p := pers.Item(i)
		where := "personalizations[" + strconv.Itoa(i) + "]"
		if p.Kind() != jsondoc.Object {
			return nil, invalid("%s is not an object", where)
		}
		for f, name := range recipientFields {
			list, err := only(p, name, where+".")
			if err != nil {
				return nil, err
			}
			if list == nil || list.Kind() == jsondoc.Literal && string(doc.Raw(list)) == "null" {
				if f == 0 {
					// SendGrid refuses a personalization without "to"; hush refuses it too,
					// rather than forward cc/bcc copies it cannot pair with a recipient.
					return nil, invalid("%s.to is required: SendGrid needs at least one to recipient in every personalization", where)
				}
				continue
			}
			if list.Kind() != jsondoc.Array {
				return nil, invalid("%s.%s is not an array", where, name)
			}
			if list.Len() == 0 && f == 0 {
				return nil, invalid("%s.to is empty: SendGrid needs at least one to recipient in every personalization", where)
			}
			for j := range list.Len() {
				at := where + "." + name + "[" + strconv.Itoa(j) + "]"
				addr, err := recipientEmail(list.Item(j), at)
				if err != nil {
					return nil, err
				}
				send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: addr})
				st.spots = append(st.spots, spot{pers: i, field: f, list: list, elem: list.Item(j)})
			}
		}
	}
	category, err := u.category(doc)
	if err != nil {
		return nil, err
	}
	send.Category = category
	return send, nil
}

// only is obj's member key, or an error when the object names it more than once: SendGrid
// reads one of them, and hush must check the one SendGrid reads.
func only(obj *jsondoc.Node, key, where string) (*jsondoc.Node, error) {
	if m := obj.Members(key); len(m) > 1 {
		return nil, invalid("%s%s appears %d times in one object", where, key, len(m))
	}
	return obj.Get(key), nil
}

// recipientEmail reads one {"email": …, "name": …} element. Messages name the field, never
// the address.
func recipientEmail(elem *jsondoc.Node, at string) (string, error) {
	if elem.Kind() != jsondoc.Object {
		return "", invalid("%s is not an object with an email", at)
	}
	v, err := only(elem, "email", at+".")
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", invalid("%s.email is missing", at)
	}
	s, ok := v.Str()
	if !ok {
		return "", invalid("%s.email is not a string", at)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("%s.email is empty", at)
	}
	if !strings.ContainsAny(s, "<,\"(") {
		return s, nil
	}
	// "Ana <ana@example.com>": SendGrid wants the bare address, but the policy must see the
	// address whatever the caller wrote.
	list, err := mail.ParseAddressList(s)
	if err != nil || len(list) == 0 {
		return "", invalid("%s.email is not an email address", at)
	}
	if len(list) > 1 {
		return "", invalid("%s.email holds several addresses; SendGrid takes one per recipient", at)
	}
	return list[0].Address, nil
}

// category is the hush category the send's own labels map to: every mapped entry of the
// "categories" lists (top-level and per personalization) and the unsubscribe group
// asm.group_id are collected and the most
// restrictive wins (gateway.StricterCategory). Labels with no mapping say nothing. Empty: none
// mapped, the upstream's configured category applies.
func (u *Upstream) category(doc *jsondoc.Doc) (gateway.Category, error) {
	root := doc.Root()
	var found gateway.Category
	if len(u.categories) > 0 {
		// The top-level list, and the personalizations' own lists (the Go SDK's helper
		// writes personalizations[].categories): one send has one category, so every
		// label counts.
		holders := []*jsondoc.Node{root}
		if pers := root.Get("personalizations"); pers != nil {
			for i := range pers.Len() {
				holders = append(holders, pers.Item(i))
			}
		}
		for _, h := range holders {
			cats, err := only(h, "categories", "")
			if err != nil {
				return "", err
			}
			if cats == nil || cats.Kind() != jsondoc.Array {
				continue
			}
			for i := range cats.Len() {
				if label, ok := cats.Item(i).Str(); ok {
					if c, ok := u.categories[label]; ok {
						found = gateway.StricterCategory(found, c)
					}
				}
			}
		}
	}
	if len(u.asmGroups) > 0 {
		asm, err := only(root, "asm", "")
		if err != nil {
			return "", err
		}
		if asm != nil && asm.Kind() == jsondoc.Object {
			id, err := only(asm, "group_id", "asm.")
			if err != nil {
				return "", err
			}
			if id != nil && id.Kind() == jsondoc.Number {
				if c, ok := u.asmGroups[string(doc.Raw(id))]; ok {
					found = gateway.StricterCategory(found, c)
				}
			}
		}
	}
	return found, nil
}

// Rewrite removes the recipients whose keep is false, leaving every other byte as it was.
// A removed recipient's {"email", "name"} element leaves its list; a cc or bcc list left
// empty leaves its personalization (SendGrid refuses an empty one). A personalization whose
// every to recipient is removed is removed whole, with its cc and bcc recipients and its own
// fields (subject, substitutions, dynamic_template_data, custom_args, headers, send_at):
// SendGrid refuses a personalization without to, and a copy of a message addressed to nobody
// is not sent; their keep flags are set to false so the proxy counts them as not contacted.
// When that leaves no personalization at all, Rewrite returns gateway.ErrNothingToSend and
// the proxy answers the send as fully dropped.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st, ok := send.State.(*sendState)
	if !ok || st == nil {
		return nil, errors.New("rewrite: the send was not parsed by this upstream")
	}
	if len(keep) != len(send.Recipients) || len(keep) != len(st.spots) {
		return nil, fmt.Errorf("rewrite: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	keptTo := make([]int, st.pers.Len())
	all := true
	for i, s := range st.spots {
		all = all && keep[i]
		if keep[i] && s.field == 0 {
			keptTo[s.pers]++
		}
	}
	if all {
		return bytes.Clone(st.doc.Bytes()), nil
	}
	// A personalization whose every to is withheld goes whole, its cc and bcc copies with it:
	// they are marked not kept so that the proxy counts them as not contacted.
	for i, s := range st.spots {
		if keptTo[s.pers] == 0 {
			keep[i] = false
		}
	}
	edit := st.doc.Edit()
	for p, n := range keptTo {
		if n == 0 {
			edit.Remove(st.pers.Item(p))
		}
	}
	if edit.Emptied(st.pers) {
		return nil, gateway.ErrNothingToSend
	}
	for i, s := range st.spots {
		if keep[i] || keptTo[s.pers] == 0 {
			continue
		}
		edit.Remove(s.elem)
		if edit.Emptied(s.list) {
			edit.Remove(s.list) // "cc": [] would be refused; "to" never empties here
		}
	}
	out, err := edit.Bytes()
	if err != nil {
		return nil, fmt.Errorf("rewrite mail send: %w", err)
	}
	return out, nil
}

// DroppedResponse answers a send whose every recipient hush withheld.
//
// Success is what SendGrid answers a send it queued: 202 Accepted, an empty body and an
// X-Message-Id header ("Your message is both valid, and queued to be delivered":
// https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send#responses;
// https://www.twilio.com/docs/sendgrid/glossary/x-message-id). The id is random, in
// SendGrid's shape: 22 characters of URL-safe base64 (16 bytes). It names no message: event
// webhooks will never mention it.
//
// The refusal is SendGrid's documented error shape, status 400 ("The error code for each
// error is 400": https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors):
// {"errors":[{"message":…,"field":"personalizations","help":null}]}.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{}
	if asError {
		h.Set("Content-Type", "application/json")
		return http.StatusBadRequest, h, []byte(droppedError)
	}
	h.Set("X-Message-Id", messageID())
	return http.StatusAccepted, h, nil
}

// droppedError is the refusal body: truthful about who refused and why, in SendGrid's shape.
const droppedError = `{"errors":[{"message":"Every recipient of this send is withheld by hush (silenced, opted out or not to be contacted now), so nothing was sent.","field":"personalizations","help":null}]}`

// messageID makes up an id shaped like SendGrid's X-Message-Id.
func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
