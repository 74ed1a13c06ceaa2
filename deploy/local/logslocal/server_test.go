package logslocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// rig is a Store behind a Server on a loopback port, and the SDK's client
// for it.
type rig struct {
	store  *Store
	client *cwl.Client
	url    string
	t0     time.Time
}

func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	store := New(o)
	srv := httptest.NewServer(NewServer(store, nil))
	t.Cleanup(srv.Close)
	return &rig{store: store, client: cwl.NewFromConfig(awslocal.Config(srv.URL)), url: srv.URL,
		t0: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
}

// fill puts n JSON lines in group, one a second from t0, alternating
// tenants, over two streams.
func (r *rig) fill(group string, n int) {
	for i := range n {
		stream := []string{"2026/12/02/[$LATEST]aaaa", "2026/12/02/[$LATEST]bbbb"}[i%2]
		tenant := []string{"acme", "globex"}[i%2]
		r.store.Put(group, stream, r.t0.Add(time.Duration(i)*time.Second),
			fmt.Sprintf(`{"msg":"sent","tenant":%q,"request_id":"req%03d"}`+"\n", tenant, i))
	}
}

func (r *rig) filter(t *testing.T, in *cwl.FilterLogEventsInput) ([]types.FilteredLogEvent, error) {
	t.Helper()
	var all []types.FilteredLogEvent
	for page := 0; ; page++ {
		out, err := r.client.FilterLogEvents(t.Context(), in)
		if err != nil {
			return all, err
		}
		all = append(all, out.Events...)
		if out.NextToken == nil {
			return all, nil
		}
		if page > 100 {
			t.Fatal("pagination does not end")
		}
		in.NextToken = out.NextToken
	}
}

