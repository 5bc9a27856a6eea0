package postmark

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
	"github.com/hush-gateway/hush/gateway"
)

const testToken = "server-token-1234"

func newSuppressionList(t testing.TB, url string, opts map[string]any) *SuppressionList {
	t.Helper()
	if opts == nil {
		opts = map[string]any{"server_token": testToken}
	}
	l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "pm", Kind: Kind, URL: url, Sync: true, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// timeout is the clients' (suppresstest.ShortClient), short so that a hang ends.
const timeout = 200 * time.Millisecond

// fixture is a stand-in of the broadcast stream, a list of it with the right token, and a
// client for the list's calls.
func fixture(t testing.TB) (*suppresstest.Postmark, *SuppressionList, *http.Client) {
	t.Helper()
	pm := suppresstest.NewPostmark(t, testToken, BroadcastStream)
	return pm, newSuppressionList(t, pm.URL(), nil), suppresstest.ShortClient(timeout)
}

// unusualAddresses round-trip through the dump's query string and the JSON bodies.
var unusualAddresses = []string{
	"ana@example.com",
	"ana+hush@example.com",
	"o'brien&co+a=b?c#d%e/f@example.co.uk",
	"first.last+tag@sub.example.org",
	"\"quoted\"@example.com",
}

func TestSuppressionListAddContainsRemove(t *testing.T) {
	ctx := context.Background()
	for _, addr := range unusualAddresses {
		t.Run(addr, func(t *testing.T) {
			pm, l, c := fixture(t)

			if got, err := l.Contains(ctx, c, addr); err != nil || got {
				t.Fatalf("Contains before add = %v, %v; want false, nil", got, err)
			}
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("Add: %v", err)
			}
			if !pm.HushListed(addr) {
				t.Fatal("after Add the stand-in has no Customer-origin entry")
			}
			if got, err := l.Contains(ctx, c, addr); err != nil || !got {
				t.Fatalf("Contains after add = %v, %v; want true, nil", got, err)
			}
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("second Add: %v", err)
			}
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if pm.Suppressed(addr) {
				t.Fatal("hush's entry is still there after Remove")
			}
			if got, err := l.Contains(ctx, c, addr); err != nil || got {
				t.Fatalf("Contains after remove = %v, %v; want false, nil", got, err)
			}
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("Remove of a missing address: %v", err)
			}
			if got := pm.Calls("add", addr); got != 2 {
				t.Errorf("add calls = %d, want 2", got)
			}
			if got := pm.Calls("remove", addr); got != 1 {
				t.Errorf("remove calls = %d, want 1 (the second Remove found nothing to delete)", got)
			}
		})
	}
}

func TestSuppressionListIgnoresCase(t *testing.T) {
	ctx := context.Background()
	pm, l, c := fixture(t)
	if err := l.Add(ctx, c, "Ana@Example.com"); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Contains(ctx, c, "ana@example.com"); err != nil || !got {
		t.Fatalf("Contains in other case = %v, %v; want true", got, err)
	}
	if err := l.Remove(ctx, c, "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	if pm.Suppressed("Ana@Example.com") {
		t.Fatal("Remove in other case left hush's entry")
	}
}

// The customer's own entries: Contains sees them, Add leaves them as they are, Remove never
// deletes them although the stand-in (like Postmark for unsubscribes and bounces) would.
func TestSuppressionListLeavesCustomersEntries(t *testing.T) {
	ctx := context.Background()
	const addr = "ana+x@example.com"
	tests := []struct {
		name                 string
		seed                 func(*suppresstest.Postmark, string)
		wantReason, wantFrom string
	}{
		{"unsubscribe", (*suppresstest.Postmark).SeedOwn, "ManualSuppression", "Recipient"},
		{"hard bounce", (*suppresstest.Postmark).SeedBounce, "HardBounce", "Recipient"},
		{"spam complaint", (*suppresstest.Postmark).SeedSpamComplaint, "SpamComplaint", "Recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pm, l, c := fixture(t)
			tt.seed(pm, addr)

			if got, err := l.Contains(ctx, c, addr); err != nil || !got {
				t.Fatalf("Contains = %v, %v; want true", got, err)
			}
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("Add over the customer's entry: %v", err)
			}
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			reason, origin, ok := pm.Entry(addr)
			if !ok || reason != tt.wantReason || origin != tt.wantFrom {
				t.Fatalf("entry after Add+Remove = %q/%q (present %v), want %q/%q kept",
					reason, origin, ok, tt.wantReason, tt.wantFrom)
			}
			if pm.HushListed(addr) {
				t.Error("the customer's entry became hush's")
			}
			if got := pm.Calls("remove", addr); got != 0 {
				t.Errorf("Remove sent %d deletes for the customer's entry", got)
			}
		})
	}
}

