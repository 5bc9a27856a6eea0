package policy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/policy"
)

var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func num(v float64) *float64 { return &v }

func days(n int) gateway.Duration { return gateway.Duration(time.Duration(n) * 24 * time.Hour) }

// rule is a valid rule with the given condition.
func rule(name, when string) gateway.RuleSpec {
	return gateway.RuleSpec{Name: name, When: when, Silence: &gateway.SilenceSpec{For: days(1)}}
}

func TestCompileRulesReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name      string
		spec      gateway.RuleSpec
		wantField string
		wantMsg   string
	}{
		{"no name", gateway.RuleSpec{When: "true", Alert: "a"}, "name", "needs a name"},
		{"bad name", gateway.RuleSpec{Name: "low csat", When: "true", Alert: "a"}, "name", "not a rule name"},
		{"no action", gateway.RuleSpec{Name: "r", When: "true"}, "name", "does nothing"},
		{"for and until_resolved", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), UntilResolved: true}}, "silence.for", "not both"},
		{"no length", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{}}, "silence", "until_resolved"},
		{"negative for", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: -1}}, "silence.for", "negative"},
		{"then without until_resolved", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), Then: days(1)}}, "silence.then", "only goes with until_resolved"},
		{"unknown category", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), Categories: []gateway.Category{"sales", "promo"}}}, "silence.categories[1]", `unknown category "promo"`},
		{"never-blocked category", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), Categories: []gateway.Category{"transactional"}}}, "silence.categories[0]", "never silenced"},
		{"any category", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), Categories: []gateway.Category{"any"}}}, "silence.categories[0]", "unknown category"},
		{"unknown channel", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), Channels: []gateway.Channel{"fax"}}}, "silence.channels[0]", `unknown channel "fax"`},
		{"repeated channel", gateway.RuleSpec{Name: "r", When: "true", Silence: &gateway.SilenceSpec{For: days(1), Channels: []gateway.Channel{"sms", "sms"}}}, "silence.channels[1]", "twice"},
		{"empty condition", rule("r", "  "), "when", "needs a condition"},
		{"syntax error", rule("r", "event.csat <="), "when", "Syntax error"},
		{"undeclared", rule("r", "evnt.csat <= 2"), "when", "undeclared reference to 'evnt'"},
		{"not a bool", rule("r", "1 + 2"), "when", "must be true or false"},
		{"wrong arity", rule("r", "contacts() > 1"), "when", "no matching overload"},
		{"window too long", rule("r", `contacts(duration("800h")) > 1`), "when", "longer than the 30d"},
		{"hush window too long", rule("r", `events("ticket.opened", "5w") > 1`), "when", "longer than the 30d"},
		{"bad hush window", rule("r", `contacts_about("t", "3 days") > 1`), "when", "invalid duration"},
		{"days in a CEL duration", rule("r", `contacts(duration("7d")) > 1`), "when", `write "7d" without duration()`},
		{"negative window", rule("r", `contacts(duration("-1h")) > 1`), "when", "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := policy.CompileRules([]gateway.RuleSpec{tt.spec})
			if err == nil {
				t.Fatalf("CompileRules accepted %+v", tt.spec)
			}
			if rs != nil {
				t.Errorf("CompileRules returned a rule set with an error")
			}
			var errs policy.RuleErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want policy.RuleErrors", err)
			}
			for _, e := range errs {
				if e.Field == tt.wantField && strings.Contains(e.Message, tt.wantMsg) && e.Index == 0 {
					return
				}
			}
			t.Errorf("want a problem at %q containing %q, got:\n%v", tt.wantField, tt.wantMsg, err)
		})
	}
}

func TestCompileRulesLocatesCELErrors(t *testing.T) {
	_, err := policy.CompileRules([]gateway.RuleSpec{rule("r", "event.csat <= 2 &&\n  nope")})
	var errs policy.RuleErrors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	if e := errs[0]; e.Line != 2 || e.Column != 3 {
		t.Errorf("problem at %d:%d, want 2:3 (where nope starts)", e.Line, e.Column)
	}
}

func TestCompileRulesCollectsAllErrorsAndDuplicates(t *testing.T) {
	_, err := policy.CompileRules([]gateway.RuleSpec{
		rule("a", "true"),
		rule("b", "nope"),
		rule("a", "true"),
	})
	var errs policy.RuleErrors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	if errs[0].Index != 1 || errs[0].Field != "when" {
		t.Errorf("first problem: %+v, want rule #2's when", errs[0])
	}
	if errs[1].Index != 2 || errs[1].Field != "name" || !strings.Contains(errs[1].Message, "duplicate") {
		t.Errorf("second problem: %+v, want rule #3's duplicate name", errs[1])
	}
	if !strings.Contains(err.Error(), `rule "b": when:`) {
		t.Errorf("message does not name the rule and field: %v", err)
	}
}

