package cloudwatchlocal

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dimension is one name and value of a metric. CloudWatch identifies a
// metric by its namespace, its name and all of its dimensions: a query
// names every dimension the data was published with, or finds nothing.
type Dimension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Metric identifies one time series.
type Metric struct {
	Namespace  string      `json:"namespace"`
	Name       string      `json:"name"`
	Dimensions []Dimension `json:"dimensions,omitempty"`
}

func (m Metric) key() string {
	dims := slices.Clone(m.Dimensions)
	slices.SortFunc(dims, func(a, b Dimension) int { return cmp.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	for _, d := range dims {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte('=')
		b.WriteString(d.Value)
	}
	return b.String()
}

// Point is one datapoint: the statistic over [Time, Time+period).
type Point struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// Options bound a Store. The zero value is usable.
type Options struct {
	// Retention is how long per-minute data is kept. Default 3h: the last
	// hour for an ops page's charts, and the three hours that CloudWatch
	// keeps even sub-minute data for.
	Retention time.Duration
	// MaxSeries bounds the number of distinct metrics; values of a new
	// metric beyond it are dropped (and counted, Store.Dropped), so that a
	// dimension with unbounded values cannot exhaust memory. Default 1000.
	MaxSeries int
	// MaxSamples bounds the raw values a metric keeps per minute for
	// percentiles; beyond it a uniform sample of the minute's values is
	// kept, so that percentiles stay estimates of the whole minute. Sum,
	// SampleCount, Minimum and Maximum stay exact. Default 200.
	MaxSamples int
	// Now is the clock (default time.Now): what "the last three hours" is
	// measured from.
	Now func() time.Time
	// Logger hears of dropped metrics and invalid EMF documents, once per
	// kind. Default: discard.
	Logger *slog.Logger
}

// Store is a per-minute metric store, safe for concurrent use.
type Store struct {
	retention  time.Duration
	maxSeries  int
	maxSamples int
	now        func() time.Time
	log        *slog.Logger

	mu        sync.Mutex
	series    map[string]*series
	pruned    int64 // the minute of the last prune
	dropped   int64
	invalid   int64
	warnedMax bool
	rng       *rand.Rand
}

type series struct {
	metric  Metric
	units   map[string]bool
	buckets map[int64]*bucket // by the minute's Unix seconds
}

// bucket is one minute of one metric.
type bucket struct {
	count, sum, min, max float64
	samples              []float64 // a uniform sample of the minute's values
	seen                 int64     // values offered to the sample
}

func (b *bucket) add(v float64, limit int, rng *rand.Rand) {
	if b.count == 0 {
		b.min, b.max = v, v
	}
	b.count++
	b.sum += v
	b.min, b.max = min(b.min, v), max(b.max, v)
	b.seen++
	if len(b.samples) < limit {
		b.samples = append(b.samples, v)
		return
	}
	if i := rng.Int64N(b.seen); i < int64(limit) { // Vitter's algorithm R
		b.samples[i] = v
	}
}

// NewStore returns an empty store.
func NewStore(o Options) *Store {
	if o.Retention <= 0 {
		o.Retention = 3 * time.Hour
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = 1000
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = 200
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{retention: o.Retention, maxSeries: o.MaxSeries, maxSamples: o.MaxSamples, now: o.Now, log: o.Logger,
		series: map[string]*series{}, rng: rand.New(rand.NewPCG(1, 2))}
}

// futureLimit is how far ahead of now a value may be stamped, as
// PutMetricData and EMF accept values up to two hours in the future.
const futureLimit = 2 * time.Hour

// Put records values of m at t, in unit (a CloudWatch StandardUnit; ""
// means None). Values outside the retention window, or more than two hours
// ahead, are dropped; so are NaN and infinities, which CloudWatch refuses.
func (s *Store) Put(m Metric, unit string, t time.Time, values ...float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.prune(now)
	if t.Before(now.Add(-s.retention)) || t.After(now.Add(futureLimit)) {
		s.dropped += int64(len(values))
		return
	}
	k := m.key()
	sr := s.series[k]
	if sr == nil {
		if len(s.series) >= s.maxSeries {
			s.dropped += int64(len(values))
			if !s.warnedMax {
				s.warnedMax = true
				s.log.Warn("cloudwatchlocal: too many metrics; values of new ones are dropped",
					"max_series", s.maxSeries, "namespace", m.Namespace, "metric", m.Name)
			}
			return
		}
		m.Dimensions = slices.Clone(m.Dimensions)
		sr = &series{metric: m, units: map[string]bool{}, buckets: map[int64]*bucket{}}
		s.series[k] = sr
	}
	if unit == "" {
		unit = "None"
	}
	sr.units[unit] = true
	minute := t.Truncate(time.Minute).Unix()
	b := sr.buckets[minute]
	if b == nil {
		b = &bucket{}
		sr.buckets[minute] = b
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.dropped++
			continue
		}
		b.add(v, s.maxSamples, s.rng)
	}
}

// prune drops minutes older than the retention, once a minute.
func (s *Store) prune(now time.Time) {
	minute := now.Truncate(time.Minute).Unix()
	if minute == s.pruned {
		return
	}
	s.pruned = minute
	oldest := now.Add(-s.retention).Truncate(time.Minute).Unix()
	for k, sr := range s.series {
		for m := range sr.buckets {
			if m < oldest {
				delete(sr.buckets, m)
			}
		}
		if len(sr.buckets) == 0 {
			delete(s.series, k)
		}
	}
}

// Dropped counts values the store refused: too old, too far ahead, not a
// number, or of a metric beyond MaxSeries.
func (s *Store) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Metrics lists the metrics that have data, sorted, as ListMetrics would.
func (s *Store) Metrics() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(s.now())
	out := make([]Metric, 0, len(s.series))
	for _, sr := range s.series {
		m := sr.metric
		m.Dimensions = slices.Clone(m.Dimensions)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Metric) int { return cmp.Compare(a.key(), b.key()) })
	return out
}

