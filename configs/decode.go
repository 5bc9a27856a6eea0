package configs

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
	"github.com/nyaruka/phonenumbers"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
)

var topKeys = []string{"listen", "public_url", "language", "storage", "data", "timezone", "default_region", "admin", "sources",
	"rules", "caps", "quiet_hours", "upstreams", "alerts", "costs", "retention", "limits", "sentiment", "pause"}

// Keys common to every source, upstream and alert; the others are the kind's options.
var (
	sourceKeys   = []string{"name", "kind", "secret", "insecure", "tolerance"}
	upstreamKeys = []string{"name", "kind", "url", "category", "channel", "mode", "on_all_dropped", "timeout", "sync"}
	alertKeys    = []string{"name", "kind", "url"}
)

func (d *decoder) config(body ast.Node) *Config {
	cfg := &Config{
		Language: DefaultLanguage,
		Listen:   DefaultListen,
		Storage:  DefaultStorage,
		Timezone: DefaultTimezone,
		Retention: Retention{
			Events: DefaultEventRetention, Decisions: DefaultDecisionRetain, Dedupe: DefaultDedupeRetain,
		},
		Limits: Limits{Body: DefaultBodyLimit, RequestTimeout: DefaultRequestTimeout},
	}
	if body == nil {
		return cfg // an empty file: every default
	}
	top, ok := d.object(body, "")
	if !ok {
		return cfg
	}
	if n, p, ok := top.take(d, "listen"); ok {
		if s, ok := d.str(n, p); ok {
			if err := checkListen(s); err != nil {
				d.scrubbed(n, p, s, err.Error())
			}
			cfg.Listen = s
		}
	}
	if n, p, ok := top.take(d, "public_url"); ok {
		if v, ok := d.httpURL(n, p); ok {
			cfg.PublicURL = strings.TrimRight(v, "/")
		}
	}
	if n, p, ok := top.take(d, "language"); ok {
		cfg.Language = d.oneOf(n, p, "es", "es", "en")
	}
	if n, p, ok := top.take(d, "storage"); ok {
		if s, ok := d.str(n, p); ok {
			if err := checkStorage(s); err != nil {
				d.errorf(n, p, "%s", err) // never quotes the DSN: it may hold a password
			}
			cfg.Storage = s
		}
	}
	if n, p, ok := top.take(d, "data"); ok {
		cfg.Data, _ = d.str(n, p)
	}
	if n, p, ok := top.take(d, "timezone"); ok {
		if s, ok := d.str(n, p); ok {
			if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
				d.scrubbed(n, p, s, fmt.Sprintf("unknown time zone %q (use an IANA name such as Europe/Madrid or UTC)", s))
			}
			cfg.Timezone = s
		}
	}
	if n, p, ok := top.take(d, "default_region"); ok {
		if s, ok := d.str(n, p); ok && s != "" {
			r := strings.ToUpper(s)
			if phonenumbers.GetCountryCodeForRegion(r) == 0 {
				d.scrubbed(n, p, s, fmt.Sprintf("unknown region %q (use a two-letter country code such as ES)", s))
			}
			cfg.DefaultRegion = r
		}
	}
	if n, p, ok := top.take(d, "admin"); ok {
		cfg.Admin = d.admin(n, p)
	}
	if n, p, ok := top.take(d, "sources"); ok {
		cfg.Sources = d.sources(n, p)
	}
	if n, p, ok := top.take(d, "rules"); ok {
		cfg.Rules = d.rules(n, p)
	}
	if n, p, ok := top.take(d, "caps"); ok {
		cfg.Caps = d.caps(n, p)
	}
	if n, p, ok := top.take(d, "quiet_hours"); ok {
		cfg.QuietHours = d.quietHours(n, p)
	}
	if n, p, ok := top.take(d, "upstreams"); ok {
		cfg.Upstreams = d.upstreams(n, p)
	}
	if n, p, ok := top.take(d, "alerts"); ok {
		cfg.Alerts = d.alerts(n, p)
	}
	if n, p, ok := top.take(d, "costs"); ok {
		cfg.Costs = d.costs(n, p)
	}
	if n, p, ok := top.take(d, "retention"); ok {
		d.retention(n, p, &cfg.Retention)
	}
	if n, p, ok := top.take(d, "limits"); ok {
		d.limits(n, p, &cfg.Limits)
	}
	if n, p, ok := top.take(d, "sentiment"); ok {
		d.sentiment(n, p, &cfg.Sentiment)
	}
	if n, p, ok := top.take(d, "pause"); ok {
		d.pause(n, p, &cfg.Pause)
	}
	d.unknown(top, topKeys)
	d.crossCheck(cfg)
	return cfg
}

