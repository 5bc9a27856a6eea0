package sentiment

import (
	"fmt"
	"strings"
	"unicode"
)

// Cue patterns, matched token by token on the folded text (no accents, lower case), in
// both languages whatever the text's detected language (customers mix them, and each
// pattern is specific enough on its own). A pattern is words separated by spaces; "*"
// stands for any one word and "{a|b|c}" for alternatives (expanded by New).
//
// Cancellation means leaving the company, not cancelling a thing: "cancel my
// appointment", "cancelar la cita", "cancel my order" do not fire. Removing one part of
// a contract ("dar de baja la línea de mi hijo") does not fire either: it is a customer
// managing their account, not one threatening to leave; only "darme de baja", "me doy de
// baja", "dar de baja mi contrato/servicio/cuenta/todo", "quiero la baja"… do.
var cuePatterns = map[string][]string{
	CueCancellation: {
		// Spanish
		"darme de baja", "darnos de baja", "me doy de baja", "nos damos de baja",
		"me daré de baja", "me dare de baja", "me voy a dar de baja", "dadme de baja",
		"dar de baja {mi|el|mis|los|nuestro} {contrato|servicio|cuenta|linea|fibra|tarifa|suscripcion|seguro|alta|contratos|servicios|lineas}",
		"dar de baja todo", "dar de baja todos",
		"{quiero|solicito|pido|solicitar|pedir|tramitar|tramitad|tramitadme|gestionar} la baja",
		"{quiero|voy a pedir|solicito} {mi|la} baja", "baja {del|de mi|de la} {contrato|servicio|cuenta|linea|suscripcion|compañia}",
		"cancelar {mi|el|la} {contrato|cuenta|suscripcion|servicio|tarifa|seguro|poliza}",
		"rescindir el contrato", "rescindir mi contrato", "romper el contrato",
		"no vuelvo a {comprar|contratar|pedir|confiar}", "nunca mas {compro|contrato|vuelvo}", "cierren todas mis lineas",
		"buscando otra compañia", "buscando ya otra compañia", "buscando otro operador", "buscar otra compañia",
		"me voy a la competencia", "me voy con la competencia", "me paso a la competencia",
		"me cambio de compañia", "me cambio de operador", "me cambio de operadora",
		"me voy de {esta|la|vuestra} compañia", "me voy a ir a otra", "me marcho a otra",
		"cambiarme de compañia", "cambiarme de operador", "me voy a cambiar de compañia",
		"me voy a cambiar de operador", "hacer la portabilidad", "pedir la portabilidad",
		"pido la portabilidad", "solicitar la portabilidad", "me llevo el numero",
		"me llevo mi numero", "no renovare", "no voy a renovar", "dejo de ser cliente",
		"dejar de ser cliente", "ya no quiero ser cliente", "no quiero seguir con vosotros",
		"no quiero seguir con ustedes", "ultimo mes con vosotros", "me borro",
		// English
		"cancel my {account|subscription|service|contract|membership|plan|policy|internet|line|broadband}",
		"cancel the {account|subscription|service|contract|membership|plan|policy}",
		"cancel {my|the} * {account|subscription|service|contract|membership|plan}",
		"cancelling my {account|subscription|service|contract|membership|plan}",
		"canceling my {account|subscription|service|contract|membership|plan}",
		"close all my {lines|accounts}", "close my lines", "want to cancel and", "cancellation number",
		"looking for another provider", "looking for a new provider", "won't be {shopping|ordering|buying|flying} {here|with you} again",
		"never {shopping|ordering|buying|flying} {here|with you} again", "taking my custom elsewhere",
		"close my account", "closing my account", "terminate my {contract|account|service}",
		"end my {contract|subscription}", "switching to", "switch to another provider",
		"switching providers", "switch providers", "i'm leaving", "im leaving",
		"i am leaving", "taking my business elsewhere", "take my business elsewhere",
		"port my number", "porting my number", "port out", "going to a competitor",
		"going with another", "find another provider", "finding another provider",
		"won't be renewing", "will not renew", "not renewing", "done with you",
		"i'm done with", "im done with", "i want out", "leave your company",
		"never using you again", "no longer be a customer", "stop being a customer",
		"how do i leave $", "how can i leave $", "how do i leave {you|your company|the company|this company}", "what do i need to do to leave",
		"looking at other {providers|companies|suppliers|banks|networks|options|insurers}",
		"{thinking|thought} {of|about} {leaving|switching|cancelling|canceling|moving}",
		"considering {leaving|switching|cancelling|canceling|moving}",
		"cancel {everything|it all|the lot|all of it}", "close my {current|bank|savings|joint} account",
		"{moving|move|going|switching} to a {different|new|cheaper|better} {supplier|provider|bank|network|company|insurer|operator}",
		"switching {this|next} {week|month}", "switched to",
		"{mirando|buscando|mirar|buscar} {otras|otra} {compañias|compañia|operadoras|operadora|opciones|ofertas|aseguradoras|aseguradora|comercializadora|comercializadoras}",
		"me cambio de {comercializadora|banco|aseguradora|proveedor|compañia}",
		"pensando en {irme|cambiarme|darme de baja|marcharme}", "me planteo {irme|cambiarme|cambiar|darme de baja}",
	},
	CueRepeatContact: {
		// Spanish
		"{segunda|tercera|cuarta|quinta|sexta|decima|enesima|mil|cien|20|3|4|5} vez que {llamo|llamamos|escribo|contacto|reclamo|pido|aviso|os llamo|os escribo|os aviso|les llamo|les escribo|pongo|os lo digo|lo digo|lo explico|intento|me pongo}",
		"por {segunda|tercera|cuarta|quinta|enesima|decima} vez",
		"{varias|muchas|tres|cuatro|cinco|mil|cien|10|3|4|5|seis|diez} veces {llamando|llamado|he llamado|que llamo|os he llamado|escribiendo|reclamando}",
		"he llamado {varias|muchas|tres|cuatro|cinco|mil|cien|10|3|4|5|seis|diez|ya} veces",
		"ya llame", "llame ayer", "ayer y antes de ayer",
		"ya he llamado", "ya os he llamado", "ya he escrito", "ya os he escrito",
		"ya lo he explicado", "ya os lo he dicho", "ya os lo dije", "ya lo dije",
		"otra vez lo mismo", "otra vez igual", "siempre lo mismo", "cada vez que llamo",
		"llevo {dias|semanas|meses|horas|un mes|una semana|dos semanas|tres semanas|2 semanas|3 semanas} {llamando|esperando|reclamando|escribiendo|sin}",
		"llevamos {dias|semanas|meses} {llamando|esperando|reclamando|sin}",
		"vuelvo a {llamar|escribir} {porque|otra vez|de nuevo|por lo mismo|por el mismo|por la misma}", "vuelvo a reclamar", "de nuevo os escribo",
		"de nuevo os llamo", "sigo esperando", "sigo sin", "todavia sin", "aun sin",
		"os lo he repetido", "lo he repetido", "no es la primera vez",
		// English
		"{second|third|fourth|fifth|sixth|tenth|nth|umpteenth|hundredth|2nd|3rd|4th|5th|10th} time {i|i've|ive|i'm|im|we|we've|that|i|calling|writing|contacting|asking|reporting}",
		"{called|contacted|emailed|written|chatted|phoned|messaged|tried} {three|four|five|six|several|multiple|many|numerous|3|4|5|6|10|a dozen} times",
		"{three|four|five|several|multiple|many|3|4|5|10} times {now|already|this week|today}",
		"{called|contacted|emailed|written} you {three|four|five|several|multiple|many|3|4|5|10} times",
		"yesterday and the day before", "third {survey|email|call|message|chat}", "i rang yesterday",
		"i keep calling", "i keep having to call", "keep having to call", "i've already called",
		"ive already called", "already called", "already contacted", "already explained",
		"already told you", "every time i call", "each time i call", "again and again",
		"over and over", "still waiting", "still not fixed", "still no", "same problem again",
		"same issue again", "yet again", "once again", "for the {second|third|fourth|fifth|nth|umpteenth} time",
		"not the first time", "{weeks|months|days} now", "for {weeks|months|days}",
	},
	CueComplaint: {
		"reclamacion", "reclamaciones", "hoja de reclamaciones", "libro de reclamaciones",
		"poner una reclamacion", "queja formal", "poner una queja", "una queja",
		"quiero quejarme", "presentar una queja", "interponer una queja", "reclamacion formal",
		"pongo una queja", "voy a reclamar", "reclamare", "pienso reclamar",
		"file a complaint", "filing a complaint", "formal complaint", "make a complaint",
		"lodge a complaint", "raise a complaint", "a complaint", "my complaint", "another complaint",
		"official complaint", "complaints department", "escalate",
		"escalate this", "escalating", "speak to a {manager|supervisor}",
		"talk to a {manager|supervisor}", "your manager", "your supervisor",
	},
	CueRegulator: {
		"ocu", "facua", "omic", "cnmc", "setsi", "adicae", "asufin", "consumur",
		"{oficina|organismo|organismos|departamento|direccion|servicio|junta} de consumo",
		"{a|en|ante|con|al} consumo", "consumo de {mi|la} {comunidad|ciudad|ayuntamiento}",
		"{ir|acudir|denunciar|denunciaros|llevaros|iré|ire|voy} a consumo",
		"arbitraje de consumo", "junta arbitral", "abogado", "abogados", "abogada",
		"mi abogado", "denuncia", "denunciar", "denunciaros", "denunciare", "os denuncio",
		"poner una demanda", "una demanda", "demandaros", "demandar", "os demando",
		"juzgado", "juzgados", "tribunales", "tribunal", "via judicial", "via legal",
		"acciones legales", "medidas legales", "banco de españa", "defensor del cliente",
		"defensor del pueblo", "guardia civil", "policia",
		"bbb", "better business bureau", "ofcom", "fcc", "ftc", "cfpb", "ombudsman",
		"ico", "taking this to", "citizens advice",
		"trading standards", "attorney general", "lawyer", "lawyers", "attorney", "attorneys",
		"sue", "sue you", "suing", "lawsuit", "small claims", "legal action",
		"take legal action", "court", "report you to", "regulator", "chargeback",
		"fca", "ofgem", "ofwat", "financial ombudsman", "energy ombudsman", "solicitor", "solicitors",
		"watchdog", "my mp", "aepd", "proteccion de datos", "profeco", "sernac", "indecopi",
		"defensa del consumidor", "{asociacion|asociaciones|organizacion|organizaciones} de consumidores",
		"cnmv", "direccion general de seguros", "ministerio de consumo",
	},
}

