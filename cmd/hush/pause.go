package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway/server"
)

// pauseLinks is the server's pause-link settings from the config. Without pause.secret, a
// secret is generated once into <data>/pause-secret (mode 0600) and kept there, so links
// survive restarts; its path — never its value — is logged.
func pauseLinks(cfg *configs.Config, log *slog.Logger) (server.PauseLinks, error) {
	out := server.PauseLinks{TTL: cfg.Pause.TTL.D(), Days: cfg.Pause.Days, PublicURL: cfg.PublicURL}
	if cfg.Pause.Secret != "" {
		out.Secret = []byte(cfg.Pause.Secret)
		return out, nil
	}
	path := filepath.Join(cfg.Data, "pause-secret")
	secret, err := readOrCreatePauseSecret(path)
	if err != nil {
		return out, err
	}
	log.Info("pause link secret file (share it as pause.secret between replicas)", "path", path)
	out.Secret = []byte(secret)
	return out, nil
}

func readOrCreatePauseSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 16 {
			return s, nil
		}
		return "", fmt.Errorf("pause secret file %s holds fewer than 16 characters: delete it to generate a new one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read pause secret: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate pause secret: %w", err)
	}
	s := hex.EncodeToString(raw[:])
	// O_EXCL: two processes starting on one data directory never overwrite each other's secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return readOrCreatePauseSecret(path)
	}
	if err != nil {
		return "", fmt.Errorf("write pause secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write pause secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write pause secret: %w", err)
	}
	return s, nil
}
