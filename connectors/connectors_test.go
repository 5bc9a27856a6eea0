package connectors

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hush-gateway/hush/gateway"
)

func TestAllIsWellFormed(t *testing.T) {
	kinds := All()
	if len(kinds) == 0 {
		t.Fatal("no connector kinds")
	}
	name := regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	var names []string
	for _, k := range kinds {
		if !name.MatchString(k.Name) {
			t.Errorf("kind name %q is not a lower-case identifier", k.Name)
		}
		if k.NewSource == nil && k.NewUpstream == nil && k.NewAlert == nil {
			t.Errorf("kind %q has no side at all", k.Name)
		}
		if k.Doc == "" || strings.Contains(k.Doc, "\n") {
			t.Errorf("kind %q: Doc must be one line", k.Name)
		}
		names = append(names, k.Name)
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("kind names must be sorted and unique: %v", names)
	}
}

func TestSource(t *testing.T) {
	tests := []struct {
		name string
		cfg  gateway.SourceConfig
		want string // error substring; "" means built
	}{
		{"generic with a secret", gateway.SourceConfig{Name: "crm", Kind: "generic", Secret: "k"}, ""},
		{"generic insecure", gateway.SourceConfig{Name: "crm", Kind: "generic", Insecure: true}, ""},
		{"no secret", gateway.SourceConfig{Name: "crm", Kind: "generic"}, `source "crm" has no secret; set secret or insecure: true`},
		{"unknown kind lists known ones", gateway.SourceConfig{Name: "z", Kind: "zendesck", Secret: "k"}, `unknown kind "zendesck" (known: aircall, delighted, freshdesk, generic`},
		{"connector's own error is wrapped", gateway.SourceConfig{Name: "crm", Kind: "generic", Secret: "k", Options: map[string]any{"x": 1}}, `building source "crm" of kind generic: source "crm": unknown option "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Source(tt.cfg)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("Source = %v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Source error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUpstream(t *testing.T) {
	sends := []any{map[string]any{"path": "/send", "recipients": []any{"/to/*"}}}
	tests := []struct {
		name string
		cfg  gateway.UpstreamConfig
		want string
	}{
		{"generic", gateway.UpstreamConfig{Name: "mail", Kind: "generic", Options: map[string]any{"sends": sends}}, ""},
		{"generic without sends", gateway.UpstreamConfig{Name: "mail", Kind: "generic"}, `option "sends" is required`},
		{"unknown kind", gateway.UpstreamConfig{Name: "mail", Kind: "mailchimp"}, `upstream "mail": unknown kind "mailchimp" (known: braze, customerio, delighted, generic, mailgun, mandrill, postmark, sendgrid, twilio)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Upstream(tt.cfg)
			if tt.want == "" {
				if err != nil || u == nil {
					t.Fatalf("Upstream = %v, %v", u, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Upstream error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// Every vendor upstream works with no options at all (the vendor's own API is known), and
// refuses an option it does not know, so a typo stops hush at start-up.
func TestVendorUpstreamsDefaultsAndTypos(t *testing.T) {
	for _, k := range All() {
		if k.NewUpstream == nil || k.Name == "generic" {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			if _, err := Upstream(gateway.UpstreamConfig{Name: "u", Kind: k.Name}); err != nil {
				t.Errorf("no options: %v", err)
			}
			_, err := Upstream(gateway.UpstreamConfig{Name: "u", Kind: k.Name, Options: map[string]any{"recipents": "x"}})
			if err == nil || !strings.Contains(err.Error(), `"recipents"`) {
				t.Errorf("misspelt option: %v", err)
			}
		})
	}
}

func TestAlert(t *testing.T) {
	tests := []struct {
		cfg  gateway.AlertConfig
		nil_ bool
		want string
	}{
		{gateway.AlertConfig{Name: "r", Kind: "slack", URL: "https://hooks.slack.com/services/T/B/x"}, false, ""},
		{gateway.AlertConfig{Name: "r", Kind: "webhook", URL: "https://crm.example.com/hooks", Options: map[string]any{"secret": "s3cret"}}, false, ""},
		{gateway.AlertConfig{Name: "r", Kind: "log"}, true, ""},
		{gateway.AlertConfig{Name: "r", Kind: "zendesk", Options: map[string]any{"subdomain": "acme", "email": "ops@acme.example", "api_token": "t0k", "group_id": 360001234567}}, false, ""},
		{gateway.AlertConfig{Name: "r", Kind: "webhook", URL: "https://crm.example.com/hooks"}, false, "secret"},
		{gateway.AlertConfig{Name: "r", Kind: "pager"}, false, `alert "r": unknown kind "pager" (known: slack, webhook, zendesk, log)`},
		{gateway.AlertConfig{Name: "r", Kind: "sendgrid"}, false, `unknown kind "sendgrid"`},
	}
	for _, tt := range tests {
		a, err := Alert(tt.cfg)
		switch {
		case tt.want != "":
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error %v, want %q", tt.cfg.Kind, err, tt.want)
			}
		case err != nil || (a == nil) != tt.nil_:
			t.Errorf("%s: %v, %v", tt.cfg.Kind, a, err)
		}
	}
}

func TestSecretOptions(t *testing.T) {
	// A kind whose secret lives in an option (as Twilio's auth_token does) passes the check
	// when the option is set and fails it when it is not.
	k := Kind{Name: "vendor", SecretOptions: []string{"auth_token"}}
	if !hasSecret(k, gateway.SourceConfig{Options: map[string]any{"auth_token": "t"}}) {
		t.Error("auth_token not seen as a secret")
	}
	if hasSecret(k, gateway.SourceConfig{Options: map[string]any{"auth_token": ""}}) {
		t.Error("empty auth_token seen as a secret")
	}
	if hasSecret(k, gateway.SourceConfig{Options: map[string]any{"public_url": "u"}}) {
		t.Error("another option seen as a secret")
	}
}

// TestAllIsSortedAndBuildable: every listed kind has a unique name, the list is sorted (it
// is printed in errors and docs), and every inbound kind refuses to start without a secret.
func TestAllIsSortedAndBuildable(t *testing.T) {
	kinds := All()
	for i, k := range kinds {
		if i > 0 && kinds[i-1].Name >= k.Name {
			t.Errorf("All() is not sorted by unique name at %q", k.Name)
		}
		if k.NewSource == nil && k.NewUpstream == nil && k.NewAlert == nil {
			t.Errorf("kind %q has no side at all", k.Name)
		}
		if k.Doc == "" {
			t.Errorf("kind %q has no doc line", k.Name)
		}
		if k.NewSource != nil {
			_, err := Source(gateway.SourceConfig{Name: "s", Kind: k.Name})
			if err == nil || !strings.Contains(err.Error(), "no secret") {
				t.Errorf("kind %q without a secret: %v, want a no-secret refusal", k.Name, err)
			}
		}
	}
}

func TestSuppressionList(t *testing.T) {
	sg := func(sync bool, opts map[string]any) gateway.UpstreamConfig {
		return gateway.UpstreamConfig{Name: "sg", Kind: "sendgrid", URL: "https://api.sendgrid.com", Sync: sync, Options: opts}
	}
	syncOpts := map[string]any{"api_key": "SG.key", "group_id": int64(4242), "categories": map[string]any{"receipts": "transactional"}}
	tests := []struct {
		name     string
		cfg      gateway.UpstreamConfig
		upstream string // "" : Upstream builds
		list     string // "" : SuppressionList builds
	}{
		{"sync with its options beside the proxy's", sg(true, syncOpts), "", ""},
		{"a sync option without sync: true", sg(false, map[string]any{"api_key": "SG.key"}),
			`upstream "sg": option "api_key" is only read with sync: true`, `option "api_key" is only read with sync: true`},
		{"sync without its credentials", sg(true, nil), "", `building the suppression list of upstream "sg" (kind sendgrid)`},
		{"a proxy option is not the list's", sg(true, map[string]any{"api_key": "SG.key", "group_id": int64(1), "regio": "eu"}), `"regio"`, ""},
		{"a kind that cannot sync", gateway.UpstreamConfig{Name: "tw", Kind: "twilio", Sync: true},
			"", `upstream "tw": kind "twilio" cannot sync a suppression list (kinds that can: mailgun, mandrill, postmark, sendgrid)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(what string, err error, want string) {
				t.Helper()
				if want == "" {
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("%s error = %v, want it to contain %q", what, err, want)
				}
			}
			if tt.cfg.Kind != "twilio" {
				_, err := Upstream(tt.cfg)
				check("Upstream", err, tt.upstream)
			}
			_, err := SuppressionList(tt.cfg)
			check("SuppressionList", err, tt.list)
		})
	}
	// The key never appears in an error.
	_, err := SuppressionList(sg(false, map[string]any{"api_key": "SG.secret-value"}))
	if err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("error = %v", err)
	}
}
