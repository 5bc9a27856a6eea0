package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Following other processes. When the store is shared by several hush replicas (it
// implements gateway.ChangeFeed), each replica's snapshot must also take in what the others
// commit: Follow reads the feed, woken by the store's notifications or after FeedInterval,
// and refreshes the customers and incidents it names, by the same path as the engine's own
// commits. With FeedInterval 250 ms, a silence created through one replica is enforced by
// every other within about a quarter of a second plus one refresh.

const defaultFeedInterval = 250 * time.Millisecond

// startFeed records where the feed stands before the first snapshot is loaded, so that
// nothing committed between that read and the load is missed (re-reading a customer the load
// already had is harmless).
func (e *Engine) startFeed(ctx context.Context) error {
	feed, ok := e.store.(gateway.ChangeFeed)
	if !ok {
		return nil
	}
	ch, err := feed.Changes(ctx, 0)
	if err != nil {
		return fmt.Errorf("reading the store's change feed: %w", err)
	}
	e.feedVersion.Store(ch.Version)
	e.feedOK.Store(e.now().UnixNano())
	return nil
}

// Follow keeps the snapshot in step with other processes' commits until ctx ends. It returns
// nil at once when the store is not shared. Read failures are logged and retried: the
// snapshot keeps answering, perhaps behind, and FeedStatus says so.
func (e *Engine) Follow(ctx context.Context) error {
	feed, ok := e.store.(gateway.ChangeFeed)
	if !ok {
		return nil
	}
	for {
		if err := feed.WaitChange(ctx, e.feedInterval); err != nil && ctx.Err() == nil {
			// A broken wake-up only costs latency: fall back to the interval.
			if !sleep(ctx, e.feedInterval) {
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		e.followOnce(ctx, feed)
	}
}

// followOnce reads the feed once and applies what it names.
func (e *Engine) followOnce(ctx context.Context, feed gateway.ChangeFeed) {
	ch, err := feed.Changes(ctx, e.feedVersion.Load())
	if err != nil {
		if ctx.Err() == nil && !e.feedFailing.Swap(true) {
			e.log.Error("reading the store's change feed failed; decisions use the snapshot as it is until it answers again", "err", err)
		}
		return
	}
	if e.feedFailing.Swap(false) {
		e.log.Info("the store's change feed answers again")
	}
	e.feedOK.Store(e.now().UnixNano())
	e.feedVersion.Store(ch.Version)
	switch {
	case ch.Reset:
		e.stale.Store(true)
		e.refresh(ctx, newChanges())
	case len(ch.Customers) > 0 || ch.Incidents:
		c := newChanges()
		for _, id := range ch.Customers {
			c.customer(id)
		}
		c.incidents = ch.Incidents
		e.refresh(ctx, c)
	}
}

// FeedStatus reports, for a store shared by several processes, when the change feed last
// answered and whether its last read failed; shared is false for a store only this process
// uses (nothing to follow).
func (e *Engine) FeedStatus() (lastOK time.Time, failing, shared bool) {
	if _, ok := e.store.(gateway.ChangeFeed); !ok {
		return time.Time{}, false, false
	}
	return time.Unix(0, e.feedOK.Load()), e.feedFailing.Load(), true
}

// sleep waits d or until ctx ends, reporting whether it waited the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
