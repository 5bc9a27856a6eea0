// Package mailgun is the upstream connector for Mailgun's sending API: it finds the
// recipients of POST /v3/{domain}/messages and /v3/{domain}/messages.mime, and removes the
// ones hush drops from the raw form or multipart body, every other byte (attachments
// included) reaching Mailgun as the caller sent it.
package mailgun

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/connectors/formbody"
	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind names this connector in configuration (`kind: mailgun`).
const Kind = "mailgun"

// Form fields of Mailgun's sending API (https://documentation.mailgun.com/en/latest/api-sending.html).
const (
	fieldTo        = "to"
	fieldCC        = "cc"
	fieldBCC       = "bcc"
	fieldTag       = "o:tag"
	fieldRecipVars = "recipient-variables"
)

// Upstream is Mailgun's sending API. Safe for concurrent use: never modified after
// construction.
type Upstream struct {
	name string
	tags map[string]gateway.Category // o:tag value → category
}

// NewUpstream builds a Mailgun upstream. Its one option, tags, maps o:tag values to hush
// categories ({receipt: transactional, newsletter: marketing}).
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	u := &Upstream{name: cfg.Name, tags: opts.Categories("tags")}
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	return u, nil
}

// field is one form field of a send: a name=value pair of a form body or a part of a
// multipart one (unit is its index among the pairs or parts).
type field struct {
	name  string
	value string
	unit  int
}

// sendState is what ParseSend found, kept for Rewrite and DroppedResponse.
type sendState struct {
	domain string
	mime   bool // a messages.mime send: the message itself is never edited
	// Exactly one of form and multi is set.
	form  []formbody.Pair
	multi *rawMultipart
	// Recipient fields (to, cc, bcc) with their pieces, in body order; recipient i is
	// lists[at[i].list].pieces[at[i].piece].
	lists []addressList
	at    []struct{ list, piece int }
	// recipient-variables fields, parsed.
	vars []varsField
}

type addressList struct {
	field  field
	pieces []addressPiece
}

type varsField struct {
	field field
	doc   *jsondoc.Doc
}

// sendPath reads /v3/{domain}/messages and /v3/{domain}/messages.mime; ok false for every
// other path. Mailgun's API has no trailing-slash form of these, so none is accepted.
func sendPath(p string) (domain string, isMime, ok bool) {
	rest, found := strings.CutPrefix(p, "/v3/")
	if !found {
		return "", false, false
	}
	domain, endpoint, found := strings.Cut(rest, "/")
	if !found || domain == "" {
		return "", false, false
	}
	switch endpoint {
	case "messages":
		return domain, false, true
	case "messages.mime":
		return domain, true, true
	}
	return "", false, false
}

// ParseSend finds the recipients of a Mailgun send: every address of every to, cc and bcc
// field (only to on messages.mime, where it is the envelope). Other requests are not sends.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if !strings.EqualFold(req.Method, http.MethodPost) {
		return nil, nil
	}
	domain, isMime, ok := sendPath(req.Path)
	if !ok {
		return nil, nil
	}
	st := &sendState{domain: domain, mime: isMime}
	fields, err := st.readBody(req)
	if err != nil {
		return nil, err
	}
	send := &gateway.Send{Channel: gateway.ChannelEmail, State: st}
	var tags []string
	for _, f := range fields {
		switch {
		case f.name == fieldTo || !isMime && (f.name == fieldCC || f.name == fieldBCC):
			pieces, err := splitAddressList(f.value)
			if err != nil {
				return nil, gateway.Errorf(gateway.CodeInvalid, "field %s %v", f.name, err)
			}
			for j, p := range pieces {
				send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: p.address})
				st.at = append(st.at, struct{ list, piece int }{len(st.lists), j})
			}
			st.lists = append(st.lists, addressList{field: f, pieces: pieces})
		case f.name == fieldRecipVars && !isMime:
			doc, err := jsondoc.Parse([]byte(f.value))
			if err != nil || doc.Root().Kind() != jsondoc.Object {
				return nil, gateway.Errorf(gateway.CodeInvalid, "field %s is not a JSON object", fieldRecipVars)
			}
			st.vars = append(st.vars, varsField{field: f, doc: doc})
		case f.name == fieldTag:
			tags = append(tags, f.value)
		}
	}
	if len(send.Recipients) == 0 {
		where := "to, cc or bcc"
		if isMime {
			where = "to"
		}
		return nil, gateway.Errorf(gateway.CodeInvalid, "send to %s names no recipient in %s", req.Path, where)
	}
	send.Category = u.category(tags)
	return send, nil
}

