package braze

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/gateway"
)

// errWouldBroadcast guards the one rewrite that must never reach Braze: one that leaves no
// audience list, which Braze would read as "send to the whole segment".
var errWouldBroadcast = errors.New("braze: the rewrite would leave the send without any recipient list, which Braze sends to the whole segment; refused")

// Rewrite removes the dropped users' elements from their lists: an id from
// external_user_ids, an alias object from user_aliases, a whole recipient object (with its
// trigger_properties, canvas_entry_properties, context, attributes and send_to_existing_only)
// from recipients. Every other byte is kept.
//
// A list emptied by the rewrite is removed with its key, never left as []: the send still
// names its kept users in another list, and an absent key is exactly what a caller naming
// only those users would have sent, while an empty list is a form whose meaning Braze does
// not document (at best ignored; at worst read as "no list", which widens a send to its
// segment). If no list would be left — impossible when a user is kept, and asserted —
// the rewrite is refused rather than forwarded.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st, ok := send.State.(*sendState)
	if !ok || !bytes.Equal(st.doc.Bytes(), req.Body) {
		again, err := u.ParseSend(req)
		if err != nil {
			return nil, fmt.Errorf("braze: re-read the send: %w", err)
		}
		if again == nil {
			return nil, fmt.Errorf("braze: %s is not a send it can rewrite", req.Path)
		}
		st = again.State.(*sendState)
	}
	if len(keep) != len(st.elems) {
		return nil, fmt.Errorf("braze: %d keep flags for %d recipients", len(keep), len(st.elems))
	}
	edit := st.doc.Edit()
	for i, el := range st.elems {
		if !keep[i] {
			edit.Remove(el)
		}
	}
	left := 0
	for _, list := range st.lists {
		if edit.Emptied(list) {
			edit.Remove(list) // the member, key and all
			continue
		}
		left++
	}
	if left == 0 {
		return nil, errWouldBroadcast
	}
	out, err := edit.Bytes()
	if err != nil {
		return nil, fmt.Errorf("braze: write the rewritten send: %w", err)
	}
	return out, nil
}

// DroppedResponse answers a send every user of which hush withheld. Success is Braze's
// documented answer to a send: 201 with {"dispatch_id": …, "message": "success"} (the
// Canvas trigger page documents the 201 status; the schedule pages add "schedule_id"; see
// braze-inc/braze-docs, _docs/_api/endpoints/messaging/). The refusal is Braze's fatal-error
// shape {"message": <fatal error>, "errors": [<minor errors>]} with its "400 No Recipients"
// (_docs/_api/errors.md), the errors entry saying that hush withheld them.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{"Content-Type": []string{"application/json; charset=utf-8"}}
	if asError {
		return http.StatusBadRequest, h, []byte(`{"message":"No Recipients","errors":["every recipient of this send was withheld by hush; nothing was sent"]}`)
	}
	scheduled := false
	if st, ok := send.State.(*sendState); ok {
		scheduled = endpoints[st.path].scheduled
	}
	var b bytes.Buffer
	b.WriteString(`{"dispatch_id":`)
	b.Write(jsondoc.Quote(newID()))
	if scheduled {
		b.WriteString(`,"schedule_id":`)
		b.Write(jsondoc.Quote(newID()))
	}
	b.WriteString(`,"message":"success"}`)
	return http.StatusCreated, h, b.Bytes()
}

// newID makes an id shaped like Braze's dispatch and schedule ids: 32 hex digits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}
