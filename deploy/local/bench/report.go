package bench

import (
	"fmt"
	"image/color"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// WriteTable prints one row per run, as a Markdown table so that the same
// text reads in a terminal and in docs/PERFORMANCE.md.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "| concurrent\t think\t sign-ins\t sign-ins/s\t pw→email p50\t p90\t p99\t max\t sign-in p50\t p99\t lost\t unexpected\t failed\t")
	fmt.Fprintln(tw, "|---:\t---:\t---:\t---:\t---:\t---:\t---:\t---:\t---:\t---:\t---:\t---:\t---:\t")
	for _, r := range results {
		fmt.Fprintf(tw, "| %d\t %s\t %d\t %.1f\t %s\t %s\t %s\t %s\t %s\t %s\t %d\t %d\t %d\t\n",
			r.Concurrency, r.Think, r.SignIns, r.Throughput(),
			ms(r.PasswordToEmail.P50), ms(r.PasswordToEmail.P90), ms(r.PasswordToEmail.P99), ms(r.PasswordToEmail.Max),
			ms(r.SignIn.P50), ms(r.SignIn.P99), r.Lost, r.Unexpected, r.Failed)
	}
	return tw.Flush()
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// Plot draws password→email p50, p90 and p99 against concurrency, with the
// issue's targets as dashed lines, and writes a PNG.
func Plot(path string, results []Result) error {
	p := plot.New()
	p.Title.Text = "otp-local: password step → email accepted by SES"
	p.X.Label.Text = "concurrent sign-ins"
	p.Y.Label.Text = "milliseconds"
	p.Legend.Top, p.Legend.Left = true, true
	series := []struct {
		name  string
		pick  func(Percentiles) time.Duration
		color color.RGBA
	}{
		{"p50", func(p Percentiles) time.Duration { return p.P50 }, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"p90", func(p Percentiles) time.Duration { return p.P90 }, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}},
		{"p99", func(p Percentiles) time.Duration { return p.P99 }, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	}
	maxX := 1.0
	for _, s := range series {
		pts := make(plotter.XYs, len(results))
		for i, r := range results {
			pts[i].X = float64(r.Concurrency)
			pts[i].Y = float64(s.pick(r.PasswordToEmail)) / float64(time.Millisecond)
			maxX = max(maxX, pts[i].X)
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("bench: plot %s: %w", s.name, err)
		}
		line.Color, points.Color = s.color, s.color
		line.Width = vg.Points(1.5)
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	for _, target := range []struct {
		name string
		y    float64
	}{{"target p50 ≤ 50 ms", 50}, {"target p99 ≤ 250 ms", 250}} {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: target.y}, {X: maxX, Y: target.y}})
		if err != nil {
			return fmt.Errorf("bench: plot target: %w", err)
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = color.Gray{Y: 0x88}
		p.Add(l)
		p.Legend.Add(target.name, l)
	}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.ThumbnailWidth = vg.Points(20)
	if err := p.Save(8*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("bench: save plot %s: %w", path, err)
	}
	return nil
}
