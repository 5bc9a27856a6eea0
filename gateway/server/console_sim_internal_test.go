package server

import (
	"reflect"
	"testing"

	"github.com/hush-gateway/hush/configs"
	"github.com/hush-gateway/hush/gateway"
)

// The simulation form is prefilled with the loaded rules as YAML: read back, they are the
// same rules (every seed rule, and one with every key).
func TestRulesYAMLRoundTrips(t *testing.T) {
	cfg, err := configs.Default(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	rules := append(cfg.Rules, gateway.RuleSpec{
		Name: "every-key", Description: `quotes " and 'apostrophes' and: colons`, When: "event.type == \"chat.message\"\n&& true",
		Silence:  &gateway.SilenceSpec{For: gateway.Duration(36e11), Categories: []gateway.Category{gateway.CategorySales}, Channels: []gateway.Channel{gateway.ChannelSMS, gateway.ChannelVoice}},
		Alert:    "retention",
		FollowUp: &gateway.FollowUpSpec{After: gateway.Duration(864e11 * 3), Alert: "retention"},
		Shadow:   true,
	})
	got, err := configs.ParseRules([]byte(rulesYAML(rules)), "prefill")
	if err != nil {
		t.Fatalf("the prefilled YAML does not parse: %v\n%s", err, rulesYAML(rules))
	}
	if !reflect.DeepEqual(got, rules) {
		t.Errorf("round trip changed the rules:\n got %+v\nwant %+v", got, rules)
	}
	if _, err := configs.ParseRules([]byte(rulesYAML(nil)), "prefill"); err != nil {
		t.Errorf("no rules: %v", err)
	}
}
