package sentiment

// VADER's empirically derived constants (Hutto & Gilbert 2014), as in the reference
// implementation.
const (
	boostIncr     = 0.293 // booster word ("very", "muy")
	boostDecr     = -0.293
	capsIncr      = 0.733 // a word in capitals among lower-case words
	negScalar     = -0.74 // a negated valence
	partialScalar = -0.8  // "poco profesional" is litotes for "unprofessional"
	neverSoScale  = 1.25  // "never so good"
	butScale      = 0.5   // before "but" ×0.5, after ×1.5
	exclaimIncr   = 0.292 // each "!" up to four
	maxExclaims   = 4
	questionIncr  = 0.18 // two or three "?"
	maxQuestion   = 0.96 // more than three "?"
	normAlpha     = 15   // compound = sum / sqrt(sum² + alpha)
)

func booster(v float64) entry { return entry{role: roleBooster, boost: v} }

var (
	negator  = entry{role: roleNegator}
	partial  = entry{role: rolePartial}
	butWord  = entry{role: roleBut}
	although = entry{role: roleAlthough}
	skip     = entry{role: roleSkip, hasVal: true}
)

// englishFunctionWords are VADER's negations, boosters/dampeners and contrast, plus a few
// contact-center spellings. Built by New (a fresh map per Analyzer: no shared state).
func englishFunctionWords() map[string]entry {
	m := map[string]entry{}
	for _, w := range []string{
		"aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
		"ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
		"dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
		"don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
		"neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
		"oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
		"oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
		"without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
		"no", "least", "nobody", "noone",
	} {
		m[w] = negator
	}
	for _, w := range []string{
		"absolutely", "amazingly", "awfully", "completely", "considerable", "considerably",
		"decidedly", "deeply", "effing", "enormous", "enormously", "entirely", "especially",
		"exceptional", "exceptionally", "extreme", "extremely", "fabulously", "flipping",
		"flippin", "frackin", "fracking", "fricking", "frickin", "frigging", "friggin", "fully",
		"fuckin", "fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely",
		"incredible", "incredibly", "intensely", "major", "majorly", "more", "most",
		"particularly", "purely", "quite", "really", "remarkably", "so", "substantially",
		"thoroughly", "total", "totally", "tremendous", "tremendously", "uber",
		"unbelievably", "unusually", "utter", "utterly", "very", "super", "bloody", "damn",
		"such", "too",
	} {
		m[w] = booster(boostIncr)
	}
	for _, w := range []string{
		"almost", "barely", "hardly", "just enough", "kind of", "kinda", "kindof", "kind-of",
		"less", "little", "marginal", "marginally", "occasional", "occasionally", "partly",
		"scarce", "scarcely", "slight", "slightly", "somewhat", "sort of", "sorta", "sortof",
		"sort-of", "a bit", "a little",
	} {
		m[w] = booster(boostDecr)
	}
	m["but"] = butWord
	m["however"] = butWord
	m["although"] = although
	m["though"] = although
	m["even though"] = although
	m["at least"] = skip
	m["very least"] = skip
	// VADER's idioms, as phrases.
	for p, v := range map[string]float64{
		"cut the mustard": 2, "hand to mouth": -2, "back handed": -2, "blow smoke": -2,
		"blowing smoke": -2, "upper hand": 1, "break a leg": 2, "cooking with gas": 2,
		"in the black": 2, "in the red": -2, "on the ball": 2, "under the weather": -2,
		"the shit": 3, "the bomb": 3, "bad ass": 1.5, "badass": 1.5, "yeah right": -2,
		"kiss of death": -1.5, "to die for": 3,
	} {
		m[p] = entry{valence: v, hasVal: true}
	}
	return m
}

// spanishFunctionWords: negation (with negative concord: "no … nunca" negates once),
// boosters and dampeners, "poco" as half a negation, contrast.
func spanishFunctionWords() map[string]entry {
	m := map[string]entry{}
	for _, w := range []string{
		"no", "nunca", "ni", "tampoco", "jamas", "sin", "nada", "nadie", "ningun", "ninguna",
		"ninguno", "apenas",
	} {
		m[w] = negator
	}
	m["poco"] = partial
	m["poca"] = partial
	m["pocos"] = partial
	m["pocas"] = partial
	for _, w := range []string{
		"muy", "mucho", "mucha", "muchos", "muchas", "muchisimo", "muchisima", "super",
		"tan", "tanto", "tanta", "demasiado", "demasiada", "bastante", "totalmente",
		"completamente", "absolutamente", "realmente", "extremadamente", "sumamente",
		"increiblemente", "terriblemente", "especialmente", "enormemente", "re", "requete",
		"mas", "de verdad", "de lo mas", "la verdad", "todo un", "toda una", "mega",
		"fatalmente", "verdaderamente", "francamente",
	} {
		m[w] = booster(boostIncr)
	}
	for _, w := range []string{
		"un poco", "algo", "casi", "un tanto", "ligeramente", "mas o menos", "medio",
		"un pelin", "un pelín", "relativamente", "parcialmente",
	} {
		m[w] = booster(boostDecr)
	}
	m["pero"] = butWord
	m["sin embargo"] = butWord
	m["no obstante"] = butWord
	m["aunque"] = although
	m["si bien"] = although
	m["a pesar de que"] = although
	// Phrases whose words must not act on their own: "para nada" is an emphatic "no"
	// ("¿le molesta? para nada"), not "nada" negating what follows.
	m["para nada"] = skip
	m["de nada"] = entry{valence: 0.5, hasVal: true}
	m["nada mas"] = skip
	m["no solo"] = skip
	m["mas que"] = skip
	m["sin duda"] = entry{valence: 0.5, hasVal: true}
	return m
}

