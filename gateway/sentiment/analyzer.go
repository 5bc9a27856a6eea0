package sentiment

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/hush-gateway/hush/gateway"
)

// Label thresholds on the compound score, chosen on the development set
// (testdata/dev_*.jsonl; see docs/sentiment.md). VADER's own are ±0.05; hush's negative
// threshold is lower because a label "negative" starts a cool-down, and a slightly
// negative word in an otherwise plain request ("tengo un problema con la factura") is not
// a frustrated customer.
const (
	NegativeThreshold = -0.2 // score <= this → negative
	PositiveThreshold = 0.3  // score >= this → positive
)

// How cues move the score. A strong cue (cancellation, repeat contact, formal complaint,
// regulator) is the customer saying they are unhappy even when every word is polite
// ("gracias, pero quiero darme de baja"): each adds cueWeight of negative valence, and the
// final score is at most cueCeiling, so that the label is negative. A competitor's name
// alone is weaker (people mention competitors in neutral questions): it only adds
// competitorWeight, and only to a text that is already not positive.
const (
	cueWeight        = 1.5
	cueCeiling       = -0.3
	competitorWeight = 0.75
)

// Analyzer scores texts. It holds only read-only tables built by New and a pool of
// scratch buffers, so one Analyzer serves every goroutine.
type Analyzer struct {
	en, es      *language
	emoticons   map[string]float64
	emoji       map[rune]float64
	aliases     map[string]string
	stopwords   map[string]int8
	cues        cueIndex
	defaultLang string
	scratch     sync.Pool // *scratch
}

type scratch struct {
	t     tokenized
	items []item
}

// item is one scoring unit: a word, or a phrase matched as one.
type item struct {
	e       entry
	found   bool
	upper   bool
	brk     bool // clause break after the unit
	last    int  // index of the unit's last token
	valence float64
}

// New parses the embedded lexicons and builds an Analyzer.
func New(opts Options) (*Analyzer, error) {
	a := &Analyzer{
		emoji:     emojiValences(),
		aliases:   aliases(),
		stopwords: stopwords(),
	}
	switch opts.DefaultLanguage {
	case "", Spanish:
		a.defaultLang = Spanish
	case English:
		a.defaultLang = English
	default:
		return nil, fmt.Errorf("sentiment: default language %q: want en or es", opts.DefaultLanguage)
	}
	var err error
	if a.en, err = newLanguage(English, "lexicon/en_vader.txt", "lexicon/en_hush.txt", englishFunctionWords(), englishStem, true); err != nil {
		return nil, fmt.Errorf("sentiment: build English tables: %w", err)
	}
	if a.es, err = newLanguage(Spanish, "lexicon/es_afinn.txt", "lexicon/es_hush.txt", spanishFunctionWords(), spanishStem, false); err != nil {
		return nil, fmt.Errorf("sentiment: build Spanish tables: %w", err)
	}
	// Emoticons (":)", ":-(") are VADER lexicon entries made of punctuation: tokenize
	// keeps them whole, and both languages score them.
	a.emoticons = map[string]float64{}
	for w, e := range a.en.words {
		if e.hasVal && isEmoticon(w) {
			a.emoticons[w] = e.valence
			a.es.words[w] = e
		}
	}
	for r, v := range a.emoji {
		e := entry{valence: v, hasVal: true}
		a.en.words[string(r)] = e
		a.es.words[string(r)] = e
	}
	if a.cues, err = buildCues(opts.Competitors); err != nil {
		return nil, fmt.Errorf("sentiment: build cues: %w", err)
	}
	a.scratch.New = func() any { return &scratch{} }
	return a, nil
}

func isEmoticon(w string) bool {
	letters := 0
	for _, r := range w {
		if isWordRune(r) {
			letters++
		}
	}
	return letters < len([]rune(w)) && len(w) <= 8
}

// Analyze scores text, detecting its language.
func (a *Analyzer) Analyze(text string) Result { return a.AnalyzeLang(text, "") }

