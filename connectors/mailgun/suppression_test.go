package mailgun

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/hush-gateway/hush/connectors/suppress/suppresstest"
	"github.com/hush-gateway/hush/gateway"
)

const (
	testKey    = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
	testDomain = "mg.example.com"
)

// newSyncList starts a stand-in for testDomain and a list configured against it with
// extra options on top of the credentials.
func newSyncList(t *testing.T, extra map[string]any) (*SuppressionList, *suppresstest.Mailgun) {
	t.Helper()
	opts := map[string]any{optAPIKey: testKey, optDomain: testDomain}
	for k, v := range extra {
		opts[k] = v
	}
	tag, _ := opts[optTag].(string)
	if tag == "" {
		tag = DefaultSyncTag
	}
	sb := suppresstest.NewMailgun(t, testKey, testDomain, tag)
	l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "mailgun", Kind: Kind, URL: sb.URL(), Sync: true, Options: opts})
	if err != nil {
		t.Fatalf("NewSuppressionList: %v", err)
	}
	return l, sb
}

// Addresses that must survive the trip through a URL path and a form body unchanged.
var roundTripAddresses = []string{
	"jane@example.com",
	"jane+promo@example.com",
	"o'brien@example.co.uk",
	"odd!#$%&'*/=?^_`{|}~-@example.com",
	"100%25@example.com", // a literal "%25", not an escape
	"a.b-c_d@sub.example.org",
}

func TestSuppressionListAddContainsRemove(t *testing.T) {
	for _, addr := range roundTripAddresses {
		t.Run(addr, func(t *testing.T) {
			l, sb := newSyncList(t, nil)
			ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)

			mustContain(t, l, c, addr, false)
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("Add: %v", err)
			}
			if !sb.HushListed(addr) || !sb.Suppressed(addr) {
				t.Fatalf("after Add: HushListed %v, Suppressed %v; want both (tags %q)", sb.HushListed(addr), sb.Suppressed(addr), sb.Tags(addr))
			}
			mustContain(t, l, c, addr, true)
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("second Add: %v", err)
			}
			if got := sb.Tags(addr); !slices.Equal(got, []string{"hush"}) {
				t.Fatalf("tags after two adds = %q, want [hush]", got)
			}
			if n := sb.Calls("add", addr); n != 2 {
				t.Errorf("stand-in answered %d adds about %q, want 2", n, addr)
			}
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if sb.Suppressed(addr) || sb.Tags(addr) != nil {
				t.Fatalf("after Remove: tags %q, want no record", sb.Tags(addr))
			}
			mustContain(t, l, c, addr, false)
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("Remove of an address not on the list: %v", err)
			}
			if n := sb.Calls("remove", addr); n != 1 {
				t.Errorf("stand-in answered %d removes about %q, want 1", n, addr)
			}
		})
	}
}

// The customer's own unsubscribes share the record with hush's tag; hush takes off its tag
// and nothing else.
func TestSuppressionListKeepsCustomersOwn(t *testing.T) {
	const addr = "ana@example.com"
	tests := []struct {
		name string
		seed func(sb *suppresstest.Mailgun)
		// containsBefore: what Contains says before hush adds (the worker then records the
		// address as the customer's own and never adds or removes it).
		containsBefore bool
		wantTags       []string // after hush's Add and Remove
		wantSuppressed bool
	}{
		{"unsubscribed from everything", func(sb *suppresstest.Mailgun) { sb.SeedOwn(addr) }, true, []string{"*"}, true},
		{"unsubscribed from another tag", func(sb *suppresstest.Mailgun) { sb.SeedTag(addr, "newsletter") }, false, []string{"newsletter"}, false},
		{"both", func(sb *suppresstest.Mailgun) { sb.SeedTag(addr, "newsletter"); sb.SeedOwn(addr) }, true, []string{"newsletter", "*"}, true},
		{"hush's tag in other case", func(sb *suppresstest.Mailgun) { sb.SeedTag(addr, "HUSH") }, true, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, sb := newSyncList(t, nil)
			ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
			tt.seed(sb)
			mustContain(t, l, c, addr, tt.containsBefore)
			if err := l.Add(ctx, c, addr); err != nil {
				t.Fatalf("Add: %v", err)
			}
			if !sb.HushListed(addr) {
				t.Fatalf("after Add: tags %q, want hush's among them", sb.Tags(addr))
			}
			mustContain(t, l, c, addr, true)
			if err := l.Remove(ctx, c, addr); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if got := sb.Tags(addr); !slices.Equal(got, tt.wantTags) {
				t.Fatalf("tags after Add and Remove = %q, want %q", got, tt.wantTags)
			}
			if sb.HushListed(addr) || sb.Suppressed(addr) != tt.wantSuppressed {
				t.Fatalf("HushListed %v Suppressed %v, want false %v", sb.HushListed(addr), sb.Suppressed(addr), tt.wantSuppressed)
			}
		})
	}
}

