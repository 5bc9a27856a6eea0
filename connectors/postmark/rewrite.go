package postmark

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hush-gateway/hush/connectors/jsondoc"
	"github.com/hush-gateway/hush/gateway"
)

// state is the parsed send ParseSend kept, or the request read again when the proxy hands
// back a Send this connector did not make.
func (u *Upstream) state(req *gateway.OutboundRequest, send *gateway.Send) (*parsedSend, error) {
	if p, ok := send.State.(*parsedSend); ok {
		return p, nil
	}
	fresh, err := u.ParseSend(req)
	if err != nil {
		return nil, err
	}
	if fresh == nil {
		return nil, errors.New("postmark: the request is not a send")
	}
	return fresh.State.(*parsedSend), nil
}

// dropped reports whether message m is left out of the send altogether: Postmark refuses a
// message without To, so a message whose every To address is dropped goes with them, Cc
// and Bcc included; a message without To goes when every recipient it has is dropped. A
// message naming nobody is never dropped (Postmark answers it as it would have).
func (m *message) dropped(keep []bool) bool {
	if m.count == 0 {
		return false
	}
	n := len(m.fields[0].items) // To
	if n == 0 {
		n = m.count
	}
	for i := m.first; i < m.first+n; i++ {
		if keep[i] {
			return false
		}
	}
	return true
}

// Rewrite removes the dropped addresses from each message's To, Cc and Bcc, keeping the
// others as the caller wrote them; a Cc or Bcc left empty is removed, and a message left
// without To is removed from its batch (EditResponse puts an answer back in its place). Its
// Cc and Bcc go with it — Postmark requires To, and promoting a Cc to To (or exposing a
// Bcc) would change what the message says — so their keep flags are set to false. When no
// message is left, Rewrite returns gateway.ErrNothingToSend: the proxy answers the send as
// fully dropped.
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	p, err := u.state(req, send)
	if err != nil {
		return nil, err
	}
	if len(keep) != len(send.Recipients) {
		return nil, fmt.Errorf("postmark rewrite: %d keep flags for %d recipients", len(keep), len(send.Recipients))
	}
	e := p.doc.Edit()
	forwarded := 0
	for mi := range p.messages {
		m := &p.messages[mi]
		if m.dropped(keep) {
			for i := m.first; i < m.first+m.count; i++ {
				keep[i] = false
			}
			e.Remove(m.node)
			continue
		}
		forwarded++
		at := m.first
		for _, f := range m.fields {
			var kept []listItem
			for _, it := range f.items {
				if keep[at] {
					kept = append(kept, it)
				}
				at++
			}
			switch {
			case len(kept) == len(f.items):
			case len(kept) == 0:
				e.Remove(f.node)
			default:
				if err := checkJoin(kept); err != nil {
					return nil, err
				}
				e.Replace(f.node, jsondoc.Quote(joinItems(kept)))
			}
		}
	}
	if forwarded == 0 {
		return nil, gateway.ErrNothingToSend
	}
	out, err := e.Bytes()
	if err != nil {
		return nil, fmt.Errorf("postmark rewrite: %w", err)
	}
	return out, nil
}

// checkJoin makes sure the list written back names exactly the kept addresses: a rewrite
// may only ever remove recipients.
func checkJoin(kept []listItem) error {
	again, err := parseAddressList(joinItems(kept))
	if err == nil && len(again) == len(kept) {
		for i := range again {
			if again[i].addr != kept[i].addr {
				err = errUnsplitable
			}
		}
	} else if err == nil {
		err = errUnsplitable
	}
	if err != nil {
		return fmt.Errorf("postmark rewrite: the kept addresses do not read back as written: %w", err)
	}
	return nil
}

// Answers hush gives in Postmark's place. Shapes from
// https://postmarkapp.com/developer/user-guide/send-email-with-api (single send answer),
// https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails (batch
// answer: one entry per message, in request order, HTTP 200 even when messages fail) and
// https://postmarkapp.com/developer/api/overview#error-codes (422 with ErrorCode; 406 is
// "Inactive recipient", 300 "Invalid email request").
const (
	inactiveCode  = 406
	invalidCode   = 300
	noRecipients  = "Zero recipients specified"
	inactiveStart = "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: "
	inactiveEnd   = ". Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression."
	// submittedLayout is how Postmark writes SubmittedAt: "2010-11-26T12:01:05.1794748-05:00".
	submittedLayout = "2006-01-02T15:04:05.0000000-07:00"
)

