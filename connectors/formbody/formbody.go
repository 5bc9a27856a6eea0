// Package formbody reads an application/x-www-form-urlencoded body as its pairs, each with
// the bytes it was written with, so that an upstream can remove or change one pair and
// forward every other byte as the caller wrote it (url.ParseQuery would lose the order of
// different names and the caller's own escaping).
package formbody

import (
	"bytes"
	"errors"
	"net/url"
)

// Pair is one '&'-separated segment of a form body.
type Pair struct {
	Raw     []byte // as written, without the '&'; empty for an empty segment
	RawName []byte // the name as written, before '='
	Name    string // decoded
	Value   string // decoded
}

// ErrInvalid is returned for a body whose escapes cannot be decoded.
var ErrInvalid = errors.New("body is not a valid form (application/x-www-form-urlencoded)")

// Split cuts a form body at every '&', empty segments included, so that Join of every Raw
// gives the body back byte for byte. Semicolons are data, as in Go's and the WHATWG's form
// readers. The pairs' bytes share body's memory.
func Split(body []byte) ([]Pair, error) {
	segs := bytes.Split(body, []byte("&"))
	pairs := make([]Pair, len(segs))
	for i, raw := range segs {
		pairs[i].Raw = raw
		if len(raw) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(raw, []byte("="))
		name, err1 := url.QueryUnescape(string(k))
		value, err2 := url.QueryUnescape(string(v))
		if err1 != nil || err2 != nil {
			return nil, ErrInvalid
		}
		pairs[i].RawName, pairs[i].Name, pairs[i].Value = k, name, value
	}
	return pairs, nil
}

// Join writes segments back with '&' between them.
func Join(segs [][]byte) []byte { return bytes.Join(segs, []byte("&")) }
