package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

const candidateRules = `rules:
  - name: low-csat
    when: 'event.type == "survey.response" && has(event.csat) && event.csat <= 3'
    silence: {for: 15d}
`

func writeRules(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "candidate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSimulateOfStoppedServer: with hush stopped, `hush simulate` opens the data directory
// itself; a csat 3 that the seed rules let pass is silenced by the candidate rule, and the
// send hush let through to that customer is reported newly dropped. While hush serves, the
// same report comes from its API.
func TestSimulateOfStoppedServer(t *testing.T) {
	data := t.TempDir()
	clock := newTestClock(t0.Add(-2 * day))
	h := startHush(t, clock, hushOptions{data: data})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 3})
	clock.Advance(time.Hour)
	if d := h.decide("email", "marketing", email(ana), true); !d.Allowed {
		t.Fatalf("ana's marketing email: %+v; want allowed live", d)
	}
	clock.Advance(time.Minute) // the period ends now: the send is in it
	rules := writeRules(t, candidateRules)
	vars := map[string]string{"HUSH_ADMIN_TOKEN": adminToken}

	check := func(t *testing.T, stdout string) {
		t.Helper()
		var rep gateway.SimulationReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("simulate --json printed %q: %v", stdout, err)
		}
		if rep.SilencesByRule["low-csat"] != 1 || len(rep.Sample) != 1 || rep.Sample[0].Identity != anaID ||
			rep.Sends.Total != 1 || rep.Sends.NewlyDropped != 1 || rep.Sends.NewlyDroppedByRule["low-csat"] != 1 {
			t.Errorf("report: %+v", rep)
		}
	}
	t.Run("while serving", func(t *testing.T) {
		stdout, stderr, err := runCommand(t, vars, "simulate", "--rules", rules, "--data", data, "--url", h.base, "--json")
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, stderr)
		}
		check(t, stdout)
	})
	h.stopped()

	stdout, stderr, err := runCommand(t, vars, "simulate", "--rules", rules, "--data", data, "--since", "7d", "--json")
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr)
	}
	check(t, stdout)

	stdout, _, err = runCommand(t, vars, "simulate", "--rules", rules, "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Silences the rules would create: 1", "low-csat", anaID, "Newly dropped (allowed live): 1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// TestSimulateBadRules: a rule file with problems is refused with each at file:line:col.
func TestSimulateBadRules(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"rules:\n  - name: low-csat\n    when: 'true'\n    silence: {for: 15 days}\n", ":4:20: rules[0].silence.for: invalid duration"},
		{"rules:\n  - name: low-csat\n    when: 'event.csat <= '\n    silence: {for: 15d}\n", ":3:26: rules[0].when: Syntax error"},
	} {
		rules := writeRules(t, tc.text)
		_, _, err := runCommand(t, nil, "simulate", "--rules", rules, "--data", t.TempDir())
		if err == nil || !strings.HasPrefix(err.Error(), rules+tc.want) {
			t.Errorf("simulate: %v; want %s%s", err, rules, tc.want)
		}
	}
	if _, _, err := runCommand(t, nil, "simulate", "--data", t.TempDir()); exitCode(err) != 2 {
		t.Errorf("simulate without --rules: %v; want a usage error", err)
	}
}