// AnalyzeLang scores text in lang (en or es; "" or anything else: detect).
func (a *Analyzer) AnalyzeLang(text, lang string) Result {
	s := a.scratch.Get().(*scratch)
	defer a.scratch.Put(s)
	t := &s.t
	a.tokenize(text, t)
	if len(t.toks) == 0 {
		return Result{Label: Neutral}
	}
	var l *language
	switch lang {
	case English:
		l = a.en
	case Spanish:
		l = a.es
	default:
		if a.detect(t) == English {
			l = a.en
		} else {
			l = a.es
		}
	}
	found, implicit := a.cues.match(t)
	implicit += leadingLowScore(text)
	sum := a.valenceSum(l, t, s, implicit)

	strong := found &^ (1 << (len(cueOrder) - 1))
	if strong != 0 {
		n := 0
		for b := strong; b != 0; b &= b - 1 {
			n++
		}
		sum -= cueWeight * float64(min(n, 2))
	} else if found != 0 && sum <= 0 {
		sum -= competitorWeight
	}
	score := sum / math.Sqrt(sum*sum+normAlpha)
	score = math.Max(-1, math.Min(1, score))
	if strong != 0 {
		score = math.Min(score, cueCeiling)
	}
	score = math.Round(score*1e4) / 1e4
	res := Result{Score: score, Label: labelOf(score), Language: l.code}
	if found != 0 {
		res.Cues = make([]string, 0, 2)
		for i, name := range cueOrder {
			if found&(1<<i) != 0 {
				res.Cues = append(res.Cues, name)
			}
		}
	}
	return res
}

func labelOf(score float64) string {
	switch {
	case score <= NegativeThreshold:
		return Negative
	case score >= PositiveThreshold:
		return Positive
	}
	return Neutral
}

// detect votes with stopwords, Spanish-only characters (ñ ¿ ¡ á…) and lexicon hits; a
// tie goes to the default language. whatlanggo was measured at ~53 µs and 160
// allocations per short message (and +470 KB of binary): over the whole budget.
func (a *Analyzer) detect(t *tokenized) string {
	vote := 2 * min(t.esChars, 3)
	for i := range t.toks {
		w := t.span(i, i)
		vote += int(a.stopwords[string(w)])
	}
	if vote == 0 {
		// Lexicon hits break the tie: a word only one language knows.
		for i := range t.toks {
			w := t.span(i, i)
			_, inEN := a.en.words[string(w)]
			_, inES := a.es.words[string(w)]
			if inES && !inEN {
				vote++
			} else if inEN && !inES {
				vote--
			}
		}
	}
	switch {
	case vote > 0:
		return Spanish
	case vote < 0:
		return English
	}
	return a.defaultLang
}

