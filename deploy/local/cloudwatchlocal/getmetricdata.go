package cloudwatchlocal

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// GetMetricData's input and output, member names as in the model
// (aws-sdk-go-v2/service/cloudwatch/schemas).
type getMetricDataInput struct {
	MetricDataQueries []metricDataQuery `cbor:"MetricDataQueries"`
	StartTime         *time.Time        `cbor:"StartTime"`
	EndTime           *time.Time        `cbor:"EndTime"`
	NextToken         *string           `cbor:"NextToken"`
	ScanBy            *string           `cbor:"ScanBy"`
	MaxDatapoints     *int32            `cbor:"MaxDatapoints"`
}

type metricDataQuery struct {
	ID         *string     `cbor:"Id"`
	AccountID  *string     `cbor:"AccountId"`
	Expression *string     `cbor:"Expression"`
	Label      *string     `cbor:"Label"`
	MetricStat *metricStat `cbor:"MetricStat"`
	Period     *int32      `cbor:"Period"`
	ReturnData *bool       `cbor:"ReturnData"`
}

type metricStat struct {
	Metric *metricShape `cbor:"Metric"`
	Period *int32       `cbor:"Period"`
	Stat   *string      `cbor:"Stat"`
	Unit   *string      `cbor:"Unit"`
}

type metricShape struct {
	Namespace  *string          `cbor:"Namespace"`
	MetricName *string          `cbor:"MetricName"`
	Dimensions []dimensionShape `cbor:"Dimensions"`
}

type dimensionShape struct {
	Name  *string `cbor:"Name"`
	Value *string `cbor:"Value"`
}

type getMetricDataOutput struct {
	MetricDataResults []metricDataResult `cbor:"MetricDataResults"`
	NextToken         *string            `cbor:"NextToken,omitempty"`
}

type metricDataResult struct {
	ID         string      `cbor:"Id"`
	Label      string      `cbor:"Label"`
	StatusCode string      `cbor:"StatusCode"`
	Timestamps []time.Time `cbor:"Timestamps"`
	Values     []float64   `cbor:"Values"`
}

// Limits from the GetMetricData reference
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
const (
	maxQueries       = 500
	defaultMaxPoints = 100_800
)

var (
	idRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
	// The other statistics CloudWatch computes (trimmed and winsorized
	// means, trimmed count and sum, percentile rank, IQM)
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
	awsOnlyStatRE = regexp.MustCompile(`^(?:(?:tm|wm|tc|ts)\d{1,2}(?:\.\d+)?|(?:TM|WM|TC|TS|PR)\(.*\)|IQM)$`)
)

// query is one MetricStat query, checked.
type query struct {
	id, label string
	q         Query
	returned  bool
}

func (s *Server) getMetricData(in getMetricDataInput) (*getMetricDataOutput, error) {
	queries, descending, err := check(in)
	if err != nil {
		return nil, err
	}
	limit := defaultMaxPoints
	if in.MaxDatapoints != nil && *in.MaxDatapoints > 0 {
		limit = int(*in.MaxDatapoints)
	}
	// Every page computes every result, then cuts at the token: the store
	// holds hours, not the weeks that make CloudWatch's paging worth it.
	var results []metricDataResult
	for _, qq := range queries {
		if !qq.returned {
			continue
		}
		pts, err := s.store.Query(qq.q)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", qq.id, err) // checked above; so an internal error
		}
		if descending {
			slices.Reverse(pts)
		}
		r := metricDataResult{ID: qq.id, Label: qq.label, StatusCode: string(types.StatusCodeComplete),
			Timestamps: make([]time.Time, 0, len(pts)), Values: make([]float64, 0, len(pts))}
		for _, p := range pts {
			r.Timestamps = append(r.Timestamps, p.Time)
			r.Values = append(r.Values, p.Value)
		}
		results = append(results, r)
	}
	return page(results, in.NextToken, limit)
}

