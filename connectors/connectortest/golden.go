// Package connectortest holds what the connector packages' tests share: a golden-file
// runner over testdata inputs and an end-to-end harness (real bbolt store, real policy
// engine, real HTTP server) around one source. It is imported by tests only.
package connectortest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

// GoldenSuffix ends every golden file's name; such files are never inputs.
const GoldenSuffix = ".golden.json"

// GoldenCase configures Golden.
type GoldenCase struct {
	// Dir holds the inputs and the goldens; "" means "testdata".
	Dir string
	// Ext is the inputs' extension, with its dot; "" means ".json".
	Ext string
	// Parse parses one input; name is the file name without Dir and Ext.
	Parse func(t *testing.T, name string, body []byte) (gateway.ParseResult, error)
	// Update rewrites the goldens from the current output instead of comparing.
	Update bool
	// WantError names inputs that must fail besides the err_* ones.
	WantError map[string]bool
	// MustFail, when set, replaces the err_* prefix and WantError test.
	MustFail func(name string) bool
	// CheckError checks a parse error; nil means CodeInvalid (see WantCode).
	CheckError func(t *testing.T, err error)
	// CheckInput checks an input's bytes before it is parsed.
	CheckInput func(t *testing.T, path string, body []byte)
	// CheckEvent checks every event of a successful parse (see RawIsBody).
	CheckEvent func(t *testing.T, body []byte, ev gateway.Event)
}

// goldenResult is what a golden file holds: the parse result, or the error's code and message.
type goldenResult struct {
	Events  []gateway.Event `json:"events,omitempty"`
	Ignored int             `json:"ignored,omitempty"`
	Error   *goldenError    `json:"error,omitempty"`
}

type goldenError struct {
	Code    gateway.ErrorCode `json:"code"`
	Message string            `json:"message"`
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Inputs lists dir/*ext but the golden files, failing the test when there is none.
func Inputs(t testing.TB, dir, ext string) []string {
	t.Helper()
	dir, ext = orDefault(dir, "testdata"), orDefault(ext, ".json")
	all, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, GoldenSuffix) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("no testdata inputs")
	}
	return out
}

// WantCode returns a CheckError that fails the test unless the error carries code.
func WantCode(code gateway.ErrorCode) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if gateway.ErrorCodeOf(err) != code {
			t.Errorf("error %v does not have code %s", err, code)
		}
	}
}

// RawIsBody is a CheckEvent: every event's Raw is the delivered body, trimmed.
func RawIsBody(t *testing.T, body []byte, ev gateway.Event) {
	t.Helper()
	if !bytes.Equal(ev.Raw, bytes.TrimSpace(body)) {
		t.Errorf("event %s: Raw is not the delivered body", ev.ID)
	}
}

// Golden parses every input of c.Dir in a subtest and compares the result, marshalled as
// indented {events, ignored, error}, with <name>.golden.json next to it.
func Golden(t *testing.T, c GoldenCase) {
	t.Helper()
	dir, ext := orDefault(c.Dir, "testdata"), orDefault(c.Ext, ".json")
	mustFail := c.MustFail
	if mustFail == nil {
		mustFail = func(name string) bool { return strings.HasPrefix(name, "err_") || c.WantError[name] }
	}
	checkError := c.CheckError
	if checkError == nil {
		checkError = WantCode(gateway.CodeInvalid)
	}
	for _, in := range Inputs(t, dir, ext) {
		name := strings.TrimSuffix(filepath.Base(in), ext)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			if c.CheckInput != nil {
				c.CheckInput(t, in, body)
			}
			res, err := c.Parse(t, name, body)
			expectErr := mustFail(name)
			var got goldenResult
			if err != nil {
				checkError(t, err)
				got.Error = &goldenError{Code: gateway.ErrorCodeOf(err), Message: gateway.ErrorMessageOf(err)}
				if !expectErr {
					t.Errorf("unexpected error: %v", err)
				}
			} else {
				got.Events, got.Ignored = res.Events, res.Ignored
				if expectErr {
					t.Errorf("want an error, got %d events", len(res.Events))
				}
				if c.CheckEvent != nil {
					for _, ev := range res.Events {
						c.CheckEvent(t, body, ev)
					}
				}
			}
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			CompareGolden(t, filepath.Join(dir, name+GoldenSuffix), out, c.Update)
		})
	}
}

// SameIDs fails the test unless two parses of one delivery (a redelivery) agree: both
// failed, or both gave the same number of events with the same ids.
func SameIDs(t testing.TB, in string, first gateway.ParseResult, err1 error, again gateway.ParseResult, err2 error) {
	t.Helper()
	sameEvents(t, in, first, err1, again, err2, false)
}

// SameIDsAndTimes is SameIDs that also wants the same event times.
func SameIDsAndTimes(t testing.TB, in string, first gateway.ParseResult, err1 error, again gateway.ParseResult, err2 error) {
	t.Helper()
	sameEvents(t, in, first, err1, again, err2, true)
}

func sameEvents(t testing.TB, in string, first gateway.ParseResult, err1 error, again gateway.ParseResult, err2 error, times bool) {
	t.Helper()
	if (err1 == nil) != (err2 == nil) || len(first.Events) != len(again.Events) {
		t.Fatalf("%s: parses differ: %v / %v (%d then %d events)", in, err1, err2, len(first.Events), len(again.Events))
	}
	for i := range first.Events {
		a, b := first.Events[i], again.Events[i]
		if a.ID != b.ID || (times && !a.At.Equal(b.At)) {
			t.Errorf("%s: event %d: %s at %s, then %s at %s", in, i, a.ID, a.At, b.ID, b.At)
		}
	}
}

// AddSeeds adds every input of dir/*ext (see Inputs) to the fuzzer's seed corpus.
func AddSeeds(f *testing.F, dir, ext string) {
	f.Helper()
	for _, in := range Inputs(f, dir, ext) {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// CompareGolden fails the test unless got equals the golden file at path. With update set
// (the package's -update flag) it first writes got there, creating the directory, so the
// comparison then holds and `git diff` shows what changed.
func CompareGolden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
