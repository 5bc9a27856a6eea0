package sentiment

import (
	"unicode"
	"unicode/utf8"
)

// token is one word, emoticon or emoji of a text, as a span of the folded buffer.
// The buffer holds every token folded (lower case, accents removed, ñ kept) and joined
// by single spaces, so that any run of consecutive tokens is itself a substring
// ("sin servicio") and phrase lookups need no allocation.
type token struct {
	start, end int32
	upper      bool // written in capitals (two letters or more, all upper case)
	word       bool // has letters (emoticons, emoji and numbers do not)
	brk        bool // a clause break (, ; . : ! ? …) follows the token
}

// tokenized is a text after tokenize: the folded buffer, its tokens and the punctuation
// VADER weighs.
type tokenized struct {
	buf       []byte
	toks      []token
	exclaims  int
	questions int
	esChars   int // ñ, ¿, ¡ and accented vowels: evidence for Spanish
}

func (t *tokenized) text(i int) string { return string(t.buf[t.toks[i].start:t.toks[i].end]) }

// span is the folded text of tokens i..j inclusive ("no hay problema").
func (t *tokenized) span(i, j int) []byte { return t.buf[t.toks[i].start:t.toks[j].end] }

// fold maps a lower-case rune to its accent-free form. ñ stays (año is not ano); ç and
// the vowels with acute, grave, circumflex or diaeresis lose their marks.
func fold(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ç':
		return 'c'
	case '’', '‘', '`', '´':
		return '\''
	}
	return r
}

// spanishMark tells whether r is written almost only in Spanish among en/es.
func spanishMark(r rune) bool {
	switch r {
	case 'ñ', 'Ñ', '¿', '¡', 'á', 'é', 'í', 'ó', 'ú', 'Á', 'É', 'Í', 'Ó', 'Ú':
		return true
	}
	return false
}

func isBreak(r rune) bool {
	switch r {
	case ',', ';', '.', ':', '!', '?', '…', '¿', '¡', '(', ')', '"', '«', '»', '\n':
		return true
	}
	return false
}

// tokenize splits text into tokens: whitespace-separated chunks that are known emoticons
// (":)", ":-(") stay whole; other chunks split into runs of letters and digits (an
// apostrophe inside a word is kept: "don't"), and each emoji the analyzer knows becomes a
// token of its own. Runs of three or more equal letters shrink to one ("muuuy" → "muy").
// into is reused storage (its capacity, not its contents).
func (a *Analyzer) tokenize(text string, into *tokenized) {
	t := into
	t.buf = t.buf[:0]
	t.toks = t.toks[:0]
	t.exclaims, t.questions, t.esChars = 0, 0, 0
	for pos := 0; pos < len(text); {
		// Skip whitespace, noting breaks.
		r, size := utf8.DecodeRuneInString(text[pos:])
		if unicode.IsSpace(r) {
			if r == '\n' && len(t.toks) > 0 {
				t.toks[len(t.toks)-1].brk = true
			}
			pos += size
			continue
		}
		end := pos
		for end < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[end:])
			if unicode.IsSpace(r2) {
				break
			}
			end += s2
		}
		chunk := text[pos:end]
		pos = end
		if len(chunk) <= 8 {
			if _, ok := a.emoticons[chunk]; ok {
				t.add(chunk, false, false)
				continue
			}
		}
		a.scanChunk(chunk, t)
	}
}

// add appends one token with folded text s.
func (t *tokenized) add(s string, upper, word bool) {
	if len(t.toks) > 0 {
		t.buf = append(t.buf, ' ')
	}
	start := int32(len(t.buf))
	t.buf = append(t.buf, s...)
	t.toks = append(t.toks, token{start: start, end: int32(len(t.buf)), upper: upper, word: word})
}

func (a *Analyzer) scanChunk(chunk string, t *tokenized) {
	inWord := false
	var upperN, lowerN int
	var last rune
	var run int
	collapsed := false // a run of three equal letters was shrunk in this token
	startTok := func() {
		if len(t.toks) > 0 {
			t.buf = append(t.buf, ' ')
		}
		t.toks = append(t.toks, token{start: int32(len(t.buf))})
		inWord, upperN, lowerN, last, run, collapsed = true, 0, 0, 0, 0, false
	}
	endTok := func() {
		if !inWord {
			return
		}
		tk := &t.toks[len(t.toks)-1]
		// A trailing apostrophe is quotation, not part of the word.
		for len(t.buf) > int(tk.start) && t.buf[len(t.buf)-1] == '\'' {
			t.buf = t.buf[:len(t.buf)-1]
		}
		if r, size := utf8.DecodeRune(t.buf[tk.start:]); collapsed && int(tk.start)+size == len(t.buf) {
			// The whole token was one letter repeated ("BBB", "www"): an acronym, kept.
			t.buf = utf8.AppendRune(utf8.AppendRune(t.buf, r), r)
		}
		tk.end = int32(len(t.buf))
		tk.word = upperN+lowerN > 0
		tk.upper = upperN >= 2 && lowerN == 0
		if tk.end == tk.start {
			t.toks = t.toks[:len(t.toks)-1]
			if len(t.toks) > 0 {
				t.buf = t.buf[:len(t.buf)-1] // the separating space
			}
		} else if alias, ok := a.aliases[string(t.buf[tk.start:tk.end])]; ok {
			t.buf = append(t.buf[:tk.start], alias...)
			tk.end = int32(len(t.buf))
		}
		inWord = false
	}
	for _, r := range chunk {
		if spanishMark(r) {
			t.esChars++
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '\'' || r == '’') && inWord:
			if !inWord {
				startTok()
			}
			if unicode.IsUpper(r) {
				upperN++
			} else if unicode.IsLetter(r) {
				lowerN++
			}
			f := fold(unicode.ToLower(r))
			if f == last {
				run++
				if run >= 2 && unicode.IsLetter(f) {
					// Third equal letter in a row: drop it and shrink the pair to one.
					if run == 2 {
						collapsed = true
						t.buf = t.buf[:len(t.buf)-utf8.RuneLen(f)]
					}
					continue
				}
			} else {
				last, run = f, 0
			}
			t.buf = utf8.AppendRune(t.buf, f)
		case r == 0xFE0F || r == 0x200D || (r >= 0x1F3FB && r <= 0x1F3FF):
			// Variation selectors, joiners and skin tones carry no sentiment.
		default:
			endTok()
			if _, ok := a.emoji[r]; ok {
				t.addRune(r)
				continue
			}
			switch r {
			case '!', '¡':
				if r == '!' {
					t.exclaims++
				}
			case '?':
				t.questions++
			}
			if isBreak(r) && len(t.toks) > 0 {
				t.toks[len(t.toks)-1].brk = true
			}
		}
	}
	endTok()
}

// addRune appends a one-rune token (an emoji).
func (t *tokenized) addRune(r rune) {
	if len(t.toks) > 0 {
		t.buf = append(t.buf, ' ')
	}
	start := int32(len(t.buf))
	t.buf = utf8.AppendRune(t.buf, r)
	t.toks = append(t.toks, token{start: start, end: int32(len(t.buf))})
}
