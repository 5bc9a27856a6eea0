// Package postmark is the upstream connector for Postmark's Email API
// (https://postmarkapp.com/developer/api/email-api): hush finds the recipients of its send
// endpoints, removes the ones the policy drops, and answers fully dropped sends in Postmark's
// own shapes.
package postmark

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind of Postmark upstreams in hush.yaml.
const Kind = "postmark"

// DefaultStream is the stream Postmark sends a message on when it names none: every server's
// default transactional stream.
const DefaultStream = "outbound"

// BroadcastStream is the id of every Postmark server's default broadcast stream, which
// Postmark reserves for bulk (marketing) mail.
const BroadcastStream = "broadcast"

// endpoint is the shape of one send endpoint's body.
type endpoint struct {
	batch bool
	// messagesKey: the messages are the "Messages" array of an object (batchWithTemplates)
	// rather than the top-level array (batch).
	messagesKey bool
}

// sendEndpoints are Postmark's send endpoints, keyed by lower-cased path: Postmark's routes
// ignore case and its own reference writes "/email/withTemplate/" with a trailing slash, so
// hush matches the same way; a send that slipped past hush by its spelling would never be
// checked.
var sendEndpoints = map[string]endpoint{
	"/email":                    {},
	"/email/withtemplate":       {},
	"/email/batch":              {batch: true},
	"/email/batchwithtemplates": {batch: true, messagesKey: true},
}

// refusedSends are send endpoints hush does not read yet. Forwarding them unchecked would
// let a silenced customer be mailed, so in enforce mode they are refused (shadow mode
// forwards and logs them).
var refusedSends = map[string]string{
	// The Bulk API (https://postmarkapp.com/developer/api/bulk-email) answers one status for
	// the whole request, so a dropped recipient cannot be answered for.
	"/email/bulk": "Postmark's Bulk API (POST /email/bulk) is not checked by hush yet; send through /email/batch or /email/batchWithTemplates",
}

// recipientFields are the members of a message that name recipients, in the order their
// recipients are listed in a Send.
var recipientFields = [...]string{"To", "Cc", "Bcc"}

// Upstream is Postmark's Email API as the proxy enforces it. Safe for concurrent use: never
// modified after construction.
type Upstream struct {
	name string
	// streams maps a message stream id to the category of its messages.
	streams map[string]gateway.Category
	// fallback is the category of messages on streams the options do not name: the
	// upstream's configured category (marketing when none), as the proxy would apply it.
	fallback gateway.Category
	now      func() time.Time
}

// NewUpstream builds a Postmark upstream. Option message_streams maps stream ids to
// categories ({outbound: transactional, newsletters: marketing}); "broadcast" is marketing
// unless the option says otherwise.
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	configured := opts.Categories("message_streams")
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	streams := map[string]gateway.Category{BroadcastStream: gateway.CategoryMarketing}
	for id, c := range configured {
		streams[id] = c
	}
	return &Upstream{name: cfg.Name, streams: streams,
		fallback: gateway.SendCategory(string(cfg.Category)), now: time.Now}, nil
}

// parsedSend is what ParseSend read, kept in Send.State for Rewrite, EditResponse and
// DroppedResponse.
type parsedSend struct {
	doc      *jsondoc.Doc
	ep       endpoint
	messages []message
}

// message is one Postmark message of a send.
type message struct {
	node   *jsondoc.Node
	fields [len(recipientFields)]field
	first  int // index of its first recipient in Send.Recipients
	count  int // how many recipients it names
	to     string
}

// field is one of a message's To, Cc and Bcc members.
type field struct {
	node  *jsondoc.Node // nil when the message does not have it
	items []listItem
}

// ParseSend finds the recipients of a Postmark send: To, Cc and Bcc of every message, in
// message order. Other requests are not sends.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if req.Method != http.MethodPost {
		return nil, nil
	}
	route := strings.ToLower(strings.TrimSuffix(req.Path, "/"))
	if why, refused := refusedSends[route]; refused {
		return nil, gateway.Errorf(gateway.CodeInvalid, "%s", why)
	}
	ep, ok := sendEndpoints[route]
	if !ok {
		return nil, nil
	}
	p, err := parse(req.Body, ep)
	if err != nil {
		return nil, err
	}
	send := &gateway.Send{Channel: gateway.ChannelEmail, State: p}
	for _, m := range p.messages {
		for _, f := range m.fields {
			for _, it := range f.items {
				send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: it.addr})
			}
		}
	}
	if len(send.Recipients) == 0 {
		return nil, gateway.Errorf(gateway.CodeInvalid, "the Postmark send names no recipient in To, Cc or Bcc")
	}
	send.Category, err = u.category(p)
	if err != nil {
		return nil, err
	}
	return send, nil
}

