package sentiment

import (
	"bufio"
	"embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexicons are data files, embedded and parsed by New (never at package init).
// lexicon/SOURCES.md records where each comes from and its licence.
//
//go:embed lexicon/en_vader.txt lexicon/en_hush.txt lexicon/es_afinn.txt lexicon/es_hush.txt
var lexiconFiles embed.FS

// role is what a function word does to its neighbours instead of carrying valence.
type role uint8

const (
	roleNone     role = iota
	roleNegator       // "not", "no", "nunca", "sin": flips the next words (×-0.74)
	rolePartial       // "poco" in "poco profesional": half a negation (×-0.5)
	roleBooster       // "very", "muy" (+0.293) and dampeners "kind of", "un poco" (-0.293)
	roleBut           // "but", "pero", "sin embargo": the clause after it weighs more
	roleAlthough      // "aunque", "although": the other clause weighs more
	roleSkip          // a phrase that only consumes its words ("at least" before "least")
)

// entry is what a word or phrase means to the scorer.
type entry struct {
	valence float64 // lexicon valence on VADER's scale; 0 with hasVal means neutralized
	boost   float64 // roleBooster: scalar added to the next valence's magnitude
	hasVal  bool
	role    role
	noFlip  bool // a phrase that starts with a negator: not negated again
}

// language is one language's tables: single words, phrases (2-5 words) and the light
// stemmer's fallback.
type language struct {
	code        string
	words       map[string]entry
	phrases     map[string]entry
	phraseHeads map[string]uint8 // first word of a phrase → longest phrase length (tokens)
	stems       map[string]float64
	stem        func([]byte) int // length of the stem of a folded word
	// Special rules from VADER that only apply in English ("never so", "without doubt").
	english bool
}

const maxPhrase = 6

// foldTerm folds a lexicon term exactly as tokenize folds text: lower case, accents
// removed, single spaces.
func foldTerm(s string) string {
	var b []byte
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && len(b) > 0 {
			b = append(b, ' ')
		}
		space = false
		b = utf8.AppendRune(b, fold(unicode.ToLower(r)))
	}
	return string(b)
}

// readLexicon parses "term<TAB>valence[<TAB>…]" (VADER, AFINN) or "term valence" (hush's
// files, where a term may be a phrase and # starts a comment). Repeated terms average
// (AFINN-es lists some words several times). Valences are clamped to VADER's ±4.
func readLexicon(name string) (map[string]float64, error) {
	data, err := lexiconFiles.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read embedded lexicon %s: %w", name, err)
	}
	sums := map[string]float64{}
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" {
			continue
		}
		var term, num string
		if i := strings.IndexByte(text, '\t'); i >= 0 {
			term = text[:i]
			num, _, _ = strings.Cut(text[i+1:], "\t")
		} else {
			i := strings.LastIndexAny(text, " ")
			if i < 0 {
				return nil, fmt.Errorf("lexicon %s line %d: want a term and a valence", name, line)
			}
			term, num = text[:i], text[i+1:]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil {
			return nil, fmt.Errorf("lexicon %s line %d: valence %q: %w", name, line, num, err)
		}
		term = foldTerm(term)
		if term == "" || !utf8.ValidString(term) {
			return nil, fmt.Errorf("lexicon %s line %d: empty or invalid term", name, line)
		}
		sums[term] += math.Max(-4, math.Min(4, v))
		counts[term]++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan lexicon %s: %w", name, err)
	}
	out := make(map[string]float64, len(sums))
	for t, s := range sums {
		out[t] = s / float64(counts[t])
	}
	return out, nil
}

// newLanguage builds one language's tables: the general lexicon, then the hush lexicon
// over it (hush's entries win), then the function words (which never carry valence).
func newLanguage(code, general, hush string, fn map[string]entry, stem func([]byte) int, english bool) (*language, error) {
	l := &language{
		code:        code,
		words:       map[string]entry{},
		phrases:     map[string]entry{},
		phraseHeads: map[string]uint8{},
		stems:       map[string]float64{},
		stem:        stem,
		english:     english,
	}
	for _, name := range []string{general, hush} {
		lex, err := readLexicon(name)
		if err != nil {
			return nil, err
		}
		for term, v := range lex {
			e := entry{valence: v, hasVal: true}
			if v == 0 && strings.Contains(term, " ") {
				// A neutral phrase ("eso es todo", "por favor") consumes its words and, like
				// a clause break, stops negation from reaching past it.
				e.role = roleSkip
			}
			l.set(term, e)
		}
	}
	for term, e := range fn {
		l.set(foldTerm(term), e)
	}
	for term, e := range l.phrases {
		head, _, _ := strings.Cut(term, " ")
		if e.role == roleNone && l.words[head].role == roleNegator {
			e.noFlip = true
			l.phrases[term] = e
		}
	}
	if stem != nil {
		// The stem fallback averages every single-word valence that shares a stem.
		sums := map[string]float64{}
		counts := map[string]int{}
		for w, e := range l.words {
			if !e.hasVal || e.role != roleNone || e.valence == 0 {
				continue
			}
			n := stem([]byte(w))
			if n < 4 {
				continue
			}
			s := w[:n]
			sums[s] += e.valence
			counts[s]++
		}
		for s, sum := range sums {
			l.stems[s] = sum / float64(counts[s])
		}
	}
	return l, nil
}

func (l *language) set(term string, e entry) {
	n := strings.Count(term, " ") + 1
	if n == 1 {
		l.words[term] = e
		return
	}
	if n > maxPhrase {
		return
	}
	l.phrases[term] = e
	head, _, _ := strings.Cut(term, " ")
	if uint8(n) > l.phraseHeads[head] {
		l.phraseHeads[head] = uint8(n)
	}
}

// lookup is a single word's entry: exact, else through the stemmer (valence only).
func (l *language) lookup(w []byte) (entry, bool) {
	if e, ok := l.words[string(w)]; ok {
		return e, true
	}
	if l.stem != nil && len(w) >= 5 {
		if n := l.stem(w); n >= 4 {
			if v, ok := l.stems[string(w[:n])]; ok {
				return entry{valence: v, hasVal: true}, true
			}
		}
	}
	return entry{}, false
}
