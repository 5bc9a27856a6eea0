package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/generic"
	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// The crash test proves DESIGN §4's promise to vendors: a webhook answered 200 is durably
// stored, exactly once, with its consequences. It runs the real binary as a child process,
// loads it from concurrent senders and kills it with SIGKILL — no drain, no deferred Close —
// at a random moment, then restarts it on the same data directory and checks the file.
//
//	HUSH_CRASH_ROUNDS=20 go test ./cmd/hush -run Crash -v   # rounds (default 3)
//	HUSH_CRASH_SEED=1234 go test ./cmd/hush -run Crash      # replay a failing seed

const (
	crashSecret  = "crash-generic-secret-0123456789"
	crashToken   = "crash-admin-token-0123456789"
	crashSenders = 6
	// crashSource is the source's name in crashConfig, and so the events' Source.
	crashSource = "generic"
)

// crashConfig: one signed source and one silencing rule; fsync'd bbolt (the default).
const crashConfig = `storage: "bolt:hush.db"
timezone: "UTC"
admin:
  tokens:
    - {name: ops, token: "${HUSH_ADMIN_TOKEN}", role: admin}
sources:
  - {name: generic, kind: generic, secret: "${HUSH_GENERIC_SECRET}"}
rules:
  - name: low-csat
    when: 'event.type == "survey.response" && has(event.csat) && event.csat <= 2'
    silence: {for: 15d}
`

func TestCrashKeepsAcknowledgedWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the hush binary; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("crash test signals a child process with SIGKILL and SIGTERM")
	}
	rounds := 3
	if s := os.Getenv("HUSH_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("HUSH_CRASH_ROUNDS=%q: want a positive number", s)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HUSH_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HUSH_CRASH_SEED=%q: want a number", s)
		}
		seed = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("crash test seed %d: replay with HUSH_CRASH_SEED=%d HUSH_CRASH_ROUNDS=%d", seed, seed, rounds)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	bin := buildHushBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hush.yaml")
	if err := os.WriteFile(cfg, []byte(crashConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	ledger := &crashLedger{byID: map[string]*crashDelivery{}}

	var acked, sent int
	for round := 1; round <= rounds; round++ {
		a, s := crashRound(t, bin, cfg, data, rng, ledger, round)
		acked += a
		sent += s
		if t.Failed() {
			return
		}
	}
	t.Logf("%d rounds, seed %d: %d deliveries sent, %d answered 200 before the kill; all stored exactly once with their silences", rounds, seed, sent, acked)
}

// crashRound loads a fresh child, kills it, restarts it and checks everything sent so far.
// It returns how many new deliveries were answered 200 before the kill and how many were sent.
func crashRound(t *testing.T, bin, cfg, data string, rng *rand.Rand, ledger *crashLedger, round int) (acked, sent int) {
	t.Helper()
	child := startChildHush(t, bin, cfg, data)

	// The kill comes right after the k-th acknowledgement of this round, while the other
	// senders are anywhere in their exchange: reading, verifying, waiting for the group
	// commit, fsyncing, answering.
	killAfter := int64(1 + rng.IntN(100))
	var acks atomic.Int64
	killNow := make(chan struct{})
	var once sync.Once
	onAck := func() {
		if acks.Add(1) == killAfter {
			once.Do(func() { close(killNow) })
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var senderErrs sync.Map
	for s := 0; s < crashSenders; s++ {
		sender := &crashSender{
			base: child.base, round: round, n: s, rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())),
			ledger: ledger, onAck: onAck, client: &http.Client{Timeout: 30 * time.Second},
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sender.run(stop); err != nil {
				senderErrs.Store(s, err)
				once.Do(func() { close(killNow) }) // end the round now, to report it
			}
		}()
	}
	select {
	case <-killNow:
	case err := <-child.exited:
		close(stop)
		wg.Wait()
		t.Fatalf("round %d: hush exited by itself (%v) after %d acknowledgements\nlogs:\n%s", round, err, acks.Load(), child.logs)
	case <-time.After(60 * time.Second):
		close(stop)
		wg.Wait()
		t.Fatalf("round %d: only %d of %d acknowledgements after 60 s\nlogs:\n%s", round, acks.Load(), killAfter, child.logs)
	}
	child.kill(t)
	close(stop)
	wg.Wait()
	senderErrs.Range(func(k, v any) bool {
		t.Errorf("round %d, sender %v: %v", round, k, v)
		return true
	})
	if t.Failed() {
		return 0, 0
	}
	acked, sent = ledger.roundCounts(round)

	// Restarted on the same file: every delivery of the round is delivered again, as vendors
	// do. One answered 200 before the kill must be a duplicate; one that was in flight is
	// either wholly stored (duplicate) or wholly not (accepted now) — never half.
	child = startChildHush(t, bin, cfg, data)
	client := &http.Client{Timeout: 30 * time.Second}
	deliveries := ledger.ofRound(round)
	type redelivery struct {
		got    gateway.IngestResult
		status int
		err    error
	}
	answers := make([]redelivery, len(deliveries))
	next := make(chan int)
	var rwg sync.WaitGroup
	for range crashSenders {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for i := range next {
				a := &answers[i]
				a.got, a.status, a.err = postDelivery(client, child.base, &deliveries[i])
			}
		}()
	}
	for i := range deliveries {
		next <- i
	}
	close(next)
	rwg.Wait()
	var silenced []string
	for i, d := range deliveries {
		got, status, err := answers[i].got, answers[i].status, answers[i].err
		if err != nil || status != http.StatusOK {
			t.Fatalf("round %d: redelivery of %s after restart: status %d, err %v\nlogs:\n%s", round, d.id, status, err, child.logs)
		}
		n := len(d.events)
		switch {
		case d.acked && (got.Accepted != 0 || got.Duplicates != n):
			t.Errorf("round %d: %s was answered 200 before the crash, but its redelivery answered %+v: it was not stored", round, d.id, got)
		case !d.acked && got != (gateway.IngestResult{Accepted: n}) && got != (gateway.IngestResult{Duplicates: n}):
			t.Errorf("round %d: %s (in flight at the crash) redelivered: %+v, want all %d accepted or all duplicates", round, d.id, got, n)
		}
		ledger.markStored(d.id)
		for _, ev := range d.events {
			if ev.silences {
				silenced = append(silenced, ev.email)
			}
		}
	}
	// The snapshot rebuilt at start-up enforces every silence the crash left on disk.
	checkSilencedAfterRestart(t, client, child.base, silenced)
	child.terminate(t)
	if t.Failed() {
		return acked, sent
	}
	checkStoredExactlyOnce(t, filepath.Join(data, "hush.db"), ledger)
	t.Logf("round %d: killed after acknowledgement %d; %d deliveries sent, %d acknowledged before the kill", round, killAfter, sent, acked)
	return acked, sent
}

