// Package sentiment scores short customer texts — chat messages, call-transcript lines,
// survey comments — in English and Spanish, offline: a polarity score in [-1, 1], a label,
// the language, and the frustration cues polarity misses (cancellation intent, repeated
// contact, formal complaints, regulators, competitors).
//
// The scorer is VADER's algorithm (lexicon valences, boosters, negation, contrast, caps and
// exclamation emphasis) run over one lexicon per language, so that a Spanish "no" is
// negation, never the English lexicon's negative word. It allocates little and takes no
// locks: one Analyzer serves every goroutine.
package sentiment

// Labels.
const (
	Negative = "negative"
	Neutral  = "neutral"
	Positive = "positive"
)

// Languages.
const (
	English = "en"
	Spanish = "es"
)

// Cue names: frustration signals found in a text, whatever its polarity.
const (
	CueCancellation  = "cancellation"   // wants to leave: "darme de baja", "cancel my account", "me voy a la competencia"
	CueRepeatContact = "repeat_contact" // "tercera vez que llamo", "third time I call", "otra vez lo mismo"
	CueComplaint     = "complaint"      // a formal complaint: "reclamación", "hoja de reclamaciones", "file a complaint"
	CueRegulator     = "regulator"      // a regulator, consumer body or lawyer: "OCU", "consumo", "FACUA", "abogado", "BBB"
	CueCompetitor    = "competitor"     // a competitor named in configuration
)

// Result is what the scorer made of one text.
type Result struct {
	Score    float64  `json:"score"`              // [-1, 1]
	Label    string   `json:"label"`              // negative | neutral | positive
	Language string   `json:"language,omitempty"` // en | es; empty when the text has no words
	Cues     []string `json:"cues,omitempty"`     // cue names, each once, in the order above
}

// Options configure an Analyzer.
type Options struct {
	// Competitors are names that mark a text with CueCompetitor ("Movistar", "Vodafone").
	// Matched as whole words, ignoring case and accents.
	Competitors []string
	// DefaultLanguage is used when a text is too short or mixed to tell (en or es; default es,
	// hush's first users' language).
	DefaultLanguage string
}
