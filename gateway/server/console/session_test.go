package console

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tokenSet is the configured tokens, changeable as a config reload would.
type tokenSet struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *tokenSet) secret(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	return v, ok
}

func newTestSessions() (*Sessions, *fakeClock, *tokenSet) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	tokens := &tokenSet{m: map[string]string{"ops": "secret-ops", "lead": "secret-lead"}}
	return NewSessions(tokens.secret, clock.now, time.Hour), clock, tokens
}

func TestSessionRoundTripAndExpiry(t *testing.T) {
	s, clock, _ := newTestSessions()
	v, exp, err := s.Issue("ops")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock.now().Add(time.Hour)) {
		t.Errorf("expires %v", exp)
	}
	if name, err := s.Verify(v); err != nil || name != "ops" {
		t.Fatalf("Verify = %q, %v", name, err)
	}
	clock.add(59 * time.Minute)
	if _, err := s.Verify(v); err != nil {
		t.Fatalf("a session is still valid before its end: %v", err)
	}
	clock.add(time.Minute)
	if _, err := s.Verify(v); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("at its end: %v, want expired", err)
	}
	if _, _, err := s.Issue("nobody"); err == nil {
		t.Error("a session was issued for an unknown token")
	}
}

func TestSessionTamperingIsRefused(t *testing.T) {
	s, _, _ := newTestSessions()
	v, _, err := s.Issue("lead")
	if err != nil {
		t.Fatal(err)
	}
	payload, mac, _ := cutLast(v, ".")
	parts := strings.Split(payload, ".")
	name, exp, nonce := parts[0], parts[1], parts[2]
	other, _, _ := s.Issue("ops")
	_, otherMAC, _ := cutLast(other, ".")
	tampered := map[string]string{
		"empty":               "",
		"garbage":             "abc",
		"flipped mac":         payload + "." + strings.ToUpper(mac[:1]) + mac[1:] + "x",
		"longer life":         name + ".99999999999." + nonce + "." + mac,
		"another name":        "b3Bz." + exp + "." + nonce + "." + mac, // "ops" with lead's MAC
		"another nonce":       name + "." + exp + ".AAAA." + mac,
		"no nonce":            name + "." + exp + "." + mac,
		"another session mac": payload + "." + otherMAC,
		"no mac":              payload,
	}
	for what, val := range tampered {
		if got, err := s.Verify(val); err == nil {
			t.Errorf("%s: accepted as %q", what, got)
		}
	}
}

func TestSessionEndsWhenItsTokenIsRemovedOrRotated(t *testing.T) {
	s, _, tokens := newTestSessions()
	v, _, _ := s.Issue("ops")
	tokens.mu.Lock()
	tokens.m["ops"] = "rotated"
	tokens.mu.Unlock()
	if _, err := s.Verify(v); err == nil {
		t.Error("a session survived its token's rotation")
	}
	w, _, _ := s.Issue("lead")
	tokens.mu.Lock()
	delete(tokens.m, "lead")
	tokens.mu.Unlock()
	if _, err := s.Verify(w); err == nil {
		t.Error("a session survived its token's removal")
	}
	if s.CSRF(w) != "" {
		t.Error("a removed token's session still has a CSRF token")
	}
}

func TestCSRFIsBoundToOneSession(t *testing.T) {
	s, clock, _ := newTestSessions()
	a, _, _ := s.Issue("ops")
	b, _, _ := s.Issue("ops") // the same user, a second session in the same instant
	ta, tb := s.CSRF(a), s.CSRF(b)
	if ta == "" || tb == "" || ta == tb {
		t.Fatalf("CSRF tokens %q %q", ta, tb)
	}
	if !s.CheckCSRF(a, ta) {
		t.Error("a session's own token was refused")
	}
	for what, pair := range map[string][2]string{
		"another session's token": {a, tb},
		"empty token":             {a, ""},
		"no session":              {"", ta},
		"the session as token":    {a, a},
	} {
		if s.CheckCSRF(pair[0], pair[1]) {
			t.Errorf("%s was accepted", what)
		}
	}
	clock.add(2 * time.Hour)
	if s.CheckCSRF(a, ta) {
		t.Error("an expired session's token was accepted")
	}
}