// emojiValences are hush-written valences for the emoji customers use in chats (VADER
// translates emoji to words; a table is faster and covers what matters here).
func emojiValences() map[rune]float64 {
	return map[rune]float64{
		'😡': -3, '🤬': -3.5, '😠': -2.5, '😤': -2, '😞': -2, '😔': -1.5, '😢': -2, '😭': -2.5,
		'👎': -2, '💩': -2.5, '🙄': -1.5, '😒': -1.5, '😩': -2, '😫': -2, '🤦': -1.5, '😑': -1,
		'😐': -0.5, '😕': -1, '🙁': -1.5, '☹': -2, '😖': -2, '😣': -2, '😓': -1.5, '💔': -2.5,
		'😂': 0.5, '🤣': 0.5, '😊': 2, '🙂': 1, '😀': 2, '😃': 2, '😄': 2, '😁': 2, '😍': 3,
		'🥰': 3, '❤': 2.5, '💕': 2.5, '💖': 2.5, '👍': 2, '👏': 2, '🙏': 1.5, '😉': 1, '👌': 2,
		'✅': 1, '💯': 2, '🎉': 2.5, '🥳': 2.5, '😘': 2.5, '🤗': 2, '⭐': 1.5, '🌟': 2,
	}
}

// aliases rewrite chat spellings to the word the tables know ("q" → "que"). Only
// one-word to one-word, and none that would be a real word in the other language.
func aliases() map[string]string {
	return map[string]string{
		"q": "que", "k": "que", "xq": "porque", "pq": "porque", "porq": "porque",
		"tb": "tambien", "tmb": "tambien", "tbn": "tambien", "xfa": "porfavor",
		"porfa": "porfavor", "dnd": "donde", "grax": "gracias",
		"thx": "thanks", "thnx": "thanks", "ty": "thanks", "plz": "please", "pls": "please",
		"ur": "your", "r": "are", "cuz": "because", "bc": "because", "wat": "what", "u": "you",
		"tp": "tampoco", "bn": "bien", "xa": "para", "ke": "que", "kiero": "quiero", "aki": "aqui",
	}
}

// stopwords votes for a language: +1 Spanish, -1 English. Short, frequent, and not
// shared by the two languages.
func stopwords() map[string]int8 {
	m := map[string]int8{}
	for _, w := range []string{
		"el", "la", "los", "las", "un", "una", "unos", "de", "del", "que", "y", "en", "es",
		"por", "para", "con", "no", "se", "lo", "le", "les", "me", "mi", "mis", "te", "tu",
		"su", "sus", "al", "pero", "mas", "ya", "muy", "esta", "este", "esto", "estoy",
		"hay", "he", "ha", "han", "hace", "porque", "cuando", "como", "donde", "nada",
		"nunca", "todo", "todos", "otra", "vez", "sin", "hola", "gracias", "buenas", "sigo",
		"llevo", "quiero", "tengo", "son", "ser", "estan", "soy", "os", "vosotros", "usted",
		"ustedes", "nos", "ni", "tambien", "aun", "todavia", "siempre", "bien", "mal",
		"ahora", "hoy", "ayer", "mañana", "dias", "semana", "factura", "linea", "llamo",
		"porfavor", "vale", "si", "eso", "fue", "era", "cuenta", "servicio", "pedido",
	} {
		m[w] = 1
	}
	for _, w := range []string{
		"the", "a", "an", "and", "of", "to", "is", "are", "was", "were", "in", "on", "at",
		"for", "with", "it", "its", "it's", "this", "that", "i", "i'm", "im", "my", "me",
		"you", "your", "we", "our", "they", "their", "be", "been", "have", "has", "had",
		"do", "does", "did", "not", "don't", "can't", "won't", "but", "or", "so", "if",
		"what", "when", "why", "how", "who", "just", "still", "again", "thanks", "thank",
		"please", "hi", "hello", "can", "will", "would", "could", "get", "got", "from",
		"there", "here", "about", "after", "time", "service", "account", "order", "bill",
		"want", "need", "no", "very", "really", "all", "out", "up", "call", "called",
	} {
		m[w]--
	}
	return m
}

// spanishStem is a light, allocation-free Spanish stemmer: it returns the length of the
// stem of a folded word (adverbs in -mente, plurals, -ísimo, final vowel; verb endings
// are left alone: they made "procesado" and "proceso" one word). Used only when a word is
// not in the lexicon as written, on both sides (lexicon words and text words go through
// it alike). Snowball's Spanish stemmer was measured at ~1.5 µs a word: too slow for
// the 20 µs budget of a message.
func spanishStem(w []byte) int {
	n := len(w)
	has := func(suf string) bool {
		return n-len(suf) >= 3 && string(w[n-len(suf):n]) == suf
	}
	if has("mente") {
		n -= 5
	}
	switch {
	case has("ces"):
		n -= 3
	case has("es") && n >= 5 && !isVowel(w[n-3]):
		n -= 2
	case has("s"):
		n--
	}
	if has("z") {
		n--
	}
	if has("isimo") || has("isima") {
		n -= 5
	}
	if has("a") || has("o") || has("e") {
		n--
	}
	return n
}

// englishStem strips the commonest English inflections (-s, -es, -ed, -ing, -ly) for the
// same fallback.
func englishStem(w []byte) int {
	n := len(w)
	has := func(suf string) bool {
		return n-len(suf) >= 3 && string(w[n-len(suf):n]) == suf
	}
	switch {
	case has("ing"):
		n -= 3
	case has("ied"):
		n -= 2
	case has("ed"):
		n -= 2
	case has("ly"):
		n -= 2
	case has("es"):
		n -= 2
	case has("s") && !has("ss"):
		n--
	}
	if has("e") {
		n--
	}
	return n
}

func isVowel(b byte) bool {
	switch b {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}
