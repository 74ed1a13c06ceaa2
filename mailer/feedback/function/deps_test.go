package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestOnlySecretsManager keeps the feedback Lambda small: the one AWS
// client it links is Secrets Manager's (the HMAC key); its metrics and
// logs are stdout. No template machinery either.
func TestOnlySecretsManager(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}", ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed %d packages", len(deps))
	}
	for _, dep := range deps {
		service, ok := strings.CutPrefix(dep, "github.com/aws/aws-sdk-go-v2/service/")
		if ok && !strings.HasPrefix(service, "secretsmanager") && !strings.HasPrefix(service, "internal") {
			t.Errorf("the feedback function links %s", dep)
		}
		for _, bad := range []string{"github.com/matcornic/hermes", "go.yaml.in/yaml", "github.com/cognito-email-otp/cognito-email-otp/templates"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("the feedback function links %s", dep)
			}
		}
	}
}
