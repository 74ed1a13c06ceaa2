package health

import (
	"fmt"
	"math"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

// Source is where the numbers come from: cloudwatchlocal.Store, the
// store behind otp-local's GetMetricData.
type Source interface {
	Series(namespace, metric string, dims []cloudwatchlocal.Dimension, stat string, period time.Duration, since time.Time) ([]cloudwatchlocal.Point, error)
}

// Window is how much the charts show, per minute.
const Window = time.Hour

// Report is every line's series, state and rule, for the page and the JSON.
type Report struct {
	// From is the first charted minute, To the moment of the report: the
	// charts cover [From, To], one datapoint per minute.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// PeriodSeconds is the charts' period: 60.
	PeriodSeconds int `json:"periodSeconds"`
	// State is the worst line's.
	State State        `json:"state"`
	Lines []LineReport `json:"lines"`
}

// LineReport is one line as evaluated.
type LineReport struct {
	ID     string         `json:"id"`
	Title  string         `json:"title"`
	About  string         `json:"about"`
	Unit   Unit           `json:"unit"`
	Style  Style          `json:"style"`
	State  State          `json:"state"`
	Rule   RuleReport     `json:"rule"`
	Series []SeriesReport `json:"series"`
}

// RuleReport is the rule and what it judged.
type RuleReport struct {
	Text  string `json:"text"`
	Alarm string `json:"alarm,omitempty"`
	Unit  Unit   `json:"unit"`
	// PeriodSeconds and Periods: the rule looks at the newest Periods
	// periods of PeriodSeconds each.
	PeriodSeconds int      `json:"periodSeconds"`
	Periods       int      `json:"periods"`
	Amber         *float64 `json:"amber,omitempty"`
	Red           *float64 `json:"red,omitempty"`
	AtLeast       bool     `json:"atLeast,omitempty"`
	// Value is the newest period's value (null: no datapoint), Says the
	// sentence the page shows for it.
	Value *float64 `json:"value"`
	Says  string   `json:"says"`
}

// SeriesReport is one charted metric and its datapoints, oldest first;
// minutes without a datapoint have none, as in GetMetricData.
type SeriesReport struct {
	Label string `json:"label"`
	Metric
	// Panel is which of the line's charts draws it (see Series.Panel).
	Panel  int                     `json:"panel,omitempty"`
	Points []cloudwatchlocal.Point `json:"points"`
}

// Latest is the newest datapoint's value, if there is one.
func (s SeriesReport) Latest() (float64, bool) {
	if len(s.Points) == 0 {
		return 0, false
	}
	return s.Points[len(s.Points)-1].Value, true
}

// Evaluate reads every line's series and judges its rule, at now.
func Evaluate(src Source, lines []Line, now time.Time) (Report, error) {
	minute := now.Truncate(time.Minute)
	rep := Report{From: minute.Add(-Window + time.Minute), To: now, PeriodSeconds: 60, State: NoData}
	for _, l := range lines {
		lr := LineReport{ID: l.ID, Title: l.Title, About: l.About, Unit: l.Unit, Style: l.Style}
		for _, s := range l.Series {
			pts, err := query(src, s.Metric, time.Minute, rep.From)
			if err != nil {
				return rep, fmt.Errorf("health: line %s, %s: %w", l.ID, s.Label, err)
			}
			lr.Series = append(lr.Series, SeriesReport{Label: s.Label, Metric: s.Metric, Panel: s.Panel, Points: pts})
		}
		var err error
		if lr.Rule, lr.State, err = l.Rule.evaluate(src, minute); err != nil {
			return rep, fmt.Errorf("health: line %s, rule: %w", l.ID, err)
		}
		if lr.State.severity() > rep.State.severity() {
			rep.State = lr.State
		}
		rep.Lines = append(rep.Lines, lr)
	}
	return rep, nil
}

func query(src Source, m Metric, period time.Duration, since time.Time) ([]cloudwatchlocal.Point, error) {
	pts, err := src.Series(m.Namespace, m.Name, m.Dimensions, m.Stat, period, since)
	if pts == nil {
		pts = []cloudwatchlocal.Point{} // [] in the JSON, not null
	}
	return pts, err
}

// evaluate reads the newest Periods periods of the rule, the current
// minute the last of them, and judges them.
func (r Rule) evaluate(src Source, minute time.Time) (RuleReport, State, error) {
	periods := max(r.Periods, 1)
	start := minute.Add(time.Minute - time.Duration(periods)*r.Period)
	values := make([]float64, periods)
	var num, den float64
	if r.Ratio != nil {
		nums, err := sums(src, r.Ratio.Num, r.Period, start, periods)
		if err != nil {
			return RuleReport{}, NoData, err
		}
		dens, err := sums(src, r.Ratio.Den, r.Period, start, periods)
		if err != nil {
			return RuleReport{}, NoData, err
		}
		for i := range values {
			values[i] = math.NaN()
			if dens[i] > 0 {
				values[i] = nums[i] / dens[i] * 100
				num, den = nums[i], dens[i]
			}
		}
	} else {
		pts, err := query(src, *r.Metric, r.Period, start)
		if err != nil {
			return RuleReport{}, NoData, err
		}
		values = perPeriod(pts, r.Period, start, periods)
	}
	state, v := r.judge(values)
	rr := RuleReport{Text: r.Text, Alarm: r.Alarm, Unit: r.Unit,
		PeriodSeconds: int(r.Period / time.Second), Periods: periods, Amber: r.Amber, Red: r.Red, AtLeast: r.AtLeast,
		Says: r.describe(v, num, den)}
	if !math.IsNaN(v) {
		rr.Value = &v
	}
	return rr, state, nil
}

// perPeriod places datapoints on the periods from start: NaN where a
// period has none.
func perPeriod(pts []cloudwatchlocal.Point, period time.Duration, start time.Time, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	for _, p := range pts {
		if i := int(p.Time.Sub(start) / period); i >= 0 && i < n {
			out[i] = p.Value
		}
	}
	return out
}

// sums adds the Sum of every metric per period; a period without data
// counts zero, as a count that nobody published was nothing.
func sums(src Source, ms []Metric, period time.Duration, start time.Time, n int) ([]float64, error) {
	out := make([]float64, n)
	for _, m := range ms {
		m.Stat = cloudwatchlocal.StatSum
		pts, err := query(src, m, period, start)
		if err != nil {
			return nil, err
		}
		for i, v := range perPeriod(pts, period, start, n) {
			if !math.IsNaN(v) {
				out[i] += v
			}
		}
	}
	return out, nil
}
