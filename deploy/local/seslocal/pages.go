package seslocal

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/bidi"
)

//go:embed templates/outbox.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{"join": strings.Join, "textdir": textDir}).
	ParseFS(templateFS, "templates/outbox.html"))

// DefaultOutboxPrefix is where otp-local mounts the outbox.
const DefaultOutboxPrefix = "/outbox"

// maxAPIWait bounds ?wait= on the JSON list endpoint.
const maxAPIWait = 30 * time.Second

// OutboxHandler serves the outbox under prefix (DefaultOutboxPrefix when
// empty), e.g. for prefix "/outbox":
//
//	GET    /outbox                   list page (newest first; ?refresh=0 stops auto-refresh)
//	GET    /outbox/{id}              one email: headers, HTML in a sandboxed iframe, text
//	GET    /outbox/api/emails        JSON {"emails":[...]}; ?to= ?tenant= ?since=RFC3339 ?limit= ?wait=5s
//	GET    /outbox/api/emails/{id}   JSON email
//	DELETE /outbox/api/emails        empty the outbox
//
// Mount it for the prefix and everything below it, e.g.
// mux.Handle(prefix, h) and mux.Handle(prefix+"/", h).
func (s *Server) OutboxHandler(prefix string) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/")
	if prefix == "/" {
		prefix = DefaultOutboxPrefix
	}
	h := &outboxHandler{outbox: s.outbox, prefix: prefix}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix, h.list)
	mux.HandleFunc("GET "+prefix+"/{$}", h.list)
	mux.HandleFunc("GET "+prefix+"/{id}", h.email)
	mux.HandleFunc("GET "+prefix+"/api/emails", h.apiList)
	mux.HandleFunc("DELETE "+prefix+"/api/emails", h.apiClear)
	mux.HandleFunc("GET "+prefix+"/api/emails/{id}", h.apiEmail)
	return mux
}

type outboxHandler struct {
	outbox *Outbox
	prefix string
}

type pageData struct {
	Title   string
	Prefix  string
	Count   int
	Refresh int
	Emails  []Email
	Email   *Email
}

// pageCSP lets the email's own inline styles and remote images render in
// the srcdoc iframe (which inherits this policy) and nothing else: no
// script anywhere, and the sandbox attribute blocks it in the iframe again.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; font-src * data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

func (h *outboxHandler) render(w http.ResponseWriter, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "render outbox page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *outboxHandler) list(w http.ResponseWriter, r *http.Request) {
	refresh := 5
	if v := r.URL.Query().Get("refresh"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			refresh = n
		}
	}
	f := Filter{To: r.URL.Query().Get("to"), Tenant: r.URL.Query().Get("tenant"), Limit: 500}
	h.render(w, http.StatusOK, "list", pageData{
		Title: "Outbox", Prefix: h.prefix, Count: h.outbox.Count(), Refresh: refresh, Emails: h.outbox.List(f),
	})
}

func (h *outboxHandler) email(w http.ResponseWriter, r *http.Request) {
	e, ok := h.outbox.Get(r.PathValue("id"))
	if !ok {
		h.render(w, http.StatusNotFound, "list", pageData{Title: "Not found", Prefix: h.prefix, Count: h.outbox.Count()})
		return
	}
	title := e.Subject
	if title == "" {
		title = "(no subject)"
	}
	h.render(w, http.StatusOK, "email", pageData{Title: title, Prefix: h.prefix, Count: h.outbox.Count(), Email: &e})
}

func (h *outboxHandler) apiList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{To: q.Get("to"), Tenant: q.Get("tenant")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "since must be an RFC 3339 time: %v", err)
			return
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeAPIError(w, http.StatusBadRequest, "limit must be a non-negative integer")
			return
		}
		f.Limit = n
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxAPIWait {
			writeAPIError(w, http.StatusBadRequest, "wait must be a duration between 0 and %v, e.g. 5s", maxAPIWait)
			return
		}
		wait = d
	}
	emails := h.outbox.List(f)
	if len(emails) == 0 && wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		if e, err := h.outbox.Wait(ctx, f.Match); err == nil {
			emails = []Email{e}
		}
	}
	apiJSON(w, http.StatusOK, map[string][]Email{"emails": emails})
}

func (h *outboxHandler) apiEmail(w http.ResponseWriter, r *http.Request) {
	e, ok := h.outbox.Get(r.PathValue("id"))
	if !ok {
		writeAPIError(w, http.StatusNotFound, "no email with id %q", r.PathValue("id"))
		return
	}
	apiJSON(w, http.StatusOK, e)
}

func (h *outboxHandler) apiClear(w http.ResponseWriter, _ *http.Request) {
	if err := h.outbox.Clear(); err != nil {
		writeAPIError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func apiJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, status int, format string, args ...any) {
	apiJSON(w, status, map[string]string{"message": fmt.Sprintf(format, args...)})
}

// textDir is the direction a text part is shown in: that of its first
// strongly directional letter, as a mail client's would. The whole part
// takes it, not each line, so an underline or a URL line in an Arabic
// email stays on the right with the rest.
func textDir(text string) string {
	for _, r := range text {
		p, _ := bidi.LookupRune(r)
		switch p.Class() {
		case bidi.R, bidi.AL:
			return "rtl"
		case bidi.L:
			return "ltr"
		}
	}
	return "ltr"
}
