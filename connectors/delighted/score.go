package delighted

import (
	"maps"
	"slices"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// surveyKind says which normalized score a Delighted survey type fills.
type surveyKind int

const (
	kindNone   surveyKind = iota // no normalized score (PMF, or a type hush does not know)
	kindNPS                      // 0–10
	kindCSAT                     // 1–5
	kindCES                      // 1–7, or 1–5 with ces_scale: 5
	kindThumbs                   // 0 = down, 1 = up
)

// surveyKinds maps Delighted's survey types (as "survey_type" names them, lower-cased) to
// the score they fill. Delighted documents "nps" in its webhook example; the other names
// follow its survey types (NPS, eNPS, CSAT, CES, 5-star, Smileys, Thumbs, PMF), with the
// spellings a payload may use for 5-star.
var surveyKinds = map[string]surveyKind{
	"nps":       kindNPS,
	"enps":      kindNPS,
	"csat":      kindCSAT,
	"smileys":   kindCSAT,
	"five_star": kindCSAT,
	"5_star":    kindCSAT,
	"5-star":    kindCSAT,
	"star":      kindCSAT,
	"stars":     kindCSAT,
	"ces":       kindCES,
	"thumbs":    kindThumbs,
	"pmf":       kindNone,
}

func knownSurveyTypes() string {
	return strings.Join(slices.Sorted(maps.Keys(surveyKinds)), ", ")
}

// applyScore sets the event's normalized score from a Delighted score. Scores keep their
// scale where hush has one (NPS 0–10, CSAT 1–5, CES 1–7); other scales are converted and
// attrs say so. A score outside its survey type's range is kept only in attrs
// (delighted_score): a wrong number in csat would fire rules it should not.
func (s *Source) applyScore(ev *gateway.Event, surveyType string, score float64) {
	ev.Attrs["delighted_score"] = score
	set := func(dst **float64, v float64) { *dst = &v }
	inRange := func(lo, hi float64) bool { return score >= lo && score <= hi }
	switch surveyKinds[surveyType] {
	case kindNPS:
		if inRange(0, 10) {
			set(&ev.NPS, score)
		}
	case kindCSAT:
		if inRange(1, 5) {
			set(&ev.CSAT, score)
		}
	case kindCES:
		switch {
		case s.ces5 && inRange(1, 5):
			// 1→1, 3→4, 5→7: the same agreement, on hush's 7-point scale.
			set(&ev.CES, 1+(score-1)*1.5)
			ev.Attrs["ces_scale"] = "1-5"
		case !s.ces5 && inRange(1, 7):
			set(&ev.CES, score)
		}
	case kindThumbs:
		switch score {
		case 1:
			set(&ev.CSAT, 5)
			ev.Attrs["csat_scale"] = "thumbs"
		case 0:
			set(&ev.CSAT, 1)
			ev.Attrs["csat_scale"] = "thumbs"
		}
	}
}