// readBody splits the body by its Content-Type and returns its named fields in order.
func (st *sendState) readBody(req *gateway.OutboundRequest) ([]field, error) {
	ct := req.Header.Get("Content-Type")
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, gateway.Errorf(gateway.CodeInvalid, "send has no readable Content-Type; Mailgun sends are application/x-www-form-urlencoded or multipart/form-data")
	}
	var fields []field
	switch mediaType {
	case "application/x-www-form-urlencoded":
		pairs, err := formbody.Split(req.Body)
		if err != nil {
			return nil, gateway.Errorf(gateway.CodeInvalid, "send %v", err)
		}
		st.form = pairs
		for i, p := range pairs {
			if len(p.Raw) > 0 {
				fields = append(fields, field{name: p.Name, value: p.Value, unit: i})
			}
		}
	case "multipart/form-data":
		m, err := splitMultipart(req.Body, params["boundary"])
		if err != nil {
			return nil, gateway.Errorf(gateway.CodeInvalid, "%v", err)
		}
		st.multi = m
		for i, p := range m.parts {
			if p.name == "" {
				continue
			}
			if edited(p.name, st.mime) && p.cte != "" && p.cte != "7bit" && p.cte != "8bit" && p.cte != "binary" {
				return nil, gateway.Errorf(gateway.CodeInvalid, "field %s uses Content-Transfer-Encoding %s; hush reads only unencoded fields", p.name, strconv.Quote(p.cte))
			}
			f := field{name: p.name, unit: i}
			if edited(p.name, st.mime) || p.name == fieldTag {
				// Only the fields hush reads are copied: not attachments.
				f.value = string(p.content())
			}
			fields = append(fields, f)
		}
	default:
		return nil, gateway.Errorf(gateway.CodeInvalid, "send body is %s; Mailgun sends are application/x-www-form-urlencoded or multipart/form-data", strconv.Quote(mediaType))
	}
	return fields, nil
}

// edited reports whether a field is one hush reads and may rewrite.
func edited(name string, isMime bool) bool {
	if isMime {
		return name == fieldTo
	}
	return name == fieldTo || name == fieldCC || name == fieldBCC || name == fieldRecipVars
}

// category maps the send's o:tag values through the tags option. When several tags map,
// the most restrictive category wins (gateway.StricterCategory): a send tagged both
// "receipt" and "newsletter" is treated as marketing, so a mapping can never open a silence
// by accident. No mapped tag: empty (the upstream's configured category).
func (u *Upstream) category(tags []string) gateway.Category {
	var cat gateway.Category
	for _, t := range tags {
		c, ok := u.tags[t]
		if !ok {
			continue
		}
		cat = gateway.StricterCategory(cat, c)
	}
	return cat
}