// cueOrder is the order of Result.Cues.
var cueOrder = [...]string{CueCancellation, CueRepeatContact, CueComplaint, CueRegulator, CueCompetitor}

type cuePattern struct {
	words  []string // after the first; "*" is any one word, "#" a number
	cue    uint8    // index in cueOrder, or implicitCue
	weight float64  // implicitCue: the raw valence a match adds
	start  bool     // "^": the match must begin the text
	end    bool     // "$": the match must end the text
}

// implicitCue marks an implicit-frustration pattern (frustration.go): it adds valence,
// it is not a cue reported in Result.Cues.
const implicitCue = 255

// cueIndex finds cue patterns by their first word.
type cueIndex map[string][]cuePattern

// expand turns "a {b|c} d" into "a b d", "a c d", and "a ~ d" (a gap of up to two
// words) into "a d", "a * d", "a * * d".
func expand(p string) []string {
	i := strings.IndexByte(p, '{')
	if i < 0 {
		if g := strings.Index(p, " ~ "); g >= 0 {
			var out []string
			for _, gap := range []string{" ", " * ", " * * "} {
				out = append(out, expand(p[:g]+gap+p[g+3:])...)
			}
			return out
		}
		return []string{p}
	}
	j := strings.IndexByte(p[i:], '}')
	if j < 0 {
		return []string{p}
	}
	j += i
	var out []string
	for _, alt := range strings.Split(p[i+1:j], "|") {
		out = append(out, expand(p[:i]+alt+p[j+1:])...)
	}
	return out
}