func TestSuppressionListCustomTag(t *testing.T) {
	const addr = "bob@example.com"
	l, sb := newSyncList(t, map[string]any{optTag: "September newsletter"})
	ctx, c := context.Background(), suppresstest.ShortClient(5*time.Second)
	sb.SeedTag(addr, "hush") // someone else's "hush" is not this list's tag
	mustContain(t, l, c, addr, false)
	if err := l.Add(ctx, c, addr); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if got := sb.Tags(addr); !slices.Equal(got, []string{"hush", "September newsletter"}) {
		t.Fatalf("tags = %q", got)
	}
	if err := l.Remove(ctx, c, addr); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if got := sb.Tags(addr); !slices.Equal(got, []string{"hush"}) {
		t.Fatalf("tags after Remove = %q, want [hush]", got)
	}
}

func TestSuppressionListRefusals(t *testing.T) {
	const addr = "carol+x@example.com"
	tests := []struct {
		name       string
		opts       map[string]any
		fault      suppresstest.Fault
		status     int
		permanent  bool
		retryAfter time.Duration
		message    string // a part of the error's message
	}{
		{name: "wrong key", opts: map[string]any{optAPIKey: "key-wrong-wrong"}, status: 401, permanent: true, message: "private API key"},
		{name: "unknown domain", opts: map[string]any{optDomain: "mg.other.example"}, status: 404, permanent: true, message: "Domain not found: mg.other.example"},
		{name: "500", fault: suppresstest.Fail500, status: 500},
		{name: "429", fault: suppresstest.Fail429, status: 429, retryAfter: time.Second},
		{name: "400", fault: suppresstest.Fail400, status: 400, permanent: true},
	}
	for _, tt := range tests {
		for _, op := range suppresstest.Ops() {
			t.Run(tt.name+"/"+op.Name, func(t *testing.T) {
				l, sb := newSyncList(t, tt.opts)
				sb.SeedTag(addr, "hush") // so that remove and contains have something to act on
				if tt.fault != 0 {
					sb.Faults().Add(tt.fault)
				}
				se := suppresstest.SyncError(t, op.Run(context.Background(), l, suppresstest.ShortClient(5*time.Second), addr))
				if se.Op != op.Name || se.Status != tt.status || se.Permanent != tt.permanent || se.RetryAfter != tt.retryAfter {
					t.Fatalf("got %+v, want op %s status %d permanent %v retry after %v", *se, op.Name, tt.status, tt.permanent, tt.retryAfter)
				}
				if !strings.Contains(se.Error(), tt.message) {
					t.Errorf("error %q does not say %q", se.Error(), tt.message)
				}
				for _, secret := range []string{addr, "carol", testKey, "key-wrong-wrong"} {
					if strings.Contains(se.Error(), secret) {
						t.Errorf("error %q shows %q", se.Error(), secret)
					}
				}
				if !sb.HushListed(addr) {
					t.Errorf("a refused call changed the list: tags %q", sb.Tags(addr))
				}
			})
		}
	}
}

