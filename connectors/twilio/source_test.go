package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Test vectors published by Twilio: the request-validation example of Twilio's security
// documentation (auth token "12345", URL https://mycompany.com/myapp.php?foo=1&bar=2), and
// the ones in twilio-go's client/request_validator_test.go (v1.31.0), which extend the same
// example.
const (
	vectorToken = "12345"
	vectorBase  = "https://mycompany.com/myapp.php"
	vectorQuery = "foo=1&bar=2"
)

var (
	// docsParams and docsSignature: Twilio's security documentation.
	docsParams    = url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"}, "To": {"+18005551212"}}
	docsSignature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	// goParams: twilio-go's test adds two parameters whose names sort tricky (Reason before
	// ReasonConferenceEnded).
	goParams = url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"}, "To": {"+18005551212"},
		"ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
)

const (
	goSignature      = "vOEb5UThFn24KEfnOFLQY2AE5FY="
	goHTTPSignature  = "n2xBNyzSW7rfYStDtOFiFMv7qNo="
	goWrongOrderSig  = "95+Bu0JVPi0r/SsESZCVf0dWAjw="
	goFormBody       = "property=value&boolean=true"
	goFormSignature  = "NBdBDr/T/lgjI+tlgpXjKZQZs/k="
	goJSONBody       = `{"property": "value", "boolean": true}`
	goBodyHash       = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	goJSONSignature  = "a9nBmqA0ju/hNViExpshrM61xv4="
	goJSONOnlySigned = "y77kIzt2vzLz71DgmJGsen2scGs="
)

