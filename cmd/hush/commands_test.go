package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// runCommand runs a one-shot command (not serve) and returns what it printed.
func runCommand(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	clock := newTestClock(t0)
	err = runEnv(context.Background(), append([]string{"hush"}, args...), env{
		getenv: fakeEnv(vars), stdin: bytes.NewReader(nil), stdout: &out, stderr: &errOut, now: clock.Now,
		ready: func(string) { t.Errorf("%v started a server", args) },
	})
	return out.String(), errOut.String(), err
}

// TestRestartKeepsState stops hush and starts it again on the same data directory:
// acknowledged deliveries, silences and cap counters are all still there.
func TestRestartKeepsState(t *testing.T) {
	data := t.TempDir()
	clock := newTestClock(t0)
	first := startHush(t, clock, hushOptions{data: data})

	deliveryID := newDeliveryID()
	delivery := []byte(`{"type":"survey.response","customer":{"email":"ana@example.com"},"csat":2,"at":"` + t0.Format(time.RFC3339) + `"}`)
	if resp, body := first.signedWebhook(deliveryID, delivery); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("first delivery: %d %s; want accepted", resp.StatusCode, body)
	}
	// The default caps allow one survey per customer in 30 days: ben's is taken.
	if d := first.decide("email", "survey", email(neighbour), true); !d.Allowed {
		t.Fatalf("ben's first survey: %+v; want allowed", d)
	}
	if d := first.decide("email", "survey", email(neighbour), true); d.Allowed || d.Reason != gateway.ReasonFrequencyCap {
		t.Fatalf("ben's second survey: %+v; want dropped by the cap", d)
	}
	first.stopped()

	clock.Advance(time.Hour)
	second := startHush(t, clock, hushOptions{data: data})

	resp, body := second.signedWebhook(deliveryID, delivery)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"duplicates":1`) || !strings.Contains(string(body), `"accepted":0`) {
		t.Errorf("redelivery after restart: %d %s; want it counted as a duplicate", resp.StatusCode, body)
	}
	d := second.check("email", "marketing", email(ana))
	if d.Allowed || d.Reason != gateway.ReasonSilenced || d.Rule != "low-csat" || d.Until == nil || !d.Until.Equal(t0.Add(15*day)) {
		t.Errorf("ana after restart: %+v; want still silenced by low-csat until %s", d, t0.Add(15*day))
	}
	if d := second.check("email", "survey", email(neighbour)); d.Allowed || d.Reason != gateway.ReasonFrequencyCap {
		t.Errorf("ben's survey after restart: %+v; want the cap still full", d)
	}
	var events int
	for _, it := range second.customer(anaID).Timeline.Items {
		if it.Kind == "event" {
			events++
		}
	}
	if events != 1 {
		t.Errorf("ana's timeline holds %d events after restart and redelivery, want 1", events)
	}

	// The cap is a rolling window, measured on the same clock.
	clock.Set(t0.Add(30*day + time.Minute))
	if d := second.check("email", "survey", email(neighbour)); !d.Allowed {
		t.Errorf("ben's survey 30 days later: %+v; want the slot free again", d)
	}
}

// TestBackupOfStoppedServer: `hush backup FILE` with the server stopped writes a bbolt file
// holding what the server stored.
func TestBackupOfStoppedServer(t *testing.T) {
	data := t.TempDir()
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{data: data})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})
	h.stopped()

	dest := filepath.Join(t.TempDir(), "hush-backup.db")
	stdout, stderr, err := runCommand(t, map[string]string{"HUSH_ADMIN_TOKEN": adminToken}, "backup", "--data", data, dest)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, dest) {
		t.Errorf("backup printed %q; want the file it wrote", stdout)
	}

	copyStore, err := bolt.Open(dest, bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open the backup with bolt: %v", err)
	}
	defer copyStore.Close()
	err = copyStore.View(context.Background(), func(tx gateway.Tx) error {
		c, err := tx.CustomerByIdentity(anaID)
		if err != nil {
			return err
		}
		silences, _, err := tx.Silences(gateway.SilenceQuery{CustomerID: c.ID})
		if err != nil {
			return err
		}
		if len(silences) != 1 || silences[0].Rule != "low-csat" {
			t.Errorf("silences in the backup: %+v; want the low-csat one", silences)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ana in the backup: %v", err)
	}
}

// TestBackupWhileServing: with the server running (bbolt allows one process), `hush backup
// --url` asks it for a consistent copy with the admin token.
func TestBackupWhileServing(t *testing.T) {
	clock := newTestClock(t0)
	h := startHush(t, clock, hushOptions{})
	h.event(map[string]any{"type": "survey.response", "customer": customerOf(ana), "csat": 1})

	dest := filepath.Join(t.TempDir(), "live-backup.db")
	stdout, stderr, err := runCommand(t, map[string]string{"HUSH_ADMIN_TOKEN": adminToken},
		"backup", "--data", h.data, "--url", h.base, dest)
	if err != nil {
		t.Fatalf("backup while serving: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "from the running server") {
		t.Errorf("backup printed %q; want it to say the running server wrote it", stdout)
	}
	// The server keeps serving afterwards.
	if d := h.check("email", "marketing", email(ana)); d.Allowed || d.Reason != gateway.ReasonSilenced {
		t.Errorf("ana after a live backup: %+v; want silenced", d)
	}

	copyStore, err := bolt.Open(dest, bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open the live backup with bolt: %v", err)
	}
	defer copyStore.Close()
	err = copyStore.View(context.Background(), func(tx gateway.Tx) error {
		_, err := tx.CustomerByIdentity(anaID)
		return err
	})
	if err != nil {
		t.Errorf("ana in the live backup: %v", err)
	}

	// Without the admin token the server refuses, and no file is left behind.
	refused := filepath.Join(t.TempDir(), "refused.db")
	if _, _, err := runCommand(t, map[string]string{"HUSH_ADMIN_TOKEN": "not-the-admin-token-000"},
		"backup", "--data", t.TempDir(), "--url", h.base, refused); err == nil {
		t.Error("backup with a wrong token succeeded")
	}
	if _, err := os.Stat(refused); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused backup left %s (stat: %v)", refused, err)
	}
}

