// Package startup holds the cold-start steps every Lambda main shares:
// failing loudly on bad configuration, and the --check mode that measures
// start-up. The SDK configuration is in package awsenv, so a function that
// makes no AWS call links no SDK.
package startup

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Timeout bounds cold-start work that talks to AWS (reading the HMAC key),
// well inside Cognito's 5 second wait for a trigger.
const Timeout = 3 * time.Second

// ExitOnError ends a cold start that cannot produce a working handler, with
// one JSON line naming what is wrong. Lambda reports the init failure; there
// is nothing better to do.
func ExitOnError(function string, err error) {
	if err == nil {
		return
	}
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error(function+" start-up failed",
		slog.String("function", function), slog.String("outcome", "startup_failed"), slog.String("reason", err.Error()))
	os.Exit(1)
}

// Check reports whether the process was started with --check: the main
// does all its start-up work, then Ready prints and exits instead of
// serving. `make bench` times it to measure cold starts.
func Check() bool { return len(os.Args) > 1 && os.Args[1] == "--check" }

// Ready ends a --check run.
func Ready(function string) {
	fmt.Printf("%s: ready\n", function)
	os.Exit(0)
}