func newSource(t *testing.T, token, publicURL string, insecure bool) *Source {
	t.Helper()
	opts := map[string]any{OptionPublicURL: publicURL}
	if token != "" {
		opts[OptionAuthToken] = token
	}
	src, err := NewSource(gateway.SourceConfig{Name: "twilio", Kind: Kind, Insecure: insecure, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func signedRequest(query, sig, body string) *gateway.WebhookRequest {
	h := http.Header{}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &gateway.WebhookRequest{Source: "twilio", Method: http.MethodPost,
		URL: &url.URL{Path: "/webhooks/twilio", RawQuery: query}, Header: h, Body: []byte(body), ReceivedAt: time.Now()}
}

func reasonOf(err error) gateway.VerifyReason {
	var v *gateway.VerifyError
	if errors.As(err, &v) {
		return v.Reason
	}
	return ""
}

// independentSign computes X-Twilio-Signature from the documented scheme with the standard
// library only: HMAC-SHA1 of the URL then every parameter, sorted by name, name+value.
func independentSign(token, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(fullURL))
	for _, k := range keys {
		for _, v := range params[k] {
			m.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifyPublishedVectors(t *testing.T) {
	tests := []struct {
		name, publicURL, query, body, sig string
		want                              gateway.VerifyReason
	}{
		{"Twilio docs example", vectorBase, vectorQuery, docsParams.Encode(), docsSignature, ""},
		{"twilio-go Validate", vectorBase, vectorQuery, goParams.Encode(), goSignature, ""},
		{"twilio-go: https URL with a port, signed without it", "https://mycompany.com:1234/myapp.php", vectorQuery, goParams.Encode(), goSignature, ""},
		{"twilio-go: http URL", "http://mycompany.com/myapp.php", vectorQuery, goParams.Encode(), goHTTPSignature, ""},
		{"twilio-go: http URL with a port", "http://mycompany.com:1234/myapp.php", vectorQuery, goParams.Encode(), goHTTPSignature, ""},
		{"twilio-go: parameters sorted wrongly", vectorBase, vectorQuery, goParams.Encode(), goWrongOrderSig, gateway.VerifyBadSignature},
		{"twilio-go ValidateBody, form", vectorBase, vectorQuery, goFormBody, goFormSignature, ""},
		{"twilio-go ValidateBody, JSON with bodySHA256", vectorBase, vectorQuery + "&bodySHA256=" + goBodyHash, goJSONBody, goJSONSignature, ""},
		{"twilio-go ValidateBody, JSON, only bodySHA256 in the query", vectorBase, "bodySHA256=" + goBodyHash, goJSONBody, goJSONOnlySigned, ""},
		{"JSON body changed after signing", vectorBase, vectorQuery + "&bodySHA256=" + goBodyHash, `{"property": "value", "boolean": false}`, goJSONSignature, gateway.VerifyBadSignature},
		{"JSON without bodySHA256", vectorBase, vectorQuery, goJSONBody, goSignature, gateway.VerifyBadSignature},
		{"docs example on another path", "https://mycompany.com/other.php", vectorQuery, docsParams.Encode(), docsSignature, gateway.VerifyBadSignature},
		{"docs example without the query", vectorBase, "", docsParams.Encode(), docsSignature, gateway.VerifyBadSignature},
		{"docs example, a parameter added", vectorBase, vectorQuery, docsParams.Encode() + "&Extra=1", docsSignature, gateway.VerifyBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, vectorToken, tt.publicURL, false)
			err := src.Verify(signedRequest(tt.query, tt.sig, tt.body))
			if got := reasonOf(err); got != tt.want {
				t.Fatalf("Verify = %v, want reason %q", err, tt.want)
			}
		})
	}
}

func TestIndependentSignMatchesDocs(t *testing.T) {
	// The test's own signer agrees with Twilio's published example, so the fixture tests
	// below check the connector against the documented scheme, not against itself.
	if got := independentSign(vectorToken, vectorBase+"?"+vectorQuery, docsParams); got != docsSignature {
		t.Fatalf("independentSign = %s, want %s", got, docsSignature)
	}
}

func TestVerifyFixtures(t *testing.T) {
	const token, public = "b5e8d2c4a1f3e6d9c7b0a2f4e6d8c1a3", "https://hush.example.com/webhooks/twilio"
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.form"))
	src := newSource(t, token, public, false)
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			body := string(raw)
			params, err := url.ParseQuery(body)
			if err != nil {
				t.Fatal(err)
			}
			sig := independentSign(token, public, params)
			flipped := []byte(body)
			flipped[len(flipped)/2] ^= 0x01

			tests := []struct {
				name, query, sig, body string
				want                   gateway.VerifyReason
			}{
				{"valid", "", sig, body, ""},
				{"one flipped body byte", "", sig, string(flipped), gateway.VerifyBadSignature},
				{"query not signed", "x=1", sig, body, gateway.VerifyBadSignature},
				{"signed with another token", "", independentSign("other", public, params), body, gateway.VerifyBadSignature},
				{"signature over another URL", "", independentSign(token, "https://evil.example.com/webhooks/twilio", params), body, gateway.VerifyBadSignature},
				{"missing header", "", "", body, gateway.VerifyMissingHeader},
				{"malformed header", "", "not*base64!", body, gateway.VerifyMalformedHeader},
			}
			for _, tt := range tests {
				err := src.Verify(signedRequest(tt.query, tt.sig, tt.body))
				if got := reasonOf(err); got != tt.want {
					t.Errorf("%s: Verify = %v, want reason %q", tt.name, err, tt.want)
				}
				if err != nil && (strings.Contains(err.Error(), token) || strings.Contains(err.Error(), sig)) {
					t.Errorf("%s: error %q leaks the token or the expected signature", tt.name, err)
				}
			}
		})
	}
}

func TestVerifyQueryAndRepeatedParameters(t *testing.T) {
	const token, public = "tok", "https://hush.example.com/webhooks/twilio"
	src := newSource(t, token, public, false)
	body := "MessageSid=SM01&From=%2B34600111222&Body=hola"
	params, _ := url.ParseQuery(body)

	// A query string set on the URL at Twilio is signed; hush appends the one received.
	withQuery := independentSign(token, public+"?tenant=es", params)
	if err := src.Verify(signedRequest("tenant=es", withQuery, body)); err != nil {
		t.Errorf("signed query: %v", err)
	}

	// A repeated parameter: every value signed, in the order sent.
	repeated := body + "&MediaUrl=a&MediaUrl=b"
	rp, _ := url.ParseQuery(repeated)
	if err := src.Verify(signedRequest("", independentSign(token, public, rp), repeated)); err != nil {
		t.Errorf("repeated parameter: %v", err)
	}
	if err := src.Verify(signedRequest("", independentSign(token, public, rp), body+"&MediaUrl=a&MediaUrl=c")); reasonOf(err) != gateway.VerifyBadSignature {
		t.Errorf("repeated parameter changed: %v", err)
	}
}

