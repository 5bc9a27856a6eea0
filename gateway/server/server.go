// Package server is hush's HTTP surface (DESIGN §4): vendor webhooks, the outbound proxy,
// the decision API, the admin API, health, metrics and the console.
package server

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hush-gateway/hush/gateway"
)

// Deps is everything the server needs; cmd/hush builds it from the config.
type Deps struct {
	Store     gateway.Store
	Engine    gateway.Engine
	Sources   map[string]Source   // by source name
	Upstreams map[string]Upstream // by upstream name
	Tokens    []Token
	Limits    Limits
	// DefaultRegion reads national phone numbers (ISO 3166 alpha-2, "ES").
	DefaultRegion string
	// Language is the console's language when the browser asks for neither Spanish nor
	// English (the config's `language`); "": Spanish.
	Language string
	// Location is the configured timezone: the console shows every time in it. nil: UTC.
	Location *time.Location
	// Rules, Caps and QuietHours are the loaded policy, for the console's rules page.
	Rules      []gateway.RuleSpec
	Caps       []gateway.CapSpec
	QuietHours []gateway.QuietHoursSpec
	// ParseRules reads candidate rules written as hush.yaml's `rules:` list (the console's
	// "simulate a change" form). cmd/hush sets it to configs.ParseRules: the server does not
	// import configs. nil: the form answers that simulation is unavailable.
	ParseRules func(data []byte) ([]gateway.RuleSpec, error)
	Logger     *slog.Logger
	// Metrics records what the server does; nil: a fresh set on a private registry.
	Metrics *Metrics
	// Gatherer serves GET /metrics; nil: the registry of the fresh Metrics, if one was made.
	Gatherer prometheus.Gatherer
	Now      func() time.Time
	// Transport carries proxied requests; nil: a tuned *http.Transport.
	Transport http.RoundTripper
	// Pause configures the customer self-service pause links (docs/pause.md).
	Pause PauseLinks

	writes *writeHealth // set by NewServer
}

// Source is one configured inbound endpoint: POST /webhooks/{Name}.
type Source struct {
	Name      string
	Kind      string
	Connector gateway.Connector
}

// Upstream modes.
const (
	ModeEnforce = "enforce"
	ModeShadow  = "shadow"
)

// What the proxy answers when every recipient of a send is dropped.
const (
	AllDroppedSuccess = "success"
	AllDroppedError   = "error"
)

// Upstream is one configured outbound API behind /proxy/{Name}/.
type Upstream struct {
	Name      string
	Kind      string
	URL       *url.URL
	Connector gateway.Upstream // nil: every request is forwarded untouched
	Category  gateway.Category // default category of its sends
	Channel   gateway.Channel  // default channel of its sends
	Mode      string           // ModeEnforce (default) or ModeShadow
	// OnAllDropped is AllDroppedSuccess (default) or AllDroppedError.
	OnAllDropped string
	// Timeout bounds one proxied exchange, response body included; 0: 30s.
	Timeout time.Duration
}

// Token roles.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer" // GET on the admin API only
	RoleDecide = "decide" // the decision API only
)

// Token is one admin API bearer token.
type Token struct {
	Name  string
	Token string
	Role  string
}

// Limits bound what one request may cost.
type Limits struct {
	Body           int64         // request body bytes; 0: 1 MiB
	RequestTimeout time.Duration // per request, proxy excluded; 0: 30s
}

const (
	defaultBodyLimit       = 1 << 20
	defaultRequestTimeout  = 30 * time.Second
	defaultUpstreamTimeout = 30 * time.Second
)

// NewServer returns hush's whole HTTP surface.
func NewServer(deps Deps) http.Handler {
	deps = withDefaults(deps)
	return newRouter(deps)
}

func withDefaults(deps Deps) Deps {
	if deps.Limits.Body <= 0 {
		deps.Limits.Body = defaultBodyLimit
	}
	if deps.Limits.RequestTimeout <= 0 {
		deps.Limits.RequestTimeout = defaultRequestTimeout
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Location == nil {
		deps.Location = time.UTC
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Metrics == nil {
		reg := prometheus.NewRegistry()
		deps.Metrics = NewMetrics(reg)
		if deps.Gatherer == nil {
			deps.Gatherer = reg
		}
	}
	if deps.Gatherer == nil {
		deps.Gatherer = prometheus.NewRegistry()
	}
	if deps.Transport == nil {
		deps.Transport = newTransport()
	}
	deps.writes = &writeHealth{now: deps.Now}
	return deps
}

// newTransport is tuned for many concurrent sends to few hosts: the default keeps only two
// idle connections per host, which under load means a new TLS handshake per send.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1000,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
