package mandrill

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
	"github.com/hush-gateway/hush/gateway"
)

const testKey = "md-test-key-0123456789"

func newList(t testing.TB, url string, opts map[string]any) *SuppressionList {
	t.Helper()
	all := map[string]any{"api_key": testKey}
	for k, v := range opts {
		all[k] = v
	}
	l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "mandrill", Kind: Kind, URL: url, Sync: true, Options: all})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// scopes are the two places hush can keep its rejects: the account's own denylist and a
// subaccount's.
var scopes = []string{"", "marketing"}

func scopeOpts(sub string) map[string]any {
	if sub == "" {
		return nil
	}
	return map[string]any{"subaccount": sub}
}

func TestHushCommentMatchesStandin(t *testing.T) {
	if HushComment != suppresstest.MandrillHushComment {
		t.Fatalf("the stand-in knows hush's comment as %q, the client writes %q", suppresstest.MandrillHushComment, HushComment)
	}
}

func TestAddContainsRemove(t *testing.T) {
	addresses := []string{
		"ana@example.com",
		"ana+promo@example.com",
		"o'brien&co=1%20x/y?z#w@example.com",
		`"quoted local"@example.com`,
		"Ünïcode.Ñame@exämple.com",
	}
	ctx := context.Background()
	for _, sub := range scopes {
		for _, addr := range addresses {
			t.Run(sub+"/"+addr, func(t *testing.T) {
				m := suppresstest.NewMandrill(t, testKey, sub)
				l := newList(t, m.URL(), scopeOpts(sub))
				c := suppresstest.ShortClient(5 * time.Second)

				if in, err := l.Contains(ctx, c, addr); err != nil || in {
					t.Fatalf("Contains before add = %v, %v; want false, nil", in, err)
				}
				if err := l.Add(ctx, c, addr); err != nil {
					t.Fatalf("Add: %v", err)
				}
				if !m.Suppressed(addr) || !m.HushListed(addr) {
					t.Fatalf("after Add: Suppressed %v, HushListed %v; want both", m.Suppressed(addr), m.HushListed(addr))
				}
				if reason, detail, _ := m.Reject(sub, addr); reason != "custom" || detail != HushComment {
					t.Fatalf("reject = %q/%q, want custom/%q", reason, detail, HushComment)
				}
				if err := l.Add(ctx, c, addr); err != nil {
					t.Fatalf("second Add: %v", err)
				}
				if got := m.Calls("add", addr); got != 2 {
					t.Fatalf("add calls = %d, want 2", got)
				}
				if in, err := l.Contains(ctx, c, addr); err != nil || !in {
					t.Fatalf("Contains after add = %v, %v; want true, nil", in, err)
				}
				if err := l.Remove(ctx, c, addr); err != nil {
					t.Fatalf("Remove: %v", err)
				}
				if m.Suppressed(addr) {
					t.Fatal("still rejected after Remove")
				}
				if err := l.Remove(ctx, c, addr); err != nil {
					t.Fatalf("Remove of an address no longer listed: %v", err)
				}
				if got := m.Calls("remove", addr); got != 1 {
					t.Fatalf("delete calls = %d, want 1", got)
				}
			})
		}
	}
}

// TestRemoveLeavesOthersRejects: every reject hush did not make stays, and is not even
// asked to go.
func TestRemoveLeavesOthersRejects(t *testing.T) {
	tests := []struct {
		name, reason, detail string
	}{
		{"unsubscribe", "unsub", "unsubscribed from a message"},
		{"hard bounce", "hard-bounce", "550 mailbox does not exist"},
		{"soft bounce", "soft-bounce", "452 mailbox full"},
		{"spam complaint", "spam", ""},
		{"custom by hand", "custom", "asked us on the phone"},
		{"custom with a longer comment", "custom", HushComment + " (by hand)"},
		{"hush's comment on another reason", "unsub", HushComment},
	}
	ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
	for _, sub := range scopes {
		for _, tt := range tests {
			t.Run(sub+"/"+tt.name, func(t *testing.T) {
				m := suppresstest.NewMandrill(t, testKey, sub)
				l := newList(t, m.URL(), scopeOpts(sub))
				addr := "customer+own@example.com"
				m.Seed(sub, addr, tt.reason, tt.detail)

				if in, err := l.Contains(ctx, c, addr); err != nil || !in {
					t.Fatalf("Contains = %v, %v; want true, nil", in, err)
				}
				if err := l.Remove(ctx, c, addr); err != nil {
					t.Fatalf("Remove: %v", err)
				}
				reason, detail, ok := m.Reject(sub, addr)
				if !ok || reason != tt.reason || detail != tt.detail {
					t.Fatalf("after Remove the reject is %q/%q (present %v), want %q/%q untouched", reason, detail, ok, tt.reason, tt.detail)
				}
				if m.Calls("remove", addr) != 0 {
					t.Fatal("Remove called rejects/delete on a reject that is not hush's")
				}
			})
		}
	}
}

