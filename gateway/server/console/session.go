package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cookie names.
const (
	SessionCookie = "hush_session"
	LangCookie    = "hush_lang"
)

// Session verification errors.
var (
	ErrNoSession      = errors.New("no console session")
	ErrSessionExpired = errors.New("console session expired")
	ErrSessionInvalid = errors.New("console session is not valid")
)

// Sessions signs and checks console sessions. A session cookie is the token's name, an expiry
// and an HMAC of both keyed by that token's own secret: no server-side state, any replica can
// check it, and rotating or removing a token in the config ends its sessions. The token's
// secret never leaves the server.
type Sessions struct {
	// secret returns the secret of the token named name, false when no such token exists.
	secret func(name string) (string, bool)
	now    func() time.Time
	ttl    time.Duration
}

// NewSessions returns sessions lasting ttl, signed with the secrets secret returns.
func NewSessions(secret func(name string) (string, bool), now func() time.Time, ttl time.Duration) *Sessions {
	return &Sessions{secret: secret, now: now, ttl: ttl}
}

// TTL is how long a session lasts.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// Issue returns a session cookie value for the token named name.
func (s *Sessions) Issue(name string) (value string, expires time.Time, err error) {
	secret, ok := s.secret(name)
	if !ok {
		return "", time.Time{}, ErrSessionInvalid
	}
	// A random part makes every session distinct, so its CSRF token is too: two sign-ins of
	// the same token in the same second do not share one.
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", time.Time{}, fmt.Errorf("session nonce: %w", err)
	}
	expires = s.now().Add(s.ttl).Truncate(time.Second)
	payload := base64.RawURLEncoding.EncodeToString([]byte(name)) + "." + strconv.FormatInt(expires.Unix(), 10) +
		"." + base64.RawURLEncoding.EncodeToString(nonce)
	return payload + "." + sign(secret, "session", payload), expires, nil
}

// Verify checks a session cookie value and returns the token name it was issued for.
func (s *Sessions) Verify(value string) (name string, err error) {
	if value == "" {
		return "", ErrNoSession
	}
	payload, mac, ok := cutLast(value, ".")
	if !ok {
		return "", ErrSessionInvalid
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return "", ErrSessionInvalid
	}
	encName, exp := parts[0], parts[1]
	raw, err := base64.RawURLEncoding.DecodeString(encName)
	if err != nil {
		return "", ErrSessionInvalid
	}
	secret, ok := s.secret(string(raw))
	if !ok || !hmac.Equal([]byte(mac), []byte(sign(secret, "session", payload))) {
		return "", ErrSessionInvalid
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", ErrSessionInvalid
	}
	if !s.now().Before(time.Unix(unix, 0)) {
		return "", ErrSessionExpired
	}
	return string(raw), nil
}

// CSRF is the anti-forgery token of the session whose cookie value is session: every form
// carries it, and every POST must present it. It is derived from the session, so it needs
// no storage and dies with the session.
func (s *Sessions) CSRF(session string) string {
	name, err := s.Verify(session)
	if err != nil {
		return ""
	}
	secret, _ := s.secret(name)
	return sign(secret, "csrf", session)
}

// CheckCSRF reports whether presented is the CSRF token of session, in constant time.
func (s *Sessions) CheckCSRF(session, presented string) bool {
	want := s.CSRF(session)
	return want != "" && hmac.Equal([]byte(want), []byte(presented))
}

// sign is base64url(HMAC-SHA256(key(secret, purpose), msg)). The key is itself derived per
// purpose, so a session MAC can never be replayed as a CSRF token or the other way round.
func sign(secret, purpose, msg string) string {
	k := hmac.New(sha256.New, []byte(secret))
	k.Write([]byte("hush console " + purpose))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