// DroppedResponse answers a send whose every recipient was dropped. Success: a single send
// gets Postmark's 200 {To, SubmittedAt, MessageID, ErrorCode 0, Message "OK"}; a batch one
// such entry per message. Refusal (asError): a single send gets Postmark's 422 with
// ErrorCode 406 (inactive recipient), naming the addresses as Postmark does; a batch gets
// 200 with a 406 entry per message, which is how Postmark reports failed batch messages.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	p, err := u.state(req, send)
	if err != nil {
		// Never happens for a send the proxy got from ParseSend; answer in Postmark's shape.
		return http.StatusUnprocessableEntity, header, errorBody(invalidCode, noRecipients)
	}
	if !p.ep.batch {
		m := &p.messages[0]
		if asError {
			return http.StatusUnprocessableEntity, header, errorBody(inactiveCode, inactiveMessage(m))
		}
		return http.StatusOK, header, u.singleOK(m.to)
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range p.messages {
		if i > 0 {
			b.WriteByte(',')
		}
		m := &p.messages[i]
		switch {
		case m.count == 0:
			b.Write(errorBody(invalidCode, noRecipients))
		case asError:
			b.Write(errorBody(inactiveCode, inactiveMessage(m)))
		default:
			b.Write(u.batchOK(m.to))
		}
	}
	b.WriteByte(']')
	return http.StatusOK, header, b.Bytes()
}

// EditResponse puts an answer back, at its original index, for every message Rewrite
// removed from a batch, so that the caller's n-th answer is still about its n-th message.
// Messages that only lost some addresses keep Postmark's own answer.
func (u *Upstream) EditResponse(req *gateway.OutboundRequest, send *gateway.Send, keep []bool, status int, header http.Header, body []byte) ([]byte, error) {
	p, err := u.state(req, send)
	if err != nil {
		return nil, err
	}
	if !p.ep.batch || len(keep) != len(send.Recipients) {
		return body, nil
	}
	removed := make([]bool, len(p.messages))
	forwarded := 0
	for i := range p.messages {
		removed[i] = p.messages[i].dropped(keep)
		if !removed[i] {
			forwarded++
		}
	}
	if forwarded == len(p.messages) {
		return body, nil
	}
	doc, err := jsondoc.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("postmark batch answer: %w", err)
	}
	answers := doc.Root()
	if answers.Kind() != jsondoc.Array || answers.Len() != forwarded {
		return nil, fmt.Errorf("postmark batch answer: want an array of %d entries for the messages sent", forwarded)
	}
	var b bytes.Buffer
	b.WriteByte('[')
	next := 0
	for i := range p.messages {
		if i > 0 {
			b.WriteByte(',')
		}
		if removed[i] {
			b.Write(u.batchOK(p.messages[i].to))
			continue
		}
		b.Write(doc.Raw(answers.Item(next)))
		next++
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// singleOK is Postmark's answer to an accepted single send, members in its order.
func (u *Upstream) singleOK(to string) []byte {
	return fmt.Appendf(nil, `{"To":%s,"SubmittedAt":%s,"MessageID":%s,"ErrorCode":0,"Message":"OK"}`,
		jsondoc.Quote(to), jsondoc.Quote(u.now().Format(submittedLayout)), jsondoc.Quote(messageID()))
}

// batchOK is one entry of Postmark's answer to a batch, members in its order.
func (u *Upstream) batchOK(to string) []byte {
	return fmt.Appendf(nil, `{"ErrorCode":0,"Message":"OK","MessageID":%s,"SubmittedAt":%s,"To":%s}`,
		jsondoc.Quote(messageID()), jsondoc.Quote(u.now().Format(submittedLayout)), jsondoc.Quote(to))
}

func errorBody(code int, msg string) []byte {
	return fmt.Appendf(nil, `{"ErrorCode":%d,"Message":%s}`, code, jsondoc.Quote(msg))
}

// inactiveMessage is Postmark's 406 message naming the message's addresses (clients such
// as the postmark gem read them back from it). It goes to the caller who sent them, never
// to logs.
func inactiveMessage(m *message) string {
	var addrs []string
	for _, f := range m.fields {
		for _, it := range f.items {
			addrs = append(addrs, it.addr)
		}
	}
	return inactiveStart + strings.Join(addrs, ", ") + inactiveEnd
}

// messageID makes up a Postmark-shaped message id: a random (version 4) UUID.
func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
