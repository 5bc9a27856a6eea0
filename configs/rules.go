package configs

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml/ast"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
)

// ParseRules reads a file holding only a `rules:` list, in hush.yaml's syntax (the candidate
// rules of `hush simulate` and the console's simulation). Every problem is reported as
// *Errors, at its line and column as check-config reports them; name is only used in those
// messages. Alerts are not checked: a rules file names alerts the running config defines.
func ParseRules(data []byte, name string) ([]gateway.RuleSpec, error) {
	d := &decoder{file: name, getenv: func(string) string { return "" }, nodes: map[string]ast.Node{}, bad: map[string]bool{}}
	body, yamlErr := d.document(data, "a rules file")
	if yamlErr != nil {
		return nil, yamlErr
	}
	var rules []gateway.RuleSpec
	if body == nil {
		d.errorf(nil, "rules", "the file has no rules: write a `rules:` list as in hush.yaml")
	} else if top, ok := d.object(body, ""); ok {
		n, p, found := top.take(d, "rules")
		if found {
			rules = d.rules(n, p)
		} else {
			d.errorf(body, "rules", "the file has no rules: write a `rules:` list as in hush.yaml")
		}
		d.unknown(top, []string{"rules"})
	}
	if len(d.issues) == 0 && len(rules) > 0 {
		d.compileRuleSpecs(rules)
	}
	if len(d.issues) > 0 {
		d.sortIssues()
		return nil, &Errors{Issues: d.issues}
	}
	return rules, nil
}

// compileRuleSpecs reports what policy.CompileRules refuses at the key at fault (hush.yaml's
// cross-check and rules files alike).
func (d *decoder) compileRuleSpecs(rules []gateway.RuleSpec) {
	_, err := policy.CompileRules(rules)
	if err == nil {
		return
	}
	var errs policy.RuleErrors
	if !errors.As(err, &errs) {
		d.errorf(nil, "rules", "%v", err)
		return
	}
	for _, e := range errs {
		p := fmt.Sprintf("rules[%d].%s", e.Index, e.Field)
		if d.reported(p) {
			continue
		}
		n, _ := d.nodeAt(p)
		line, col := position(n)
		if e.Field == "when" && e.Line > 0 {
			line, col = exprPosition(n, line, col, e.Line, e.Column)
		}
		msg := e.Message
		if e.Rule != "" && e.Field != "name" {
			msg += fmt.Sprintf(" (rule %q)", e.Rule)
		}
		d.issues = append(d.issues, Issue{File: d.file, Line: line, Col: col, Path: p, Message: msg})
	}
}
