package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
)

func TestPauseSecret(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := &configs.Config{Data: dir, PublicURL: "https://hush.example.com"}

	first, err := pauseLinks(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Secret) != 64 || first.PublicURL != cfg.PublicURL {
		t.Fatalf("generated settings %+v", first)
	}
	info, err := os.Stat(filepath.Join(dir, "pause-secret"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	if !strings.Contains(logs.String(), "pause-secret") || strings.Contains(logs.String(), string(first.Secret)) {
		t.Errorf("logs should name the file, never the secret: %s", logs.String())
	}
	// A restart reads the same secret: links minted before keep working.
	again, err := pauseLinks(cfg, log)
	if err != nil || !bytes.Equal(again.Secret, first.Secret) {
		t.Fatalf("second start: %v, secret changed: %v", err, !bytes.Equal(again.Secret, first.Secret))
	}
	// A configured secret wins and no file is needed.
	set := &configs.Config{Data: t.TempDir(), Pause: configs.Pause{Secret: "configured-secret-0123456789", Days: 7, TTL: gateway.Duration(0)}}
	got, err := pauseLinks(set, log)
	if err != nil || string(got.Secret) != "configured-secret-0123456789" || got.Days != 7 {
		t.Fatalf("configured: %+v %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(set.Data, "pause-secret")); !os.IsNotExist(err) {
		t.Errorf("a configured secret still wrote a file: %v", err)
	}
	// A truncated file is refused rather than used as a weak key.
	if err := os.WriteFile(filepath.Join(dir, "pause-secret"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pauseLinks(cfg, log); err == nil {
		t.Error("a 5-character secret file was accepted")
	}
}
