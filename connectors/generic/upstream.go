package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"path"
	"strconv"
	"strings"

	"github.com/hush-gateway/hush/connectors/formbody"
	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Body formats of a send endpoint.
const (
	FormatJSON = "json"
	FormatForm = "form"
)

// SendSpec describes one send endpoint of an upstream: which requests are sends and where
// their recipients are. It is the `sends:` option of a generic upstream, and what vendor
// packages fill in to reuse this upstream for their own APIs.
type SendSpec struct {
	// Method is the HTTP method of sends (default POST).
	Method string `json:"method,omitempty"`
	// Path is the request path after /proxy/{upstream}, exact or a path.Match pattern whose
	// '*' stands for any run of characters but '/': "/2010-04-01/Accounts/*/Messages.json".
	Path string `json:"path"`
	// Format of the body: json (default) or form (application/x-www-form-urlencoded).
	Format string `json:"format,omitempty"`
	// Recipients lists where the addressees are: for json, JSON pointers whose "*" tokens
	// select every element of an array ("/personalizations/*/to/*/email"); for form, field
	// names ("To"), each value of a repeated field being one recipient.
	Recipients []string `json:"recipients"`
	// Kind says how to read a recipient: email (default), phone, or a vendor id kind.
	Kind string `json:"kind,omitempty"`
	// Channel of these sends; empty: the upstream's configured channel.
	Channel string `json:"channel,omitempty"`
	// DroppedResponse answers a send whose every recipient was dropped (on_all_dropped:
	// success); ErrorResponse when the upstream is set to refuse such sends (error).
	DroppedResponse *Response `json:"dropped_response,omitempty"`
	ErrorResponse   *Response `json:"error_response,omitempty"`
}

// Response is an answer hush gives in an upstream's place.
type Response struct {
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Body        string `json:"body,omitempty"`
}

// Defaults for the answers to fully dropped sends. The success answer is a 200 with a small
// JSON body saying what happened; the refusal a 400. Neither names the recipients.
var (
	DefaultDroppedResponse = Response{Status: http.StatusOK, ContentType: "application/json",
		Body: `{"hush":"dropped","message":"every recipient was withheld by hush; nothing was sent"}`}
	DefaultErrorResponse = Response{Status: http.StatusBadRequest, ContentType: "application/json",
		Body: `{"error":{"code":"all_recipients_dropped","message":"every recipient was withheld by hush; nothing was sent"}}`}
)

// Upstream is a send API whose recipients are found by configuration. Safe for concurrent
// use: never modified after construction.
type Upstream struct {
	name  string
	sends []compiledSend
}

type compiledSend struct {
	method   string
	pattern  string
	format   string
	fields   []string   // form field names, or the pointers as written (for messages)
	pointers [][]string // json pointer tokens
	kind     string
	channel  gateway.Channel
	dropped  Response
	refused  Response
}

// NewUpstream builds a generic upstream from configuration: the option sends lists the send
// endpoints (SendSpec).
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	var sends []SendSpec
	set := opts.Decode("sends", &sends)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	if !set || len(sends) == 0 {
		return nil, fmt.Errorf(`upstream %q: option "sends" is required: list the send endpoints and where their recipients are`, cfg.Name)
	}
	return NewFromSends(cfg.Name, sends)
}

// NewFromSends builds an upstream from send specifications; vendor packages use it with
// their API's endpoints filled in.
func NewFromSends(name string, sends []SendSpec) (*Upstream, error) {
	u := &Upstream{name: name}
	for i, s := range sends {
		c, err := compileSend(s)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: sends item %d: %w", name, i, err)
		}
		u.sends = append(u.sends, c)
	}
	return u, nil
}

func compileSend(s SendSpec) (compiledSend, error) {
	c := compiledSend{
		method:  strings.ToUpper(strings.TrimSpace(s.Method)),
		pattern: s.Path,
		format:  strings.ToLower(strings.TrimSpace(s.Format)),
		fields:  s.Recipients,
		kind:    strings.ToLower(strings.TrimSpace(s.Kind)),
	}
	if c.method == "" {
		c.method = http.MethodPost
	}
	if strings.IndexFunc(c.method, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return c, fmt.Errorf("method %q is not an HTTP method", s.Method)
	}
	if !strings.HasPrefix(c.pattern, "/") {
		return c, fmt.Errorf("path %q must start with '/'", s.Path)
	}
	if _, err := path.Match(c.pattern, "/"); err != nil {
		return c, fmt.Errorf("path %q is not a valid pattern", s.Path)
	}
	if c.format == "" {
		c.format = FormatJSON
	}
	if len(s.Recipients) == 0 {
		return c, errors.New("recipients is required: where in the body are the addressees?")
	}
	switch c.format {
	case FormatJSON:
		for _, r := range s.Recipients {
			tokens, err := jsondoc.ParsePointer(r)
			if err != nil {
				return c, fmt.Errorf("recipients: %w", err)
			}
			c.pointers = append(c.pointers, tokens)
		}
	case FormatForm:
		for _, r := range s.Recipients {
			if r == "" {
				return c, errors.New("recipients: a form field name is empty")
			}
		}
	default:
		return c, fmt.Errorf("format %q is not json or form", s.Format)
	}
	switch c.kind {
	case "":
		c.kind = gateway.KindEmail
	case gateway.KindEmail, gateway.KindPhone:
	default:
		if _, err := gateway.VendorIdentity(c.kind, "x"); err != nil {
			return c, fmt.Errorf("kind %q is not email, phone or a vendor name", s.Kind)
		}
	}
	if s.Channel != "" {
		ch, err := gateway.ParseChannel(s.Channel, false)
		if err != nil {
			return c, fmt.Errorf("channel: %w", err)
		}
		c.channel = ch
	}
	var err error
	if c.dropped, err = response(s.DroppedResponse, DefaultDroppedResponse); err != nil {
		return c, fmt.Errorf("dropped_response: %w", err)
	}
	if c.refused, err = response(s.ErrorResponse, DefaultErrorResponse); err != nil {
		return c, fmt.Errorf("error_response: %w", err)
	}
	return c, nil
}

