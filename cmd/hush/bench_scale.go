package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/storage/bolt"
)

// benchChildEnv, set to 1 in the environment of the child `hush serve`, lets a test binary
// re-executed as the child run the program instead of its tests (see TestMain); the real
// binary ignores it.
const benchChildEnv = "HUSH_BENCH_CHILD"

// scaleBuildBatch is how many records one Update writes while building the data directory.
const scaleBuildBatch = 5000

// scaleMarker records what a data directory was built with, so that -data-cache reuses it
// only for the same sizes.
type scaleMarker struct {
	Customers int       `json:"customers"`
	Silences  int       `json:"silences"`
	BuiltAt   time.Time `json:"built_at"`
}

const scaleMarkerFile = "bench-scale.json"

func scaleCustomerIdentity(i int) gateway.Identity {
	return gateway.Identity(fmt.Sprintf("email:customer%07d@scale.bench.example", i))
}

// scaleCustomerIndex is the number of the scale customer an identity names.
func scaleCustomerIndex(id gateway.Identity) (int, bool) {
	rest, ok := strings.CutPrefix(string(id), "email:customer")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "@")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	return i, err == nil
}

// scaleSilenceEvery is the spacing of silenced customers: every one of them, from 0, until
// silences are placed.
func scaleSilenceEvery(customers, silences int) int {
	if silences == 0 {
		return 0
	}
	return max(1, customers/silences)
}

// scaleSilenced reports whether customer i of the scale data has a silence.
func scaleSilenced(i, customers, silences int) bool {
	every := scaleSilenceEvery(customers, silences)
	return every != 0 && i%every == 0 && i/every < silences
}

// scaleResult is scenario 4.
type scaleResult struct {
	Customers     int           `json:"customers"`
	Silences      int           `json:"silences"`
	Cached        bool          `json:"cached"`
	BuildTime     time.Duration `json:"build_ns,omitempty"`
	FileBytes     int64         `json:"file_bytes"`
	Startup       time.Duration `json:"startup_ns"`
	AfterStart    procMem       `json:"after_start"`
	AfterLoad     procMem       `json:"after_load"`
	Decisions     loadResult    `json:"decisions"`
	RecipientsPS  float64       `json:"recipients_per_second"`
	SilencedShare float64       `json:"silenced_share"` // of the decisions under load
}

func runScaleScenario(ctx context.Context, o benchOptions, progress io.Writer) (*scaleResult, error) {
	dir := o.DataCache
	if dir == "" {
		tmp, err := os.MkdirTemp(o.TempDir, "hush-bench-scale-")
		if err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	r := &scaleResult{Customers: o.Customers, Silences: o.Silences}
	cached, err := scaleCacheValid(dir, o.Customers, o.Silences)
	if err != nil {
		return nil, err
	}
	r.Cached = cached
	if !cached {
		fmt.Fprintf(progress, "scale: building %d customers and %d silences in %s\n", o.Customers, o.Silences, dir)
		start := time.Now()
		if err := buildScaleData(ctx, dir, o.Customers, o.Silences); err != nil {
			return nil, err
		}
		r.BuildTime = time.Since(start)
	} else {
		fmt.Fprintf(progress, "scale: reusing the data directory %s\n", dir)
	}
	if fi, err := os.Stat(filepath.Join(dir, "hush.db")); err == nil {
		r.FileBytes = fi.Size()
	}

	serveDir := dir
	if o.DataCache != "" {
		// The child records decisions: it runs on a copy, so the cache stays as it was built.
		tmp, err := os.MkdirTemp(o.TempDir, "hush-bench-scale-run-")
		if err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		if err := copyFile(filepath.Join(dir, "hush.db"), filepath.Join(tmp, "hush.db")); err != nil {
			return nil, fmt.Errorf("copy the cached data: %w", err)
		}
		serveDir = tmp
	}
	fmt.Fprintf(progress, "scale: starting hush serve as a child process\n")
	child, err := startChild(ctx, serveDir)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	r.Startup = child.startup
	if r.AfterStart, err = procMemory(child.cmd.Process.Pid); err != nil {
		return nil, err
	}

	client := &http.Client{Transport: benchTransport(o.Clients), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	bodies := scaleDecisionBodies(o.Customers, 64)
	var (
		mu                sync.Mutex
		silenced, decided int
	)
	decide := func(ctx context.Context, _ int, seq int64) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, child.base+"/api/v1/decisions", bytes.NewReader(bodies[seq%int64(len(bodies))]))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+child.token)
		req.Header.Set("Content-Type", "application/json")
		_, answer, err := doRequest(client, req, http.StatusOK)
		if err != nil {
			return err
		}
		// Every decision is checked against how the data was built: silenced exactly when
		// the customer is one of the silenced ones.
		var got struct{ Decisions []gateway.Decision }
		if err := json.Unmarshal(answer, &got); err != nil {
			return fmt.Errorf("decode the decisions: %w", err)
		}
		if len(got.Decisions) != decisionBatch {
			return fmt.Errorf("%d decisions for %d recipients", len(got.Decisions), decisionBatch)
		}
		n := 0
		for _, d := range got.Decisions {
			i, ok := scaleCustomerIndex(d.Recipient)
			if !ok {
				return fmt.Errorf("a decision for an unexpected recipient")
			}
			silenced := !d.Allowed && d.Reason == gateway.ReasonSilenced
			if silenced != scaleSilenced(i, o.Customers, o.Silences) {
				return fmt.Errorf("customer %d: allowed %t, reason %q, want silenced %t", i, d.Allowed, d.Reason, !silenced)
			}
			if silenced {
				n++
			}
		}
		mu.Lock()
		silenced += n
		decided += decisionBatch
		mu.Unlock()
		return nil
	}
	fmt.Fprintf(progress, "scale: decision load on the child, %d clients, %s\n", o.Clients, o.Duration)
	r.Decisions = runClosed(ctx, o.Duration, o.Clients, decide)
	r.RecipientsPS = r.Decisions.PerSecond * decisionBatch
	if decided > 0 {
		r.SilencedShare = float64(silenced) / float64(decided)
	}
	if r.AfterLoad, err = procMemory(child.cmd.Process.Pid); err != nil {
		return nil, err
	}
	return r, child.stop()
}