func TestSuppressionListStream(t *testing.T) {
	ctx := context.Background()
	const addr = "ana@example.com"
	t.Run("configured stream", func(t *testing.T) {
		pm := suppresstest.NewPostmark(t, testToken, "newsletters")
		l := newSuppressionList(t, pm.URL()+"/", map[string]any{"server_token": testToken, "stream": "newsletters"})
		if err := l.Add(ctx, suppresstest.ShortClient(timeout), addr); err != nil {
			t.Fatal(err)
		}
		if !pm.HushListed(addr) {
			t.Fatal("Add did not reach the configured stream")
		}
	})
	t.Run("broadcast by default", func(t *testing.T) {
		pm, l, c := fixture(t)
		if err := l.Add(ctx, c, addr); err != nil {
			t.Fatal(err)
		}
		if !pm.HushListed(addr) {
			t.Fatal("Add did not reach the broadcast stream")
		}
	})
	t.Run("unknown stream is permanent", func(t *testing.T) {
		pm := suppresstest.NewPostmark(t, testToken, BroadcastStream)
		l := newSuppressionList(t, pm.URL(), map[string]any{"server_token": testToken, "stream": "no such/stream"})
		err := l.Add(ctx, suppresstest.ShortClient(timeout), addr)
		se := suppresstest.SyncError(t, err)
		if !se.Permanent || se.Status != http.StatusUnprocessableEntity || !strings.Contains(se.Message, "1226") {
			t.Fatalf("got %+v, want a permanent 422 with ErrorCode 1226", se)
		}
	})
}

func TestSuppressionListFaults(t *testing.T) {
	ctx := context.Background()
	const addr = "ana+fault@example.com"
	tests := []struct {
		fault      suppresstest.Fault
		permanent  bool
		retryAfter time.Duration
		status     int
	}{
		{suppresstest.Fail500, false, 0, 500},
		{suppresstest.Fail429, false, time.Second, 429},
		{suppresstest.Fail400, true, 0, 400},
	}
	for _, op := range suppresstest.Ops() {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", op.Name, tt.status), func(t *testing.T) {
				pm, l, c := fixture(t)
				if err := l.Add(ctx, c, addr); err != nil {
					t.Fatal(err)
				}
				pm.Faults().Add(tt.fault)
				se := suppresstest.SyncError(t, op.Run(ctx, l, c, addr))
				if se.Op != op.Name || se.Permanent != tt.permanent || se.RetryAfter != tt.retryAfter || se.Status != tt.status {
					t.Fatalf("got %+v, want op %s status %d permanent %v retry after %v",
						se, op.Name, tt.status, tt.permanent, tt.retryAfter)
				}
				// The queue is empty again: the same call now goes through.
				if err := op.Run(ctx, l, c, addr); err != nil {
					t.Fatalf("call after the fault: %v", err)
				}
			})
		}
	}
}

func TestSuppressionListFaultThenChangeArrivesOnce(t *testing.T) {
	ctx := context.Background()
	const addr = "ana@example.com"
	pm, l, c := fixture(t)
	pm.Faults().Add(suppresstest.Fail500, suppresstest.Fail429)
	var err error
	for range 3 {
		if err = l.Add(ctx, c, addr); err == nil {
			break
		}
	}
	if err != nil || !pm.HushListed(addr) || pm.Calls("add", addr) != 1 {
		t.Fatalf("after two faults: err %v, listed %v, adds %d; want nil, true, 1", err, pm.HushListed(addr), pm.Calls("add", addr))
	}
	// Remove's read, then its delete, each fail once.
	pm.Faults().Add(suppresstest.Fail500)
	if err := l.Remove(ctx, c, addr); err == nil {
		t.Fatal("Remove through a failing dump succeeded")
	}
	if !pm.HushListed(addr) {
		t.Fatal("a failed Remove deleted the entry")
	}
	if err := l.Remove(ctx, c, addr); err != nil || pm.Suppressed(addr) || pm.Calls("remove", addr) != 1 {
		t.Fatalf("Remove: err %v, still there %v, deletes %d", err, pm.Suppressed(addr), pm.Calls("remove", addr))
	}
}

