// Command gen writes the embedded bundle from the embedded YAML sets:
// go generate ./templates/... runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

func main() {
	out := flag.String("o", "embedded.bundle.json", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		return fmt.Errorf("load embedded sets: %w", err)
	}
	data, err := templates.Compile(lib)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}
