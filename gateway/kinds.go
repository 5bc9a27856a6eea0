package gateway

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Channel is how a message reaches a customer.
type Channel string

const (
	ChannelEmail    Channel = "email"
	ChannelSMS      Channel = "sms"
	ChannelVoice    Channel = "voice"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelPush     Channel = "push"
	// ChannelAny is only meaningful in caps: across all channels.
	ChannelAny Channel = "any"
)

// Channels lists every real channel.
var Channels = []Channel{ChannelEmail, ChannelSMS, ChannelVoice, ChannelWhatsApp, ChannelPush}

// ParseChannel checks a channel name. "any" is accepted only when allowAny is set (caps).
func ParseChannel(s string, allowAny bool) (Channel, error) {
	c := Channel(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Channels, c) || allowAny && c == ChannelAny {
		return c, nil
	}
	return "", fmt.Errorf("unknown channel %q (want one of email, sms, voice, whatsapp, push)", s)
}

// Category is why a message is sent.
type Category string

const (
	CategoryTransactional Category = "transactional"
	CategoryService       Category = "service"
	CategoryIncident      Category = "incident"
	CategoryMarketing     Category = "marketing"
	CategorySales         Category = "sales"
	CategorySurvey        Category = "survey"
	// CategoryAny is only meaningful in caps: across all categories.
	CategoryAny Category = "any"
)

// Categories lists every real category.
var Categories = []Category{CategoryTransactional, CategoryService, CategoryIncident,
	CategoryMarketing, CategorySales, CategorySurvey}

// DefaultSilencedCategories are what a silence covers when it names none.
var DefaultSilencedCategories = []Category{CategoryMarketing, CategorySales, CategorySurvey}

// NeverBlocked reports whether silences and caps never apply to the category.
func (c Category) NeverBlocked() bool {
	return c == CategoryTransactional || c == CategoryService || c == CategoryIncident
}

// strictness orders categories from the most often withheld to the least: silences cover
// marketing, sales and survey by default; incident sends still meet opt-outs and quiet
// hours; service and transactional sends are always allowed.
var strictness = []Category{CategoryMarketing, CategorySales, CategorySurvey,
	CategoryIncident, CategoryService, CategoryTransactional}

// StricterCategory is the category a send that declares both a and b is decided as: the
// one hush withholds more often, so that a newsletter that also carries a "receipt" label
// is never let through as a receipt. An empty category says nothing; an unknown one is
// marketing, as on any send.
func StricterCategory(a, b Category) Category {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	a, b = SendCategory(string(a)), SendCategory(string(b))
	if slices.Index(strictness, b) < slices.Index(strictness, a) {
		return b
	}
	return a
}

// ParseCategory checks a category name. An empty or unknown category on a send is treated as
// marketing by the policy (DESIGN §2); configuration, which a person writes, is strict, so
// this reports unknown names as errors and lets callers choose.
func ParseCategory(s string, allowAny bool) (Category, error) {
	c := Category(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Categories, c) || allowAny && c == CategoryAny {
		return c, nil
	}
	return "", fmt.Errorf("unknown category %q (want one of transactional, service, incident, marketing, sales, survey)", s)
}

// SendCategory maps a category a caller put on a send to the one the policy applies:
// unknown or empty is marketing.
func SendCategory(s string) Category {
	c, err := ParseCategory(s, false)
	if err != nil {
		return CategoryMarketing
	}
	return c
}

// Duration is a time.Duration that reads and writes the units people use for silences:
// "90s", "15m", "24h", "15d", "2w", and combinations "1d12h".
type Duration time.Duration

// ParseDuration reads s m h d w units (and Go's own ms, us, ns).
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("duration is empty")
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q (use a number and a unit: 30s, 15m, 24h, 15d, 2w)", orig)
		}
		num, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		s = s[i:]
		j := 0
		for j < len(s) && (s[j] < '0' || s[j] > '9') && s[j] != '.' {
			j++
		}
		var unit time.Duration
		switch s[:j] {
		case "ns":
			unit = time.Nanosecond
		case "us", "µs":
			unit = time.Microsecond
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use s, m, h, d or w)", orig, s[:j])
		}
		s = s[j:]
		// Rounded, not truncated: 32.230147151 s is 32230147150.999996 ns in floating point.
		v := math.Round(num * float64(unit))
		// The bound holds for the total too: parts that each fit could wrap the sum around
		// ("7000w" five times) into a short, wrong duration.
		if v > float64(1<<62) || total > 1<<62-time.Duration(v) {
			return 0, fmt.Errorf("duration %q is too long", orig)
		}
		total += time.Duration(v)
	}
	if total < 0 {
		return 0, fmt.Errorf("duration %q is negative", orig)
	}
	return total, nil
}

// FormatDuration writes d in the largest whole unit that fits: 15d, 36h, 90s.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(7*24*time.Hour) == 0:
		return fmt.Sprintf("%dw", d/(7*24*time.Hour))
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return d.String()
	}
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// MarshalText writes the duration as "15d".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "15d", "24h", "90s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
