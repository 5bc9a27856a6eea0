package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The scenarios of `hush bench`, in the order they run.
var benchScenarios = []string{"proxy", "intake", "decisions", "scale"}

// benchOptions are the command-line settings of `hush bench`.
type benchOptions struct {
	Duration       time.Duration
	Rounds         int
	Scenarios      []string
	Clients        int
	IntakeClients  int
	Rate           float64
	Customers      int
	Silences       int
	DataCache      string
	JSON           bool
	CPUProfile     string
	ZendeskFixture string
	TempDir        string
	// Storage, when set (postgres://…), puts the intake and decisions scenarios' hush on
	// that database (a fresh schema each) instead of bbolt in the temporary directory.
	Storage string `json:",omitempty"`
}

func parseBenchFlags(args []string, e env) (benchOptions, error) {
	var (
		o         benchOptions
		scenarios string
	)
	procs := runtime.GOMAXPROCS(0)
	fs := flag.NewFlagSet("hush bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each load phase runs")
	fs.IntVar(&o.Rounds, "rounds", 5, "slices each comparison's phases are cut into and alternated, so background load hits every path alike")
	fs.StringVar(&scenarios, "scenarios", strings.Join(benchScenarios, ","), "comma-separated scenarios to run: "+strings.Join(benchScenarios, ", "))
	// Enough concurrency to keep two cores busy while some requests wait for an fsync.
	fs.IntVar(&o.Clients, "clients", 8*procs, "concurrent clients of the proxy and decision phases")
	// About bbolt's MaxBatchSize: intake's throughput comes from sharing fsyncs.
	fs.IntVar(&o.IntakeClients, "intake-clients", 64, "concurrent webhook senders of the intake phase")
	fs.Float64Var(&o.Rate, "rate", 1000, "requests per second of the proxy's open-loop phase")
	fs.IntVar(&o.Customers, "customers", 1_000_000, "customers in the scale scenario's data directory")
	fs.IntVar(&o.Silences, "silences", 100_000, "active silences in the scale scenario's data directory")
	fs.StringVar(&o.DataCache, "data-cache", "", "keep the scale scenario's data directory here and reuse it when it has the same sizes")
	fs.BoolVar(&o.JSON, "json", false, "print the results as JSON instead of the report")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write CPU profiles of hush's proxy and intake phases to PREFIX-proxy.pprof and PREFIX-intake.pprof")
	fs.StringVar(&o.ZendeskFixture, "zendesk-fixture", "", "the Zendesk webhook body to send (default: the connector's ticket.created fixture, found from the working directory)")
	fs.StringVar(&o.Storage, "storage", "", "run the intake and decisions scenarios' hush on this store, e.g. postgres://… (a fresh schema each, dropped afterwards) instead of bbolt")
	fs.StringVar(&o.TempDir, "tmp", "", "directory for the scenarios' data (default: the system's temporary directory)")
	if err := fs.Parse(args); err != nil {
		return o, usageError(err.Error())
	}
	if fs.NArg() > 0 {
		return o, usageError(fmt.Sprintf("bench takes no arguments, got %q", fs.Args()))
	}
	for s := range strings.SplitSeq(scenarios, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(benchScenarios, s) {
			return o, usageError(fmt.Sprintf("unknown scenario %q: use %s", s, strings.Join(benchScenarios, ", ")))
		}
		if !slices.Contains(o.Scenarios, s) {
			o.Scenarios = append(o.Scenarios, s)
		}
	}
	switch {
	case len(o.Scenarios) == 0:
		return o, usageError("-scenarios names no scenario")
	case o.Duration <= 0:
		return o, usageError("-duration must be positive")
	case o.Rounds <= 0:
		return o, usageError("-rounds must be positive")
	case o.Clients <= 0 || o.IntakeClients <= 0:
		return o, usageError("-clients and -intake-clients must be positive")
	case o.Rate <= 0:
		return o, usageError("-rate must be positive")
	case o.Customers <= 0 || o.Silences < 0 || o.Silences > o.Customers:
		return o, usageError("-customers must be positive and -silences between 0 and -customers")
	}
	return o, nil
}

// machineInfo says where the figures were taken.
type machineInfo struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model,omitempty"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Commit     string `json:"commit,omitempty"`
	// LoadAverage is /proc/loadavg's 1-minute figure when the run started and ended: other
	// work on the machine shows here.
	LoadStart float64 `json:"load_average_start"`
	LoadEnd   float64 `json:"load_average_end"`
}

func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(data), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

func currentMachine() machineInfo {
	m := machineInfo{
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		LoadStart: loadAverage(),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
		if rev != "" {
			m.Commit = rev + modified
		}
	}
	return m
}

// benchReport is everything one run measured.
type benchReport struct {
	Machine   machineInfo      `json:"machine"`
	Started   time.Time        `json:"started"`
	Options   benchOptions     `json:"options"`
	Proxy     *proxyResult     `json:"proxy,omitempty"`
	Intake    *intakeResult    `json:"intake,omitempty"`
	Decisions *decisionsResult `json:"decisions,omitempty"`
	Scale     *scaleResult     `json:"scale,omitempty"`
	Targets   []targetResult   `json:"targets"`
}

