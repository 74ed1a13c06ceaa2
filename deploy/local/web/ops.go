package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/health"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/web/chart"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

// OpsStatus is everything the ops page shows.
type OpsStatus struct {
	Queues      []QueueRow       `json:"queues"`
	DeadLetters []ops.DeadLetter `json:"deadLetters"`
	Mailer      MailerStats      `json:"mailer"`
	SignIns     SignInStats      `json:"signIns"`
	Mapping     MappingStats     `json:"mapping"`
	SES         SESStatus        `json:"ses"`
}

// QueueRow is one queue's depth.
type QueueRow struct {
	Role      string        `json:"role"`
	Name      string        `json:"name"`
	Visible   int           `json:"visible"`
	InFlight  int           `json:"inFlight"`
	Delayed   int           `json:"delayed"`
	OldestAge time.Duration `json:"oldestAge"`
}

// MailerStats come from the mailer's EMF metrics.
type MailerStats struct {
	Sent          int64            `json:"sent"`
	Expired       int64            `json:"expired"`
	DeadLettered  int64            `json:"deadLettered"`
	RetryLater    int64            `json:"retryLater"`
	Retries       int64            `json:"retries"`
	ByOutcome     map[string]int64 `json:"byOutcome"`
	TimeToSendP50 time.Duration    `json:"timeToSendP50"`
	TimeToSendP99 time.Duration    `json:"timeToSendP99"`
	Samples       int              `json:"samples"`
}

// SignInStats come from the Cognito endpoint.
type SignInStats struct{ Started, Succeeded, Failed int64 }

// MappingStats come from the event source mapping.
type MappingStats struct{ Invocations, Records, Deleted, ItemFailures, FunctionErrors int64 }

// SESStatus is the fault injection in force and the outbox size.
type SESStatus struct {
	FailRate     float64 `json:"failRate"`
	ThrottleRate float64 `json:"throttleRate"`
	// FailStatus is the failed calls' HTTP status: 500 or 503.
	FailStatus int           `json:"failStatus,omitempty"`
	Latency    time.Duration `json:"latency"`
	Outbox     int           `json:"outbox"`
}

// Injected reports whether any SES fault is in force.
func (s SESStatus) Injected() bool { return s.FailRate > 0 || s.ThrottleRate > 0 || s.Latency > 0 }

// Faults says what is injected, one phrase per fault, for the banner.
func (s SESStatus) Faults() []string {
	var out []string
	rate := func(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + " %" }
	if s.ThrottleRate > 0 {
		out = append(out, rate(s.ThrottleRate)+" of SendEmail calls are throttled (429 TooManyRequestsException)")
	}
	if s.FailRate > 0 {
		status := "500 InternalFailure"
		if s.FailStatus == http.StatusServiceUnavailable {
			status = "503 ServiceUnavailable"
		}
		out = append(out, rate(s.FailRate)+" fail ("+status+")")
	}
	if s.Latency > 0 {
		out = append(out, "every call waits "+s.Latency.String()+" longer")
	}
	return out
}

// OpsSource is what the page reads and changes.
type OpsSource interface {
	OpsStatus(ctx context.Context) (OpsStatus, error)
	// Health is the last hour from the CloudWatch store, line by line.
	Health(ctx context.Context) (health.Report, error)
	SetSESFaults(failRate, throttleRate float64, latency time.Duration) error
	Redrive(ctx context.Context, reason string) (int, error)
}

var opsPage = template.Must(template.New("ops.html").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string {
		if d == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	},
	"pct":   func(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) },
	"chart": lineChart,
	"state": stateLabel,
	"join":  strings.Join,
}).ParseFS(files, "static/ops.html"))

// stateLabel is a state in words, with a shape that tells the states
// apart without their colour.
func stateLabel(s health.State) string {
	switch s {
	case health.Red:
		return "● Red"
	case health.Amber:
		return "▲ Amber"
	case health.Green:
		return "✓ Green"
	}
	return "– No data"
}

