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
	// Promises of a good thing and sarcastic templates: strong enough to outweigh the
	// positive word they contain ("told it would be sorted", "great job losing…").
	{-3.5, []string{
		"{was told|were told|been told} ~ {would|that the|it would|it'd|the same|someone would|i'd|id}",
		"{said|says|told me|told us|that} {you'd|youd|you would|u would|they'd|theyd|they would} {refund|call|ring|fix|sort|send|be|have}",
		"{if you enjoy|if you like|if you love|si te gusta|si te gustan|si disfrutas|si os gusta}",
		"{great job|good job|well done|nice one|nice job|enhorabuena|bravo} {losing|breaking|cancelling|canceling|por perder|por romper|por cancelar|por cortar|por estropear}",
		"{expected|expect|expecting|esperaba|esperaria} ~ {better|more|mejor|mas|otra cosa}", "{esperaba|expected} ~ {mucho mas|much better|much more|far better|a lot more|a lot better}",
	}},
	{-2.0, []string{
		"{nunca|never} {funciona|works|contestan|answer|answers|llega|arrives|coge|cogen|picks up|responde|responden|responds|work|replies|reply}",
		// Waiting, with a duration.
		"{espere|esperado|esperando|esperamos|esperaba|esperar} ~ # {horas|hora|dias|semanas|meses|mes|semana}",
		"{minutos|horas|dias|semanas|meses} {esperando|de espera|en espera|al telefono|sin|y nada|y sigo|y seguimos|llamando|colgado|colgada}",
		"llevo ~ # {minutos|min|horas|hora|dias|semanas|semana|meses|mes}",
		"llevamos ~ # {minutos|horas|hora|dias|semanas|semana|meses|mes}",
		"ya van # {dias|semanas|meses|horas|llamadas|veces|correos|emails|semana|mes}",
		"van ya # {dias|semanas|meses|horas|llamadas|veces|correos}",
		"{waited|waiting|waitin|wait} ~ # {hours|hour|hrs|days|weeks|week|months|month|fortnight}",
		"{minutes|mins|hours|hrs|days|weeks|months} {on hold|waiting|in a queue|in the queue|and still|and nothing|without|of waiting|later and|for nothing}",
		"been {waiting|on hold|chasing|trying} ~ {since|for}",
		// Time already spent.
		"{its|it's|it has|has} been # {days|weeks|months|hours|day|week|month|fortnight}",
		"{took|taken|takes|tardaron|tardasteis|tarda|tardado|ha tardado} ~ # {hours|days|weeks|months|horas|dias|semanas|meses|fortnight|month|mes}",
		"{taken|took|llevais|lleváis|llevan|tardado} ~ {a month|a fortnight|un mes|ages|forever|una eternidad}",
		"on day #", "{since|desde} {monday|tuesday|wednesday|thursday|friday|saturday|sunday|lunes|martes|miercoles|jueves|viernes|sabado|domingo|before|antes|christmas|navidad|marzo|enero|febrero|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|january|february|march|april|june|july|august|september|october|november|december|el lunes|el martes|el miercoles|el jueves|el viernes|las nueve|las ocho|las diez|nine|eight|ten}",
		"{llevo|llevamos} desde", "viene de antes", "going on since", "been going on",
		// Ordinal contacts and counted people.
		"{second|third|fourth|fifth|sixth|seventh|segundo|segunda|tercer|tercero|tercera|cuarto|cuarta|quinto|quinta|sexto|sexta} {email|call|letter|message|chat|complaint|time the|engineer|driver|visit|correo|llamada|carta|mensaje|chat|queja|reclamacion|siniestro|tecnico|vez que}",
		"{explained|told|dicho|explicado|explique|conte|contado} ~ ~ {# times|# different|# people|# personas|# veces|a # personas}",
		"{every|each|cada} {time i|vez que} {ring|phone|call|contact|email|write|chat|llamo|escribo|contacto}",
		"{rang|called|phoned|llame|llamé} {on|el} * {i rang|i called|and|y} ",
		"{from scratch|from the start|desde el principio|desde cero|back where i started|back to square one|igual que al principio|como al principio}",
		"{in circles|round in circles|around in circles|en circulos|dando vueltas}",
		"{transferred|passed|put through|bounced|transferido|pasado|pasaron|transfirieron} ~ ~ # {times|veces}",
		"{transferido|pasado|pasar} ~ {con otro|a otro} {departamento|agente|compañero}",
		"{back in|back to|vuelta a|otra vez a} {the queue|la cola}",
		// Money.
		"{went out|came out|taken out|cobrado|pasado} twice", "{double|doble} {what|de lo que}",
		"without ~ {warning|notice|telling|asking|permission|explanation|fixing|sorting|resolving|consent|checking}",
		"sin ~ {avisar|aviso|preguntar|permiso|explicacion|arreglar|solucionar|consentimiento|mirar}",
		"{did not|didn't|didnt|never} order", "{no he pedido|yo no pedi|no pedi|nunca pedi|no he solicitado|no solicite}",
		"{extra|hidden} {charges|fees|costs}", "{weren't|werent|never|wasn't|wasnt|not} mentioned",
		"{pagando de mas|cobrando de mas|cobran de mas|me siguen cobrando|siguen cobrando|sigue cobrando|seguis cobrando}",
		// Expectations, loyalty invoked.
		"{how you treat|how you treat your|asi me tratan|me tratan asi|asi tratan|asi tratais|me trateis asi}",
		"{customer|cliente|clienta} {for|de|desde hace} # {years|años}", "{years|años} {as a customer|de cliente|siendo cliente|con vosotros|con ustedes}",
		"{been with|con la que llevo|con el que llevo|con quien llevo} ~ # {years|años}", "been with you",
		"{would have|habrian|habria} {sorted|fixed|done|resolved|arreglado|solucionado}", "{me lo arreglan|lo arreglan|lo solucionan|me lo solucionan} en",
		"{they|ellos} {actually|at least|por lo menos|al menos} {answer|reply|respond|pick up|call|contestan|responden|cogen|llaman}",
		"{at least|por lo menos|al menos} {they|contestan|responden|cogen|answer|reply}",
		// Leaving, in other words.
		"{not staying|no me quedo|why i should stay|reason to stay|motivo para quedarme|por que deberia quedarme|not coming back|won't be back|wont be back|no vuelvo $|no volvere|no volveré}",
		"do to leave", "to leave $", "{somewhere|someone} else", "{move|moving|take|taking|go|going|llevo|llevar|llevarme|llevé|lleve} ~ ~ {elsewhere|a otro sitio|a otra parte|a otro banco|a otra compañia}",
		"{me llevé|me lleve|me llevo} {la|el|mi|mis} * a", "{switched|moved|cambie|cambié} {my|our|mi|me} * {to|a}",
		"{no os recomendaria|no les recomendaria|no lo recomiendo|no os recomiendo|wouldn't recommend|would not recommend|do not recommend|don't recommend|dont recommend}",
		// Nobody, nothing.
		"{nothing|nada} {has|arrived|happened|came|changed|works|ha|llego|ha pasado|ha cambiado|funciona}",
		"{not one|ni una|ni un|not a single} {person|email|call|reply|response|question|pregunta|persona|respuesta|llamada}",
		"{couldn't|could not|unable to|no supieron|no supo|no pudieron|no pudo} ~ {answer|tell|explain|help|find|give|responder|decir|explicar|ayudar|contestar}",
		"{know|knows|sabe|saben} {what they're|what theyre|what you're|what youre|lo que hace|lo que hacen|lo que hacéis|lo que haceis}",
		"{which is it|en que quedamos}", "{seriously telling|en serio no|are you seriously}",
		"{let me|i'll|ill} ~ {explain|go through|put} {it|this} ~ {again|simply|slowly}", "as simply as", "se lo {cuento|explico|repito} otra vez",
		"{ya se lo|ya le|ya os|se lo} {he dicho|dije|explique|expliqué|he explicado|conte}",
		"{hablo con la pared|talking to a wall|talking to a brick wall|nobody's listening|nobody is listening|nadie me escucha|nadie escucha}",
		"{como es posible|no puede ser|no me parece normal|no es normal|how is it possible|how is this possible|this can't be right}",
		"{que|what} {broma|joke} es esta", "es el colmo", "{marked|marcaron|marcado} ~ ~ {delivered|entregado}",
		"{smashed|roto|rota|rotos|damaged|broken|destrozado|destrozada} {on arrival|al llegar}", "{llego|llegó|arrived|came} {rota|roto|damaged|broken|smashed}",
		"{designed to|wear you down|pasar el sabado|spending your}", "{me tenéis|me teneis|me tienen|me tiene} {frito|frita|harto|harta|loco|loca|negro|negra|aburrido|aburrida}",
		"{nadie me|nadie nos|nobody|no one|noone|no-one} {da bola|hace caso|resuelve|avisó|aviso|avisa|dice|told|tells|even|thought|did|was|is|from|can}",
		// Told the same, promised in the conditional.
		"{told|dijeron|dijo|dijisteis|said} ~ ~ {the same|lo mismo|the same thing}",
		"{que me llamarian|que me llamaban|que me devolvian|que me lo devolvian|que vendrian|que venian|que lo arreglarian|que me lo arreglaban}",
		"van # {dias|semanas|meses|horas|llamadas|veces}", "no ha pasado nada",
		"{used to|solian} {sort|fix|answer|be|do|reply|respond|atender|contestar|arreglar}",
		"{had to|tuve que|he tenido que|i have to|i've had to|ive had to} {chase|perseguir|insistir|reclamar|chasing|do it myself}",
		"{ya lo|lo} {arreglo|hago|soluciono|miro} yo", "{do|sort|fix} it myself", "{step|steps|everything} myself",
		"quiero que me devuelvan {el|mi} dinero", "{cargos|gastos|costes|costos} {extra|ocultos|adicionales}",
		"{even|aun|todavia} {higher|worse|more expensive|mas alta|mas alto|mas cara|mas caro|peor}",
		"{he pedido|pedido|pedi|solicitado|he solicitado|asked|requested|i've asked|ive asked} ~ {varias veces|muchas veces|# veces|mil veces|several times|many times|# times|repeatedly}",
		"{now it's|now its|and it's|and its|y ya|y ahora ya} {gone|no esta|ha desaparecido|disappeared|vanished}",
		"why does it take", "why {has|did|is} it {taken|taking|take}", "{por que|porque} se tarda",
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
		"hasta cuando {vais|van|tengo|voy|vamos|pensais|piensan|tendre|va a seguir}", "{cuando|when} {vais|pensais|piensan|van|are you going|will you|are you ever} ~ {a arreglar|a solucionar|a devolver|a contestar|a hacer|arreglar|solucionar|to fix|to sort|to refund|to answer|to reply|fix|sort|ever}",
		"{os|me} {estais|estan} {riendo|tomando}", "{me|nos} {tomais|toman} por tonto",
		// Things that do not work.
		"{won't|wont|will not|can't|cant|cannot} {load|connect|work|turn on|start|open|let me|get through|get online|make calls|get a signal|pay}",
		"{keeps|keep|kept} {crashing|freezing|failing|dropping|buffering|cutting|disconnecting|going off|going down|rejecting|declining}",
		"{cut|cuts} {me|us} off", "{got|been|keep getting|keeps getting} cut off", "{me|nos|lo} {han cortado|cortaron|habeis cortado|cortasteis|cortan|cortais|cortara|corta}",
		"{no me deja|no carga|no anda|no tira|no conecta|no enciende|me da error|da error|sale error|no va nada}",
		// Leaving, threatened.
		"{si no} ~ ~ {me voy|me doy de baja|me cambio|me marcho|cancelo}", "me voy $", "me piro",
		"{ya tengo|tengo una|me han hecho una|me ofrecen} oferta {de|en|con}", "oferta de la competencia",
		"{better|cheaper} {deal|deals|offer|price} {elsewhere|with}", "shopping around", "go elsewhere", "{look|looking|go|going} elsewhere",
		"{leave|leaving|switch|switching|go|cancel|cancelling} {at the end of|when} {my|the|our}", "{ire|irme|marcho|marchare|cambiare|baja} cuando {acabe|termine|se acabe|se termine|venza}",
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
	{-1.2, []string{
		"{esperé|espere|esperado|esperando|esperamos|esperaba|esperar|wait|waited|waiting} ~ # {minutos|min|mins|minutes}",
		"{minutos|minutes|mins} {para que|to be told|para|for them|just to}",
		"{nobody|no one|no one's|noone|no-one|nadie|nobody's}", "{again|otra vez|de nuevo} {now|ahora|lovely|que bien|genial}",
		"{still|sigue|sigues|sigo} {getting|shows|says|apareciendo|saliendo|llegando|llegandome|pone}",
		"{declined|rejected|turned down|rechazan|rechazado|rechazaron|denegado|denegada} {again|otra vez|de nuevo}", "{turned down|me rechazan|me han rechazado|me rechazaron}",
	}},
	{-0.6, []string{
		"{for less|for half|por la mitad|por menos}", "hold music", "musica de espera", "every single", "{waiting|waited|esperando} {in all day|all day|todo el dia}",
		"{the money|mi dinero|el dinero|my money} {gone|go|went}", "where's the money", "donde esta el dinero",
		"{me dijeron|me dijisteis|me dijo|nos dijeron|me habian dicho|me comentaron} que",
		"{told|assured} {me|us} {it|i|that|you|they|the|my|this|someone|an|a|it'd|i'd|id}",
		"hace # {dias|semanas|meses} que", "desde hace # {dias|semanas|meses}",
		"{for|over|nearly|almost|more than} # {hours|days|weeks|months|hour|day|week|month|fortnight}",
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