// page cuts the results at MaxDatapoints: a result cut short is
// PartialData, and NextToken says where the next page starts.
func page(results []metricDataResult, token *string, limit int) (*getMetricDataOutput, error) {
	qi, pi := 0, 0
	if token != nil {
		var ok bool
		if qi, pi, ok = parseToken(*token); !ok || qi >= len(results) || pi > len(results[qi].Values) {
			return nil, invalidNextToken()
		}
	}
	out := &getMetricDataOutput{MetricDataResults: []metricDataResult{}}
	for ; qi < len(results); qi, pi = qi+1, 0 {
		r := results[qi]
		r.Timestamps, r.Values = r.Timestamps[pi:], r.Values[pi:]
		if len(r.Values) > limit {
			r.Timestamps, r.Values = r.Timestamps[:limit], r.Values[:limit]
			r.StatusCode = string(types.StatusCodePartialData)
			out.MetricDataResults = append(out.MetricDataResults, r)
			next := makeToken(qi, pi+limit)
			out.NextToken = &next
			return out, nil
		}
		limit -= len(r.Values)
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

const tokenPrefix = "otp-local/1:"

func makeToken(qi, pi int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s%d:%d", tokenPrefix, qi, pi))
}

func parseToken(t string) (qi, pi int, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimPrefix(string(raw), tokenPrefix), ":")
	if !found || !strings.HasPrefix(string(raw), tokenPrefix) {
		return 0, 0, false
	}
	qi, err1 := strconv.Atoi(a)
	pi, err2 := strconv.Atoi(b)
	return qi, pi, err1 == nil && err2 == nil && qi >= 0 && pi >= 0
}

// check validates a request as CloudWatch does, in its order: the model's
// constraints, the required members, then the service's own rules, every
// problem of the queries in one ValidationError.
func check(in getMetricDataInput) ([]query, bool, error) {
	var problems []string
	descending := true
	if in.ScanBy != nil {
		switch types.ScanBy(*in.ScanBy) {
		case types.ScanByTimestampDescending:
		case types.ScanByTimestampAscending:
			descending = false
		default:
			problems = append(problems, enumProblem(*in.ScanBy, "scanBy", types.ScanBy("").Values()))
		}
	}
	for i, q := range in.MetricDataQueries {
		if q.MetricStat != nil && q.MetricStat.Unit != nil && !slices.Contains(types.StandardUnit("").Values(), types.StandardUnit(*q.MetricStat.Unit)) {
			problems = append(problems, enumProblem(*q.MetricStat.Unit, fmt.Sprintf("metricDataQueries.%d.member.metricStat.unit", i+1), types.StandardUnit("").Values()))
		}
	}
	if len(problems) > 0 {
		return nil, false, constraint(problems)
	}
	switch {
	case in.MetricDataQueries == nil:
		return nil, false, missingParameter("MetricDataQueries")
	case in.StartTime == nil:
		return nil, false, missingParameter("StartTime")
	case in.EndTime == nil:
		return nil, false, missingParameter("EndTime")
	case len(in.MetricDataQueries) > maxQueries:
		// elastic/beats, x-pack/metricbeat/module/aws/utils.go, after
		// elastic/beats#33105: "ValidationError: The collection
		// MetricDataQueries must not have a size greater than 500."
		return nil, false, validation(fmt.Sprintf("The collection MetricDataQueries must not have a size greater than %d.", maxQueries))
	}
	// CloudWatch compares whole seconds: 20 ms and 987 ms past the same
	// second are equal (getmoto/moto's test_get_metric_data_starttime_endtime_within_1_second).
	start, end := in.StartTime.Truncate(time.Second), in.EndTime.Truncate(time.Second)
	switch {
	case start.Equal(end):
		return nil, false, validation("The parameter StartTime must not equal parameter EndTime.")
	case start.After(end):
		return nil, false, validation("The parameter EndTime must be greater than StartTime.")
	}

	var lines []string
	out := make([]query, 0, len(in.MetricDataQueries))
	ids := map[string]bool{}
	duplicate := false
	for i, q := range in.MetricDataQueries {
		member := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		id := deref(q.ID)
		switch {
		case q.ID == nil:
			lines = append(lines, fmt.Sprintf("The parameter %s.Id is required.", member))
		case len(id) > 255 || !idRE.MatchString(id):
			lines = append(lines, fmt.Sprintf("The value %s for parameter %s.Id is not matching the expected pattern %s.", id, member, idRE))
		case ids[id]:
			duplicate = true
		}
		ids[id] = true
		if q.MetricStat != nil && q.Expression != nil {
			return nil, false, invalidCombination("The parameters %s.MetricStat and %s.Expression are mutually exclusive and you have specified both.", member, member)
		}
		if q.Expression != nil {
			// AWS evaluates metric math and Metrics Insights; otp-local
			// does neither, and says so rather than answer with nothing.
			lines = append(lines, fmt.Sprintf("otp-local implements MetricStat queries only; %s.Expression (metric math or Metrics Insights) is not supported.", member))
			continue
		}
		if q.MetricStat == nil {
			lines = append(lines, fmt.Sprintf("The parameter %s.MetricStat is required.", member))
			continue
		}
		qq, problems := checkStat(member+".MetricStat", q.MetricStat)
		lines = append(lines, problems...)
		qq.Start, qq.End = start, end
		label := deref(q.Label)
		if label == "" {
			label = qq.Metric.Name
		}
		out = append(out, query{id: id, label: label, q: qq, returned: q.ReturnData == nil || *q.ReturnData})
	}
	if duplicate {
		// aws-solutions/quota-monitor-for-aws#171.
		lines = append(lines, "The values for parameter id in MetricDataQueries are not unique.")
	}
	if len(lines) > 0 {
		return nil, false, validation(lines...)
	}
	return out, descending, nil
}

func checkStat(member string, ms *metricStat) (Query, []string) {
	var lines []string
	var q Query
	if ms.Metric == nil {
		lines = append(lines, fmt.Sprintf("The parameter %s.Metric is required.", member))
	} else {
		m := ms.Metric
		for _, f := range []struct {
			name string
			v    *string
		}{{"Namespace", m.Namespace}, {"MetricName", m.MetricName}} {
			switch {
			case f.v == nil || *f.v == "":
				lines = append(lines, fmt.Sprintf("The parameter %s.Metric.%s is required.", member, f.name))
			case len(*f.v) > 255:
				lines = append(lines, fmt.Sprintf("The value of %s.Metric.%s must be at most 255 characters.", member, f.name))
			}
		}
		if len(m.Dimensions) > 30 {
			lines = append(lines, fmt.Sprintf("The collection %s.Metric.Dimensions must not have a size greater than 30.", member))
		}
		q.Metric = Metric{Namespace: deref(m.Namespace), Name: deref(m.MetricName)}
		for j, d := range m.Dimensions {
			dm := fmt.Sprintf("%s.Metric.Dimensions.member.%d", member, j+1)
			if d.Name == nil || *d.Name == "" || len(*d.Name) > 255 {
				lines = append(lines, fmt.Sprintf("The parameter %s.Name is required and at most 255 characters.", dm))
			}
			if d.Value == nil || *d.Value == "" || len(*d.Value) > 1024 {
				lines = append(lines, fmt.Sprintf("The parameter %s.Value is required and at most 1024 characters.", dm))
			}
			q.Metric.Dimensions = append(q.Metric.Dimensions, Dimension{Name: deref(d.Name), Value: deref(d.Value)})
		}
	}
	switch p := ms.Period; {
	case p == nil:
		lines = append(lines, fmt.Sprintf("The parameter %s.Period is required.", member))
	case slices.Contains([]int32{1, 5, 10, 20, 30}, *p):
		// Valid on AWS for high-resolution metrics; nothing here is one.
		lines = append(lines, fmt.Sprintf("otp-local keeps one-minute data only: %s.Period %d is valid on AWS for high-resolution metrics, which otp-local has none of; use a multiple of 60.", member, *p))
	case *p <= 0 || *p%60 != 0:
		lines = append(lines, fmt.Sprintf("The parameter %s.Period must be a value in the set [ 1, 5, 10, 20, 30 ] or a multiple of 60.", member))
	default:
		q.Period = time.Duration(*p) * time.Second
	}
	if ms.Stat == nil || *ms.Stat == "" {
		lines = append(lines, fmt.Sprintf("The parameter %s.Stat is required.", member))
	} else if _, err := parseStat(*ms.Stat); err != nil {
		if awsOnlyStatRE.MatchString(*ms.Stat) {
			lines = append(lines, fmt.Sprintf("otp-local computes Sum, Average, Minimum, Maximum, SampleCount and percentiles; %s.Stat %s is valid on AWS but not implemented here.", member, *ms.Stat))
		} else {
			// prometheus-community/yet-another-cloudwatch-exporter#385.
			lines = append(lines, fmt.Sprintf("The value %s for parameter %s.Stat is not a valid statistic.", *ms.Stat, member))
		}
	}
	q.Stat = deref(ms.Stat)
	q.Unit = deref(ms.Unit)
	return q, lines
}

func enumProblem[T ~string](v, at string, set []T) string {
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v, at, strings.Join(toStrings(set), ", "))
}

func toStrings[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