func TestSeedOwnIsContainedAndKept(t *testing.T) {
	ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
	m := suppresstest.NewMandrill(t, testKey, "marketing")
	l := newList(t, m.URL(), scopeOpts("marketing"))
	m.SeedOwn("own@example.com")
	if in, err := l.Contains(ctx, c, "own@example.com"); err != nil || !in {
		t.Fatalf("Contains = %v, %v; want true, nil", in, err)
	}
	// The worker never adds an address it found listed; were it to, the customer's
	// unsubscribe must still survive hush's Remove.
	if err := l.Add(ctx, c, "own@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, c, "own@example.com"); err != nil {
		t.Fatal(err)
	}
	if !m.Suppressed("own@example.com") || m.HushListed("own@example.com") {
		t.Fatal("the customer's unsubscribe did not survive Add and Remove")
	}
}

func TestScopeAndMatching(t *testing.T) {
	ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
	t.Run("other subaccounts and the account's own list are not hush's scope", func(t *testing.T) {
		m := suppresstest.NewMandrill(t, testKey, "marketing")
		m.Seed("", "ana@example.com", "custom", HushComment)
		m.Seed("receipts", "ana@example.com", "custom", HushComment)
		l := newList(t, m.URL(), scopeOpts("marketing"))
		if in, err := l.Contains(ctx, c, "ana@example.com"); err != nil || in {
			t.Fatalf("Contains = %v, %v; want false, nil", in, err)
		}
		if err := l.Remove(ctx, c, "ana@example.com"); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"", "receipts"} {
			if _, _, ok := m.Reject(sub, "ana@example.com"); !ok {
				t.Fatalf("the reject in %q was deleted", sub)
			}
		}
	})
	t.Run("a longer address the search also finds is another address", func(t *testing.T) {
		m := suppresstest.NewMandrill(t, testKey, "")
		m.Seed("", "ana@example.com.au", "custom", HushComment)
		m.SeedOwn("ana@example.community")
		l := newList(t, m.URL(), nil)
		if in, err := l.Contains(ctx, c, "ana@example.com"); err != nil || in {
			t.Fatalf("Contains = %v, %v; want false, nil", in, err)
		}
		if err := l.Add(ctx, c, "ana@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := l.Remove(ctx, c, "ana@example.com"); err != nil {
			t.Fatal(err)
		}
		if m.Suppressed("ana@example.com") || !m.HushListed("ana@example.com.au") || !m.Suppressed("ana@example.community") {
			t.Fatal("Remove of one address touched another the search matched")
		}
	})
	t.Run("case does not matter", func(t *testing.T) {
		m := suppresstest.NewMandrill(t, testKey, "")
		l := newList(t, m.URL(), nil)
		if err := l.Add(ctx, c, "Ana@Example.COM"); err != nil {
			t.Fatal(err)
		}
		if in, err := l.Contains(ctx, c, "ana@example.com"); err != nil || !in {
			t.Fatalf("Contains = %v, %v; want true, nil", in, err)
		}
		if err := l.Remove(ctx, c, "ana@example.com"); err != nil {
			t.Fatal(err)
		}
		if m.Suppressed("ana@example.com") {
			t.Fatal("Remove in other case left the reject")
		}
	})
	t.Run("an expired reject blocks nothing and is replaced by hush's", func(t *testing.T) {
		m := suppresstest.NewMandrill(t, testKey, "")
		m.SeedExpired("old@example.com", "hard-bounce")
		l := newList(t, m.URL(), nil)
		if in, err := l.Contains(ctx, c, "old@example.com"); err != nil || in {
			t.Fatalf("Contains = %v, %v; want false, nil", in, err)
		}
		if err := l.Add(ctx, c, "old@example.com"); err != nil {
			t.Fatal(err)
		}
		if !m.HushListed("old@example.com") {
			t.Fatal("hush's reject did not replace the expired one")
		}
	})
	t.Run("an account-wide client ignores entries of subaccounts", func(t *testing.T) {
		// The stand-in filters by subaccount itself; this answer carries a subaccount's
		// reject anyway, as an answer might.
		url := fakeMandrill(t, func(method string, _ map[string]any) (int, string) {
			return 200, `[{"email":"ana@example.com","reason":"custom","detail":"hush: silenced","expired":false,"subaccount":"receipts","sender":null}]`
		}, nil)
		l := newList(t, url, nil)
		if in, err := l.Contains(ctx, c, "ana@example.com"); err != nil || in {
			t.Fatalf("Contains = %v, %v; want false, nil", in, err)
		}
	})
}