// parse reads a send body of the endpoint's shape.
func parse(body []byte, ep endpoint) (*parsedSend, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, gateway.Errorf(gateway.CodeInvalid, "the Postmark send has an empty body")
	}
	doc, err := jsondoc.Parse(body)
	if err != nil {
		return nil, gateway.Errorf(gateway.CodeInvalid, "the Postmark send body is not valid JSON")
	}
	p := &parsedSend{doc: doc, ep: ep}
	root := doc.Root()
	var list *jsondoc.Node
	prefix := "["
	switch {
	case !ep.batch:
		if root.Kind() != jsondoc.Object {
			return nil, gateway.Errorf(gateway.CodeInvalid, "the Postmark send body is not a JSON object")
		}
	case ep.messagesKey:
		if root.Kind() != jsondoc.Object {
			return nil, gateway.Errorf(gateway.CodeInvalid, "the Postmark batch body is not a JSON object with Messages")
		}
		list, err = member(root, "Messages", "")
		if err != nil {
			return nil, err
		}
		if list == nil || list.Kind() != jsondoc.Array {
			return nil, gateway.Errorf(gateway.CodeInvalid, "Messages is not an array of messages")
		}
		prefix = "Messages["
	default:
		if root.Kind() != jsondoc.Array {
			return nil, gateway.Errorf(gateway.CodeInvalid, "the Postmark batch body is not a JSON array of messages")
		}
		list = root
	}
	if list == nil {
		m, err := parseMessage(doc, root, "")
		if err != nil {
			return nil, err
		}
		p.messages = []message{m}
		return p, nil
	}
	total := 0
	for i := 0; i < list.Len(); i++ {
		where := fmt.Sprintf("%s%d].", prefix, i)
		n := list.Item(i)
		if n.Kind() != jsondoc.Object {
			return nil, gateway.Errorf(gateway.CodeInvalid, "%s is not a message object", strings.TrimSuffix(where, "."))
		}
		m, err := parseMessage(doc, n, where)
		if err != nil {
			return nil, err
		}
		m.first = total
		total += m.count
		p.messages = append(p.messages, m)
	}
	return p, nil
}

// parseMessage reads one message object; where prefixes field names in errors ("[2].").
func parseMessage(doc *jsondoc.Doc, n *jsondoc.Node, where string) (message, error) {
	m := message{node: n}
	for i, name := range recipientFields {
		v, err := member(n, name, where)
		if err != nil {
			return m, err
		}
		if v == nil || isNull(doc, v) {
			continue
		}
		s, ok := v.Str()
		if !ok {
			return m, gateway.Errorf(gateway.CodeInvalid, "%s%s is not a string", where, name)
		}
		items, err := parseAddressList(s)
		if err != nil {
			return m, gateway.Errorf(gateway.CodeInvalid, "%s%s %v", where, name, err)
		}
		m.fields[i] = field{node: v, items: items}
		m.count += len(items)
		if i == 0 {
			m.to = s
		}
	}
	return m, nil
}

// isNull reports whether a value is null (Postmark's own clients send "Cc": null).
func isNull(doc *jsondoc.Doc, n *jsondoc.Node) bool {
	return n.Kind() == jsondoc.Literal && string(doc.Raw(n)) == "null"
}

// member is the value of the object's member Postmark reads as key. Postmark's JSON reader
// does not mind the case of member names, so neither does hush: a "to" is as much a
// recipient as a "To". Two members that read as the same key are refused: which one Postmark
// takes is not documented, and hush must check the one it sends to.
func member(obj *jsondoc.Node, key, where string) (*jsondoc.Node, error) {
	var found *jsondoc.Node
	for i := 0; i < obj.Len(); i++ {
		if !strings.EqualFold(obj.Key(i), key) {
			continue
		}
		if found != nil {
			return nil, gateway.Errorf(gateway.CodeInvalid, "%s%s is given more than once", where, key)
		}
		found = obj.Item(i)
	}
	return found, nil
}

// category is the send's category as its messages' streams say: a message without
// MessageStream goes on Postmark's default stream ("outbound"). When a batch's messages
// say different things, the most restrictive category wins (gateway.StricterCategory), so that no
// message escapes a silence because a receipt shares its batch; the policy decides once
// per send. Empty: no message is on a stream the options name, and the upstream's own
// category applies.
func (u *Upstream) category(p *parsedSend) (gateway.Category, error) {
	var out gateway.Category
	mapped := false
	for i, m := range p.messages {
		stream := DefaultStream
		v, err := member(m.node, "MessageStream", messageWhere(p.ep, i))
		if err != nil {
			return "", err
		}
		if v != nil && !isNull(p.doc, v) {
			s, ok := v.Str()
			if !ok {
				return "", gateway.Errorf(gateway.CodeInvalid, "%sMessageStream is not a string", messageWhere(p.ep, i))
			}
			if s != "" {
				stream = s
			}
		}
		c, ok := u.streams[stream]
		if ok {
			mapped = true
		} else {
			c = u.fallback
		}
		out = gateway.StricterCategory(out, c)
	}
	if !mapped {
		return "", nil
	}
	return out, nil
}

// messageWhere names message i in errors: "" for a single send, "[2]." or "Messages[2].".
func messageWhere(ep endpoint, i int) string {
	switch {
	case !ep.batch:
		return ""
	case ep.messagesKey:
		return fmt.Sprintf("Messages[%d].", i)
	default:
		return fmt.Sprintf("[%d].", i)
	}
}

var (
	_ gateway.Upstream       = (*Upstream)(nil)
	_ gateway.ResponseEditor = (*Upstream)(nil)
)
