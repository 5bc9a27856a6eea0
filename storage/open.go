// Package storage opens hush's store from the `storage:` setting: the scheme picks the back
// end.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
	"github.com/hush-gateway/hush/storage/postgres"
)

// Open opens the store named by dsn:
//
//	bolt:PATH                 an embedded bbolt file; a relative PATH is inside dataDir,
//	                          which is created (mode 0700) when missing
//	postgres://… postgresql://…  the shared back end for several replicas (storage/postgres);
//	                          the DSN is pgx's (search_path, pool_max_conns, sslmode…)
func Open(ctx context.Context, dsn string, dataDir string) (gateway.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scheme, rest, _ := strings.Cut(dsn, ":")
	switch strings.ToLower(scheme) {
	case "bolt":
		return openBolt(rest, dataDir)
	case "postgres", "postgresql":
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			// The DSN may carry a password: the error names the host part only, and
			// whatever the driver said is stripped of the password too.
			return nil, fmt.Errorf("open storage %s: %s", redact(dsn), stripSecret(err.Error(), dsn))
		}
		return s, nil
	default:
		return nil, fmt.Errorf("storage setting %q has an unknown scheme: use bolt:PATH or postgres://user@host/db", redact(dsn))
	}
}

func openBolt(path, dataDir string) (gateway.Store, error) {
	if path == "" {
		return nil, errors.New("storage setting bolt: has no file path (write bolt:hush.db)")
	}
	if !filepath.IsAbs(path) {
		if dataDir == "" {
			dataDir = "."
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path = filepath.Join(dataDir, path)
	}
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// redact hides anything that looks like credentials (user:pass@) in a setting shown back to
// the operator.
func redact(dsn string) string {
	if at := strings.LastIndexByte(dsn, '@'); at >= 0 {
		return "…" + dsn[at:]
	}
	return dsn
}

// stripSecret removes the DSN's password, and the whole DSN, from a driver's message.
func stripSecret(msg, dsn string) string {
	msg = strings.ReplaceAll(msg, dsn, redact(dsn))
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "…")
		}
	}
	return msg
}
