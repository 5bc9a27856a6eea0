package typeform

import (
	"fmt"

	"github.com/hush-gateway/hush/gateway"
)

// scale is a score's range.
type scale struct{ lo, hi float64 }

var (
	csatScale = scale{1, 5}
	npsScale  = scale{0, 10}
	cesScale  = scale{1, 7}
)

func (s scale) String() string { return fmt.Sprintf("%g-%g", s.lo, s.hi) }

// fieldScale is the range of a question's answers when the payload says it: Typeform's "nps"
// question is 0–10; opinion_scale and rating give steps (and start_at_one) in properties
// when the definition carries them. Otherwise the scale is unknown.
func fieldScale(f *field) (scale, bool) {
	if f == nil {
		return scale{}, false
	}
	if f.Type == "nps" {
		return npsScale, true
	}
	if f.Properties == nil || f.Properties.Steps == nil || *f.Properties.Steps < 2 {
		return scale{}, false
	}
	steps := float64(*f.Properties.Steps)
	switch f.Type {
	case "rating":
		return scale{1, steps}, true
	case "opinion_scale":
		lo := 0.0
		if f.Properties.StartAtOne != nil && *f.Properties.StartAtOne {
			lo = 1
		}
		return scale{lo, lo + steps - 1}, true
	}
	return scale{}, false
}

// scores fills csat, nps and ces from the configured questions. A score keeps its value when
// the question's scale is hush's (or unknown and the value fits); a question on another known
// scale is converted linearly and attrs say from what ("csat_scale": "1-10"). A value that
// fits neither is left out: a wrong number would fire rules it should not.
func (s *Source) scores(ev *gateway.Event, r *formResponse, ans map[string]*answer) {
	defs := map[string]*field{}
	if r.Definition != nil {
		for i := range r.Definition.Fields {
			defs[r.Definition.Fields[i].ID] = &r.Definition.Fields[i]
		}
	}
	for _, q := range []struct {
		ref    string
		dst    **float64
		target scale
		attr   string
	}{
		{s.fields.csatRef, &ev.CSAT, csatScale, "csat_scale"},
		{s.fields.npsRef, &ev.NPS, npsScale, "nps_scale"},
		{s.fields.cesRef, &ev.CES, cesScale, "ces_scale"},
	} {
		if q.ref == "" || ans[q.ref] == nil || ans[q.ref].Number == nil {
			continue
		}
		a := ans[q.ref]
		v := *a.Number
		def := defs[a.Field.ID]
		if def == nil {
			def = &field{Type: a.Field.Type}
		}
		from, known := fieldScale(def)
		switch {
		case known && from == q.target, !known && v >= q.target.lo && v <= q.target.hi:
			if v >= q.target.lo && v <= q.target.hi {
				*q.dst = &v
			}
		case known && v >= from.lo && v <= from.hi:
			c := q.target.lo + (v-from.lo)*(q.target.hi-q.target.lo)/(from.hi-from.lo)
			*q.dst = &c
			ev.Attrs[q.attr] = from.String()
		}
		ev.Attrs[q.attr[:len(q.attr)-len("_scale")]+"_answer"] = v
	}
}
