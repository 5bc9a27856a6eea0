package console

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Server-drawn SVG charts. The console runs no script, so a chart is markup: bars as
// rectangles with presentation attributes (the CSP forbids inline styles), a <title> and
// <desc> for screen readers, a legend in words beside every colour, and the numbers written
// out — colour is never the only carrier of information. Pages also show the same numbers as
// a table.

// Palette is the Okabe–Ito set, distinguishable with the common colour-vision deficiencies,
// without its yellow (too faint on white).
var Palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"}

// Chart geometry, in SVG user units (the SVG scales to its container's width).
const (
	chartWidth   = 720
	chartHeight  = 260
	chartLeft    = 48 // room for the value axis
	chartRight   = 8
	chartTop     = 16
	chartBottom  = 28 // room for the category labels
	legendRow    = 20
	hbarRow      = 28
	hbarLabelW   = 200
	hbarValueW   = 64
	chartTextCol = "#1b1b1b"
	chartGrid    = "#767676"
)

// Series is one colour of a stacked chart.
type Series struct {
	Key   string // stable identifier ("silenced"), kept on every bar for tests and styling
	Label string // shown in the legend, already translated
}

// StackedBars is a vertical bar per category (a day), each split into series.
type StackedBars struct {
	ID     string   // unique on the page: the title and description ids derive from it
	Title  string   // what the chart shows
	Desc   string   // a sentence summarizing it for screen readers
	Labels []string // one per bar ("20 nov"); shown every LabelEvery bars
	Series []Series
	// Values[i][s] is bar i's amount of series s (negative amounts are drawn as 0).
	Values     [][]int
	LabelEvery int              // 0: chosen so that labels do not overlap
	Num        func(int) string // formats axis values; nil: plain digits
}

// HBar is one horizontal bar.
type HBar struct {
	Label string
	Value int
}

// HBars is a horizontal bar chart: one labelled bar per row, longest first as given.
type HBars struct {
	ID, Title, Desc string
	Bars            []HBar
	Num             func(int) string
}

// SVG draws the chart.
func (c StackedBars) SVG() template.HTML {
	num := numOr(c.Num)
	legendRows := (len(c.Series) + 2) / 3
	height := chartHeight + legendRows*legendRow
	var b strings.Builder
	openSVG(&b, c.ID, c.Title, c.Desc, chartWidth, height)

	max := 0
	for _, bar := range c.Values {
		if t := sumPositive(bar); t > max {
			max = t
		}
	}
	top := niceCeil(max)
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	baseY := float64(chartHeight - chartBottom)

	// Value axis: 0, half and top, with light grid lines.
	for _, v := range []int{0, top / 2, top} {
		y := baseY - plotH*float64(v)/float64(top)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="%s" stroke-width="0.5"/>`,
			chartLeft, chartWidth-chartRight, f(y), f(y), chartGrid)
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" font-size="11" fill="%s">%s</text>`,
			chartLeft-4, f(y+4), chartTextCol, esc(num(v)))
	}

	n := len(c.Labels)
	if len(c.Values) > n {
		n = len(c.Values)
	}
	every := c.LabelEvery
	if every <= 0 {
		every = 1
		for n/every > 10 {
			every++
		}
	}
	if n > 0 {
		slot := plotW / float64(n)
		barW := slot * 0.7
		for i := 0; i < n; i++ {
			x := float64(chartLeft) + slot*float64(i) + (slot-barW)/2
			y := baseY
			var row []int
			if i < len(c.Values) {
				row = c.Values[i]
			}
			label := ""
			if i < len(c.Labels) {
				label = c.Labels[i]
			}
			for s, v := range row {
				if v <= 0 || s >= len(c.Series) {
					continue
				}
				h := plotH * float64(v) / float64(top)
				y -= h
				fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s" data-series="%s" data-value="%d"><title>%s · %s: %s</title></rect>`,
					f(x), f(y), f(barW), f(h), Palette[s%len(Palette)], esc(c.Series[s].Key), v,
					esc(label), esc(c.Series[s].Label), esc(num(v)))
			}
			if i%every == 0 && label != "" {
				fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" font-size="11" fill="%s">%s</text>`,
					f(x+barW/2), f(baseY+16), chartTextCol, esc(label))
			}
		}
	}
	writeLegend(&b, c.Series, chartHeight)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text and attribute value above is escaped
}

// SVG draws the chart.
func (c HBars) SVG() template.HTML {
	num := numOr(c.Num)
	height := chartTop + hbarRow*len(c.Bars) + 8
	var b strings.Builder
	openSVG(&b, c.ID, c.Title, c.Desc, chartWidth, height)
	max := 0
	for _, bar := range c.Bars {
		if bar.Value > max {
			max = bar.Value
		}
	}
	plotW := float64(chartWidth - hbarLabelW - hbarValueW)
	for i, bar := range c.Bars {
		y := float64(chartTop + hbarRow*i)
		w := 0.0
		if max > 0 && bar.Value > 0 {
			w = plotW * float64(bar.Value) / float64(max)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" font-size="12" fill="%s">%s</text>`,
			hbarLabelW-8, f(y+14), chartTextCol, esc(truncate(bar.Label, 28)))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%s" width="%s" height="18" fill="%s" data-value="%d"><title>%s: %s</title></rect>`,
			hbarLabelW, f(y), f(w), Palette[0], bar.Value, esc(bar.Label), esc(num(bar.Value)))
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="12" fill="%s">%s</text>`,
			f(float64(hbarLabelW)+w+6), f(y+14), chartTextCol, esc(num(bar.Value)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text and attribute value above is escaped
}

func openSVG(b *strings.Builder, id, title, desc string, w, h int) {
	id = esc(id)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" role="img" viewBox="0 0 %d %d" width="100%%" aria-label="%s" aria-labelledby="%s-title %s-desc">`,
		id, w, h, esc(title), id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
}

// writeLegend draws a swatch and the series' name for every series, three to a row, below y.
func writeLegend(b *strings.Builder, series []Series, y int) {
	colW := (chartWidth - chartLeft) / 3
	for i, s := range series {
		x := chartLeft + colW*(i%3)
		ry := y + legendRow*(i/3) + 4
		fmt.Fprintf(b, `<g class="legend" data-series="%s"><rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12" fill="%s">%s</text></g>`,
			esc(s.Key), x, ry, Palette[i%len(Palette)], x+18, ry+11, chartTextCol, esc(s.Label))
	}
}

// niceCeil is the smallest of 1, 2, 5 × 10^k at or above n (at least 1), so the axis reads
// in round numbers.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	p := int(math.Pow(10, math.Floor(math.Log10(float64(n)))))
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func sumPositive(xs []int) int {
	t := 0
	for _, x := range xs {
		if x > 0 {
			t += x
		}
	}
	return t
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func numOr(fn func(int) string) func(int) string {
	if fn != nil {
		return fn
	}
	return func(n int) string { return fmt.Sprint(n) }
}

func f(x float64) string { return fmt.Sprintf("%.2f", x) }

func esc(s string) string { return template.HTMLEscapeString(s) }
