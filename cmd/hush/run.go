package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"time"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// env is everything run needs from the outside world. Tests build their own to inject a clock
// and learn the listening address; main uses the real process environment.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
	// ready, when set, receives the server's base URL once it listens.
	ready func(baseURL string)
	// httpServer, when set, sees the HTTP server before it serves: tests read its limits
	// and shorten its timeouts to see them enforced.
	httpServer func(*http.Server)
}

// run is the whole program: main only wires the process to it, so end-to-end tests drive
// exactly what users run.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now})
}

func runEnv(ctx context.Context, args []string, e env) error {
	if len(args) < 2 {
		usage(e.stderr)
		return usageError("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, e)
	case "check-config":
		return checkConfig(ctx, rest, e)
	case "backup":
		return backup(ctx, rest, e)
	case "bench":
		return bench(ctx, rest, e)
	case "migrate-storage":
		return migrateStorage(ctx, rest, e)
	case "simulate":
		return simulate(ctx, rest, e)
	case "version", "--version", "-v":
		fmt.Fprintln(e.stdout, "hush", buildVersion())
		return nil
	case "help", "--help", "-h":
		usage(e.stdout)
		return nil
	default:
		usage(e.stderr)
		return usageError(fmt.Sprintf("unknown command %q", cmd))
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `hush — strategic-silence gateway

Usage:
  hush serve [--config FILE] [--listen ADDR] [--data DIR]
  hush check-config FILE
  hush backup [--config FILE] [--data DIR] [--url URL] FILE
  hush migrate-storage --from bolt:PATH --to postgres://… [--data DIR]
  hush simulate --rules FILE [--since 30d] [--config FILE] [--data DIR] [--url URL] [--json]
  hush bench [-duration 10s] [-scenarios proxy,intake,decisions,scale] [-json] [-cpuprofile PREFIX]
             [-clients N] [-intake-clients N] [-rate 1000] [-customers N] [-silences N] [-data-cache DIR]
  hush version

Environment: HUSH_CONFIG, HUSH_LISTEN, HUSH_DATA (flags win), HUSH_ADMIN_TOKEN.
`)
}

// usageErr marks mistakes in the command line (exit status 2).
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(msg string) error { return &usageErr{msg} }

func exitCode(err error) int {
	var u *usageErr
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}
