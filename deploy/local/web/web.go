// Package web serves otp-local's pages: the sign-in page (an Amplify v6 app
// built into dist/ by `make ui`) and the operator's ops page. The outbox
// page belongs to seslocal, beside the emails it lists.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

//go:embed static all:dist
var files embed.FS

// DemoUser is shown on the sign-in page, so a newcomer can sign in at once.
// Tenant is empty for a user who may sign in through any tenant's client.
type DemoUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Tenant   string `json:"tenant,omitempty"`
	Note     string `json:"note,omitempty"`
}

// SignInTenant is one app client the page can sign in through, branded as
// the template set its emails use.
type SignInTenant struct {
	ClientID   string             `json:"clientId"`
	ClientName string             `json:"clientName"`
	Tenant     string             `json:"tenant"`
	Branding   templates.Branding `json:"branding"`
}

// SignInConfig is what the page needs to configure Amplify for each
// tenant. The first tenant is the one "/" opens with.
type SignInConfig struct {
	UserPoolID string
	Tenants    []SignInTenant
	DemoUsers  []DemoUser
	// SelfSignUp offers "Create an account": the pool lets users sign
	// themselves up (AllowAdminCreateUserOnly false) and its custom email
	// sender emails the confirmation code.
	SelfSignUp bool
}

// SignIn serves the sign-in page at "/" and its assets. The Cognito
// endpoint it gives Amplify is the page's own origin, so the page works on
// whatever address otp-local listens.
func SignIn(cfg SignInConfig) http.Handler {
	static, _ := fs.Sub(files, "static")
	dist, _ := fs.Sub(files, "dist")
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serveFile(static, "index.html"))
	mux.Handle("GET /style.css", serveFile(static, "style.css"))
	mux.Handle("GET /app.js", bundle(dist, "app.js"))
	mux.Handle("GET /app.js.map", bundle(dist, "app.js.map"))
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"userPoolId": cfg.UserPoolID,
			"endpoint":   "http://" + r.Host,
			"tenants":    cfg.Tenants,
			"demoUsers":  cfg.DemoUsers,
			"selfSignUp": cfg.SelfSignUp,
		})
	})
	return mux
}

func serveFile(fsys fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, fsys, name)
	})
}

// bundle serves a built asset, or says how to build it when this binary
// was compiled without it.
func bundle(fsys fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(fsys, name); err != nil {
			w.Header().Set("Content-Type", "text/javascript")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`document.body.textContent = "otp-local was built without its sign-in page: run make run (or make ui, then rebuild otp-local).";` + "\n"))
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, fsys, name)
	})
}
