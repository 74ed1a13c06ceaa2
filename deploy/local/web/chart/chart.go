// Package chart draws the ops page's small time-series charts as inline
// SVG, on the server: otp-local's pages load nothing from outside
// 127.0.0.1, so no JavaScript charting library, and a chart a few
// kilobytes long can be re-sent with every 3-second refresh.
//
// A chart is as wide as its container at any window width: the plot is
// a nested SVG whose viewBox is stretched to the width (one unit per time
// slot, strokes kept at their pixel width by non-scaling-stroke), while
// the text (legend, axis labels) is placed in pixels or per cent of the
// outer SVG, so it stays the same readable size on a phone and on a wide
// screen. Colours and fonts come from the page's CSS classes.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Point is one datapoint: the statistic of the slot that starts at Time.
type Point struct {
	Time  time.Time
	Value float64
}

// Series is one metric of a chart, drawn in the colour of its index
// plus the chart's FirstColor (CSS classes s0, s1, ...).
type Series struct {
	Label  string
	Points []Point
}

// Threshold is a level drawn as a dashed line with its label, when it
// falls within the chart's scale (CSS class thr and Class). A chart's
// thresholds go lowest first.
type Threshold struct {
	Value float64
	Label string
	Class string
}

// Chart is one chart.
type Chart struct {
	// ID is unique on the page: the ids of the title and description.
	ID string
	// Title and Desc are the accessible name and description; Desc is
	// followed by each series' newest and highest values.
	Title, Desc string
	// From is the start of the first of Slots slots of Step each.
	From  time.Time
	Slots int
	Step  time.Duration
	// Bars draws counts per slot (a slot without a point counted none);
	// otherwise each point is a step over the slot it covers, and a slot
	// without one is a gap.
	Bars       bool
	Series     []Series
	Thresholds []Threshold
	// Format writes a value with its unit; Loc is the time zone of the
	// clock labels (default Local).
	Format func(float64) string
	Loc    *time.Location
	// Empty is shown over a chart with no point at all (default "no data
	// yet").
	Empty string
	// MinScale is the least top of the scale: 2 for counts, so that the
	// middle line is a whole number. Nice, when set, picks the top of the
	// scale for the highest value instead of the package's Nice (a round
	// time for durations).
	MinScale float64
	Nice     func(float64) float64
	// FirstColor is the colour of the first series: a second chart of
	// the same line goes on with the next colours rather than repeat
	// the first chart's.
	FirstColor int
	// Height is the chart's height in pixels (default DefaultHeight).
	Height int
}

// Geometry in pixels of the outer SVG: a legend row, the plot, the clock
// labels below it.
const (
	DefaultHeight = 112
	plotTop       = 22
	axisH         = 24  // the clock labels under the plot
	legendY       = 13  // the legend's baseline
	charW         = 6.8 // an average glyph of the legend's 12px font
	plotSpan      = 100 // the plot's viewBox height
	tickBelow     = 12  // a gridline's label sits just under it, clear of the legend
	minThreshold  = 0.1 // a threshold line lower than this share of the scale says nothing
)

