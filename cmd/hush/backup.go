package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hush-gateway/hush/storage"
	"github.com/hush-gateway/hush/storage/bolt"
)

// backup writes a consistent copy of the store to FILE. When hush is not running it opens the
// store itself; while hush serves (bbolt allows one process), it asks the running server
// through GET /api/v1/backup with the admin token, which copies inside a read transaction.
func backup(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("hush backup", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f serveFlags
	fs.StringVar(&f.config, "config", e.getenv("HUSH_CONFIG"), "config file")
	fs.StringVar(&f.data, "data", e.getenv("HUSH_DATA"), "data directory")
	baseURL := fs.String("url", e.getenv("HUSH_URL"), "base URL of a running hush (default: from the config's listen address)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() != 1 {
		return usageError("backup takes one FILE")
	}
	dest := fs.Arg(0)
	cfg, err := loadConfig(f, e)
	if err != nil {
		return err
	}

	if *baseURL == "" {
		store, err := storage.Open(ctx, cfg.Storage, cfg.Data)
		if err == nil {
			defer store.Close()
			n, err := writeAtomically(dest, func(w io.Writer) (int64, error) { return store.Backup(ctx, w) })
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", dest, n)
			return nil
		}
		if !isLocked(err) {
			return fmt.Errorf("open storage: %w", err)
		}
		*baseURL = "http://" + dialAddr(cfg.Listen)
	}

	token := e.getenv("HUSH_ADMIN_TOKEN")
	if token == "" {
		if b, err := os.ReadFile(filepath.Join(cfg.Data, "admin-token")); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	n, err := writeAtomically(dest, func(w io.Writer) (int64, error) {
		return fetchBackup(ctx, strings.TrimRight(*baseURL, "/"), token, w)
	})
	if err != nil {
		return fmt.Errorf("backup through %s: %w", *baseURL, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes) from the running server\n", dest, n)
	return nil
}

func isLocked(err error) bool {
	return errors.Is(err, bolt.ErrLocked)
}

// dialAddr turns a listen address (":8080") into one to dial.
func dialAddr(listen string) string {
	if strings.HasPrefix(listen, ":") {
		return "127.0.0.1" + listen
	}
	return listen
}

func fetchBackup(ctx context.Context, base, token string, w io.Writer) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return io.Copy(w, resp.Body)
}

// writeAtomically writes to a temporary file beside dest, syncs it and renames it into place,
// so a failed backup never leaves a truncated file under the final name.
func writeAtomically(dest string, write func(io.Writer) (int64, error)) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), dest)
}