func TestVerifyJSONBodyHash(t *testing.T) {
	const token, public = "tok", "https://hush.example.com/webhooks/twilio"
	src := newSource(t, token, public, false)
	body := `{"flow_sid":"FW01","to":"+34600111222"}`
	sum := sha256.Sum256([]byte(body))
	query := "bodySHA256=" + hex.EncodeToString(sum[:])
	sig := independentSign(token, public+"?"+query, nil)
	if err := src.Verify(signedRequest(query, sig, body)); err != nil {
		t.Fatalf("JSON body: %v", err)
	}
	if err := src.Verify(signedRequest(query, sig, body+" ")); reasonOf(err) != gateway.VerifyBadSignature {
		t.Fatalf("JSON body changed: %v", err)
	}
}

func TestVerifyInsecure(t *testing.T) {
	body := "MessageSid=SM01&From=%2B34600111222"
	if err := newSource(t, "", "https://hush.example.com/webhooks/twilio", true).Verify(signedRequest("", "", body)); err != nil {
		t.Errorf("insecure without a token: %v", err)
	}
	withToken := newSource(t, "tok", "https://hush.example.com/webhooks/twilio", true)
	if err := withToken.Verify(signedRequest("", "", body)); reasonOf(err) != gateway.VerifyMissingHeader {
		t.Errorf("insecure with a token still verifies: %v", err)
	}
}

func TestNewSource(t *testing.T) {
	const public = "https://hush.example.com/webhooks/twilio"
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string // "" means accepted
	}{
		{"auth_token", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret", "public_url": public}}, ""},
		{"secret as an alias", gateway.SourceConfig{Secret: "tok-secret", Options: map[string]any{"public_url": public}}, ""},
		{"both, equal", gateway.SourceConfig{Secret: "tok-secret", Options: map[string]any{"auth_token": "tok-secret", "public_url": public}}, ""},
		{"both, different", gateway.SourceConfig{Secret: "tok-secret", Options: map[string]any{"auth_token": "tok-secret2", "public_url": public}}, "differ"},
		{"no token", gateway.SourceConfig{Options: map[string]any{"public_url": public}}, "has no secret"},
		{"insecure without token", gateway.SourceConfig{Insecure: true, Options: map[string]any{"public_url": public}}, ""},
		{"no public_url", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret"}}, `option "public_url" for kind "twilio" is required`},
		{"relative public_url", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret", "public_url": "/webhooks/twilio"}}, "https://"},
		{"public_url with a query", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret", "public_url": public + "?a=1"}}, "query"},
		{"public_url with credentials", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret", "public_url": "https://u:p@hush.example.com/w"}}, "credentials"},
		{"public_url without host", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret", "public_url": "https:///w"}}, "no host"},
		{"unknown option", gateway.SourceConfig{Options: map[string]any{"auth_token": "tok-secret", "public_url": public, "account_sid": "AC1"}}, `unknown option "account_sid"`},
		{"auth_token not a string", gateway.SourceConfig{Options: map[string]any{"auth_token": 12345, "public_url": public}}, "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Kind = "twilio", Kind
			_, err := NewSource(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("NewSource = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSource = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "tok-secret") || strings.Contains(err.Error(), "12345") {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(vectorQuery, docsSignature, docsParams.Encode())
	f.Add(vectorQuery+"&bodySHA256="+goBodyHash, goJSONSignature, goJSONBody)
	f.Add("", "", "a=1&a=2")
	src, err := NewSource(gateway.SourceConfig{Name: "twilio", Kind: Kind, Options: map[string]any{
		OptionAuthToken: vectorToken, OptionPublicURL: vectorBase}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, sig, body string) {
		err := src.Verify(signedRequest(query, sig, body))
		if err != nil && !gateway.IsVerifyError(err) {
			t.Fatalf("error is not a VerifyError: %v", err)
		}
	})
}