// Mailgun's 400 for an address it refuses repeats the address; the error must not.
func TestSuppressionListRefusedAddressIsNotRepeated(t *testing.T) {
	l, _ := newSyncList(t, nil)
	const bad = "no-at-sign.example.com"
	se := suppresstest.SyncError(t, l.Add(context.Background(), suppresstest.ShortClient(5*time.Second), bad))
	if !se.Permanent || se.Status != http.StatusBadRequest {
		t.Fatalf("Add(%q) = %v, want a permanent 400", bad, se)
	}
	if strings.Contains(se.Error(), bad) {
		t.Fatalf("error %q repeats the address", se.Error())
	}
}

func TestSuppressionListHangIsATransportError(t *testing.T) {
	l, sb := newSyncList(t, nil)
	sb.Faults().MaxHang = 5 * time.Second
	sb.Faults().Add(suppresstest.Hang)
	c := suppresstest.ShortClient(200 * time.Millisecond)
	// A GET: the stand-in's Hang notices a client that gave up only once the request body
	// is read, so a POST would hang for MaxHang.
	_, err := l.Contains(context.Background(), c, "dan@example.com")
	suppresstest.TransportError(t, err)
	if sb.Faults().Injected() != 1 {
		t.Fatalf("the hang was not served")
	}
	// The next call goes through.
	if err := l.Add(context.Background(), suppresstest.ShortClient(5*time.Second), "dan@example.com"); err != nil {
		t.Fatalf("Add after the hang: %v", err)
	}
	if !sb.HushListed("dan@example.com") {
		t.Fatal("not listed after a successful Add")
	}
}

// Retried after every failure, an add lands exactly once.
func TestSuppressionListAddArrivesOnceAfterFailures(t *testing.T) {
	const addr = "erin@example.com"
	l, sb := newSyncList(t, nil)
	sb.Faults().Add(suppresstest.Fail500, suppresstest.Fail429, suppresstest.Fail500)
	c := suppresstest.ShortClient(5 * time.Second)
	var err error
	tries := 0
	for tries = 1; tries <= 10; tries++ {
		if err = l.Add(context.Background(), c, addr); err == nil {
			break
		}
		var se *gateway.SyncError
		if !errors.As(err, &se) || se.Permanent {
			t.Fatalf("try %d: %v, want a retryable refusal", tries, err)
		}
	}
	if err != nil || tries != 4 {
		t.Fatalf("after %d tries: %v; want success on the 4th", tries, err)
	}
	if n := sb.Calls("add", addr); n != 1 || !sb.HushListed(addr) {
		t.Fatalf("answered adds %d, listed %v; want 1, true", n, sb.HushListed(addr))
	}
}

// The stand-in understands the requests of Mailgun's own SDK and answers in shapes the SDK
// reads, and it shows why hush's Remove always names its tag: the SDK's DeleteUnsubscribe
// (no tag) takes the customer's own unsubscribe off too.
func TestMailgunStandinSpeaksTheSDK(t *testing.T) {
	const addr = "frank+sdk@example.com"
	l, sb := newSyncList(t, nil)
	ctx := context.Background()
	mg := mailgun.NewMailgun(testDomain, testKey)
	mg.SetAPIBase(sb.URL() + "/v3")

	if err := mg.CreateUnsubscribe(ctx, addr, "*"); err != nil {
		t.Fatalf("SDK CreateUnsubscribe: %v", err)
	}
	if err := l.Add(ctx, suppresstest.ShortClient(5*time.Second), addr); err != nil {
		t.Fatalf("Add: %v", err)
	}
	u, err := mg.GetUnsubscribe(ctx, addr)
	if err != nil {
		t.Fatalf("SDK GetUnsubscribe: %v", err)
	}
	if u.Address != addr || !slices.Equal(u.Tags, []string{"*", "hush"}) || u.CreatedAt.IsZero() {
		t.Fatalf("SDK read %+v", u)
	}
	if err := mg.DeleteUnsubscribeWithTag(ctx, addr, "hush"); err != nil {
		t.Fatalf("SDK DeleteUnsubscribeWithTag: %v", err)
	}
	if got := sb.Tags(addr); !slices.Equal(got, []string{"*"}) {
		t.Fatalf("after deleting the hush tag: %q", got)
	}
	if err := mg.DeleteUnsubscribe(ctx, addr); err != nil {
		t.Fatalf("SDK DeleteUnsubscribe: %v", err)
	}
	if sb.Suppressed(addr) {
		t.Fatalf("a DELETE without tag left %q", sb.Tags(addr))
	}
	if _, err := mg.GetUnsubscribe(ctx, addr); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
		t.Fatalf("SDK GetUnsubscribe of a deleted record: %v, want 404", err)
	}
	bad := mailgun.NewMailgun(testDomain, "key-wrong")
	bad.SetAPIBase(sb.URL() + "/v3")
	if _, err := bad.GetUnsubscribe(ctx, addr); mailgun.GetStatusFromErr(err) != http.StatusUnauthorized {
		t.Fatalf("SDK with a wrong key: %v, want 401", err)
	}
}