func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not an address to listen on (write host:port or :port, e.g. \":8080\")", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	_ = host
	return nil
}

func checkStorage(s string) error {
	scheme, rest, found := strings.Cut(s, ":")
	switch {
	case !found || rest == "":
		return errors.New("write bolt:FILE or postgres://user@host/db")
	case scheme == "bolt":
		return nil
	case scheme == "postgres" || scheme == "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return errors.New("a postgres address starts with postgres://")
		}
		return nil
	}
	return fmt.Errorf("unknown storage %q (write bolt:FILE or postgres://user@host/db)", scheme)
}

// name reads the required name of a list entry and checks it is usable in a URL and unique.
func (d *decoder) name(o *object, what string, seen map[string]string) string {
	n, p, ok := o.take(d, "name")
	if !ok {
		d.errorf(o.node, join(o.path, "name"), "every %s needs a name", what)
		return ""
	}
	s, ok := d.str(n, p)
	if !ok {
		return ""
	}
	if !validName(s) {
		d.scrubbed(n, p, s, fmt.Sprintf("%q is not a %s name (letters, digits, '-', '_' and '.', at most 64)", s, what))
		return s
	}
	if prev, dup := seen[s]; dup {
		d.errorf(n, p, "duplicate %s name %q (%s has it too)", what, s, prev)
		return s
	}
	seen[s] = o.path
	return s
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// kind reads the required kind of a source, upstream or alert.
func (d *decoder) kind(o *object, what string) string {
	n, p, ok := o.take(d, "kind")
	if !ok {
		d.errorf(o.node, p, "every %s needs a kind (the vendor: zendesk, twilio, generic…)", what)
		return ""
	}
	s, ok := d.str(n, p)
	if ok && !validName(s) {
		d.scrubbed(n, p, s, fmt.Sprintf("%q is not a %s kind", s, what))
	}
	return strings.ToLower(s)
}

// entries decodes each item of a list of mappings, dropping those that referenced an unset
// optional variable.
func (d *decoder) entries(n ast.Node, path string, each func(o *object)) {
	items, _ := d.list(n, path)
	for i, item := range items {
		o, ok := d.object(item, fmt.Sprintf("%s[%d]", path, i))
		if !ok {
			continue
		}
		d.dropEntry = false
		each(o) // checks d.dropEntry before keeping the entry
		d.dropEntry = false
	}
}

func (d *decoder) admin(n ast.Node, path string) Admin {
	var a Admin
	o, ok := d.object(n, path)
	if !ok {
		return a
	}
	if tn, tp, ok := o.take(d, "tokens"); ok {
		names := map[string]string{}
		values := map[string]string{}
		d.entries(tn, tp, func(o *object) {
			var t Token
			t.Name = d.name(o, "token", names)
			if vn, vp, ok := o.take(d, "token"); !ok {
				d.errorf(o.node, vp, "every admin token needs its token")
			} else if s, ok := d.str(vn, vp); ok {
				switch {
				case len(s) < 16 && !d.dropEntry:
					// The value is not shown: it is a secret, however short.
					d.errorf(vn, vp, "is %d characters long; use at least 16 (e.g. openssl rand -hex 32)", len(s))
				case values[s] != "":
					d.errorf(vn, vp, "is the same token as %s; give every token its own", values[s])
				default:
					values[s] = o.path
				}
				t.Token = s
			}
			if rn, rp, ok := o.take(d, "role"); !ok {
				d.errorf(o.node, rp, "every admin token needs a role (admin, viewer or decide)")
			} else if s, ok := d.str(rn, rp); ok {
				switch s {
				case RoleAdmin, RoleViewer, RoleDecide:
				default:
					d.scrubbed(rn, rp, s, fmt.Sprintf("unknown role %q (want admin, viewer or decide)", s))
				}
				t.Role = s
			}
			d.unknown(o, []string{"name", "token", "role"})
			if !d.dropEntry {
				a.Tokens = append(a.Tokens, t)
			}
		})
	}
	d.unknown(o, []string{"tokens"})
	return a
}

func (d *decoder) sources(n ast.Node, path string) []Source {
	var out []Source
	seen := map[string]string{}
	d.entries(n, path, func(o *object) {
		var s Source
		s.Name = d.name(o, "source", seen)
		s.Kind = d.kind(o, "source")
		secretNode, sp, hasSecret := o.take(d, "secret")
		if hasSecret {
			s.Secret, _ = d.str(secretNode, sp)
		}
		if n, p, ok := o.take(d, "insecure"); ok {
			s.Insecure, _ = d.boolean(n, p)
		}
		if n, p, ok := o.take(d, "tolerance"); ok {
			if v, ok := d.duration(n, p); ok {
				if v <= 0 {
					d.errorf(n, p, "must be longer than 0")
				}
				s.Tolerance = v
			}
		}
		switch {
		case d.dropEntry || d.bad[sp]:
		case s.Insecure && s.Secret != "":
			d.errorf(secretNode, sp, "a source is either signed (secret) or insecure: true, not both")
		case hasSecret && s.Secret == "" && !s.Insecure:
			// An empty secret would make every signature check fail, or worse pass.
			d.errorf(secretNode, sp, "is empty; set it, or write insecure: true to accept unsigned deliveries")
		}
		s.Options = d.options(o, sourceKeys)
		if !d.dropEntry {
			out = append(out, s)
		}
	})
	return out
}

func (d *decoder) upstreams(n ast.Node, path string) []Upstream {
	var out []Upstream
	seen := map[string]string{}
	d.entries(n, path, func(o *object) {
		u := Upstream{Category: gateway.CategoryMarketing, Mode: ModeEnforce, OnAllDropped: AllDroppedSuccess}
		u.Name = d.name(o, "upstream", seen)
		u.Kind = d.kind(o, "upstream")
		if n, p, ok := o.take(d, "url"); !ok {
			d.errorf(o.node, p, "every upstream needs the url of the API it fronts")
		} else {
			u.URL, _ = d.httpURL(n, p)
		}
		if n, p, ok := o.take(d, "category"); ok {
			if s, ok := d.str(n, p); ok {
				c, err := gateway.ParseCategory(s, false)
				if err != nil {
					d.scrubbed(n, p, s, err.Error())
				}
				u.Category = c
			}
		}
		if n, p, ok := o.take(d, "channel"); ok {
			if s, ok := d.str(n, p); ok && s != "" {
				c, err := gateway.ParseChannel(s, false)
				if err != nil {
					d.scrubbed(n, p, s, err.Error())
				}
				u.Channel = c
			}
		}
		if n, p, ok := o.take(d, "mode"); ok {
			u.Mode = d.oneOf(n, p, ModeEnforce, ModeEnforce, ModeShadow)
		}
		if n, p, ok := o.take(d, "on_all_dropped"); ok {
			u.OnAllDropped = d.oneOf(n, p, AllDroppedSuccess, AllDroppedSuccess, AllDroppedError)
		}
		if n, p, ok := o.take(d, "timeout"); ok {
			if v, ok := d.duration(n, p); ok {
				if v <= 0 {
					d.errorf(n, p, "must be longer than 0")
				}
				u.Timeout = v
			}
		}
		if n, p, ok := o.take(d, "sync"); ok {
			if v, ok := d.boolean(n, p); ok {
				u.Sync = v
				if v && u.Mode == ModeShadow {
					// A shadow upstream enforces nothing; writing to the vendor's own list would.
					d.errorf(n, p, "an upstream in mode: shadow cannot sync (the vendor would enforce its silences); use mode: enforce or sync: false")
				}
			}
		}
		u.Options = d.options(o, upstreamKeys)
		if !d.dropEntry {
			out = append(out, u)
		}
	})
	return out
}

func (d *decoder) alerts(n ast.Node, path string) []Alert {
	var out []Alert
	seen := map[string]string{}
	d.entries(n, path, func(o *object) {
		var a Alert
		a.Name = d.name(o, "alert", seen)
		a.Kind = d.kind(o, "alert")
		if n, p, ok := o.take(d, "url"); ok {
			a.URL, _ = d.httpURL(n, p)
		}
		a.Options = d.options(o, alertKeys)
		if !d.dropEntry {
			out = append(out, a)
		}
	})
	return out
}

// httpURL reads an absolute http(s) URL. Its value is never shown: webhook URLs carry
// tokens.
func (d *decoder) httpURL(n ast.Node, p string) (string, bool) {
	s, ok := d.str(n, p)
	if !ok || d.dropEntry {
		return s, ok
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme != "http" && u.Scheme != "https":
		d.errorf(n, p, "must be an http:// or https:// URL")
		return s, false
	case u.Host == "" || u.Hostname() == "":
		d.errorf(n, p, "must name a host (https://api.example.com)")
		return s, false
	case u.Fragment != "":
		d.errorf(n, p, "must not have a #fragment")
		return s, false
	}
	return s, true
}

// oneOf reads one of a fixed set of words; "" gives def.
func (d *decoder) oneOf(n ast.Node, p, def string, allowed ...string) string {
	s, ok := d.str(n, p)
	if !ok {
		return def
	}
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	d.scrubbed(n, p, s, fmt.Sprintf("unknown value %q (want %s)", s, strings.Join(allowed, " or ")))
	return def
}

func (d *decoder) rules(n ast.Node, path string) []gateway.RuleSpec {
	var out []gateway.RuleSpec
	d.entries(n, path, func(o *object) {
		var r gateway.RuleSpec
		if n, p, ok := o.take(d, "name"); ok {
			r.Name, _ = d.str(n, p)
		}
		if n, p, ok := o.take(d, "description"); ok {
			r.Description, _ = d.str(n, p)
		}
		if n, p, ok := o.take(d, "when"); ok {
			r.When, _ = d.str(n, p)
		}
		if n, p, ok := o.take(d, "alert"); ok {
			r.Alert, _ = d.str(n, p)
		}
		shadowGiven := false
		if n, p, ok := o.take(d, "shadow"); ok {
			r.Shadow, shadowGiven = d.boolean(n, p)
		}
		// mode: shadow | enforce, the spelling upstreams use; shadow: true stays its alias.
		if n, p, ok := o.take(d, "mode"); ok {
			if mode := d.oneOf(n, p, "", ModeEnforce, ModeShadow); mode != "" {
				if shadowGiven && r.Shadow != (mode == ModeShadow) {
					d.errorf(n, p, "mode: %s and shadow: %t disagree; give only mode (shadow: true is the old spelling of mode: shadow)", mode, r.Shadow)
				}
				r.Shadow = mode == ModeShadow
			}
		}
		var holdoutNode ast.Node
		var holdoutPath string
		if n, p, ok := o.take(d, "holdout"); ok {
			r.Holdout, _ = d.holdout(n, p)
			holdoutNode, holdoutPath = n, p
		}
		if n, p, ok := o.take(d, "silence"); ok {
			r.Silence = d.silence(n, p)
		}
		if holdoutNode != nil && r.Holdout > 0 && r.Silence == nil {
			d.errorf(holdoutNode, holdoutPath, "a holdout keeps customers out of the rule's silence, and this rule has none: add a silence or remove holdout")
		}
		if n, p, ok := o.take(d, "follow_up"); ok {
			r.FollowUp = d.followUp(n, p)
		}
		d.unknown(o, []string{"name", "description", "when", "silence", "alert", "follow_up", "shadow", "mode", "holdout"})
		out = append(out, r)
	})
	return out
}

// maxHoldout bounds a rule's control group: past half, most of the customers the rule is
// meant to protect would not be.
const maxHoldout = 0.5

// holdout reads a rule's control fraction: a percentage ("10%") or a fraction (0.1), from 0
// to 50%.
func (d *decoder) holdout(n ast.Node, p string) (float64, bool) {
	const want = "must be a percentage from 0% to 50% (10%) or a fraction from 0 to 0.5 (0.1)"
	var v float64
	switch u := d.unwrap(n, p).(type) {
	case nil:
		return 0, false
	case *ast.IntegerNode, *ast.FloatNode:
		f, ok := d.number(u, p)
		if !ok {
			return 0, false
		}
		if f > 1 {
			d.errorf(n, p, "%s; %s is not a fraction (write %s%%)", want, rawText(u), rawText(u))
			return 0, false
		}
		v = f
	case *ast.StringNode:
		num, pct := strings.CutSuffix(strings.TrimSpace(u.Value), "%")
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !pct {
			d.errorf(n, p, "%s", want)
			return 0, false
		}
		v = f / 100
	default:
		d.errorf(n, p, "%s, not %s", want, kindOf(u))
		return 0, false
	}
	if math.IsNaN(v) || v < 0 || v > maxHoldout {
		d.errorf(n, p, "%s", want)
		return 0, false
	}
	return v, true
}

// followUp reads a rule's follow_up: {after: 3d, alert: retention}.
func (d *decoder) followUp(n ast.Node, path string) *gateway.FollowUpSpec {
	o, ok := d.object(n, path)
	if !ok {
		return nil
	}
	f := &gateway.FollowUpSpec{}
	if n, p, ok := o.take(d, "after"); ok {
		if v, ok := d.duration(n, p); ok {
			if v <= 0 || v > gateway.Duration(90*24*time.Hour) {
				d.errorf(n, p, "must be longer than 0 and at most 90d")
			}
			f.After = v
		}
	} else {
		d.errorf(n, path, "a follow-up needs after (how long after the rule fired, e.g. 3d)")
	}
	if n, p, ok := o.take(d, "alert"); ok {
		f.Alert, _ = d.str(n, p)
	} else {
		d.errorf(n, path, "a follow-up needs alert (where to send it)")
	}
	d.unknown(o, []string{"after", "alert"})
	return f
}

func (d *decoder) silence(n ast.Node, path string) *gateway.SilenceSpec {
	o, ok := d.object(n, path)
	if !ok {
		return nil
	}
	s := &gateway.SilenceSpec{}
	if n, p, ok := o.take(d, "for"); ok {
		s.For, _ = d.duration(n, p)
	}
	if n, p, ok := o.take(d, "until_resolved"); ok {
		s.UntilResolved, _ = d.boolean(n, p)
	}
	if n, p, ok := o.take(d, "then"); ok {
		s.Then, _ = d.duration(n, p)
	}
	if n, p, ok := o.take(d, "categories"); ok {
		cats, _ := d.strings(n, p)
		for _, c := range cats {
			s.Categories = append(s.Categories, gateway.Category(c))
		}
	}
	if n, p, ok := o.take(d, "channels"); ok {
		chs, _ := d.strings(n, p)
		for _, c := range chs {
			s.Channels = append(s.Channels, gateway.Channel(c))
		}
	}
	d.unknown(o, []string{"for", "until_resolved", "then", "categories", "channels"})
	return s
}

func (d *decoder) caps(n ast.Node, path string) []gateway.CapSpec {
	var out []gateway.CapSpec
	seen := map[gateway.CapSpec]string{}
	d.entries(n, path, func(o *object) {
		var c gateway.CapSpec
		good := true
		if n, p, ok := o.take(d, "channel"); !ok {
			d.errorf(o.node, p, "every cap needs a channel (or any)")
			good = false
		} else if s, ok := d.str(n, p); ok {
			ch, err := gateway.ParseChannel(s, true)
			if err != nil {
				d.scrubbed(n, p, s, strings.TrimSuffix(err.Error(), ")")+", or any)")
				good = false
			}
			c.Channel = ch
		} else {
			good = false
		}
		if n, p, ok := o.take(d, "category"); !ok {
			d.errorf(o.node, p, "every cap needs a category (or any)")
			good = false
		} else if s, ok := d.str(n, p); ok {
			cat, err := gateway.ParseCategory(s, true)
			switch {
			case err != nil:
				d.scrubbed(n, p, s, strings.TrimSuffix(err.Error(), ")")+", or any)")
				good = false
			case cat.NeverBlocked():
				d.errorf(n, p, "caps never apply to category %q (only marketing, sales, survey or any)", cat)
				good = false
			}
			c.Category = cat
		} else {
			good = false
		}
		if n, p, ok := o.take(d, "max"); !ok {
			d.errorf(o.node, p, "every cap needs max, the number of contacts allowed per window")
			good = false
		} else if v, ok := d.integer(n, p); ok {
			if v < 1 || v > 1_000_000 {
				d.errorf(n, p, "must be between 1 and 1000000 (to stop all contacts, use an opt-out)")
				good = false
			}
			c.Max = int(v)
		} else {
			good = false
		}
		if n, p, ok := o.take(d, "per"); !ok {
			d.errorf(o.node, p, "every cap needs per, its rolling window (30d)")
			good = false
		} else if v, ok := d.duration(n, p); ok {
			if v <= 0 {
				d.errorf(n, p, "must be longer than 0")
				good = false
			}
			c.Per = v
		} else {
			good = false
		}
		d.unknown(o, []string{"channel", "category", "max", "per"})
		if good {
			if prev, dup := seen[c]; dup {
				d.errorf(o.node, o.path, "is the same cap as %s", prev)
			}
			seen[c] = o.path
		}
		out = append(out, c)
	})
	return out
}

func (d *decoder) quietHours(n ast.Node, path string) []gateway.QuietHoursSpec {
	var out []gateway.QuietHoursSpec
	d.entries(n, path, func(o *object) {
		q := gateway.QuietHoursSpec{Action: gateway.QuietDefer}
		if n, p, ok := o.take(d, "channels"); !ok {
			d.errorf(o.node, p, "quiet hours need the channels they apply to")
		} else if chs, ok := d.strings(n, p); ok {
			if len(chs) == 0 {
				d.errorf(n, p, "name at least one channel")
			}
			for i, s := range chs {
				ch, err := gateway.ParseChannel(s, false)
				if err != nil {
					item := fmt.Sprintf("%s[%d]", p, i)
					in, _ := d.nodeAt(item)
					d.scrubbed(in, item, s, err.Error())
				}
				q.Channels = append(q.Channels, ch)
			}
		}
		var from, to time.Duration
		var fromOK, toOK bool
		for _, k := range []string{"from", "to"} {
			n, p, ok := o.take(d, k)
			if !ok {
				d.errorf(o.node, p, "quiet hours need %s (HH:MM)", k)
				continue
			}
			s, ok := d.str(n, p)
			if !ok {
				continue
			}
			v, err := clock(s)
			if err != nil {
				d.scrubbed(n, p, s, err.Error())
				continue
			}
			if k == "from" {
				q.From, from, fromOK = s, v, true
			} else {
				q.To, to, toOK = s, v, true
			}
		}
		if fromOK && toOK && from == to {
			n, _, _ := o.take(d, "to")
			d.errorf(n, join(o.path, "to"), "from and to are the same time: the window would be empty")
		}
		if n, p, ok := o.take(d, "action"); ok {
			q.Action = d.oneOf(n, p, gateway.QuietDefer, gateway.QuietDrop, gateway.QuietDefer)
		}
		d.unknown(o, []string{"channels", "from", "to", "action"})
		out = append(out, q)
	})
	return out
}

func (d *decoder) costs(n ast.Node, path string) map[gateway.Channel]float64 {
	o, ok := d.object(n, path)
	if !ok {
		return nil
	}
	out := make(map[gateway.Channel]float64, len(o.entries))
	for i := range o.entries {
		e := &o.entries[i]
		e.used = true
		p := join(path, e.key)
		d.nodes[p] = e.value
		ch, err := gateway.ParseChannel(e.key, false)
		if err != nil {
			d.errorf(e.kn, p, "%s", err)
			continue
		}
		v, ok := d.number(e.value, p)
		if !ok {
			continue
		}
		if v < 0 {
			d.errorf(e.value, p, "a cost cannot be negative")
			continue
		}
		out[ch] = v
	}
	return out
}

func (d *decoder) retention(n ast.Node, path string, r *Retention) {
	o, ok := d.object(n, path)
	if !ok {
		return
	}
	for _, f := range []struct {
		key string
		dst *gateway.Duration
	}{{"events", &r.Events}, {"decisions", &r.Decisions}, {"dedupe", &r.Dedupe}} {
		if n, p, ok := o.take(d, f.key); ok {
			if v, ok := d.duration(n, p); ok {
				if v <= 0 {
					d.errorf(n, p, "must be longer than 0")
					continue
				}
				*f.dst = v
			}
		}
	}
	d.unknown(o, []string{"events", "decisions", "dedupe"})
}

func (d *decoder) limits(n ast.Node, path string, l *Limits) {
	o, ok := d.object(n, path)
	if !ok {
		return
	}
	if n, p, ok := o.take(d, "body"); ok {
		if v, ok := d.size(n, p); ok {
			if v < 1024 || v > 1<<30 {
				d.errorf(n, p, "must be between 1KiB and 1GiB")
			}
			l.Body = v
		}
	}
	if n, p, ok := o.take(d, "request_timeout"); ok {
		if v, ok := d.duration(n, p); ok {
			if v <= 0 {
				d.errorf(n, p, "must be longer than 0")
			}
			l.RequestTimeout = v
		}
	}
	d.unknown(o, []string{"body", "request_timeout"})
}

func (d *decoder) sentiment(n ast.Node, path string, s *Sentiment) {
	o, ok := d.object(n, path)
	if !ok {
		return
	}
	if n, p, ok := o.take(d, "language"); ok {
		s.Language = d.oneOf(n, p, "es", "es", "en")
	}
	if n, p, ok := o.take(d, "competitors"); ok {
		if v, ok := d.strings(n, p); ok {
			for _, c := range v {
				if strings.TrimSpace(c) == "" {
					d.errorf(n, p, "a competitor name is empty")
				}
			}
			s.Competitors = v
		}
	}
	if n, p, ok := o.take(d, "url"); ok {
		if v, ok := d.httpURL(n, p); ok {
			s.URL = v
		}
	}
	if n, p, ok := o.take(d, "timeout"); ok {
		if v, ok := d.duration(n, p); ok {
			if v <= 0 || time.Duration(v) > time.Minute {
				d.errorf(n, p, "must be longer than 0 and at most 1m: intake waits for it")
			}
			s.Timeout = v
		}
	}
	if n, p, ok := o.take(d, "headers"); ok {
		if o2, ok := d.object(n, p); ok {
			s.Headers = map[string]string{}
			for _, e := range o2.rest() {
				e.used = true
				if v, ok := d.str(e.value, join(p, e.key)); ok {
					s.Headers[e.key] = v
				}
			}
		}
	}
	if s.URL == "" && (s.Timeout != 0 || len(s.Headers) > 0) {
		d.errorf(n, path, "timeout and headers go with url (an external scorer); without url the built-in scorer is used")
	}
	d.unknown(o, []string{"language", "competitors", "url", "timeout", "headers"})
}

func (d *decoder) pause(n ast.Node, path string, s *Pause) {
	o, ok := d.object(n, path)
	if !ok {
		return
	}
	if n, p, ok := o.take(d, "secret"); ok {
		if v, ok := d.str(n, p); ok {
			// "" (${HUSH_PAUSE_SECRET:-} unset) lets hush generate one; a short one is refused
			// without showing it: it is a secret, however short.
			if v != "" && len(v) < 16 {
				d.errorf(n, p, "is %d characters long; use at least 16 (e.g. openssl rand -hex 32)", len(v))
			}
			s.Secret = v
		}
	}
	if n, p, ok := o.take(d, "ttl"); ok {
		if v, ok := d.duration(n, p); ok {
			if v <= 0 || v > MaxPauseTTL {
				d.errorf(n, p, "must be longer than 0 and at most 365d")
			}
			s.TTL = v
		}
	}
	if n, p, ok := o.take(d, "days"); ok {
		if v, ok := d.integer(n, p); ok {
			if v < 1 || v > 365 {
				d.errorf(n, p, "must be a number of days from 1 to 365")
			}
			s.Days = int(v)
		}
	}
	d.unknown(o, []string{"secret", "ttl", "days"})
}

// size reads a byte count: 1048576, "512KiB", "1MiB", "1MB".
func (d *decoder) size(n ast.Node, p string) (int64, bool) {
	if v, isInt := d.unwrap(n, p).(*ast.IntegerNode); isInt {
		return d.integer(v, p)
	}
	s, ok := d.str(n, p)
	if !ok {
		return 0, false
	}
	v, err := parseSize(s)
	if err != nil {
		d.scrubbed(n, p, s, err.Error())
		return 0, false
	}
	return v, true
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (write 1MiB, 512KiB or a number of bytes)", s)
	}
	units := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
		"KB": 1000, "kB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000}
	unit, ok := units[strings.TrimSpace(t[i:])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit (use B, KiB, MiB, GiB, KB, MB or GB)", s)
	}
	if num > (1<<62)/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return num * unit, nil
}

