package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"

	"github.com/hush-gateway/hush/gateway"
	"github.com/hush-gateway/hush/gateway/sentiment"
)

// The CEL environment rules are written against. This is a user-facing contract, documented
// again in configs/hush.yaml; change both together.
//
// Variables:
//
//	event     map built from the event's JSON (DESIGN §5): event.id, event.source, event.type,
//	          event.at (a timestamp), event.channel, event.topic, event.csat, event.nps,
//	          event.ces, event.text, event.sentiment.score, event.sentiment.label,
//	          event.sentiment.source, event.wait_seconds, event.duration_seconds, event.status,
//	          event.tags, event.attrs.<key>, event.customer.{email,phone,ids,name,…}.
//	          Optional fields that the event does not carry are ABSENT keys: test them with
//	          has(event.csat) before use. Numbers are doubles; int literals compare with them
//	          (event.csat <= 2).
//	customer  map: id, identities (list of "email:…", "phone:…"), tags (list), name, timezone,
//	          locale, attrs (map). Every key is always present (empty when unknown).
//	now       timestamp: when the rule is evaluated.
//
// Functions over the customer's history, counted on event times in the window
// (event.at - window, event.at] and never further back than HistoryWindow. A window is a CEL
// duration (duration("24h")) or a hush duration string ("7d"):
//
//	contacts(window) int                  contact events: ticket.opened, chat.message,
//	                                      call.completed, call.missed, call.abandoned, sms.inbound
//	contacts_about(topic, window) int     the same, restricted to one topic ("" counts nothing)
//	events(type, window) int              events of one type
//	open_topics() list(string)            topics whose newest known event is neither ticket.solved
//	                                      nor has status solved/closed, most recent first
//
// Functions over text, by hush's built-in English/Spanish scorer (gateway/sentiment):
//
//	sentiment(text) double                the polarity score in [-1, 1] (-0.5 and below: angry)
//	cues(text) list(string)               frustration cues found: cancellation, repeat_contact,
//	                                      complaint, regulator, competitor
//
// event.sentiment also carries language (en, es) and cues (a list; absent when none) when
// hush scored the event's text on intake.
//
// Plus CEL's standard library and the strings extension (lowerAscii, split, …).

// HistoryWindow is how far back the history functions may look. The caller of Evaluate
// supplies at least this much history; a rule asking for a longer constant window does not
// compile, and a longer window computed at run time is an evaluation error.
const HistoryWindow = 30 * 24 * time.Hour

// costLimit bounds the work one rule may do per event, so a pathological rule (nested
// comprehensions over big lists) cannot stall intake. The seed rules cost well under 100.
const costLimit = 100_000

// historyCallCost is what one call of a history function counts against costLimit: each
// scans the customer's history, which is far more than one CEL operation.
const historyCallCost = 50

// contactTypes are the event types that count as the customer reaching out (or being
// reached) in contacts() and contacts_about(). A survey answer is feedback, not a contact;
// ticket.updated is the same contact continuing.
var contactTypes = []string{
	gateway.EventTicketOpened, gateway.EventChatMessage, gateway.EventCallCompleted,
	gateway.EventCallMissed, gateway.EventCallAbandoned, gateway.EventSMSInbound,
}

// Names of the history functions and their overloads.
const (
	fnContacts      = "contacts"
	fnContactsAbout = "contacts_about"
	fnEvents        = "events"
	fnOpenTopics    = "open_topics"
	fnSentiment     = "sentiment"
	fnCues          = "cues"
)

// RuleSet is the configured rules compiled once. It is immutable and safe for concurrent use.
type RuleSet struct {
	specs    []gateway.RuleSpec
	programs []cel.Program
	// needsHistory is set when some rule calls a history function: only then does intake
	// read the customer's past events before evaluating.
	needsHistory bool
	// needsText is set when some rule calls sentiment() or cues(); text answers them.
	needsText bool
	text      TextAnalyzer
}

// TextAnalyzer answers the rule functions sentiment(text) and cues(text): hush's built-in
// scorer, *sentiment.Analyzer.
type TextAnalyzer interface {
	Analyze(text string) sentiment.Result
}