func TestEvaluateConditions(t *testing.T) {
	survey := &gateway.Event{ID: "1", Source: "zendesk", Type: "survey.response", At: t0, CSAT: num(2),
		Channel: gateway.ChannelEmail, Tags: []string{"complaint"}, Attrs: map[string]any{"plan": "pro", "seats": 12.0},
		Sentiment: &gateway.Sentiment{Score: -0.6, Label: "negative"}, Customer: gateway.EventCustomer{Email: "ana@example.com"}}
	cust := &gateway.Customer{ID: "c1", Identities: []gateway.Identity{"email:ana@example.com"}, Tags: []string{"vip"}, Timezone: "Europe/Madrid"}
	tests := []struct {
		when      string
		customer  *gateway.Customer
		wantFire  bool
		wantError bool
	}{
		{`event.type == "survey.response" && event.csat <= 2`, cust, true, false},
		{`event.csat <= 1`, cust, false, false},
		{`event.csat == 2`, cust, true, false},
		{`event.csat < 2.5`, cust, true, false},
		{`has(event.nps) && event.nps <= 6`, cust, false, false},
		{`event.nps <= 6`, cust, false, true}, // absent field: an evaluation error, no firing
		{`"complaint" in event.tags`, cust, true, false},
		{`event.sentiment.score <= -0.5 && event.sentiment.label == "negative"`, cust, true, false},
		{`event.attrs.plan == "pro" && event.attrs.seats > 10`, cust, true, false},
		{`event.customer.email == "ana@example.com"`, cust, true, false},
		{`event.at == timestamp("2026-11-20T09:30:00Z")`, cust, true, false},
		{`now - event.at == duration("1h")`, cust, true, false},
		{`"vip" in customer.tags && customer.timezone == "Europe/Madrid"`, cust, true, false},
		{`"email:ana@example.com" in customer.identities`, cust, true, false},
		{`"vip" in customer.tags`, nil, false, false}, // an unknown customer has empty lists
		{`event.text.lowerAscii().contains("cancel")`, cust, false, true},
		{`event.channel`, cust, false, true}, // dyn that is not a bool
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", tt.when)})
			if err != nil {
				t.Fatal(err)
			}
			fired, errs := rs.Evaluate(policy.RuleInput{Event: survey, Customer: tt.customer, History: []gateway.Event{*survey}, Now: t0.Add(time.Hour)})
			if got := len(fired) == 1; got != tt.wantFire {
				t.Errorf("fired = %v, want %v (errors %v)", got, tt.wantFire, errs)
			}
			if got := len(errs) == 1; got != tt.wantError {
				t.Errorf("evaluation errors = %v, want error: %v", errs, tt.wantError)
			}
			for _, e := range errs {
				var ee *policy.EvalError
				if !errors.As(e, &ee) || ee.Rule != "r" {
					t.Errorf("error %v is not an *EvalError naming the rule", e)
				}
			}
		})
	}
}

// history builds a customer's history, newest first, from (type, topic, age, status).
type past struct {
	typ, topic string
	age        time.Duration
	status     string
}

func history(now time.Time, ps ...past) []gateway.Event {
	out := make([]gateway.Event, len(ps))
	for i, p := range ps {
		out[i] = gateway.Event{ID: fmt.Sprint(i), Source: "s", Type: p.typ, Topic: p.topic, At: now.Add(-p.age), Status: p.status}
	}
	return out
}

