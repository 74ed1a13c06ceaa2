package seslocal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

func TestOutboxListAndFilter(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	first := e.send(simple("Rita <Rita@Example.com>", "one"))
	in := simple("sam@example.com", "two")
	in.EmailTags = []types.MessageTag{{Name: aws.String("tenant"), Value: aws.String("globex")}}
	second := e.send(in)
	third := e.send(simple("rita@example.com", "three"))

	ids := func(list []seslocal.Email) []string {
		var out []string
		for _, m := range list {
			out = append(out, m.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		filter seslocal.Filter
		want   []string
	}{
		{"everything, newest first", seslocal.Filter{}, []string{third, second, first}},
		{"by recipient, ignoring case and display name", seslocal.Filter{To: "RITA@example.com"}, []string{third, first}},
		{"by recipient written with a name", seslocal.Filter{To: "R <rita@example.com>"}, []string{third, first}},
		{"by tenant", seslocal.Filter{Tenant: "globex"}, []string{second}},
		{"limit", seslocal.Filter{Limit: 2}, []string{third, second}},
		{"since the future", seslocal.Filter{Since: time.Now().Add(time.Hour)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(e.srv.Outbox().List(tc.filter)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("List = %v, want %v", got, tc.want)
			}
		})
	}
	if n := e.srv.Outbox().Count(); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
	if _, ok := e.srv.Outbox().Get("nope"); ok {
		t.Error("Get of an unknown id succeeded")
	}
}

func TestOutboxWait(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	o := e.srv.Outbox()
	to := func(addr string) func(seslocal.Email) bool {
		return seslocal.Filter{To: addr}.Match
	}
	t.Run("returns an email already there", func(t *testing.T) {
		id := e.send(simple("early@example.com", "x"))
		got, err := o.Wait(ctx(t), to("early@example.com"))
		if err != nil || got.ID != id {
			t.Errorf("Wait = %s, %v; want %s", got.ID, err, id)
		}
	})
	t.Run("blocks until a matching email arrives", func(t *testing.T) {
		type result struct {
			e   seslocal.Email
			err error
		}
		done := make(chan result, 1)
		go func() {
			got, err := o.Wait(context.Background(), to("late@example.com"))
			done <- result{got, err}
		}()
		e.send(simple("other@example.com", "not this one"))
		select {
		case r := <-done:
			t.Fatalf("Wait returned %+v for a non-matching email", r)
		case <-time.After(20 * time.Millisecond):
		}
		id := e.send(simple("late@example.com", "this one"))
		r := <-done
		if r.err != nil || r.e.ID != id {
			t.Errorf("Wait = %s, %v; want %s", r.e.ID, r.err, id)
		}
	})
	t.Run("ends with the context", func(t *testing.T) {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := o.Wait(c, to("never@example.com")); err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Errorf("Wait error = %v, want a deadline error", err)
		}
	})
}

func TestOutboxSince(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	o := e.srv.Outbox()
	first := e.send(simple("a@example.com", "one"))
	got, err := o.Since(ctx(t), 0)
	if err != nil || len(got) != 1 || got[0].ID != first {
		t.Fatalf("Since(0) = %v, %v; want the one email", got, err)
	}
	done := make(chan []seslocal.Email, 1)
	go func() {
		list, _ := o.Since(context.Background(), 1)
		done <- list
	}()
	select {
	case list := <-done:
		t.Fatalf("Since(1) returned %d emails before a second arrived", len(list))
	case <-time.After(20 * time.Millisecond):
	}
	second := e.send(simple("b@example.com", "two"))
	if list := <-done; len(list) != 1 || list[0].ID != second {
		t.Errorf("Since(1) = %v, want only the second email %s", list, second)
	}
	c, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := o.Since(c, 2); err == nil {
		t.Error("Since past the end did not end with its context")
	}
}

func TestOutboxPersistence(t *testing.T) {
	dir := t.TempDir()
	e := newSES(t, seslocal.Options{DataDir: dir})
	a := e.send(simple("a@example.com", "first"))
	b := e.send(simple("b@example.com", "second"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("data dir holds %d files, want 2", len(files))
	}

	reloaded, err := seslocal.New(seslocal.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got := reloaded.Outbox().List(seslocal.Filter{})
	if len(got) != 2 || got[0].ID != b || got[1].ID != a {
		t.Fatalf("reloaded outbox = %v, want [%s %s]", got, b, a)
	}
	orig, _ := e.srv.Outbox().Get(a)
	if again, _ := reloaded.Outbox().Get(a); !reflect.DeepEqual(again, orig) || !again.ReceivedAt.Equal(orig.ReceivedAt) {
		t.Errorf("reloaded email differs:\n%+v\n%+v", again, orig)
	}

	if err := reloaded.Outbox().Clear(); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) != 0 || reloaded.Outbox().Count() != 0 {
		t.Errorf("after Clear: %d files, %d emails", len(files), reloaded.Outbox().Count())
	}

	t.Run("a file that is not an email stops start-up with its name", func(t *testing.T) {
		bad := filepath.Join(dir, "broken.json")
		if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := seslocal.New(seslocal.Options{DataDir: dir})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("New error = %v, want one naming %s", err, bad)
		}
	})
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", u, err)
	}
	return resp.StatusCode
}

