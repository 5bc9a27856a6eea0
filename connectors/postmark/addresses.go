package postmark

import (
	"errors"
	"net/mail"
	"strings"
)

// listItem is one address of a Postmark address list ("Ana <ana@x.com>, bob@y.com"): the
// text as the caller wrote it and the bare address net/mail reads from it.
type listItem struct {
	raw  string // trimmed of surrounding space, otherwise as written
	addr string
}

var (
	errNotAList    = errors.New("is not a list of email addresses")
	errUnsplitable = errors.New("is an address list hush cannot split into addresses (an address group?)")
)

// parseAddressList reads a Postmark To/Cc/Bcc string. net/mail.ParseAddressList is the
// authority on which addresses the string names; the string is also split at its top-level
// commas so that a rewrite can keep each remaining address exactly as written. When the two
// readings disagree (address groups, odd comments) the list is refused rather than guessed
// at: a rewrite must never change who a message goes to beyond removing addresses.
// An empty or blank string names nobody.
func parseAddressList(s string) ([]listItem, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, errNotAList
	}
	var items []listItem
	for _, raw := range splitTopLevel(s) {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue // "a@x.com, , b@y.com": net/mail skips empty elements too
		}
		a, err := mail.ParseAddress(raw)
		if err != nil {
			return nil, errUnsplitable
		}
		items = append(items, listItem{raw: raw, addr: a.Address})
	}
	if len(items) != len(list) {
		return nil, errUnsplitable
	}
	for i, a := range list {
		if items[i].addr != a.Address {
			return nil, errUnsplitable
		}
	}
	return items, nil
}

// splitTopLevel cuts s at the commas that separate addresses: not inside a quoted string,
// a comment, an angle address or a domain literal.
func splitTopLevel(s string) []string {
	var parts []string
	start := 0
	inQuote, comment, angle, literal := false, 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (inQuote || comment > 0 || literal):
			i++ // the escaped character is never a delimiter
		case inQuote:
			inQuote = c != '"'
		case comment > 0:
			switch c {
			case '(':
				comment++
			case ')':
				comment--
			}
		case literal:
			literal = c != ']'
		case c == '"':
			inQuote = true
		case c == '(':
			comment = 1
		case c == '[':
			literal = true
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// joinItems writes the kept addresses back as one list, each as the caller wrote it.
func joinItems(items []listItem) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.raw)
	}
	return b.String()
}
