package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/connectors/zendesk"
	"github.com/hush-gateway/hush/gateway"
)

// zendeskFixture is the webhook body the intake scenario sends: Zendesk's documented
// ticket.created event envelope, from the zendesk connector's test data.
const zendeskFixture = "connectors/zendesk/testdata/event_ticket_created.json"

// The fixture's values that are made unique per request, so that dedupe never short-circuits
// intake and the events spread over many customers and tickets.
var zendeskUnique = []struct{ old, verb string }{
	{`"id": "cbe4028c-7239-495d-b020-f22348516046"`, `"id": "bench-%[1]d"`},
	{`"id": "5512"`, `"id": "%[1]d"`},
	{`"subject": "zen:ticket:5512"`, `"subject": "zen:ticket:%[1]d"`},
	{`"requester_id": "8841"`, `"requester_id": "%[2]d"`},
	{`"submitter_id": "8841"`, `"submitter_id": "%[2]d"`},
}

// intakeRequesters is how many customers the events are spread over.
const intakeRequesters = 10000

// zendeskTemplate turns the fixture into a format string of (delivery number, requester).
func zendeskTemplate(fixture []byte) (string, error) {
	tpl := bytes.ReplaceAll(fixture, []byte("%"), []byte("%%"))
	for _, u := range zendeskUnique {
		if n := bytes.Count(tpl, []byte(u.old)); n != 1 {
			return "", fmt.Errorf("zendesk fixture %s: %s appears %d times, want once (has the fixture changed?)", zendeskFixture, u.old, n)
		}
		tpl = bytes.Replace(tpl, []byte(u.old), []byte(u.verb), 1)
	}
	return string(tpl), nil
}

// findRepoFile finds a file of the hush repository from the working directory or one of
// its parents, so that the bench runs from the repository root or from cmd/hush.
func findRepoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found from the working directory up: run the bench from the hush repository or pass -zendesk-fixture", rel)
		}
		dir = parent
	}
}

// intakeResult is scenario 2.
type intakeResult struct {
	Clients   int        `json:"clients"`
	BodyBytes int        `json:"body_bytes"`
	Hush      loadResult `json:"hush"`
	Minimal   loadResult `json:"minimal_bbolt"`
	Ratio     float64    `json:"ratio"`
	// Stored counts what hush's store holds afterwards, to prove the 200s were commits.
	StoredEvents int `json:"stored_events"`
}