// scaleDecisionBodies are n decision requests of random customers of the scale data.
func scaleDecisionBodies(customers, n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		var b bytes.Buffer
		b.WriteString(`{"channel":"email","category":"marketing","recipients":[`)
		for k := range decisionBatch {
			if k > 0 {
				b.WriteByte(',')
			}
			id := string(scaleCustomerIdentity(rng.IntN(customers)))
			fmt.Fprintf(&b, `{"email":%q}`, strings.TrimPrefix(id, "email:"))
		}
		b.WriteString("]}")
		out[i] = b.Bytes()
	}
	return out
}

func scaleCacheValid(dir string, customers, silences int) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, scaleMarkerFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the data cache marker: %w", err)
	}
	var m scaleMarker
	if err := json.Unmarshal(data, &m); err != nil {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "hush.db")); err != nil {
		return false, nil
	}
	return m.Customers == customers && m.Silences == silences, nil
}

// buildScaleData writes customers (one e-mail identity each) and silences (one per customer
// on an even spread, in force for a year) into dir/hush.db through the real bolt Store,
// thousands of records per Update, without fsync (a crash during the build just means
// building again: the marker is written last).
func buildScaleData(ctx context.Context, dir string, customers, silences int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	_ = os.Remove(filepath.Join(dir, scaleMarkerFile))
	if err := os.Remove(filepath.Join(dir, "hush.db")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the old data: %w", err)
	}
	store, err := bolt.Open(filepath.Join(dir, "hush.db"), bolt.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("open the scale store: %w", err)
	}
	defer store.Close()

	now := time.Now().UTC()
	// Records are created one millisecond apart, in the past, so that ids and time indexes
	// are written in key order (bbolt appends instead of splitting pages at random).
	base := now.Add(-time.Duration(customers+1) * time.Millisecond)
	end := now.AddDate(1, 0, 0)
	for from := 0; from < customers; from += scaleBuildBatch {
		to := min(from+scaleBuildBatch, customers)
		err := store.Update(ctx, func(tx gateway.Tx) error {
			for i := from; i < to; i++ {
				at := base.Add(time.Duration(i) * time.Millisecond)
				id := scaleCustomerIdentity(i)
				c := &gateway.Customer{
					ID:         gateway.StableID("cus", at, string(id)),
					Identities: []gateway.Identity{id},
					CreatedAt:  at, UpdatedAt: at,
				}
				if err := tx.PutCustomer(c); err != nil {
					return fmt.Errorf("put customer: %w", err)
				}
				if !scaleSilenced(i, customers, silences) {
					continue
				}
				s := &gateway.Silence{
					ID: gateway.StableID("sil", at, string(id)), CustomerID: c.ID, Identity: id,
					CreatedBy: "admin:bench", Reason: "bench", Start: at, End: &end,
					CreatedAt: at, UpdatedAt: at,
				}
				if err := tx.PutSilence(s); err != nil {
					return fmt.Errorf("put silence: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("build the scale data: %w", err)
		}
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close the scale store: %w", err)
	}
	// The build ran without fsync: flush the file before the marker says it is complete.
	if err := syncFile(filepath.Join(dir, "hush.db")); err != nil {
		return err
	}
	m, _ := json.Marshal(scaleMarker{Customers: customers, Silences: silences, BuiltAt: now})
	if err := os.WriteFile(filepath.Join(dir, scaleMarkerFile), m, 0o600); err != nil {
		return fmt.Errorf("write the data cache marker: %w", err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s for sync: %w", filepath.Base(path), err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	return nil
}

// benchChild is `hush serve` running as a child process: this same executable re-executed.
type benchChild struct {
	cmd     *exec.Cmd
	base    string
	token   string
	startup time.Duration
	stderr  *tailBuffer
	waited  chan error
	once    sync.Once
	stopErr error
}

// childStartTimeout bounds how long the child may take to answer /readyz.
const childStartTimeout = 2 * time.Minute

func startChild(ctx context.Context, dir string) (*benchChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this executable to start hush serve: %w", err)
	}
	c := &benchChild{token: randomHex(16), stderr: &tailBuffer{max: 8 << 10}, waited: make(chan error, 1)}
	c.cmd = exec.Command(exe, "serve", "--data", dir, "--listen", "127.0.0.1:0")
	c.cmd.Env = append(os.Environ(), benchChildEnv+"=1", "HUSH_ADMIN_TOKEN="+c.token, "HUSH_CONFIG=")
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("child stdout: %w", err)
	}
	start := time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hush serve: %w", err)
	}
	go func() { c.waited <- c.cmd.Wait() }()

	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "hush listening on "); ok {
				listening <- strings.TrimSpace(u)
			}
		}
	}()
	deadline := time.NewTimer(childStartTimeout)
	defer deadline.Stop()
	select {
	case c.base = <-listening:
	case err := <-c.waited:
		return nil, fmt.Errorf("hush serve exited before listening (%v): %s", err, c.stderr)
	case <-deadline.C:
		c.stop()
		return nil, fmt.Errorf("hush serve did not listen within %s: %s", childStartTimeout, c.stderr)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	probe := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := probe.Get(c.base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.startup = time.Since(start)
				return c, nil
			}
		}
		select {
		case <-deadline.C:
			c.stop()
			return nil, fmt.Errorf("hush serve did not answer /readyz 200 within %s: %s", childStartTimeout, c.stderr)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM (hush drains and closes its store) and waits; SIGKILL after a while.
func (c *benchChild) stop() error {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-c.waited:
			if err != nil {
				c.stopErr = fmt.Errorf("hush serve exited with %v after SIGTERM: %s", err, c.stderr)
			}
		case <-time.After(45 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.waited
			c.stopErr = fmt.Errorf("hush serve did not stop within 45s of SIGTERM")
		}
	})
	return c.stopErr
}

// procMem is a process's memory as /proc/<pid>/status reports it, in bytes: the resident
// set (VmRSS), its peak (VmHWM), and the resident set split into anonymous memory (the Go
// heap and stacks) and file pages (mostly bbolt's memory-mapped file, which the kernel can
// drop under pressure).
type procMem struct {
	RSS  int64 `json:"rss_bytes"`
	HWM  int64 `json:"hwm_bytes"`
	Anon int64 `json:"rss_anon_bytes"`
	File int64 `json:"rss_file_bytes"`
}

func procMemory(pid int) (procMem, error) {
	var m procMem
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, fmt.Errorf("read the child's memory figures: %w", err)
	}
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	for line := range strings.SplitSeq(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || fields[key] == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("parse %s in /proc/%d/status: %w", key, pid, err)
		}
		*fields[key] = kb << 10
	}
	return m, nil
}

// tailBuffer keeps the last max bytes written: the child's log, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// copyFile copies src to dst (a new file, mode 0600).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
