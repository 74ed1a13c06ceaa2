package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/publish"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

// The template store's commands, in a table of their own so that main.go's
// stays as it is.
func init() { commands = append(commands, templateStoreCommands...) }

var templateStoreCommands = []command{
	{name: "templates publish", args: "DIR [--set NAME]... [--bucket B] [--prefix P]", summary: "check and compile DIR's sets, upload them to the template store and point the mailer at them (it renders them within OTP_TEMPLATES_REFRESH); prints old -> new version", flags: templatesPublish},
	{name: "templates versions", args: "NAME [--bucket B]", summary: "a set's versions in the template store: when, by whom, size, locales", flags: templatesVersions},
	{name: "templates rollback", args: "NAME [--to VERSION|none] [--bucket B]", summary: "point a set back at its previous version, or at VERSION (a unique prefix will do; none: the built-in set)", flags: templatesRollback},
	{name: "templates current", args: "[--bucket B]", summary: "every set and the version the mailer renders it from", flags: templatesCurrent},
}

// storeFlags are the template store's flags. Defaults come from the
// variables the mailer reads, then otp-local's names.
type storeFlags struct {
	bucket, prefix *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		bucket: fs.String("bucket", envOr("OTP_TEMPLATES_BUCKET", "otp-templates"), "the template store's bucket (the stack's TemplateBucketName output); env OTP_TEMPLATES_BUCKET"),
		prefix: fs.String("prefix", envOr("OTP_TEMPLATES_PREFIX", "templates/"), "the store's key prefix; env OTP_TEMPLATES_PREFIX"),
	}
}

func (f storeFlags) admin(ctx context.Context, g *globals) (*store.Admin, aws.Config, error) {
	cfg, err := g.config(ctx)
	if err != nil {
		return nil, cfg, err
	}
	return &store.Admin{Client: store.NewClient(cfg), Bucket: *f.bucket, Prefix: *f.prefix, Now: now}, cfg, nil
}

// now is the clock of publish and rollback; tests fix it for golden output.
var now = time.Now

// setsFlag collects repeated --set NAME.
type setsFlag []string

func (s *setsFlag) String() string     { return strings.Join(*s, ",") }
func (s *setsFlag) Set(v string) error { *s = append(*s, v); return nil }

func version(v string) string {
	if v == "" {
		return "(built-in)"
	}
	return v
}

func storeURL(a *store.Admin) string { return "s3://" + a.Bucket + "/" + a.Prefix }

func templatesPublish(fs *flag.FlagSet) func(context.Context, env, []string) int {
	sf := addStoreFlags(fs)
	var only setsFlag
	fs.Var(&only, "set", "publish only this set of DIR (repeat for more); default: all of DIR's sets")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 1 {
			return usageError(e, "templates publish takes one DIR (a directory of sets, or one set), got %d arguments", len(args))
		}
		uploads, report, err := publish.Compile(args[0], only)
		if !report.OK() {
			printProblems(e, report, "nothing published")
			return exitProblems
		}
		if err != nil {
			return fail(e, err)
		}
		admin, cfg, err := sf.admin(ctx, e.aws)
		if err != nil {
			return fail(e, err)
		}
		by, err := publish.CallerARN(ctx, cfg)
		if err != nil {
			return fail(e, err)
		}
		changes, err := admin.Publish(ctx, uploads, by)
		if err != nil {
			return fail(e, err)
		}
		moved := 0
		for _, c := range changes {
			if !c.Unchanged {
				moved++
			}
		}
		if e.json {
			writeJSON(e.stdout, map[string]any{"store": storeURL(admin), "by": by, "changes": changes, "published": moved})
			return exitOK
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, c := range changes {
			if c.Unchanged {
				fmt.Fprintf(w, "%s\tunchanged\t%s\tnothing written\n", c.Set, c.To)
				continue
			}
			what := "uploaded"
			if !c.Uploaded {
				what = "already in the store"
			}
			fmt.Fprintf(w, "%s\t%s -> %s\t%s, %d bytes, locales %s\n", c.Set, version(c.From), c.To, what, c.Bytes, strings.Join(c.Locales, " "))
		}
		_ = w.Flush()
		if moved == 0 {
			fmt.Fprintf(e.stdout, "nothing changed: %s already serves these versions; nothing written\n", storeURL(admin))
		} else {
			fmt.Fprintf(e.stdout, "published %d set(s) to %s as %s; the mailer renders them within OTP_TEMPLATES_REFRESH\n", moved, storeURL(admin), by)
		}
		return exitOK
	}
}

func printProblems(e env, r templates.Report, outcome string) {
	if e.json {
		writeJSON(e.stdout, struct {
			OK bool `json:"ok"`
			templates.Report
		}{false, r})
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintln(e.stdout, "problem:", p)
	}
	fmt.Fprintf(e.stdout, "%d problems; %s\n", len(r.Problems), outcome)
}

