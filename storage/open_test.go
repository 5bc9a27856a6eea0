package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestOpenBolt(t *testing.T) {
	base := t.TempDir()
	abs := filepath.Join(base, "abs.db")
	cases := []struct {
		name, dsn, dataDir string
		wantFile           string
	}{
		{"relative to the data directory", "bolt:hush.db", filepath.Join(base, "data"), filepath.Join(base, "data", "hush.db")},
		{"nested data directory is created", "bolt:hush.db", filepath.Join(base, "a", "b"), filepath.Join(base, "a", "b", "hush.db")},
		{"absolute path ignores the data directory", "bolt:" + abs, filepath.Join(base, "unused"), abs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(context.Background(), c.dsn, c.dataDir)
			if err != nil {
				t.Fatalf("Open(%q): %v", c.dsn, err)
			}
			defer s.Close()
			if err := s.Update(context.Background(), func(tx gateway.Tx) error {
				return tx.PutDelivery("src", "d1", time.Unix(0, 0))
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if _, err := os.Stat(c.wantFile); err != nil {
				t.Errorf("store file: %v", err)
			}
		})
	}
	t.Run("data directory mode", func(t *testing.T) {
		dir := filepath.Join(base, "private")
		s, err := Open(context.Background(), "bolt:hush.db", dir)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("data directory mode %v, want 0700", fi.Mode().Perm())
		}
	})
	if _, err := os.Stat(filepath.Join(base, "unused")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an absolute bolt path created the data directory (%v)", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	cases := []struct {
		name, dsn string
		is        error
		says      string
		hides     string
	}{
		// Nothing listens on port 1: the driver's error must not carry the password.
		{"postgres unreachable", "postgres://hush:s3cret@127.0.0.1:1/hush?connect_timeout=2&sslmode=disable", nil, "open storage …@127.0.0.1:1/hush", "s3cret"},
		{"postgresql malformed", "postgresql://hush:s3cret@db:notaport/hush", nil, "open storage", "s3cret"},
		{"unknown scheme", "mysql://root:s3cret@db/hush", nil, "bolt:PATH", "s3cret"},
		{"no scheme", "hush.db", nil, "bolt:PATH", ""},
		{"empty bolt path", "bolt:", nil, "no file path", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(context.Background(), c.dsn, t.TempDir())
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", c.dsn)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v, want %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
			if c.hides != "" && strings.Contains(err.Error(), c.hides) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, "bolt:hush.db", t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}
}
