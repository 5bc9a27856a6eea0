package signature

import (
	"crypto/sha1"
	"net/url"
	"slices"
	"strings"
)

// twilioHMAC is Twilio's scheme: HMAC-SHA1, standard base64.
var twilioHMAC = HMAC{Hash: sha1.New, Encoding: Base64}

// twilioMessage is what Twilio signs: the full public URL the webhook was configured with
// (query included), then every POST parameter sorted by name, name and value concatenated
// with no delimiter. Repeated parameters keep the order they were sent in, as Twilio's
// Node and Go libraries do.
func twilioMessage(publicURL string, params url.Values) []byte {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(publicURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return []byte(b.String())
}

// TwilioSign computes the X-Twilio-Signature value for a form POST to publicURL.
func TwilioSign(authToken []byte, publicURL string, params url.Values) string {
	return twilioHMAC.Sign(authToken, twilioMessage(publicURL, params))
}

// VerifyTwilio checks an X-Twilio-Signature value. publicURL must be the URL exactly as
// configured at Twilio (scheme, host, port, path and query): behind a proxy hush cannot
// reconstruct it from the request, so connectors take it from configuration.
func VerifyTwilio(authToken []byte, publicURL string, params url.Values, received string) error {
	return twilioHMAC.Verify(authToken, received, twilioMessage(publicURL, params))
}
