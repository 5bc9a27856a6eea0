package sendgrid

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
	"github.com/hush-gateway/hush/gateway"
)

const (
	testKey   = "SG.test-key.hush"
	testGroup = 4242
)

func newList(t *testing.T, url, key string, group any) *SuppressionList {
	t.Helper()
	l, err := NewSuppressionList(gateway.UpstreamConfig{
		Name: "sendgrid", Kind: Kind, URL: url, Sync: true,
		Options: map[string]any{"api_key": key, "group_id": group},
	})
	if err != nil {
		t.Fatalf("NewSuppressionList: %v", err)
	}
	return l
}

// fixture is a stand-in and a client of its group.
func fixture(t *testing.T) (*suppresstest.SendGrid, *SuppressionList) {
	sg := suppresstest.NewSendGrid(t, testKey, testGroup)
	return sg, newList(t, sg.URL()+"/", testKey, testGroup)
}

func TestNewSuppressionListOptions(t *testing.T) {
	const secret = "SG.very-secret-value"
	tests := []struct {
		name    string
		url     string
		opts    map[string]any
		wantErr string // "" for none
		group   int64
	}{
		{name: "number", opts: map[string]any{"api_key": secret, "group_id": 12345}, group: 12345},
		{name: "uint64 from yaml", opts: map[string]any{"api_key": secret, "group_id": uint64(7)}, group: 7},
		{name: "digits from ${VAR}", opts: map[string]any{"api_key": secret, "group_id": "12345"}, group: 12345},
		{name: "api_key missing", opts: map[string]any{"group_id": 1}, wantErr: `option "api_key" for kind "sendgrid" is required`},
		{name: "api_key empty", opts: map[string]any{"api_key": "", "group_id": 1}, wantErr: `option "api_key" for kind "sendgrid" is required`},
		{name: "api_key not a string", opts: map[string]any{"api_key": 12, "group_id": 1}, wantErr: `option "api_key" for kind "sendgrid": want a string`},
		{name: "api_key with a newline", opts: map[string]any{"api_key": secret + "\n", "group_id": 1}, wantErr: "spaces or control characters"},
		{name: "group_id missing", opts: map[string]any{"api_key": secret}, wantErr: `option "group_id" for kind "sendgrid" is required`},
		{name: "group_id empty", opts: map[string]any{"api_key": secret, "group_id": nil}, wantErr: `option "group_id" for kind "sendgrid" is required`},
		{name: "group_id zero", opts: map[string]any{"api_key": secret, "group_id": 0}, wantErr: "must be a positive whole number"},
		{name: "group_id negative", opts: map[string]any{"api_key": secret, "group_id": -1}, wantErr: "must be a positive whole number"},
		{name: "group_id words", opts: map[string]any{"api_key": secret, "group_id": "newsletter"}, wantErr: "must be a positive whole number"},
		{name: "group_id padded", opts: map[string]any{"api_key": secret, "group_id": " 12"}, wantErr: "must be a positive whole number"},
		{name: "group_id a fraction", opts: map[string]any{"api_key": secret, "group_id": 1.5}, wantErr: `option "group_id" for kind "sendgrid": want a whole number`},
		{name: "group_id a list", opts: map[string]any{"api_key": secret, "group_id": []any{1}}, wantErr: `want a whole number, got a list`},
		{name: "unknown key", opts: map[string]any{"api_key": secret, "group_id": 1, "groupid": 2}, wantErr: `unknown option "groupid" for kind "sendgrid" (known: api_key, group_id)`},
		{name: "no url", url: "-", opts: map[string]any{"api_key": secret, "group_id": 1}, wantErr: "url is required"},
		{name: "url without scheme", url: "api.sendgrid.com", opts: map[string]any{"api_key": secret, "group_id": 1}, wantErr: "url must start with http:// or https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := "https://api.sendgrid.com/"
			switch tt.url {
			case "":
			case "-":
				url = ""
			default:
				url = tt.url
			}
			l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "sg", Kind: Kind, URL: url, Sync: true, Options: tt.opts})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if l.groupID != tt.group {
					t.Errorf("group %d, want %d", l.groupID, tt.group)
				}
				if want := "https://api.sendgrid.com/v3/asm/groups/" + strconv.FormatInt(tt.group, 10); l.groupURL != want {
					t.Errorf("group URL %q, want %q", l.groupURL, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "very-secret") {
				t.Errorf("error %q shows the API key", err)
			}
		})
	}
}

