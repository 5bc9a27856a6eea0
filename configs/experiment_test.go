package configs

import (
	"strings"
	"testing"
)

// Rule keys of issue #10: mode (shadow | enforce, with shadow: true as its alias) and
// holdout (a control fraction, written 10% or 0.1).
func TestRuleModeAndHoldout(t *testing.T) {
	tests := []struct {
		name        string
		rule        string // the rule's extra keys, in flow style
		wantShadow  bool
		wantHoldout float64
	}{
		{"default is enforce", "", false, 0},
		{"mode shadow", "mode: shadow", true, 0},
		{"mode enforce", "mode: enforce", false, 0},
		{"shadow alias", "shadow: true", true, 0},
		{"alias and mode agree", "shadow: true, mode: shadow", true, 0},
		{"alias false and mode enforce agree", "shadow: false, mode: enforce", false, 0},
		{"holdout percentage", "holdout: 10%", false, 0.1},
		{"holdout quoted percentage with a fraction", `holdout: "12.5%"`, false, 0.125},
		{"holdout fraction", "holdout: 0.1", false, 0.1},
		{"holdout zero", "holdout: 0", false, 0},
		{"holdout at the bound", "holdout: 50%", false, 0.5},
		{"holdout with shadow mode", "mode: shadow, holdout: 0.2", true, 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := ""
			if tt.rule != "" {
				extra = ", " + tt.rule
			}
			src := "rules:\n  - {name: r, when: 'true', silence: {for: 1d}" + extra + "}\n"
			cfg, err := Parse([]byte(src), "hush.yaml", env(nil))
			if err != nil {
				t.Fatalf("Parse:\n%s\n%v", src, err)
			}
			r := cfg.Rules[0]
			if r.Shadow != tt.wantShadow || r.Holdout != tt.wantHoldout {
				t.Errorf("shadow %v holdout %v, want %v and %v", r.Shadow, r.Holdout, tt.wantShadow, tt.wantHoldout)
			}
		})
	}
}

func TestRuleModeAndHoldoutErrorsAtLineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // "line:col: path: start of the message"
	}{
		{"mode and alias disagree", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, shadow: true, mode: enforce}\n",
			`2:69: rules[0].mode: mode: enforce and shadow: true disagree`},
		{"mode and alias disagree, block style", "rules:\n  - name: r\n    when: 'true'\n    silence: {for: 1d}\n    mode: shadow\n    shadow: false\n",
			`5:11: rules[0].mode: mode: shadow and shadow: false disagree`},
		{"unknown mode", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, mode: dry}\n",
			`2:55: rules[0].mode: unknown value "dry" (want enforce or shadow)`},
		{"holdout above 50%", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, holdout: 60%}\n",
			`2:58: rules[0].holdout: must be a percentage from 0% to 50%`},
		{"holdout fraction above 0.5", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, holdout: 0.6}\n",
			`2:58: rules[0].holdout: must be a percentage from 0% to 50%`},
		{"holdout as a bare whole number", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, holdout: 10}\n",
			`2:58: rules[0].holdout: must be a percentage from 0% to 50% (10%) or a fraction from 0 to 0.5 (0.1); 10 is not a fraction (write 10%)`},
		{"holdout negative", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, holdout: -5%}\n",
			`2:58: rules[0].holdout: must be a percentage`},
		{"holdout not a number", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, holdout: some}\n",
			`2:58: rules[0].holdout: must be a percentage`},
		{"holdout a list", "rules:\n  - {name: r, when: 'true', silence: {for: 1d}, holdout: [1]}\n",
			`2:58: rules[0].holdout: must be a percentage from 0% to 50% (10%) or a fraction from 0 to 0.5 (0.1), not a list`},
		{"holdout without silence", "rules:\n  - {name: r, when: 'true', alert: a, holdout: 10%}\nalerts: [{name: a, kind: log}]\n",
			`2:48: rules[0].holdout: a holdout keeps customers out of the rule's silence, and this rule has none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "hush.yaml", env(nil))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.yaml)
			}
			var lines []string
			for _, is := range issues(t, err) {
				lines = append(lines, is.String())
			}
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "hush.yaml:"+tt.want) {
				t.Errorf("want exactly one issue starting hush.yaml:%s\ngot:\n%s", tt.want, strings.Join(lines, "\n"))
			}
		})
	}
}