// response completes a configured answer: a missing status or body takes the default's,
// a missing content type is JSON when the body is JSON, else plain text.
func response(r *Response, def Response) (Response, error) {
	if r == nil {
		return def, nil
	}
	out := *r
	if out.Status == 0 {
		out.Status = def.Status
	}
	if out.Status < 100 || out.Status > 599 {
		return out, fmt.Errorf("status %d is not an HTTP status", out.Status)
	}
	if out.Body == "" && r.ContentType == "" {
		out.Body, out.ContentType = def.Body, def.ContentType
	}
	if out.ContentType == "" {
		out.ContentType = "text/plain; charset=utf-8"
		if json.Valid([]byte(out.Body)) {
			out.ContentType = "application/json"
		}
	}
	return out, nil
}

func (c *compiledSend) matches(method, p string) bool {
	if !strings.EqualFold(method, c.method) {
		return false
	}
	ok, _ := path.Match(c.pattern, p)
	return ok
}

// sendState is what ParseSend found, kept for Rewrite: the parsed body and where each
// recipient sits in it.
type sendState struct {
	send *compiledSend
	body []byte
	// json
	doc   *jsondoc.Doc
	paths []jsondoc.Path
	// form
	pairs     []formbody.Pair
	pairIndex []int // recipient i is pairs[pairIndex[i]]
}

// ParseSend finds the recipients of a send; requests on no configured send endpoint are not
// sends (nil, nil). A send whose body cannot be read, or that names no recipient where the
// configuration says they are, is an error: hush never forwards a send unchecked.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	var c *compiledSend
	for i := range u.sends {
		if u.sends[i].matches(req.Method, req.Path) {
			c = &u.sends[i]
			break
		}
	}
	if c == nil {
		return nil, nil
	}
	if len(bytes.TrimSpace(req.Body)) == 0 {
		return nil, gateway.Errorf(gateway.CodeInvalid, "send to %s %s has an empty body", req.Method, req.Path)
	}
	st := &sendState{send: c, body: req.Body}
	send := &gateway.Send{Channel: c.channel, State: st}
	var err error
	if c.format == FormatForm {
		err = parseFormSend(st, send)
	} else {
		err = parseJSONSend(st, send)
	}
	if err != nil {
		return nil, err
	}
	if len(send.Recipients) == 0 {
		return nil, gateway.Errorf(gateway.CodeInvalid, "send to %s %s names no recipient at %s",
			req.Method, req.Path, strings.Join(c.fields, ", "))
	}
	return send, nil
}

func parseJSONSend(st *sendState, send *gateway.Send) error {
	doc, err := jsondoc.Parse(st.body)
	if err != nil {
		return gateway.Errorf(gateway.CodeInvalid, "send body is not valid JSON")
	}
	st.doc = doc
	root := doc.Root()
	seen := map[*jsondoc.Node]bool{}
	for _, tokens := range st.send.pointers {
		for _, p := range jsondoc.Find(root, tokens) {
			v := p.Value(root)
			if seen[v] {
				continue // two pointers reaching one value: one recipient
			}
			seen[v] = true
			str, ok := v.Str()
			if !ok {
				return gateway.Errorf(gateway.CodeInvalid, "recipient at %s is not a string", p)
			}
			addr, err := recipientAddress(st.send.kind, str)
			if err != nil {
				return gateway.Errorf(gateway.CodeInvalid, "recipient at %s %s", p, err)
			}
			send.Recipients = append(send.Recipients, gateway.Recipient{Kind: st.send.kind, Address: addr})
			st.paths = append(st.paths, p)
		}
	}
	return nil
}

