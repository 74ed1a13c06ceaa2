package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoHermes keeps the mailer Lambda small and its cold start short: it
// renders from the compiled bundle, so neither hermes nor what hermes pulls
// in (premailer, sprig, html2text, goquery) nor a YAML parser, nor package
// templates that links them, may be among its dependencies.
func TestNoHermes(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}", ".")
	// The Lambda's build, whatever the host.
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"github.com/matcornic/hermes",
		"github.com/vanng822/go-premailer",
		"github.com/Masterminds/sprig",
		"github.com/jaytaylor/html2text",
		"github.com/PuerkitoBio/goquery",
		"go.yaml.in/yaml",
		"gopkg.in/yaml",
		"github.com/cognito-email-otp/cognito-email-otp/templates",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages; expected the mailer's dependencies", len(deps))
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			// templates/compiled and templates/internal/... are the point;
			// templates itself is not.
			if dep == f || strings.HasPrefix(dep, f+"/") && f != "github.com/cognito-email-otp/cognito-email-otp/templates" {
				t.Errorf("the mailer Lambda depends on %s", dep)
			}
		}
	}
}
