package braze

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/gateway"
)

// sendState is what ParseSend keeps for Rewrite and DroppedResponse.
type sendState struct {
	path string
	doc  *jsondoc.Doc
	// elems[i] is the list element that names recipient i: a string of external_user_ids, an
	// object of user_aliases or recipients. Removing it removes everything that goes with the
	// recipient (trigger_properties, canvas_entry_properties, context, attributes…).
	elems []*jsondoc.Node
	// lists are the audience arrays that named at least one recipient.
	lists []*jsondoc.Node
}

func invalidf(format string, args ...any) error {
	return gateway.Errorf(gateway.CodeInvalid, format, args...)
}

// ParseSend finds the users a send names. Requests that are not POSTs to a send endpoint are
// not sends (nil, nil). A send that names nobody, or that sets broadcast, would reach a
// whole segment hush cannot check: it is refused unless allow_broadcast is set, in which case
// it is forwarded unchecked (nil, nil). Errors never quote an id, an address or message text.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if req.Method != "POST" {
		return nil, nil
	}
	// Braze's routes may or may not accept a trailing slash; matching it costs nothing and
	// closes a way around the check if they do.
	p := req.Path
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	ep, ok := endpoints[p]
	if !ok {
		return nil, nil
	}
	doc, err := jsondoc.Parse(req.Body)
	if err != nil {
		return nil, invalidf("the body of a Braze %s send is not valid JSON", p)
	}
	root := doc.Root()
	if root.Kind() != jsondoc.Object {
		return nil, invalidf("the body of a Braze %s send is not a JSON object", p)
	}
	// A repeated key would be read one way by hush and perhaps another by Braze.
	for _, k := range []string{"broadcast", "segment_id", "audience", "messages", "campaign_id", "canvas_id",
		listExternalIDs, listAliases, listRecipients} {
		if len(root.Members(k)) > 1 {
			return nil, invalidf("the body repeats %q; hush cannot tell which one Braze would read", k)
		}
	}
	// A list this endpoint does not document might still be read by Braze: refusing it is
	// the only way to be sure every user the send reaches was checked.
	for _, k := range allLists {
		if root.Get(k) != nil && !slices.Contains(ep.lists, k) {
			return nil, invalidf("%s is not a field of Braze's %s (it takes %s); hush cannot tell whom the send would reach",
				k, p, strings.Join(ep.lists, " and "))
		}
	}
	broadcast := false
	if n := root.Get("broadcast"); n != nil {
		switch string(doc.Raw(n)) {
		case "true":
			broadcast = true
		case "false":
		default:
			return nil, invalidf("broadcast: want true or false")
		}
	}

	st := &sendState{path: p, doc: doc}
	send := &gateway.Send{State: st}
	for _, k := range ep.lists {
		list := root.Get(k)
		if list == nil {
			continue
		}
		if list.Kind() != jsondoc.Array {
			return nil, invalidf("%s: want an array", k)
		}
		for i := range list.Len() {
			el := list.Item(i)
			rc, err := recipientOf(k, i, el)
			if err != nil {
				return nil, err
			}
			send.Recipients = append(send.Recipients, rc)
			st.elems = append(st.elems, el)
		}
		if list.Len() > 0 {
			st.lists = append(st.lists, list)
		}
	}

	if err := u.classify(doc, ep, send); err != nil {
		return nil, err
	}

	if broadcast || len(send.Recipients) == 0 {
		if u.allowBroadcast {
			return nil, nil
		}
		return nil, invalidf("%s", broadcastReason(root, broadcast))
	}
	return send, nil
}

// broadcastReason explains why a send cannot be checked per recipient.
func broadcastReason(root *jsondoc.Node, broadcast bool) string {
	const tail = "; hush cannot check such a send per recipient, so it is refused (set allow_broadcast on the upstream to forward broadcasts unchecked)"
	switch {
	case broadcast:
		return "broadcast is true: Braze sends to the whole segment the campaign or Canvas targets" + tail
	case root.Get("segment_id") != nil || root.Get("audience") != nil:
		return "the send names no user, only a segment_id or audience: Braze sends to everyone in it" + tail
	default:
		return "the send names no user: Braze sends such a send to the whole segment the campaign or Canvas targets" + tail
	}
}

