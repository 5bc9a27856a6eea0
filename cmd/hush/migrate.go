package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hush-gateway/hush/storage"
)

// migrateStorage moves an installation from one back end to another (bbolt to PostgreSQL, for
// a team that grows to several replicas): every record is copied into the empty target, then
// both stores are counted and the counts compared. hush must be stopped: a bbolt file being
// served cannot be opened, so a running hush is refused rather than copied half-way.
func migrateStorage(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("hush migrate-storage", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	from := fs.String("from", "", "the store to read: bolt:PATH or postgres://… (a relative bolt path is inside --data)")
	to := fs.String("to", "", "the empty store to write: postgres://… or bolt:PATH")
	data := fs.String("data", e.getenv("HUSH_DATA"), "data directory for relative bolt paths (default: the current directory)")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	switch {
	case fs.NArg() != 0:
		return usageError("migrate-storage takes only --from and --to")
	case *from == "" || *to == "":
		return usageError("migrate-storage needs --from and --to, such as --from bolt:hush.db --to postgres://hush@db/hush")
	case strings.EqualFold(strings.TrimSpace(*from), strings.TrimSpace(*to)):
		return usageError("--from and --to name the same store")
	}
	src, err := storage.Open(ctx, *from, *data)
	if err != nil {
		return fmt.Errorf("open the source store (is hush still running on it? stop it first): %w", err)
	}
	defer src.Close()
	dst, err := storage.Open(ctx, *to, *data)
	if err != nil {
		return fmt.Errorf("open the target store: %w", err)
	}
	defer dst.Close()

	start := time.Now()
	last := map[string]time.Time{}
	moved, err := storage.Copy(ctx, src, dst, func(kind string, done int) {
		// One line per kind every few seconds: enough to see it moves.
		if now := time.Now(); now.Sub(last[kind]) >= 5*time.Second {
			last[kind] = now
			fmt.Fprintf(e.stderr, "copying %s: %d so far\n", kind, done)
		}
	})
	if errors.Is(err, storage.ErrTargetNotEmpty) {
		return fmt.Errorf("migrate-storage: %w; point --to at an empty database (or a new bolt file)", err)
	}
	if err != nil {
		return fmt.Errorf("migrate-storage: %w (the target holds a partial copy: empty it before trying again)", err)
	}
	srcCount, err := storage.Count(ctx, src)
	if err != nil {
		return fmt.Errorf("migrate-storage: counting the source: %w", err)
	}
	dstCount, err := storage.Count(ctx, dst)
	if err != nil {
		return fmt.Errorf("migrate-storage: counting the target: %w", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "records\tsource\tcopied\ttarget\t")
	mismatch := false
	for _, k := range storage.Kinds() {
		flag := ""
		if srcCount[k] != dstCount[k] || moved[k] != srcCount[k] {
			flag, mismatch = "  ← differs", true
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", k, srcCount[k], moved[k], dstCount[k], flag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if mismatch {
		return errors.New("migrate-storage: the target's counts differ from the source's; do not switch hush over to it")
	}
	fmt.Fprintf(e.stdout, "moved %d records in %s; point `storage:` at the target and start hush\n",
		moved.Total(), time.Since(start).Round(time.Millisecond))
	return nil
}
