package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/hush-gateway/hush/configs"
)

// checkConfig validates a config file the way serve would load it, without opening storage
// or listening: every error is printed with its line and column.
func checkConfig(_ context.Context, args []string, e env) error {
	if len(args) != 1 {
		return usageError("check-config takes one FILE")
	}
	path := args[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg, err := configs.Parse(data, path, e.getenv)
	if err == nil {
		// Connectors validate their own options; build them as serve would.
		quiet := slog.New(slog.DiscardHandler)
		var errs configs.Errors
		for _, build := range []func() error{
			func() error { _, err := buildSources(cfg, quiet); return err },
			func() error { _, err := buildUpstreams(cfg); return err },
			func() error { _, err := buildAlerts(cfg); return err },
			func() error { _, err := buildSyncLists(cfg); return err },
		} {
			var more *configs.Errors
			if err := build(); errors.As(err, &more) {
				errs.Issues = append(errs.Issues, more.Issues...)
			} else if err != nil {
				return err
			}
		}
		if len(errs.Issues) > 0 {
			err = &errs
		}
	}
	if err != nil {
		var errs *configs.Errors
		if errors.As(err, &errs) {
			fmt.Fprintln(e.stderr, errs.Error())
			return fmt.Errorf("%s: %d problem(s)", path, len(errs.Issues))
		}
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d sources, %d rules, %d caps, %d upstreams)\n",
		path, len(cfg.Sources), len(cfg.Rules), len(cfg.Caps), len(cfg.Upstreams))
	return nil
}