func runIntakeScenario(ctx context.Context, o benchOptions, progress io.Writer) (*intakeResult, error) {
	fixturePath := o.ZendeskFixture
	if fixturePath == "" {
		var err error
		if fixturePath, err = findRepoFile(zendeskFixture); err != nil {
			return nil, err
		}
	}
	fixture, err := os.ReadFile(fixturePath)
	if err != nil {
		return nil, fmt.Errorf("read the zendesk fixture: %w", err)
	}
	tpl, err := zendeskTemplate(fixture)
	if err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp(o.TempDir, "hush-bench-intake-")
	if err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	defer os.RemoveAll(dir)

	secret := randomHex(24)
	tokens := newBenchTokens()
	cfg, err := benchConfig(filepath.Join(dir, "hush"), tokens, []configs.Source{{Name: "zendesk", Kind: zendesk.Kind, Secret: secret}}, nil)
	if err != nil {
		return nil, err
	}
	h, err := startBenchHush(ctx, cfg, tokens, o.Storage)
	if err != nil {
		return nil, err
	}
	defer h.stop()

	minimal, err := newMinimalIntake(filepath.Join(dir, "minimal.db"))
	if err != nil {
		return nil, err
	}
	defer minimal.db.Close()
	minBase, stopMin, err := serveHandler(minimal)
	if err != nil {
		return nil, err
	}
	defer stopMin()

	client := &http.Client{Transport: benchTransport(o.IntakeClients), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	// Deliveries are numbered across both targets and phases: no id is ever sent twice.
	var delivery atomic.Int64
	var bodyBytes atomic.Int64
	post := func(url string) requestFunc {
		return func(ctx context.Context, _ int, _ int64) error {
			n := delivery.Add(1)
			body := fmt.Appendf(nil, tpl, n, 1_000_000+n%intakeRequesters)
			bodyBytes.Store(int64(len(body)))
			ts := time.Now().UTC().Format(time.RFC3339)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(zendesk.HeaderTimestamp, ts)
			req.Header.Set(zendesk.HeaderSignature, zendesk.Sign([]byte(secret), ts, body))
			_, answer, err := doRequest(client, req, http.StatusOK)
			if err != nil {
				return err
			}
			if url != minBase && !bytes.Contains(answer, []byte(`"accepted":1`)) {
				return fmt.Errorf("hush answered %.200s, want one accepted event", answer)
			}
			return nil
		}
	}
	hushPost, minPost := post(h.base+"/webhooks/zendesk"), post(minBase)
	for _, f := range []requestFunc{hushPost, minPost} {
		runClosed(ctx, warmUp(o.Duration), o.IntakeClients, f)
	}

	fmt.Fprintf(progress, "intake: closed loop, %d senders, %s per path in %d rounds\n", o.IntakeClients, o.Duration, o.Rounds)
	r := &intakeResult{Clients: o.IntakeClients}
	res := interleave(ctx, o.Duration, o.Rounds, closedLoop(o.IntakeClients, hushPost), closedLoop(o.IntakeClients, minPost))
	r.Hush, r.Minimal = res[0], res[1]
	r.Ratio = ratio(r.Hush.PerSecond, r.Minimal.PerSecond)
	if o.CPUProfile != "" {
		fmt.Fprintf(progress, "intake: CPU profile of hush, closed loop, %s\n", o.Duration)
		if err := profiled(o.CPUProfile, "intake", func() { runClosed(ctx, o.Duration, o.IntakeClients, hushPost) }); err != nil {
			return nil, err
		}
	}
	r.BodyBytes = int(bodyBytes.Load())
	if r.StoredEvents, err = countStoredEvents(ctx, h); err != nil {
		return nil, err
	}
	return r, nil
}

// countStoredEvents counts the events in hush's store (every customer's timeline).
func countStoredEvents(ctx context.Context, h *benchHush) (int, error) {
	n := 0
	err := h.app.store.View(ctx, func(tx gateway.Tx) error {
		return tx.ForEachCustomer(func(c *gateway.Customer) error {
			q := gateway.EventQuery{CustomerID: c.ID, Page: gateway.Page{Limit: 1000}}
			for {
				events, next, err := tx.Events(q)
				if err != nil {
					return fmt.Errorf("list events: %w", err)
				}
				n += len(events)
				if next == "" {
					return nil
				}
				q.Cursor = next
			}
		})
	})
	return n, err
}

// minimalIntake is the floor for durable intake: read the body, write it with bbolt's group
// commit (fsync on, hush's batch settings), answer 200. No signature, parsing or rules.
type minimalIntake struct {
	db  *bbolt.DB
	seq atomic.Uint64
}

var minimalBucket = []byte("bodies")

func newMinimalIntake(path string) (*minimalIntake, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open the baseline bolt file: %w", err)
	}
	db.MaxBatchSize = 64
	db.MaxBatchDelay = time.Millisecond
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(minimalBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("create the baseline bucket: %w", err)
	}
	return &minimalIntake{db: db}, nil
}

func (m *minimalIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	key := strconv.AppendUint(nil, m.seq.Add(1), 10)
	err = m.db.Batch(func(tx *bbolt.Tx) error {
		b := tx.Bucket(minimalBucket)
		if b == nil {
			return errors.New("no bucket")
		}
		return b.Put(key, body)
	})
	if err != nil {
		http.Error(w, "store", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"accepted":1,"duplicates":0,"ignored":0}`))
}