// RuleOption configures CompileRules.
type RuleOption func(*RuleSet)

// WithTextAnalyzer sets the scorer behind sentiment(text) and cues(text) (default: the
// built-in scorer with default options, built when some rule calls them).
func WithTextAnalyzer(a TextAnalyzer) RuleOption {
	return func(rs *RuleSet) { rs.text = a }
}

// NeedsHistory reports whether any rule reads the customer's history (contacts,
// contacts_about, events, open_topics). When none does, Evaluate may be given no History.
func (rs *RuleSet) NeedsHistory() bool { return rs.needsHistory }

// Firing is one rule whose condition held for an event.
type Firing struct {
	Rule *gateway.RuleSpec
}

// RuleInput is what a rule sees.
type RuleInput struct {
	Event    *gateway.Event
	Customer *gateway.Customer
	// History is the customer's earlier events, newest first, including Event itself (the
	// caller stores first). It must reach at least HistoryWindow back from Event.At.
	History []gateway.Event
	Now     time.Time // evaluation time
}

// RuleError is one problem with one configured rule. Field names the offending key as it is
// written in hush.yaml ("name", "when", "silence.for", "silence.categories[1]", "alert"), so
// that a config loader can point at it.
type RuleError struct {
	Index   int // position in the specs given to CompileRules
	Rule    string
	Field   string
	Message string
	// Line and Column locate a CEL error inside the when expression (both 1-based); zero
	// when the problem is not at one place in the expression.
	Line, Column int
}

func (e *RuleError) Error() string {
	name := e.Rule
	if name == "" {
		name = fmt.Sprintf("#%d", e.Index+1)
	}
	return fmt.Sprintf("rule %q: %s: %s", name, e.Field, e.Message)
}

// RuleErrors is every problem CompileRules found.
type RuleErrors []*RuleError

