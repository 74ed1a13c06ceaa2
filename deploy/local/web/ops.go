package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

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
	FailRate     float64       `json:"failRate"`
	ThrottleRate float64       `json:"throttleRate"`
	Latency      time.Duration `json:"latency"`
	Outbox       int           `json:"outbox"`
}

// OpsSource is what the page reads and changes.
type OpsSource interface {
	OpsStatus(ctx context.Context) (OpsStatus, error)
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
	"pct": func(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) },
}).ParseFS(files, "static/ops.html"))

// Ops serves the ops page at /ops, its JSON at /ops/api/status, and the
// two controls: SES faults and dead-letter redrive.
func Ops(src OpsSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ops", func(w http.ResponseWriter, r *http.Request) {
		st, err := src.OpsStatus(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		page := struct {
			OpsStatus
			Refresh bool
			Notice  string
			Now     string
		}{st, r.URL.Query().Get("refresh") != "0", r.URL.Query().Get("notice"), time.Now().Format(time.TimeOnly)}
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