// TestCheckConfig: problems are printed as file:line:col and make the command fail; the
// annotated example passes with its variables set.
func TestCheckConfig(t *testing.T) {
	t.Run("bad file", func(t *testing.T) {
		file := filepath.Join("testdata", "bad.yaml")
		_, stderr, err := runCommand(t, nil, "check-config", file)
		if err == nil {
			t.Fatalf("check-config accepted %s", file)
		}
		for _, want := range []string{
			file + `:3:1: storag: unknown key "storag"`,
			file + `:7:20: rules[0].silence.for: invalid duration "15 days"`,
			file + `:9:15: caps[0].channel: unknown channel "fax"`,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("check-config output lacks %q; got:\n%s", want, stderr)
			}
		}
		if !strings.Contains(err.Error(), "3 problem") {
			t.Errorf("error %q; want it to count the 3 problems", err)
		}
	})

	t.Run("the annotated example", func(t *testing.T) {
		file := filepath.Join("..", "..", "configs", "hush.yaml")
		vars := map[string]string{
			"HUSH_ADMIN_TOKEN":         adminToken,
			"HUSH_VIEWER_TOKEN":        "e2e-viewer-token-0123456789",
			"HUSH_DECIDE_TOKEN":        "e2e-decide-token-0123456789",
			"HUSH_GENERIC_SECRET":      genericSecret,
			"SLACK_WEBHOOK_URL":        "https://hooks.example.com/services/T0/B0/x",
			"ZENDESK_SIGNING_SECRET":   "e2e-zendesk-secret",
			"TWILIO_AUTH_TOKEN":        "e2e-twilio-token",
			"PAGERDUTY_WEBHOOK_SECRET": "e2e-pagerduty-secret",
			"SENDGRID_API_KEY":         "SG.e2e-sendgrid-key",
		}
		stdout, stderr, err := runCommand(t, vars, "check-config", file)
		if err != nil {
			t.Fatalf("check-config %s: %v\n%s", file, err, stderr)
		}
		if !strings.Contains(stdout, "ok") {
			t.Errorf("check-config printed %q; want ok", stdout)
		}
	})

	t.Run("the README's walk-through config", func(t *testing.T) {
		file := filepath.Join("..", "..", "docs", "quickstart.yaml")
		stdout, stderr, err := runCommand(t, map[string]string{"HUSH_ADMIN_TOKEN": adminToken}, "check-config", file)
		if err != nil {
			t.Fatalf("check-config %s: %v\n%s", file, err, stderr)
		}
		if want := "1 rules, 0 caps, 1 upstreams"; !strings.Contains(stdout, want) {
			t.Errorf("check-config printed %q; want %q", stdout, want)
		}
	})

	t.Run("a good file", func(t *testing.T) {
		file := filepath.Join("testdata", "proxy.yaml")
		vars := map[string]string{"HUSH_ADMIN_TOKEN": adminToken, "HUSH_GENERIC_SECRET": genericSecret, "MAILER_URL": "http://127.0.0.1:9"}
		stdout, stderr, err := runCommand(t, vars, "check-config", file)
		if err != nil {
			t.Fatalf("check-config %s: %v\n%s", file, err, stderr)
		}
		if want := file + ": ok (1 sources, 1 rules, 0 caps, 2 upstreams)"; !strings.Contains(stdout, want) {
			t.Errorf("check-config printed %q; want %q", stdout, want)
		}
	})

	t.Run("unknown connector kind", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "hush.yaml")
		yaml := "sources:\n  - {name: crm, kind: zendeskk, secret: s3cret}\n"
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := runCommand(t, nil, "check-config", file)
		if err == nil {
			t.Fatal("check-config accepted a source of an unknown kind")
		}
		said := stderr + err.Error()
		if !strings.Contains(said, `unknown kind "zendeskk"`) {
			t.Errorf("check-config said %q; want an unknown-kind error", said)
		}
		if n := strings.Count(said, `source "crm"`); n != 1 {
			t.Errorf("check-config said %q, naming the source %d times; want once", said, n)
		}
		if strings.Contains(said, "s3cret") {
			t.Errorf("check-config said %q, showing the secret", said)
		}
	})

	t.Run("missing variable", func(t *testing.T) {
		file := filepath.Join("testdata", "proxy.yaml")
		_, stderr, err := runCommand(t, map[string]string{"HUSH_ADMIN_TOKEN": adminToken, "HUSH_GENERIC_SECRET": genericSecret}, "check-config", file)
		if err == nil || !strings.Contains(stderr, "MAILER_URL") {
			t.Errorf("check-config with MAILER_URL unset: err %v, output %q; want an error naming the variable", err, stderr)
		}
	})
}