func TestSyncOptionsAreTheOnesRead(t *testing.T) {
	opts := map[string]any{}
	for _, k := range SyncOptions() {
		opts[k] = "1"
	}
	opts["api_key"] = "SG.x"
	if _, err := NewSuppressionList(gateway.UpstreamConfig{Kind: Kind, URL: "https://api.sendgrid.com", Options: opts}); err != nil {
		t.Fatalf("every sync option set, still refused: %v", err)
	}
}

func TestAddContainsRemoveRoundTrip(t *testing.T) {
	addresses := []string{
		"ana@example.com",
		"ana+promo@example.com",        // '+' must not turn into a space
		"o'neil/x%y?z#w@example.com",   // '/', '%', '?', '#' in the path segment
		"josé.müller@exämple.de",       // non-ASCII
		"\"quoted local\"@example.com", // a quoted local part with a space
		"a&b=c;d,e@example.org",
	}
	ctx := context.Background()
	for _, addr := range addresses {
		t.Run(addr, func(t *testing.T) {
			sg, l := fixture(t)
			c := suppresstest.ShortClient(5 * time.Second)
			mustContain(t, l, c, addr, false)
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("add: %v", err)
			}
			if !sg.HushListed(addr) || !sg.Suppressed(addr) {
				t.Fatalf("after add: hush listed %v, suppressed %v; want both", sg.HushListed(addr), sg.Suppressed(addr))
			}
			mustContain(t, l, c, addr, true)
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("second add: %v", err)
			}
			if got := sg.Calls("add", addr); got != 2 {
				t.Errorf("add calls %d, want 2", got)
			}
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("remove: %v", err)
			}
			if sg.HushListed(addr) || sg.Suppressed(addr) {
				t.Fatalf("after remove: hush listed %v, suppressed %v; want neither", sg.HushListed(addr), sg.Suppressed(addr))
			}
			if got := sg.Calls("remove", addr); got != 1 {
				t.Errorf("remove calls %d, want 1 (the address must reach the stand-in unchanged)", got)
			}
			mustContain(t, l, c, addr, false)
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("remove of an address no longer there: %v", err)
			}
			if sg.GloballyUnsubscribed(addr) {
				t.Error("the address ended on the global unsubscribe list")
			}
		})
	}
}

func mustContain(t *testing.T, l *SuppressionList, c gateway.Doer, addr string, want bool) {
	t.Helper()
	got, err := l.Contains(context.Background(), c, addr)
	if err != nil {
		t.Fatalf("contains: %v", err)
	}
	if got != want {
		t.Fatalf("contains = %v, want %v", got, want)
	}
}

func TestContainsSeesTheCustomersOwnEntry(t *testing.T) {
	sg, l := fixture(t)
	c := suppresstest.ShortClient(5 * time.Second)
	sg.SeedOwn("Ana@Example.com")
	mustContain(t, l, c, "ana@example.com", true) // SendGrid ignores letter case
	if sg.HushListed("ana@example.com") {
		t.Error("a seeded entry counts as hush's")
	}
	// Adding again (the worker never does for an address it found there) keeps the
	// customer's entry as it was.
	if err := l.Add(context.Background(), c, "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	if sg.HushListed("ana@example.com") || !sg.Suppressed("ana@example.com") {
		t.Error("add over the customer's own entry changed it")
	}
}

