// Command hush is the strategic-silence gateway: it listens to vendor webhooks, decides when a
// customer should not be contacted, and enforces it in front of marketing APIs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	// Time zones for quiet hours and config checks, even on hosts without tz data.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hush:", err)
		os.Exit(exitCode(err))
	}
}
