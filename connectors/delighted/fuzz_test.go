package delighted

import (
	"encoding/json"
	"testing"
)

// FuzzForwardDropped: a silenced person's call forwarded with send=false is never a send
// (it re-reads as no send at all, so Delighted schedules no survey), and a JSON call stays
// JSON. An answering upstream (on_silenced: answer) never forwards.
func FuzzForwardDropped(f *testing.F) {
	outboundSeeds(f)
	forward := newTestUpstream(f, map[string]any{"on_silenced": OnSilencedSendFalse})
	answer := newTestUpstream(f, map[string]any{"on_silenced": OnSilencedAnswer})
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := ctForm
		if asJSON {
			ct = ctJSON
		}
		req := peopleCallRequest("/v1/people.json", ct, body)
		s, err := forward.ParseSend(req)
		if err != nil || s == nil {
			return
		}
		if _, ok, err := answer.ForwardDropped(req, s); ok || err != nil {
			t.Fatalf("on_silenced: answer forwarded the call (%v)", err)
		}
		out, ok, err := forward.ForwardDropped(req, s)
		if err != nil || !ok {
			t.Fatalf("ForwardDropped of a send it read: ok %v, %v", ok, err)
		}
		again, err := forward.ParseSend(peopleCallRequest("/v1/people.json", ct, out))
		if err != nil || again != nil {
			t.Fatalf("forwarded call %q is still a send: %+v %v", out, again, err)
		}
		if asJSON && json.Valid(body) && !json.Valid(out) {
			t.Fatalf("forwarded call is not JSON: %q", out)
		}
	})
}
