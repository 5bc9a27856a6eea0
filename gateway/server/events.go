package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// maxEventsPerRequest bounds one POST /api/v1/events.
const maxEventsPerRequest = 1000

// handleEvents takes normalized events (DESIGN §5) from custom sources: one object or an
// array, answered like the webhook route.
func handleEvents(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, deps.Limits.Body)
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		events, err := parseEvents(body, deps.Now())
		if err != nil {
			writeError(w, r, deps.Logger, err)
			return
		}
		res, ok := ingest(w, r, deps, events, 0)
		if !ok {
			return
		}
		countIngest(deps.Metrics, "api", res)
		writeJSON(w, http.StatusOK, res)
	})
}

// parseEvents reads one event or an array of them strictly, each kept with its own raw JSON.
func parseEvents(body []byte, now time.Time) ([]gateway.Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, invalidf("request body is empty (want an event or an array of events)")
	}
	var raws []json.RawMessage
	single := trimmed[0] != '['
	if single {
		raws = []json.RawMessage{trimmed}
	} else if err := json.Unmarshal(trimmed, &raws); err != nil {
		return nil, jsonError(err, "")
	}
	if len(raws) == 0 {
		return nil, invalidf("the array of events is empty")
	}
	if len(raws) > maxEventsPerRequest {
		return nil, invalidf("too many events: %d (at most %d per request)", len(raws), maxEventsPerRequest)
	}
	events := make([]gateway.Event, len(raws))
	for i, raw := range raws {
		at := fmt.Sprintf("events[%d]", i)
		if single {
			at = ""
		}
		e := &events[i]
		if err := unmarshalStrict(raw, e, at); err != nil {
			return nil, err
		}
		if err := checkEvent(e, at); err != nil {
			return nil, err
		}
		if e.Source == "" {
			e.Source = "api"
		}
		if e.At.IsZero() {
			e.At = now
		}
		e.ReceivedAt = now
		// Fields hush sets on intake are not the caller's to choose.
		e.CustomerID, e.Seq = "", 0
		e.Raw = append(json.RawMessage(nil), raw...)
	}
	return events, nil
}

func checkEvent(e *gateway.Event, at string) error {
	field := func(name string) string {
		if at == "" {
			return name
		}
		return at + "." + name
	}
	if e.ID == "" {
		return invalidf("%s is required (it is the dedupe key)", field("id"))
	}
	if e.Type == "" {
		return invalidf("%s is required", field("type"))
	}
	if !gateway.KnownEventType(e.Type) {
		return invalidf("%s %q is not a known event type", field("type"), e.Type)
	}
	if e.Channel != "" {
		if _, err := gateway.ParseChannel(string(e.Channel), false); err != nil {
			return invalidf("%s: %v", field("channel"), err)
		}
	}
	c := e.Customer
	if c.Email == "" && c.Phone == "" && len(c.IDs) == 0 && !isCustomerless(e.Type) {
		return invalidf("%s needs an email, a phone or ids", field("customer"))
	}
	if c.Email != "" {
		if _, err := gateway.NormalizeEmail(c.Email); err != nil {
			return invalidf("%s: %v", field("customer.email"), err)
		}
	}
	return nil
}

// isCustomerless reports event types that may name no customer (an incident covers many).
func isCustomerless(typ string) bool {
	return typ == gateway.EventIncidentOpened || typ == gateway.EventIncidentResolved
}
