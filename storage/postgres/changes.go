package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The change feed (gateway.ChangeFeed). Update writes one hush_changes row per commit that
// touched customers (their record, identities, silences, opt-outs; merges and erasures) or
// incidents, under the advisory lock, so versions become visible in order; then NOTIFYs the
// schema's channel. Readers poll Changes; LISTEN only wakes them early.

const (
	// changeRetention is how long change rows are kept: far longer than any replica's poll.
	changeRetention = time.Hour
	// changesPruneEvery is how often a Store deletes old change rows on its own.
	changesPruneEvery = 5 * time.Minute
	// maxChangesRead bounds one Changes call; a reader that far behind reads on next time.
	maxChangesRead = 10000
)

// changeChannel is the NOTIFY channel of a schema's feed: channels are per database, and
// several schemas (deployments, tests) may share one.
func changeChannel(schema string) string {
	ch := "hush_changes:" + schema
	if len(ch) > 63 { // NAMEDATALEN - 1
		h := fnv.New64a()
		_, _ = h.Write([]byte(schema))
		ch = "hush_changes:" + strconv.FormatUint(h.Sum64(), 16)
	}
	return ch
}

// recordChange writes the commit's change row and its notification, when it touched
// anything other replicas keep in memory.
func (s *Store) recordChange(ctx context.Context, t *tx) error {
	if len(t.touched) == 0 && !t.incidents {
		return nil
	}
	customers := slices.Compact(slices.Sorted(slices.Values(t.touched)))
	if customers == nil {
		customers = []string{}
	}
	_, err := t.ptx.Exec(ctx, `WITH ins AS (
			INSERT INTO hush_changes (origin, customers, incidents, at) VALUES ($1, $2, $3, clock_timestamp())
			RETURNING version
		) SELECT pg_notify($4, version::text) FROM ins`, s.origin, customers, t.incidents, s.channel)
	if err != nil {
		return s.dbErr(ctx, "record the change for other replicas", err)
	}
	return nil
}

// maybePruneChanges deletes old change rows now and then, inside an Update (under the lock).
func (s *Store) maybePruneChanges(ctx context.Context, ptx pgx.Tx) error {
	now := time.Now().UnixNano()
	last := s.lastChangesPrune.Load()
	if now-last < int64(changesPruneEvery) || !s.lastChangesPrune.CompareAndSwap(last, now) {
		return nil
	}
	_, err := pruneChanges(ctx, ptx, changeRetention)
	return err
}

// pruneChanges deletes change rows older than keep and moves the horizon past them, so that
// a reader who had not read them yet is told to reload. It runs under the write lock.
func pruneChanges(ctx context.Context, ptx pgx.Tx, keep time.Duration) (int64, error) {
	var n int64
	err := ptx.QueryRow(ctx, `WITH del AS (
			DELETE FROM hush_changes WHERE at < clock_timestamp() - make_interval(secs => $1) RETURNING version
		), moved AS (
			UPDATE hush_changes_horizon SET pruned_through = GREATEST(pruned_through, (SELECT max(version) FROM del))
			WHERE EXISTS (SELECT 1 FROM del)
		) SELECT count(*) FROM del`, keep.Seconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("prune the change feed: %w", err)
	}
	return n, nil
}

// Changes returns what other Store values committed after version since (see
// gateway.ChangeFeed). Rows this Store wrote are skipped, but Version moves past them.
func (s *Store) Changes(ctx context.Context, since uint64) (gateway.Changes, error) {
	if err := s.usable(ctx); err != nil {
		return gateway.Changes{}, err
	}
	from := int64(min(since, math.MaxInt64))
	out := gateway.Changes{Version: since}
	// Rows first, horizon second: a prune in between can only cause a needless Reset, never
	// a missed change.
	rows, err := s.pool.Query(ctx, "SELECT version, origin, customers, incidents FROM hush_changes WHERE version > $1 ORDER BY version LIMIT $2", from, maxChangesRead)
	if err != nil {
		return gateway.Changes{}, s.closedErr(s.dbErr(ctx, "read the change feed", err))
	}
	for rows.Next() {
		var (
			version   int64
			origin    string
			customers []string
			incidents bool
		)
		if err := rows.Scan(&version, &origin, &customers, &incidents); err != nil {
			rows.Close()
			return gateway.Changes{}, fmt.Errorf("read the change feed: %w", err)
		}
		out.Version = uint64(version)
		if origin == s.origin {
			continue
		}
		out.Customers = append(out.Customers, customers...)
		out.Incidents = out.Incidents || incidents
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return gateway.Changes{}, s.closedErr(s.dbErr(ctx, "read the change feed", err))
	}
	var horizon int64
	if err := s.pool.QueryRow(ctx, "SELECT pruned_through FROM hush_changes_horizon").Scan(&horizon); err != nil {
		return gateway.Changes{}, s.closedErr(s.dbErr(ctx, "read the change feed's horizon", err))
	}
	if from < horizon {
		return gateway.Changes{Version: max(out.Version, uint64(horizon)), Reset: true}, nil
	}
	if len(out.Customers) > 0 {
		slices.Sort(out.Customers)
		out.Customers = slices.Compact(out.Customers)
	}
	return out, nil
}

// WaitChange returns when another replica may have committed (a notification on the
// schema's channel), after at most interval, or when ctx ends. The first call starts a
// listening connection; when LISTEN is refused (a database without it), it only waits.
func (s *Store) WaitChange(ctx context.Context, interval time.Duration) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	wake := s.listener.wakeChan()
	if wake == nil {
		return nil // woken since the last call
	}
	timer := time.NewTimer(interval)
	defer timer.Stop()
	select {
	case <-wake:
		s.listener.consume()
		return nil
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listener keeps one connection LISTENing on the store's channel and wakes WaitChange.
type listener struct {
	s *Store

	mu          sync.Mutex
	started     bool
	unavailable bool          // LISTEN refused: WaitChange just waits its interval
	gen, seen   uint64        // notifications received; gen when WaitChange last woke
	wake        chan struct{} // closed (and replaced) at each notification
	cancel      context.CancelFunc
	done        chan struct{}
}

func (l *listener) init(s *Store) {
	l.s = s
	l.wake = make(chan struct{})
}

// wakeChan starts the listener on first use and returns the channel to wait on, or nil when
// a notification came since the last wake-up (the caller returns at once).
func (l *listener) wakeChan() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		l.started = true
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel, l.done = cancel, make(chan struct{})
		go l.run(ctx)
	}
	if l.gen != l.seen {
		l.seen = l.gen
		return nil
	}
	return l.wake
}

func (l *listener) consume() {
	l.mu.Lock()
	l.seen = l.gen
	l.mu.Unlock()
}

func (l *listener) notify() {
	l.mu.Lock()
	l.gen++
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

func (l *listener) stop() {
	l.mu.Lock()
	started := l.started
	l.started = true // no start after stop
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if started && cancel != nil {
		cancel()
		<-done
	}
	l.notify() // release waiters: their next call answers ErrStoreClosed
}

// run holds the listening connection, reconnecting with backoff. Each (re)connection also
// wakes waiters: commits made while nobody listened are found by their next Changes.
func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := time.Second
	for ctx.Err() == nil {
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "0A000" || pe.Code == "42601") {
			// feature_not_supported / syntax error: this database has no LISTEN.
			l.mu.Lock()
			l.unavailable = true
			l.mu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// listen connects, LISTENs and relays notifications until the connection fails.
func (l *listener) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.s.channel}.Sanitize()); err != nil {
		return err
	}
	l.notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		l.notify()
	}
}
