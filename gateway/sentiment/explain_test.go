package sentiment

import (
	"os"
	"testing"
)

// TestExplain prints each unit's valence for HUSH_EXPLAIN="text" (a tuning aid).
func TestExplain(t *testing.T) {
	text := os.Getenv("HUSH_EXPLAIN")
	if text == "" {
		t.Skip("set HUSH_EXPLAIN to a text to see how it is scored")
	}
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &scratch{}
	a.tokenize(text, &s.t)
	l := a.es
	if a.detect(&s.t) == English {
		l = a.en
	}
	sum := a.valenceSum(l, &s.t, s, 0)
	for _, it := range s.items {
		t.Logf("%-20q role=%d lex=%+.2f -> %+.3f", s.t.text(it.last), it.e.role, it.e.valence, it.valence)
	}
	t.Logf("sum %.3f; result %+v", sum, a.Analyze(text))
}