func TestRemoveLeavesGlobalUnsubscribeAndOtherGroups(t *testing.T) {
	const addr = "ben@example.com"
	sg, l := fixture(t)
	sg.AddGroup(7)
	sg.SeedGlobal(addr)
	other := newList(t, sg.URL(), testKey, 7)
	ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
	if err := other.Add(ctx, c, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, c, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, c, addr); err != nil {
		t.Fatal(err)
	}
	if sg.HushListed(addr) || sg.InGroup(testGroup, addr) {
		t.Error("the group entry is still there")
	}
	if !sg.GloballyUnsubscribed(addr) || !sg.Suppressed(addr) {
		t.Error("remove took the customer's global unsubscribe away")
	}
	if !sg.InGroup(7, addr) {
		t.Error("remove touched another group")
	}
}

func TestUnknownGroup(t *testing.T) {
	const addr = "cleo@example.com"
	sg := suppresstest.NewSendGrid(t, testKey, testGroup)
	l := newList(t, sg.URL(), testKey, 999)
	ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)

	err := l.Add(ctx, c, addr)
	se := suppresstest.SyncError(t, err)
	if !se.Permanent || se.Status != http.StatusNotFound || !strings.Contains(se.Message, "group_id") {
		t.Errorf("add to an unknown group: %+v, want permanent 404 naming group_id", se)
	}
	if sg.GloballyUnsubscribed(addr) || sg.Calls("add", addr) != 0 {
		t.Error("add to an unknown group reached SendGrid, which puts the address on the global list")
	}

	_, err = l.Contains(ctx, c, addr)
	if se := suppresstest.SyncError(t, err); !se.Permanent || se.Status != http.StatusNotFound {
		t.Errorf("contains in an unknown group: %+v, want permanent 404", se)
	}
	// A deleted group took its suppressions with it: nothing left to remove.
	if err := l.Remove(ctx, c, addr); err != nil {
		t.Errorf("remove from an unknown group: %v, want nil", err)
	}
}

func TestFailures(t *testing.T) {
	const addr = "dora+x@example.com"
	tests := []struct {
		name      string
		fault     suppresstest.Fault // 0: none
		key       string             // "" for the right one
		timeout   time.Duration
		transport bool // want a transport error, not a *SyncError
		status    int
		permanent bool
		retry     time.Duration
		message   string
	}{
		{name: "wrong key", key: "SG.wrong", status: 401, permanent: true, message: "authorization required"},
		{name: "500", fault: suppresstest.Fail500, status: 500},
		{name: "429", fault: suppresstest.Fail429, status: 429, retry: time.Second},
		{name: "400", fault: suppresstest.Fail400, status: 400, permanent: true},
		{name: "hang", fault: suppresstest.Hang, timeout: 200 * time.Millisecond, transport: true},
	}
	for _, tt := range tests {
		for _, op := range suppresstest.Ops() {
			t.Run(tt.name+"/"+op.Name, func(t *testing.T) {
				sg := suppresstest.NewSendGrid(t, testKey, testGroup)
				sg.SeedOwn(addr) // so that remove would succeed if it got through
				key := testKey
				if tt.key != "" {
					key = tt.key
				}
				l := newList(t, sg.URL(), key, testGroup)
				if tt.fault != 0 {
					sg.Faults().Add(tt.fault)
				}
				c := suppresstest.ShortClient(5 * time.Second)
				if tt.timeout > 0 {
					c.Timeout = tt.timeout
				}
				err := op.Run(context.Background(), l, c, addr)
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(strings.ToLower(err.Error()), "dora") {
					t.Errorf("error %q shows the address", err)
				}
				if tt.transport {
					if te := suppresstest.TransportError(t, err); te.Op != op.Name {
						t.Errorf("error %v is a *suppress.TransportError of %s, want %s", err, te.Op, op.Name)
					}
					return
				}
				se := suppresstest.SyncError(t, err)
				if se.Op != op.Name || se.Status != tt.status || se.Permanent != tt.permanent || se.RetryAfter != tt.retry {
					t.Errorf("got %+v, want op %s status %d permanent %v retry %v", se, op.Name, tt.status, tt.permanent, tt.retry)
				}
				if !strings.Contains(se.Message, tt.message) {
					t.Errorf("message %q does not contain %q", se.Message, tt.message)
				}
				if !sg.Suppressed(addr) {
					t.Error("a failed call changed the list")
				}
				if sg.Faults().Pending() != 0 {
					t.Error("the fault was not served")
				}
			})
		}
	}
}

