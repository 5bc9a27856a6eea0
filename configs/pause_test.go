package configs

import (
	"strings"
	"testing"
	"time"
)

func TestPauseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    Pause
		wantErr string
	}{
		{name: "left out: zero (the defaults)", yaml: "listen: \":8080\"\n", want: Pause{}},
		{name: "from the environment", yaml: "pause: {secret: \"${HUSH_PAUSE_SECRET}\", ttl: 7d, days: 14}\n",
			env:  map[string]string{"HUSH_PAUSE_SECRET": "0123456789abcdef0123"},
			want: Pause{Secret: "0123456789abcdef0123", TTL: DefaultPauseTTL / 30 * 7, Days: 14}},
		{name: "empty default: generated later", yaml: "pause: {secret: \"${HUSH_PAUSE_SECRET:-}\"}\n", want: Pause{}},
		{name: "unset variable", yaml: "pause: {secret: \"${HUSH_PAUSE_SECRET}\"}\n",
			wantErr: "environment variable HUSH_PAUSE_SECRET is not set"},
		{name: "short secret", yaml: "pause: {secret: \"${S}\"}\n", env: map[string]string{"S": "tooshort"},
			wantErr: "is 8 characters long"},
		{name: "ttl too long", yaml: "pause: {ttl: 366d}\n", wantErr: "at most 365d"},
		{name: "ttl zero", yaml: "pause: {ttl: 0}\n", wantErr: "longer than 0"},
		{name: "days zero", yaml: "pause: {days: 0}\n", wantErr: "from 1 to 365"},
		{name: "unknown key", yaml: "pause: {dayz: 3}\n", wantErr: "dayz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml), "hush.yaml", env(c.env))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "tooshort") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Pause != c.want {
				t.Errorf("pause %+v, want %+v", cfg.Pause, c.want)
			}
		})
	}
	if DefaultPauseTTL.D() != 30*24*time.Hour {
		t.Errorf("default ttl %v", DefaultPauseTTL)
	}
}