// Rewrite leaves out the dropped addresses: an address list keeps its other entries as
// written (joined with ", "), a field left empty is removed, and each recipient-variables
// object loses the members of dropped addresses (unless the same address is also kept).
// An emptied recipient-variables stays as {}: without it Mailgun would stop sending each
// recipient their own copy and show every address to all. Every other field, pair or part
// is kept byte for byte.
//
// A messages.mime send is never edited: its recipients are also in the signed message
// headers, and rewriting the message would break its DKIM signature. A drop is refused
// with a *gateway.Error (code invalid: the proxy answers 400) telling the caller to send it
// again without the withheld recipients.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st, ok := send.State.(*sendState)
	if !ok || st == nil {
		return nil, fmt.Errorf("rewrite: the send was not parsed by this upstream")
	}
	if len(keep) != len(st.at) {
		return nil, fmt.Errorf("rewrite: %d keep flags for %d recipients", len(keep), len(st.at))
	}
	dropped := map[string]bool{}
	kept := map[string]bool{}
	for i, k := range keep {
		a := strings.ToLower(st.lists[st.at[i].list].pieces[st.at[i].piece].address)
		if k {
			kept[a] = true
		} else {
			dropped[a] = true
		}
	}
	if len(dropped) == 0 {
		return bytes.Clone(req.Body), nil
	}
	if st.mime {
		return nil, gateway.Errorf(gateway.CodeInvalid, "this messages.mime send names %d recipient(s) hush withholds (silenced or opted out); "+
			"hush does not edit a prebuilt MIME message (that would break its DKIM signature), so nothing was sent: send it again without them", len(dropped))
	}

	// Mailgun requires to: when every to address is dropped, the cc and bcc copies are not
	// sent alone (a copy of a message its addressee does not get), and nothing is left.
	toKept := false
	for i, a := range st.at {
		toKept = toKept || keep[i] && st.lists[a.list].field.name == fieldTo
	}
	if !toKept {
		for i := range keep {
			keep[i] = false
		}
		return nil, gateway.ErrNothingToSend
	}

	keepOf := make([][]bool, len(st.lists))
	for i, a := range st.at {
		if keepOf[a.list] == nil {
			keepOf[a.list] = make([]bool, len(st.lists[a.list].pieces))
		}
		keepOf[a.list][a.piece] = keep[i]
	}
	replace := map[int]string{} // unit → new value
	remove := map[int]bool{}
	for li, l := range st.lists {
		var texts []string
		changed := false
		for j, p := range l.pieces {
			if keepOf[li][j] {
				texts = append(texts, p.text)
			} else {
				changed = true
			}
		}
		switch {
		case !changed:
		case len(texts) == 0:
			remove[l.field.unit] = true
		default:
			replace[l.field.unit] = strings.Join(texts, ", ")
		}
	}
	for _, v := range st.vars {
		root := v.doc.Root()
		edit := v.doc.Edit()
		n := 0
		for i := range root.Len() {
			if k := bareKey(root.Key(i)); dropped[k] && !kept[k] {
				edit.Remove(root.Item(i))
				n++
			}
		}
		if n == 0 {
			continue
		}
		out, err := edit.Bytes()
		if err != nil {
			return nil, fmt.Errorf("rewrite %s: %w", fieldRecipVars, err)
		}
		replace[v.field.unit] = string(out)
	}
	if st.multi != nil {
		values := make(map[int][]byte, len(replace))
		for unit, v := range replace {
			values[unit] = []byte(v)
		}
		out, err := st.multi.join(values, remove)
		if err != nil {
			return nil, fmt.Errorf("rewrite: %w", err)
		}
		return out, nil
	}
	segs := make([][]byte, 0, len(st.form))
	for i, p := range st.form {
		switch v, ok := replace[i]; {
		case remove[i]:
		case ok:
			segs = append(segs, encodeFormPair(p.Raw, v))
		default:
			segs = append(segs, p.Raw)
		}
	}
	return formbody.Join(segs), nil
}

// Mailgun's answers (https://documentation.mailgun.com/en/latest/api-sending.html, "Sample
// response"; https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses: a
// 400 carries a JSON object whose "message" says what is wrong).
const (
	queuedMessage  = "Queued. Thank you."
	refusedMessage = "hush withheld every recipient of this message (silenced or opted out); nothing was sent"
)

// DroppedResponse answers a send whose every recipient was dropped the way Mailgun answers
// a queued message, 200 {"id": "<20240101120000.5f3a…@domain>", "message": "Queued. Thank
// you."} with a made-up message id in Mailgun's shape; or, as an error, Mailgun's 400
// {"message": "…"}.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if asError {
		return http.StatusBadRequest, h, slices.Concat([]byte(`{"message":`), jsondoc.Quote(refusedMessage), []byte("}"))
	}
	domain := "mailgun.org"
	if st, ok := send.State.(*sendState); ok && st != nil {
		domain = st.domain
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	id := fmt.Sprintf("<%s.%s@%s>", time.Now().UTC().Format("20060102150405"), hex.EncodeToString(rnd[:]), domain)
	// jsondoc.Quote, not encoding/json: Mailgun writes the id's angle brackets as they are.
	body := slices.Concat([]byte(`{"id":`), jsondoc.Quote(id), []byte(`,"message":`), jsondoc.Quote(queuedMessage), []byte("}"))
	return http.StatusOK, h, body
}