// buildHushBinary builds cmd/hush once for the test run.
func buildHushBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hush")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childHush is `hush serve` running as a child process.
type childHush struct {
	cmd    *exec.Cmd
	base   string
	logs   *lockedBuffer
	exited chan error // receives Wait's result once
	done   bool
}

func startChildHush(t *testing.T, bin, cfg, data string) *childHush {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(),
		"HUSH_ADMIN_TOKEN="+crashToken,
		"HUSH_GENERIC_SECRET="+crashSecret,
		"HUSH_LOG_LEVEL=warn",
	)
	c := &childHush{cmd: cmd, logs: &lockedBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = c.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hush: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "hush listening on "); ok {
				ready <- strings.TrimSpace(u)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if !c.done {
			_ = cmd.Process.Kill()
			<-c.exited
		}
	})
	select {
	case c.base = <-ready:
	case err := <-c.exited:
		c.done = true
		t.Fatalf("hush exited before listening: %v\nlogs:\n%s", err, c.logs)
	case <-time.After(startupDeadline):
		t.Fatalf("hush did not listen within %s\nlogs:\n%s", startupDeadline, c.logs)
	}
	return c
}

// kill is kill -9: the process gets no chance to drain, flush or close anything.
func (c *childHush) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill hush: %v", err)
	}
	<-c.exited
	c.done = true
}

// terminate is SIGTERM and a wait for a clean exit.
func (c *childHush) terminate(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM hush: %v", err)
	}
	select {
	case err := <-c.exited:
		c.done = true
		if err != nil {
			t.Errorf("hush exited with %v after SIGTERM, want 0\nlogs:\n%s", err, c.logs)
		}
	case <-time.After(drainTimeout + 10*time.Second):
		t.Fatalf("hush did not exit after SIGTERM\nlogs:\n%s", c.logs)
	}
}

// crashEvent is one event of a delivery, for one customer of its own.
type crashEvent struct {
	id       string
	email    string
	silences bool // csat 1: the low-csat rule silences the customer
}