func TestSuppressionListHang(t *testing.T) {
	ctx := context.Background()
	for _, op := range suppresstest.Ops() {
		t.Run(op.Name, func(t *testing.T) {
			pm := suppresstest.NewPostmark(t, testToken, BroadcastStream)
			// Bounded in case the client never gives up; well past the client's 200ms.
			pm.Faults().MaxHang = time.Second
			l := newSuppressionList(t, pm.URL(), nil)
			pm.Faults().Add(suppresstest.Hang)
			err := op.Run(ctx, l, suppresstest.ShortClient(timeout), "ana@example.com")
			if te := suppresstest.TransportError(t, err); te.Op != op.Name {
				t.Fatalf("got %v, a *suppress.TransportError for %s, want one for %s", err, te.Op, op.Name)
			}
		})
	}
}

func TestSuppressionListWrongToken(t *testing.T) {
	ctx := context.Background()
	const addr = "ana@example.com"
	for _, op := range suppresstest.Ops() {
		t.Run(op.Name, func(t *testing.T) {
			pm := suppresstest.NewPostmark(t, testToken, BroadcastStream)
			l := newSuppressionList(t, pm.URL(), map[string]any{"server_token": "wrong-token-5678"})
			err := op.Run(ctx, l, suppresstest.ShortClient(timeout), addr)
			se := suppresstest.SyncError(t, err)
			if !se.Permanent || se.Status != http.StatusUnauthorized || !strings.Contains(se.Message, "ErrorCode 10") {
				t.Fatalf("got %+v, want a permanent 401 with ErrorCode 10", se)
			}
			if strings.Contains(err.Error(), "wrong-token-5678") || strings.Contains(err.Error(), addr) {
				t.Fatalf("error %q holds the token or the address", err)
			}
		})
	}
}

func TestSuppressionListInvalidAddressIsPermanent(t *testing.T) {
	pm, l, c := fixture(t)
	const addr = "not-an-address"
	se := suppresstest.SyncError(t, l.Add(context.Background(), c, addr))
	if !se.Permanent || se.Message != "An invalid email address was provided." {
		t.Fatalf("got %+v, want a permanent refusal with Postmark's message", se)
	}
	if pm.Suppressed(addr) {
		t.Fatal("the invalid address was listed")
	}
}

