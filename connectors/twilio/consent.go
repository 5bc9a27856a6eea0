package twilio

import (
	"net/url"
	"strings"
	"unicode"

	"github.com/hush-gateway/hush/gateway"
)

// consent is an opt-out or opt-in found in an incoming message.
type consent struct {
	eventType  string // consent.optout or consent.optin
	suffix     string // appended to the MessageSid for the consent event's id
	keyword    string // the keyword matched as written in the list below, or OptOutType's value
	detectedBy string // "OptOutType" or "keyword"
}

var (
	optOut = consent{eventType: gateway.EventConsentOptOut, suffix: "optout"}
	optIn  = consent{eventType: gateway.EventConsentOptIn, suffix: "optin"}
)

// keywords are the standard opt-out and opt-in words in English and Spanish. HELP and
// AYUDA are not here: they ask for information and change nothing. Read-only.
var keywords = []struct {
	word string
	c    consent
}{
	{"STOP", optOut}, {"STOPALL", optOut}, {"UNSUBSCRIBE", optOut}, {"CANCEL", optOut},
	{"END", optOut}, {"QUIT", optOut}, {"BAJA", optOut}, {"DARME DE BAJA", optOut},
	{"CANCELAR", optOut}, {"PARAR", optOut}, {"ALTO", optOut},
	{"START", optIn}, {"UNSTOP", optIn}, {"YES", optIn}, {"ALTA", optIn}, {"ACTIVAR", optIn},
}

// consentOf reads the message's consent. Twilio's Advanced Opt-Out sets OptOutType (STOP,
// START or HELP) after matching the Messaging Service's own, possibly custom, keywords:
// when it is present it decides alone. Without it the whole message body is compared
// with the standard keywords, ignoring case, accents and whitespace.
func consentOf(p url.Values) (consent, bool) {
	if p.Has("OptOutType") {
		t := strings.ToUpper(strings.TrimSpace(p.Get("OptOutType")))
		var c consent
		switch t {
		case "STOP":
			c = optOut
		case "START":
			c = optIn
		default: // HELP, or a value Twilio may add later
			return consent{}, false
		}
		c.keyword, c.detectedBy = t, "OptOutType"
		return c, true
	}
	body := normalizeKeyword(p.Get("Body"))
	if body == "" {
		return consent{}, false
	}
	for _, k := range keywords {
		if normalizeKeyword(k.word) == body {
			c := k.c
			c.keyword, c.detectedBy = k.word, "keyword"
			return c, true
		}
	}
	return consent{}, false
}

// maxKeywordBody bounds the text worth normalizing: no keyword is longer.
const maxKeywordBody = 64

// normalizeKeyword upper-cases s, drops every whitespace character and folds accented
// Latin letters to their base letter, so that " Darme de  Baja\n" and "BAJÁ" compare equal
// to the keywords above. Combining marks (accents typed as a separate code point) are
// dropped too.
func normalizeKeyword(s string) string {
	if len(s) > maxKeywordBody {
		return ""
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(foldAccent(unicode.ToUpper(r)))
	}
	return b.String()
}

// foldAccent maps the accented capitals of Spanish and the other Western European
// languages to their base letter.
func foldAccent(r rune) rune {
	switch r {
	case 'Á', 'À', 'Â', 'Ä', 'Ã', 'Å':
		return 'A'
	case 'É', 'È', 'Ê', 'Ë':
		return 'E'
	case 'Í', 'Ì', 'Î', 'Ï':
		return 'I'
	case 'Ó', 'Ò', 'Ô', 'Ö', 'Õ':
		return 'O'
	case 'Ú', 'Ù', 'Û', 'Ü':
		return 'U'
	case 'Ñ':
		return 'N'
	case 'Ç':
		return 'C'
	}
	return r
}
