// Package jsonval holds the lenient JSON value types vendor payloads need: ids that one
// vendor (or one API version) writes as numbers and another as strings, numbers sent as
// strings. Errors are *json.UnmarshalTypeError, so encoding/json adds the field's path
// ("data.item.id") and never the value, which may be personal data.
package jsonval

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// ID reads a JSON string or number as its text, trimmed: 8841 and "8841" are the same id.
// null is empty.
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*id = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return TypeError(b, reflect.TypeFor[string]())
	}
	*id = ID(n.String())
	return nil
}

// Number reads a JSON number or a numeric string ("4.5").
type Number float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return TypeError(b, reflect.TypeFor[float64]())
		}
		*f = Number(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return TypeError(b, reflect.TypeFor[float64]())
	}
	*f = Number(v)
	return nil
}

// TypeError reports a value of the wrong kind the way encoding/json does, so that the
// decoder adds the field's path to it.
func TypeError(b []byte, want reflect.Type) error {
	kind := "number"
	switch {
	case len(b) == 0:
		kind = "value"
	case b[0] == '"':
		kind = "string"
	case b[0] == '{':
		kind = "object"
	case b[0] == '[':
		kind = "array"
	case b[0] == 't' || b[0] == 'f':
		kind = "bool"
	case b[0] == 'n':
		kind = "null"
	}
	return &json.UnmarshalTypeError{Value: kind, Type: want}
}