func TestAddOfAllowlistedAddress(t *testing.T) {
	m := suppresstest.NewMandrill(t, testKey, "")
	m.Allow("vip@example.com")
	l := newList(t, m.URL(), nil)
	err := l.Add(context.Background(), suppresstest.ShortClient(5*time.Second), "vip@example.com")
	if se := suppresstest.SyncError(t, err); !se.Permanent || se.Op != "add" {
		t.Fatalf("Add of an allowlisted address = %v, want a permanent add SyncError", err)
	}
	if m.Suppressed("vip@example.com") {
		t.Fatal("allowlisted address got rejected")
	}
}

// TestRequests checks the bodies the client sends, which the stand-in reads leniently.
func TestRequests(t *testing.T) {
	for _, sub := range scopes {
		t.Run("subaccount="+sub, func(t *testing.T) {
			var got []recorded
			url := fakeMandrill(t, func(method string, _ map[string]any) (int, string) {
				switch method {
				case "list":
					return 200, `[{"email":"ana@example.com","reason":"custom","detail":"hush: silenced","expired":false,"subaccount":null,"sender":null}]`
				case "add":
					return 200, `{"email":"ana@example.com","added":true}`
				}
				return 200, `{"email":"ana@example.com","deleted":true,"subaccount":null}`
			}, &got)
			l := newList(t, url+"/", scopeOpts(sub))
			ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
			if err := l.Add(ctx, c, "ana@example.com"); err != nil {
				t.Fatal(err)
			}
			if err := l.Remove(ctx, c, "ana@example.com"); err != nil {
				t.Fatal(err)
			}
			want := []recorded{
				{"/api/1.0/rejects/add.json", map[string]any{"key": testKey, "email": "ana@example.com", "comment": HushComment}},
				{"/api/1.0/rejects/list.json", map[string]any{"key": testKey, "email": "ana@example.com", "include_expired": false}},
				{"/api/1.0/rejects/delete.json", map[string]any{"key": testKey, "email": "ana@example.com"}},
			}
			if sub != "" {
				for _, w := range want {
					w.body["subaccount"] = sub
				}
			}
			if len(got) != len(want) {
				t.Fatalf("calls = %+v, want %+v", got, want)
			}
			for i := range want {
				gb, _ := json.Marshal(got[i].body)
				wb, _ := json.Marshal(want[i].body)
				if got[i].path != want[i].path || string(gb) != string(wb) {
					t.Errorf("call %d = %s %s, want %s %s", i, got[i].path, gb, want[i].path, wb)
				}
			}
		})
	}
}

type recorded struct {
	path string
	body map[string]any
}