func TestOutboxJSONAPI(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	id := e.send(simple("rita@example.com", "Your code"))
	e.send(simple("sam@example.com", "Sam's code"))
	api := e.url + "/outbox/api/emails"

	type list struct {
		Emails []seslocal.Email `json:"emails"`
	}
	t.Run("list filtered by recipient includes html and text", func(t *testing.T) {
		var l list
		if status := getJSON(t, api+"?to="+url.QueryEscape("rita@example.com"), &l); status != 200 {
			t.Fatalf("status %d", status)
		}
		if len(l.Emails) != 1 || l.Emails[0].ID != id || l.Emails[0].HTML == "" || l.Emails[0].Text == "" {
			t.Errorf("emails = %+v", l.Emails)
		}
	})
	t.Run("one email by id", func(t *testing.T) {
		var m seslocal.Email
		if status := getJSON(t, api+"/"+id, &m); status != 200 || m.Subject != "Your code" || m.Tenant != "acme" {
			t.Errorf("status %d, email %+v", status, m)
		}
	})
	t.Run("unknown id is a JSON 404", func(t *testing.T) {
		var m map[string]string
		if status := getJSON(t, api+"/nope", &m); status != 404 || m["message"] == "" {
			t.Errorf("status %d, body %v", status, m)
		}
	})
	t.Run("wait returns the email once it arrives", func(t *testing.T) {
		sent := make(chan error, 1)
		go func() {
			// Let the GET below start waiting; if it has not yet, it finds
			// the email at once, and the test still holds.
			time.Sleep(50 * time.Millisecond)
			_, err := e.client.SendEmail(context.Background(), simple("waiter@example.com", "late"))
			sent <- err
		}()
		var l list
		getJSON(t, api+"?to=waiter@example.com&wait=10s", &l)
		if err := <-sent; err != nil {
			t.Fatalf("SendEmail: %v", err)
		}
		if len(l.Emails) != 1 || l.Emails[0].Subject != "late" {
			t.Errorf("emails = %+v", l.Emails)
		}
	})
	t.Run("bad parameters are a 400", func(t *testing.T) {
		for _, q := range []string{"?since=yesterday", "?limit=-1", "?wait=5m", "?to=nobody@example.com&wait=soon"} {
			var m map[string]string
			if status := getJSON(t, api+q, &m); status != 400 {
				t.Errorf("%s: status %d", q, status)
			}
		}
	})
	t.Run("DELETE empties the outbox", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodDelete, api, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || e.srv.Outbox().Count() != 0 {
			t.Errorf("status %d, %d emails left", resp.StatusCode, e.srv.Outbox().Count())
		}
	})
}

func get(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestOutboxPages(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	in := simple("rita@example.com", `Code <script>alert("x")</script> & more`)
	in.Content.Simple.Body.Html.Data = aws.String(`<p class="c">Hi & welcome</p><script>alert(1)</script>`)
	in.Content.Simple.Body.Text.Data = aws.String("Hi <you>")
	id := e.send(in)

	t.Run("list renders and escapes the subject", func(t *testing.T) {
		status, h, body := get(t, e.url+"/outbox")
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		if !strings.Contains(body, `Code &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more`) {
			t.Errorf("escaped subject missing from the list:\n%s", body)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("list page contains a raw <script>")
		}
		if !strings.Contains(body, `href="/outbox/`+id+`"`) || !strings.Contains(body, "rita@example.com") || !strings.Contains(body, ">acme<") {
			t.Errorf("list lacks the link, recipient or tenant")
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
	})
	t.Run("email page sandboxes the HTML and shows the text", func(t *testing.T) {
		status, _, body := get(t, e.url+"/outbox/"+id)
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		iframe := `<iframe title="HTML body" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" srcdoc="&lt;p class=&#34;c&#34;&gt;Hi &amp; welcome&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`
		if !strings.Contains(body, iframe) {
			t.Errorf("email page lacks the sandboxed iframe %s\n%s", iframe, body)
		}
		if strings.Contains(body, "allow-scripts") || strings.Contains(body, "allow-same-origin") {
			t.Error("sandbox lets scripts or the origin through")
		}
		if !strings.Contains(body, "<pre dir=\"ltr\">Hi &lt;you&gt;</pre>") {
			t.Error("text part missing or unescaped")
		}
	})
	t.Run("unknown email is a 404 page", func(t *testing.T) {
		if status, _, _ := get(t, e.url+"/outbox/nope"); status != 404 {
			t.Errorf("status %d", status)
		}
	})
	t.Run("auto-refresh can be paused", func(t *testing.T) {
		_, _, on := get(t, e.url+"/outbox")
		_, _, off := get(t, e.url+"/outbox?refresh=0")
		if !strings.Contains(on, `http-equiv="refresh"`) || strings.Contains(off, `http-equiv="refresh"`) {
			t.Error("refresh=0 does not pause the refresh")
		}
	})
}

func TestOutboxHandlerUnderAnotherPrefix(t *testing.T) {
	srv, err := seslocal.New(seslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(seslocal.PathPrefix, srv)
	mux.Handle("/local/mail/", srv.OutboxHandler("/local/mail/"))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	out, err := newClient(hs.URL).SendEmail(ctx(t), simple("rita@example.com", "prefixed"))
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.MessageId)
	status, _, body := get(t, hs.URL+"/local/mail/")
	if status != 200 || !strings.Contains(body, `href="/local/mail/`+id+`"`) {
		t.Errorf("list under /local/mail: status %d, links do not use the prefix:\n%s", status, body)
	}
	if status, _, _ := get(t, hs.URL+"/local/mail/api/emails/"+id); status != 200 {
		t.Errorf("API under /local/mail: status %d", status)
	}
}