// crossCheck runs the checks that involve several keys: rules compile, alerts exist, cap
// windows fit in the data kept.
func (d *decoder) crossCheck(cfg *Config) {
	alerts := map[string]bool{}
	for _, a := range cfg.Alerts {
		alerts[a.Name] = true
	}
	for i, r := range cfg.Rules {
		p := fmt.Sprintf("rules[%d].alert", i)
		if r.Alert != "" && !alerts[r.Alert] && !d.reported(p) {
			n, _ := d.nodeAt(p)
			d.errorf(n, p, "no alert named %q is defined under alerts", r.Alert)
		}
		p = fmt.Sprintf("rules[%d].follow_up.alert", i)
		if r.FollowUp != nil && r.FollowUp.Alert != "" && !alerts[r.FollowUp.Alert] && !d.reported(p) {
			n, _ := d.nodeAt(p)
			d.errorf(n, p, "no alert named %q is defined under alerts", r.FollowUp.Alert)
		}
	}
	if len(cfg.Rules) > 0 {
		d.compileRuleSpecs(cfg.Rules)
	}
	if ret := cfg.Retention.Events; ret < gateway.Duration(policy.HistoryWindow) && !d.reported("retention.events") {
		n, _ := d.nodeAt("retention.events")
		d.errorf(n, "retention.events", "must be at least %s: rules read that much history", gateway.FormatDuration(policy.HistoryWindow))
	}
	for i, c := range cfg.Caps {
		p := fmt.Sprintf("caps[%d].per", i)
		if c.Per > cfg.Retention.Decisions && !d.reported(p) {
			n, _ := d.nodeAt(p)
			d.errorf(n, p, "%s is longer than retention.decisions (%s): older contacts would be forgotten before the window ends", c.Per, cfg.Retention.Decisions)
		}
	}
}

