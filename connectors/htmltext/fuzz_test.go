package htmltext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzPlain: whatever HTML a vendor sends, Plain returns words separated by single spaces
// (no other white space, none at the ends); text with no markup and no entities comes back
// as its own words; and Plain is idempotent on what it returns when that holds no markup.
func FuzzPlain(f *testing.F) {
	for _, s := range []string{
		"<p>Hola,</p><p>el pedido <b>no</b> ha llegado&nbsp;todavía.</p>", "<div>a<br/>b</div>", "a<b", "a>b",
		"&lt;p&gt;x&lt;/p&gt;", "&amp;lt;", "<p\n>x</ p>", "<a href='x>y'>link</a>", "\u00a0\u2003x\t\ny", "&#0;&#xD800;",
		"<<p>>", "<li>one<li>two", "&notit; &notin; &", "\xff\xfe<p>\xc3", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Plain(in)
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("Plain(%q) = %q: spaces at the ends or doubled", in, out)
		}
		if strings.IndexFunc(out, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) >= 0 {
			t.Fatalf("Plain(%q) = %q: white space other than ' '", in, out)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Plain(%q) = %q: invalid UTF-8 from valid input", in, out)
		}
		if !strings.ContainsAny(in, "<&") {
			if want := strings.Join(strings.Fields(in), " "); out != want {
				t.Fatalf("Plain(%q) = %q, want its words %q", in, out, want)
			}
		}
		if !strings.ContainsAny(out, "<&") {
			if again := Plain(out); again != out {
				t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
			}
		}
	})
}
