// Package configs reads and checks hush.yaml, and holds the embedded default config and the
// annotated example (hush.yaml in this directory, which documents every key).
package configs

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/hush-gateway/hush/gateway"
)

//go:embed default.yaml
var defaultYAML []byte

//go:embed hush.yaml
var exampleYAML []byte

// Config is a checked hush.yaml.
type Config struct {
	Listen string
	// PublicURL is where people reach this hush ("https://hush.example.com"): the base of
	// the console links in alerts. "" leaves the links out.
	PublicURL string
	// Language of what hush writes for people (alerts; the console's default): es or en.
	Language      string
	Storage       string // "bolt:FILE" (relative to Data) or "postgres://…"
	Data          string // data directory; "" lets the caller decide
	Timezone      string // for customers whose own is unknown
	DefaultRegion string // ISO 3166 region for national phone numbers, upper case
	Admin         Admin
	Sources       []Source
	Rules         []gateway.RuleSpec
	Caps          []gateway.CapSpec
	QuietHours    []gateway.QuietHoursSpec
	Upstreams     []Upstream
	Alerts        []Alert
	Costs         map[gateway.Channel]float64
	Retention     Retention
	Limits        Limits
	Sentiment     Sentiment
	Pause         Pause

	file  string            // where the config came from, for IssueAt
	where map[string][2]int // key path ("sources[1]") → line, column
}

// IssueAt describes a problem found after parsing — a connector refusing its options, say —
// at the line and column of the key at path ("sources[1]", "upstreams[0].sends"), so that
// every config problem reads file:line:col whoever finds it.
func (c *Config) IssueAt(path, message string) Issue {
	is := Issue{File: c.file, Path: path, Message: message}
	if pos, ok := c.where[path]; ok {
		is.Line, is.Col = pos[0], pos[1]
	}
	return is
}

// Admin is the admin API's access.
type Admin struct {
	Tokens []Token
}

// Token is one bearer token of the admin API.
type Token struct {
	Name  string
	Token string
	Role  string // RoleAdmin, RoleViewer or RoleDecide
}

// Token roles.
const (
	RoleAdmin  = "admin"  // everything
	RoleViewer = "viewer" // GET only
	RoleDecide = "decide" // the decision API only
)

// Source is one inbound webhook endpoint, POST /webhooks/{name}.
type Source struct {
	Name      string
	Kind      string
	Secret    string
	Insecure  bool
	Tolerance gateway.Duration
	Options   map[string]any // every other key, for the connector to check
}

// Upstream is one API behind the proxy, ANY /proxy/{name}/….
type Upstream struct {
	Name         string
	Kind         string
	URL          string
	Category     gateway.Category // default category of its sends; marketing when not given
	Channel      gateway.Channel  // default channel; "" lets the connector decide
	Mode         string           // ModeEnforce (default) or ModeShadow
	OnAllDropped string           // AllDroppedSuccess (default) or AllDroppedError
	Timeout      gateway.Duration // 0: limits.request_timeout
	// Sync keeps the vendor's own suppression list in step with hush's silences (email, in
	// Category); the kind's sync options (credentials, group…) are among Options.
	Sync    bool
	Options map[string]any
}

// Upstream modes and answers to a send whose every recipient was dropped.
const (
	ModeEnforce       = "enforce"
	ModeShadow        = "shadow"
	AllDroppedSuccess = "success"
	AllDroppedError   = "error"
)

// Alert is a destination for rule alerts (a Slack webhook, a generic webhook).
type Alert struct {
	Name    string
	Kind    string
	URL     string
	Options map[string]any
}

// Retention is how long records are kept.
type Retention struct {
	Events    gateway.Duration // events and raw payloads; default 400d
	Decisions gateway.Duration // decisions and cap counters; default 90d
	Dedupe    gateway.Duration // webhook delivery ids; default 14d
}

// Limits bound what one request may cost.
type Limits struct {
	Body           int64            // bytes of a webhook or proxied body; default 1 MiB
	RequestTimeout gateway.Duration // default 30s
}

// Sentiment configures how hush scores the text of chats, transcripts and survey comments.
type Sentiment struct {
	// Language is assumed when a text is too short to tell: es (default) or en.
	Language string
	// Competitors are names that mark a text with the competitor cue.
	Competitors []string
	// URL of an external scorer (POST {"text", "language"} → {"score", "label", "cues"});
	// empty: the built-in English/Spanish scorer only. Timeout bounds each call (default
	// 2s); Headers are sent with it (Authorization…). On any failure the built-in score is used.
	URL     string
	Timeout gateway.Duration
	Headers map[string]string
}

// Pause configures the customer self-service pause links (docs/pause.md).
type Pause struct {
	// Secret signs the links; "": hush generates one into <data>/pause-secret. Every replica
	// of one hush needs the same secret, or a link minted by one is refused by another.
	Secret string
	TTL    gateway.Duration // how long a minted link stays valid, at most 365d; 0: DefaultPauseTTL
	Days   int              // length of the "pause marketing" choice in days; 0: DefaultPauseDays
}