// crashDelivery is one signed webhook delivery: one event, or an array of two.
type crashDelivery struct {
	id     string
	round  int
	body   []byte
	events []crashEvent
	acked  bool // answered 200 (accepted) before the kill
	stored bool // known to be stored: acknowledged, or redelivered after the restart
}

// crashLedger is what the senders sent and what hush acknowledged.
type crashLedger struct {
	mu    sync.Mutex
	byID  map[string]*crashDelivery
	order []*crashDelivery
}

func (l *crashLedger) add(d *crashDelivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[d.id] = d
	l.order = append(l.order, d)
}

func (l *crashLedger) markAcked(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[id].acked = true
	l.byID[id].stored = true
}

func (l *crashLedger) markStored(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[id].stored = true
}

func (l *crashLedger) ofRound(round int) []crashDelivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []crashDelivery
	for _, d := range l.order {
		if d.round == round {
			out = append(out, *d)
		}
	}
	return out
}

func (l *crashLedger) roundCounts(round int) (acked, sent int) {
	for _, d := range l.ofRound(round) {
		sent++
		if d.acked {
			acked++
		}
	}
	return acked, sent
}

func (l *crashLedger) all() []crashDelivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]crashDelivery, len(l.order))
	for i, d := range l.order {
		out[i] = *d
	}
	return out
}

// crashSender posts new deliveries and, now and then, redelivers one it already got a 200
// for, until stop is closed.
type crashSender struct {
	base   string
	round  int
	n      int
	rng    *rand.Rand
	ledger *crashLedger
	onAck  func()
	client *http.Client
	acked  []crashDelivery
	seq    int
}

func (s *crashSender) run(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if len(s.acked) > 0 && s.rng.IntN(100) < 15 {
			d := s.acked[s.rng.IntN(len(s.acked))]
			got, status, err := postDelivery(s.client, s.base, &d)
			if err != nil {
				return nil // the kill: the answer is lost, which proves nothing
			}
			if status != http.StatusOK {
				continue
			}
			if got.Accepted != 0 || got.Duplicates != len(d.events) {
				return fmt.Errorf("redelivery of acknowledged %s answered %+v, want %d duplicates", d.id, got, len(d.events))
			}
			continue
		}
		d := s.newDelivery()
		s.ledger.add(d)
		got, status, err := postDelivery(s.client, s.base, d)
		if err != nil {
			return nil // hush is gone: nothing more to send until the restart
		}
		if status != http.StatusOK {
			continue
		}
		if got != (gateway.IngestResult{Accepted: len(d.events)}) {
			return fmt.Errorf("new delivery %s answered %+v, want %d accepted", d.id, got, len(d.events))
		}
		s.ledger.markAcked(d.id)
		s.acked = append(s.acked, *d)
		s.onAck()
	}
}

// newDelivery builds a delivery of one event (or, one time in five, an array of two), each
// for a customer of its own; a quarter of the events score CSAT 1 and silence them.
func (s *crashSender) newDelivery() *crashDelivery {
	s.seq++
	id := fmt.Sprintf("crash-r%d-s%d-%d", s.round, s.n, s.seq)
	n := 1
	if s.rng.IntN(5) == 0 {
		n = 2
	}
	d := &crashDelivery{id: id, round: s.round}
	docs := make([]map[string]any, n)
	for i := range n {
		ev := crashEvent{id: id, email: id + "@crash.example", silences: s.rng.IntN(4) == 0}
		if n > 1 {
			ev.id = fmt.Sprintf("%s-%d", id, i)
			ev.email = ev.id + "@crash.example"
		}
		csat := 5
		if ev.silences {
			csat = 1
		}
		docs[i] = map[string]any{
			"id": ev.id, "type": "survey.response", "at": time.Now().UTC().Format(time.RFC3339),
			"customer": map[string]any{"email": ev.email}, "csat": csat, "text": "how was it",
		}
		d.events = append(d.events, ev)
	}
	var err error
	if n == 1 {
		d.body, err = json.Marshal(docs[0])
	} else {
		d.body, err = json.Marshal(docs)
	}
	if err != nil {
		panic(err) // maps of strings and ints always marshal
	}
	return d
}

