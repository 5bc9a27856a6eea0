// Package pgtest gives tests a PostgreSQL database: the one HUSH_TEST_POSTGRES_DSN names
// (`export HUSH_TEST_POSTGRES_DSN=$(bash scripts/postgres-test start)`; .ci/run sets it),
// and a fresh schema in it per test. Without the variable the tests skip, except in CI
// (CI set), where a missing database is a failure: the PostgreSQL back end must not go
// untested there.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the test database.
const EnvVar = "HUSH_TEST_POSTGRES_DSN"

// DSN is the test database's connection string, or a skip (a failure in CI).
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set in CI: the PostgreSQL tests must run (.ci/run starts a database)", EnvVar)
		}
		tb.Skipf("%s is not set: `export %s=$(bash scripts/postgres-test start)` to run the PostgreSQL tests", EnvVar, EnvVar)
	}
	return dsn
}

// Schema creates an empty schema with a random name prefixed by prefix, drops it when the
// test ends (after the cleanups registered later, such as closing stores opened on it), and
// returns its name and a DSN whose search_path is that schema.
func Schema(tb testing.TB, prefix string) (name, dsn string) {
	tb.Helper()
	base := DSN(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = prefix + hex.EncodeToString(b[:])
	exec(tb, base, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop test schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("read %s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return name, u.String()
}

func exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
