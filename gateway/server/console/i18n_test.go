package console

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogRefusesDuplicatesAndGaps(t *testing.T) {
	tests := []struct {
		name   string
		tables []map[string]Message
		ok     bool
	}{
		{"fine", []map[string]Message{{"a": {EN: "A", ES: "A"}}, {"b": {EN: "B", ES: "Be"}}}, true},
		{"defined twice", []map[string]Message{{"a": {EN: "A", ES: "A"}}, {"a": {EN: "A", ES: "A"}}}, false},
		{"no Spanish", []map[string]Message{{"a": {EN: "A"}}}, false},
		{"blank English", []map[string]Message{{"a": {EN: "  ", ES: "A"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCatalog(tt.tables...)
			if (err == nil) != tt.ok {
				t.Fatalf("NewCatalog error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCatalogTranslatesAndMarksMissingKeys(t *testing.T) {
	c, err := NewCatalog(map[string]Message{"hi": {EN: "Hello %s", ES: "Hola %s"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T(Spanish, "hi", "Ana"); got != "Hola Ana" {
		t.Errorf("Spanish: %q", got)
	}
	if got := c.T(English, "hi", "Ana"); got != "Hello Ana" {
		t.Errorf("English: %q", got)
	}
	if got := c.T(English, "nope"); !strings.HasPrefix(got, MissingMarker()) || !strings.Contains(got, "nope") {
		t.Errorf("a missing key shows %q", got)
	}
}

// templateKey finds the literal keys templates translate: {{.T "key"}}, {{$.T "key" …}}.
var templateKey = regexp.MustCompile(`\bT "([^"]+)"`)

// Every key any template names literally must be in the catalog, in both languages (the
// catalog refuses a message without both). Keys built in Go ("flash."+…) are checked by
// rendering the pages in the server's tests.
func TestEveryTemplateKeyIsInTheCatalog(t *testing.T) {
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	seen := 0
	for _, f := range files {
		b, err := fs.ReadFile(templateFiles, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			seen++
			if !cat.Has(m[1]) {
				t.Errorf("%s uses %q, which the catalog lacks", f, m[1])
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found only %d keys: is the pattern still right?", seen)
	}
}

// The shared vocabulary covers every reason, category and channel the gateway knows.
func TestCatalogHasTheSharedVocabulary(t *testing.T) {
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"reason.incident", "reason.opted_out", "reason.silenced", "reason.quiet_hours", "reason.frequency_cap", "reason.allowed",
		"error.title", "error.viewer", "error.csrf", "error.signin", "error.internal", "error.notfound"}
	for _, c := range []string{"transactional", "service", "incident", "marketing", "sales", "survey"} {
		keys = append(keys, "category."+c)
	}
	for _, c := range []string{"email", "sms", "voice", "whatsapp", "push"} {
		keys = append(keys, "channel."+c)
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("the catalog lacks %q", k)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept, chosen string
		want           Lang
	}{
		{"es-ES,es;q=0.9", "", Spanish},
		{"en-GB,en;q=0.8", "", English},
		{"en-US", "", English},
		{"fr-FR,fr;q=0.9", "", Spanish}, // neither: Spanish by default
		{"", "", Spanish},
		{"garbage;;;q=x", "", Spanish},
		{"es;q=0.2,en;q=0.9", "", English}, // q-values rank
		{"en;q=0.1,es;q=0.8", "", Spanish},
		{"fr,en;q=0.5", "", English}, // the first one the console speaks
		{"en-GB", "es", Spanish},     // the switch's cookie wins
		{"es-ES", "en", English},
		{"en-GB", "de", English}, // a cookie naming another language is ignored
	}
	for _, tt := range tests {
		if got := Negotiate(tt.accept, tt.chosen, ""); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", tt.accept, tt.chosen, got, tt.want)
		}
	}
	// The config's language is the fallback when the browser names neither.
	for _, tt := range []struct {
		accept   string
		fallback Lang
		want     Lang
	}{
		{"fr-FR", English, English},
		{"", English, English},
		{"es-ES", English, Spanish}, // the browser still wins
		{"fr-FR", "de", Spanish},    // a fallback the console does not speak is Spanish
	} {
		if got := Negotiate(tt.accept, "", tt.fallback); got != tt.want {
			t.Errorf("Negotiate(%q, \"\", %q) = %s, want %s", tt.accept, tt.fallback, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	es, en := &View{Lang: Spanish}, &View{Lang: English}
	for _, tt := range []struct{ got, want string }{
		{es.Num(1234567), "1.234.567"}, {en.Num(1234567), "1,234,567"}, {en.Num(-1000), "-1,000"}, {en.Num(12), "12"},
		{es.Money(1234.5, "EUR"), "1.234,50 EUR"}, {en.Money(1234.5, "EUR"), "1,234.50 EUR"}, {en.Money(0.015, ""), "0.02"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
