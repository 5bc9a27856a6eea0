package gateway

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Identity is one canonical way to reach or name a customer: "email:ana@example.com",
// "phone:+34600111222" (E.164) or a vendor id "zendesk:8841". Build one with ParseIdentity,
// NormalizeEmail, NormalizePhone or VendorIdentity; never by hand.
type Identity string

// IdentityKind is the part of an identity before the colon, for emails and phones; any other
// prefix names a vendor.
const (
	KindEmail = "email"
	KindPhone = "phone"
)

// MaxIdentityLength bounds every identity hush stores.
const MaxIdentityLength = 320

// Kind is "email", "phone" or the vendor name of a vendor id.
func (id Identity) Kind() string {
	k, _, _ := strings.Cut(string(id), ":")
	return k
}

// Value is the part after the kind.
func (id Identity) Value() string {
	_, v, _ := strings.Cut(string(id), ":")
	return v
}

func (id Identity) String() string { return string(id) }

// IsPhone reports whether the identity is a phone number.
func (id Identity) IsPhone() bool { return id.Kind() == KindPhone }

// IsEmail reports whether the identity is an email address.
func (id Identity) IsEmail() bool { return id.Kind() == KindEmail }

// NormalizeEmail trims and lower-cases an address and checks its shape.
func NormalizeEmail(s string) (Identity, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", fmt.Errorf("email is empty")
	}
	if len(s) > MaxIdentityLength-len("email:") {
		return "", fmt.Errorf("email is longer than %d characters", MaxIdentityLength)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("email %q is not valid UTF-8", s)
	}
	if plainAddress(s) {
		// The common case, checked without net/mail (a parse per recipient of every send).
		return Identity("email:" + s), nil
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", fmt.Errorf("%q is not an email address", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("%q is not an email address", s)
	}
	return Identity("email:" + s), nil
}

// NormalizePhone parses a phone number with libphonenumber rules and returns it in E.164.
// defaultRegion (ISO 3166 alpha-2, "ES") is used for numbers written without a country code.
// A "whatsapp:" prefix, as Twilio writes it, is accepted and dropped: a WhatsApp number is a
// phone.
func NormalizePhone(s, defaultRegion string) (Identity, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "whatsapp:")
	s = strings.TrimPrefix(s, "tel:")
	if s == "" {
		return "", fmt.Errorf("phone is empty")
	}
	if len(s) > 64 {
		return "", fmt.Errorf("phone is longer than 64 characters")
	}
	digits := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	if digits < 3 {
		return "", fmt.Errorf("%q is not a phone number", s)
	}
	region := strings.ToUpper(defaultRegion)
	if strings.HasPrefix(s, "00") {
		// International prefix used across Europe: 0034… is +34….
		s = "+" + s[2:]
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number: %v", s, err)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", fmt.Errorf("%q is not a possible phone number", s)
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) > 16 {
		// E.164 allows at most 15 digits; libphonenumber formats longer "possible" numbers
		// (letters read as digits, "10 00000000EAA" in UY) that no network can reach.
		return "", fmt.Errorf("%q is longer than a phone number can be", s)
	}
	// Normalization must be a fixpoint: an identity stored once is looked up again by the
	// same string. Malformed numbers such as "+27 0000000" lose their national prefix on a
	// second parse; they are not phone numbers anyone can be reached on.
	again, err := phonenumbers.Parse(e164, "")
	if err != nil || phonenumbers.Format(again, phonenumbers.E164) != e164 {
		return "", fmt.Errorf("%q is not a valid phone number", s)
	}
	return Identity("phone:" + e164), nil
}

// VendorIdentity names a customer by a vendor's own id: VendorIdentity("zendesk", "8841") is
// "zendesk:8841".
func VendorIdentity(vendor, id string) (Identity, error) {
	vendor = strings.ToLower(strings.TrimSpace(vendor))
	id = strings.TrimSpace(id)
	if !validVendor(vendor) {
		return "", fmt.Errorf("%q is not a vendor name (letters, digits, '-' and '_')", vendor)
	}
	// ParseIdentity reads these prefixes as an email or a phone: a vendor id under one of
	// them ("sms:42") would be stored but never found again through the API.
	switch vendor {
	case KindEmail, KindPhone, "whatsapp", "mailto", "tel", "sms":
		return "", fmt.Errorf("%q is reserved and cannot name a vendor", vendor)
	}
	if id == "" {
		return "", fmt.Errorf("%s id is empty", vendor)
	}
	if len(vendor)+1+len(id) > MaxIdentityLength {
		return "", fmt.Errorf("%s id is longer than %d characters", vendor, MaxIdentityLength)
	}
	if !utf8.ValidString(id) {
		return "", fmt.Errorf("%s id is not valid UTF-8", vendor)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%s id has a control character", vendor)
		}
	}
	return Identity(vendor + ":" + id), nil
}

func validVendor(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ParseIdentity reads an identity as users and APIs write it: "email:…", "phone:…",
// "whatsapp:…", "vendor:id", or a bare email address or phone number.
func ParseIdentity(s, defaultRegion string) (Identity, error) {
	s = strings.TrimSpace(s)
	kind, value, found := strings.Cut(s, ":")
	if !found {
		if strings.Contains(s, "@") {
			return NormalizeEmail(s)
		}
		return NormalizePhone(s, defaultRegion)
	}
	switch strings.ToLower(kind) {
	case KindEmail, "mailto":
		return NormalizeEmail(value)
	case KindPhone, "whatsapp", "tel", "sms":
		return NormalizePhone(value, defaultRegion)
	default:
		if strings.Contains(kind, "@") {
			// "ana@example.com" never has a colon, but a user:pass@host would: not an identity.
			return "", fmt.Errorf("%q is not an identity", s)
		}
		if strings.HasPrefix(s, "+") {
			return NormalizePhone(s, defaultRegion)
		}
		return VendorIdentity(kind, value)
	}
}

// plainAddress reports whether s is a lower-case address of the plainest form, which
// net/mail accepts unchanged: a dot-atom of letters, digits and . _ % + - before one @, and
// a domain of letter, digit and hyphen labels separated by single dots. Anything else takes
// the full parse (FuzzPlainAddress holds the two to the same verdict).
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	return dotAtom(s[:at], func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '%' || c == '+' || c == '-'
	}) && dotAtom(s[at+1:], func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	})
}

// dotAtom reports whether s is non-empty runs of ok bytes separated by single dots.
func dotAtom(s string, ok func(byte) bool) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if run == 0 {
				return false
			}
			run = 0
		case ok(c):
			run++
		default:
			return false
		}
	}
	return run > 0
}
