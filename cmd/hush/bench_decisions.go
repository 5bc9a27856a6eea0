package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// The decision API load: batches of decisionBatch e-mail recipients from a pool of
// decisionPool, every tenth of them silenced, so each batch holds exactly a tenth silenced.
const (
	decisionBatch = 100
	decisionPool  = 1000
)

func decisionRecipient(i int) string { return fmt.Sprintf("customer%04d@decide.bench.example", i) }

// decisionBodies are the request bodies, one per offset into the pool.
func decisionBodies(record bool) [][]byte {
	var out [][]byte
	for off := 0; off < decisionPool; off += decisionBatch {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"channel":"email","category":"marketing","record":%t,"recipients":[`, record)
		for k := range decisionBatch {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"email":%q}`, decisionRecipient((off+k)%decisionPool))
		}
		b.WriteString("]}")
		out = append(out, b.Bytes())
	}
	return out
}

// decisionsResult is scenario 3.
type decisionsResult struct {
	Clients   int `json:"clients"`
	BatchSize int `json:"batch_size"`
	// Recorded is the API's default: every decision written to the audit log (fsync'd).
	Recorded             loadResult `json:"recorded"`
	RecordedRecipientsPS float64    `json:"recorded_recipients_per_second"`
	// Dry is "record": false: answered from the snapshot, nothing written.
	Dry             loadResult `json:"dry"`
	DryRecipientsPS float64    `json:"dry_recipients_per_second"`
}

func runDecisionsScenario(ctx context.Context, o benchOptions, progress io.Writer) (*decisionsResult, error) {
	dir, err := os.MkdirTemp(o.TempDir, "hush-bench-decisions-")
	if err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	defer os.RemoveAll(dir)
	tokens := newBenchTokens()
	cfg, err := benchConfig(filepath.Join(dir, "data"), tokens, nil, nil)
	if err != nil {
		return nil, err
	}
	h, err := startBenchHush(ctx, cfg, tokens, o.Storage)
	if err != nil {
		return nil, err
	}
	defer h.stop()
	client := &http.Client{Transport: benchTransport(o.Clients), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	if err := silenceEveryTenth(ctx, client, h); err != nil {
		return nil, err
	}

	decide := func(bodies [][]byte) requestFunc {
		return func(ctx context.Context, _ int, seq int64) error {
			body := bodies[seq%int64(len(bodies))]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/api/v1/decisions", bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+h.tokens.decide)
			req.Header.Set("Content-Type", "application/json")
			_, answer, err := doRequest(client, req, http.StatusOK)
			if err != nil {
				return err
			}
			if n := bytes.Count(answer, []byte(`"reason":"`+gateway.ReasonSilenced+`"`)); n != decisionBatch/10 {
				return fmt.Errorf("a batch of %d had %d silenced decisions, want %d", decisionBatch, n, decisionBatch/10)
			}
			return nil
		}
	}
	recorded, dry := decide(decisionBodies(true)), decide(decisionBodies(false))
	runClosed(ctx, warmUp(o.Duration), o.Clients, dry)

	fmt.Fprintf(progress, "decisions: closed loop, %d clients, batches of %d, %s recorded and %s dry\n", o.Clients, decisionBatch, o.Duration, o.Duration)
	r := &decisionsResult{Clients: o.Clients, BatchSize: decisionBatch}
	r.Recorded = runClosed(ctx, o.Duration, o.Clients, recorded)
	r.RecordedRecipientsPS = r.Recorded.PerSecond * decisionBatch
	r.Dry = runClosed(ctx, o.Duration, o.Clients, dry)
	r.DryRecipientsPS = r.Dry.PerSecond * decisionBatch
	return r, nil
}

// silenceEveryTenth silences every tenth recipient of the pool through the admin API, from a
// few concurrent callers so that the commits share fsyncs.
func silenceEveryTenth(ctx context.Context, client *http.Client, h *benchHush) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := createSilence(ctx, client, h, "email:"+decisionRecipient(i)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := 0; i < decisionPool; i += 10 {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
