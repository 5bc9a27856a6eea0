// Package postgres is hush's shared store: several hush processes (replicas) use one
// PostgreSQL database. Writes are serialized by one advisory lock, as bbolt serializes them
// in one file, so every invariant the engine keeps with bbolt (caps counted and reserved in
// one transaction, webhook dedupe, merges) holds across replicas; a change feed
// (gateway.ChangeFeed) tells each replica what the others committed.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune the store. Zero values take the defaults.
type Options struct {
	// MaxConns is the size of the connection pool (default: the DSN's pool_max_conns, else
	// 10). WaitChange's listening connection is not counted.
	MaxConns int32
	// Schema is the schema hush's tables live in; "" uses the DSN's default (its
	// search_path). A named schema is created when missing and set as search_path on every
	// connection.
	Schema string
	// LockKey is the advisory lock key that serializes writers and migrations; 0 derives
	// hush's key from the schema name, so that deployments in different schemas of one
	// database do not wait for each other.
	LockKey int64
}

const (
	defaultMaxConns       = 10
	defaultConnectTimeout = 10 * time.Second
	healthCheckPeriod     = 30 * time.Second
	maxConnIdleTime       = 5 * time.Minute
	// hushLockKey is mixed with the schema name into the default advisory lock key.
	hushLockKey int64 = 0x68757368 // "hush"
	// updateRetries is how many times Update runs its function again after a
	// serialization failure or a deadlock.
	updateRetries = 3
)

// Store is a gateway.Store and gateway.ChangeFeed on a PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	lockKey int64
	schema  string // the schema in use (current_schema()), for messages and the channel
	channel string // NOTIFY channel of this schema's change feed
	origin  string // this Store value's id in hush_changes.origin
	closed  atomic.Bool

	// lastChangesPrune is when this Store last deleted old change-feed rows (Unix ns).
	lastChangesPrune atomic.Int64

	listener listener
}

var (
	_ gateway.Store      = (*Store)(nil)
	_ gateway.ChangeFeed = (*Store)(nil)
)

// Open connects to the database named by dsn (a postgres:// URL or key=value string),
// creates opts.Schema when it is missing and brings its tables up to this build's schema.
// Several processes may open the same schema at once: migrations run under an advisory
// lock, each exactly once.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message names the DSN with its password masked; say no more than that.
		return nil, fmt.Errorf("parse postgres connection string: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	if !strings.Contains(dsn, "pool_health_check_period") {
		cfg.HealthCheckPeriod = healthCheckPeriod
	}
	if !strings.Contains(dsn, "pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = maxConnIdleTime
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if opts.Schema != "" {
		if strings.IndexByte(opts.Schema, 0) >= 0 {
			return nil, errors.New("postgres schema name contains a NUL byte")
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "hush"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create postgres pool: %w", err)
	}
	s := &Store{pool: pool, origin: newOrigin()}
	if err := s.migrate(ctx, opts); err != nil {
		pool.Close()
		return nil, err
	}
	s.channel = changeChannel(s.schema)
	s.listener.init(s)
	return s, nil
}

func newOrigin() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// deriveLockKey is the default advisory lock key of a schema.
func deriveLockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(schema))
	return hushLockKey ^ int64(h.Sum64()&^(1<<63))
}

// Update runs fn in one transaction under hush's advisory lock: BEGIN, the lock, fn, the
// change-feed row, COMMIT. fn runs again (at most updateRetries times) when PostgreSQL
// reports a serialization failure or a deadlock; it must compute the same writes from the
// same reads (see gateway.Store).
func (s *Store) Update(ctx context.Context, fn func(gateway.Tx) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.updateOnce(ctx, fn)
		if err == nil || attempt >= updateRetries || !retryable(err) || ctx.Err() != nil {
			return s.closedErr(err)
		}
	}
}

func (s *Store) updateOnce(ctx context.Context, fn func(gateway.Tx) error) (err error) {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return s.dbErr(ctx, "begin transaction", err)
	}
	defer func() {
		if err != nil {
			rollback(ptx)
		}
	}()
	if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
		return s.dbErr(ctx, "take hush's write lock", err)
	}
	t := &tx{ctx: ctx, ptx: ptx, write: true}
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// fn finished after its context ended: what it wrote may be partial.
		return err
	}
	if err := s.recordChange(ctx, t); err != nil {
		return err
	}
	if err := s.maybePruneChanges(ctx, ptx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return s.dbErr(ctx, "commit", err)
	}
	return nil
}

// View runs fn in a read-only repeatable-read transaction: one consistent snapshot, no lock.
func (s *Store) View(ctx context.Context, fn func(gateway.Tx) error) (err error) {
	if err := s.usable(ctx); err != nil {
		return err
	}
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.closedErr(s.dbErr(ctx, "begin read transaction", err))
	}
	defer func() {
		if err != nil {
			rollback(ptx)
		}
	}()
	if err := fn(&tx{ctx: ctx, ptx: ptx}); err != nil {
		return s.closedErr(err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return s.closedErr(s.dbErr(ctx, "end read transaction", err))
	}
	return nil
}

// rollback ends a failed transaction. It does not use the caller's context, which may be
// the reason the transaction failed.
func rollback(ptx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ptx.Rollback(ctx)
}

// Backup refuses: a PostgreSQL store is backed up by the database's own tools.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return 0, ErrBackupUnsupported
}

// ErrBackupUnsupported is Backup's answer.
var ErrBackupUnsupported = gateway.ErrBackupUnsupported

// Ping answers whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return s.closedErr(s.dbErr(ctx, "ping postgres", err))
	}
	return nil
}

// Close stops the change-feed listener and closes the pool, waiting for connections in use
// to be released; later calls answer gateway.ErrStoreClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.listener.stop()
	s.pool.Close()
	return nil
}

func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return gateway.ErrStoreClosed
	}
	return nil
}

// closedErr reports a pool closed under a running call as ErrStoreClosed.
func (s *Store) closedErr(err error) error {
	if err != nil && s.closed.Load() && !errors.Is(err, gateway.ErrStoreClosed) && !isGatewayError(err) {
		return fmt.Errorf("%w (%v)", gateway.ErrStoreClosed, err)
	}
	return err
}

func isGatewayError(err error) bool {
	var ge *gateway.Error
	return errors.As(err, &ge) || errors.Is(err, gateway.ErrNotFound)
}

// dbErr wraps a database failure with what was being done; when the context ended, the
// context's error is the one that matters (a cancelled request is not a broken database).
func (s *Store) dbErr(ctx context.Context, doing string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %w (%v)", doing, cerr, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// retryable reports a serialization failure or a deadlock: the transaction may simply run
// again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
