package gateway_test

import (
	"sort"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"15d", 15 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"24h", 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"90s", 90 * time.Second, false},
		{"1.5h", 90 * time.Minute, false},
		{"500ms", 500 * time.Millisecond, false},
		{"0", 0, false},
		{"", 0, true},
		{"15", 0, true},
		{"d", 0, true},
		{"15y", 0, true},
		{"-3d", 0, true},
		{"99999999999999w", 0, true},
	}
	for _, tt := range tests {
		got, err := gateway.ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestDurationText(t *testing.T) {
	for _, s := range []string{"15d", "2w", "36h", "90s", "15m"} {
		var d gateway.Duration
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := d.String(); got != s {
			t.Errorf("round trip %q → %q", s, got)
		}
	}
}

func TestCategories(t *testing.T) {
	if gateway.SendCategory("") != gateway.CategoryMarketing || gateway.SendCategory("newsletter") != gateway.CategoryMarketing {
		t.Error("unknown and empty categories must be treated as marketing")
	}
	if gateway.SendCategory("Transactional") != gateway.CategoryTransactional {
		t.Error("category names are case-insensitive")
	}
	for _, c := range []gateway.Category{gateway.CategoryTransactional, gateway.CategoryService, gateway.CategoryIncident} {
		if !c.NeverBlocked() {
			t.Errorf("%s must never be blocked", c)
		}
	}
	if gateway.CategoryMarketing.NeverBlocked() {
		t.Error("marketing can be blocked")
	}
	if _, err := gateway.ParseChannel("any", false); err == nil {
		t.Error(`"any" is only a cap channel`)
	}
	if c, err := gateway.ParseChannel("any", true); err != nil || c != gateway.ChannelAny {
		t.Errorf("ParseChannel(any, true) = %q, %v", c, err)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 50; i++ {
		ids = append(ids, gateway.NewID("sil", base.Add(time.Duration(i)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids do not sort by creation time: %v", ids)
	}
	if len(ids[0]) != len("sil_")+26 {
		t.Fatalf("id %q has the wrong length", ids[0])
	}
	if a, b := gateway.NewID("sil", base), gateway.NewID("sil", base); a == b {
		t.Fatal("two ids in the same millisecond are equal")
	}
}

func TestSilenceActiveAndCovers(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	end := start.Add(15 * 24 * time.Hour)
	s := gateway.Silence{Start: start, End: &end}
	if !s.ActiveAt(start) || s.ActiveAt(end) || s.ActiveAt(start.Add(-time.Second)) {
		t.Error("a silence is active in [start, end)")
	}
	if !s.Covers(gateway.ChannelEmail, gateway.CategoryMarketing) || s.Covers(gateway.ChannelEmail, gateway.CategoryTransactional) {
		t.Error("default categories are marketing, sales, survey")
	}
	s.Channels = []gateway.Channel{gateway.ChannelVoice}
	if s.Covers(gateway.ChannelEmail, gateway.CategoryMarketing) || !s.Covers(gateway.ChannelVoice, gateway.CategorySales) {
		t.Error("a silence with channels covers only those")
	}
	lifted := start.Add(time.Hour)
	s.LiftedAt = &lifted
	if s.ActiveAt(lifted) {
		t.Error("a lifted silence is not active")
	}
	open := gateway.Silence{Start: start, UntilResolved: true}
	if !open.ActiveAt(start.Add(365 * 24 * time.Hour)) {
		t.Error("an until-resolved silence with no end stays active")
	}
}

func TestIncidentScope(t *testing.T) {
	inc := gateway.Incident{Scope: "tag:fibra", OpenedAt: time.Now()}
	if inc.CoversCustomer(&gateway.Customer{Tags: []string{"movil"}}) || !inc.CoversCustomer(&gateway.Customer{Tags: []string{"fibra"}}) {
		t.Error("tag scope covers only customers with the tag")
	}
	if inc.CoversCustomer(nil) {
		t.Error("an unknown customer is not in a tag scope")
	}
	if inc.Covers(gateway.ChannelEmail, gateway.CategoryIncident) || !inc.Covers(gateway.ChannelEmail, gateway.CategoryMarketing) {
		t.Error("incident communications pass, marketing does not")
	}
}

func TestStricterCategory(t *testing.T) {
	tests := []struct{ a, b, want gateway.Category }{
		{"", "", ""},
		{"", gateway.CategoryTransactional, gateway.CategoryTransactional},
		{gateway.CategorySurvey, "", gateway.CategorySurvey},
		{gateway.CategoryTransactional, gateway.CategoryMarketing, gateway.CategoryMarketing},
		{gateway.CategoryMarketing, gateway.CategoryTransactional, gateway.CategoryMarketing},
		{gateway.CategorySales, gateway.CategorySurvey, gateway.CategorySales},
		{gateway.CategoryService, gateway.CategoryIncident, gateway.CategoryIncident},
		{gateway.CategoryTransactional, gateway.CategoryService, gateway.CategoryService},
		{"promo", gateway.CategoryTransactional, gateway.CategoryMarketing}, // unknown is marketing
	}
	for _, tt := range tests {
		if got := gateway.StricterCategory(tt.a, tt.b); got != tt.want {
			t.Errorf("StricterCategory(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