// valenceSum is VADER's sentiment_valence over every unit, then its "but" rule and
// punctuation emphasis, returning the raw sum before normalization.
//
// implicit is the valence of the implicit-frustration patterns (frustration.go): it
// joins the sum before punctuation emphasis, and makes a sarcastic opener count as
// negative ("Fantastic, now the app doesn't work either").
func (a *Analyzer) valenceSum(l *language, t *tokenized, s *scratch, implicit float64) float64 {
	items := s.items[:0]
	words, upperWords := 0, 0
	for i := 0; i < len(t.toks); {
		tk := t.toks[i]
		if tk.word {
			words++
			if tk.upper {
				upperWords++
			}
		}
		it := item{upper: tk.upper, brk: tk.brk, last: i}
		n := 1
		if maxN := int(l.phraseHeads[string(t.span(i, i))]); maxN > 1 {
			for k := min(maxN, len(t.toks)-i); k >= 2; k-- {
				// A phrase does not run across a clause break.
				if crosses(t, i, i+k-1) {
					continue
				}
				if e, ok := l.phrases[string(t.span(i, i+k-1))]; ok {
					it.e, it.found, n = e, true, k
					it.last = i + k - 1
					it.brk = t.toks[i+k-1].brk
					break
				}
			}
		}
		if !it.found {
			it.e, it.found = l.lookup(t.span(i, i))
		}
		for j := i + 1; j < i+n; j++ {
			if t.toks[j].word {
				words++
				if t.toks[j].upper {
					upperWords++
				}
			}
		}
		items = append(items, it)
		i += n
	}
	s.items = items
	// VADER's is_cap_diff: some words in capitals, not all.
	capDiff := upperWords > 0 && upperWords < words

	for i := range items {
		it := &items[i]
		if !it.found || !it.e.hasVal || it.e.role != roleNone || it.e.valence == 0 {
			continue
		}
		v := it.e.valence
		if it.upper && capDiff && v < 0 {
			// Capitals only strengthen negative words (hush's rule: shouting never makes
			// a text negative, and never makes a positive one more positive).
			v -= capsIncr
		}
		negated, partialNeg, neverSo, withoutDoubt := false, false, false, false
		for k := 1; k <= 3 && i-k >= 0; k++ {
			p := &items[i-k]
			if p.brk {
				break // the window stops at a clause break: "No, todo perfecto"
			}
			switch p.e.role {
			case roleBooster:
				b := p.e.boost
				if v < 0 {
					b = -b
				}
				if p.upper && capDiff && v < 0 {
					b -= capsIncr
				}
				switch k {
				case 2:
					b *= 0.95
				case 3:
					b *= 0.9
				}
				v += b
			case roleNegator:
				if answerNo(t, items, i-k) {
					break
				}
				negated = true
				if l.english && k >= 2 {
					w := string(t.span(p.last, p.last))
					next := string(t.span(items[i-k+1].last, items[i-k+1].last))
					if w == "never" && (next == "so" || next == "this") {
						neverSo = true
					}
					if w == "without" && next == "doubt" {
						withoutDoubt = true
					}
				}
			case rolePartial:
				if k == 1 || items[i-1].e.role == roleBooster {
					partialNeg = true
				}
			case roleBut, roleAlthough, roleSkip:
				k = 4 // contrast, and a filler phrase ("eso es todo"), end the window
			}
		}
		if it.e.noFlip {
			// A phrase that carries its own negation ("no funciona", "nadie me contesta")
			// is not flipped by another negator: Spanish negative concord ("nunca nadie
			// me contesta") and English emphasis say the same thing twice.
			negated, partialNeg = false, false
		}
		switch {
		case neverSo:
			v *= neverSoScale
		case withoutDoubt:
		case negated:
			v *= negScalar
		case partialNeg:
			v *= partialScalar
		}
		it.valence = v
	}

	sarcasm(t, items, implicit)

	// Contrast: VADER's "but" rule on the first contrast word. "aunque"/"although" at the
	// start of a clause concedes that clause: the one after its comma weighs more; in
	// the middle of one ("es caro, aunque funciona") it is the clause before that counts.
	pivot, before, after := -1, 1.0, 1.0
	for i := range items {
		switch items[i].e.role {
		case roleBut:
			pivot, before, after = i, 1-butScale, 1+butScale
		case roleAlthough:
			if i == 0 {
				pivot = -1
				for j := i; j < len(items)-1; j++ {
					if items[j].brk {
						pivot = j
						break
					}
				}
				if pivot < 0 {
					continue
				}
				before, after = 1-butScale, 1+butScale
			} else {
				pivot, before, after = i, 1+butScale, 1-butScale
			}
		default:
			continue
		}
		break
	}
	sum := implicit
	for i := range items {
		v := items[i].valence
		switch {
		case pivot < 0:
		case i < pivot:
			v *= before
		case i > pivot:
			v *= after
		}
		sum += v
	}
	if sum < 0 {
		// Exclamation and question marks, and a whole text in capitals, only
		// strengthen a negative text.
		sum -= float64(min(t.exclaims, maxExclaims)) * exclaimIncr
		switch {
		case t.questions > 3:
			sum -= maxQuestion
		case t.questions > 1:
			sum -= float64(t.questions) * questionIncr
		}
		if words >= 2 && upperWords == words {
			sum -= capsIncr
		}
	}
	return sum
}

// answerNo tells whether items[j] is one "no" of "no no", a spoken answer ("no no está
// todo perfecto", "no no it's fine"), not negation of what follows.
func answerNo(t *tokenized, items []item, j int) bool {
	isNo := func(k int) bool {
		return k >= 0 && k < len(items) && items[k].e.role == roleNegator &&
			items[k].last >= 0 && string(t.span(items[k].last, items[k].last)) == "no"
	}
	return isNo(j) && (isNo(j-1) || isNo(j+1))
}

// sarcasm turns a positive opener into a negative one when the rest of the text
// complains: "Genial, otra vez sin luz", "Brilliant, the engineer never turned up".
// The opener is the first unit with valence, among the first two, closed by a clause
// break; the rest must be clearly negative (lexicon and implicit patterns together) and
// carry no contrast word.
// A positive text ("Genial, muchas gracias") and a polite request are left alone.
func sarcasm(t *tokenized, items []item, implicit float64) {
	for _, it := range items {
		if it.e.role == roleBut || it.e.role == roleAlthough {
			return // a concession ("Genial, aunque caro") is weighed by the contrast rule
		}
	}
	sarcasticCloser(t, items, implicit)
	first := -1
	for i := 0; i < len(items) && i < 3; i++ {
		if items[i].valence != 0 {
			first = i
			break
		}
		if items[i].brk {
			return
		}
	}
	if first < 0 || items[first].valence <= 0 || first == len(items)-1 {
		return
	}
	// The opener stands alone: a clause of its own ("Genial, …") or after an
	// interjection ("oh brilliant so …", "ah pues estupendo …").
	if !items[first].brk && !interjection(t, items, first-1) {
		return
	}
	rest := implicit
	for _, it := range items[first+1:] {
		rest += it.valence
	}
	if rest <= sarcasmRest {
		items[first].valence = -items[first].valence
	}
}

