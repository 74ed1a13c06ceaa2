package chart

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

var from = time.Date(2026, 5, 4, 11, 31, 0, 0, time.UTC)

func minute(k int) time.Time { return from.Add(time.Duration(k) * time.Minute) }

func render(t *testing.T, c Chart) string {
	t.Helper()
	c.Loc = time.UTC
	if c.ID == "" {
		c.ID = "c"
	}
	s := string(c.SVG())
	// Well-formed XML: the browser's HTML parser forgives, a reader of
	// the page's source should not have to.
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
	}
	return s
}

func TestNice(t *testing.T) {
	for _, tc := range []struct{ v, want float64 }{
		{0, 1}, {-3, 1}, {0.3, 0.4}, {1, 1}, {1.2, 2}, {3, 4}, {4.5, 5}, {7, 10}, {12, 20}, {50, 50}, {51, 100}, {1500, 2000}, {60, 100},
	} {
		if got := Nice(tc.v); got != tc.want {
			t.Errorf("Nice(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// TestEmpty: a chart of metrics nobody publishes yet says so, and still
// has its axes, legend and accessible name.
func TestEmpty(t *testing.T) {
	s := render(t, Chart{ID: "ttd", Title: "Time to delivery, last hour", From: from, Slots: 60,
		Series: []Series{{Label: "p50"}, {Label: "p99"}}})
	for _, want := range []string{
		`role="img" aria-labelledby="ttd-t" aria-describedby="ttd-d"`,
		`<title id="ttd-t">Time to delivery, last hour</title>`,
		`<desc id="ttd-d">p50: no data; p99: no data.</desc>`,
		`>no data yet</text>`,
		`p50 <tspan class="now">–</tspan>`,
		`>11:45</text>`, `>12:00</text>`, `>12:15</text>`, `>12:30</text>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	if strings.Contains(s, "<path") || strings.Contains(s, "<rect x=") {
		t.Errorf("an empty chart draws data:\n%s", s)
	}
}

// TestSteps: each point covers its minute; a missing minute breaks the
// line; the scale's top is a nice number above the highest point.
func TestSteps(t *testing.T) {
	s := render(t, Chart{ID: "age", Title: "Oldest", From: from, Slots: 60,
		Series: []Series{{Label: "send queue", Points: []Point{{minute(10), 10}, {minute(11), 30}, {minute(13), 40}, {minute(59), 20}}}},
		Format: func(v float64) string { return num(v) + " s" }})
	path := regexp.MustCompile(`<path class="step s0" d="([^"]+)"`).FindStringSubmatch(s)
	if path == nil {
		t.Fatalf("no step path:\n%s", s)
	}
	// Scale 0..40: 10 is y=75, 30 is y=25, 40 is y=0, 20 is y=50.
	if want := "M10 75H11V25H12M13 0H14M59 50H60"; path[1] != want {
		t.Errorf("path %s, want %s", path[1], want)
	}
	for _, want := range []string{`>40 s</text>`, `>20 s</text>`, // the scale's top and middle
		`send queue <tspan class="now">20 s</tspan>`, // the newest value
		`<desc id="age-d">send queue: now 20 s, highest 40 s.</desc>`,
		`<title>11:42 · send queue 30 s</title>`, // a minute's tooltip
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	if strings.Contains(s, "no data yet") {
		t.Error("a chart with data says it has none")
	}
}

// TestStepsNewestMinuteNotYetSampled: the legend shows the previous
// minute's value while the current minute's sample is on its way.
func TestStepsNewestMinuteNotYetSampled(t *testing.T) {
	s := render(t, Chart{From: from, Slots: 60, Series: []Series{{Label: "waiting", Points: []Point{{minute(58), 3}}}}})
	if !strings.Contains(s, `waiting <tspan class="now">3</tspan>`) {
		t.Errorf("legend:\n%s", s)
	}
	s = render(t, Chart{From: from, Slots: 60, Series: []Series{{Label: "waiting", Points: []Point{{minute(50), 3}}}}})
	if !strings.Contains(s, `waiting <tspan class="now">–</tspan>`) {
		t.Errorf("an old value is not now:\n%s", s)
	}
}

// TestBars: counts side by side within their minute, a minute without a
// point counts zero, a small count among large ones stays visible.
func TestBars(t *testing.T) {
	s := render(t, Chart{From: from, Slots: 60, Bars: true, Series: []Series{
		{Label: "sent", Points: []Point{{minute(0), 400}, {minute(59), 1}}},
		{Label: "dead-lettered", Points: []Point{{minute(59), 0}}},
	}})
	bars := regexp.MustCompile(`<path class="bar s0" d="([^"]+)"`).FindStringSubmatch(s)
	if bars == nil {
		t.Fatalf("no bars:\n%s", s)
	}
	// 400 of a 400 scale fills the plot; 1 gets the 3-unit minimum.
	if want := "M0.1 100v-100h0.4v100zM59.1 100v-3h0.4v3z"; bars[1] != want {
		t.Errorf("bars %s, want %s", bars[1], want)
	}
	if strings.Contains(s, `class="bar s1"`) {
		t.Error("a zero count drew a bar")
	}
	if !strings.Contains(s, `sent <tspan class="now">1</tspan>`) || !strings.Contains(s, `dead-lettered <tspan class="now">0</tspan>`) {
		t.Errorf("legend:\n%s", s)
	}
	s = render(t, Chart{From: from, Slots: 60, Bars: true, Series: []Series{{Label: "sent", Points: []Point{{minute(3), 2}}}}})
	if !strings.Contains(s, `sent <tspan class="now">0</tspan>`) {
		t.Errorf("a minute without a count is zero, not unknown:\n%s", s)
	}
}

// TestThresholds: drawn when within the scale, left out (and the data
// not squashed) when beyond it.
func TestThresholds(t *testing.T) {
	thr := []Threshold{{Value: 30, Label: "amber 30 s", Class: "amber"}, {Value: 60, Label: "red 60 s", Class: "red"}}
	s := render(t, Chart{From: from, Slots: 60, Thresholds: thr, Series: []Series{{Label: "age", Points: []Point{{minute(59), 45}}}}})
	if !strings.Contains(s, `>amber 30 s</text>`) || strings.Contains(s, "red 60 s") {
		t.Errorf("45 s on a 50 s scale: want the amber line only:\n%s", s)
	}
	s = render(t, Chart{From: from, Slots: 60, Thresholds: thr, Series: []Series{{Label: "age", Points: []Point{{minute(59), 2}}}}})
	if strings.Contains(s, `class="thr `) {
		t.Errorf("2 s: no threshold line:\n%s", s)
	}
}

// TestThresholdsNearTheBaseline: a 1 s line under a 100 s peak sits
// on the baseline and says nothing; two close ones keep their labels
// apart, the highest above its line.
func TestThresholdsNearTheBaseline(t *testing.T) {
	thr := []Threshold{{Value: 1, Label: "amber 1 s", Class: "amber"}, {Value: 5, Label: "red 5 s", Class: "red"}}
	s := render(t, Chart{From: from, Slots: 60, Thresholds: thr, Series: []Series{{Label: "p99", Points: []Point{{minute(59), 90}}}}})
	if strings.Contains(s, `class="thr `) {
		t.Errorf("thresholds in the bottom tenth were drawn:\n%s", s)
	}
	s = render(t, Chart{From: from, Slots: 60, Thresholds: thr, Series: []Series{{Label: "p99", Points: []Point{{minute(59), 6}}}}})
	if strings.Contains(s, "y=\"93.4\"") {
		t.Error("a label under the baseline")
	}
	// Scale 10 over 66 px: amber at y=81.4, its label above (78.4), below
	// would meet the clock labels; red at y=55, above (52).
	for _, want := range []string{`y="78.4" text-anchor="end">amber 1 s<`, `y="52" text-anchor="end">red 5 s<`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
}

// TestMinScale: a count of one on a scale of two, whose middle is one,
// not half a message.
func TestMinScale(t *testing.T) {
	s := render(t, Chart{From: from, Slots: 60, MinScale: 2, Bars: true, Format: func(v float64) string { return num(v) },
		Series: []Series{{Label: "hard", Points: []Point{{minute(30), 1}}}}})
	if !strings.Contains(s, `class="tick" x="2" y="34">2<`) || !strings.Contains(s, `>1</text>`) || strings.Contains(s, ">0.5<") {
		t.Errorf("scale:\n%s", s)
	}
}

// TestEscaping: labels and titles are text, not markup.
func TestEscaping(t *testing.T) {
	s := render(t, Chart{ID: `x"y`, Title: `<script>alert(1)</script>`, From: from, Slots: 60,
		Series: []Series{{Label: `a&b <i>`, Points: []Point{{minute(59), 1}}}}})
	if strings.Contains(s, "<script>") || strings.Contains(s, "<i>") || strings.Contains(s, `id="x"y`) {
		t.Errorf("unescaped:\n%s", s)
	}
}

// TestPointsOutsideTheWindow are left out, not drawn at the edges.
func TestPointsOutsideTheWindow(t *testing.T) {
	s := render(t, Chart{From: from, Slots: 60, Series: []Series{{Label: "v", Points: []Point{{minute(-1), 5}, {minute(60), 7}}}}})
	if !strings.Contains(s, "no data yet") {
		t.Errorf("points outside the hour were drawn:\n%s", s)
	}
}

// TestSmall: a chart of an hour of two series is a few kilobytes, cheap
// to send with every refresh.
func TestSmall(t *testing.T) {
	var a, b []Point
	for k := range 60 {
		a = append(a, Point{minute(k), float64(k % 7)})
		b = append(b, Point{minute(k), float64(k % 3)})
	}
	s := render(t, Chart{From: from, Slots: 60, Series: []Series{{Label: "waiting", Points: a}, {Label: "in flight", Points: b}}})
	if len(s) > 12_000 {
		t.Errorf("%d bytes", len(s))
	}
}

// TestCloseThresholdsApart: amber's label under its line, red's above.
func TestCloseThresholdsApart(t *testing.T) {
	thr := []Threshold{{Value: 30, Label: "amber 30 s", Class: "amber"}, {Value: 60, Label: "red 60 s", Class: "red"}}
	s := render(t, Chart{From: from, Slots: 60, Thresholds: thr, Series: []Series{{Label: "age", Points: []Point{{minute(59), 90}}}}})
	// Scale 100: amber at y=68.2, label at 80.2; red at 48.4, label at 45.4.
	for _, want := range []string{`y="80.2" text-anchor="end">amber 30 s<`, `y="45.4" text-anchor="end">red 60 s<`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
}

// TestFirstColor: a line's second chart goes on with the next colour.
func TestFirstColor(t *testing.T) {
	s := render(t, Chart{From: from, Slots: 60, FirstColor: 1, Series: []Series{{Label: "dead-letter queue", Points: []Point{{minute(59), 5}}}}})
	if !strings.Contains(s, `<rect class="sw s1"`) || !strings.Contains(s, `<path class="step s1"`) || strings.Contains(s, `s0"`) {
		t.Errorf("colours:\n%s", s)
	}
}
