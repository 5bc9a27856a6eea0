package configs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// anyEnv gives every variable a value derived from its name, long enough for a token.
func anyEnv(k string) string {
	if strings.HasSuffix(k, "_URL") {
		return "https://hooks.example.com/services/" + strings.ToLower(k)
	}
	return "value-of-" + strings.ToLower(k)
}

func issues(t *testing.T, err error) []Issue {
	t.Helper()
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not *Errors", err, err)
	}
	return errs.Issues
}

func TestParseErrorsAtLineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // "line:col: path: part of the message"
	}{
		{"unknown top-level key", "listen: \":80\"\nlistne: x\n", `2:1: listne: unknown key "listne" (did you mean "listen"?)`},
		{"unknown key far from any", "wat: 1\n", `1:1: wat: unknown key "wat" (known keys: listen`},
		{"unknown nested key", "retention:\n  events: 400d\n  decision: 90d\n", `3:3: retention.decision: unknown key "decision" (did you mean "decisions"?)`},
		{"typo in a common source key", "sources:\n  - {name: z, kind: zendesk, secert: s}\n", `2:30: sources[0].secert: unknown key "secert" (did you mean "secret"?)`},
		{"string expected", "listen: 8080\n", `1:9: listen: must be a string, not a number`},
		{"mapping expected", "retention: 30d\n", `1:12: retention: must be a mapping`},
		{"list expected", "rules: {name: x}\n", `1:8: rules: must be a list`},
		{"bool expected", "rules:\n  - {name: r, when: 'true', alert: a, shadow: yes-please}\nalerts: [{name: a, kind: log}]\n", `2:47: rules[0].shadow: must be true or false`},
		{"bad duration", "rules:\n  - name: r\n    when: 'true'\n    silence: {for: 15days}\n", `4:20: rules[0].silence.for: invalid duration "15days"`},
		{"unknown channel in a cap", "caps:\n  - {channel: fax, category: sales, max: 3, per: 30d}\n", `2:15: caps[0].channel: unknown channel "fax"`},
		{"unknown category in a cap", "caps:\n  - {channel: sms, category: promo, max: 3, per: 30d}\n", `2:30: caps[0].category: unknown category "promo"`},
		{"never-blocked category in a cap", "caps:\n  - {channel: sms, category: transactional, max: 3, per: 30d}\n", `2:30: caps[0].category: caps never apply`},
		{"cap max 0", "caps:\n  - {channel: sms, category: any, max: 0, per: 30d}\n", `2:40: caps[0].max: must be between 1`},
		{"cap without per", "caps:\n  - {channel: sms, category: any, max: 2}\n", `2:5: caps[0].per: every cap needs per`},
		{"cap window past decision retention", "caps:\n  - {channel: sms, category: any, max: 2, per: 120d}\n", `2:48: caps[0].per: 120d is longer than retention.decisions`},
		{"duplicate cap", "caps:\n  - {channel: sms, category: any, max: 2, per: 1d}\n  - {channel: sms, category: any, max: 2, per: 1d}\n", `3:5: caps[1]: is the same cap as caps[0]`},
		{"quiet hours 25:00", "quiet_hours:\n  - {channels: [sms], from: \"25:00\", to: \"09:00\"}\n", `2:29: quiet_hours[0].from: "25:00" is not a time of day`},
		{"quiet hours empty window", "quiet_hours:\n  - {channels: [sms], from: \"09:00\", to: \"09:00\"}\n", `2:42: quiet_hours[0].to: from and to are the same time`},
		{"quiet hours unknown channel", "quiet_hours:\n  - {channels: [sms, fax], from: \"21:00\", to: \"09:00\"}\n", `2:22: quiet_hours[0].channels[1]: unknown channel "fax"`},
		{"quiet hours unknown action", "quiet_hours:\n  - {channels: [sms], from: \"21:00\", to: \"09:00\", action: wait}\n", `2:59: quiet_hours[0].action: unknown value "wait" (want drop or defer)`},
		{"duplicate source", "sources:\n  - {name: z, kind: zendesk, secret: a}\n  - {name: z, kind: zendesk, secret: b}\n", `3:12: sources[1].name: duplicate source name "z" (sources[0] has it too)`},
		{"source without kind", "sources:\n  - {name: z, secret: a}\n", `2:5: sources[0].kind: every source needs a kind`},
		{"empty secret", "sources:\n  - {name: z, kind: zendesk, secret: \"\"}\n", `2:38: sources[0].secret: is empty; set it, or write insecure: true`},
		{"secret and insecure", "sources:\n  - {name: z, kind: zendesk, secret: s, insecure: true}\n", `2:38: sources[0].secret: a source is either signed`},
		{"duplicate upstream", "upstreams:\n  - {name: u, kind: sendgrid, url: \"https://a.example\"}\n  - {name: u, kind: sendgrid, url: \"https://b.example\"}\n", `3:12: upstreams[1].name: duplicate upstream name "u"`},
		{"upstream url not http", "upstreams:\n  - {name: u, kind: sendgrid, url: \"ftp://a.example\"}\n", `2:36: upstreams[0].url: must be an http:// or https:// URL`},
		{"upstream url without host", "upstreams:\n  - {name: u, kind: sendgrid, url: \"https:///v3\"}\n", `2:36: upstreams[0].url: must name a host`},
		{"sync on a shadow upstream", "upstreams:\n  - {name: u, kind: sendgrid, url: \"https://a.example\", mode: shadow, sync: true}\n", `2:77: upstreams[0].sync: an upstream in mode: shadow cannot sync`},
		{"sync not a bool", "upstreams:\n  - {name: u, kind: sendgrid, url: \"https://a.example\", sync: often}\n", `2:63: upstreams[0].sync: must be true or false`},
		{"upstream without url", "upstreams:\n  - {name: u, kind: sendgrid}\n", `2:5: upstreams[0].url: every upstream needs the url`},
		{"sentiment unknown language", "sentiment: {language: fr}\n", `1:23: sentiment.language: unknown value "fr" (want es or en)`},
		{"sentiment timeout without url", "sentiment:\n  timeout: 2s\n", `2:3: sentiment: timeout and headers go with url`},
		{"sentiment url not http", "sentiment: {url: \"ftp://x.example\"}\n", `1:18: sentiment.url: must be an http:// or https:// URL`},
		{"sentiment unknown key", "sentiment: {lang: es}\n", `1:13: sentiment.lang: unknown key`},
		{"upstream unknown mode", "upstreams:\n  - {name: u, kind: sendgrid, url: \"https://a.example\", mode: dry}\n", `2:63: upstreams[0].mode: unknown value "dry" (want enforce or shadow)`},
		{"upstream unknown category", "upstreams:\n  - {name: u, kind: sendgrid, url: \"https://a.example\", category: promo}\n", `2:67: upstreams[0].category: unknown category "promo"`},
		{"bad upstream name", "upstreams:\n  - {name: \"a/b\", kind: sendgrid, url: \"https://a.example\"}\n", `2:12: upstreams[0].name: "a/b" is not a upstream name`},
		{"token role unknown", "admin:\n  tokens:\n    - {name: t, token: 0123456789abcdefgh, role: root}\n", `3:50: admin.tokens[0].role: unknown role "root"`},
		{"token too short", "admin:\n  tokens:\n    - {name: t, token: short, role: admin}\n", `3:24: admin.tokens[0].token: is 5 characters long`},
		{"token reused", "admin:\n  tokens:\n    - {name: a, token: 0123456789abcdefgh, role: admin}\n    - {name: b, token: 0123456789abcdefgh, role: viewer}\n", `4:24: admin.tokens[1].token: is the same token as admin.tokens[0]`},
		{"rule CEL error, plain scalar", "rules:\n  - name: r\n    when: evnt.csat <= 2\n    silence: {for: 1d}\n", `3:11: rules[0].when: undeclared reference to 'evnt'`},
		{"rule CEL error, quoted", "rules:\n  - name: r\n    when: 'event.csat <= 2 && nope'\n    silence: {for: 1d}\n", `3:31: rules[0].when: undeclared reference to 'nope'`},
		{"rule CEL error, literal block", "rules:\n  - name: r\n    when: |\n      event.csat <= 2\n        && nope\n    silence: {for: 1d}\n", `5:12: rules[0].when: undeclared reference to 'nope'`},
		{"rule CEL error, folded block points at when", "rules:\n  - name: r\n    when: >\n      event.csat <= 2\n        && nope\n    silence: {for: 1d}\n", `3:11: rules[0].when: undeclared reference to 'nope'`},
		{"rule window too long", "rules:\n  - name: r\n    when: 'contacts(\"60d\") > 3'\n    silence: {for: 1d}\n", `3:11: rules[0].when: contacts: window 60d is longer`},
		{"rule without name", "rules:\n  - when: 'true'\n    silence: {for: 1d}\n", `2:5: rules[0].name: a rule needs a name`},
		{"duplicate rule", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}}\n  - {name: r, when: 'true', silence: {for: 1d}}\n", `3:12: rules[1].name: duplicate rule name "r"`},
		{"silence for and until_resolved", "rules:\n  - {name: r, when: 'true', silence: {for: 1d, until_resolved: true}}\n", `2:44: rules[0].silence.for: give either for or until_resolved`},
		{"silence bad category", "rules:\n  - {name: r, when: 'true', silence: {for: 1d, categories: [sales, promo]}}\n", `2:68: rules[0].silence.categories[1]: unknown category "promo"`},
		{"alert not defined", "rules:\n  - {name: r, when: 'true', alert: retention}\n", `2:36: rules[0].alert: no alert named "retention" is defined`},
		{"unset variable", "sources:\n  - {name: z, kind: zendesk, secret: \"${ZD_SECRET}\"}\n", `2:38: sources[0].secret: environment variable ZD_SECRET is not set`},
		{"bad variable name", "data: \"${1X}\"\n", `1:7: data: ${1X} does not name an environment variable`},
		{"unterminated variable", "data: \"${HOME\"\n", `1:7: data: unterminated ${`},
		{"syntax error", "sources: [\n", `1:10: sequence end token ']' not found`},
		{"duplicate key", "listen: \":1\"\nlisten: \":2\"\n", `2:1: mapping key "listen" already defined`},
		{"alias", "data: &d x\nstorage: *d\n", `2:10: storage: aliases (*name) are not supported`},
		{"short event retention", "retention: {events: 7d}\n", `1:21: retention.events: must be at least 30d`},
		{"unknown time zone", "timezone: Mars/Olympus\n", `1:11: timezone: unknown time zone "Mars/Olympus"`},
		{"unknown region", "default_region: XX\n", `1:17: default_region: unknown region "XX"`},
		{"unknown storage", "storage: \"mysql://h/db\"\n", `1:10: storage: unknown storage "mysql"`},
		{"bad listen", "listen: \"8080\"\n", `1:9: listen: "8080" is not an address`},
		{"bad body size", "limits: {body: 1MiBs}\n", `1:16: limits.body: "1MiBs" has an unknown unit`},
		{"body too small", "limits: {body: 10}\n", `1:16: limits.body: must be between 1KiB and 1GiB`},
		{"cost of unknown channel", "costs: {fax: 1}\n", `1:9: costs.fax: unknown channel "fax"`},
		{"negative cost", "costs: {sms: -1}\n", `1:14: costs.sms: a cost cannot be negative`},
		{"two documents", "listen: \":1\"\n---\nlisten: \":2\"\n", `hush.yaml holds one document`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), "hush.yaml", env(nil))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.yaml)
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with an error")
			}
			var lines []string
			for _, is := range issues(t, err) {
				lines = append(lines, is.String())
			}
			for _, l := range lines {
				if strings.HasPrefix(l, "hush.yaml:"+tt.want) || strings.Contains(tt.want, "holds one") && strings.Contains(l, tt.want) {
					return
				}
			}
			t.Errorf("want an issue starting hush.yaml:%s\ngot:\n%s", tt.want, strings.Join(lines, "\n"))
		})
	}
}

