package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// readBody reads at most limit bytes of the request body. Past the limit it answers a
// too_large *gateway.Error, so that a caller cannot make hush buffer without bound.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, gateway.Errorf(gateway.CodeTooLarge, "request body is larger than %d bytes", limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, gateway.Errorf(gateway.CodeTooLarge, "request body is larger than %d bytes", limit)
		}
		return nil, gateway.Errorf(gateway.CodeInvalid, "could not read the request body")
	}
	return body, nil
}

// decodeJSON reads a JSON request body into v strictly: bounded size, no unknown fields, one
// value only. Errors are *gateway.Error sentences that name the field at fault.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return unmarshalStrict(body, v, "")
}

// decodeOptionalJSON is decodeJSON for bodies that may be left out (DELETE with a reason).
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return unmarshalStrict(body, v, "")
}

// unmarshalStrict decodes data into v; at prefixes error messages ("events[2]") so callers
// of batch endpoints learn which element is wrong.
func unmarshalStrict(data []byte, v any, at string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, at)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidf("%sunexpected data after the JSON value", prefix(at))
	}
	return nil
}

func prefix(at string) string {
	if at == "" {
		return ""
	}
	return at + ": "
}

func jsonError(err error, at string) error {
	p := prefix(at)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return invalidf("%srequest body is empty (want a JSON object)", p)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf("%srequest body is truncated JSON", p)
	case errors.As(err, &syntax):
		return invalidf("%srequest body is not valid JSON (at byte %d)", p, syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if at != "" && field != "" {
			field = at + "." + field
		} else if field == "" {
			field = at
		}
		if field == "" {
			return invalidf("request body must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return invalidf("%s must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return invalidf("%sunknown field %s", p, name)
	default:
		// Field-level UnmarshalText errors (durations, times) carry their own sentence.
		return invalidf("%s%s", p, strings.TrimPrefix(err.Error(), "json: "))
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	default:
		return fmt.Sprintf("a %s", goKind)
	}
}