func templatesVersions(fs *flag.FlagSet) func(context.Context, env, []string) int {
	sf := addStoreFlags(fs)
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 1 {
			return usageError(e, "templates versions takes one set NAME")
		}
		admin, _, err := sf.admin(ctx, e.aws)
		if err != nil {
			return fail(e, err)
		}
		versions, err := admin.Versions(ctx, args[0])
		if err != nil {
			return fail(e, err)
		}
		if e.json {
			if versions == nil {
				versions = []store.VersionInfo{}
			}
			writeJSON(e.stdout, versions)
			return exitOK
		}
		if len(versions) == 0 {
			fmt.Fprintf(e.stdout, "%s has no versions in %s; it renders from the built-in sets\n", args[0], storeURL(admin))
			return exitOK
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tPUBLISHED\tBY\tBYTES\tLOCALES\t")
		for _, v := range versions {
			mark := ""
			switch {
			case v.Current:
				mark = "current"
			case v.Previous:
				mark = "previous (rollback goes here)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", v.Version, v.PublishedAt.UTC().Format(time.RFC3339), dash(v.PublishedBy), v.Bytes, strings.Join(v.Locales, " "), mark)
		}
		_ = w.Flush()
		return exitOK
	}
}

func templatesRollback(fs *flag.FlagSet) func(context.Context, env, []string) int {
	sf := addStoreFlags(fs)
	to := fs.String("to", "", "the version to go to (a unique prefix will do; none: the built-in set); default: the previous one")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 1 {
			return usageError(e, "templates rollback takes one set NAME")
		}
		admin, cfg, err := sf.admin(ctx, e.aws)
		if err != nil {
			return fail(e, err)
		}
		by, err := publish.CallerARN(ctx, cfg)
		if err != nil {
			return fail(e, err)
		}
		c, err := admin.Rollback(ctx, args[0], *to, by)
		if errors.Is(err, store.ErrNoSuchVersion) {
			fmt.Fprintln(e.stderr, "otpctl:", err)
			return exitProblems
		}
		if err != nil {
			return fail(e, err)
		}
		if e.json {
			writeJSON(e.stdout, map[string]any{"store": storeURL(admin), "by": by, "change": c})
			return exitOK
		}
		if c.Unchanged {
			fmt.Fprintf(e.stdout, "%s is at %s already; nothing written\n", c.Set, version(c.To))
			return exitOK
		}
		fmt.Fprintf(e.stdout, "%s: %s -> %s as %s; the mailer renders it within OTP_TEMPLATES_REFRESH\n", c.Set, version(c.From), version(c.To), by)
		return exitOK
	}
}

// currentSet is one line of templates current.
type currentSet struct {
	Set string `json:"set"`
	// Version is what the mailer tags emails of this set with.
	Version string `json:"version"`
	// Source is "store" or "built-in" (the sets in the mailer; with
	// OTP_TEMPLATES_DIR, a set there stands in for the embedded one).
	Source    string    `json:"source"`
	Previous  string    `json:"previous,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
}

func templatesCurrent(fs *flag.FlagSet) func(context.Context, env, []string) int {
	sf := addStoreFlags(fs)
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 0 {
			return usageError(e, "templates current takes no arguments")
		}
		admin, _, err := sf.admin(ctx, e.aws)
		if err != nil {
			return fail(e, err)
		}
		idx, _, err := admin.Index(ctx)
		if err != nil {
			return fail(e, err)
		}
		emb, err := compiled.Embedded()
		if err != nil {
			return fail(e, err)
		}
		var out []currentSet
		names := map[string]bool{}
		for _, n := range append(emb.Sets(), idx.Names()...) {
			if names[n] {
				continue
			}
			names[n] = true
			c := currentSet{Set: n, Version: emb.Version(n), Source: "built-in"}
			if entry, ok := idx.Sets[n]; ok {
				c.Previous, c.UpdatedAt, c.UpdatedBy = entry.Previous, entry.UpdatedAt, entry.UpdatedBy
				if entry.Version != "" {
					c.Version, c.Source = entry.Version, "store"
				}
			}
			if c.Version == "" {
				c.Version = emb.Version(compiled.DefaultSet) // a set rolled back to before it existed: the default set stands in
				c.Source = "built-in (default)"
			}
			out = append(out, c)
		}
		slices.SortFunc(out, func(a, b currentSet) int { return strings.Compare(a.Set, b.Set) })
		if e.json {
			writeJSON(e.stdout, map[string]any{"store": storeURL(admin), "sets": out})
			return exitOK
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SET\tVERSION\tSOURCE\tUPDATED\tBY")
		for _, c := range out {
			updated := "-"
			if !c.UpdatedAt.IsZero() {
				updated = c.UpdatedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Set, c.Version, c.Source, updated, dash(c.UpdatedBy))
		}
		_ = w.Flush()
		fmt.Fprintf(e.stdout, "store %s; built-in versions are this otpctl's release (OTP_TEMPLATES_DIR sets are not seen here)\n", storeURL(admin))
		return exitOK
	}
}
