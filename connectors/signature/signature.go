// Package signature holds the webhook-signature primitives every connector builds on: HMAC
// over the body or over a timestamp and the body, signature lists for rotated secrets,
// Twilio's URL-plus-parameters scheme and static tokens.
//
// Every comparison is constant-time, and every failure is a *gateway.VerifyError whose text
// never contains a secret nor the expected signature.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Encoding is how a vendor writes the signature bytes into a header.
type Encoding int

const (
	Hex       Encoding = iota // lower- or upper-case hex
	Base64                    // standard alphabet, padded (also accepted unpadded)
	Base64URL                 // URL-safe alphabet, padded or not
)

func (e Encoding) String() string {
	switch e {
	case Hex:
		return "hex"
	case Base64:
		return "base64"
	case Base64URL:
		return "base64url"
	default:
		return "encoding(" + strconv.Itoa(int(e)) + ")"
	}
}

// Encode writes sig in the encoding.
func (e Encoding) Encode(sig []byte) string {
	switch e {
	case Base64:
		return base64.StdEncoding.EncodeToString(sig)
	case Base64URL:
		return base64.URLEncoding.EncodeToString(sig)
	default:
		return hex.EncodeToString(sig)
	}
}

// Decode reads a signature written in the encoding. Padding is optional for the base64
// encodings because vendors differ on it.
func (e Encoding) Decode(s string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	switch e {
	case Hex:
		b, err = hex.DecodeString(s)
	case Base64:
		b, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s)
		}
	case Base64URL:
		b, err = base64.URLEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(s)
		}
	default:
		return nil, fmt.Errorf("unknown signature encoding %d", int(e))
	}
	if err != nil {
		return nil, fmt.Errorf("signature is not %s", e)
	}
	return b, nil
}

// HMAC describes one vendor's HMAC signature: the hash, how the result is written and an
// optional prefix in front of it ("sha256=" as GitHub writes it).
type HMAC struct {
	Hash     func() hash.Hash
	Encoding Encoding
	// Prefix, when set, may precede the encoded signature; it is matched case-insensitively
	// and is optional on input (some senders omit it), always written by Sign.
	Prefix string
}

// Sign computes the signature of the concatenated message parts, encoded and prefixed as the
// vendor writes it. Tests and the documentation's examples use it; verification never
// compares strings.
func (h HMAC) Sign(secret []byte, message ...[]byte) string {
	return h.Prefix + h.Encoding.Encode(h.sum(secret, message))
}

func (h HMAC) sum(secret []byte, message [][]byte) []byte {
	newHash := h.Hash
	if newHash == nil {
		newHash = sha256.New
	}
	mac := hmac.New(newHash, secret)
	for _, p := range message {
		mac.Write(p)
	}
	return mac.Sum(nil)
}

// Verify checks one received signature (as written in the header, prefix optional) against
// the HMAC of the concatenated message parts under secret.
func (h HMAC) Verify(secret []byte, received string, message ...[]byte) error {
	return h.VerifyAny([][]byte{secret}, []string{received}, message...)
}

// VerifyAny accepts the message when any received signature matches the HMAC under any of
// the secrets: several signatures in a header (the sender rotating its secret) and several
// configured secrets (the receiver rotating its own). Signatures that do not decode are
// skipped; if none decodes the header is malformed.
func (h HMAC) VerifyAny(secrets [][]byte, received []string, message ...[]byte) error {
	if !hasSecret(secrets) {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingSecret, Detail: "no secret is configured"}
	}
	decoded := make([][]byte, 0, len(received))
	sent := 0
	for _, r := range received {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		sent++
		if h.Prefix != "" && len(r) >= len(h.Prefix) && strings.EqualFold(r[:len(h.Prefix)], h.Prefix) {
			r = r[len(h.Prefix):]
		}
		if r == "" {
			continue // a prefix alone: sent, but not a signature
		}
		b, err := h.Encoding.Decode(r)
		if err != nil {
			continue
		}
		decoded = append(decoded, b)
	}
	if len(decoded) == 0 {
		if sent == 0 {
			return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: "no signature was sent"}
		}
		return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: fmt.Sprintf("signature is not %s", h.Encoding)}
	}
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		want := h.sum(s, message)
		for _, got := range decoded {
			// hmac.Equal is constant-time for equal lengths; a length mismatch says only
			// that the sender used another hash, which is no secret.
			if hmac.Equal(want, got) {
				return nil
			}
		}
	}
	return &gateway.VerifyError{Reason: gateway.VerifyBadSignature}
}

func hasSecret(secrets [][]byte) bool {
	for _, s := range secrets {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// ParseUnixSeconds reads a timestamp header written as whole seconds since the Unix epoch.
// header names it in the error.
func ParseUnixSeconds(header, value string) (time.Time, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return time.Time{}, &gateway.VerifyError{Reason: gateway.VerifyMissingHeader,
			Detail: header + " header is missing"}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	// Bound it so that time arithmetic cannot overflow: year 1970 to 9999 is plenty.
	if err != nil || n < 0 || n > 253402300799 {
		return time.Time{}, &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
			Detail: header + " header is not a Unix time in seconds"}
	}
	return time.Unix(n, 0), nil
}

// CheckTimestamp rejects a signed timestamp further than tolerance from now, in either
// direction: an old one is a replay, a future one a clock problem or a forgery prepared for
// later. The detail says how far off it was (seconds precision), never more.
func CheckTimestamp(ts, now time.Time, tolerance time.Duration) error {
	d := now.Sub(ts)
	switch {
	case d > tolerance:
		return &gateway.VerifyError{Reason: gateway.VerifyStaleTimestamp,
			Detail: fmt.Sprintf("timestamp is %s old (tolerance %s)", d.Truncate(time.Second), tolerance)}
	case -d > tolerance:
		return &gateway.VerifyError{Reason: gateway.VerifyStaleTimestamp,
			Detail: fmt.Sprintf("timestamp is %s in the future (tolerance %s)", (-d).Truncate(time.Second), tolerance)}
	}
	return nil
}

// VerifyToken compares a static shared token (a vendor that sends a fixed secret in a header
// or the URL). Both sides are hashed first so that the comparison takes the same time
// whatever the lengths.
func VerifyToken(expected, received string) error {
	if expected == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingSecret, Detail: "no token is configured"}
	}
	if received == "" {
		return &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: "no token was sent"}
	}
	a := sha256.Sum256([]byte(expected))
	b := sha256.Sum256([]byte(received))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return &gateway.VerifyError{Reason: gateway.VerifyBadSignature}
	}
	return nil
}

// VerifyTimestamped is the timestamp-and-body scheme (Slack, Stripe, Standard Webhooks…):
// the signature over the message parts, which include the timestamp as the vendor writes it,
// must match, and the timestamp must be within tolerance of now. The signature is checked
// first, so that a stale_timestamp failure always describes an authentic delivery.
func (h HMAC) VerifyTimestamped(secrets [][]byte, received []string, ts, now time.Time, tolerance time.Duration, message ...[]byte) error {
	if err := h.VerifyAny(secrets, received, message...); err != nil {
		return err
	}
	return CheckTimestamp(ts, now, tolerance)
}