func TestNewSuppressionListOptions(t *testing.T) {
	const secret = "key-very-secret-value"
	tests := []struct {
		name    string
		url     string
		opts    map[string]any
		wantErr []string // parts of the error; nil: no error
	}{
		{name: "defaults", opts: map[string]any{optAPIKey: secret, optDomain: testDomain}},
		{name: "missing api_key", opts: map[string]any{optDomain: testDomain}, wantErr: []string{`"api_key"`, "required"}},
		{name: "empty api_key", opts: map[string]any{optAPIKey: "", optDomain: testDomain}, wantErr: []string{`"api_key"`, "required"}},
		{name: "missing domain", opts: map[string]any{optAPIKey: secret}, wantErr: []string{`"domain"`, "required"}},
		{name: "unknown key", opts: map[string]any{optAPIKey: secret, optDomain: testDomain, "group_id": 5}, wantErr: []string{`unknown option "group_id"`}},
		{name: "api_key not a string", opts: map[string]any{optAPIKey: 12345, optDomain: testDomain}, wantErr: []string{`"api_key"`, "a string"}},
		{name: "domain not a string", opts: map[string]any{optAPIKey: secret, optDomain: []any{"a"}}, wantErr: []string{`"domain"`, "a string"}},
		{name: "domain with a slash", opts: map[string]any{optAPIKey: secret, optDomain: "mg.example.com/v3"}, wantErr: []string{`"domain"`}},
		{name: "tag not a string", opts: map[string]any{optAPIKey: secret, optDomain: testDomain, optTag: true}, wantErr: []string{`"tag"`, "a string"}},
		{name: "tag star", opts: map[string]any{optAPIKey: secret, optDomain: testDomain, optTag: "*"}, wantErr: []string{`"tag"`, `"*"`}},
		{name: "tag empty", opts: map[string]any{optAPIKey: secret, optDomain: testDomain, optTag: ""}, wantErr: []string{`"tag"`, "empty"}},
		{name: "tag too long", opts: map[string]any{optAPIKey: secret, optDomain: testDomain, optTag: strings.Repeat("x", 129)}, wantErr: []string{`"tag"`, "128"}},
		{name: "tag not ascii", opts: map[string]any{optAPIKey: secret, optDomain: testDomain, optTag: "tranquilité"}, wantErr: []string{`"tag"`, "ASCII"}},
		{name: "no url", url: "-", opts: map[string]any{optAPIKey: secret, optDomain: testDomain}, wantErr: []string{"url is required"}},
		{name: "url with /v3", url: "https://api.mailgun.net/v3", opts: map[string]any{optAPIKey: secret, optDomain: testDomain}, wantErr: []string{"/v3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			switch u {
			case "":
				u = "https://api.mailgun.net/"
			case "-":
				u = ""
			}
			l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "mg", Kind: Kind, URL: u, Sync: true, Options: tt.opts})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if l.base != "https://api.mailgun.net" || l.Tag() != DefaultSyncTag {
					t.Fatalf("base %q tag %q", l.base, l.Tag())
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one saying %q", tt.wantErr)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
	if got := SyncOptions(); !slices.Equal(got, []string{"api_key", "domain", "tag"}) {
		t.Fatalf("SyncOptions() = %q", got)
	}
}

// A url with a trailing slash reaches the same paths.
func TestSuppressionListTrailingSlash(t *testing.T) {
	sb := suppresstest.NewMailgun(t, testKey, testDomain, DefaultSyncTag)
	l, err := NewSuppressionList(gateway.UpstreamConfig{Name: "mg", Kind: Kind, URL: sb.URL() + "/", Sync: true,
		Options: map[string]any{optAPIKey: testKey, optDomain: testDomain}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Add(context.Background(), suppresstest.ShortClient(5*time.Second), "gil@example.com"); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if !sb.HushListed("gil@example.com") {
		t.Fatal("not listed")
	}
}

func mustContain(t *testing.T, l *SuppressionList, c gateway.Doer, addr string, want bool) {
	t.Helper()
	got, err := l.Contains(context.Background(), c, addr)
	if err != nil {
		t.Fatalf("Contains(%q): %v", addr, err)
	}
	if got != want {
		t.Fatalf("Contains(%q) = %v, want %v", addr, got, want)
	}
}

// Answers as Mailgun's API reference shows them, and as the API before 2016 did.
var unsubscribeSeeds = []string{
	`{"address":"alice@example.com","tags":["some tag"],"created_at":"Tue, 07 Jan 2025 19:25:45 UTC"}`,
	`{"tags":["*"],"created_at":"Fri, 18 Oct 2024 18:28:14 UTC","address":"alice@example.com"}`,
	`{"address":"carol@example.com","tags":[],"created_at":"Mon, 01 Jan 0001 00:00:00 UTC"}`,
	`{"created_at":"Wed, 15 Feb 2012 11:21:46 GMT","tag":"*","id":"4f3b954a6addaa3e196735a2","address":"ev@mailgun.net"}`,
	`{"message":"Address not found in unsubscribers table"}`,
	`Forbidden`,
	``,
}

func FuzzParseUnsubscribe(f *testing.F) {
	for _, s := range unsubscribeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tags, err := parseUnsubscribe(body)
		if err != nil {
			if tags != nil {
				t.Fatalf("tags %q with error %v", tags, err)
			}
			return
		}
		// Read only from a JSON object that has an address, and every tag is one of its.
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			t.Fatalf("read %q, which is not a JSON object", body)
		}
		// encoding/json matches keys case-insensitively; so does the parser.
		if !slices.ContainsFunc(slices.Collect(maps.Keys(obj)), func(k string) bool { return strings.EqualFold(k, "address") }) {
			t.Fatalf("read %q, which has no address", body)
		}
		var want struct {
			Tags []string `json:"tags"`
			Tag  *string  `json:"tag"`
		}
		_ = json.Unmarshal(body, &want)
		if want.Tag != nil {
			want.Tags = append(want.Tags, *want.Tag)
		}
		if !slices.Equal(tags, want.Tags) {
			t.Fatalf("tags %q, want %q", tags, want.Tags)
		}
	})
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range append(unsubscribeSeeds,
		`{"message":"Domain not found: mg.example.com"}`,
		`{"message":"Unsubscribe event for this tag does not exist"}`,
		`{"message":"Invalid format for parameter address: x"}`,
		`{"message":7}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := parseMessage(body)
		if msg == "" {
			return
		}
		var obj map[string]any
		if json.Unmarshal(body, &obj) != nil {
			t.Fatalf("message %q from a body that is not a JSON object", msg)
		}
		found := false
		for k, v := range obj {
			found = found || strings.EqualFold(k, "message") && v == msg
		}
		if !found {
			t.Fatalf("message %q is not the body's message", msg)
		}
	})
}