// recipientOf reads element i of the audience list k.
func recipientOf(k string, i int, el *jsondoc.Node) (gateway.Recipient, error) {
	where := fmt.Sprintf("%s[%d]", k, i)
	switch k {
	case listExternalIDs:
		return externalID(where, el)
	case listAliases:
		return alias(where, el)
	}
	if el.Kind() != jsondoc.Object {
		return gateway.Recipient{}, invalidf("%s: want a recipient object", where)
	}
	var named []string
	for _, key := range []string{"external_user_id", "user_alias", "braze_id", "email"} {
		switch len(el.Members(key)) {
		case 0:
		case 1:
			named = append(named, key)
		default:
			return gateway.Recipient{}, invalidf("%s repeats %q", where, key)
		}
	}
	if len(named) != 1 {
		what := "none"
		if len(named) > 1 {
			what = strings.Join(named, " and ")
		}
		return gateway.Recipient{}, invalidf("%s names %s of external_user_id, user_alias, braze_id and email; Braze takes exactly one", where, what)
	}
	key := named[0]
	v := el.Get(key)
	where += "." + key
	switch key {
	case "external_user_id":
		return externalID(where, v)
	case "user_alias":
		return alias(where, v)
	case "braze_id":
		s, ok := v.Str()
		if !ok {
			return gateway.Recipient{}, invalidf("%s: want a string", where)
		}
		return vendorRecipient(where, "braze_id:"+strings.TrimSpace(s), strings.TrimSpace(s) == "")
	default: // email
		s, ok := v.Str()
		if !ok {
			return gateway.Recipient{}, invalidf("%s: want a string", where)
		}
		a, err := mail.ParseAddress(s)
		if err != nil {
			return gateway.Recipient{}, invalidf("%s is not an email address", where)
		}
		return gateway.Recipient{Kind: gateway.KindEmail, Address: a.Address}, nil
	}
}

func externalID(where string, v *jsondoc.Node) (gateway.Recipient, error) {
	s, ok := v.Str()
	if !ok {
		return gateway.Recipient{}, invalidf("%s: want a string (an external user id)", where)
	}
	return vendorRecipient(where, strings.TrimSpace(s), strings.TrimSpace(s) == "")
}

// alias reads a user alias object {"alias_name": …, "alias_label": …}. Its identity is
// braze:alias:<label>:<name>, the label's ':' and '%' percent-escaped so that two different
// aliases never share an identity.
func alias(where string, v *jsondoc.Node) (gateway.Recipient, error) {
	if v.Kind() != jsondoc.Object {
		return gateway.Recipient{}, invalidf("%s: want a user alias object with alias_name and alias_label", where)
	}
	var parts [2]string
	for i, key := range []string{"alias_label", "alias_name"} {
		ms := v.Members(key)
		if len(ms) != 1 {
			return gateway.Recipient{}, invalidf("%s: want exactly one %s", where, key)
		}
		s, ok := ms[0].Str()
		if !ok || s == "" {
			return gateway.Recipient{}, invalidf("%s.%s: want a non-empty string", where, key)
		}
		parts[i] = s
	}
	label := labelEscaper.Replace(parts[0])
	return vendorRecipient(where, "alias:"+label+":"+parts[1], false)
}

// labelEscaper writes an alias label so that the ':' after it is unambiguous.
var labelEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// vendorRecipient checks that the proxy will be able to make an identity of the address, so
// that a bad one is reported with the field it came from.
func vendorRecipient(where, address string, empty bool) (gateway.Recipient, error) {
	if empty {
		return gateway.Recipient{}, invalidf("%s is empty", where)
	}
	if _, err := gateway.VendorIdentity(Kind, address); err != nil {
		// VendorIdentity's messages name the problem, never the id.
		return gateway.Recipient{}, invalidf("%s: %v", where, err)
	}
	return gateway.Recipient{Kind: Kind, Address: address}, nil
}

// classify sets the send's channel and category from its own fields and the options.
func (u *Upstream) classify(doc *jsondoc.Doc, ep endpoint, send *gateway.Send) error {
	root := doc.Root()
	id := ""
	if n := root.Get(ep.idKey); n != nil {
		s, ok := n.Str()
		if !ok {
			return invalidf("%s: want a string", ep.idKey)
		}
		id = s
	}
	categories, channels := u.campaigns, u.campaignChannels
	if ep.idKey == "canvas_id" {
		categories, channels = u.canvases, u.canvasChannels
	}
	if id != "" {
		send.Category = categories[id]
		send.Channel = channels[id]
	}
	if !ep.messages {
		return nil
	}
	msgs := root.Get("messages")
	if msgs == nil {
		return nil
	}
	if msgs.Kind() != jsondoc.Object {
		return invalidf("messages: want an object")
	}
	var found []gateway.Channel
	for i := range msgs.Len() {
		if c, ok := messageChannels[msgs.Key(i)]; ok && !slices.Contains(found, c) {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 1:
		send.Channel = found[0]
	case len(found) > 1 && u.multiChannel != "":
		send.Channel = u.multiChannel
	case len(found) > 1:
		names := make([]string, len(found))
		for i, c := range found {
			names[i] = string(c)
		}
		return invalidf("messages uses several channels (%s) and hush decides one channel per send; send them separately or set multi_channel on the upstream",
			strings.Join(names, ", "))
	}
	return nil
}
