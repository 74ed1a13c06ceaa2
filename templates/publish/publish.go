// Package publish is the operator's side of the template store: it turns
// a directory of YAML template sets into one compiled bundle per set,
// after every check of otpctl templates check, and publishes them with
// store.Admin. otpctl templates publish and otp-local's seeding use it. It
// links hermes (package templates); the mailer never links it.
package publish

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"os"
	"path/filepath"
	"slices"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

// Sources layers dir over the embedded sets, as the mailer layers the
// store over them: a set in dir replaces the embedded one of its name. A
// dir holding theme.yaml is one set, not a directory of sets.
func Sources(dir string) []templates.Source {
	if _, err := os.Stat(filepath.Join(dir, "theme.yaml")); err == nil {
		return []templates.Source{templates.Embedded(), templates.SetDir(dir)}
	}
	return []templates.Source{templates.Embedded(), templates.Dir(dir)}
}

// Compile checks dir's sets as otpctl templates check does and compiles
// each of them (or only the named ones) into a bundle of its own. With
// problems it compiles nothing and returns the report, which is then not
// OK.
func Compile(dir string, only []string) ([]store.Upload, templates.Report, error) {
	sources := Sources(dir)
	// A published bundle reaches the next email without another look, so
	// it gets every check, not only Load's.
	report := templates.Check(sources...)
	if !report.OK() {
		return nil, report, nil
	}
	lib, err := templates.Load(sources...)
	if err != nil {
		return nil, report, fmt.Errorf("load %s: %w", dir, err)
	}
	sets := lib.OverridingSets()
	if len(sets) == 0 {
		return nil, report, fmt.Errorf("%s holds no template sets", dir)
	}
	if len(only) > 0 {
		for _, name := range only {
			if !slices.Contains(sets, name) {
				return nil, report, fmt.Errorf("%s has no set %q (it has %v)", dir, name, sets)
			}
		}
		sets = only
	}
	uploads, err := compileSets(lib, sets)
	return uploads, report, err
}

// Embedded compiles sets of the embedded ones (otp-local seeds its store
// with the example tenants this way). They are checked by the tests that
// keep the embedded bundle fresh.
func Embedded(sets ...string) ([]store.Upload, error) {
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		return nil, err
	}
	return compileSets(lib, sets)
}

func compileSets(lib *templates.Library, sets []string) ([]store.Upload, error) {
	uploads := make([]store.Upload, 0, len(sets))
	for _, name := range sets {
		// One set per bundle: its version is then the hash of that set
		// alone, and a tenant's publish never touches another's.
		data, err := templates.Compile(lib, name)
		if err != nil {
			return nil, err
		}
		uploads = append(uploads, store.Upload{Set: name, Data: data})
	}
	return uploads, nil
}

// Dir checks, compiles and publishes dir's sets (or the named ones). With
// problems nothing is written and the report says why.
func Dir(ctx context.Context, admin *store.Admin, dir string, only []string, by string) ([]store.Change, templates.Report, error) {
	uploads, report, err := Compile(dir, only)
	if err != nil || !report.OK() {
		return nil, report, err
	}
	changes, err := admin.Publish(ctx, uploads, by)
	return changes, report, err
}

// CallerARN is who is publishing, as STS names the caller's credentials:
// the pointer and the bundle record it. GetCallerIdentity needs no
// permission.
func CallerARN(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("who is publishing (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(out.Arn), nil
}