func TestFailedCallThenSuccess(t *testing.T) {
	const addr = "eve@example.com"
	sg, l := fixture(t)
	sg.Faults().Add(suppresstest.Fail500, suppresstest.Fail429)
	c := suppresstest.ShortClient(5 * time.Second)
	for i := range 2 {
		if err := l.Add(context.Background(), c, addr); err == nil {
			t.Fatalf("try %d: no error with a fault queued", i+1)
		}
	}
	if err := l.Add(context.Background(), c, addr); err != nil {
		t.Fatalf("third try: %v", err)
	}
	if !sg.HushListed(addr) || sg.Calls("add", addr) != 1 || sg.Faults().Injected() != 2 {
		t.Errorf("listed %v, add calls %d, faults served %d; want true, 1, 2", sg.HushListed(addr), sg.Calls("add", addr), sg.Faults().Injected())
	}
}

// TestVendorAnswers covers SendGrid answers the stand-in does not make: its rate limit's
// X-RateLimit-Reset instead of Retry-After, error texts that quote the address, and
// unreadable search answers.
func TestVendorAnswers(t *testing.T) {
	const addr = "fay@example.com"
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		op        string
		wantErr   bool
		permanent bool
		retry     time.Duration
		message   string // the SyncError message, exactly
	}{
		{name: "rate limit reset", status: 429, op: "contains", wantErr: true,
			header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Unix()+30, 10)},
			body:   `{"errors":[{"field":null,"message":"too many requests"}]}`, retry: 30 * time.Second, message: "too many requests"},
		{name: "Retry-After wins over reset", status: 429, op: "remove", wantErr: true,
			header: map[string]string{"Retry-After": "5", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+30, 10)},
			body:   `{"errors":[{"field":null,"message":"too many requests"}]}`, retry: 5 * time.Second, message: "too many requests"},
		{name: "reset capped at an hour", status: 429, op: "contains", wantErr: true,
			header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Unix()+86400, 10)}, retry: time.Hour},
		{name: "reset in the past", status: 503, op: "contains", wantErr: true,
			header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Unix()-5, 10)}},
		{name: "message quoting the address is dropped", status: 400, op: "contains", wantErr: true, permanent: true,
			body:    `{"errors":[{"field":"recipient_emails","message":"fay@example.com is not valid"},{"field":null,"message":"bad request"}]}`,
			message: "bad request"},
		{name: "message quoting the local part is dropped", status: 400, op: "remove", wantErr: true, permanent: true,
			body: `{"errors":[{"field":"email","message":"no such recipient: FAY"}]}`},
		{name: "field named", status: 403, op: "contains", wantErr: true, permanent: true,
			body: `{"errors":[{"field":"scopes","message":"access forbidden"}]}`, message: "scopes: access forbidden"},
		{name: "not json", status: 502, op: "contains", wantErr: true, body: `<html>bad gateway</html>`},
		{name: "search answer not an array", status: 200, op: "contains", wantErr: true, body: `{"recipient_emails":["fay@example.com"]}`},
		{name: "search answer null", status: 200, op: "contains", body: `null`},
		{name: "search answer other address", status: 200, op: "contains", body: `["gus@example.com"]`},
		{name: "remove 204", status: 204, op: "remove"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			l := newList(t, srv.URL, testKey, testGroup)
			l.now = func() time.Time { return now }
			var err error
			for _, op := range suppresstest.Ops() {
				if op.Name == tt.op {
					err = op.Run(context.Background(), l, suppresstest.ShortClient(5*time.Second), addr)
				}
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			se := suppresstest.SyncError(t, err)
			if se.Permanent != tt.permanent || se.RetryAfter != tt.retry {
				t.Errorf("got %+v, want permanent %v retry %v", se, tt.permanent, tt.retry)
			}
			if tt.message != "" && se.Message != tt.message {
				t.Errorf("message %q, want %q", se.Message, tt.message)
			}
			if s := strings.ToLower(err.Error()); strings.Contains(s, "fay") {
				t.Errorf("error %q shows the address", err)
			}
		})
	}
}

