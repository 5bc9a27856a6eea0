// Package htmltext reduces the HTML bodies that helpdesk and chat vendors send (Intercom
// messages, Help Scout threads) to the plain words a person wrote, for rules and sentiment.
package htmltext

import (
	"html"
	"strings"
	"unicode"
)

// Plain turns a message body (HTML: <p>, <br>, <a>, <b>…) into the words a person wrote, for rules and sentiment scoring: tags dropped, entities decoded, runs of
// white space collapsed to one space. Block tags (<p>, <br>, <div>, <li>…) separate words,
// so "<p>a</p><p>b</p>" is "a b"; inline ones (<b>, <a>, <span>…) do not.
func Plain(body string) string {
	if body == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(body))
	for {
		lt := strings.IndexByte(body, '<')
		if lt < 0 {
			b.WriteString(body)
			break
		}
		b.WriteString(body[:lt])
		gt := strings.IndexByte(body[lt:], '>')
		if gt < 0 {
			break // an unterminated tag: drop it
		}
		if blockTag(body[lt+1 : lt+gt]) {
			b.WriteByte(' ')
		}
		body = body[lt+gt+1:]
	}
	return strings.Join(strings.FieldsFunc(html.UnescapeString(b.String()), unicode.IsSpace), " ")
}

// blockTag reports whether a tag (its text between < and >) breaks the line in HTML.
func blockTag(tag string) bool {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "/")
	if end := strings.IndexFunc(tag, func(r rune) bool { return unicode.IsSpace(r) || r == '/' }); end >= 0 {
		tag = tag[:end]
	}
	switch strings.ToLower(tag) {
	case "p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table", "blockquote", "pre", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6":
		return true
	}
	return false
}