func TestHistoryFunctions(t *testing.T) {
	h := history(t0,
		past{"ticket.updated", "t1", 0, "open"}, // the event itself
		past{"call.completed", "t1", time.Hour, ""},
		past{"survey.response", "t1", 2 * time.Hour, ""}, // not a contact
		past{"chat.message", "t2", 3 * time.Hour, ""},
		past{"ticket.opened", "t1", 24 * time.Hour, "open"}, // exactly at the window edge: outside 24h
		past{"ticket.solved", "t3", 25 * time.Hour, "solved"},
		past{"ticket.opened", "t3", 26 * time.Hour, "open"},
		past{"call.missed", "", 40 * 24 * time.Hour, ""}, // beyond HistoryWindow
	)
	// A later event stored before this one (a late delivery being evaluated) is not counted.
	h = append([]gateway.Event{{ID: "late", Type: "chat.message", Topic: "t1", At: t0.Add(time.Minute)}}, h...)
	tests := []struct {
		when string
		want bool
	}{
		{`contacts(duration("24h")) == 2`, true},
		{`contacts("24h") == 2`, true},
		{`contacts(duration("24h") + duration("1s")) == 3`, true},
		{`contacts("30d") == 4`, true},
		{`contacts_about("t1", duration("24h")) == 1`, true},
		{`contacts_about("t1", "2d") == 2`, true},
		{`contacts_about(event.topic, "2d") == 2`, true},
		{`contacts_about("", "2d") == 0`, true},
		{`events("survey.response", "24h") == 1`, true},
		{`events("ticket.updated", "1h") == 1`, true},
		{`events("call.missed", "30d") == 0`, true},
		{`open_topics() == ["t1", "t2"]`, true},
		{`"t3" in open_topics()`, false},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", tt.when)})
			if err != nil {
				t.Fatal(err)
			}
			ev := h[1]
			fired, errs := rs.Evaluate(policy.RuleInput{Event: &ev, History: h, Now: t0})
			if len(errs) > 0 {
				t.Fatalf("evaluation errors: %v", errs)
			}
			if got := len(fired) == 1; got != tt.want {
				t.Errorf("fired = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChatIsOneContact: a chat conversation counts once however many messages it holds, so
// one lively chat does not look like a customer calling back again and again.
func TestChatIsOneContact(t *testing.T) {
	h := history(t0,
		past{"chat.message", "chat:1", 0, ""},
		past{"chat.message", "chat:1", time.Minute, ""},
		past{"chat.message", "chat:1", 2 * time.Minute, ""},
		past{"chat.message", "chat:2", time.Hour, ""},
		past{"chat.message", "", 2 * time.Hour, ""}, // no topic: each message on its own
		past{"chat.message", "", 3 * time.Hour, ""},
	)
	for when, want := range map[string]bool{
		`contacts_about("chat:1", "24h") == 1`: true,
		`contacts("24h") == 4`:                 true,
		`events("chat.message", "24h") == 6`:   true,
	} {
		rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", when)})
		if err != nil {
			t.Fatal(err)
		}
		ev := h[0]
		fired, errs := rs.Evaluate(policy.RuleInput{Event: &ev, History: h, Now: t0})
		if len(errs) > 0 || (len(fired) == 1) != want {
			t.Errorf("%s: fired %v (errors %v), want %v", when, len(fired) == 1, errs, want)
		}
	}
}

func TestOpenTopicsUsesEventTimeNotStorageOrder(t *testing.T) {
	// The solution arrived first, then a late delivery of the older opening: still solved.
	h := []gateway.Event{
		{ID: "2", Type: "ticket.opened", Topic: "t", At: t0.Add(-2 * time.Hour), Status: "open"},
		{ID: "1", Type: "ticket.solved", Topic: "t", At: t0.Add(-time.Hour)},
	}
	rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", `open_topics().size() == 0`)})
	if err != nil {
		t.Fatal(err)
	}
	fired, errs := rs.Evaluate(policy.RuleInput{Event: &h[0], History: h, Now: t0})
	if len(fired) != 1 || len(errs) > 0 {
		t.Errorf("topic solved an hour after it opened is reported open (errors %v)", errs)
	}
}

func TestEvaluateRuntimeLimits(t *testing.T) {
	ev := &gateway.Event{Type: "chat.message", At: t0, WaitSeconds: num(40 * 24 * 3600)}
	tests := []struct{ name, when, wantErr string }{
		{"computed window too long", `contacts(duration(string(int(event.wait_seconds)) + "s")) > 0`, "longer than"},
		{"cost limit", `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, a+b+c+d+e > 0)))))`, "cost limit"},
		{"history calls count against the cost limit", `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, contacts("1h") >= 0))))`, "cost limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", tt.when)})
			if err != nil {
				t.Fatal(err)
			}
			fired, errs := rs.Evaluate(policy.RuleInput{Event: ev, History: []gateway.Event{*ev}, Now: t0})
			if len(fired) != 0 {
				t.Errorf("rule fired")
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.wantErr) {
				t.Errorf("errors = %v, want one containing %q", errs, tt.wantErr)
			}
		})
	}
}