// TestRequests checks what goes over the wire against SendGrid's documented requests.
func TestRequests(t *testing.T) {
	type seen struct{ method, path, auth, ctype, body string }
	var (
		mu  sync.Mutex
		got []seen
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/search"):
			_, _ = w.Write([]byte(`[]`))
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"recipient_emails":["a+b@example.com"]}`))
		default:
			_, _ = w.Write([]byte(`{"id":42,"name":"x","description":"y"}`))
		}
	}))
	t.Cleanup(srv.Close)
	l := newList(t, srv.URL+"/", testKey, 42)
	ctx, c, addr := context.Background(), suppresstest.ShortClient(5*time.Second), "a+b@example.com"
	if _, err := l.Contains(ctx, c, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, c, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, c, addr); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	body := `{"recipient_emails":["a+b@example.com"]}`
	want := []seen{
		{"POST", "/v3/asm/groups/42/suppressions/search", "Bearer " + testKey, "application/json", body},
		{"GET", "/v3/asm/groups/42", "Bearer " + testKey, "", ""},
		{"POST", "/v3/asm/groups/42/suppressions", "Bearer " + testKey, "application/json", body},
		{"DELETE", "/v3/asm/groups/42/suppressions/a%2Bb@example.com", "Bearer " + testKey, "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func FuzzParseSearch(f *testing.F) {
	f.Add([]byte(`["exists1@example.com","exists2@example.com"]`), "exists2@example.com")
	f.Add([]byte(`[]`), "a@example.com")
	f.Add([]byte(`["A@Example.COM"]`), "a@example.com")
	f.Add([]byte(`null`), "a@example.com")
	f.Add([]byte(`{"errors":[{"field":null,"message":"authorization required"}]}`), "a@example.com")
	f.Add([]byte(`[1,2]`), "a@example.com")
	f.Fuzz(func(t *testing.T, body []byte, addr string) {
		found, err := parseSearch(body, addr)
		if err != nil {
			if found {
				t.Fatal("found with an error")
			}
			return
		}
		// Whatever parses is a JSON array of strings (or null), and found says whether
		// one of them is the address.
		var list []string
		if json.Unmarshal(body, &list) != nil {
			t.Fatalf("parsed %q, which is not an array of strings", body)
		}
		want := false
		for _, s := range list {
			want = want || strings.EqualFold(strings.TrimSpace(s), addr)
		}
		if found != want {
			t.Fatalf("found %v, want %v for %q in %q", found, want, addr, body)
		}
	})
}

func FuzzParseErrors(f *testing.F) {
	f.Add([]byte(`{"errors":[{"field":null,"message":"authorization required"}]}`), "a@example.com")
	f.Add([]byte(`{"errors":[{"field":null,"message":"too many requests"}]}`), "a@example.com")
	f.Add([]byte(`{"errors":[{"field":"recipient_emails","message":"a@example.com is invalid","help":null}]}`), "a@example.com")
	f.Add([]byte(`{"errors":[{"message":"Maximum credits exceeded","field":null,"help":null}]}`), "x@y.z")
	f.Add([]byte(`{"errors":"nope"}`), "x@y.z")
	f.Add([]byte(`injected failure`), "x@y.z")
	f.Fuzz(func(t *testing.T, body []byte, addr string) {
		msgs := parseErrors(body)
		for _, m := range msgs {
			if strings.TrimSpace(m) == "" {
				t.Fatalf("empty message from %q", body)
			}
		}
		a := strings.ToLower(strings.TrimSpace(addr))
		for _, m := range withoutAddress(msgs, addr) {
			if strings.Contains(m, "@") {
				t.Fatalf("message %q holds an address", m)
			}
			if a != "" && strings.Contains(strings.ToLower(m), a) {
				t.Fatalf("message %q holds the address %q", m, addr)
			}
		}
	})
}
