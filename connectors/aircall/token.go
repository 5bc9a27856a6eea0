package aircall

import (
	"bytes"
	"encoding/json"

	"github.com/hush-gateway/hush/gateway"
)

// bodyToken reads only the top-level "token" of the body. Decoding into a one-field struct
// skips every other value without building it, and reads nothing nested as the token.
// Failures are *gateway.VerifyError: a body without a token is unauthenticated, whatever
// else it holds. The token itself never appears in an error.
func bodyToken(body []byte) (string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: "body is not a JSON object, so it carries no token"}
	}
	var env struct {
		Token json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return "", &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: "body is not valid JSON, so its token cannot be read"}
	}
	if len(env.Token) == 0 || string(env.Token) == "null" {
		return "", &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: "body token is missing"}
	}
	var token string
	if err := json.Unmarshal(env.Token, &token); err != nil {
		return "", &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader, Detail: "body token is not a string"}
	}
	if token == "" {
		return "", &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: "body token is empty"}
	}
	return token, nil
}
