package options

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestGetters(t *testing.T) {
	r := NewReader("acme", map[string]any{
		"url":       "https://example.com/hook",
		"strict":    true,
		"tolerance": "10m",
		"retries":   uint64(3),
		"events":    []any{"a", "b"},
		"one":       "only",
		"empty":     nil,
	})
	if got := r.String("url", ""); got != "https://example.com/hook" {
		t.Errorf("String = %q", got)
	}
	if got := r.String("absent", "def"); got != "def" {
		t.Errorf("String default = %q", got)
	}
	if got := r.String("empty", "def"); got != "def" {
		t.Errorf("null value should read as absent, got %q", got)
	}
	if !r.Bool("strict", false) || r.Bool("absent-bool", false) {
		t.Error("Bool")
	}
	if got := r.Duration("tolerance", time.Minute); got != 10*time.Minute {
		t.Errorf("Duration = %v", got)
	}
	if got := r.Int("retries", 0); got != 3 {
		t.Errorf("Int = %d", got)
	}
	if got := r.StringSlice("events"); strings.Join(got, ",") != "a,b" {
		t.Errorf("StringSlice = %v", got)
	}
	if got := r.StringSlice("one"); len(got) != 1 || got[0] != "only" {
		t.Errorf("StringSlice of one string = %v", got)
	}
	if err := r.Done(); err != nil {
		t.Fatalf("Done = %v", err)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		read func(r *Reader)
		want []string // substrings of the error; nil means no error
	}{
		{"unknown key lists known ones", map[string]any{"publc_url": "x"},
			func(r *Reader) { r.String("public_url", ""); r.Bool("strict", false) },
			[]string{`unknown option "publc_url" for kind "acme" (known: public_url, strict)`}},
		{"unknown key with no known ones", map[string]any{"x": 1}, func(r *Reader) {},
			[]string{`unknown option "x" for kind "acme" (known: none)`}},
		{"wrong type does not print the value", map[string]any{"token": 12345},
			func(r *Reader) { r.String("token", "") },
			[]string{`option "token" for kind "acme": want a string, got a number`}},
		{"bad duration", map[string]any{"tolerance": "5 minutes"},
			func(r *Reader) { r.Duration("tolerance", 0) }, []string{`option "tolerance"`, "invalid duration"}},
		{"list with a number", map[string]any{"ids": []any{"a", 2}},
			func(r *Reader) { r.StringSlice("ids") }, []string{`option "ids" for kind "acme": item 1: want a string, got a number`}},
		{"required missing", nil, func(r *Reader) { r.RequiredString("auth_token") },
			[]string{`option "auth_token" for kind "acme" is required`}},
		{"required of wrong type reported once", map[string]any{"auth_token": true},
			func(r *Reader) { r.RequiredString("auth_token") }, []string{"want a string, got a boolean"}},
		{"several problems together", map[string]any{"a": 1, "b": "x", "zz": 0},
			func(r *Reader) { r.String("a", ""); r.Bool("b", false) },
			[]string{`option "a"`, `option "b"`, `unknown option "zz"`}},
		{"bool of a string", map[string]any{"on": "yes"}, func(r *Reader) { r.Bool("on", false) },
			[]string{"want true or false, got a string"}},
		{"fractional int", map[string]any{"n": 1.5}, func(r *Reader) { r.Int("n", 0) },
			[]string{"want a whole number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader("acme", tt.opts)
			tt.read(r)
			err := r.Done()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Done = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Done = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "12345") {
				t.Errorf("error %q prints an option value", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	type send struct {
		Method string   `json:"method"`
		Paths  []string `json:"paths"`
		Status int      `json:"status"`
	}
	tests := []struct {
		name string
		v    any
		want string // error substring; "" means fine
	}{
		{"yaml-style mapping", []any{map[string]any{"method": "POST", "paths": []any{"/a"}, "status": uint64(202)}}, ""},
		{"map[any]any from older YAML decoders", []any{map[any]any{"method": "PUT"}}, ""},
		{"typo in a nested key", []any{map[string]any{"methd": "POST"}}, `unknown key "methd"`},
		{"wrong nested type", []any{map[string]any{"status": "ok"}}, "status: want a number, got a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader("generic", map[string]any{"sends": tt.v})
			var got []send
			if !r.Decode("sends", &got) {
				t.Fatal("Decode reported the key absent")
			}
			err := r.Done()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Done = %v", err)
				}
				if len(got) != 1 {
					t.Fatalf("decoded %v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Done = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	r := NewReader("generic", nil)
	var dst []send
	if r.Decode("sends", &dst) || r.Done() != nil {
		t.Fatal("absent key")
	}
}

func TestSecrets(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		insecure bool
		opts     map[string]any
		want     []string
		wantErr  string
	}{
		{name: "current only", secret: "a", want: []string{"a"}},
		{name: "current then previous", secret: "a", opts: map[string]any{"previous_secrets": []any{"b", "c"}}, want: []string{"a", "b", "c"}},
		{name: "insecure without secret", insecure: true},
		{name: "no secret", wantErr: "no secret; set secret (the token) or insecure: true"},
		{name: "empty previous", secret: "a", opts: map[string]any{"previous_secrets": []any{"b", ""}}, wantErr: "previous_secrets item 1 is empty"},
		{name: "previous without current", insecure: true, opts: map[string]any{"previous_secrets": []any{"b"}}, wantErr: "previous_secrets is set but secret is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader("k", tt.opts)
			got := r.Secrets(tt.secret, tt.insecure, "the token")
			err := r.Done()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Done() = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Secrets = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCategories(t *testing.T) {
	r := NewReader("sendgrid", map[string]any{
		"categories": map[string]any{"newsletter": "marketing", "receipts": "Transactional"},
		"asm_groups": map[any]any{41: "service"},
		"bad":        map[string]any{"x": "promo", "y": 3},
		"notmap":     "marketing",
	})
	got := r.Categories("categories")
	if len(got) != 2 || got["newsletter"] != gateway.CategoryMarketing || got["receipts"] != gateway.CategoryTransactional {
		t.Errorf("categories = %v", got)
	}
	if g := r.Categories("asm_groups"); g["41"] != gateway.CategoryService {
		t.Errorf("numeric labels: %v", g)
	}
	if r.Categories("absent") != nil {
		t.Error("absent option is not nil")
	}
	r.Categories("bad")
	r.Categories("notmap")
	err := r.Done()
	for _, want := range []string{`"bad"`, `"x"`, `promo`, `"y": want a category name, got a number`, `"notmap"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Done() = %v, want it to mention %s", err, want)
		}
	}
}

func TestCheckHTTPURL(t *testing.T) {
	for raw, want := range map[string]string{
		"":                            "url is required (the hook)",
		"ftp://x.example/secret-tok":  "url must start with http:// or https://",
		"https:///path":               "url has no host",
		"http://a b/":                 "url does not parse",
		"https://hooks.example.com/T": "",
	} {
		err := CheckHTTPURL(raw, "the hook")
		switch {
		case want == "" && err != nil, want != "" && (err == nil || err.Error() != want):
			t.Errorf("CheckHTTPURL(%q) = %v, want %q", raw, err, want)
		case err != nil && strings.Contains(err.Error(), "secret-tok"):
			t.Errorf("the URL leaked into %v", err)
		}
	}
}