// fakeMandrill is a scripted server for answers the stand-in never gives. It records the
// calls in *got when got is not nil.
func fakeMandrill(t *testing.T, answer func(method string, body map[string]any) (int, string), got *[]recorded) string {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Method != http.MethodPost ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: not a JSON POST", r.Method, r.URL.Path)
		}
		mu.Lock()
		if got != nil {
			*got = append(*got, recorded{r.URL.Path, body})
		}
		mu.Unlock()
		method := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/1.0/rejects/"), ".json")
		status, text := answer(method, body)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(text))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name       string
		key        string // "" the right one
		subaccount string // "" the stand-in's
		fault      suppresstest.Fault
		status     int
		permanent  bool
		retryAfter time.Duration
		message    string
	}{
		{name: "wrong key", key: "wrong-key", status: 500, permanent: true, message: "Invalid_Key: Invalid API key"},
		{name: "unknown subaccount", subaccount: "nope", status: 500, permanent: true, message: "Unknown_Subaccount: No subaccount exists with the id 'nope'"},
		{name: "500 not Mandrill's", fault: suppresstest.Fail500, status: 500},
		{name: "429", fault: suppresstest.Fail429, status: 429, retryAfter: time.Second},
		{name: "400", fault: suppresstest.Fail400, status: 400, permanent: true},
	}
	addr := "ana+x@example.com"
	for _, tt := range tests {
		for _, o := range suppresstest.Ops() {
			t.Run(tt.name+"/"+o.Name, func(t *testing.T) {
				m := suppresstest.NewMandrill(t, testKey, "marketing")
				m.Seed("marketing", addr, "custom", HushComment) // so remove gets as far as it can
				opts := map[string]any{"subaccount": "marketing"}
				if tt.key != "" {
					opts["api_key"] = tt.key
				}
				if tt.subaccount != "" {
					opts["subaccount"] = tt.subaccount
				}
				l := newList(t, m.URL(), opts)
				if tt.fault != 0 {
					m.Faults().Add(tt.fault)
				}
				err := o.Run(context.Background(), l, suppresstest.ShortClient(5*time.Second), addr)
				se := suppresstest.SyncError(t, err)
				if se.Op != o.Name || se.Status != tt.status || se.Permanent != tt.permanent || se.RetryAfter != tt.retryAfter {
					t.Fatalf("SyncError = %+v, want op %s status %d permanent %v retry after %v", se, o.Name, tt.status, tt.permanent, tt.retryAfter)
				}
				if tt.message != "" && se.Message != tt.message {
					t.Fatalf("message = %q, want %q", se.Message, tt.message)
				}
				assertNoSecrets(t, err, addr, "wrong-key")
				if !m.HushListed(addr) {
					t.Fatal("a refused call changed the list")
				}
			})
		}
	}
}

func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, testKey) {
		if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(s)) {
			t.Fatalf("error %q repeats %q", err, s)
		}
	}
}

func TestMandrillErrorNames(t *testing.T) {
	addr := "ana@example.com"
	tests := []struct {
		name      string
		body      string
		permanent bool
		message   string
	}{
		{"general error", `{"status":"error","code":-99,"name":"GeneralError","message":"An unexpected error occurred"}`, false, "GeneralError: An unexpected error occurred"},
		{"service unavailable", `{"status":"error","code":-1,"name":"ServiceUnavailable","message":"down for maintenance"}`, false, "ServiceUnavailable: down for maintenance"},
		{"a name hush does not know", `{"status":"error","code":-1,"name":"Brand_New","message":"new"}`, false, "Brand_New: new"},
		{"validation error echoing the address", `{"status":"error","code":-2,"name":"ValidationError","message":"ana@example.com is invalid"}`, true, "ValidationError"},
		{"payment required", `{"status":"error","code":-1,"name":"PaymentRequired","message":"This feature is only available for paid accounts"}`, true, "PaymentRequired: This feature is only available for paid accounts"},
		{"unreadable 500", `<html>Bad gateway</html>`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := fakeMandrill(t, func(string, map[string]any) (int, string) { return 500, tt.body }, nil)
			err := newList(t, url, nil).Add(context.Background(), suppresstest.ShortClient(5*time.Second), addr)
			se := suppresstest.SyncError(t, err)
			if se.Permanent != tt.permanent || se.Status != 500 {
				t.Fatalf("err = %#v, want a SyncError with status 500, permanent %v", err, tt.permanent)
			}
			if tt.message != "" && se.Message != tt.message {
				t.Fatalf("message = %q, want %q", se.Message, tt.message)
			}
			assertNoSecrets(t, err, addr)
		})
	}
}