// lineChart draws one line of the health report: a chart per panel, the
// rule's thresholds on the first, where the rule's series is, when they
// are in the chart's unit.
func lineChart(rep health.Report, l health.LineReport) template.HTML {
	panels := 1
	for _, s := range l.Series {
		panels = max(panels, s.Panel+1)
	}
	// A count chart without a bar counted nothing, if the rule has seen
	// the traffic (a delivery, no complaint); otherwise nothing is
	// published yet.
	empty := "no data yet"
	if l.Style == health.Bars && l.Rule.Value != nil {
		empty = "none in the last hour"
	}
	var out strings.Builder
	colors := 0
	for p := range panels {
		c := chart.Chart{ID: "chart-" + l.ID, Title: l.Title + ", per minute, the last hour", From: rep.From,
			Slots: int(health.Window / time.Minute), Step: time.Minute, Bars: l.Style == health.Bars, Format: l.Unit.Format, Empty: empty}
		if l.Unit == health.Count {
			c.MinScale = 2
		}
		c.Nice = func(v float64) float64 {
			if top, ok := l.Unit.Scale(v); ok {
				return top
			}
			return chart.Nice(v)
		}
		c.FirstColor = colors
		var labels []string
		for _, s := range l.Series {
			if s.Panel != p {
				continue
			}
			cs := chart.Series{Label: s.Label}
			for _, pt := range s.Points {
				cs.Points = append(cs.Points, chart.Point{Time: pt.Time, Value: pt.Value})
			}
			c.Series = append(c.Series, cs)
			labels = append(labels, s.Label)
			colors++
		}
		if p > 0 {
			c.ID += "-" + strconv.Itoa(p)
			c.Title = l.Title + " (" + strings.Join(labels, ", ") + "), per minute, the last hour"
			c.Height = 96
		} else if l.Rule.Unit == l.Unit {
			for _, t := range []struct {
				v     *float64
				class string
			}{{l.Rule.Amber, "amber"}, {l.Rule.Red, "red"}} {
				if t.v != nil {
					c.Thresholds = append(c.Thresholds, chart.Threshold{Value: *t.v, Class: t.class, Label: t.class + " " + l.Unit.Format(*t.v)})
				}
			}
		}
		out.WriteString(string(c.SVG()))
	}
	return template.HTML(out.String()) // chart.SVG escapes every text it writes
}

// Ops serves the ops page at /ops, its JSON at /ops/api/status and
// /ops/api/health, and the two controls: SES faults and dead-letter
// redrive.
func Ops(src OpsSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ops", func(w http.ResponseWriter, r *http.Request) {
		st, err := src.OpsStatus(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h, err := src.Health(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		page := struct {
			OpsStatus
			Health  health.Report
			Refresh bool
			Notice  string
			Now     string
		}{st, h, r.URL.Query().Get("refresh") != "0", r.URL.Query().Get("notice"), time.Now().Format(time.TimeOnly)}
		// The page refreshes its figures from the "live" part alone.
		if r.URL.Query().Get("fragment") == "live" {
			_ = opsPage.ExecuteTemplate(w, "live", page)
			return
		}
		_ = opsPage.Execute(w, page)
	})
	mux.HandleFunc("GET /ops/api/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := src.OpsStatus(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	// The charts' numbers for scripts: each line's datapoints per minute,
	// its state and the rule that set it.
	mux.HandleFunc("GET /ops/api/health", func(w http.ResponseWriter, r *http.Request) {
		h, err := src.Health(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // the rules' "> 30 s" stay readable to a person with curl
		_ = enc.Encode(h)
	})
	mux.HandleFunc("POST /ops/faults", func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(w, r) {
			return
		}
		fail, err1 := strconv.ParseFloat(r.FormValue("fail"), 64)
		throttle, err2 := strconv.ParseFloat(r.FormValue("throttle"), 64)
		latency, err3 := time.ParseDuration(r.FormValue("latency"))
		if err1 != nil || err2 != nil || err3 != nil {
			http.Error(w, "fail and throttle are rates in [0,1]; latency is a duration such as 80ms", http.StatusBadRequest)
			return
		}
		if err := src.SetSESFaults(fail, throttle, latency); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		back(w, r, "SES faults updated")
	})
	mux.HandleFunc("POST /ops/redrive", func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(w, r) {
			return
		}
		n, err := src.Redrive(r.Context(), r.FormValue("reason"))
		if err != nil {
			back(w, r, "redrive: "+err.Error())
			return
		}
		back(w, r, fmt.Sprintf("moved %d dead letters back to the send queue", n))
	})
	return mux
}

// sameOrigin refuses cross-site form posts: otp-local has no login, so a
// page on another site must not be able to change it.
func sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host == r.Host {
		return true
	}
	http.Error(w, "cross-origin request refused", http.StatusForbidden)
	return false
}

func back(w http.ResponseWriter, r *http.Request, notice string) {
	http.Redirect(w, r, "/ops?notice="+url.QueryEscape(notice), http.StatusSeeOther)
}
