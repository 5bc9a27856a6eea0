// Package options reads a connector's kind-specific configuration keys (the free-form part of
// a source or upstream in hush.yaml) with typed getters, so that every connector reports
// wrong types and unknown keys the same way, at start-up.
package options

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Reader reads options of one connector kind. Getters record problems instead of returning
// them so that a connector reads every key and then reports all problems at once with Done.
// A Reader is used by one goroutine, at construction time.
type Reader struct {
	kind  string
	opts  map[string]any
	known map[string]bool
	errs  []error
}

// NewReader reads opts (may be nil) for a connector kind, named in messages.
func NewReader(kind string, opts map[string]any) *Reader {
	return &Reader{kind: kind, opts: opts, known: map[string]bool{}}
}

func (r *Reader) lookup(key string) (any, bool) {
	r.known[key] = true
	v, ok := r.opts[key]
	if ok && v == nil {
		// "key:" with no value in YAML: treat as absent, like an empty string would be.
		return nil, false
	}
	return v, ok
}

func (r *Reader) wrongType(key, want string, v any) {
	r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: want %s, got %s", key, r.kind, want, describe(v)))
}

// describe names a value's type in YAML terms, without printing the value (it may be a secret).
func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// Has reports whether the key is set (and marks it known).
func (r *Reader) Has(key string) bool {
	_, ok := r.lookup(key)
	return ok
}

// String reads a string option; def when absent.
func (r *Reader) String(key, def string) string {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok {
		r.wrongType(key, "a string", v)
		return def
	}
	return s
}

// RequiredString reads a string option that must be set and not empty.
func (r *Reader) RequiredString(key string) string {
	s := r.String(key, "")
	if s == "" && !r.failed(key) {
		r.errs = append(r.errs, fmt.Errorf("option %q for kind %q is required", key, r.kind))
	}
	return s
}

func (r *Reader) failed(key string) bool {
	q := fmt.Sprintf("option %q ", key)
	for _, e := range r.errs {
		if strings.HasPrefix(e.Error(), q) {
			return true
		}
	}
	return false
}

// Bool reads a boolean option; def when absent.
func (r *Reader) Bool(key string, def bool) bool {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		r.wrongType(key, "true or false", v)
		return def
	}
	return b
}

// Int reads a whole-number option; def when absent.
func (r *Reader) Int(key string, def int) int {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case uint64:
		if n <= 1<<31 {
			return int(n)
		}
	case float64:
		if n == float64(int(n)) {
			return int(n)
		}
	}
	r.wrongType(key, "a whole number", v)
	return def
}

// Duration reads a duration written as people write silences ("90s", "15m", "24h", "15d");
// def when absent.
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch d := v.(type) {
	case string:
		p, err := gateway.ParseDuration(d)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: %w", key, r.kind, err))
			return def
		}
		return p
	case time.Duration:
		return d
	}
	r.wrongType(key, `a duration such as "30s" or "15d"`, v)
	return def
}

// StringSlice reads a list of strings; a single string is read as a list of one. nil when
// absent.
func (r *Reader) StringSlice(key string) []string {
	v, ok := r.lookup(key)
	if !ok {
		return nil
	}
	switch l := v.(type) {
	case string:
		return []string{l}
	case []string:
		return slices.Clone(l)
	case []any:
		out := make([]string, 0, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: item %d: want a string, got %s", key, r.kind, i, describe(e)))
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	r.wrongType(key, "a list of strings", v)
	return nil
}

// Decode reads a structured option (a list or mapping) into dst through its JSON field tags;
// fields dst does not have are errors, so typos inside nested options are caught too.
// It reports whether the key was set.
func (r *Reader) Decode(key string, dst any) bool {
	v, ok := r.lookup(key)
	if !ok {
		return false
	}
	b, err := json.Marshal(normalize(v))
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: %s cannot be read", key, r.kind, describe(v)))
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: %s", key, r.kind, jsonProblem(err)))
	}
	return true
}

// normalize turns YAML decoders' map[any]any into map[string]any so that JSON can encode it.
func normalize(v any) any {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = normalize(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = normalize(e)
		}
		return l
	}
	return v
}

// jsonProblem rewrites encoding/json's messages, which speak of Go types, in the terms of
// the configuration file.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("%s: want %s, got a %s", field, goKind(te.Type.Kind().String()), te.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown key " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

func goKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "a mapping"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return k
}

// Done reports every problem found so far, then every key that no getter asked for:
// "unknown option "x" for kind "generic" (known: a, b)".
func (r *Reader) Done() error {
	errs := slices.Clone(r.errs)
	unknown := slices.Sorted(maps.Keys(r.opts))
	known := slices.Sorted(maps.Keys(r.known))
	for _, k := range unknown {
		if r.known[k] {
			continue
		}
		list := strings.Join(known, ", ")
		if list == "" {
			list = "none"
		}
		errs = append(errs, fmt.Errorf("unknown option %q for kind %q (known: %s)", k, r.kind, list))
	}
	return errors.Join(errs...)
}

// Secrets returns every secret a source accepts: the configured secret first, then the
// option previous_secrets (still accepted while the vendor's secret is rotated). It records a
// problem for an empty previous secret, for previous secrets without a current one, and for
// a source with no secret at all that is not insecure; where says where the vendor shows the
// secret ("the Aircall webhook's token"), for that message. An empty result with no problem
// means the source accepts unsigned deliveries (insecure: true).
func (r *Reader) Secrets(secret string, insecure bool, where string) []string {
	previous := r.StringSlice("previous_secrets")
	var out []string
	if secret != "" {
		out = append(out, secret)
	}
	for i, p := range previous {
		if p == "" {
			r.errs = append(r.errs, fmt.Errorf("previous_secrets item %d is empty", i))
			continue
		}
		out = append(out, p)
	}
	switch {
	case secret == "" && len(previous) > 0:
		r.errs = append(r.errs, fmt.Errorf("previous_secrets is set but secret is empty"))
	case len(out) == 0 && !insecure:
		r.errs = append(r.errs, fmt.Errorf("no secret; set secret (%s) or insecure: true", where))
	}
	return out
}

// Categories reads a mapping from a vendor's own labels to hush categories ({newsletter:
// marketing, "41": transactional}): how an upstream turns a SendGrid category, a Twilio
// messaging service or a Postmark stream into the category of a send. nil when absent.
func (r *Reader) Categories(key string) map[string]gateway.Category {
	v, ok := r.lookup(key)
	if !ok {
		return nil
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		r.wrongType(key, "a mapping of vendor labels to categories", v)
		return nil
	}
	out := make(map[string]gateway.Category, len(m))
	for _, label := range slices.Sorted(maps.Keys(m)) {
		s, ok := m[label].(string)
		if !ok {
			r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: %q: want a category name, got %s", key, r.kind, label, describe(m[label])))
			continue
		}
		c, err := gateway.ParseCategory(s, false)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("option %q for kind %q: %q: %v", key, r.kind, label, err))
			continue
		}
		out[label] = c
	}
	return out
}

// CheckHTTPURL checks that raw is an absolute http or https URL with a host. Its message
// never quotes the URL: a destination URL is often a credential (a Slack webhook's is).
// hint says which URL is wanted, for the "is required" message ("" for none).
func CheckHTTPURL(raw, hint string) error {
	if raw == "" {
		if hint != "" {
			return fmt.Errorf("url is required (%s)", hint)
		}
		return errors.New("url is required")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("url does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("url must start with http:// or https://")
	case u.Host == "":
		return errors.New("url has no host")
	}
	return nil
}