// postDelivery signs the delivery now and posts it.
func postDelivery(client *http.Client, base string, d *crashDelivery) (gateway.IngestResult, int, error) {
	var got gateway.IngestResult
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/"+crashSource, bytes.NewReader(d.body))
	if err != nil {
		return got, 0, err
	}
	now := time.Now()
	req.Header.Set(generic.HeaderID, d.id)
	req.Header.Set(generic.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(generic.HeaderSignature, generic.Sign([]byte(crashSecret), d.id, now, d.body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return got, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return got, 0, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &got); err != nil {
			return got, resp.StatusCode, fmt.Errorf("answer %s: %w", b, err)
		}
	}
	return got, resp.StatusCode, nil
}

// checkSilencedAfterRestart asks the decision API (a dry check) about every customer the
// round's events silenced.
func checkSilencedAfterRestart(t *testing.T, client *http.Client, base string, emails []string) {
	t.Helper()
	for len(emails) > 0 {
		batch := emails[:min(len(emails), 100)]
		emails = emails[len(batch):]
		recipients := make([]map[string]string, len(batch))
		for i, e := range batch {
			recipients[i] = map[string]string{"email": e}
		}
		body, _ := json.Marshal(map[string]any{"channel": "email", "category": "marketing", "record": false, "recipients": recipients})
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/decisions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+crashToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("decisions after restart: %v", err)
		}
		var got struct {
			Decisions []gateway.Decision `json:"decisions"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(got.Decisions) != len(batch) {
			t.Fatalf("decisions after restart: status %d, %d decisions for %d recipients, err %v", resp.StatusCode, len(got.Decisions), len(batch), err)
		}
		for i, d := range got.Decisions {
			if d.Allowed || d.Reason != "silenced" || d.Rule != "low-csat" {
				t.Errorf("after restart, %s: allowed %v reason %q rule %q; want silenced by low-csat", batch[i], d.Allowed, d.Reason, d.Rule)
			}
		}
	}
}

// checkStoredExactlyOnce opens the stopped hush's file and checks that every event ever
// sent is stored exactly once (all are, after the redeliveries), nothing else is, and each
// CSAT-1 event's customer has exactly one low-csat silence naming that event.
func checkStoredExactlyOnce(t *testing.T, path string, ledger *crashLedger) {
	t.Helper()
	store, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("open the file hush left: %v", err)
	}
	defer store.Close()

	type stored struct {
		n        int
		customer string
	}
	events := map[string]*stored{}
	silences := map[string][]gateway.Silence{} // by customer id
	ctx := context.Background()
	err = store.View(ctx, func(tx gateway.Tx) error {
		var customers []string
		if err := tx.ForEachCustomer(func(c *gateway.Customer) error {
			customers = append(customers, c.ID)
			return nil
		}); err != nil {
			return fmt.Errorf("list customers: %w", err)
		}
		for _, cid := range customers {
			page := gateway.Page{Limit: 1000}
			for {
				evs, next, err := tx.Events(gateway.EventQuery{CustomerID: cid, Page: page})
				if err != nil {
					return fmt.Errorf("events of %s: %w", cid, err)
				}
				for _, ev := range evs {
					key := ev.Source + ":" + ev.ID
					if events[key] == nil {
						events[key] = &stored{customer: cid}
					}
					events[key].n++
				}
				if next == "" {
					break
				}
				page.Cursor = next
			}
		}
		page := gateway.Page{Limit: 1000}
		for {
			ss, next, err := tx.Silences(gateway.SilenceQuery{Page: page})
			if err != nil {
				return fmt.Errorf("list silences: %w", err)
			}
			for _, s := range ss {
				silences[s.CustomerID] = append(silences[s.CustomerID], s)
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the file hush left: %v", err)
	}

	want := 0
	for _, d := range ledger.all() {
		if !d.stored {
			t.Errorf("%s was never confirmed stored", d.id)
			continue
		}
		for _, ev := range d.events {
			want++
			key := crashSource + ":" + ev.id
			got := events[key]
			if got == nil || got.n != 1 {
				n := 0
				if got != nil {
					n = got.n
				}
				t.Errorf("event %s (acknowledged before a kill: %v) is stored %d times, want exactly once", key, d.acked, n)
				continue
			}
			ss := silences[got.customer]
			switch {
			case ev.silences && (len(ss) != 1 || ss[0].Rule != "low-csat" || ss[0].EventID != key):
				t.Errorf("event %s scored CSAT 1: its customer has silences %+v, want one low-csat silence from it", key, ss)
			case !ev.silences && len(ss) != 0:
				t.Errorf("event %s scored CSAT 5: its customer has silences %+v, want none", key, ss)
			}
		}
	}
	if len(events) != want {
		t.Errorf("the file holds %d distinct events, the senders sent %d", len(events), want)
	}
	if t.Failed() {
		t.FailNow()
	}
}
