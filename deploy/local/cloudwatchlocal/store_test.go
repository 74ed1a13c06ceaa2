package cloudwatchlocal

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newTestStore(o Options) (*Store, *clock) {
	c := &clock{now: t0.Add(10 * time.Minute)}
	o.Now = c.Now
	return NewStore(o), c
}

var age = Metric{Namespace: "AWS/SQS", Name: "ApproximateAgeOfOldestMessage", Dimensions: []Dimension{{"QueueName", "otp-send"}}}

func TestStatistics(t *testing.T) {
	s, _ := newTestStore(Options{})
	// Minute 0: 1..10; minute 1: 100; minute 3: 5, 7. Minute 2 is empty.
	for v := 1; v <= 10; v++ {
		s.Put(age, "Seconds", t0.Add(time.Duration(v)*time.Second), float64(v))
	}
	s.Put(age, "Seconds", t0.Add(time.Minute+59*time.Second), 100)
	s.Put(age, "Seconds", t0.Add(3*time.Minute), 5, 7)

	for _, tc := range []struct {
		stat   string
		period time.Duration
		want   []float64 // per period with data, oldest first
	}{
		{"Sum", time.Minute, []float64{55, 100, 12}},
		{"SampleCount", time.Minute, []float64{10, 1, 2}},
		{"Average", time.Minute, []float64{5.5, 100, 6}},
		{"Minimum", time.Minute, []float64{1, 100, 5}},
		{"Maximum", time.Minute, []float64{10, 100, 7}},
		{"p50", time.Minute, []float64{5, 100, 5}},
		{"p90", time.Minute, []float64{9, 100, 7}},
		{"p99", time.Minute, []float64{10, 100, 7}},
		{"p0", time.Minute, []float64{1, 100, 5}},
		{"p100", time.Minute, []float64{10, 100, 7}},
		{"p99.5", time.Minute, []float64{10, 100, 7}},
		// Two-minute periods from 12:00: [12:00, 12:02) and [12:02, 12:04).
		{"Sum", 2 * time.Minute, []float64{155, 12}},
		{"Maximum", 2 * time.Minute, []float64{100, 7}},
		{"p50", 2 * time.Minute, []float64{6, 5}},
		{"SampleCount", 5 * time.Minute, []float64{13}},
	} {
		t.Run(fmt.Sprintf("%s per %v", tc.stat, tc.period), func(t *testing.T) {
			pts, err := s.Query(Query{Metric: age, Stat: tc.stat, Period: tc.period, Start: t0, End: t0.Add(5 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			var got []float64
			for i, p := range pts {
				got = append(got, p.Value)
				if want := t0.Add(time.Duration(i) * tc.period); tc.period == time.Minute && i == 2 {
					if !p.Time.Equal(t0.Add(3 * time.Minute)) {
						t.Errorf("third point at %v, want 12:03 (12:02 has no data)", p.Time)
					}
				} else if !p.Time.Equal(want) {
					t.Errorf("point %d at %v, want %v", i, p.Time, want)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQueryRangeAndIdentity(t *testing.T) {
	s, _ := newTestStore(Options{})
	s.Put(age, "Seconds", t0.Add(30*time.Second), 42)
	s.Put(age, "Seconds", t0.Add(time.Minute), 43)
	other := age
	other.Dimensions = []Dimension{{"QueueName", "otp-send-dlq"}}
	for _, tc := range []struct {
		name string
		q    Query
		want int
	}{
		{"start inside the minute rounds down", Query{Metric: age, Start: t0.Add(45 * time.Second), End: t0.Add(2 * time.Minute)}, 2},
		{"end is exclusive", Query{Metric: age, Start: t0, End: t0.Add(time.Minute)}, 1},
		{"another dimension value is another metric", Query{Metric: other, Start: t0, End: t0.Add(time.Hour)}, 0},
		{"a dimension left out finds nothing", Query{Metric: Metric{Namespace: "AWS/SQS", Name: age.Name}, Start: t0, End: t0.Add(time.Hour)}, 0},
		{"the unit it was published in", Query{Metric: age, Unit: "Seconds", Start: t0, End: t0.Add(time.Hour)}, 2},
		{"another unit is not converted", Query{Metric: age, Unit: "Milliseconds", Start: t0, End: t0.Add(time.Hour)}, 0},
		{"fifteen days ago to now", Query{Metric: age, Start: t0.Add(-15 * 24 * time.Hour), End: t0.Add(time.Hour)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Stat, tc.q.Period = "Maximum", time.Minute
			pts, err := s.Query(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != tc.want {
				t.Errorf("%d points (%v), want %d", len(pts), pts, tc.want)
			}
		})
	}
	// Dimension order does not matter.
	two := Metric{Namespace: "N", Name: "M", Dimensions: []Dimension{{"a", "1"}, {"b", "2"}}}
	s.Put(two, "", t0, 1)
	pts, _ := s.Query(Query{Metric: Metric{Namespace: "N", Name: "M", Dimensions: []Dimension{{"b", "2"}, {"a", "1"}}},
		Stat: "Sum", Period: time.Minute, Start: t0, End: t0.Add(time.Minute)})
	if len(pts) != 1 {
		t.Errorf("dimensions in another order: %v", pts)
	}
}

func TestQueryRefusals(t *testing.T) {
	s, _ := newTestStore(Options{})
	for _, tc := range []struct{ stat string }{{"Median"}, {"p101"}, {"p99.999"}, {"tm99"}, {""}} {
		if _, err := s.Query(Query{Metric: age, Stat: tc.stat, Period: time.Minute, Start: t0, End: t0.Add(time.Minute)}); !errors.Is(err, ErrUnknownStat) {
			t.Errorf("stat %q: %v, want ErrUnknownStat", tc.stat, err)
		}
	}
	for _, p := range []time.Duration{0, 30 * time.Second, 90 * time.Second, -time.Minute} {
		if _, err := s.Query(Query{Metric: age, Stat: "Sum", Period: p, Start: t0, End: t0.Add(time.Minute)}); err == nil {
			t.Errorf("period %v accepted", p)
		}
	}
}

func TestRetentionAndBounds(t *testing.T) {
	s, c := newTestStore(Options{Retention: time.Hour, MaxSeries: 2, MaxSamples: 10})
	s.Put(age, "", c.now, 1)
	s.Put(age, "", c.now.Add(-2*time.Hour), 1)     // older than the retention
	s.Put(age, "", c.now.Add(3*time.Hour), 1)      // too far ahead
	s.Put(age, "", c.now, math.NaN(), math.Inf(1)) // not numbers
	s.Put(Metric{Namespace: "N", Name: "second"}, "", c.now, 1)
	s.Put(Metric{Namespace: "N", Name: "third"}, "", c.now, 1, 2) // beyond MaxSeries
	if got := s.Dropped(); got != 6 {
		t.Errorf("Dropped() = %d, want 6", got)
	}
	if got := len(s.Metrics()); got != 2 {
		t.Errorf("%d metrics, want 2", got)
	}

	// A busy minute keeps at most MaxSamples values, yet exact counts and
	// extremes, and percentiles close to the truth.
	busy := Metric{Namespace: "N", Name: "second"}
	for v := 1; v <= 10_000; v++ {
		s.Put(busy, "", c.now, float64(v))
	}
	s.mu.Lock()
	b := s.series[busy.key()].buckets[c.now.Truncate(time.Minute).Unix()]
	kept := len(b.samples)
	s.mu.Unlock()
	if kept != 10 {
		t.Errorf("kept %d samples, want 10", kept)
	}
	for stat, want := range map[string]float64{"SampleCount": 10_001, "Maximum": 10_000, "Minimum": 1} {
		pts, _ := s.Series("N", "second", nil, stat, time.Minute, c.now.Add(-time.Minute))
		if len(pts) != 1 || pts[0].Value != want {
			t.Errorf("%s = %v, want %v", stat, pts, want)
		}
	}

	// An hour later the first minute is gone, and with it the metrics.
	c.now = c.now.Add(61 * time.Minute)
	if got := s.Metrics(); len(got) != 0 {
		t.Errorf("after the retention: %v", got)
	}
}

func TestPutEMF(t *testing.T) {
	ms := t0.UnixMilli()
	mailerLine := fmt.Sprintf(`{"tenant":"acme","outcome":"sent","Messages":2,"Retries":1,"SESLatency":[80.5,81],"TimeToSend":[120,250],`+
		`"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant","outcome"],["outcome"]],`+
		`"Metrics":[{"Name":"Messages","Unit":"Count"},{"Name":"Retries","Unit":"Count"},{"Name":"SESLatency","Unit":"Milliseconds"},{"Name":"TimeToSend","Unit":"Milliseconds"}]}]}}`, ms)
	triggerLine := fmt.Sprintf(`{"time":"…","level":"INFO","msg":"verify wrong","tenant":"globex","WrongCodes":1,`+
		`"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"CognitoEmailOTP","Dimensions":[["tenant"],[]],"Metrics":[{"Name":"WrongCodes","Unit":"Count"}]}]}}`, ms)
	otherNamespace := fmt.Sprintf(`{"Service":"x","Latency":7,"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Other/App","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}]}}`, ms)

	for _, tc := range []struct {
		name    string
		line    string
		values  int
		wantErr error // nil, ErrNotEMF, or any error (errInvalid)
	}{
		{"the mailer's line: four metrics in two dimension sets", mailerLine, 2 * (1 + 1 + 2 + 2), nil},
		{"a trigger's line: by tenant and in total", triggerLine, 2, nil},
		{"any namespace", otherNamespace, 1, nil},
		{"a plain log line", `{"level":"INFO","msg":"hello"}`, 0, ErrNotEMF},
		{"not JSON", `otp-local: starting`, 0, ErrNotEMF},
		{"a dimension the root lacks", fmt.Sprintf(`{"M":1,"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["tenant"]],"Metrics":[{"Name":"M"}]}]}}`, ms), 0, errInvalid},
		{"a dimension that is not a string", fmt.Sprintf(`{"M":1,"d":3,"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["d"]],"Metrics":[{"Name":"M"}]}]}}`, ms), 0, errInvalid},
		{"a metric the root lacks", fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}}`, ms), 0, errInvalid},
		{"a metric that is not a number", fmt.Sprintf(`{"M":"1","_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}}`, ms), 0, errInvalid},
		{"no timestamp", `{"M":1,"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}}`, 0, errInvalid},
		{"no namespace", fmt.Sprintf(`{"M":1,"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}}`, ms), 0, errInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(Options{})
			n, err := s.PutEMF([]byte(tc.line))
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("PutEMF: %v", err)
			case tc.wantErr == ErrNotEMF && !errors.Is(err, ErrNotEMF):
				t.Fatalf("PutEMF: %v, want ErrNotEMF", err)
			case tc.wantErr == errInvalid && (err == nil || errors.Is(err, ErrNotEMF)):
				t.Fatalf("PutEMF: %v, want a validation error", err)
			}
			if n != tc.values {
				t.Errorf("stored %d values, want %d", n, tc.values)
			}
			if tc.wantErr == errInvalid && s.InvalidEMF() != 1 {
				t.Errorf("InvalidEMF() = %d, want 1", s.InvalidEMF())
			}
		})
	}

	// The mailer's time-to-send by tenant and outcome, and the triggers'
	// total with no dimensions, as an alarm would read them.
	s, _ := newTestStore(Options{})
	for _, l := range []string{mailerLine, triggerLine, triggerLine} {
		if _, err := s.PutEMF([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		metric string
		dims   []Dimension
		stat   string
		want   float64
	}{
		{"TimeToSend", []Dimension{{"tenant", "acme"}, {"outcome", "sent"}}, "p99", 250},
		{"TimeToSend", []Dimension{{"outcome", "sent"}}, "SampleCount", 2},
		{"Messages", []Dimension{{"outcome", "sent"}}, "Sum", 2},
		{"WrongCodes", nil, "Sum", 2},
		{"WrongCodes", []Dimension{{"tenant", "globex"}}, "Sum", 2},
	} {
		pts, err := s.Series("CognitoEmailOTP", tc.metric, tc.dims, tc.stat, time.Minute, t0)
		if err != nil || len(pts) != 1 || pts[0].Value != tc.want {
			t.Errorf("%s %v %s = %v (%v), want %v", tc.metric, tc.dims, tc.stat, pts, err, tc.want)
		}
	}
}

var errInvalid = errors.New("invalid EMF")
