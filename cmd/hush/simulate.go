package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
	"github.com/hush-gateway/hush/gateway/sentiment"
	"github.com/hush-gateway/hush/storage"
)

// simulate replays the stored events of a period against the rules of FILE (a `rules:` list in
// hush.yaml's syntax) and prints what they would have done. Like backup, it opens the store
// itself when hush is not running, and otherwise asks the running server (POST
// /api/v1/simulate with the admin token).
func simulate(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("hush simulate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f serveFlags
	fs.StringVar(&f.config, "config", e.getenv("HUSH_CONFIG"), "config file")
	fs.StringVar(&f.data, "data", e.getenv("HUSH_DATA"), "data directory")
	rulesFile := fs.String("rules", "", "YAML file with the candidate `rules:` list (required)")
	since := fs.String("since", "30d", "start of the period: a duration back from now (30d) or an RFC 3339 time")
	baseURL := fs.String("url", e.getenv("HUSH_URL"), "base URL of a running hush (default: from the config's listen address)")
	sample := fs.Int("sample", policy.DefaultSimulationSample, "silences to show with their triggering event")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if *rulesFile == "" || fs.NArg() != 0 {
		return usageError("simulate takes --rules FILE and no arguments")
	}
	data, err := os.ReadFile(*rulesFile)
	if err != nil {
		return fmt.Errorf("read rules: %w", err)
	}
	rules, err := configs.ParseRules(data, *rulesFile)
	if err != nil {
		return err // file:line:col: key: problem, one line each
	}
	cfg, err := loadConfig(f, e)
	if err != nil {
		return err
	}

	var rep *gateway.SimulationReport
	if *baseURL == "" {
		rep, err = simulateLocally(ctx, cfg, e, rules, *since, *sample)
		if err != nil && !isLocked(err) {
			return err
		}
		if err != nil {
			*baseURL = "http://" + dialAddr(cfg.Listen)
		}
	}
	if rep == nil {
		token := e.getenv("HUSH_ADMIN_TOKEN")
		if token == "" {
			if b, err := os.ReadFile(filepath.Join(cfg.Data, "admin-token")); err == nil {
				token = strings.TrimSpace(string(b))
			}
		}
		if rep, err = fetchSimulation(ctx, strings.TrimRight(*baseURL, "/"), token, rules, *since, *sample); err != nil {
			return fmt.Errorf("simulate through %s: %w", *baseURL, err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printSimulation(e.stdout, rep)
	return nil
}

// simulateLocally opens the store and an engine with the config's policy, as serve would.
func simulateLocally(ctx context.Context, cfg *configs.Config, e env, rules []gateway.RuleSpec, since string, sample int) (*gateway.SimulationReport, error) {
	now := e.now()
	from, err := sinceTime(since, now)
	if err != nil {
		return nil, usageError(err.Error())
	}
	store, err := storage.Open(ctx, cfg.Storage, cfg.Data)
	if err != nil {
		if isLocked(err) {
			return nil, err
		}
		return nil, fmt.Errorf("open storage: %w", err)
	}
	defer store.Close()
	analyzer, err := sentimentAnalyzer(cfg)
	if err != nil {
		return nil, err
	}
	live, err := policy.CompileRules(cfg.Rules, policy.WithTextAnalyzer(analyzer))
	if err != nil {
		return nil, fmt.Errorf("compile rules: %w", err)
	}
	engine, err := policy.New(ctx, store, policy.Config{
		ScratchStore: scratchStore,
		Rules:        live, Caps: cfg.Caps, QuietHours: cfg.QuietHours, Timezone: cfg.Timezone,
		DefaultRegion: cfg.DefaultRegion, Costs: cfg.Costs, Now: e.now,
	})
	if err != nil {
		return nil, fmt.Errorf("start engine: %w", err)
	}
	rep, err := engine.Simulate(ctx, gateway.SimulationRequest{Rules: rules, Since: from, Until: now, SampleSize: sample})
	if err != nil {
		return nil, fmt.Errorf("simulate: %s", gateway.ErrorMessageOf(err))
	}
	return rep, nil
}

// sentimentAnalyzer is the built-in scorer the live rules' sentiment() and cues() use
// (the external scorer, if any, only scores texts on intake: stored events carry its scores).
func sentimentAnalyzer(cfg *configs.Config) (policy.TextAnalyzer, error) {
	analyzer, err := sentiment.New(sentiment.Options{Competitors: cfg.Sentiment.Competitors, DefaultLanguage: cfg.Sentiment.Language})
	if err != nil {
		return nil, fmt.Errorf("build the sentiment scorer: %w", err)
	}
	return analyzer, nil
}

// sinceTime reads --since: a duration back from now or an RFC 3339 time.
func sinceTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := gateway.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--since %q: want a duration such as 30d or an RFC 3339 time", s)
	}
	return now.Add(-d), nil
}

func fetchSimulation(ctx context.Context, base, token string, rules []gateway.RuleSpec, since string, sample int) (*gateway.SimulationReport, error) {
	body, err := json.Marshal(map[string]any{"rules": rules, "since": since, "sample": sample})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/simulate", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	var rep gateway.SimulationReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("read the report: %w", err)
	}
	return &rep, nil
}

// printSimulation writes the report for people: the silences, by rule, the sample, and how
// the recorded sends compare.
func printSimulation(w io.Writer, rep *gateway.SimulationReport) {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
	fmt.Fprintf(w, "Simulated %s to %s (UTC), %d events replayed.\n\n", day(rep.Since), day(rep.Until), rep.EventsReplayed)
	fmt.Fprintf(w, "Silences the rules would create: %d (%d customers), plus %d in shadow mode.\n", rep.Silences, rep.CustomersSilenced, rep.ShadowSilences)
	byRule := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(w, "  %s\n", title)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(w, "    %-28s %6d\n", k, m[k])
		}
	}
	byRule("by rule:", rep.SilencesByRule)
	byRule("shadow, by rule:", rep.ShadowSilencesByRule)
	if len(rep.Sample) > 0 {
		fmt.Fprintf(w, "\nSample (%d):\n", len(rep.Sample))
		for _, s := range rep.Sample {
			end := "until resolved"
			if s.End != nil {
				end = day(*s.End)
			}
			shadow := ""
			if s.Shadow {
				shadow = " (shadow)"
			}
			fmt.Fprintf(w, "  %s  %s%s  %s → %s  after %s %s at %s\n", s.Identity, s.Rule, shadow, day(s.Start), end,
				cmp.Or(s.Event.Type, "event"), s.Event.ID, day(s.Event.At))
		}
	}
	sn := rep.Sends
	fmt.Fprintf(w, "\nRecorded sends: %d. Dropped live: %d; with these rules: %d.\n", sn.Total, sn.LiveDropped, sn.CandidateDropped)
	fmt.Fprintf(w, "Newly dropped (allowed live): %d\n", sn.NewlyDropped)
	byRule("by rule:", sn.NewlyDroppedByRule)
	byRule("by channel:", sn.NewlyDroppedByChannel)
	fmt.Fprintf(w, "Newly allowed (dropped live by a rule's silence): %d\n", sn.NewlyAllowed)
	byRule("by rule:", sn.NewlyAllowedByRule)
	byRule("by channel:", sn.NewlyAllowedByChannel)
}