// SVG renders the chart.
func (c Chart) SVG() template.HTML {
	if c.Step <= 0 {
		c.Step = time.Minute
	}
	if c.Slots <= 0 {
		c.Slots = 60
	}
	if c.Format == nil {
		c.Format = func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	}
	if c.Loc == nil {
		c.Loc = time.Local
	}
	if c.Empty == "" {
		c.Empty = "no data yet"
	}
	if c.Height <= 0 {
		c.Height = DefaultHeight
	}
	plotH := c.Height - plotTop - axisH
	slots := c.slotted()
	top := 0.0
	seen := false
	for _, vs := range slots {
		for _, v := range vs {
			if !math.IsNaN(v) {
				seen = true
				top = max(top, v)
			}
		}
	}
	nice := c.Nice
	if nice == nil {
		nice = Nice
	}
	scale := max(nice(top), c.MinScale)

	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-labelledby="%s-t" aria-describedby="%s-d" width="100%%" height="%d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), esc(c.ID), c.Height)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.describe(slots)))

	// The legend: each series' colour, label and newest value.
	x := 0.0
	b.WriteString(`<g class="legend">`)
	for i, s := range c.Series {
		now := c.latest(slots[i])
		fmt.Fprintf(&b, `<rect class="sw s%d" x="%s" y="3" width="10" height="10" rx="2"/><text x="%s" y="%d">%s <tspan class="now">%s</tspan></text>`,
			c.FirstColor+i, num(x), num(x+14), legendY, esc(s.Label), esc(now))
		x += 14 + charW*float64(utf8.RuneCountInString(s.Label)+1+utf8.RuneCountInString(now)) + 16
	}
	b.WriteString(`</g>`)

	// Grid: the top of the scale, its middle, the baseline.
	ph := float64(plotH)
	for _, f := range []float64{1, 0.5} {
		y := plotTop + ph*(1-f)
		fmt.Fprintf(&b, `<line class="grid" x1="0" x2="100%%" y1="%s" y2="%s"/><text class="tick" x="2" y="%s">%s</text>`,
			num(y), num(y), num(y+tickBelow), esc(c.Format(scale*f)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="0" x2="100%%" y1="%d" y2="%d"/>`, plotTop+plotH, plotTop+plotH)
	// Thresholds within the scale. One beyond it is left out rather than
	// squash the data under it, and one in the bottom tenth too (a 1 s
	// line under a 100 s peak): the rule beside the chart says both. The
	// highest one's label goes above its line, the others' below, so two
	// close thresholds do not write over each other.
	for i, t := range c.Thresholds {
		if t.Value <= 0 || t.Value > scale || t.Value/scale < minThreshold {
			continue
		}
		y := plotTop + ph*(1-t.Value/scale)
		ly := y + tickBelow
		if i == len(c.Thresholds)-1 || c.Thresholds[i+1].Value > scale || ly > plotTop+ph-2 {
			ly = y - 3 // the highest, or too near the clock labels to go under
		}
		fmt.Fprintf(&b, `<line class="thr %s" x1="0" x2="100%%" y1="%s" y2="%s"/><text class="thr-label %s" x="100%%" dx="-3" y="%s" text-anchor="end">%s</text>`,
			esc(t.Class), num(y), num(y), esc(t.Class), num(ly), esc(t.Label))
	}

	// The plot, stretched to the width: one unit per slot.
	fmt.Fprintf(&b, `<svg class="plot" x="0" y="%d" width="100%%" height="%d" viewBox="0 0 %d %d" preserveAspectRatio="none">`,
		plotTop, plotH, c.Slots, plotSpan)
	for i := range c.Series {
		if d := c.path(slots[i], i, scale); d != "" {
			if c.Bars {
				fmt.Fprintf(&b, `<path class="bar s%d" d="%s"/>`, c.FirstColor+i, d)
			} else {
				fmt.Fprintf(&b, `<path class="step s%d" d="%s" fill="none" vector-effect="non-scaling-stroke"/>`, c.FirstColor+i, d)
			}
		}
	}
	// Hover targets: a slot's exact values in its tooltip.
	b.WriteString(`<g class="hover">`)
	for k := range c.Slots {
		var parts []string
		for i, s := range c.Series {
			if v := slots[i][k]; !math.IsNaN(v) {
				parts = append(parts, s.Label+" "+c.Format(v))
			}
		}
		if len(parts) > 0 {
			at := c.From.Add(time.Duration(k) * c.Step).In(c.Loc).Format("15:04")
			fmt.Fprintf(&b, `<rect x="%d" y="0" width="1" height="%d"><title>%s · %s</title></rect>`, k, plotSpan, at, esc(strings.Join(parts, " · ")))
		}
	}
	b.WriteString(`</g></svg>`)

	if !seen {
		fmt.Fprintf(&b, `<text class="empty" x="50%%" y="%d" text-anchor="middle">%s</text>`, plotTop+plotH/2+4, esc(c.Empty))
	}
	labelY := plotTop + plotH + 16
	// Clock labels at the quarter hours.
	span := time.Duration(c.Slots) * c.Step
	for t := c.From.Truncate(15 * time.Minute); !t.After(c.From.Add(span)); t = t.Add(15 * time.Minute) {
		if t.Before(c.From) {
			continue
		}
		f := float64(t.Sub(c.From)) / float64(span) * 100
		anchor := "middle"
		switch {
		case f < 4:
			anchor = "start"
		case f > 96:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line class="axis" x1="%s%%" x2="%s%%" y1="%d" y2="%d"/><text class="tick" x="%s%%" y="%d" text-anchor="%s">%s</text>`,
			num(f), num(f), plotTop+plotH, plotTop+plotH+4, num(f), labelY, anchor, t.In(c.Loc).Format("15:04"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above went through esc
}

// slotted places each series' points on the slots: NaN where none, or 0
// for bars.
func (c Chart) slotted() [][]float64 {
	out := make([][]float64, len(c.Series))
	for i, s := range c.Series {
		vs := make([]float64, c.Slots)
		for k := range vs {
			vs[k] = math.NaN()
		}
		for _, p := range s.Points {
			if p.Time.Before(c.From) || math.IsNaN(p.Value) {
				continue
			}
			if k := int(p.Time.Sub(c.From) / c.Step); k < c.Slots {
				vs[k] = p.Value
			}
		}
		out[i] = vs
	}
	return out
}

// latest is a series' value now: the last slot's; for steps, the slot
// before it when the current one has not been measured yet (a minute's
// sample may still be on its way); for bars, a slot without a point
// counted none.
func (c Chart) latest(vs []float64) string {
	last := vs[len(vs)-1]
	if math.IsNaN(last) && !c.Bars && len(vs) > 1 {
		last = vs[len(vs)-2]
	}
	if math.IsNaN(last) {
		if c.Bars {
			return c.Format(0)
		}
		return "–"
	}
	return c.Format(last)
}

func (c Chart) describe(slots [][]float64) string {
	parts := []string{}
	if c.Desc != "" {
		parts = append(parts, c.Desc)
	}
	for i, s := range c.Series {
		hi, seen := 0.0, false
		for _, v := range slots[i] {
			if !math.IsNaN(v) {
				hi, seen = max(hi, v), true
			}
		}
		if !seen {
			parts = append(parts, s.Label+": no data")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: now %s, highest %s", s.Label, c.latest(slots[i]), c.Format(hi)))
	}
	return strings.Join(parts, "; ") + "."
}

// path is one series in the plot's units: bars from the baseline, or
// steps across each slot, broken where a slot has no point.
func (c Chart) path(vs []float64, i int, scale float64) string {
	var d strings.Builder
	n := float64(len(c.Series))
	y := func(v float64) float64 { return plotSpan * (1 - v/scale) }
	open := false
	for k, v := range vs {
		if math.IsNaN(v) {
			open = false
			continue
		}
		if c.Bars {
			if v <= 0 {
				continue
			}
			// Side by side within the slot; a small count stays visible.
			w := 0.8 / n
			h := max(plotSpan-y(v), 3)
			fmt.Fprintf(&d, "M%s %dv-%sh%sv%sz", num(float64(k)+0.1+float64(i)*w), plotSpan, num(h), num(w), num(h))
			continue
		}
		if !open {
			fmt.Fprintf(&d, "M%d %s", k, num(y(v)))
			open = true
		} else {
			fmt.Fprintf(&d, "V%s", num(y(v)))
		}
		fmt.Fprintf(&d, "H%d", k+1)
	}
	return d.String()
}

// Nice is the top of a scale for data up to v: 1, 2, 4 or 5 times a power
// of ten, so that its half is a round number too; 1 for no data.
func Nice(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 4, 5, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// num writes a coordinate compactly: two decimals at most.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}