func TestFilterLogEventsThroughTheSDK(t *testing.T) {
	r := newRig(t, Options{Now: func() time.Time { return time.Date(2026, 12, 2, 10, 5, 0, 0, time.UTC) }})
	const group = "/aws/lambda/otp-mailer"
	r.fill(group, 10)
	r.store.CreateGroup("/aws/lambda/otp-empty")
	ms := func(d time.Duration) *int64 { return aws.Int64(r.t0.Add(d).UnixMilli()) }
	tests := []struct {
		name string
		in   cwl.FilterLogEventsInput
		want []string // request ids, in order
	}{
		{"everything", cwl.FilterLogEventsInput{LogGroupName: aws.String(group)},
			[]string{"req000", "req001", "req002", "req003", "req004", "req005", "req006", "req007", "req008", "req009"}},
		{"a JSON filter", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.tenant = "globex" }`)},
			[]string{"req001", "req003", "req005", "req007", "req009"}},
		{"or, as otpctl asks", cwl.FilterLogEventsInput{LogGroupName: aws.String(group),
			FilterPattern: aws.String(`{ ($.request_id = "req002") || ($.request_id = "req007") }`)}, []string{"req002", "req007"}},
		{"a term", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"req004"`)}, []string{"req004"}},
		{"the time range, both ends inclusive", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: ms(2 * time.Second), EndTime: ms(4 * time.Second)},
			[]string{"req002", "req003", "req004"}},
		{"by identifier (a name)", cwl.FilterLogEventsInput{LogGroupIdentifier: aws.String(group), StartTime: ms(9 * time.Second)}, []string{"req009"}},
		{"by identifier (the ARN)", cwl.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:" + group), StartTime: ms(9 * time.Second)},
			[]string{"req009"}},
		{"one stream", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{"2026/12/02/[$LATEST]bbbb"}, EndTime: ms(3 * time.Second)},
			[]string{"req001", "req003"}},
		{"a stream prefix", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNamePrefix: aws.String("2026/12/02/[$LATEST]a"), EndTime: ms(2 * time.Second)},
			[]string{"req000", "req002"}},
		{"newest first", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), StartFromHead: aws.Bool(false), StartTime: ms(7 * time.Second)},
			[]string{"req009", "req008", "req007"}},
		{"nothing matches", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.tenant = "initech" }`)}, nil},
		{"an empty group", cwl.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/otp-empty")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			events, err := r.filter(t, &in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range events {
				got = append(got, strings.Split(strings.Split(aws.ToString(e.Message), `"request_id":"`)[1], `"`)[0])
				if len(aws.ToString(e.EventId)) != 56 || aws.ToString(e.LogStreamName) == "" || aws.ToInt64(e.IngestionTime) == 0 ||
					strings.HasSuffix(aws.ToString(e.Message), "\n") {
					t.Errorf("event %+v: want a 56-digit id, a stream, an ingestion time and no trailing newline", e)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFilterLogEventsPages: limit cuts pages, nextToken goes on from where
// the last page ended, in either direction, and the pages add up to the
// whole answer once.
func TestFilterLogEventsPages(t *testing.T) {
	r := newRig(t, Options{})
	const group = "/aws/lambda/otp-create"
	r.fill(group, 25)
	for _, head := range []bool{true, false} {
		out, err := r.client.FilterLogEvents(t.Context(), &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(10), StartFromHead: aws.Bool(head)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 10 || out.NextToken == nil {
			t.Fatalf("first page: %d events, token %v; want 10 and a token", len(out.Events), out.NextToken)
		}
		events, err := r.filter(t, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(10), StartFromHead: aws.Bool(head)})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, e := range events {
			if seen[aws.ToString(e.EventId)] {
				t.Errorf("event %s twice", aws.ToString(e.EventId))
			}
			seen[aws.ToString(e.EventId)] = true
			if i > 0 && (aws.ToInt64(e.Timestamp) < aws.ToInt64(events[i-1].Timestamp)) == head {
				t.Errorf("startFromHead %v: event %d out of order", head, i)
			}
		}
		if len(events) != 25 {
			t.Errorf("startFromHead %v: %d events over the pages, want 25", head, len(events))
		}
	}
	// Paging through the SDK's paginator works too.
	p := cwl.NewFilterLogEventsPaginator(r.client, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(7)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Events)
	}
	if n != 25 {
		t.Errorf("paginator: %d events, want 25", n)
	}
}

// TestFilterLogEventsErrors: each mistake decodes as the SDK's typed error
// with AWS's words.
func TestFilterLogEventsErrors(t *testing.T) {
	r := newRig(t, Options{})
	const group = "/aws/lambda/otp-mailer"
	r.fill(group, 3)
	first, err := r.client.FilterLogEvents(t.Context(), &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	var notFound *types.ResourceNotFoundException
	var invalid *types.InvalidParameterException
	var validation *types.ValidationException
	tests := []struct {
		name   string
		in     cwl.FilterLogEventsInput
		target any
		says   string
	}{
		{"no such group", cwl.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/otp-nothing")}, &notFound, "The specified log group does not exist."},
		{"another account's ARN", cwl.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:111111111111:log-group:" + group)}, &notFound, "does not exist"},
		{"both name and identifier", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), LogGroupIdentifier: aws.String(group)}, &validation,
			"LogGroup name and LogGroup ARN are mutually exclusive parameters."},
		{"a bad JSON pattern", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.tenant = "acme"`)}, &invalid,
			"Invalid filter pattern: If a filter pattern starts with '{' it must end with '}'"},
		{"an unquoted address", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`rosa@example.com`)}, &invalid,
			"Invalid filter pattern: Invalid character(s) in term"},
		{"a pattern over 1024 characters", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(strings.Repeat("a", 1025))}, &invalid,
			"at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"},
		{"a limit over 10000", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), Limit: aws.Int32(10001)}, &invalid,
			"1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"a forged token", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), NextToken: aws.String("invalid-token")}, &invalid, "The specified nextToken is invalid."},
		{"a token of another query", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"sent"`), NextToken: first.NextToken}, &invalid,
			"The specified nextToken is invalid."},
		{"stream names and a prefix", cwl.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")}, &invalid,
			"mutually exclusive"},
		{"a group name with a space", cwl.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/otp mailer")}, &invalid, "Member must satisfy regular expression pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := r.client.FilterLogEvents(t.Context(), &in, func(o *cwl.Options) { o.RetryMaxAttempts = 1 })
			if err == nil || !errors.As(err, tc.target) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("err = %v; want %T saying %q", err, tc.target, tc.says)
			}
		})
	}
	// Other operations are not served.
	_, err = r.client.GetLogEvents(t.Context(), &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("x")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "UnknownOperationException" {
		t.Errorf("GetLogEvents: %v, want UnknownOperationException", err)
	}
}

func TestDescribeLogGroups(t *testing.T) {
	r := newRig(t, Options{})
	for _, g := range []string{"/aws/lambda/otp-create", "/aws/lambda/otp-mailer", "/aws/lambda/otp-feedback", "/other"} {
		r.store.CreateGroup(g)
	}
	r.fill("/aws/lambda/otp-mailer", 2)
	out, err := r.client.DescribeLogGroups(t.Context(), &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/otp-")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.LogGroups {
		names = append(names, aws.ToString(g.LogGroupName))
		if aws.ToString(g.LogGroupArn) != "arn:aws:logs:us-east-1:000000000000:log-group:"+aws.ToString(g.LogGroupName) ||
			aws.ToString(g.Arn) != aws.ToString(g.LogGroupArn)+":*" || g.LogGroupClass != types.LogGroupClassStandard || g.StoredBytes == nil {
			t.Errorf("group %+v", g)
		}
	}
	if fmt.Sprint(names) != "[/aws/lambda/otp-create /aws/lambda/otp-feedback /aws/lambda/otp-mailer]" {
		t.Errorf("groups %v", names)
	}
	// Pages of one.
	p := cwl.NewDescribeLogGroupsPaginator(r.client, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(1)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.LogGroups)
	}
	if n != 4 {
		t.Errorf("%d groups over the pages, want 4", n)
	}
	_, err = r.client.DescribeLogGroups(t.Context(), &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/a"), LogGroupNamePattern: aws.String("b")})
	var invalid *types.InvalidParameterException
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.") {
		t.Errorf("prefix and pattern: %v", err)
	}
}

// TestRetentionAndBounds: a group keeps its newest MaxEvents events and
// none older than the retention.
func TestRetentionAndBounds(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	s := New(Options{MaxEvents: 5, Retention: time.Hour, Now: func() time.Time { return now }})
	for i := range 8 {
		s.Put("g", "s", now, fmt.Sprintf("line %d", i))
	}
	events, _ := s.events("g", query{})
	if len(events) != 5 || events[0].Message != "line 3" {
		t.Errorf("after 8 puts with a bound of 5: %d events, first %q", len(events), events[0].Message)
	}
	now = now.Add(2 * time.Hour)
	s.Put("g", "s", now, "fresh")
	events, _ = s.events("g", query{})
	if len(events) != 1 || events[0].Message != "fresh" {
		t.Errorf("after the retention: %v", events)
	}
	if g := s.Groups(); len(g) != 1 || g[0].Dropped != 8 {
		t.Errorf("groups %+v, want 8 dropped", g)
	}
}

// TestStreamWrites: a log stream splits writes into lines as Lambda's
// capture does, joining a line written in two parts and dropping blank ones.
func TestStreamWrites(t *testing.T) {
	s := New(Options{})
	st := s.Stream("/aws/lambda/otp-create")
	for _, part := range []string{`{"a":1}` + "\n" + `{"b":`, `2}` + "\n\n", "no newline yet"} {
		if _, err := st.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	events, _ := s.events("/aws/lambda/otp-create", query{})
	if len(events) != 2 || events[0].Message != `{"a":1}` || events[1].Message != `{"b":2}` {
		t.Errorf("events %+v", events)
	}
	if !strings.Contains(st.Name(), "/[$LATEST]") || len(st.Name()) != len("2026/12/02/[$LATEST]")+32 {
		t.Errorf("stream name %q, want Lambda's form", st.Name())
	}
}

// TestRefusesUnsignedAndBrowserRequests: as the other otp-local APIs, a
// request without a SigV4 header, or from a page, gets nothing.
func TestRefusesUnsignedAndBrowserRequests(t *testing.T) {
	r := newRig(t, Options{})
	r.fill("/aws/lambda/otp-mailer", 1)
	body := `{"logGroupName":"/aws/lambda/otp-mailer"}`
	signed := "AWS4-HMAC-SHA256 Credential=otp-local/20261202/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("a", 64)
	tests := []struct {
		name, auth, origin, fetch string
		status                    int
		code                      string
	}{
		{"unsigned", "", "", "", 400, "MissingAuthenticationTokenException"},
		{"signed for another service", strings.Replace(signed, "/logs/", "/monitoring/", 1), "", "", 400, "IncompleteSignatureException"},
		{"a page on another site", signed, "https://evil.example", "", 403, "AccessDeniedException"},
		{"a page by fetch metadata", signed, "", "cors", 403, "AccessDeniedException"},
		{"signed", signed, "", "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, r.url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
			req.Header.Set("X-Amz-Date", "20261202T100000Z")
			for k, v := range map[string]string{"Authorization": tc.auth, "Origin": tc.origin, "Sec-Fetch-Mode": tc.fetch} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.code) {
				t.Errorf("status %d, body %s; want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
		})
	}
}