// sarcasticCloser turns a positive word that ends a complaint into a negative one:
// "nos cortan la luz con un bebé en casa, muy bien", "…that's lovely isn't it". The word
// is the last with valence, among the last three units; what comes before it must be
// clearly negative. Thanks are never read as sarcasm here: customers thank after
// describing a problem ("me cobraron dos veces, ya está resuelto, gracias").
func sarcasticCloser(t *tokenized, items []item, implicit float64) {
	last := -1
	for i := len(items) - 1; i >= 0 && i >= len(items)-3; i-- {
		if items[i].valence != 0 {
			last = i
			break
		}
	}
	if last <= 0 || items[last].valence <= 0 || gratitude(t, items[last]) {
		return
	}
	before := implicit
	for _, it := range items[:last] {
		before += it.valence
	}
	if before <= sarcasmRest {
		items[last].valence = -items[last].valence
	}
}

func gratitude(t *tokenized, it item) bool {
	switch string(t.span(it.last, it.last)) {
	case "thanks", "thank", "you", "gracias", "cheers", "ta", "appreciated", "agradecido",
		"agradecida", "agradezco", "favor", "please", "porfavor":
		return true
	}
	return false
}

// interjection tells whether items[j] is a word said before a sarcastic opener.
func interjection(t *tokenized, items []item, j int) bool {
	if j < 0 {
		return false
	}
	switch string(t.span(items[j].last, items[j].last)) {
	case "oh", "ah", "ahh", "wow", "anda", "vaya", "pues", "ay", "uy":
		return true
	}
	return false
}

// sarcasmRest is how negative the rest of a text must be for its positive opener to be
// read as sarcasm: one clear complaint ("no funciona" is -2.5), not a mild word.
const sarcasmRest = -2.0

// leadingLowScore is the valence of a survey comment that starts with a low score:
// "3/10, …", "2 - …", "1. …". With a denominator the score is low at 40% or less; with
// none, the scale is unknown (0–10 or 1–5) and only 0–3 counts.
func leadingLowScore(text string) float64 {
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	num, n := 0, 0
	for ; i < len(text) && text[i] >= '0' && text[i] <= '9' && n < 3; i++ {
		num = num*10 + int(text[i]-'0')
		n++
	}
	if n == 0 || i >= len(text) || text[i] >= '0' && text[i] <= '9' {
		return 0
	}
	for i < len(text) && text[i] == ' ' {
		i++
	}
	if i >= len(text) {
		return 0
	}
	switch text[i] {
	case '/':
		den, m := 0, 0
		for i++; i < len(text) && text[i] == ' '; i++ {
		}
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9' && m < 3; i++ {
			den = den*10 + int(text[i]-'0')
			m++
		}
		if den > 0 && num <= den && float64(num) <= 0.4*float64(den) {
			return lowScoreWeight
		}
	case '-', '.', ':', ',', ')':
		if num <= 3 {
			return lowScoreWeight
		}
	}
	return 0
}

// lowScoreWeight: a low score given before the comment is the customer's own rating.
const lowScoreWeight = -2.0

// crosses tells whether a clause break falls inside tokens i..j.
func crosses(t *tokenized, i, j int) bool {
	for k := i; k < j; k++ {
		if t.toks[k].brk {
			return true
		}
	}
	return false
}

// ScoreText makes the Analyzer a gateway.SentimentScorer (the built-in scorer behind
// intake and the external scorer's fallback). It never fails.
func (a *Analyzer) ScoreText(_ context.Context, text, language string) (gateway.Sentiment, error) {
	r := a.AnalyzeLang(text, language)
	return gateway.Sentiment{
		Score:    r.Score,
		Label:    r.Label,
		Source:   gateway.SentimentBuiltin,
		Language: r.Language,
		Cues:     r.Cues,
	}, nil
}