// exprPosition maps a place inside a rule's when expression to the file, when the
// expression is written so that the mapping is exact: a plain or quoted one-line scalar
// without escapes, or a literal block (|). Otherwise the when value itself is the place.
func exprPosition(n ast.Node, line, col, exprLine, exprCol int) (int, int) {
	switch v := n.(type) {
	case *ast.StringNode:
		tk := v.GetToken()
		if exprLine != 1 || tk == nil || tk.Position == nil || strings.ContainsAny(tk.Origin, "\n\\") {
			return line, col
		}
		switch tk.Type {
		case token.DoubleQuoteType, token.SingleQuoteType:
			if strings.Contains(v.Value, "'") && tk.Type == token.SingleQuoteType {
				return line, col // '' escapes shift columns
			}
			return tk.Position.Line, tk.Position.Column + exprCol
		case token.StringType:
			return tk.Position.Line, tk.Position.Column + exprCol - 1
		}
	case *ast.LiteralNode:
		if v.Start == nil || v.Start.Type != token.LiteralType || v.Value == nil {
			return line, col
		}
		tk := v.Value.GetToken()
		if tk == nil || tk.Position == nil {
			return line, col
		}
		// The token's column is not kept for block content; its indentation is.
		indent := len(tk.Origin) - len(strings.TrimLeft(tk.Origin, " "))
		if indent == 0 || strings.HasPrefix(strings.TrimLeft(tk.Origin, " "), "\n") {
			return line, col
		}
		return tk.Position.Line + exprLine - 1, indent + exprCol
	}
	return line, col
}