// targetResult is one of the targets next to what was measured.
type targetResult struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
}

// targets compares the figures with the targets of issue #7 (set for a 2-core machine).
// Scenarios that did not run have no line.
func (r *benchReport) targets() []targetResult {
	var out []targetResult
	add := func(name, target, measured string, pass bool) {
		out = append(out, targetResult{Name: name, Target: target, Measured: measured, Pass: pass})
	}
	if p := r.Proxy; p != nil {
		add("proxy throughput", "≥ 0.85× bare ReverseProxy", fmt.Sprintf("%.2f×", p.HushVsBare), p.HushVsBare >= 0.85)
		sustained := p.OpenHush.Sustained != nil && *p.OpenHush.Sustained && p.OpenBare.Sustained != nil && *p.OpenBare.Sustained
		m := fmt.Sprintf("%s at %.0f req/s", fmtDur(p.AddedP99), p.Rate())
		if !sustained {
			m += " (rate not sustained)"
		}
		add("proxy added p99", "≤ 1 ms at 1k req/s", m, sustained && p.AddedP99 <= time.Millisecond)
	}
	if i := r.Intake; i != nil {
		add("intake throughput", "≥ 0.5× minimal bbolt Batch", fmt.Sprintf("%.2f×", i.Ratio), i.Ratio >= 0.5)
	}
	if d := r.Decisions; d != nil {
		add("decisions (recorded)", "≥ 200k recipients/s", fmt.Sprintf("%.0f/s", d.RecordedRecipientsPS), d.RecordedRecipientsPS >= 200_000)
		add("decisions (record: false)", "≥ 200k recipients/s", fmt.Sprintf("%.0f/s", d.DryRecipientsPS), d.DryRecipientsPS >= 200_000)
	}
	if s := r.Scale; s != nil {
		peak := max(s.AfterStart.HWM, s.AfterLoad.HWM)
		add("memory at scale", fmt.Sprintf("RSS ≤ 300 MiB (%s customers)", fmtCount(s.Customers)),
			fmt.Sprintf("%s after load, peak %s", fmtMB(s.AfterLoad.RSS), fmtMB(peak)), s.AfterLoad.RSS <= 300<<20 && peak <= 300<<20)
		add("start-up at scale", fmt.Sprintf("≤ 3 s (%s customers)", fmtCount(s.Customers)), fmtDur(s.Startup), s.Startup <= 3*time.Second)
	}
	return out
}

// Rate is the open-loop phase's target rate.
func (p *proxyResult) Rate() float64 { return p.OpenHush.Rate }

func bench(ctx context.Context, args []string, e env) error {
	o, err := parseBenchFlags(args, e)
	if err != nil {
		return err
	}
	r := &benchReport{Machine: currentMachine(), Started: time.Now().UTC(), Options: o}
	progress := e.stderr
	for _, s := range o.Scenarios {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch s {
		case "proxy":
			r.Proxy, err = runProxyScenario(ctx, o, progress)
		case "intake":
			r.Intake, err = runIntakeScenario(ctx, o, progress)
		case "decisions":
			r.Decisions, err = runDecisionsScenario(ctx, o, progress)
		case "scale":
			r.Scale, err = runScaleScenario(ctx, o, progress)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", s, err)
		}
	}
	r.Machine.LoadEnd = loadAverage()
	r.Targets = r.targets()
	if o.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	writeBenchReport(e.stdout, r)
	return nil
}

