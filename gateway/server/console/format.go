package console

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Locale formatting of dates, times and numbers, in the page's language and the configured
// timezone.

// DateTime formats t as a date and time in the view's timezone ("23 nov 2026, 17:30").
func (v *View) DateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(v.loc())
	if v.Lang == Spanish {
		return fmt.Sprintf("%d %s %d, %s", t.Day(), monthsES[t.Month()-1], t.Year(), t.Format("15:04"))
	}
	return t.Format("Jan 2, 2006, 15:04")
}

// Date formats t as a date in the view's timezone.
func (v *View) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(v.loc())
	if v.Lang == Spanish {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsES[t.Month()-1], t.Year())
	}
	return t.Format("Jan 2, 2006")
}

// Num formats an integer with the language's digit grouping (12.345 / 12,345).
func (v *View) Num(n int) string {
	sep := ","
	if v.Lang == Spanish {
		sep = "."
	}
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (v *View) loc() *time.Location {
	if v.Loc == nil {
		return time.UTC
	}
	return v.Loc
}

var monthsES = [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"}

// Money formats an amount with two decimals in the language's style, followed by the
// currency code when there is one ("1.234,50 EUR" / "1,234.50 EUR").
func (v *View) Money(amount float64, currency string) string {
	cents := int(math.Round(amount * 100))
	neg := cents < 0
	if neg {
		cents = -cents
	}
	dec := "."
	if v.Lang == Spanish {
		dec = ","
	}
	s := v.Num(cents/100) + dec + fmt.Sprintf("%02d", cents%100)
	if neg {
		s = "-" + s
	}
	if currency != "" {
		s += " " + currency
	}
	return s
}