func buildCues(competitors []string) (cueIndex, error) {
	idx := cueIndex{}
	add := func(pattern string, cue uint8, weight float64) error {
		for _, p := range expand(pattern) {
			words := strings.Fields(foldTerm(p))
			cp := cuePattern{cue: cue, weight: weight}
			if len(words) > 0 && words[0] == "^" {
				cp.start, words = true, words[1:]
			}
			if len(words) > 0 && words[len(words)-1] == "$" {
				cp.end, words = true, words[:len(words)-1]
			}
			if len(words) == 0 || words[0] == "*" || words[0] == "#" {
				return fmt.Errorf("cue pattern %q: must start with a word", pattern)
			}
			cp.words = words[1:]
			idx[words[0]] = append(idx[words[0]], cp)
		}
		return nil
	}
	for i, name := range cueOrder {
		for _, p := range cuePatterns[name] {
			if err := add(p, uint8(i), 0); err != nil {
				return nil, err
			}
		}
	}
	for _, group := range implicitPatterns {
		for _, p := range group.patterns {
			if err := add(p, implicitCue, group.weight); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range competitors {
		// A competitor name is matched as whole words, folded like the text; its
		// punctuation splits words the same way tokenize does.
		var words []string
		var cur strings.Builder
		for _, r := range foldTerm(c) {
			if r == ' ' || !(r == '\'' || isWordRune(r)) {
				if cur.Len() > 0 {
					words = append(words, cur.String())
					cur.Reset()
				}
				continue
			}
			cur.WriteRune(r)
		}
		if cur.Len() > 0 {
			words = append(words, cur.String())
		}
		if len(words) == 0 {
			continue
		}
		idx[words[0]] = append(idx[words[0]], cuePattern{words: words[1:], cue: uint8(len(cueOrder) - 1)})
	}
	return idx, nil
}

// match returns a bit set of the cues found in t and the valence of the implicit
// frustration patterns found (at most one per starting word, the strongest; the total
// capped at maxImplicit).
func (idx cueIndex) match(t *tokenized) (found uint8, implicit float64) {
	last := len(t.toks) - 1
	for i := range t.toks {
		pats, ok := idx[string(t.span(i, i))]
		if !ok {
			continue
		}
		best := 0.0
	next:
		for _, p := range pats {
			j := i + len(p.words) // the match's last token
			if j > last || p.start && i != 0 || p.end && j != last {
				continue
			}
			if p.cue != implicitCue && found&(1<<p.cue) != 0 {
				continue
			}
			for k, w := range p.words {
				tok := t.span(i+1+k, i+1+k)
				switch w {
				case "*":
				case "#":
					if !isNumber(tok) {
						continue next
					}
				default:
					if string(tok) != w {
						continue next
					}
				}
			}
			if p.cue == implicitCue {
				best = min(best, p.weight)
			} else if !negatedCue(t, i) {
				found |= 1 << p.cue
			}
		}
		implicit += best
	}
	return found, max(implicit, -maxImplicit)
}

// negatedCue tells whether the cue starting at token i is denied: "not a complaint",
// "no es una queja", "I'm not going to cancel my account" is said by a customer who is
// not leaving. The negation must be right before the cue or before a linking word.
func negatedCue(t *tokenized, i int) bool {
	neg := func(j int) bool {
		if j < 0 || t.toks[j].brk {
			return false
		}
		switch string(t.span(j, j)) {
		case "not", "no", "nor", "ni", "never", "nunca", "isn't", "isnt", "wasn't", "wasnt":
			return true
		}
		return false
	}
	// Skip up to two linking words: "not going to cancel", "no voy a darme de baja",
	// "no es una queja".
	j := i - 1
	for skipped := 0; skipped < 2 && j >= 0 && !t.toks[j].brk; skipped++ {
		if neg(j) {
			return true
		}
		switch string(t.span(j, j)) {
		case "es", "era", "fue", "is", "was", "going", "gonna", "to", "voy", "a", "quiero",
			"want", "planning", "pienso":
			j--
			continue
		}
		return false
	}
	return neg(j)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