// profiled runs f with the process's CPU profile written to PREFIX-name.pprof.
func profiled(prefix, name string, f func()) error {
	file, err := os.Create(prefix + "-" + name + ".pprof")
	if err != nil {
		return fmt.Errorf("create the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(file); err != nil {
		file.Close()
		return fmt.Errorf("start the CPU profile: %w", err)
	}
	f()
	pprof.StopCPUProfile()
	if err := file.Close(); err != nil {
		return fmt.Errorf("write the CPU profile: %w", err)
	}
	return nil
}

func writeBenchReport(w io.Writer, r *benchReport) {
	m := r.Machine
	fmt.Fprintf(w, "hush bench — %s\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d)", m.CPUs, m.GOMAXPROCS)
	if m.CPUModel != "" {
		fmt.Fprintf(w, ", %s", m.CPUModel)
	}
	fmt.Fprintf(w, ", %s %s/%s", m.GoVersion, m.OS, m.Arch)
	if m.Commit != "" {
		fmt.Fprintf(w, ", commit %s", m.Commit)
	}
	fmt.Fprintf(w, "\nload average %.2f at the start, %.2f at the end; phases: %s each\n", m.LoadStart, m.LoadEnd, r.Options.Duration)
	if r.Options.Storage != "" {
		fmt.Fprintf(w, "intake and decisions on %s storage (the proxy and scale scenarios on bbolt)\n", storageKind(r.Options.Storage))
	}

	row := func(name string, l loadResult, unit string) {
		fmt.Fprintf(w, "  %-24s %10.0f %-7s p50 %9s  p99 %9s  (%d ok, %d errors)\n", name, l.PerSecond, unit, fmtDur(l.P50), fmtDur(l.P99), l.Requests, l.Errors)
		if l.FirstErr != "" {
			fmt.Fprintf(w, "  %-24s first error: %s\n", "", l.FirstErr)
		}
	}
	if p := r.Proxy; p != nil {
		fmt.Fprintf(w, "\n1. proxy: SendGrid v3 send, %d recipients (10%% silenced), %d clients, closed loop, paths alternated in %d rounds\n", sendRecipients, p.Clients, p.Rounds)
		row("hush /proxy/sendgrid", p.Hush, "req/s")
		row("bare ReverseProxy", p.Bare, "req/s")
		row("upstream directly", p.Direct, "req/s")
		fmt.Fprintf(w, "  hush/bare %.2f×   hush/direct %.2f×\n", p.HushVsBare, p.HushVsDirect)
		for _, path := range []string{"hush", "bare", "direct"} {
			c := p.Upstream[path]
			fmt.Fprintf(w, "  upstream received via %-6s %8d sends, %9d recipients, %8d of them silenced\n", path+":", c.Sends, c.Recipients+c.QuietPassed, c.QuietPassed)
		}
		fmt.Fprintf(w, "  open loop at %.0f req/s:\n", p.Rate())
		openRow := func(name string, l loadResult) {
			s := "sustained"
			if l.Sustained == nil || !*l.Sustained {
				s = "NOT sustained"
			}
			fmt.Fprintf(w, "  %-24s %10.0f req/s  p50 %9s  p99 %9s  max %9s  %s (%d late, %d errors)\n", name, l.PerSecond, fmtDur(l.P50), fmtDur(l.P99), fmtDur(l.Max), s, l.Late, l.Errors)
		}
		openRow("hush", p.OpenHush)
		openRow("bare ReverseProxy", p.OpenBare)
		fmt.Fprintf(w, "  p99 hush adds over the bare proxy: %s\n", fmtDur(p.AddedP99))
	}
	if i := r.Intake; i != nil {
		fmt.Fprintf(w, "\n2. intake: signed Zendesk webhooks (%d bytes), fsync'd, %d senders\n", i.BodyBytes, i.Clients)
		row("hush /webhooks/zendesk", i.Hush, "ev/s")
		row("minimal bbolt Batch", i.Minimal, "ev/s")
		fmt.Fprintf(w, "  hush/minimal %.2f×   events stored by hush: %d\n", i.Ratio, i.StoredEvents)
	}
	if d := r.Decisions; d != nil {
		fmt.Fprintf(w, "\n3. decisions: POST /api/v1/decisions, batches of %d, %d clients\n", d.BatchSize, d.Clients)
		row("recorded (default)", d.Recorded, "req/s")
		fmt.Fprintf(w, "  %-24s %10.0f recipients/s\n", "", d.RecordedRecipientsPS)
		row(`"record": false`, d.Dry, "req/s")
		fmt.Fprintf(w, "  %-24s %10.0f recipients/s\n", "", d.DryRecipientsPS)
	}
	if s := r.Scale; s != nil {
		fmt.Fprintf(w, "\n4. scale: %s customers, %s active silences, hush serve as a child process\n", fmtCount(s.Customers), fmtCount(s.Silences))
		if s.Cached {
			fmt.Fprintf(w, "  data directory reused from the cache (%s)\n", fmtMB(s.FileBytes))
		} else {
			fmt.Fprintf(w, "  data directory built in %s (%s)\n", fmtDur(s.BuildTime), fmtMB(s.FileBytes))
		}
		fmt.Fprintf(w, "  start-up until /readyz 200: %s\n", fmtDur(s.Startup))
		mem := func(when string, m procMem) {
			fmt.Fprintf(w, "  %-20s RSS %s (peak %s): anonymous %s, file pages %s\n", when+":", fmtMB(m.RSS), fmtMB(m.HWM), fmtMB(m.Anon), fmtMB(m.File))
		}
		mem("after start", s.AfterStart)
		mem("after decision load", s.AfterLoad)
		row("decisions at scale", s.Decisions, "req/s")
		fmt.Fprintf(w, "  %-24s %10.0f recipients/s, %.1f%% silenced\n", "", s.RecipientsPS, 100*s.SilencedShare)
	}
	fmt.Fprintf(w, "\ntargets (issue #7, set for a 2-core machine):\n")
	for _, t := range r.Targets {
		verdict := "MISS"
		if t.Pass {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "  %-4s %-26s target %-34s measured %s\n", verdict, t.Name, t.Target, t.Measured)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func fmtMB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func fmtCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	default:
		return fmt.Sprint(n)
	}
}
