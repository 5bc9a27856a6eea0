package sentiment

import (
	"slices"
	"testing"
)

// TestImplicitFrustration: frustration with no evaluative word is negative, and is not
// reported as a cue; plain requests that share words with the patterns are not.
func TestImplicitFrustration(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, text := range []string{
		// Waiting, with a duration.
		"llevo tres semanas esperando al técnico",
		"esperé dos horas al teléfono para nada",
		"I've been waiting 3 weeks for the installer",
		"it's been ten days and the router is still not here",
		"ya van 4 días sin poder usar la tarjeta",
		// Promises, arrivals, nobody.
		"me prometieron una llamada el martes",
		"you promised me a refund by Friday",
		"the parcel never arrived",
		"el paquete no ha llegado",
		"nobody rang me back",
		"nadie me avisó del corte",
		"I was told it would be sorted by Monday",
		// Counting contacts and people.
		"how many times do I have to send the same form",
		"¿cuántas veces tengo que mandar el mismo papel?",
		"es el cuarto correo que mando por la lectura",
		"this is the fifth email about my meter",
		"he pedido el certificado varias veces",
		// Money.
		"you charged me twice for May",
		"me habéis cobrado dos veces la cuota",
		"there are hidden charges on my statement",
		// Rhetorical questions and exasperation.
		"is it so hard to send an engineer",
		"¿tan difícil es mandar una factura correcta?",
		"what am I paying for exactly",
		"¿para qué pago el seguro entonces?",
		"¿hay alguien ahí?",
		// Expectations and leaving in other words.
		"I expected better after ten years with you",
		"esperaba mucho más de vosotros",
		"if you don't fix it by Friday I'll go elsewhere",
		"si no me lo arregláis me voy",
		"give me one reason to stay",
		// Slang.
		"what a shambles, absolute cowboys",
		"menuda chapuza, es el colmo",
		"me tenéis frito con las llamadas",
		// Low leading survey score.
		"2/10 the app logs me out every day",
		"1 - the call dropped twice",
	} {
		r := a.Analyze(text)
		if r.Label != Negative {
			t.Errorf("%q: label %s (%+.3f), want negative", text, r.Label, r.Score)
		}
	}
	for _, text := range []string{
		"claro que sí", "no hay problema", "gracias, todo perfecto", "no worries",
		"I need to cancel my appointment for Tuesday",
		"the engineer came in 20 minutes, brilliant",
		"I waited 5 minutes and it was sorted, thanks",
		"when does my contract end?",
		"¿hasta cuándo dura la oferta?",
		"what's the cut-off time for orders?",
		"can you send it again please",
		"¿me lo podéis enviar otra vez?",
		"how many days does delivery take?",
		"9/10 muy rápido",
		"8 - good service",
		"no, no hurry",
		"no no está todo perfecto gracias",
		"nobody's fault, the storm took the line down, thanks for the quick fix",
		"Me resolvieron la duda.",
	} {
		r := a.Analyze(text)
		if r.Label == Negative {
			t.Errorf("%q: labelled negative (%+.3f)", text, r.Score)
		}
	}
	// Implicit patterns are not cues.
	if r := a.Analyze("nobody rang me back"); len(r.Cues) != 0 {
		t.Errorf("implicit pattern reported as cues %v", r.Cues)
	}
}

// TestSarcasm: a positive opener read against a complaining rest; a positive text, a
// concession and a thank-you for a fix are left alone.
func TestSarcasm(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, text := range []string{
		"Genial, otra vez sin luz y nadie me dice nada",
		"Brilliant, the engineer never turned up",
		"oh great so the app doesn't work either",
		"Perfecto, ahora tampoco funciona la app",
		"Great job losing my documents",
		"nos cortáis el gas en pleno enero, muy bien",
		"so you cut us off again, that's lovely isn't it",
		"Una experiencia estupenda si te gusta pasar la tarde en espera",
	} {
		if r := a.Analyze(text); r.Label != Negative {
			t.Errorf("%q: label %s (%+.3f), want negative", text, r.Label, r.Score)
		}
	}
	for _, text := range []string{
		"Genial, muchas gracias, ya funciona",
		"funciona de maravilla, aunque es caro",
		"Great, thanks for fixing the outage so fast",
		"gracias por arreglar la avería tan rápido",
		"me cobraron dos veces pero ya me lo habéis devuelto, gracias",
		"the router was broken, the new one works, thanks",
	} {
		if r := a.Analyze(text); r.Label == Negative {
			t.Errorf("%q: labelled negative (%+.3f)", text, r.Score)
		}
	}
}

// TestNegatedPhraseNotFlipped: Spanish negative concord ("nunca nadie me contesta") is
// one negation, not two.
func TestNegatedPhraseNotFlipped(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, text := range []string{"nunca nadie me contesta", "no, nunca funciona", "it still doesn't work"} {
		if r := a.Analyze(text); r.Label != Negative {
			t.Errorf("%q: label %s (%+.3f), want negative", text, r.Label, r.Score)
		}
	}
}

func TestLeadingLowScore(t *testing.T) {
	for _, tc := range []struct {
		text string
		low  bool
	}{
		{"3/10, too slow", true},
		{"4 / 10 meh", true},
		{"2/5 could be better", true},
		{"1 - terrible", true},
		{" 0. nada", true},
		{"6/10 ok", false},
		{"3/5 fine", false},
		{"9/10, great", false},
		{"6. Bien.", false},
		{"4 - bien", false},
		{"2 pizzas please", false},
		{"12/10 amazing", false},
		{"100% happy", false},
		{"", false},
		{"7", false},
	} {
		if got := leadingLowScore(tc.text) < 0; got != tc.low {
			t.Errorf("leadingLowScore(%q) low = %v, want %v", tc.text, got, tc.low)
		}
	}
}

func TestIsNumber(t *testing.T) {
	for _, w := range []string{"3", "45", "tres", "veinte", "media", "five", "several", "a", "an"} {
		if !isNumber([]byte(w)) {
			t.Errorf("isNumber(%q) = false", w)
		}
	}
	for _, w := range []string{"", "3a", "semana", "minutes", "the"} {
		if isNumber([]byte(w)) {
			t.Errorf("isNumber(%q) = true", w)
		}
	}
}

// TestMoreCues: the leaving and regulator phrasings added with the implicit patterns.
func TestMoreCues(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"I'm writing to Ofgem about this", []string{CueRegulator}},
		{"I'll be reporting this to the FCA", []string{CueRegulator}},
		{"my solicitor has the letters", []string{CueRegulator}},
		{"lo pondré en conocimiento de la AEPD", []string{CueRegulator}},
		{"estoy mirando otras compañías", []string{CueCancellation}},
		{"how do I leave?", []string{CueCancellation}},
		{"thinking of switching after this", []string{CueCancellation}},
		{"please cancel everything", []string{CueCancellation}},
		{"vuelvo a llamar después de las cinco", nil},
		{"No es una queja, solo una pregunta", nil},
		{"not a complaint, just asking", nil},
		{"no quiero darme de baja, solo cambiar de tarifa", nil},
		{"I'm not going to cancel my account, I just want a cheaper plan", nil},
		{"how do I leave a review?", nil},
	} {
		if r := a.Analyze(tc.text); !slices.Equal(r.Cues, tc.want) {
			t.Errorf("%q: cues %v, want %v", tc.text, r.Cues, tc.want)
		}
	}
}
