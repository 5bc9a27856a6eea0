package jsonval

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzUnmarshal: ID and Number read any JSON value a vendor puts in the field. An error is
// what encoding/json returns (a syntax error or a *json.UnmarshalTypeError, which never
// carries the value); an ID read from a string is that string trimmed, from a number its
// text; a Number read from a numeric string is the string's value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`8841`, `"8841"`, `" 8841 "`, `null`, `-1.5e3`, `"4.5"`, `" 4.5 "`, `"x"`, `true`, `{}`, `[]`, `""`,
		`1e400`, `"1e400"`, `"NaN"`, `"Inf"`, `"0x1p3"`, `"\u0000"`, `01`, `"\ud800"`,
	} {
		f.Add([]byte(`{"id":` + s + `,"n":` + s + `}`))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v struct {
			ID ID     `json:"id"`
			N  Number `json:"n"`
		}
		err := json.Unmarshal(doc, &v)
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &syntax) && !errors.As(err, &typ) {
			t.Fatalf("Unmarshal(%q): %T %v, want a syntax or type error", doc, err, err)
		}
		var raw struct {
			ID json.RawMessage `json:"id"`
			N  json.RawMessage `json:"n"`
		}
		if err != nil || json.Unmarshal(doc, &raw) != nil {
			return
		}
		var s string
		if json.Unmarshal(raw.ID, &s) == nil && string(v.ID) != strings.TrimSpace(s) {
			t.Fatalf("ID from %s = %q, want %q", raw.ID, v.ID, strings.TrimSpace(s))
		}
		if json.Unmarshal(raw.N, &s) == nil {
			want, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if perr == nil && float64(v.N) != want && !(math.IsNaN(want) && math.IsNaN(float64(v.N))) {
				t.Fatalf("Number from %s = %v, want %v", raw.N, v.N, want)
			}
		}
	})
}
