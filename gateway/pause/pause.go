// Package pause mints and checks the signed, expiring tokens of the customer self-service
// pause links (GET|POST /pause/{token}, docs/pause.md). It knows nothing of HTTP or
// storage: a token is a statement "customer X may choose a pause until time T", signed by
// this hush.
//
// It is its own package, not part of the server, so that the token scheme can be read,
// tested and fuzzed alone, and so that a command (or another tool) can mint links without
// pulling in the HTTP layer.
package pause

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Token scheme, version 1. The token is base64url (no padding) of
//
//	version (1 byte, = 1)
//	length of the customer id (1 byte) ‖ customer id (1–255 bytes)
//	issued-at (8 bytes, big-endian Unix seconds)
//	expiry    (8 bytes, big-endian Unix seconds)
//	nonce     (16 random bytes)
//	MAC       (32 bytes) = HMAC-SHA256(key, every byte above)
//
// with key = HMAC-SHA256(secret, "hush pause link v1"). Deriving the key for this one
// purpose means that no other MAC hush computes with any secret (console sessions and CSRF
// tokens use "hush console <purpose>" labels and the admin tokens' own secrets) can ever be a
// valid pause token, and a pause token's MAC is useless anywhere else. The customer id is
// inside the signed bytes, so a token reaches only the customer it names; the nonce makes
// every minted link distinct, so one leaked link says nothing about another.
const (
	version    = 1
	keyLabel   = "hush pause link v1"
	nonceSize  = 16
	macSize    = sha256.Size
	fixedSize  = 1 + 1 + 8 + 8 + nonceSize + macSize // everything but the customer id
	maxIDBytes = 255
	// MaxTokenLength bounds what Verify decodes: the longest token a 255-byte id gives.
	MaxTokenLength = (fixedSize + maxIDBytes + 2) / 3 * 4
)

// Verification errors. Callers tell them apart with errors.Is (to answer 400 or 410); a
// person is never told which one it was.
var (
	ErrMalformed    = errors.New("pause token is malformed")
	ErrBadSignature = errors.New("pause token signature does not verify")
	ErrExpired      = errors.New("pause token has expired")
)

// Claims is what a valid token says.
type Claims struct {
	CustomerID string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// Signer mints and verifies tokens with one secret. It is safe for concurrent use.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a signer keyed by secret (at least 16 bytes). now is the clock (nil:
// time.Now).
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("pause secret is %d bytes long; it needs at least 16", len(secret))
	}
	if now == nil {
		now = time.Now
	}
	k := hmac.New(sha256.New, secret)
	k.Write([]byte(keyLabel))
	return &Signer{key: k.Sum(nil), now: now}, nil
}

// Mint returns a token for customerID valid for ttl from now.
func (s *Signer) Mint(customerID string, ttl time.Duration) (string, Claims, error) {
	if customerID == "" || len(customerID) > maxIDBytes {
		return "", Claims{}, fmt.Errorf("a pause token names a customer id of 1 to %d bytes", maxIDBytes)
	}
	if ttl <= 0 {
		return "", Claims{}, fmt.Errorf("a pause token's lifetime must be positive")
	}
	// Whole seconds: what the token carries, so the claims returned equal the verified ones.
	now := s.now().Truncate(time.Second)
	c := Claims{CustomerID: customerID, IssuedAt: now, ExpiresAt: now.Add(ttl).Truncate(time.Second)}
	if !c.ExpiresAt.After(c.IssuedAt) {
		c.ExpiresAt = c.IssuedAt.Add(time.Second)
	}
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", Claims{}, fmt.Errorf("pause token nonce: %w", err)
	}
	b := make([]byte, 0, fixedSize+len(customerID))
	b = append(b, version, byte(len(customerID)))
	b = append(b, customerID...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.IssuedAt.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.ExpiresAt.Unix()))
	b = append(b, nonce[:]...)
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b), c, nil
}

// Verify checks token and returns its claims: ErrMalformed when it is not a token of this
// scheme, ErrBadSignature when this hush did not sign it (or a byte changed), ErrExpired
// when it verified but its time is over. The signature is checked, in constant time, before
// anything the token says is believed.
func (s *Signer) Verify(token string) (Claims, error) {
	if len(token) > MaxTokenLength {
		return Claims{}, ErrMalformed
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) < fixedSize+1 || b[0] != version {
		return Claims{}, ErrMalformed
	}
	idLen := int(b[1])
	if idLen == 0 || len(b) != fixedSize+idLen {
		return Claims{}, ErrMalformed
	}
	body, mac := b[:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(mac, s.mac(body)) {
		return Claims{}, ErrBadSignature
	}
	rest := body[2+idLen:]
	issued := int64(binary.BigEndian.Uint64(rest[:8]))
	expires := int64(binary.BigEndian.Uint64(rest[8:16]))
	if issued < 0 || expires <= issued {
		// Signed by this hush but not minted by Mint: refuse rather than guess.
		return Claims{}, ErrMalformed
	}
	c := Claims{
		CustomerID: string(body[2 : 2+idLen]),
		IssuedAt:   time.Unix(issued, 0).UTC(),
		ExpiresAt:  time.Unix(expires, 0).UTC(),
	}
	if !s.now().Before(c.ExpiresAt) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(msg)
	return m.Sum(nil)
}
