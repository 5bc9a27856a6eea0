package server_test

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hush-gateway/hush/gateway"
)

// mailAPI is a minimal upstream connector for a JSON mail API: POST /v1/send with
// {"to": ["…"], …}. It stands in until the generic upstream connector lands.
type mailAPI struct{}

type mailState struct {
	doc map[string]json.RawMessage
	to  []string
}

func (mailAPI) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if req.Method != http.MethodPost || req.Path != "/v1/send" {
		return nil, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &doc); err != nil {
		return nil, errors.New("body is not a JSON object")
	}
	var to []string
	if err := json.Unmarshal(doc["to"], &to); err != nil || len(to) == 0 {
		return nil, errors.New(`"to" must be a non-empty array of strings`)
	}
	send := &gateway.Send{State: &mailState{doc: doc, to: to}}
	for _, addr := range to {
		send.Recipients = append(send.Recipients, gateway.Recipient{Kind: gateway.KindEmail, Address: addr})
	}
	return send, nil
}

func (mailAPI) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	st := send.State.(*mailState)
	var to []string
	for i, k := range keep {
		if k {
			to = append(to, st.to[i])
		}
	}
	b, err := json.Marshal(to)
	if err != nil {
		return nil, err
	}
	doc := map[string]json.RawMessage{}
	for k, v := range st.doc {
		doc[k] = v
	}
	doc["to"] = b
	return json.Marshal(doc)
}

func (mailAPI) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	h := http.Header{"Content-Type": {"application/json"}}
	if asError {
		return http.StatusBadRequest, h, []byte(`{"errors":[{"message":"recipients suppressed"}]}`)
	}
	return http.StatusAccepted, h, []byte(`{"queued":true}`)
}