// fixedPostmark answers every call with status and body: Postmark answers the stand-in does
// not give.
func fixedPostmark(t *testing.T, answers map[string]struct {
	status int
	body   string
}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSuppressionListVendorAnswers(t *testing.T) {
	const addr = "Ana.Secret@example.com"
	type answer = struct {
		status int
		body   string
	}
	const (
		dump   = "GET /message-streams/broadcast/suppressions/dump"
		create = "POST /message-streams/broadcast/suppressions"
		del    = "POST /message-streams/broadcast/suppressions/delete"
	)
	hushEntry := answer{200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","SuppressionReason":"ManualSuppression","Origin":"Customer","CreatedAt":"2019-12-17T08:58:33-05:00"}]}`}
	tests := []struct {
		name      string
		op        int // index in suppresstest.Ops()
		answers   map[string]answer
		wantErr   bool
		permanent bool
		status    int
		message   string
	}{
		{name: "failed add echoing the address hides the message", op: 1, answers: map[string]answer{
			create: {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","Status":"Failed","Message":"Cannot suppress ana.secret@example.com."}]}`},
			dump:   {200, `{"Suppressions":[]}`}},
			wantErr: true, permanent: true, status: 200, message: ""},
		{name: "failed add of an address listed meanwhile is fine", op: 1, answers: map[string]answer{
			create: {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","Status":"Failed","Message":"You do not have the required authority to change this suppression."}]}`},
			dump:   {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","SuppressionReason":"SpamComplaint","Origin":"Recipient","CreatedAt":"2019-12-17T08:58:33-05:00"}]}`}}},
		{name: "422 with the address in its message", op: 1, answers: map[string]answer{
			create: {422, `{"ErrorCode":1408,"Message":"Bad address Ana.Secret@example.com"}`}},
			wantErr: true, permanent: true, status: 422, message: "Postmark ErrorCode 1408"},
		{name: "422 processing failure is retried", op: 1, answers: map[string]answer{
			create: {422, `{"ErrorCode":1407,"Message":"Something went wrong when processing the request."}`}},
			wantErr: true, permanent: false, status: 422, message: "Postmark ErrorCode 1407: Something went wrong when processing the request."},
		{name: "unreadable 2xx dump is retried", op: 0, answers: map[string]answer{
			dump: {200, `<html>captive portal</html>`}},
			wantErr: true, permanent: false, status: 0},
		{name: "unknown add status is retried", op: 1, answers: map[string]answer{
			create: {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","Status":"Pending","Message":null}]}`}},
			wantErr: true, permanent: false, status: 0},
		{name: "dump answering for other addresses", op: 0, answers: map[string]answer{
			dump: {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com.evil","SuppressionReason":"ManualSuppression","Origin":"Customer","CreatedAt":""}]}`}}},
		{name: "remove deletes hush's entry", op: 2, answers: map[string]answer{
			dump: hushEntry,
			del:  {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","Status":"Deleted","Message":null}]}`}}},
		{name: "remove refused", op: 2, answers: map[string]answer{
			dump: hushEntry,
			del:  {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","Status":"Failed","Message":"You do not have the required authority to change this suppression."}]}`}},
			wantErr: true, permanent: true, status: 200, message: "You do not have the required authority to change this suppression."},
		// No delete answer is set: a delete would be a 404 and fail the row.
		{name: "remove leaves an address with an Admin entry too", op: 2, answers: map[string]answer{
			dump: {200, `{"Suppressions":[{"EmailAddress":"ana.secret@example.com","SuppressionReason":"ManualSuppression","Origin":"Customer","CreatedAt":""},{"EmailAddress":"ana.secret@example.com","SuppressionReason":"ManualSuppression","Origin":"Admin","CreatedAt":""}]}`}}},
		{name: "404 on remove's delete is not success", op: 2, answers: map[string]answer{dump: hushEntry},
			wantErr: true, permanent: true, status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSuppressionList(t, fixedPostmark(t, tt.answers), nil)
			err := suppresstest.Ops()[tt.op].Run(context.Background(), l, suppresstest.ShortClient(timeout), addr)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			se := suppresstest.SyncError(t, err)
			if se.Permanent != tt.permanent || se.Status != tt.status || (tt.message != "" || se.Status == 200) && se.Message != tt.message {
				t.Fatalf("got %+v, want permanent %v status %d message %q", se, tt.permanent, tt.status, tt.message)
			}
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(addr)) {
				t.Fatalf("error %q holds the address", err)
			}
		})
	}
}

func TestSuppressionListConcurrentAdds(t *testing.T) {
	ctx := context.Background()
	pm, l, c := fixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			if err := l.Add(ctx, c, fmt.Sprintf("user%d@example.com", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 8 {
		if a := fmt.Sprintf("user%d@example.com", i); !pm.HushListed(a) {
			t.Errorf("%s not listed", a)
		}
	}
}

func TestNewSuppressionListOptions(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		opts    map[string]any
		wantErr string // "" for none
	}{
		{"ok", "https://api.postmarkapp.com/", map[string]any{"server_token": "s3cret"}, ""},
		{"ok with stream", "https://api.postmarkapp.com", map[string]any{"server_token": "s3cret", "stream": "newsletters"}, ""},
		{"missing token", "https://api.postmarkapp.com", map[string]any{"stream": "broadcast"}, `"server_token"`},
		{"empty token", "https://api.postmarkapp.com", map[string]any{"server_token": ""}, `"server_token"`},
		{"no options", "https://api.postmarkapp.com", nil, `"server_token"`},
		{"token not a string", "https://api.postmarkapp.com", map[string]any{"server_token": 1234}, `"server_token"`},
		{"stream not a string", "https://api.postmarkapp.com", map[string]any{"server_token": "s3cret", "stream": 5}, `"stream"`},
		{"empty stream", "https://api.postmarkapp.com", map[string]any{"server_token": "s3cret", "stream": " "}, `"stream"`},
		{"unknown key", "https://api.postmarkapp.com", map[string]any{"server_token": "s3cret", "group_id": 5}, `"group_id"`},
		{"no url", "", map[string]any{"server_token": "s3cret"}, "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "pm", Kind: Kind, URL: tt.url, Sync: true, Options: tt.opts})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if strings.HasSuffix(l.base, "/") {
					t.Errorf("base %q keeps its trailing slash", l.base)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error %q prints the token", err)
			}
		})
	}
}

func TestSyncOptions(t *testing.T) {
	got := SyncOptions()
	if want := []string{"server_token", "stream"}; !slices.Equal(got, want) {
		t.Fatalf("SyncOptions() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if SyncOptions()[0] != "server_token" {
		t.Fatal("SyncOptions shares its slice between calls")
	}
}

// Seeds for the answer parsers: the shapes of Postmark's Suppressions API reference.
var (
	dumpSeeds = []string{
		`{"Suppressions":[{"EmailAddress":"address@wildbit.com","SuppressionReason":"ManualSuppression","Origin":"Recipient","CreatedAt":"2019-12-17T08:58:33-05:00"},{"EmailAddress":"bounce.address@wildbit.com","SuppressionReason":"HardBounce","Origin":"Recipient","CreatedAt":"2019-12-17T08:58:33-05:00"},{"EmailAddress":"spam.complaint.address@wildbit.com","SuppressionReason":"SpamComplaint","Origin":"Recipient","CreatedAt":"2019-12-17T08:58:33-05:00"}]}`,
		`{"Suppressions":[]}`,
		`{"Suppressions":null}`,
		`{}`,
		`[]`,
	}
	statusSeeds = []string{
		`{"Suppressions":[{"EmailAddress":"good.address@wildbit.com","Status":"Suppressed","Message":null},{"EmailAddress":"spammy.address@wildbit.com","Status":"Failed","Message":"You do not have the required authority to change this suppression."},{"EmailAddress":"invalid-email-address","Status":"Failed","Message":"An invalid email address was provided."}]}`,
		`{"Suppressions":[{"EmailAddress":"good.address@wildbit.com","Status":"Deleted","Message":null}]}`,
		`{"Suppressions":[{"EmailAddress":1}]}`,
	}
	errorSeeds = []string{
		`{"ErrorCode":10,"Message":"The Server Token you provided in the X-Postmark-Server-Token request header was invalid. Please verify that you are using a valid token."}`,
		`{"ErrorCode":1226,"Message":"The message stream for the provided 'ID' was not found."}`,
		`{"errors":[{"message":"injected failure"}]}`,
		`{"ErrorCode":null}`,
	}
)

func TestParsersOnSeeds(t *testing.T) {
	entries, err := parseDump([]byte(dumpSeeds[0]))
	if err != nil || len(entries) != 3 || entries[2].SuppressionReason != "SpamComplaint" || entries[0].Origin != "Recipient" {
		t.Fatalf("parseDump = %+v, %v", entries, err)
	}
	for _, bad := range dumpSeeds[2:] {
		if _, err := parseDump([]byte(bad)); err == nil {
			t.Errorf("parseDump(%s) accepted an answer without a Suppressions array", bad)
		}
	}
	sts, err := parseStatuses([]byte(statusSeeds[0]))
	if err != nil || len(sts) != 3 || sts[0].Status != "Suppressed" || sts[0].Message != "" || sts[2].Message != "An invalid email address was provided." {
		t.Fatalf("parseStatuses = %+v, %v", sts, err)
	}
	if _, err := parseStatuses([]byte(statusSeeds[2])); err == nil {
		t.Error("parseStatuses accepted a number for an address")
	}
	if code, msg, ok := parseError([]byte(errorSeeds[1])); !ok || code != 1226 || !strings.HasPrefix(msg, "The message stream") {
		t.Errorf("parseError = %d, %q, %v", code, msg, ok)
	}
	for _, bad := range errorSeeds[2:] {
		if _, _, ok := parseError([]byte(bad)); ok {
			t.Errorf("parseError(%s) read a Postmark error", bad)
		}
	}
}

// The fuzz targets hold each parser to two properties: it accepts only valid JSON, and what
// it reads survives being written back in Postmark's shape and read again.

func FuzzParseDump(f *testing.F) { fuzzSuppressions(f, "parseDump", parseDump, dumpSeeds) }

func FuzzParseStatuses(f *testing.F) {
	fuzzSuppressions(f, "parseStatuses", parseStatuses, statusSeeds)
}

// fuzzSuppressions holds parse, a reader of answers shaped {"Suppressions":[…]}, to the two
// properties, from seeds.
func fuzzSuppressions[T any](f *testing.F, name string, parse func([]byte) ([]T, error), seeds []string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parse(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("%s accepted invalid JSON %q", name, body)
		}
		b, err := json.Marshal(map[string]any{"Suppressions": got})
		if err != nil {
			t.Fatal(err)
		}
		again, err := parse(b)
		if err != nil || !reflect.DeepEqual(nonNil(again), nonNil(got)) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, got)
		}
	})
}

func FuzzParseError(f *testing.F) {
	for _, s := range errorSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, ok := parseError(body)
		if !ok {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("parseError accepted invalid JSON %q", body)
		}
		b, err := json.Marshal(map[string]any{"ErrorCode": code, "Message": msg})
		if err != nil {
			t.Fatal(err)
		}
		code2, msg2, ok2 := parseError(b)
		if !ok2 || code2 != code || msg2 != msg {
			t.Fatalf("round trip: %d %q %v; want %d %q", code2, msg2, ok2, code, msg)
		}
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