func TestEvaluateReportsFiringsInOrderAndKeepsSpecs(t *testing.T) {
	specs := []gateway.RuleSpec{
		{Name: "a", When: "true", Alert: "retention", Shadow: true},
		rule("b", "false"),
		{Name: "c", When: `event.type == "chat.message"`, Silence: &gateway.SilenceSpec{UntilResolved: true, Then: days(7)}},
	}
	rs, err := policy.CompileRules(specs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rs.Rules(), specs) {
		t.Errorf("Rules() = %+v, want the specs", rs.Rules())
	}
	ev := &gateway.Event{Type: "chat.message", At: t0}
	fired, errs := rs.Evaluate(policy.RuleInput{Event: ev, History: []gateway.Event{*ev}, Now: t0})
	if len(errs) > 0 || len(fired) != 2 || fired[0].Rule.Name != "a" || fired[1].Rule.Name != "c" {
		t.Fatalf("fired %+v errors %v, want a and c", fired, errs)
	}
	if !fired[0].Rule.Shadow || fired[0].Rule.Alert != "retention" || fired[1].Rule.Silence.Then != days(7) {
		t.Errorf("firings lost their specs: %+v %+v", fired[0].Rule, fired[1].Rule)
	}
	if _, errs := rs.Evaluate(policy.RuleInput{}); len(errs) != 1 {
		t.Errorf("no event: errors %v, want one", errs)
	}
}

// The event variable is the event's JSON, so rules can be written from DESIGN §5.
func TestEventValueMatchesEventJSON(t *testing.T) {
	ev := &gateway.Event{
		ID: "d1", Source: "zendesk", Type: "survey.response", At: t0,
		Customer: gateway.EventCustomer{Email: "ana@example.com", Phone: "+34600111222", IDs: map[string]string{"zendesk": "8841"},
			Name: "Ana", Locale: "es", Timezone: "Europe/Madrid", Tags: []string{"vip"}},
		Channel: gateway.ChannelVoice, Topic: "zendesk:ticket:5512", CSAT: num(1), NPS: num(0), CES: num(7),
		Text: "meh", Sentiment: &gateway.Sentiment{Score: -0.8, Label: "negative", Source: "vendor"},
		WaitSeconds: num(540), DurationSeconds: num(60), Status: "open", Tags: []string{"complaint"},
		Attrs: map[string]any{"any": "x"},
		// Intake fields: not part of what rules see.
		CustomerID: "c1", ReceivedAt: t0, Seq: 9,
	}
	for _, e := range []*gateway.Event{ev, {ID: "d2", Type: "chat.message", At: t0}} {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		delete(want, "customer_id")
		delete(want, "received_at")
		delete(want, "seq")
		want["at"] = e.At
		if c, ok := want["customer"].(map[string]any); ok && len(c) == 0 {
			delete(want, "customer") // an empty object: nothing to test for
		}
		got := policy.EventValue(e)
		// Round-trip got through JSON too so that []string and []any compare equal.
		gotRaw, _ := json.Marshal(got)
		wantRaw, _ := json.Marshal(want)
		if string(gotRaw) != string(wantRaw) {
			t.Errorf("EventValue =\n%s\nwant\n%s", gotRaw, wantRaw)
		}
	}
}

// One RuleSet serves concurrent evaluations, each with its own history.
func TestEvaluateConcurrently(t *testing.T) {
	rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", `contacts("24h") == int(event.attrs.n)`)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	failures := make(chan string, 64)
	for g := 1; g <= 8; g++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			ps := make([]past, n)
			for i := range ps {
				ps[i] = past{"call.missed", "t", time.Duration(i) * time.Minute, ""}
			}
			h := history(t0, ps...)
			h[0].Attrs = map[string]any{"n": float64(n)}
			for range 50 {
				fired, errs := rs.Evaluate(policy.RuleInput{Event: &h[0], History: h, Now: t0})
				if len(fired) != 1 || len(errs) > 0 {
					failures <- fmt.Sprintf("history of %d: fired %d, errors %v", n, len(fired), errs)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
}

// TestNeedsHistory: intake reads a customer's past events only for rule sets that can look
// at them.
func TestNeedsHistory(t *testing.T) {
	for when, want := range map[string]bool{
		`event.type == "survey.response" && has(event.csat) && event.csat <= 2`: false,
		`"vip" in customer.tags`: false,
		`contacts("24h") >= 3`:   true,
		`has(event.topic) && contacts_about(event.topic, duration("24h")) >= 3`: true,
		`events("call.missed", "7d") > 1`:                                       true,
		`size(open_topics()) > 2`:                                               true,
	} {
		rs, err := policy.CompileRules([]gateway.RuleSpec{rule("r", when)})
		if err != nil {
			t.Fatal(err)
		}
		if got := rs.NeedsHistory(); got != want {
			t.Errorf("%s: NeedsHistory = %v, want %v", when, got, want)
		}
	}
}