// Pause defaults and bounds.
const (
	DefaultPauseTTL  = gateway.Duration(30 * 24 * time.Hour)
	MaxPauseTTL      = gateway.Duration(365 * 24 * time.Hour)
	DefaultPauseDays = 30
)

// Defaults of keys left out.
const (
	DefaultLanguage       = "es"
	DefaultListen         = ":8080"
	DefaultStorage        = "bolt:hush.db"
	DefaultTimezone       = "UTC"
	DefaultBodyLimit      = 1 << 20
	DefaultRequestTimeout = gateway.Duration(30 * time.Second)
	DefaultEventRetention = gateway.Duration(400 * 24 * time.Hour)
	DefaultDecisionRetain = gateway.Duration(90 * 24 * time.Hour)
	DefaultDedupeRetain   = gateway.Duration(14 * 24 * time.Hour)
)

// Parse reads and checks a hush.yaml. filename is only used in error messages. ${VAR} in a
// value is replaced with getenv("VAR") (an unset variable is an error; ${VAR:-default}
// gives a default, $${ a literal ${). Every problem found is reported, as *Errors.
func Parse(data []byte, filename string, getenv func(string) string) (*Config, error) {
	return parse(data, filename, getenv, nil)
}

// Default is the embedded default config, used when no config file is given: the seed
// rules, caps and quiet hours on bbolt. Its admin token comes from HUSH_ADMIN_TOKEN and its
// generic source from HUSH_GENERIC_SECRET; each is left out when its variable is unset (the
// caller then generates an admin token; without a secret there is no unsigned intake).
func Default(getenv func(string) string) (*Config, error) {
	return parse(defaultYAML, "default.yaml", getenv, map[string]bool{
		"HUSH_ADMIN_TOKEN":    true,
		"HUSH_GENERIC_SECRET": true,
	})
}

// Example is the annotated example config, documenting every key.
func Example() []byte { return append([]byte(nil), exampleYAML...) }

// DefaultYAML is the text of the embedded default config.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

func parse(data []byte, filename string, getenv func(string) string, optional map[string]bool) (cfg *Config, err error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := &decoder{file: filename, getenv: getenv, optional: optional, nodes: map[string]ast.Node{}, bad: map[string]bool{}}
	body, yamlErr := d.document(data, "hush.yaml")
	if yamlErr != nil {
		return nil, yamlErr
	}
	cfg = d.config(body)
	if len(d.issues) > 0 {
		d.sortIssues()
		return nil, &Errors{Issues: d.issues}
	}
	cfg.file = filename
	cfg.where = make(map[string][2]int, len(d.nodes))
	for path, n := range d.nodes {
		line, col := position(n)
		cfg.where[path] = [2]int{line, col}
	}
	return cfg, nil
}

// parseYAML parses without panicking: a parser bug on odd input becomes an error.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the file cannot be read as YAML")
		}
	}()
	return parser.ParseBytes(data, 0)
}

// SourceConfigs converts the sources for the connectors.
func (c *Config) SourceConfigs() []gateway.SourceConfig {
	out := make([]gateway.SourceConfig, len(c.Sources))
	for i, s := range c.Sources {
		out[i] = gateway.SourceConfig{
			Name: s.Name, Kind: s.Kind, Secret: s.Secret, Insecure: s.Insecure,
			Tolerance: s.Tolerance.D(), Options: maps.Clone(s.Options), DefaultRegion: c.DefaultRegion,
		}
	}
	return out
}

// UpstreamConfigs converts the upstreams for the connectors.
func (c *Config) UpstreamConfigs() []gateway.UpstreamConfig {
	out := make([]gateway.UpstreamConfig, len(c.Upstreams))
	for i, u := range c.Upstreams {
		out[i] = gateway.UpstreamConfig{
			Name: u.Name, Kind: u.Kind, URL: u.URL, Category: u.Category, Channel: u.Channel,
			Sync: u.Sync, Options: maps.Clone(u.Options),
		}
	}
	return out
}

// Source returns the source named name.
func (c *Config) Source(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Upstream returns the upstream named name.
func (c *Config) Upstream(name string) (Upstream, bool) {
	for _, u := range c.Upstreams {
		if u.Name == name {
			return u, true
		}
	}
	return Upstream{}, false
}

// document parses data as one YAML document and returns its body (nil when empty). A YAML
// syntax error is returned as Errors at its position; more than one document is reported
// as an issue naming what (what the file is, for the message).
func (d *decoder) document(data []byte, what string) (ast.Node, *Errors) {
	file, err := parseYAML(data)
	if err != nil {
		issue := Issue{File: d.file, Message: err.Error()}
		var te tokenError
		if errors.As(err, &te) {
			issue.Message = te.GetMessage()
			if tk := te.GetToken(); tk != nil && tk.Position != nil {
				issue.Line, issue.Col = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, &Errors{Issues: []Issue{issue}}
	}
	var body ast.Node
	for i, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			d.errorf(doc, "", "%s holds one document; this is document %d", what, i+1)
			continue
		}
		body = doc.Body
	}
	return body, nil
}