func TestRemoveDeleteAnswers(t *testing.T) {
	const hushs = `[{"email":"ana@example.com","reason":"custom","detail":"hush: silenced","expired":false,"subaccount":null,"sender":null}]`
	tests := []struct {
		name      string
		status    int
		answer    string
		wantErr   bool
		permanent bool
	}{
		{"deleted", 200, `{"email":"ana@example.com","deleted":true,"subaccount":null}`, false, false},
		{"gone between list and delete", 500, `{"status":"error","code":12,"name":"Invalid_Reject","message":"not in the rejection list"}`, false, false},
		{"not deleted", 200, `{"email":"ana@example.com","deleted":false}`, true, false},
		{"general error", 500, `{"status":"error","code":-99,"name":"GeneralError","message":"oops"}`, true, false},
		{"unreadable answer", 200, `{"email":`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := fakeMandrill(t, func(method string, _ map[string]any) (int, string) {
				if method == "list" {
					return 200, hushs
				}
				return tt.status, tt.answer
			}, nil)
			err := newList(t, url, nil).Remove(context.Background(), suppresstest.ShortClient(5*time.Second), "ana@example.com")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Remove = %v, want error %v", err, tt.wantErr)
			}
			var se *gateway.SyncError
			if err != nil && (!errors.As(err, &se) || se.Permanent != tt.permanent || se.Op != "remove") {
				t.Fatalf("err = %#v, want a remove SyncError, permanent %v", err, tt.permanent)
			}
		})
	}
}

func TestHangIsATransportError(t *testing.T) {
	m := suppresstest.NewMandrill(t, testKey, "")
	l := newList(t, m.URL(), nil)
	m.Faults().Add(suppresstest.Hang)
	err := l.Add(context.Background(), suppresstest.ShortClient(200*time.Millisecond), "ana@example.com")
	suppresstest.TransportError(t, err)
	assertNoSecrets(t, err, "ana@example.com")
	// The same call goes through once the stand-in answers again.
	if err := l.Add(context.Background(), suppresstest.ShortClient(5*time.Second), "ana@example.com"); err != nil || !m.HushListed("ana@example.com") {
		t.Fatalf("Add after the hang = %v, listed %v", err, m.HushListed("ana@example.com"))
	}
}

func TestNewSuppressionListOptions(t *testing.T) {
	const secret = "md-SECRET-never-printed"
	tests := []struct {
		name    string
		url     string
		opts    map[string]any
		wantErr string // "" no error
		api     string
	}{
		{name: "key only", url: "https://mandrillapp.com", opts: map[string]any{"api_key": secret}, api: "https://mandrillapp.com/api/1.0"},
		{name: "trailing slash", url: "https://mandrillapp.com/", opts: map[string]any{"api_key": secret}, api: "https://mandrillapp.com/api/1.0"},
		{name: "url with the API root", url: "https://mandrillapp.com/api/1.0/", opts: map[string]any{"api_key": secret}, api: "https://mandrillapp.com/api/1.0"},
		{name: "subaccount", url: "https://mandrillapp.com", opts: map[string]any{"api_key": secret, "subaccount": "marketing"}, api: "https://mandrillapp.com/api/1.0"},
		{name: "missing key", url: "https://mandrillapp.com", opts: map[string]any{"subaccount": "marketing"}, wantErr: `option "api_key" for kind "mandrill" is required`},
		{name: "empty key", url: "https://mandrillapp.com", opts: map[string]any{"api_key": ""}, wantErr: `"api_key"`},
		{name: "key of wrong type", url: "https://mandrillapp.com", opts: map[string]any{"api_key": 12345}, wantErr: `option "api_key" for kind "mandrill": want a string`},
		{name: "subaccount of wrong type", url: "https://mandrillapp.com", opts: map[string]any{"api_key": secret, "subaccount": true}, wantErr: `option "subaccount"`},
		{name: "subaccount too long", url: "https://mandrillapp.com", opts: map[string]any{"api_key": secret, "subaccount": strings.Repeat("s", 256)}, wantErr: `"subaccount"`},
		{name: "unknown option", url: "https://mandrillapp.com", opts: map[string]any{"api_key": secret, "group_id": 5}, wantErr: `unknown option "group_id"`},
		{name: "no url", opts: map[string]any{"api_key": secret}, wantErr: "url is required"},
		{name: "url not http", url: "ftp://mandrillapp.com", opts: map[string]any{"api_key": secret}, wantErr: "url must start with http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "md", Kind: Kind, URL: tt.url, Sync: true, Options: tt.opts})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if l.api != tt.api {
					t.Fatalf("API root = %q, want %q", l.api, tt.api)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q prints the key", err)
			}
		})
	}
}