// TestStartupRefusesBadConfig: a rule that does not compile stops serve before it
// listens, with an error that names the rule and where it is.
func TestStartupRefusesBadConfig(t *testing.T) {
	file := filepath.Join("testdata", "badrule.yaml")
	data := t.TempDir()
	_, _, err := runCommand(t, map[string]string{"HUSH_ADMIN_TOKEN": adminToken},
		"serve", "--config", file, "--listen", "127.0.0.1:0", "--data", data)
	if err == nil {
		t.Fatal("serve started with a rule that does not compile")
	}
	for _, want := range []string{`broken-rule`, file + ":11:", "rules[1].when"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start-up error %q; want it to name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "fine-rule") {
		t.Errorf("start-up error %q blames the rule that compiles", err)
	}
	if _, statErr := os.Stat(filepath.Join(data, "hush.db")); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("a refused start-up created the store (stat: %v)", statErr)
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	stdout, _, err := runCommand(t, nil, "version")
	if err != nil || !strings.HasPrefix(stdout, "hush ") || len(strings.TrimSpace(stdout)) <= len("hush") {
		t.Errorf("version: %q, %v; want \"hush <version>\"", stdout, err)
	}

	tests := [][]string{{"serv"}, {"--config"}, {}}
	for _, args := range tests {
		_, stderr, err := runCommand(t, nil, args...)
		var usage *usageErr
		if err == nil || !errors.As(err, &usage) || exitCode(err) != 2 {
			t.Errorf("hush %v: %v; want a usage error (exit status 2)", args, err)
		}
		if !strings.Contains(stderr, "Usage:") {
			t.Errorf("hush %v printed %q; want the usage", args, stderr)
		}
	}
}
