package sentiment

// Implicit frustration: ways customers show they are fed up without an evaluative word —
// how long they have waited, a promise not kept, how often they have written, a thing
// that never arrived, a rhetorical question, a low survey score. They are matched like
// the cue patterns (cues.go: folded words, "*" one word, "~" up to two words, "#" a
// number, "{a|b}" alternatives, "^" start of text, "$" end of text) and add the group's
// raw valence to the sum before normalization, so that they combine with the lexicon
// (a positive text with one of them can stay positive) and with "!!!" and capitals.
// They are not cues: Result.Cues does not name them.
//
// Each pattern is a general shape, not a sentence from a data set: a number and a unit
// of time after "waited", a promise verb, "never" + an arrival verb.
var implicitPatterns = []struct {
	weight   float64
	patterns []string
}{
	{-2.0, []string{
		// Waiting, with a duration.
		"{espere|esperado|esperando|esperamos|esperaba|esperar} ~ # {minutos|min|mins|horas|hora|dias|semanas|meses|mes|semana}",
		"{minutos|horas|dias|semanas|meses} {esperando|de espera|en espera|al telefono|sin|y nada|y sigo|y seguimos|llamando|colgado|colgada}",
		"llevo ~ # {minutos|min|horas|hora|dias|semanas|semana|meses|mes}",
		"llevamos ~ # {minutos|horas|hora|dias|semanas|semana|meses|mes}",
		"ya van # {dias|semanas|meses|horas|llamadas|veces|correos|emails|semana|mes}",
		"van ya # {dias|semanas|meses|horas|llamadas|veces|correos}",
		"{waited|waiting|waitin|wait} ~ # {minutes|mins|min|hours|hour|hrs|days|weeks|week|months|month}",
		"{minutes|mins|hours|hrs|days|weeks|months} {on hold|waiting|in a queue|in the queue|and still|and nothing|without|of waiting|later and|for nothing}",
		"been {waiting|on hold|chasing|trying} ~ {since|for}",
		// Counting the contacts.
		"cuantas veces", "how many times", "how many more times", "una y otra vez",
		"{he|os he|les he|hemos|le he} {llamado|escrito|enviado|mandado|reclamado} ~ # {veces|correos|emails|mails|mensajes}",
		"{called|emailed|written|messaged|chased|phoned|rung|rang} ~ {twice|# times|several times|again and|every day|every week|repeatedly}",
		"{same|identical} {answer|response|excuse|story|reply|script|copy}",
		"{misma|la misma} {respuesta|excusa|historia|cantinela|milonga}",
		"{copy and paste|copy paste|canned|automated|generic} {answer|response|reply|responses|replies}",
		// Broken promises.
		"{me prometieron|me prometisteis|me prometio|me prometieron que|prometieron|prometisteis|me aseguraron|me asegurasteis}",
		"{was|were|i was|we were|you} promised", "promised {me|a|to|it|that|us|they}",
		"{se supone que|supuestamente|quedaron en|quedasteis en|quedo en}",
		"{was|were|is|are|it's|its} supposed to", "should have {arrived|been|had|called|rung|received|come}",
		"{me iban a|me ibais a|iban a llamarme|ibais a llamarme|me tenian que|me teniais que}",
		"said {they|you|it|he|she} would",
		// Never arrived, nobody came.
		"never {arrived|came|turned up|showed|called|rang|got|received|heard|happened|replied|answered|responded|delivered|refunded}",
		"{didn't|didnt|did not|hasn't|hasnt|has not|haven't|havent|have not} {arrive|arrived|turn up|turned up|show up|shown up|call back|called back|get back|got back|come|been fixed|been sorted|been resolved|been refunded|heard back|received|had a reply|had a response}",
		"{nobody|no one|noone|no-one} {has|have|called|came|turned|showed|rang|replied|answered|got|seems|bothered|responded|contacted|bothers|ever|will}",
		"{no ha|no me ha|no nos ha|no han|no me han|nunca} {llegado|venido|aparecido|llamado|contestado|respondido|devuelto}",
		"{nunca llego|nunca llegó|nunca vino|nunca llamaron|nunca me llamaron|nadie vino|nadie ha venido|nadie aparece|nadie me ha}",
		"ni rastro", "sin noticias", "no sign of", "no word from", "still {haven't|hasn't|havent|hasnt|nothing|no sign|can't|cant|don't|dont|doesn't|doesnt|isn't|isnt|without|have no|got no|got nothing|broken|down|charging|being charged|not}",
		// Money taken wrongly.
		"{charged|billed|debited|taken|took|cobrado|cobrais|cobraron|cobrasteis|cobrada} ~ {twice|double|dos veces|por duplicado|doble}",
		"{cobro|cargo|factura|recibo|cobros|cargos} {duplicado|duplicada|duplicados|repetido|repetida|doble|indebido|que no reconozco}",
		"{still|keep|keeps} {being charged|charging me|billing me|taking money}",
		"{seguis|siguen|sigo|seguir} {cobrando|cobrandome|pagando}",
		"{want|need} my money back", "quiero mi dinero", "devolvedme mi dinero", "devuelvanme mi dinero",
		// Rhetorical questions.
		"{is it|es} {so|that|really|tan|muy} {hard|difficult|dificil|complicado|much to ask}",
		"{tan dificil|tan complicado|tanto cuesta|que os cuesta|que les cuesta|cuesta tanto} ", "too much to ask",
		"how hard {can|is} it", "what's the point", "whats the point", "what is the point",
		"what am i paying", "why am i paying", "why {do|should|must} i {have to|bother|keep|pay|always}",
		"{para que|por que} {pago|os pago|les pago|estoy pagando|pagamos}", "de que sirve", "de que me sirve",
		"{is|does} anyone {there|listening|reading|actually|even|care}", "hay alguien {ahi|alli|al otro lado}",
		"are you {serious|joking|having a laugh|for real}", "{taking|take} the {mick|mickey|piss}", "having a laugh",
		"do you {even|actually|people} {care|read|listen}", "os {importa|da igual}", "les da igual", "os da lo mismo",
		"what do i {have|need} to do", "what does it take", "who do i {have to|need to|speak|talk} ",
		"{que|que mas} tengo que hacer", "que hay que hacer para", "a quien tengo que", "con quien tengo que hablar",
		"hasta cuando", "{cuando|when} {vais|pensais|piensan|van|are you going|will you|are you ever} ~ {a arreglar|a solucionar|a devolver|a contestar|a hacer|arreglar|solucionar|to fix|to sort|to refund|to answer|to reply|fix|sort|ever}",
		"{os|me} {estais|estan} {riendo|tomando}", "{me|nos} {tomais|toman} por tonto",
		// Things that do not work.
		"{won't|wont|will not|can't|cant|cannot} {load|connect|work|turn on|start|open|let me|get through|get online|make calls|get a signal|pay}",
		"{keeps|keep|kept} {crashing|freezing|failing|dropping|buffering|cutting|disconnecting|going off|going down|rejecting|declining}",
		"{cut|cuts} {off|out|me off}", "{me|nos|lo} {han cortado|cortaron|habeis cortado|cortasteis}",
		"{no me deja|no carga|no anda|no tira|no conecta|no enciende|me da error|da error|sale error|no va nada}",
		// Leaving, threatened.
		"{si no} ~ ~ {me voy|me doy de baja|me cambio|me marcho|cancelo}", "me voy $", "me piro",
		"{ya tengo|tengo una|me han hecho una|me ofrecen} oferta {de|en|con}", "oferta de la competencia",
		"{better|cheaper} {deal|deals|offer|price} {elsewhere|with}", "shopping around", "go elsewhere", "{look|looking|go|going} elsewhere",
		"when my contract {ends|is up|runs out|finishes}", "cuando se acabe {el|mi} {contrato|permanencia}",
		"{pac|stac|porting} code",
		// Going public.
		"{publicar|publicarlo|contarlo|contar} ~ {redes|twitter|internet|google|trustpilot}",
		"{post|posting|review|tweet|tweeting} ~ {trustpilot|twitter|social media|online|facebook}",
		"{the press|the papers|watchdog|section 75|consumer rights}",
	}},
	{-1.2, []string{
		"{no ha|no me ha|no han|no nos ha} {llegado|venido|llamado}",
		"{where is|where's|wheres|donde esta|donde estan} {my|mi|mis|el|la} {refund|money|order|parcel|package|engineer|reembolso|dinero|pedido|paquete|tecnico|devolucion}",
		"no {refund|callback|call back|reply|update|one called}", "{sin|ni} {respuesta|reembolso|devolucion|solucion|noticias}",
		"{surprise surprise|what a surprise|que sorpresa|vaya sorpresa|menuda sorpresa}",
		"{when will|when is|when are} ~ {fixed|sorted|resolved|arreglado|solucionado}",
		"{pienso|penseis|pensais|voy a} {cambiar|irme|marcharme}",
		"{zero|cero|0|ninguna|nula|nulo} {help|support|communication|empathy|ayuda|atencion|empatia|comunicacion|soluciones|interes|respuesta}",
		"{0|1|one} {star|stars|estrella|estrellas}",
		"{0|1|2|3|4} {out of|de|sobre} 10", "^ {0|1|2|3|4} 10",
	}},
	{-0.6, []string{
		"{me dijeron|me dijisteis|me dijo|nos dijeron|me habian dicho|me comentaron} que",
		"{told|assured} {me|us} {it|i|that|you|they|the|my|this|someone|an|a|it'd|i'd|id}",
		"hace # {dias|semanas|meses} que", "desde hace # {dias|semanas|meses}",
		"{for|over|nearly|almost|more than} # {hours|days|weeks|months}",
		"{keep|keeps} {getting|being|having|asking|telling|sending|saying}",
		"{yet|another|otro|otra} {another|email|call|chat|message|llamada|correo|mensaje|excuse|excusa}",
		"as usual", "como siempre {pasa|igual|lo mismo|nada|tarde}", "{typical|tipico|tipica}",
		"{other|another} {providers|companies|suppliers|networks|banks|insurers}", "{otras|otra} {compañias|compañia|operadoras|operadora|aseguradoras|aseguradora}",
	}},
}

// maxImplicit caps the implicit patterns' total: several of them say the same thing.
const maxImplicit = 3.5

// isNumber tells whether a folded token is a number: digits, or a small number word in
// either language (and "media", "several", "varias": counts of waiting or contacts).
func isNumber(w []byte) bool {
	if len(w) == 0 {
		return false
	}
	digits := true
	for _, b := range w {
		if b < '0' || b > '9' {
			digits = false
			break
		}
	}
	if digits {
		return true
	}
	switch string(w) {
	case "un", "una", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
		"nueve", "diez", "once", "doce", "quince", "veinte", "treinta", "cuarenta",
		"cincuenta", "media", "varias", "varios", "muchas", "muchos", "mil", "cien",
		"a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "several", "many",
		"multiple", "half", "couple", "few", "dozen", "hundred":
		return true
	}
	return false
}
