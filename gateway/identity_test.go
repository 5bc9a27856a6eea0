package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestParseIdentity(t *testing.T) {
	tests := []struct {
		in, region string
		want       gateway.Identity
		wantErr    string
	}{
		{in: "  Ana@Example.COM ", want: "email:ana@example.com"},
		{in: "email:ANA@example.com", want: "email:ana@example.com"},
		{in: "mailto:ana@example.com", want: "email:ana@example.com"},
		{in: "phone:+34 600 11 12 22", want: "phone:+34600111222"},
		{in: "600 111 222", region: "ES", want: "phone:+34600111222"},
		{in: "0034600111222", region: "FR", want: "phone:+34600111222"},
		{in: "whatsapp:+34600111222", want: "phone:+34600111222"},
		{in: "+1 (212) 555-0100", want: "phone:+12125550100"},
		{in: "06 12 34 56 78", region: "FR", want: "phone:+33612345678"},
		{in: "zendesk:8841", want: "zendesk:8841"},
		{in: "Zendesk: 8841 ", want: "zendesk:8841"},
		{in: "", wantErr: "phone is empty"},
		{in: "email:not-an-address", wantErr: "not an email address"},
		{in: "email:Ana <ana@example.com>", wantErr: "not an email address"},
		{in: "phone:12", wantErr: "not a phone number"},
		{in: "600 111 222", region: "", wantErr: "not a phone number"},
		{in: "zendesk:", wantErr: "id is empty"},
		{in: "bad vendor:1", wantErr: "not a vendor name"},
		{in: "zendesk:a\x00b", wantErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := gateway.ParseIdentity(tt.in, tt.region)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseIdentity(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseIdentity(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestIdentityParts(t *testing.T) {
	id := gateway.Identity("phone:+34600111222")
	if id.Kind() != "phone" || id.Value() != "+34600111222" || !id.IsPhone() || id.IsEmail() {
		t.Fatalf("parts of %q: kind %q value %q", id, id.Kind(), id.Value())
	}
}

func TestEventIdentities(t *testing.T) {
	e := gateway.Event{Customer: gateway.EventCustomer{
		Email: "Ana@Example.com", Phone: "600111222",
		IDs: map[string]string{"zendesk": "8841", "intercom": "u1"},
	}}
	ids, bad := e.Identities("ES")
	want := []gateway.Identity{"email:ana@example.com", "phone:+34600111222", "intercom:u1", "zendesk:8841"}
	if len(bad) != 0 || strings.Join(toStrings(ids), ",") != strings.Join(toStrings(want), ",") {
		t.Fatalf("Identities = %v (bad %v), want %v", ids, bad, want)
	}
	e.Customer.Phone = "12"
	ids, bad = e.Identities("ES")
	if len(bad) != 1 || len(ids) != 3 {
		t.Fatalf("with a bad phone: ids %v, bad %v; want 3 ids and 1 error", ids, bad)
	}
}

func toStrings(ids []gateway.Identity) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// FuzzParseIdentity checks that any input either fails or yields an identity that is stable
// under re-parsing (normalization is idempotent) and bounded.
func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{"ana@example.com", "+34600111222", "whatsapp:+34600111222",
		"zendesk:8841", "600111222", "email:A@B.C", "phone:0034 600", "x:y:z"} {
		f.Add(s, "ES")
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		id, err := gateway.ParseIdentity(in, region)
		if err != nil {
			return
		}
		if len(id) > gateway.MaxIdentityLength+16 {
			t.Fatalf("identity %q longer than the bound", id)
		}
		again, err := gateway.ParseIdentity(string(id), region)
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", id, in, err)
		}
		if again != id {
			t.Fatalf("not idempotent: %q → %q → %q", in, id, again)
		}
	})
}

func TestStableID(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	a, b := gateway.StableID("out", at, "sendgrid/cus_1"), gateway.StableID("out", at, "sendgrid/cus_1")
	if a != b || len(a) != len("out_")+26 || a[:4] != "out_" {
		t.Fatalf("StableID = %q, %q", a, b)
	}
	if c := gateway.StableID("out", at, "sendgrid/cus_2"); c == a {
		t.Fatal("different keys gave the same id")
	}
	if later := gateway.StableID("out", at.Add(time.Millisecond), "sendgrid/cus_1"); later <= a {
		t.Fatalf("ids do not sort by time: %q after %q", later, a)
	}
	// The time part is NewID's: ids made by either sort together.
	if n := gateway.NewID("out", at); n[:13] != a[:13] {
		t.Fatalf("time parts differ: %q vs %q", n, a)
	}
}