func (es RuleErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// EvalError is a rule that could not be evaluated for an event (a missing field, a type
// mismatch, the cost limit). The rule does not fire.
type EvalError struct {
	Rule string
	Err  error
}

func (e *EvalError) Error() string { return fmt.Sprintf("rule %q: %v", e.Rule, e.Err) }
func (e *EvalError) Unwrap() error { return e.Err }

// ruleEnv builds the CEL environment of the contract above.
func ruleEnv() (*cel.Env, error) {
	mapType := cel.MapType(cel.StringType, cel.DynType)
	late := cel.LateFunctionBinding()
	return cel.NewEnv(
		cel.Variable("event", mapType),
		cel.Variable("customer", mapType),
		cel.Variable("now", cel.TimestampType),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		cel.Function(fnContacts,
			cel.Overload("contacts_duration", []*cel.Type{cel.DurationType}, cel.IntType, late),
			cel.Overload("contacts_string", []*cel.Type{cel.StringType}, cel.IntType, late)),
		cel.Function(fnContactsAbout,
			cel.Overload("contacts_about_string_duration", []*cel.Type{cel.StringType, cel.DurationType}, cel.IntType, late),
			cel.Overload("contacts_about_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.IntType, late)),
		cel.Function(fnEvents,
			cel.Overload("events_string_duration", []*cel.Type{cel.StringType, cel.DurationType}, cel.IntType, late),
			cel.Overload("events_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.IntType, late)),
		cel.Function(fnOpenTopics,
			cel.Overload("open_topics", nil, cel.ListType(cel.StringType), late)),
		cel.Function(fnSentiment,
			cel.Overload("sentiment_string", []*cel.Type{cel.StringType}, cel.DoubleType, late)),
		cel.Function(fnCues,
			cel.Overload("cues_string", []*cel.Type{cel.StringType}, cel.ListType(cel.StringType), late)),
	)
}

// textOverloads are the overloads of the text functions.
var textOverloads = []string{"sentiment_string", "cues_string"}

// textCallCost is what one call of a text function counts against costLimit: scoring a
// message is a few microseconds, far more than one CEL operation.
const textCallCost = 20

var historyOverloads = []string{
	"contacts_duration", "contacts_string",
	"contacts_about_string_duration", "contacts_about_string_string",
	"events_string_duration", "events_string_string", "open_topics",
}

// CompileRules validates and compiles the configured rules. It reports every problem found,
// as RuleErrors, naming the rule and the field; CEL compile errors carry CEL's message.
func CompileRules(specs []gateway.RuleSpec, opts ...RuleOption) (*RuleSet, error) {
	env, err := ruleEnv()
	if err != nil {
		return nil, fmt.Errorf("building the rule environment: %w", err)
	}
	trackerOpts := make([]cost.TrackerOption, 0, len(historyOverloads)+len(textOverloads))
	for _, id := range historyOverloads {
		trackerOpts = append(trackerOpts, cost.OverloadTracker(id, func([]ref.Val, ref.Val) *uint64 {
			c := uint64(historyCallCost)
			return &c
		}))
	}
	for _, id := range textOverloads {
		trackerOpts = append(trackerOpts, cost.OverloadTracker(id, func([]ref.Val, ref.Val) *uint64 {
			c := uint64(textCallCost)
			return &c
		}))
	}

	rs := &RuleSet{specs: slices.Clone(specs), programs: make([]cel.Program, len(specs))}
	for _, o := range opts {
		o(rs)
	}
	var errs RuleErrors
	add := func(i int, field, format string, args ...any) {
		errs = append(errs, &RuleError{Index: i, Rule: specs[i].Name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	seen := make(map[string]int, len(specs))
	for i := range rs.specs {
		spec := &rs.specs[i]
		switch {
		case spec.Name == "":
			add(i, "name", "a rule needs a name")
		case !validRuleName(spec.Name):
			add(i, "name", "%q is not a rule name (letters, digits, '-', '_' and '.')", spec.Name)
		default:
			if j, dup := seen[spec.Name]; dup {
				add(i, "name", "duplicate rule name %q (rule #%d has it too)", spec.Name, j+1)
			} else {
				seen[spec.Name] = i
			}
		}
		if spec.Silence == nil && spec.Alert == "" && spec.FollowUp == nil {
			add(i, "name", "the rule does nothing: give it a silence, an alert, a follow-up or several")
		}
		if fu := spec.FollowUp; fu != nil {
			if fu.After <= 0 {
				add(i, "follow_up.after", "must be longer than 0")
			}
			if fu.Alert == "" {
				add(i, "follow_up.alert", "name the alert the follow-up goes to")
			}
		}
		switch {
		case math.IsNaN(spec.Holdout) || spec.Holdout < 0 || spec.Holdout > 0.5:
			add(i, "holdout", "must be a fraction from 0 to 0.5 (10%% is 0.1)")
		case spec.Holdout > 0 && spec.Silence == nil:
			add(i, "holdout", "a holdout keeps customers out of the rule's silence, and this rule has none: add a silence or remove holdout")
		}
		if spec.Silence != nil {
			for _, e := range validateSilence(spec.Silence) {
				add(i, e.Field, "%s", e.Message)
			}
		}
		if strings.TrimSpace(spec.When) == "" {
			add(i, "when", "a rule needs a condition")
			continue
		}
		prg, uses, problems := compileWhen(env, spec.When, trackerOpts)
		rs.needsHistory = rs.needsHistory || uses.history
		rs.needsText = rs.needsText || uses.text
		for _, p := range problems {
			errs = append(errs, &RuleError{Index: i, Rule: spec.Name, Field: "when", Message: p.Message, Line: p.Line, Column: p.Column})
		}
		rs.programs[i] = prg
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if rs.needsText && rs.text == nil {
		a, err := sentiment.New(sentiment.Options{})
		if err != nil {
			return nil, fmt.Errorf("building the text analyzer the rules call: %w", err)
		}
		rs.text = a
	}
	return rs, nil
}

func validRuleName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

type fieldProblem struct{ Field, Message string }

// validateSilence checks a rule's silence action: exactly one of a fixed length or "until
// resolved", and categories and channels a silence can cover.
func validateSilence(s *gateway.SilenceSpec) []fieldProblem {
	var out []fieldProblem
	switch {
	case s.For < 0:
		out = append(out, fieldProblem{"silence.for", "must not be negative"})
	case s.For > 0 && s.UntilResolved:
		out = append(out, fieldProblem{"silence.for", "give either for or until_resolved, not both"})
	case s.For == 0 && !s.UntilResolved:
		out = append(out, fieldProblem{"silence", "give its length (for: 15d) or until_resolved: true"})
	}
	if s.Then < 0 {
		out = append(out, fieldProblem{"silence.then", "must not be negative"})
	} else if s.Then > 0 && !s.UntilResolved {
		out = append(out, fieldProblem{"silence.then", "then (the grace after resolution) only goes with until_resolved: true"})
	}
	for i, c := range s.Categories {
		field := fmt.Sprintf("silence.categories[%d]", i)
		cat, err := gateway.ParseCategory(string(c), false)
		switch {
		case err != nil:
			out = append(out, fieldProblem{field, err.Error()})
		case cat.NeverBlocked():
			out = append(out, fieldProblem{field, fmt.Sprintf("category %q is never silenced (only marketing, sales and survey are)", cat)})
		case slices.Index(s.Categories, c) < i:
			out = append(out, fieldProblem{field, fmt.Sprintf("category %q is listed twice", cat)})
		}
	}
	for i, ch := range s.Channels {
		field := fmt.Sprintf("silence.channels[%d]", i)
		if _, err := gateway.ParseChannel(string(ch), false); err != nil {
			out = append(out, fieldProblem{field, err.Error()})
		} else if slices.Index(s.Channels, ch) < i {
			out = append(out, fieldProblem{field, fmt.Sprintf("channel %q is listed twice", ch)})
		}
	}
	return out
}

// compileWhen compiles one condition and checks what the type checker cannot: it yields a
// bool, and constant history windows are within HistoryWindow.
// functionUse says which kinds of late-bound functions a condition calls.
type functionUse struct{ history, text bool }

func compileWhen(env *cel.Env, when string, trackerOpts []cost.TrackerOption) (_ cel.Program, uses functionUse, _ []whenProblem) {
	checked, iss := env.Compile(when)
	if iss != nil && iss.Err() != nil {
		var out []whenProblem
		for _, e := range iss.Errors() {
			p := whenProblem{Message: e.Message}
			if e.Location.Line() > 0 {
				p.Line, p.Column = e.Location.Line(), e.Location.Column()+1
			}
			out = append(out, p)
		}
		return nil, uses, out
	}
	if t := checked.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, uses, []whenProblem{{Message: fmt.Sprintf("the condition must be true or false, not a %s", t)}}
	}
	if problems := checkWindows(checked.NativeRep()); len(problems) > 0 {
		out := make([]whenProblem, len(problems))
		for i, p := range problems {
			out[i] = whenProblem{Message: p}
		}
		return nil, uses, out
	}
	prg, err := env.Program(checked,
		cel.CostLimit(costLimit),
		cel.CostTrackerOptions(trackerOpts...),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, uses, []whenProblem{{Message: err.Error()}}
	}
	a := checked.NativeRep()
	return prg, functionUse{history: calls(a, historyOverloads), text: calls(a, textOverloads)}, nil
}

// calls reports whether a checked condition calls one of the overloads.
func calls(a *ast.AST, overloads []string) bool {
	for _, ref := range a.ReferenceMap() {
		for _, id := range ref.OverloadIDs {
			if slices.Contains(overloads, id) {
				return true
			}
		}
	}
	return false
}

// whenProblem is one compile error of a condition, with its place when CEL knows it.
type whenProblem struct {
	Message      string
	Line, Column int
}

// checkWindows finds history-function calls whose window is a constant and checks it.
func checkWindows(a *ast.AST) []string {
	var out []string
	ast.PostOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.CallKind {
			return
		}
		call := e.AsCall()
		switch call.FunctionName() {
		case fnContacts, fnContactsAbout, fnEvents:
		default:
			return
		}
		args := call.Args()
		if len(args) == 0 {
			return
		}
		w, ok, err := constantWindow(args[len(args)-1])
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", call.FunctionName(), err))
			return
		}
		if !ok {
			return
		}
		if err := checkWindow(w); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", call.FunctionName(), err))
		}
	}))
	return out
}

// constantWindow reads a window written as a literal: "7d" or duration("24h").
func constantWindow(e ast.Expr) (time.Duration, bool, error) {
	switch e.Kind() {
	case ast.LiteralKind:
		s, isString := e.AsLiteral().(types.String)
		if !isString {
			return 0, false, nil
		}
		d, err := gateway.ParseDuration(string(s))
		return d, true, err
	case ast.CallKind:
		call := e.AsCall()
		if call.FunctionName() != "duration" || len(call.Args()) != 1 || call.Args()[0].Kind() != ast.LiteralKind {
			return 0, false, nil
		}
		s, isString := call.Args()[0].AsLiteral().(types.String)
		if !isString {
			return 0, false, nil
		}
		d, err := time.ParseDuration(string(s))
		if err != nil {
			return 0, true, fmt.Errorf("invalid duration %q (CEL durations use h, m, s; for days write \"7d\" without duration())", string(s))
		}
		return d, true, nil
	}
	return 0, false, nil
}

func checkWindow(w time.Duration) error {
	if w < 0 {
		return fmt.Errorf("window %s is negative", w)
	}
	if w > HistoryWindow {
		return fmt.Errorf("window %s is longer than the %s of history rules can see", gateway.FormatDuration(w), gateway.FormatDuration(HistoryWindow))
	}
	return nil
}

// Rules returns the rules as configured.
func (rs *RuleSet) Rules() []gateway.RuleSpec { return slices.Clone(rs.specs) }

// Evaluate runs every rule against one event. A rule whose evaluation fails (a missing field,
// the cost limit) does not fire; its error is returned as an *EvalError so the caller can
// count and log it. Firings point into the RuleSet's own specs, in configuration order.
func (rs *RuleSet) Evaluate(in RuleInput) (fired []Firing, evalErrs []error) {
	if rs == nil || len(rs.programs) == 0 {
		return nil, nil
	}
	if in.Event == nil {
		return nil, []error{errors.New("evaluating rules: no event")}
	}
	h := &historyView{at: in.Event.At, history: in.History}
	vars := map[string]any{
		"event":    EventValue(in.Event),
		"customer": CustomerValue(in.Customer),
		"now":      in.Now,
	}
	tv := &textView{analyzer: rs.text}
	if s := in.Event.Sentiment; s != nil && s.Source == gateway.SentimentBuiltin && in.Event.Text != "" {
		// Intake already scored the event's text with the built-in scorer (with the
		// customer's language as a hint): rules asking about the same text reuse it.
		tv.text, tv.done = in.Event.Text, true
		tv.result = sentiment.Result{Score: s.Score, Label: s.Label, Language: s.Language, Cues: s.Cues}
	}
	act, err := cel.FunctionVars(vars, map[string]cel.LateBoundFunction{
		fnContacts:      h.contacts,
		fnContactsAbout: h.contactsAbout,
		fnEvents:        h.events,
		fnOpenTopics:    h.openTopics,
		fnSentiment:     tv.sentiment,
		fnCues:          tv.cues,
	})
	if err != nil {
		return nil, []error{fmt.Errorf("evaluating rules: binding history functions: %w", err)}
	}
	for i, prg := range rs.programs {
		out, _, err := prg.Eval(act)
		if err != nil {
			evalErrs = append(evalErrs, &EvalError{Rule: rs.specs[i].Name, Err: err})
			continue
		}
		b, ok := out.(types.Bool)
		if !ok {
			evalErrs = append(evalErrs, &EvalError{Rule: rs.specs[i].Name, Err: fmt.Errorf("condition gave %s, not true or false", out.Type())})
			continue
		}
		if b {
			fired = append(fired, Firing{Rule: &rs.specs[i]})
		}
	}
	return fired, evalErrs
}

// EventValue is the `event` variable rules see: the event's JSON field names, absent optional
// fields left out, numbers as doubles and `at` as a timestamp. Hush's own intake fields
// (customer_id, received_at, seq) are not part of it.
func EventValue(e *gateway.Event) map[string]any {
	m := make(map[string]any, 16)
	m["id"] = e.ID
	m["source"] = e.Source
	m["type"] = e.Type
	m["at"] = e.At
	if c := eventCustomerValue(&e.Customer); len(c) > 0 {
		m["customer"] = c
	}
	putString(m, "channel", string(e.Channel))
	putString(m, "topic", e.Topic)
	putFloat(m, "csat", e.CSAT)
	putFloat(m, "nps", e.NPS)
	putFloat(m, "ces", e.CES)
	putString(m, "text", e.Text)
	if s := e.Sentiment; s != nil {
		sm := map[string]any{"score": s.Score}
		putString(sm, "label", s.Label)
		putString(sm, "source", s.Source)
		putString(sm, "language", s.Language)
		if len(s.Cues) > 0 {
			sm["cues"] = s.Cues
		}
		m["sentiment"] = sm
	}
	putFloat(m, "wait_seconds", e.WaitSeconds)
	putFloat(m, "duration_seconds", e.DurationSeconds)
	putString(m, "status", e.Status)
	if len(e.Tags) > 0 {
		m["tags"] = e.Tags
	}
	if len(e.Attrs) > 0 {
		m["attrs"] = e.Attrs
	}
	return m
}

func eventCustomerValue(c *gateway.EventCustomer) map[string]any {
	m := make(map[string]any)
	putString(m, "email", c.Email)
	putString(m, "phone", c.Phone)
	if len(c.IDs) > 0 {
		m["ids"] = c.IDs
	}
	putString(m, "name", c.Name)
	putString(m, "locale", c.Locale)
	putString(m, "timezone", c.Timezone)
	if len(c.Tags) > 0 {
		m["tags"] = c.Tags
	}
	return m
}

// CustomerValue is the `customer` variable rules see. Every key is present, empty when
// unknown, so that `"vip" in customer.tags` works for a customer hush has just met.
func CustomerValue(c *gateway.Customer) map[string]any {
	if c == nil {
		c = &gateway.Customer{}
	}
	ids := make([]string, len(c.Identities))
	for i, id := range c.Identities {
		ids[i] = string(id)
	}
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	attrs := c.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return map[string]any{
		"id":         c.ID,
		"identities": ids,
		"tags":       tags,
		"name":       c.Name,
		"timezone":   c.Timezone,
		"locale":     c.Locale,
		"attrs":      attrs,
	}
}

func putString(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func putFloat(m map[string]any, k string, v *float64) {
	if v != nil {
		m[k] = *v
	}
}

// historyView answers the history functions for one evaluation. It is built per Evaluate
// call and only read, so rules run concurrently on different events share nothing mutable.
type historyView struct {
	at      time.Time
	history []gateway.Event
}

// inWindow reports whether an event at t falls in (h.at - w, h.at].
func (h *historyView) inWindow(t time.Time, w time.Duration) bool {
	return t.After(h.at.Add(-w)) && !t.After(h.at)
}

// windowArg reads a window argument: a CEL duration or a hush duration string.
func windowArg(v ref.Val) (time.Duration, ref.Val) {
	var w time.Duration
	switch v := v.(type) {
	case types.Duration:
		w = v.Duration
	case types.String:
		d, err := gateway.ParseDuration(string(v))
		if err != nil {
			return 0, types.NewErr("%v", err)
		}
		w = d
	default:
		return 0, types.NewErr("window must be a duration, not %s", v.Type())
	}
	if err := checkWindow(w); err != nil {
		return 0, types.NewErr("%v", err)
	}
	return w, nil
}

func (h *historyView) count(w time.Duration, match func(*gateway.Event) bool) ref.Val {
	n := 0
	for i := range h.history {
		e := &h.history[i]
		if h.inWindow(e.At, w) && match(e) {
			n++
		}
	}
	return types.Int(n)
}

func (h *historyView) contacts(_ string, args ...ref.Val) ref.Val {
	if len(args) != 1 {
		return types.NewErr("contacts takes one argument: the window")
	}
	w, bad := windowArg(args[0])
	if bad != nil {
		return bad
	}
	return h.countContacts(w, func(*gateway.Event) bool { return true })
}

// countContacts counts the contacts in the window that match: every ticket opened, call and
// inbound SMS, and each chat conversation once, however many messages it holds — a chat is
// one contact, its further messages are that contact going on (otherwise one lively chat
// would look like a customer calling back again and again).
func (h *historyView) countContacts(w time.Duration, match func(*gateway.Event) bool) ref.Val {
	n := 0
	var chats map[string]bool
	for i := range h.history {
		e := &h.history[i]
		if !h.inWindow(e.At, w) || !slices.Contains(contactTypes, e.Type) || !match(e) {
			continue
		}
		if e.Type == gateway.EventChatMessage && e.Topic != "" {
			if chats[e.Topic] {
				continue
			}
			if chats == nil {
				chats = make(map[string]bool)
			}
			chats[e.Topic] = true
		}
		n++
	}
	return types.Int(n)
}

func (h *historyView) contactsAbout(_ string, args ...ref.Val) ref.Val {
	if len(args) != 2 {
		return types.NewErr("contacts_about takes two arguments: the topic and the window")
	}
	topic, ok := args[0].(types.String)
	if !ok {
		return types.NewErr("contacts_about: topic must be a string, not %s", args[0].Type())
	}
	w, bad := windowArg(args[1])
	if bad != nil {
		return bad
	}
	if topic == "" {
		return types.Int(0)
	}
	return h.countContacts(w, func(e *gateway.Event) bool { return e.Topic == string(topic) })
}

func (h *historyView) events(_ string, args ...ref.Val) ref.Val {
	if len(args) != 2 {
		return types.NewErr("events takes two arguments: the event type and the window")
	}
	typ, ok := args[0].(types.String)
	if !ok {
		return types.NewErr("events: type must be a string, not %s", args[0].Type())
	}
	w, bad := windowArg(args[1])
	if bad != nil {
		return bad
	}
	return h.count(w, func(e *gateway.Event) bool { return e.Type == string(typ) })
}

func (h *historyView) openTopics(_ string, _ ...ref.Val) ref.Val {
	// The newest event of each topic decides whether it is open. History is newest first, but
	// a late delivery may be stored after newer events, so compare event times; on a tie the
	// one listed first (stored last) wins.
	newest := make(map[string]*gateway.Event)
	var order []string
	for i := range h.history {
		e := &h.history[i]
		// Unlike the counts, a topic's state is what hush knows now: a late delivery of an
		// old opening must not reopen a ticket solved since.
		if e.Topic == "" || !e.At.After(h.at.Add(-HistoryWindow)) {
			continue
		}
		cur, ok := newest[e.Topic]
		if !ok {
			order = append(order, e.Topic)
		}
		if !ok || e.At.After(cur.At) {
			newest[e.Topic] = e
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return newest[b].At.Compare(newest[a].At) })
	open := []string{}
	for _, topic := range order {
		e := newest[topic]
		if e.Type != gateway.EventTicketSolved && e.Status != gateway.StatusSolved && e.Status != gateway.StatusClosed {
			open = append(open, topic)
		}
	}
	return types.DefaultTypeAdapter.NativeToValue(open)
}

// textView answers the text functions for one evaluation, analysing each distinct text once
// however many rules ask about it.
type textView struct {
	analyzer TextAnalyzer
	text     string
	result   sentiment.Result
	done     bool
}

func (v *textView) analyze(args []ref.Val) (sentiment.Result, ref.Val) {
	if len(args) != 1 {
		return sentiment.Result{}, types.NewErr("want one text argument")
	}
	s, ok := args[0].(types.String)
	if !ok {
		return sentiment.Result{}, types.MaybeNoSuchOverloadErr(args[0])
	}
	if v.analyzer == nil {
		return sentiment.Result{}, types.NewErr("no text analyzer is configured")
	}
	if !v.done || string(s) != v.text {
		v.text, v.result, v.done = string(s), v.analyzer.Analyze(string(s)), true
	}
	return v.result, nil
}

func (v *textView) sentiment(_ string, args ...ref.Val) ref.Val {
	r, errVal := v.analyze(args)
	if errVal != nil {
		return errVal
	}
	return types.Double(r.Score)
}

func (v *textView) cues(_ string, args ...ref.Val) ref.Val {
	r, errVal := v.analyze(args)
	if errVal != nil {
		return errVal
	}
	cues := r.Cues
	if cues == nil {
		cues = []string{}
	}
	return types.DefaultTypeAdapter.NativeToValue(cues)
}