// recipientAddress reduces what a request says to the address: "Ana <ana@example.com>" is
// ana@example.com. One field holding several addresses is refused, since removing one of
// them would mean rewriting the string. Messages never quote the address.
func recipientAddress(kind, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("is empty")
	}
	if kind != gateway.KindEmail || !strings.ContainsAny(s, "<,\"(") {
		return s, nil
	}
	list, err := mail.ParseAddressList(s)
	if err != nil || len(list) == 0 {
		return "", errors.New("is not an email address")
	}
	if len(list) > 1 {
		return "", errors.New("holds several addresses; hush needs one address per field")
	}
	return list[0].Address, nil
}

func parseFormSend(st *sendState, send *gateway.Send) error {
	pairs, err := formbody.Split(st.body)
	if err != nil {
		return gateway.Errorf(gateway.CodeInvalid, "send %v", err)
	}
	st.pairs = pairs
	for _, field := range st.send.fields {
		for i, p := range pairs {
			if len(p.Raw) == 0 || p.Name != field {
				continue
			}
			addr, err := recipientAddress(st.send.kind, p.Value)
			if err != nil {
				return gateway.Errorf(gateway.CodeInvalid, "recipient in field %s %s", strconv.Quote(field), err)
			}
			send.Recipients = append(send.Recipients, gateway.Recipient{Kind: st.send.kind, Address: addr})
			st.pairIndex = append(st.pairIndex, i)
		}
	}
	return nil
}

// Rewrite removes the recipients whose keep is false from the raw body, leaving every other
// byte as it was.
//
// JSON: the element of the innermost array on the recipient's path is removed (the whole
// {"email", "name"} object for "/to/*/email"); when that leaves the array empty and the
// object holding it is itself an element selected by a "*" (a SendGrid personalization with
// no "to" left), that element goes too. Nothing that holds a kept recipient is ever removed:
// in that case only the recipient's own member or element is. A recipient with no array on
// its path loses its member ("cc": "…").
//
// Form: the recipient's name=value pair is removed.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st, ok := send.State.(*sendState)
	if !ok || st == nil {
		return nil, errors.New("rewrite: the send was not parsed by this upstream")
	}
	if len(keep) != len(send.Recipients) {
		return nil, fmt.Errorf("rewrite: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	all := true
	for _, k := range keep {
		all = all && k
	}
	if all {
		return bytes.Clone(st.body), nil
	}
	if st.send.format == FormatForm {
		return rewriteForm(st, keep), nil
	}
	out, err := rewriteJSON(st, keep)
	if err != nil || !json.Valid(out) {
		// Cannot happen for a document the parser accepted; refuse rather than forward junk.
		return nil, errors.New("rewrite: the edited body is not valid JSON")
	}
	return out, nil
}

func rewriteForm(st *sendState, keep []bool) []byte {
	drop := map[int]bool{}
	for i, k := range keep {
		if !k {
			drop[st.pairIndex[i]] = true
		}
	}
	var kept [][]byte
	for i, p := range st.pairs {
		if !drop[i] {
			kept = append(kept, p.Raw)
		}
	}
	return formbody.Join(kept)
}

func rewriteJSON(st *sendState, keep []bool) ([]byte, error) {
	edit := st.doc.Edit()
	// Every item on the way to a kept recipient: those are never removed.
	type item struct {
		container *jsondoc.Node
		index     int
	}
	kept := map[item]bool{}
	for i, p := range st.paths {
		if keep[i] {
			for _, s := range p {
				kept[item{s.Container, s.Index}] = true
			}
		}
	}
	holdsKept := func(s jsondoc.Step) bool { return kept[item{s.Container, s.Index}] }
	remove := func(s jsondoc.Step) { edit.Remove(s.Container.Item(s.Index)) }
	for i, p := range st.paths {
		if keep[i] || len(p) == 0 {
			continue
		}
		at := -1
		for j := len(p) - 1; j >= 0; j-- {
			if p[j].Container.Kind() == jsondoc.Array {
				at = j
				break
			}
		}
		if at < 0 || holdsKept(p[at]) {
			at = len(p) - 1
		}
		remove(p[at])
		// Collapse: an emptied array whose holder is an element chosen by a wildcard.
		for edit.Emptied(p[at].Container) {
			holder := -1
			switch {
			case at >= 1 && p[at-1].Container.Kind() == jsondoc.Array && p[at-1].Wildcard:
				holder = at - 1 // the array is itself such an element
			case at >= 2 && p[at-1].Container.Kind() == jsondoc.Object && p[at-2].Container.Kind() == jsondoc.Array && p[at-2].Wildcard:
				holder = at - 2 // the object holding the array is
			}
			if holder < 0 || holdsKept(p[holder]) {
				break
			}
			remove(p[holder])
			at = holder
		}
	}
	return edit.Bytes()
}

// DroppedResponse answers a send whose every recipient was dropped with the configured
// answer of its endpoint.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	r := DefaultDroppedResponse
	if asError {
		r = DefaultErrorResponse
	}
	if st, ok := send.State.(*sendState); ok && st != nil {
		r = st.send.dropped
		if asError {
			r = st.send.refused
		}
	}
	h := http.Header{}
	h.Set("Content-Type", r.ContentType)
	return r.Status, h, []byte(r.Body)
}