func TestSyncOptionsAreRead(t *testing.T) {
	opts := map[string]any{}
	for _, k := range SyncOptions() {
		opts[k] = "x"
	}
	if _, err := NewSuppressionList(gateway.UpstreamConfig{Name: "md", Kind: Kind, URL: "https://mandrillapp.com", Sync: true, Options: opts}); err != nil {
		t.Fatalf("an option SyncOptions names is refused: %v", err)
	}
	if !slices.Equal(SyncOptions(), []string{"api_key", "subaccount"}) {
		t.Fatalf("SyncOptions = %v", SyncOptions())
	}
	// The proxy's options stay the proxy's: the registry hands the two constructors their
	// own keys, and neither may claim the other's.
	for _, k := range SyncOptions() {
		if _, err := NewUpstream(gateway.UpstreamConfig{Name: "md", Kind: Kind, Options: map[string]any{k: "x"}}); err == nil {
			t.Fatalf("NewUpstream accepts sync option %q", k)
		}
	}
}

// FuzzParseAnswers holds the answer parsers to never panicking, and the error message
// built from an answer to never carrying an address.
func FuzzParseAnswers(f *testing.F) {
	seeds := []string{
		`[{"email":"example email","reason":"hard-bounce","detail":"550 mailbox does not exist","created_at":"2013-01-01 15:30:27","last_event_at":"2013-01-01 15:30:27","expires_at":"2013-01-01 15:30:49","expired":false,"sender":{"address":"sender.example@mandrillapp.com","created_at":"2013-01-01 15:30:27","sent":42},"subaccount":"example subaccount"}]`,
		`[{"email":"a@b.c","reason":"custom","detail":"hush: silenced","expired":false,"subaccount":null,"sender":null,"expires_at":null}]`,
		`[]`,
		`{"email":"example email","added":true}`,
		`{"email":"example email","deleted":true,"subaccount":"example subaccount"}`,
		`{"status":"error","code":12,"name":"Unknown_Subaccount","message":"No subaccount exists with the id 'customer-123'"}`,
		`{"status":"error","code":-1,"name":"Invalid_Key","message":"Invalid API key"}`,
		`{"status":"error","name":"x@y","message":"a@b"}`,
		`null`, `{"added":"yes"}`, `[{"expired":"no"}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	l := &SuppressionList{key: testKey}
	f.Fuzz(func(t *testing.T, body []byte) {
		if entries, err := parseRejects(body); err == nil {
			for _, e := range entries {
				_ = e.hushs()
			}
		}
		_, _ = parseFlag(body, "added")
		_, _ = parseFlag(body, "deleted")
		e, ok := parseAPIError(body)
		if !ok {
			return
		}
		if e.Name == "" || e.Status != "error" {
			t.Fatalf("parseAPIError accepted %+v", e)
		}
		se, name := l.refusal(&gateway.SyncError{Op: "add", Status: 500}, body, "ana@example.com")
		if name != e.Name || strings.Contains(se.Message, "@") || strings.Contains(se.Message, testKey) {
			t.Fatalf("refusal = %+v, %q for %q", se, name, body)
		}
		if se.Permanent != permanentName(e.Name) {
			t.Fatalf("permanent %v for name %q", se.Permanent, e.Name)
		}
	})
}
