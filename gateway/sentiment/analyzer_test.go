package sentiment

import (
	"math"
	"slices"
	"sync"
	"testing"
)

func newTestAnalyzer(t testing.TB) *Analyzer {
	t.Helper()
	a, err := New(Options{Competitors: []string{"Movistar", "Vodafone", "AT&T", "T-Mobile"}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLabels(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, tc := range []struct {
		text, lang, want string
	}{
		// English: lexicon, negation, boosters, contrast, idioms.
		{"The agent was great, thank you!", "", Positive},
		{"This is terrible service", "", Negative},
		{"The service is not good", "", Negative},
		{"The service isn't bad at all", "", Positive},
		{"I have no complaints, the technician was very helpful", "", Positive},
		{"The technician was nice but the internet still doesn't work", "", Negative},
		{"It was kind of ok", "", Neutral},
		{"I would like to change my address please", "", Neutral},
		{"no worries", "", Positive},
		{"yeah right, like that will ever happen", "", Negative},
		{"What time do you open tomorrow?", "", Neutral},
		// Spanish: "no" is negation, never a negative word.
		{"no", "es", Neutral},
		{"No, gracias", "es", Positive},
		{"no hay problema", "", Positive},
		{"claro que sí", "", Positive},
		{"gracias, todo perfecto", "", Positive},
		{"El técnico no fue amable", "", Negative},
		{"El servicio no es malo", "", Positive},
		{"nunca me han solucionado nada", "", Negative},
		{"muy mal servicio", "", Negative},
		{"la atención fue poco profesional", "", Negative},
		{"el técnico muy amable pero sigo sin internet", "", Negative},
		{"aunque el técnico fue amable, sigo sin servicio", "", Negative},
		{"sigo sin servicio, aunque el técnico fue amable", "", Negative},
		{"funciona de maravilla, aunque es caro", "", Positive},
		{"esto funciona de puta madre", "", Positive},
		{"para nada", "", Neutral},
		{"no me gusta para nada", "", Negative},
		{"ni de coña vuelvo a contratar esto", "", Negative},
		// Accents and typos.
		{"pesimo servicio, una verguenza", "", Negative},
		{"PÉSIMO servicio", "", Negative},
		{"muuuuy malo", "", Negative},
		{"q verguenza de atencion", "", Negative},
		{"¿A qué hora abren mañana?", "", Neutral},
		{"Quería cambiar la dirección de envío", "", Neutral},
	} {
		got := a.AnalyzeLang(tc.text, tc.lang)
		if got.Label != tc.want {
			t.Errorf("%q: label %s (score %+.3f, %s, cues %v), want %s", tc.text, got.Label, got.Score, got.Language, got.Cues, tc.want)
		}
	}
}

func TestNegationFlipsAndIntensifiersStrengthen(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, tc := range []struct{ weaker, stronger string }{
		{"el servicio es malo", "el servicio es muy malo"},
		{"el servicio es malo", "el servicio es muchísimo más malo"},
		{"the service is bad", "the service is very bad"},
		{"el servicio es bueno", "el servicio es muy bueno"},
	} {
		w, s := a.Analyze(tc.weaker).Score, a.Analyze(tc.stronger).Score
		if math.Abs(s) <= math.Abs(w) {
			t.Errorf("%q (%+.3f) should be stronger than %q (%+.3f)", tc.stronger, s, tc.weaker, w)
		}
	}
	for _, tc := range []struct{ plain, negated string }{
		{"es bueno", "no es bueno"},
		{"me gusta", "no me gusta nada"},
		{"it is good", "it is not good"},
		{"it works great", "it never works great"},
	} {
		p, n := a.Analyze(tc.plain).Score, a.Analyze(tc.negated).Score
		if p <= 0 || n >= 0 {
			t.Errorf("%q %+.3f / %q %+.3f: negation should flip a positive score", tc.plain, p, tc.negated, n)
		}
	}
	// Dampeners weaken.
	if d, p := a.Analyze("es un poco lento").Score, a.Analyze("es lento").Score; !(d > p && d < 0) {
		t.Errorf("un poco lento %+.3f should be milder than lento %+.3f", d, p)
	}
}

// TestCapsAndExclamationsOnlyStrengthenNegative: shouting makes an angry text angrier
// and never makes a positive or neutral text negative.
func TestCapsAndExclamationsOnlyStrengthenNegative(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, tc := range []struct{ calm, loud string }{
		{"el servicio es pésimo", "EL SERVICIO ES PÉSIMO!!!"},
		{"this is ridiculous", "this is RIDICULOUS!!!"},
		{"sigo sin internet", "SIGO SIN INTERNET!!!"},
	} {
		c, l := a.Analyze(tc.calm), a.Analyze(tc.loud)
		if c.Label != Negative || l.Score >= c.Score {
			t.Errorf("%q %+.3f should be more negative than %q %+.3f", tc.loud, l.Score, tc.calm, c.Score)
		}
	}
	for _, text := range []string{
		"GRACIAS!!!", "MUCHAS GRACIAS POR TODO!!!", "THANK YOU SO MUCH!!!", "GREAT!!!",
		"QUIERO CAMBIAR MI DIRECCIÓN!!!", "WHAT TIME DO YOU OPEN???", "HOLA!!!", "OK!!!",
	} {
		if r := a.Analyze(text); r.Label == Negative {
			t.Errorf("%q: caps and !!! made it negative (%+.3f)", text, r.Score)
		}
	}
	// Positive texts are not boosted by shouting either.
	if q, l := a.Analyze("gracias").Score, a.Analyze("GRACIAS!!!").Score; l != q {
		t.Errorf("GRACIAS!!! %+.3f vs gracias %+.3f: emphasis only applies to negative texts", l, q)
	}
}

func TestLanguageDetection(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, tc := range []struct{ text, want string }{
		{"el router no funciona desde ayer", Spanish},
		{"my router hasn't worked since yesterday", English},
		{"ok", Spanish}, // too short: the default language
		{"¿y ahora qué?", Spanish},
		{"the bill is wrong again", English},
		{"la factura esta mal otra vez", Spanish},
		{"no", Spanish},
		{"thanks", English},
	} {
		if got := a.Analyze(tc.text).Language; got != tc.want {
			t.Errorf("%q: language %s, want %s", tc.text, got, tc.want)
		}
	}
	en, err := New(Options{DefaultLanguage: English})
	if err != nil {
		t.Fatal(err)
	}
	if got := en.Analyze("ok").Language; got != English {
		t.Errorf("default English: ok detected as %s", got)
	}
	if _, err := New(Options{DefaultLanguage: "fr"}); err == nil {
		t.Error("New accepted default language fr")
	}
	if r := a.Analyze("   ...  "); r.Language != "" || r.Label != Neutral || r.Score != 0 {
		t.Errorf("no words: %+v", r)
	}
}

func TestCues(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		// Must fire.
		{"Quiero darme de baja ya", []string{CueCancellation}},
		{"gracias por todo, pero quiero darme de baja", []string{CueCancellation}},
		{"si no me lo arreglan me voy a la competencia", []string{CueCancellation}},
		{"I want to cancel my account", []string{CueCancellation}},
		{"please cancel my broadband contract", []string{CueCancellation}},
		{"es la tercera vez que llamo", []string{CueRepeatContact}},
		{"Es la TERCERA vez que llamo por lo mismo", []string{CueRepeatContact}},
		{"this is the third time I call about this", []string{CueRepeatContact}},
		{"I've called four times this week", []string{CueRepeatContact}},
		{"quiero poner una reclamación", []string{CueComplaint}},
		{"I want to file a complaint", []string{CueComplaint}},
		{"voy a ir a la OCU", []string{CueRegulator}},
		{"lo voy a denunciar en consumo", []string{CueRegulator}},
		{"I'll be reporting you to the BBB", []string{CueRegulator}},
		{"my lawyer will be in touch", []string{CueRegulator}},
		{"en Movistar me lo hacían gratis", []string{CueCompetitor}},
		{"T-Mobile offered me a better deal", []string{CueCompetitor}},
		{"tercera vez que llamo, me doy de baja y lo denuncio en la OCU", []string{CueCancellation, CueRepeatContact, CueRegulator}},
		// Must NOT fire.
		{"claro que sí", nil},
		{"no hay problema", nil},
		{"gracias, todo perfecto", nil},
		{"no worries", nil},
		{"I need to cancel my appointment for Tuesday", nil},
		{"can I cancel the appointment?", nil},
		{"quiero cancelar la cita del técnico", nil},
		{"quiero dar de baja la línea de mi hijo", nil},
		{"¿cuánto es el consumo de datos de este mes?", nil},
		{"la tercera factura del año", nil},
		{"movistarplus", nil}, // whole words only
		{"consume less data", nil},
	} {
		r := a.Analyze(tc.text)
		if !slices.Equal(r.Cues, tc.want) {
			t.Errorf("%q: cues %v, want %v", tc.text, r.Cues, tc.want)
		}
		if len(tc.want) > 0 && tc.want[0] != CueCompetitor && r.Label != Negative {
			t.Errorf("%q: a strong cue should make it negative, got %s %+.3f", tc.text, r.Label, r.Score)
		}
	}
	// A competitor alone does not make a positive text negative.
	if r := a.Analyze("gracias, mucho mejor que Vodafone"); r.Label == Negative {
		t.Errorf("positive mention of a competitor labelled negative: %+v", r)
	}
}

func TestScoreTextAndConcurrency(t *testing.T) {
	a := newTestAnalyzer(t)
	s, err := a.ScoreText(t.Context(), "es la tercera vez que llamo, pésimo", "")
	if err != nil || s.Source != "builtin" || s.Label != Negative || s.Language != Spanish || len(s.Cues) != 1 {
		t.Fatalf("ScoreText = %+v, %v", s, err)
	}
	texts := []string{"pésimo servicio", "thank you so much", "quiero darme de baja", "ok"}
	want := make([]Result, len(texts))
	for i, tx := range texts {
		want[i] = a.Analyze(tx)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := i % len(texts)
				if got := a.Analyze(texts[k]); got.Score != want[k].Score || !slices.Equal(got.Cues, want[k].Cues) {
					t.Errorf("concurrent %q: %+v, want %+v", texts[k], got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"", "no", "¡¡PÉSIMO!!", "es la tercera vez que llamo", "I can't believe it :(", "😡😡😡",
		"muuuuuy bien", "no no no no", "pero", "aunque, pero, sin embargo", "\xff\xfe", "a\u0301",
		"kind of", "de puta madre", "AT&T", "don'''t", "' ' '", "ÑANDÚ",
	} {
		f.Add(s)
	}
	a, err := New(Options{Competitors: []string{"AT&T", "Movistar"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r := a.Analyze(text)
		if math.IsNaN(r.Score) || r.Score < -1 || r.Score > 1 {
			t.Fatalf("score %v out of [-1, 1]", r.Score)
		}
		if r.Label != labelOf(r.Score) {
			t.Fatalf("label %s inconsistent with score %v", r.Label, r.Score)
		}
		if r2 := a.Analyze(text); r2.Score != r.Score || r2.Label != r.Label || r2.Language != r.Language || !slices.Equal(r2.Cues, r.Cues) {
			t.Fatalf("not deterministic: %+v then %+v", r, r2)
		}
	})
}

// benchTexts is a realistic mix of short messages: chats, transcript lines, survey
// comments, both languages.
var benchTexts = []string{
	"Es la tercera vez que llamo y nadie me soluciona la avería",
	"gracias, todo perfecto",
	"I have called three times and nobody fixed my internet, this is ridiculous",
	"¿A qué hora abren mañana?",
	"cancel my appointment please",
	"PÉSIMO SERVICIO!!! me voy a la competencia",
	"The technician was lovely, thank you so much",
	"llevo dos semanas sin fijo y nadie viene a arreglarlo, q pasa??",
	"No, está todo bien, gracias.",
	"I want to file a complaint about the charges on my last bill",
}

func BenchmarkAnalyze(b *testing.B) {
	a := newTestAnalyzer(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Analyze(benchTexts[i%len(benchTexts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