func TestParseReportsEveryProblemInFileOrder(t *testing.T) {
	src := "listen: 80\n" +
		"caps: [{channel: fax, category: any, max: 1, per: 1d}]\n" +
		"rules:\n  - {name: r, when: 'nope', silence: {for: 1d}}\n" +
		"bogus: 1\n"
	_, err := Parse([]byte(src), "x.yaml", nil)
	is := issues(t, err)
	var got []string
	for _, i := range is {
		got = append(got, fmt.Sprintf("%d:%d %s", i.Line, i.Col, i.Path))
	}
	want := []string{"1:9 listen", "2:18 caps[0].channel", "4:22 rules[0].when", "5:1 bogus"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("issues at %v, want %v", got, want)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "x.yaml:1:9: listen: ") {
		t.Errorf("Error() = %q, want one file:line:col line per issue", err.Error())
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const secret = "s3cr3t-hooks-token"
	getenv := env(map[string]string{"HOOK": "ftp://hooks.example.com/" + secret, "PG": "mysql://u:" + secret + "@h/db", "TZ_X": "Nowhere/" + secret, "TOK": "x"})
	src := "storage: \"${PG}\"\n" +
		"timezone: \"${TZ_X}\"\n" +
		"alerts: [{name: a, kind: slack, url: \"${HOOK}\"}]\n" +
		"admin: {tokens: [{name: t, token: \"${TOK}\", role: admin}]}\n"
	_, err := Parse([]byte(src), "hush.yaml", getenv)
	if err == nil {
		t.Fatal("Parse accepted bad values")
	}
	if len(issues(t, err)) != 4 {
		t.Errorf("want 4 issues, got:\n%v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("an error shows a secret:\n%v", err)
	}
	if !strings.Contains(err.Error(), `"Nowhere/${TZ_X}"`) && !strings.Contains(err.Error(), `"${TZ_X}"`) {
		t.Errorf("an error about an expanded value should show the ${VAR} written:\n%v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	getenv := env(map[string]string{"DIR": "/srv/hush", "PORT": "9090", "EMPTY": ""})
	tests := []struct{ value, want string }{
		{"${DIR}", "/srv/hush"},
		{"${DIR}/data", "/srv/hush/data"},
		{"${NOPE:-/tmp}", "/tmp"},
		{"${EMPTY:-fallback}", "fallback"},
		{"${DIR:-/tmp}", "/srv/hush"},
		{"${NOPE:-}", ""},
		{"$${DIR}", "${DIR}"},
		{"a$b ${PORT}$", "a$b 9090$"},
		{"literal $ {x}", "literal $ {x}"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			cfg, err := Parse([]byte(fmt.Sprintf("data: %q\n", tt.value)), "hush.yaml", getenv)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Data != tt.want {
				t.Errorf("data = %q, want %q", cfg.Data, tt.want)
			}
		})
	}
	// A value from the environment is never YAML: quotes and newlines stay in the value.
	cfg, err := Parse([]byte("sources: [{name: z, kind: zendesk, secret: \"${S}\"}]\n"), "hush.yaml",
		env(map[string]string{"S": "a\"b\n}: c"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sources[0].Secret != "a\"b\n}: c" {
		t.Errorf("secret = %q", cfg.Sources[0].Secret)
	}
}

func TestDefaultsOfAnEmptyFile(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "retention: {}\n"} {
		cfg, err := Parse([]byte(src), "hush.yaml", nil)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		want := &Config{
			Listen: ":8080", Language: "es", Storage: "bolt:hush.db", Timezone: "UTC",
			Retention: Retention{Events: gateway.Duration(400 * 24 * time.Hour), Decisions: gateway.Duration(90 * 24 * time.Hour), Dedupe: gateway.Duration(14 * 24 * time.Hour)},
			Limits:    Limits{Body: 1 << 20, RequestTimeout: gateway.Duration(30 * time.Second)},
		}
		cfg.file, cfg.where = "", nil // positions are IssueAt's business, tested there
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", src, cfg, want)
		}
	}
}

func TestParseValues(t *testing.T) {
	src := `
default_region: es
sources:
  - name: tw
    kind: Twilio
    auth_token: "${TW}"
    public_url: https://hush.example.com/webhooks/tw
    insecure: false
    tolerance: 10m
    nested: {list: [1, 2.5, true, null, x]}
upstreams:
  - {name: sg, kind: sendgrid, url: "https://api.sendgrid.com", region: eu, sync: true}
  - {name: tw, kind: twilio, url: "https://api.twilio.com", channel: SMS, category: sales, mode: shadow, on_all_dropped: error, timeout: 5s}
alerts: [{name: retention, kind: webhook, url: "https://h.example/x", headers: {X-Key: "${TW}"}}]
costs: {email: 0.001, voice: 1}
limits: {body: 512KiB, request_timeout: 1m}
`
	cfg, err := Parse([]byte(src), "hush.yaml", env(map[string]string{"TW": "tw-token"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultRegion != "ES" {
		t.Errorf("default_region = %q", cfg.DefaultRegion)
	}
	wantSource := Source{Name: "tw", Kind: "twilio", Tolerance: gateway.Duration(10 * time.Minute), Options: map[string]any{
		"auth_token": "tw-token", "public_url": "https://hush.example.com/webhooks/tw",
		"nested": map[string]any{"list": []any{int64(1), 2.5, true, nil, "x"}},
	}}
	if !reflect.DeepEqual(cfg.Sources, []Source{wantSource}) {
		t.Errorf("sources = %+v", cfg.Sources)
	}
	wantUp := []Upstream{
		{Name: "sg", Kind: "sendgrid", URL: "https://api.sendgrid.com", Category: "marketing", Mode: "enforce", OnAllDropped: "success", Sync: true, Options: map[string]any{"region": "eu"}},
		{Name: "tw", Kind: "twilio", URL: "https://api.twilio.com", Category: "sales", Channel: "sms", Mode: "shadow", OnAllDropped: "error", Timeout: gateway.Duration(5 * time.Second)},
	}
	if !reflect.DeepEqual(cfg.Upstreams, wantUp) {
		t.Errorf("upstreams = %+v", cfg.Upstreams)
	}
	if a := cfg.Alerts; len(a) != 1 || a[0].Options["headers"].(map[string]any)["X-Key"] != "tw-token" {
		t.Errorf("alerts = %+v", a)
	}
	if !reflect.DeepEqual(cfg.Costs, map[gateway.Channel]float64{"email": 0.001, "voice": 1}) {
		t.Errorf("costs = %v", cfg.Costs)
	}
	if cfg.Limits != (Limits{Body: 512 << 10, RequestTimeout: gateway.Duration(time.Minute)}) {
		t.Errorf("limits = %+v", cfg.Limits)
	}

	sc := cfg.SourceConfigs()
	if len(sc) != 1 || sc[0].Name != "tw" || sc[0].Tolerance != 10*time.Minute || sc[0].DefaultRegion != "ES" || sc[0].Options["auth_token"] != "tw-token" {
		t.Errorf("SourceConfigs = %+v", sc)
	}
	uc := cfg.UpstreamConfigs()
	if len(uc) != 2 || uc[1].Channel != gateway.ChannelSMS || uc[1].Category != gateway.CategorySales || uc[0].Options["region"] != "eu" || !uc[0].Sync || uc[1].Sync {
		t.Errorf("UpstreamConfigs = %+v", uc)
	}
}

func TestParseSizes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1MiB", 1 << 20, false}, {"512KiB", 512 << 10, false}, {"2MB", 2_000_000, false},
		{"4096", 4096, false}, {"1 GiB", 1 << 30, false}, {"1.5MiB", 0, true}, {"MiB", 0, true}, {"-1", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestDefault(t *testing.T) {
	cfg, err := Default(env(nil))
	if err != nil {
		t.Fatalf("Default without environment: %v", err)
	}
	if len(cfg.Admin.Tokens) != 0 || len(cfg.Sources) != 0 {
		t.Errorf("without HUSH_ADMIN_TOKEN and HUSH_GENERIC_SECRET: tokens %v, sources %v; want none", cfg.Admin.Tokens, cfg.Sources)
	}
	if cfg.Storage != "bolt:hush.db" || cfg.Timezone != "Europe/Madrid" || cfg.DefaultRegion != "ES" {
		t.Errorf("storage %q timezone %q region %q", cfg.Storage, cfg.Timezone, cfg.DefaultRegion)
	}
	var names []string
	for _, r := range cfg.Rules {
		names = append(names, r.Name)
	}
	wantRules := []string{"low-csat", "detractor-nps", "negative-sentiment", "frustration-cues", "repeated-contacts", "abandoned-call", "open-complaint"}
	if !reflect.DeepEqual(names, wantRules) {
		t.Errorf("rules %v, want %v", names, wantRules)
	}
	if _, err := policy.CompileRules(cfg.Rules); err != nil {
		t.Errorf("seed rules do not compile: %v", err)
	}
	if len(cfg.Caps) != 3 || len(cfg.QuietHours) != 1 || cfg.QuietHours[0].Action != gateway.QuietDefer {
		t.Errorf("caps %v quiet hours %v", cfg.Caps, cfg.QuietHours)
	}

	token, secret := "0123456789abcdef0123456789abcdef", "whsec-abcdef"
	cfg, err = Default(env(map[string]string{"HUSH_ADMIN_TOKEN": token, "HUSH_GENERIC_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Admin.Tokens) != 1 || cfg.Admin.Tokens[0] != (Token{Name: "admin", Token: token, Role: RoleAdmin}) {
		t.Errorf("tokens %+v", cfg.Admin.Tokens)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Kind != "generic" || cfg.Sources[0].Secret != secret {
		t.Errorf("sources %+v", cfg.Sources)
	}
	// The default's own rules still hold: a short admin token is refused.
	if _, err := Default(env(map[string]string{"HUSH_ADMIN_TOKEN": "short"})); err == nil {
		t.Errorf("Default accepted a 5-character admin token")
	}
}

func TestSentimentConfig(t *testing.T) {
	src := "sentiment:\n  language: en\n  competitors: [Movistar, \"El Corte Inglés\"]\n  url: \"https://s.example/score\"\n  timeout: 500ms\n  headers: {Authorization: \"Bearer ${T}\"}\n"
	cfg, err := Parse([]byte(src), "hush.yaml", env(map[string]string{"T": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Sentiment{Language: "en", Competitors: []string{"Movistar", "El Corte Inglés"}, URL: "https://s.example/score",
		Timeout: gateway.Duration(500 * time.Millisecond), Headers: map[string]string{"Authorization": "Bearer tok"}}
	if !reflect.DeepEqual(cfg.Sentiment, want) {
		t.Errorf("Sentiment = %+v, want %+v", cfg.Sentiment, want)
	}
	def, err := Parse(nil, "hush.yaml", env(nil))
	if err != nil || !reflect.DeepEqual(def.Sentiment, Sentiment{}) {
		t.Errorf("no sentiment key: %+v %v", def.Sentiment, err)
	}
}

func TestExampleParses(t *testing.T) {
	cfg, err := Parse(Example(), "hush.yaml", anyEnv)
	if err != nil {
		t.Fatalf("the annotated example does not parse:\n%v", err)
	}
	if len(cfg.Sources) != 4 || len(cfg.Admin.Tokens) != 3 || len(cfg.Upstreams) != 2 || len(cfg.Alerts) != 1 ||
		len(cfg.Rules) < 4 || len(cfg.Caps) != 3 || len(cfg.QuietHours) != 1 || len(cfg.Costs) != 3 || cfg.Data == "" {
		t.Errorf("the example lost a section: %+v", cfg)
	}
	if g, _ := cfg.Source("generic"); g.Secret != anyEnv("HUSH_GENERIC_SECRET") {
		t.Errorf("generic source %+v", g)
	}
	if tw, _ := cfg.Source("twilio"); tw.Options["auth_token"] != anyEnv("TWILIO_AUTH_TOKEN") {
		t.Errorf("twilio source %+v", tw)
	}
	if tw, ok := cfg.Upstream("twilio-sales"); !ok || tw.Options["messaging_services"] == nil || tw.Mode != ModeShadow {
		t.Errorf("twilio-sales upstream %+v", tw)
	}
	// Without its variables the example is refused, naming each one.
	_, err = Parse(Example(), "hush.yaml", env(nil))
	if err == nil || !strings.Contains(err.Error(), "environment variable HUSH_ADMIN_TOKEN is not set") {
		t.Errorf("example without environment: %v", err)
	}
	// The example documents every top-level key.
	for _, k := range topKeys {
		if !strings.Contains(string(Example()), "\n"+k+":") {
			t.Errorf("the example does not show %q", k)
		}
	}
}

func FuzzParse(f *testing.F) {
	// Small seeds: the fuzzer spends its time minimizing large interesting inputs, so the
	// full example (tested above) makes a poor seed.
	f.Add([]byte("listen: \":8080\"\nsources: [{name: z, kind: zendesk, secret: \"${S}\", x: [1, {y: z}]}]\n"))
	f.Add([]byte("caps: [{channel: sms, category: any, max: 2, per: 1d}]\nquiet_hours: [{channels: [sms], from: \"21:00\", to: \"09:00\"}]\n"))
	f.Add([]byte("rules:\n  - {name: r, when: 'contacts(\"1d\") > 1', silence: {for: 1d}}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("sources: [{name: \"${A:-${B}}\", kind: k}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", anyEnv)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", cfg != nil, err)
		}
		if err != nil {
			var errs *Errors
			if !errors.As(err, &errs) || len(errs.Issues) == 0 {
				t.Fatalf("error %v is not a non-empty *Errors", err)
			}
		}
	})
}

func TestIssueAtPointsAtTheKey(t *testing.T) {
	src := "listen: \":8080\"\nsources:\n  - {name: a, kind: generic, secret: s3cr3t}\n  - name: b\n    kind: generic\n    secret: other\n"
	cfg, err := Parse([]byte(src), "hush.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path      string
		line, col int
	}{{"sources[0]", 3, 5}, {"sources[1]", 4, 5}} {
		is := cfg.IssueAt(tt.path, "refused")
		if is.Line != tt.line || is.Col != tt.col || is.File != "hush.yaml" {
			t.Errorf("IssueAt(%s) = %+v, want line %d col %d", tt.path, is, tt.line, tt.col)
		}
	}
	if is := cfg.IssueAt("nowhere[9]", "x"); is.Line != 0 || is.String() != "hush.yaml: nowhere[9]: x" {
		t.Errorf("unknown path: %+v (%s)", is, is)
	}
}
