package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets the bench's scale scenario re-execute this test binary as `hush serve`: with
// HUSH_BENCH_CHILD=1 it runs the program, as main does, instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hush:", err)
			os.Exit(exitCode(err))
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchRunsEveryScenario runs the whole load tool with tiny parameters and checks that
// every scenario made progress without errors and that what it measured is what it claims:
// hush really dropped the silenced tenth of every send before the stand-in upstream, the
// baselines really carried it, intake stored the events it acknowledged, and the child
// process started on the built data answered every decision as the data says. Figures are
// not checked: speed is measured, never asserted.
func TestBenchRunsEveryScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"hush", "bench", "-json",
		"-duration", "300ms", "-rounds", "2", "-rate", "50", "-clients", "4", "-intake-clients", "8",
		"-customers", "2000", "-silences", "200", "-tmp", t.TempDir(), "-data-cache", t.TempDir()}
	e := env{getenv: func(string) string { return "" }, stdin: bytes.NewReader(nil), stdout: &stdout, stderr: &stderr}
	if err := runEnv(context.Background(), args, e); err != nil {
		t.Fatalf("hush bench: %v\n%s", err, stderr.String())
	}
	var r benchReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("the -json report does not decode: %v\n%s", err, stdout.String())
	}

	progressed := func(name string, l loadResult) {
		t.Helper()
		if l.Requests == 0 || l.Errors != 0 || l.PerSecond <= 0 || l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("%s: %d requests, %d errors (%s), %.0f/s, p50 %s, p99 %s: want progress without errors",
				name, l.Requests, l.Errors, l.FirstErr, l.PerSecond, l.P50, l.P99)
		}
	}

	if r.Machine.CPUs <= 0 || r.Machine.GOMAXPROCS <= 0 || r.Machine.GoVersion == "" || r.Machine.OS == "" {
		t.Errorf("machine = %+v: want CPUs, GOMAXPROCS, Go version and OS", r.Machine)
	}

	p := r.Proxy
	if p == nil {
		t.Fatal("no proxy results")
	}
	for name, l := range map[string]loadResult{"proxy hush": p.Hush, "proxy bare": p.Bare, "proxy direct": p.Direct,
		"open-loop hush": p.OpenHush, "open-loop bare": p.OpenBare} {
		progressed(name, l)
	}
	if p.OpenHush.Rate != 50 || p.OpenHush.Sustained == nil || p.OpenHush.Scheduled == 0 {
		t.Errorf("open loop: rate %v, sustained %v, scheduled %d: want the rate and whether it was sustained", p.OpenHush.Rate, p.OpenHush.Sustained, p.OpenHush.Scheduled)
	}
	if p.HushVsBare <= 0 || p.HushVsDirect <= 0 {
		t.Errorf("ratios hush/bare %v, hush/direct %v: want both", p.HushVsBare, p.HushVsDirect)
	}
	// Each send names 45 recipients to keep and 5 silenced ones.
	hush := p.Upstream["hush"]
	if hush.Sends < int64(p.Hush.Requests+p.OpenHush.Requests) || hush.QuietPassed != 0 || hush.Recipients != 45*hush.Sends {
		t.Errorf("the upstream received via hush %+v for %d answered sends: want every send with its 45 kept recipients and none of the silenced", hush, p.Hush.Requests+p.OpenHush.Requests)
	}
	for _, path := range []string{"bare", "direct"} {
		c := p.Upstream[path]
		if c.Sends == 0 || c.QuietPassed != 5*c.Sends || c.Recipients != 45*c.Sends {
			t.Errorf("the upstream received via %s %+v: want all 50 recipients of every send", path, c)
		}
	}

	i := r.Intake
	if i == nil {
		t.Fatal("no intake results")
	}
	progressed("intake hush", i.Hush)
	progressed("intake minimal", i.Minimal)
	if i.StoredEvents < i.Hush.Requests || i.BodyBytes < 1000 {
		t.Errorf("intake: %d events stored for %d acknowledged, bodies of %d bytes: want every acknowledged event stored, Zendesk-sized bodies", i.StoredEvents, i.Hush.Requests, i.BodyBytes)
	}

	d := r.Decisions
	if d == nil {
		t.Fatal("no decision results")
	}
	progressed("decisions recorded", d.Recorded)
	progressed("decisions dry", d.Dry)
	if d.RecordedRecipientsPS != d.Recorded.PerSecond*decisionBatch || d.BatchSize != decisionBatch {
		t.Errorf("decisions: %v recipients/s from %v req/s in batches of %d", d.RecordedRecipientsPS, d.Recorded.PerSecond, d.BatchSize)
	}

	s := r.Scale
	if s == nil {
		t.Fatal("no scale results")
	}
	progressed("scale decisions", s.Decisions)
	if s.Customers != 2000 || s.Silences != 200 || s.Cached || s.FileBytes == 0 {
		t.Errorf("scale: %+v: want 2000 customers and 200 silences built afresh", s)
	}
	for _, m := range []procMem{s.AfterStart, s.AfterLoad} {
		if s.Startup <= 0 || m.RSS <= 0 || m.HWM < m.RSS || m.Anon <= 0 || m.Anon+m.File > m.RSS {
			t.Errorf("scale: start-up %s, memory %+v: want all measured, anonymous and file pages within the RSS", s.Startup, m)
		}
	}
	if s.SilencedShare <= 0 {
		t.Errorf("scale: silenced share %v: want some of the random recipients silenced", s.SilencedShare)
	}

	if len(r.Targets) != 7 {
		t.Errorf("%d targets, want 7: %+v", len(r.Targets), r.Targets)
	}
	for _, tg := range r.Targets {
		if tg.Name == "" || tg.Target == "" || tg.Measured == "" {
			t.Errorf("target %+v: want a name, the target and the figure", tg)
		}
	}

	// The readable report of the same results has every section and a verdict per target.
	var text bytes.Buffer
	writeBenchReport(&text, &r)
	for _, want := range []string{"machine: ", "1. proxy", "2. intake", "3. decisions", "4. scale", "targets"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, text.String())
		}
	}
	if n := strings.Count(text.String(), "PASS ") + strings.Count(text.String(), "MISS "); n != len(r.Targets) {
		t.Errorf("the report has %d PASS/MISS lines for %d targets:\n%s", n, len(r.Targets), text.String())
	}
}

