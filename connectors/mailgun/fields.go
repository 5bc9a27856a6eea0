package mailgun

import (
	"bytes"
	"errors"
	"net/mail"
	"net/url"
	"strings"
)

// encodeFormPair writes a pair whose value changed: the name exactly as the caller wrote
// it, the value escaped the way Go's url.Values does.
func encodeFormPair(old []byte, value string) []byte {
	k, _, _ := bytes.Cut(old, []byte("="))
	out := make([]byte, 0, len(k)+1+len(value)+8)
	out = append(out, k...)
	out = append(out, '=')
	return append(out, url.QueryEscape(value)...)
}

// addressPiece is one entry of a comma-separated address list: its text as written
// (trimmed) and the bare address it names.
type addressPiece struct {
	text    string
	address string
}

var errAddress = errors.New("holds something that is not an email address")

// splitAddressList reads a Mailgun to/cc/bcc value, "Ana <ana@example.com>, bob@example.com":
// it is cut at the commas outside quoted strings, comments and angle brackets, and each
// piece must be one address (net/mail). Keeping each piece's text lets a rewrite leave
// the kept entries exactly as the caller wrote them. Empty pieces (a trailing comma) name
// nobody. Errors never quote the value.
func splitAddressList(s string) ([]addressPiece, error) {
	var out []addressPiece
	add := func(text string) error {
		text = strings.TrimSpace(text)
		if text == "" {
			return nil
		}
		a, err := mail.ParseAddress(text)
		if err != nil {
			return errAddress
		}
		out = append(out, addressPiece{text: text, address: a.Address})
		return nil
	}
	start, quoted, escaped, comment, angle := 0, false, false, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || comment > 0):
			escaped = true
		case quoted:
			quoted = c != '"'
		case c == '(':
			comment++
		case comment > 0:
			if c == ')' {
				comment--
			}
		case c == '"':
			quoted = true
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			if err := add(s[start:i]); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if quoted || comment > 0 || angle {
		return nil, errAddress
	}
	if err := add(s[start:]); err != nil {
		return nil, err
	}
	return out, nil
}

// bareKey is the address a recipient-variables key names: keys are plain addresses in
// Mailgun's documentation, but the SDKs key them by whatever string the caller added the
// recipient with ("Ana <ana@example.com>").
func bareKey(key string) string {
	if a, err := mail.ParseAddress(key); err == nil {
		return strings.ToLower(a.Address)
	}
	return strings.ToLower(strings.TrimSpace(key))
}
