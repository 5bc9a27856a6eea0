// Package bolt is hush's embedded store: one bbolt file, group-committed writes, JSON records
// with ordered index buckets for listings.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options tune the store. Zero values take the defaults.
type Options struct {
	// MaxBatchSize is how many concurrent Updates share one commit (default 64): about the
	// number of requests in flight.
	MaxBatchSize int
	// MaxBatchDelay is how long a batch waits for company before committing (default 1 ms;
	// bbolt's own default of 10 ms would add that much to every webhook answer).
	MaxBatchDelay time.Duration
	// Timeout is how long Open waits for the file lock held by another process (default 2 s).
	Timeout time.Duration
	// NoSync skips fsync on commit. Only for tests and benchmarks: a crash can lose or
	// corrupt data.
	NoSync bool
}

const (
	defaultMaxBatchSize  = 64
	defaultMaxBatchDelay = time.Millisecond
	defaultLockTimeout   = 2 * time.Second
)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("database is locked by another process")

// Store is a gateway.Store on one bbolt file.
type Store struct {
	db     *bbolt.DB
	closed atomic.Bool
}

var _ gateway.Store = (*Store)(nil)

// Open opens or creates the store at path, migrating an older file to the current schema.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, migrations())
}

func open(path string, opts Options, migs []migration) (*Store, error) {
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = defaultMaxBatchSize
	}
	if opts.MaxBatchDelay <= 0 {
		opts.MaxBatchDelay = defaultMaxBatchDelay
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultLockTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (gave up after %s)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.MaxBatchSize = opts.MaxBatchSize
	db.MaxBatchDelay = opts.MaxBatchDelay
	if err := migrate(db, migs); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Update runs fn in a write transaction through bbolt's group commit: concurrent Updates
// share one fsync. fn may run more than once (see gateway.Store).
func (s *Store) Update(ctx context.Context, fn func(gateway.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return gateway.ErrStoreClosed
	}
	return closedErr(s.db.Batch(func(btx *bbolt.Tx) error { return fn(&tx{btx: btx}) }))
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(gateway.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return gateway.ErrStoreClosed
	}
	return closedErr(s.db.View(func(btx *bbolt.Tx) error { return fn(&tx{btx: btx}) }))
}

// Backup writes a consistent copy of the file from one read transaction; writers carry on.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.View(ctx, func(t gateway.Tx) error {
		var err error
		n, err = t.(*tx).btx.WriteTo(ctxWriter{ctx: ctx, w: w})
		if err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
		return nil
	})
	return n, err
}

// Ping checks that the file is open and readable.
func (s *Store) Ping(ctx context.Context) error {
	return s.View(ctx, func(t gateway.Tx) error {
		if t.(*tx).btx.Bucket(bucketMeta) == nil {
			return errors.New("store has no meta bucket")
		}
		return nil
	})
}

// Close closes the file; later calls answer gateway.ErrStoreClosed. It waits for running
// transactions to finish.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// closedErr reports bbolt's "database not open" (a Close that won a race) as ErrStoreClosed.
func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return gateway.ErrStoreClosed
	}
	return err
}

// ctxWriter stops a long backup when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
