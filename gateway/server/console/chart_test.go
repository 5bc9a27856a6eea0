package console

import (
	"encoding/xml"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgNode is a generic XML element, enough to walk a chart.
type svgNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []svgNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n svgNode) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", n.XMLName.Local, name, n.attr(name), err)
	}
	return v
}

// all returns every element named local, depth first.
func (n svgNode) all(local string) []svgNode {
	var out []svgNode
	for _, c := range n.Nodes {
		if c.XMLName.Local == local {
			out = append(out, c)
		}
		out = append(out, c.all(local)...)
	}
	return out
}

func parseSVG(t *testing.T, s string) svgNode {
	t.Helper()
	var root svgNode
	if err := xml.Unmarshal([]byte(s), &root); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, s)
	}
	if root.XMLName.Local != "svg" || root.attr("role") != "img" || root.attr("aria-label") == "" {
		t.Fatalf("not an accessible svg root: %+v", root.Attrs)
	}
	if strings.Contains(s, "style=") || strings.Contains(s, "<style") || strings.Contains(s, "<script") {
		t.Fatalf("the chart uses styles or scripts, which the CSP forbids: %s", s)
	}
	return root
}

func checkAccessible(t *testing.T, root svgNode, title, desc string) {
	t.Helper()
	var gotTitle, gotDesc string
	for _, c := range root.Nodes {
		switch c.XMLName.Local {
		case "title":
			gotTitle = c.Text
		case "desc":
			gotDesc = c.Text
		}
	}
	if gotTitle != title || gotDesc != desc {
		t.Fatalf("title %q desc %q, want %q %q", gotTitle, gotDesc, title, desc)
	}
	ids := strings.Fields(root.attr("aria-labelledby"))
	if len(ids) != 2 {
		t.Fatalf("aria-labelledby = %q", root.attr("aria-labelledby"))
	}
}

func TestStackedBarsAreProportional(t *testing.T) {
	c := StackedBars{
		ID: "avoided", Title: `Contacts <avoided> & "more"`, Desc: "per day",
		Labels: []string{"1 nov", "2 nov", "3 nov", "4 nov"},
		Series: []Series{{Key: "silenced", Label: "Silenced"}, {Key: "opted_out", Label: `Opted <out>`}},
		Values: [][]int{{3, 1}, {0, 0}, {7, 0}, {2, 5}},
	}
	s := string(c.SVG())
	root := parseSVG(t, s)
	checkAccessible(t, root, c.Title, c.Desc)

	var bars []svgNode
	for _, r := range root.all("rect") {
		if r.attr("class") == "bar" {
			bars = append(bars, r)
		}
	}
	// One rectangle per non-zero amount: 3+1, none, 7, 2+5.
	if len(bars) != 5 {
		t.Fatalf("%d bars, want 5", len(bars))
	}
	// Height per unit is the same for every rectangle, so heights compare like the numbers.
	unit := bars[0].num(t, "height") / bars[0].num(t, "data-value")
	for _, b := range bars {
		if got := b.num(t, "height") / b.num(t, "data-value"); math.Abs(got-unit) > 0.01 {
			t.Errorf("bar %s of %s is %.2f per unit, want %.2f", b.attr("data-series"), b.attr("data-value"), got, unit)
		}
	}
	// The tallest stack (7) reaches at most the top of the plot and the axis top is round.
	if h := bars[2].num(t, "height"); h > chartHeight-chartTop-chartBottom+0.01 {
		t.Errorf("the tallest bar is %.2f high, taller than the plot", h)
	}
	// Stacked: the second segment sits right on top of the first, in the same column.
	first, second := bars[0], bars[1]
	if first.attr("x") != second.attr("x") || math.Abs(second.num(t, "y")+second.num(t, "height")-first.num(t, "y")) > 0.01 {
		t.Errorf("segments of one day are not stacked: %+v / %+v", first.Attrs, second.Attrs)
	}
	// Columns move right with the day.
	if !(bars[0].num(t, "x") < bars[2].num(t, "x") && bars[2].num(t, "x") < bars[3].num(t, "x")) {
		t.Errorf("columns are not in day order")
	}
	// Colours: each series its own, and a legend names every one in words.
	if bars[0].attr("fill") == bars[1].attr("fill") {
		t.Errorf("two series share a colour")
	}
	var legend []string
	for _, g := range root.all("g") {
		if g.attr("class") == "legend" {
			for _, tx := range g.all("text") {
				legend = append(legend, tx.Text)
			}
		}
	}
	if strings.Join(legend, "|") != "Silenced|Opted <out>" {
		t.Errorf("legend = %q", legend)
	}
	if strings.Contains(s, "<out>") || strings.Contains(s, "<avoided>") {
		t.Errorf("labels are not escaped: %s", s)
	}
}

func TestStackedBarsWithoutData(t *testing.T) {
	c := StackedBars{ID: "x", Title: "t", Desc: "d", Labels: []string{"a", "b"}, Values: [][]int{{0}, {0}}, Series: []Series{{Key: "k", Label: "K"}}}
	root := parseSVG(t, string(c.SVG()))
	for _, r := range root.all("rect") {
		if r.attr("class") == "bar" {
			t.Errorf("a bar was drawn for zero: %+v", r.Attrs)
		}
	}
}

func TestHBarsAreProportional(t *testing.T) {
	c := HBars{ID: "rules", Title: "Top rules", Desc: "silences per rule", Bars: []HBar{
		{Label: "low-csat", Value: 10}, {Label: `<script>alert(1)</script>`, Value: 5}, {Label: "none", Value: 0},
	}}
	s := string(c.SVG())
	root := parseSVG(t, s)
	checkAccessible(t, root, c.Title, c.Desc)
	var widths []float64
	for _, r := range root.all("rect") {
		widths = append(widths, r.num(t, "width"))
	}
	if len(widths) != 3 {
		t.Fatalf("%d bars, want 3", len(widths))
	}
	if math.Abs(widths[0]-2*widths[1]) > 0.01 || widths[2] != 0 {
		t.Errorf("widths %v are not proportional to 10, 5, 0", widths)
	}
	var texts []string
	for _, tx := range root.all("text") {
		texts = append(texts, tx.Text)
	}
	joined := strings.Join(texts, "|")
	if !strings.Contains(joined, "<script>alert(1)</script>") || strings.Contains(s, "<script>") {
		t.Errorf("the label is not shown escaped: %s", s)
	}
	for _, want := range []string{"10", "5", "0"} {
		if !strings.Contains(joined, "|"+want) {
			t.Errorf("value %s is not written out: %q", want, joined)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 99: 100, 101: 200, 4999: 5000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}
