package console

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a language the console speaks.
type Lang string

// The console's languages. Spanish first: hush's first users are Spanish-speaking.
const (
	Spanish Lang = "es"
	English Lang = "en"
)

// Langs lists the console's languages, in the order the language switch shows them.
func Langs() []Lang { return []Lang{Spanish, English} }

// ParseLang reads a language code ("es", "en-GB"), reporting whether the console speaks it.
func ParseLang(s string) (Lang, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	switch Lang(base) {
	case Spanish, English:
		return Lang(base), true
	}
	return "", false
}

// Message is one console string in every language the console speaks. Keeping both in one
// value makes a missing translation visible where the string is written (and a test checks
// that none is empty).
type Message struct {
	EN, ES string
}

// In returns the message in lang.
func (m Message) In(lang Lang) string {
	if lang == Spanish {
		return m.ES
	}
	return m.EN
}

// missingMarker wraps a key the catalog does not hold, so a page with a missing string is
// obvious to a reader and to the browser tests.
const missingMarker = "⟦missing:%s⟧"

// Catalog is every console string by key.
type Catalog struct {
	msgs map[string]Message
}

// NewCatalog merges tables of messages; a key defined twice or a message with an empty
// translation is an error.
func NewCatalog(tables ...map[string]Message) (*Catalog, error) {
	c := &Catalog{msgs: map[string]Message{}}
	for _, table := range tables {
		for k, m := range table {
			if _, dup := c.msgs[k]; dup {
				return nil, fmt.Errorf("console message %q is defined twice", k)
			}
			if strings.TrimSpace(m.EN) == "" || strings.TrimSpace(m.ES) == "" {
				return nil, fmt.Errorf("console message %q lacks a translation", k)
			}
			c.msgs[k] = m
		}
	}
	return c, nil
}

// DefaultCatalog is the console's own catalog.
func DefaultCatalog() (*Catalog, error) {
	return NewCatalog(coreMessages(), opsMessages(), simMessages(), reportMessages(), pauseMessages())
}

// T is the message key in lang, formatted with args (fmt verbs) when there are any.
func (c *Catalog) T(lang Lang, key string, args ...any) string {
	m, ok := c.msgs[key]
	if !ok {
		return fmt.Sprintf(missingMarker, key)
	}
	s := m.In(lang)
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether the catalog holds key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// Keys lists every key, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MissingMarker is the prefix a page shows where a key is missing (for tests).
func MissingMarker() string { return strings.TrimSuffix(missingMarker, "%s⟧") }

// Negotiate picks the console's language: chosen (the switch's cookie) when it names one the
// console speaks, else the best match for the browser's Accept-Language, else fallback (the
// config's `language`; Spanish when it names neither).
func Negotiate(acceptLanguage, chosen string, fallback Lang) Lang {
	if l, ok := ParseLang(chosen); ok {
		return l
	}
	if _, ok := ParseLang(string(fallback)); !ok {
		fallback = Spanish
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return fallback
	}
	matcher := language.NewMatcher([]language.Tag{language.Spanish, language.English})
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return fallback
	}
	return Langs()[idx]
}
