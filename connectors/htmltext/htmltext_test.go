package htmltext

import "testing"

func TestPlain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>Hello</p>", "Hello"},
		{"<p>a</p><p>b</p>", "a b"},
		{"line<br>next<br/>last", "line next last"},
		{"un<b>believ</b>able &amp; <a href=\"x\">linked</a>", "unbelievable & linked"},
		{"  spaced \n\t out  ", "spaced out"},
		{"&lt;script&gt; stays text", "<script> stays text"},
		{"unterminated <p", "unterminated"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Plain(tt.in); got != tt.want {
			t.Errorf("Plain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
