package configs

import (
	"strings"
	"testing"
)

func TestParseRules(t *testing.T) {
	good := "rules:\n  - name: low-csat\n    when: 'event.type == \"survey.response\" && has(event.csat) && event.csat <= 3'\n    silence: {for: 15d}\n    alert: retention\n"
	rules, err := ParseRules([]byte(good), "candidate.yaml")
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	if len(rules) != 1 || rules[0].Name != "low-csat" || rules[0].Silence == nil || rules[0].Silence.For.String() != "15d" || rules[0].Alert != "retention" {
		t.Fatalf("rules: %+v", rules)
	}

	tests := []struct {
		name, yaml string
		want       []string // each line of the error starts with one of these, in order
	}{
		{"bad when", "rules:\n  - name: r1\n    when: 'event.csat <= '\n    silence: {for: 1d}\n", []string{"candidate.yaml:3:"}},
		{"unknown key", "rules:\n  - name: r1\n    when: 'true'\n    silense: {for: 1d}\n", []string{"candidate.yaml:4:5: rules[0].silense: unknown key"}},
		{"bad duration", "rules:\n  - name: r1\n    when: 'true'\n    silence: {for: soon}\n", []string{"candidate.yaml:4:"}},
		{"other top key", "rules: []\ncaps: []\n", []string{"candidate.yaml:2:1: caps: unknown key"}},
		{"no rules", "caps: []\n", []string{"candidate.yaml:1:1: rules:", "candidate.yaml:1:1: caps"}},
		{"not yaml", "rules: [\n", []string{"candidate.yaml:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tc.yaml), "candidate.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}