// TestBenchReusesTheDataCache runs the scale scenario twice on one -data-cache directory:
// the second run starts hush on the data the first one built.
func TestBenchReusesTheDataCache(t *testing.T) {
	cache := t.TempDir()
	for round, wantCached := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		args := []string{"hush", "bench", "-json", "-scenarios", "scale", "-duration", "100ms", "-clients", "2",
			"-customers", "500", "-silences", "50", "-tmp", t.TempDir(), "-data-cache", cache}
		e := env{getenv: func(string) string { return "" }, stdin: bytes.NewReader(nil), stdout: &stdout, stderr: &stderr}
		if err := runEnv(context.Background(), args, e); err != nil {
			t.Fatalf("run %d: hush bench: %v\n%s", round, err, stderr.String())
		}
		var r benchReport
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("run %d: %v", round, err)
		}
		if r.Scale == nil || r.Scale.Cached != wantCached || r.Scale.Decisions.Errors != 0 || r.Scale.Decisions.Requests == 0 {
			t.Fatalf("run %d: scale %+v: want cached %t, decisions without errors", round, r.Scale, wantCached)
		}
		if r.Proxy != nil || r.Intake != nil || r.Decisions != nil {
			t.Errorf("run %d: scenarios that were not asked for ran", round)
		}
	}
}

func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-scenarios", "proxy,nope"},
		{"-scenarios", ","},
		{"-duration", "0s"},
		{"-rate", "0"},
		{"-customers", "10", "-silences", "11"},
		{"extra"},
	} {
		e := env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
		err := runEnv(context.Background(), append([]string{"hush", "bench"}, args...), e)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("hush bench %q = %v, want a usage error (exit status 2)", args, err)
		}
	}
}
