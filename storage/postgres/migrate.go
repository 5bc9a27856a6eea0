package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNewerSchema is returned by Open for a schema migrated by a newer hush.
var ErrNewerSchema = errors.New("database schema is newer than this build of hush")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded files NNNN_name.sql, in version order. Versions start at 1
// and have no gaps: append only, never edit a file that has shipped.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("embedded migration %s is not named NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read embedded migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("embedded migrations skip from %d to %d", i, m.version)
		}
	}
	return out, nil
}

// migrate finds the schema, takes hush's advisory lock for the whole session on one
// connection (so that replicas starting together migrate one after the other), creates the
// schema when asked to and applies the migrations it lacks, each in its own transaction.
func (s *Store) migrate(ctx context.Context, opts Options) error {
	migs, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.dbErr(ctx, "connect to postgres", err)
	}
	// The connection goes back to the pool only if the lock is surely released: a
	// connection that failed half-way is closed instead (which releases the lock too).
	healthy := false
	defer func() {
		if !healthy {
			_ = conn.Conn().Close(context.Background())
		}
		conn.Release()
	}()
	schema := opts.Schema
	if schema == "" {
		if err := conn.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
			return s.dbErr(ctx, "find the current schema", err)
		}
		if schema == "" {
			return errors.New("the postgres connection has no current schema (none of its search_path exists): set a schema")
		}
	}
	s.schema = schema
	s.lockKey = opts.LockKey
	if s.lockKey == 0 {
		s.lockKey = deriveLockKey(schema)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", s.lockKey); err != nil {
		return s.dbErr(ctx, "take hush's migration lock", err)
	}
	if err := s.applyMigrations(ctx, conn, opts.Schema != "", migs); err != nil {
		return fmt.Errorf("migrate postgres schema %q: %w", schema, err)
	}
	// Released on this very session; if that fails, the deferred Close releases it.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", s.lockKey); err != nil {
		return s.dbErr(ctx, "release hush's migration lock", err)
	}
	healthy = true
	return nil
}

func (s *Store) applyMigrations(ctx context.Context, conn *pgxpool.Conn, create bool, migs []migration) error {
	if create {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s.schema).Scan(&exists); err != nil {
			return s.dbErr(ctx, "look for the schema", err)
		}
		if !exists {
			// Only when missing: a role without CREATE on the database can still use a
			// schema made for it.
			if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
				return s.dbErr(ctx, "create the schema", err)
			}
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS hush_schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return s.dbErr(ctx, "create hush_schema_migrations", err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM hush_schema_migrations").Scan(&have); err != nil {
		return s.dbErr(ctx, "read the schema version", err)
	}
	if have > len(migs) {
		return fmt.Errorf("schema version %d, this build understands up to %d; run a newer hush: %w", have, len(migs), ErrNewerSchema)
	}
	for _, m := range migs[have:] {
		if err := applyMigration(ctx, conn, m); err != nil {
			return s.dbErr(ctx, fmt.Sprintf("apply migration %d (%s)", m.version, m.name), err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *pgxpool.Conn, m migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	// The simple protocol runs a file of several statements.
	if _, err := tx.Conn().PgConn().Exec(ctx, m.sql).ReadAll(); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO hush_schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