// Statistics CloudWatch computes from per-minute data. Percentiles are
// "p" and up to two decimals, p0 to p100.
const (
	StatSum         = "Sum"
	StatAverage     = "Average"
	StatMinimum     = "Minimum"
	StatMaximum     = "Maximum"
	StatSampleCount = "SampleCount"
)

var percentileRE = regexp.MustCompile(`^p(\d{1,3})(\.\d{1,2})?$`)

// ErrUnknownStat is the error of a statistic the store cannot compute.
var ErrUnknownStat = errors.New("unknown statistic")

// statistic is a parsed Stat.
type statistic struct {
	name       string
	percentile float64 // for "pNN"; -1 otherwise
}

func parseStat(s string) (statistic, error) {
	switch s {
	case StatSum, StatAverage, StatMinimum, StatMaximum, StatSampleCount:
		return statistic{name: s, percentile: -1}, nil
	}
	if percentileRE.MatchString(s) {
		if p, err := strconv.ParseFloat(s[1:], 64); err == nil && p >= 0 && p <= 100 {
			return statistic{name: s, percentile: p}, nil
		}
	}
	return statistic{}, fmt.Errorf("%w %q: want Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99", ErrUnknownStat, s)
}

// Query asks for one statistic of one metric.
type Query struct {
	Metric Metric
	Stat   string
	// Period is a positive multiple of a minute: the store keeps no finer
	// data.
	Period time.Duration
	// Start is rounded down to the minute, as CloudWatch rounds a
	// StartTime of the last 15 days; End is exclusive.
	Start, End time.Time
	// Unit, when set, keeps only data published in that unit (CloudWatch
	// converts none): data in another unit gives no datapoints.
	Unit string
}

// Query returns the datapoints of q, oldest first; periods without data
// have none.
func (s *Store) Query(q Query) ([]Point, error) {
	st, err := parseStat(q.Stat)
	if err != nil {
		return nil, err
	}
	if q.Period <= 0 || q.Period%time.Minute != 0 {
		return nil, fmt.Errorf("period %v: the store keeps one-minute data; want a positive multiple of a minute", q.Period)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(s.now())
	sr := s.series[q.Metric.key()]
	if sr == nil || (q.Unit != "" && !sr.units[q.Unit]) {
		return nil, nil
	}
	start, end := q.Start.Truncate(time.Minute), q.End
	// Periods wholly outside what the store can hold have no data: skip
	// them on the query's grid, so a fifteen-day query costs no more than
	// the retention.
	now := s.now()
	if oldest := now.Add(-s.retention - q.Period); start.Before(oldest) {
		start = start.Add(oldest.Sub(start) / q.Period * q.Period)
	}
	if latest := now.Add(futureLimit + time.Minute); end.After(latest) {
		end = latest
	}
	var out []Point
	for t := start; t.Before(end); t = t.Add(q.Period) {
		var in []*bucket
		for m := t; m.Before(t.Add(q.Period)); m = m.Add(time.Minute) {
			if b := sr.buckets[m.Unix()]; b != nil && b.count > 0 {
				in = append(in, b)
			}
		}
		if len(in) > 0 {
			out = append(out, Point{Time: t.UTC(), Value: st.of(in)})
		}
	}
	return out, nil
}

// Series is Query for an ops page: the statistic of a metric over the
// periods since a moment, up to now, oldest first.
func (s *Store) Series(namespace, metric string, dims []Dimension, stat string, period time.Duration, since time.Time) ([]Point, error) {
	return s.Query(Query{Metric: Metric{Namespace: namespace, Name: metric, Dimensions: dims}, Stat: stat, Period: period,
		Start: since, End: s.now().Add(time.Nanosecond)})
}

// of computes the statistic over the minutes of one period.
func (st statistic) of(bs []*bucket) float64 {
	var count, sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range bs {
		count += b.count
		sum += b.sum
		lo, hi = min(lo, b.min), max(hi, b.max)
	}
	switch st.name {
	case StatSum:
		return sum
	case StatAverage:
		return sum / count
	case StatMinimum:
		return lo
	case StatMaximum:
		return hi
	case StatSampleCount:
		return count
	}
	return weightedPercentile(bs, st.percentile, lo, hi)
}

// weightedPercentile is the nearest-rank percentile of the minutes'
// samples, each standing for its minute's share of values (a minute whose
// sample is a tenth of its values weighs ten per sample). p0 and p100 are
// the exact minimum and maximum.
func weightedPercentile(bs []*bucket, p, lo, hi float64) float64 {
	switch p {
	case 0:
		return lo
	case 100:
		return hi
	}
	type ws struct{ v, w float64 }
	var all []ws
	var total float64
	for _, b := range bs {
		w := b.count / float64(len(b.samples))
		for _, v := range b.samples {
			all = append(all, ws{v, w})
		}
		total += b.count
	}
	slices.SortFunc(all, func(a, b ws) int { return cmp.Compare(a.v, b.v) })
	rank := p / 100 * total
	var acc float64
	for _, x := range all {
		acc += x.w
		if acc >= rank-1e-9 {
			return x.v
		}
	}
	return all[len(all)-1].v
}
