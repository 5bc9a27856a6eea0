package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// historyLimit bounds the history a rule sees (newest first).
const historyLimit = 1000

// Ingest stores a delivery's events and all their consequences in one commit (see
// gateway.Engine). An invalid event rejects the whole delivery with a CodeInvalid error and
// nothing is stored; a store failure is CodeUnavailable, so the vendor retries.
func (e *Engine) Ingest(ctx context.Context, events []gateway.Event, ignored int) (gateway.IngestResult, error) {
	now := e.now()
	prepared := make([]intakeEvent, len(events))
	for i := range events {
		p, err := e.prepare(events[i], now)
		if err != nil {
			return gateway.IngestResult{}, &gateway.Error{Code: gateway.CodeInvalid, Message: fmt.Sprintf("event %d: %s", i, err.Error())}
		}
		prepared[i] = p
	}
	// Scoring may call an external service: it happens before the write transaction.
	for i := range prepared {
		e.scoreText(ctx, &prepared[i].event)
	}
	var result gateway.IngestResult
	var evalErrs []ruleError
	err := e.update(ctx, "storing events", func(tx gateway.Tx, ch *changes) error {
		result = gateway.IngestResult{Ignored: ignored}
		evalErrs = nil
		for _, p := range prepared {
			dup, errs, err := e.ingestOne(tx, ch, p, now)
			if err != nil {
				return err
			}
			if dup {
				result.Duplicates++
				continue
			}
			result.Accepted++
			evalErrs = append(evalErrs, errs...)
		}
		return nil
	})
	if err != nil {
		return gateway.IngestResult{}, err
	}
	for _, re := range evalErrs {
		// Rule errors name the rule and the CEL problem, never the event's content.
		e.log.Warn("rule evaluation failed", "event_type", re.eventType, "source", re.source, "err", re.err)
	}
	return result, nil
}

// intakeEvent is a validated event with its identities resolved.
type intakeEvent struct {
	event      gateway.Event
	identities []gateway.Identity
}

type ruleError struct {
	eventType, source string
	err               error
}

// prepare validates an event before anything is written. The returned message names the field.
func (e *Engine) prepare(ev gateway.Event, now time.Time) (intakeEvent, error) {
	switch {
	case strings.TrimSpace(ev.ID) == "":
		return intakeEvent{}, errors.New("id is empty")
	case strings.TrimSpace(ev.Source) == "":
		return intakeEvent{}, errors.New("source is empty")
	case !gateway.KnownEventType(ev.Type):
		return intakeEvent{}, fmt.Errorf("type %q is not a known event type", ev.Type)
	}
	if ev.At.IsZero() {
		ev.At = now
	}
	if ev.Channel != "" {
		ch, err := gateway.ParseChannel(string(ev.Channel), false)
		if err != nil {
			return intakeEvent{}, fmt.Errorf("channel: %v", err)
		}
		ev.Channel = ch
	}
	if ev.Type == gateway.EventIncidentOpened {
		if _, err := incidentScope(ev.Attrs); err != nil {
			return intakeEvent{}, err
		}
	}
	ids, bad := ev.Identities(e.region)
	if len(ids) == 0 && !isIncidentEvent(ev.Type) {
		if len(bad) > 0 {
			return intakeEvent{}, fmt.Errorf("customer: %v", bad[0])
		}
		return intakeEvent{}, errors.New("customer has no email, phone or id")
	}
	return intakeEvent{event: ev, identities: ids}, nil
}

// scoreText gives an event with text and no sentiment of its own hush's sentiment of the
// text, so that rules and the timeline see it. A scorer failure leaves the event unscored
// (logged without the text): the event is still stored and the other rules still run.
func (e *Engine) scoreText(ctx context.Context, ev *gateway.Event) {
	if e.scorer == nil || ev.Sentiment != nil || strings.TrimSpace(ev.Text) == "" {
		return
	}
	s, err := e.scorer.ScoreText(ctx, ev.Text, languageOf(ev.Customer.Locale))
	if err != nil {
		e.log.WarnContext(ctx, "event text not scored", "event_type", ev.Type, "source", ev.Source, "err", err)
		return
	}
	ev.Sentiment = &s
}

// languageOf reads the language of a locale ("es-ES", "es_MX", "en"): the scorer's hint.
func languageOf(locale string) string {
	lang, _, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	return strings.ToLower(strings.TrimSpace(lang))
}

func isIncidentEvent(t string) bool {
	return t == gateway.EventIncidentOpened || t == gateway.EventIncidentResolved
}

// incidentScope reads attrs.scope: "all" (default) or "tag:<tag>".
func incidentScope(attrs map[string]any) (string, error) {
	v, ok := attrs["scope"]
	if !ok || v == nil {
		return "all", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errors.New(`attrs.scope must be a string: "all" or "tag:<tag>"`)
	}
	return parseScope(s, "attrs.scope")
}

func parseScope(s, field string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return "all", nil
	}
	if tag, ok := strings.CutPrefix(s, "tag:"); ok && strings.TrimSpace(tag) != "" {
		return s, nil
	}
	return "", fmt.Errorf(`%s %q must be "all" or "tag:<tag>"`, field, s)
}

// ingestOne stores one event and its consequences. It reports duplicates without storing.
func (e *Engine) ingestOne(tx gateway.Tx, ch *changes, p intakeEvent, now time.Time) (dup bool, evalErrs []ruleError, err error) {
	ev := p.event // a copy: the store may run this twice, so the prepared event stays untouched
	seen, err := tx.DeliverySeen(ev.Source, ev.ID)
	if err != nil {
		return false, nil, fmt.Errorf("checking delivery %s/%s: %w", ev.Source, ev.ID, err)
	}
	if seen {
		return true, nil, nil
	}
	if err := tx.PutDelivery(ev.Source, ev.ID, now); err != nil {
		return false, nil, fmt.Errorf("recording delivery: %w", err)
	}
	ev.ReceivedAt = now
	ev.Attrs = cloneAttrs(ev.Attrs)

	var customer *gateway.Customer
	if len(p.identities) > 0 {
		if customer, err = e.resolveCustomer(tx, ch, p.identities, &ev.Customer, now); err != nil {
			return false, nil, err
		}
		ev.CustomerID = customer.ID
		if err := tx.PutEvent(&ev); err != nil {
			return false, nil, fmt.Errorf("storing event: %w", err)
		}
	}

	switch ev.Type {
	case gateway.EventIncidentOpened:
		err = e.openIncidentFromEvent(tx, ch, &ev, now)
	case gateway.EventIncidentResolved:
		err = e.resolveIncidentFromEvent(tx, ch, &ev, now)
	}
	if err != nil || customer == nil {
		return false, nil, err
	}

	switch ev.Type {
	case gateway.EventConsentOptOut:
		err = e.optOutFromEvent(tx, &ev, customer, p.identities, now)
	case gateway.EventConsentOptIn:
		err = e.optInFromEvent(tx, &ev, customer, now)
	}
	if err != nil {
		return false, nil, err
	}
	if resolvesTopic(&ev) {
		if err := e.endTopicSilences(tx, ch, &ev, customer, now); err != nil {
			return false, nil, err
		}
	}
	evalErrs, err = e.applyRules(tx, ch, &ev, customer, p.identities, now)
	if err != nil {
		return false, nil, err
	}
	ch.customer(customer.ID)
	return false, evalErrs, nil
}

func cloneAttrs(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// resolveCustomer finds the customer the identities belong to, creating one when none does and
// merging several into the oldest; then adds the new identities and the event's attributes.
func (e *Engine) resolveCustomer(tx gateway.Tx, ch *changes, ids []gateway.Identity, attrs *gateway.EventCustomer, now time.Time) (*gateway.Customer, error) {
	var found []*gateway.Customer
	for _, id := range ids {
		c, err := tx.CustomerByIdentity(id)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("looking up a customer by identity: %w", err)
		}
		if !slices.ContainsFunc(found, func(f *gateway.Customer) bool { return f.ID == c.ID }) {
			found = append(found, c)
		}
	}
	var c *gateway.Customer
	known := len(found) > 0
	switch len(found) {
	case 0:
		c = &gateway.Customer{ID: gateway.NewID("cus", now), CreatedAt: now}
	case 1:
		c = found[0]
	default:
		var err error
		if c, err = mergeCustomers(tx, ch, found); err != nil {
			return nil, err
		}
	}
	added := false
	for _, id := range ids {
		if !slices.Contains(c.Identities, id) {
			c.Identities = append(c.Identities, id)
			added = true
		}
	}
	if known && added && len(e.syncUpstreams) > 0 {
		silenced, err := hasEnforcedSilence(tx, c.ID, now)
		if err != nil {
			return nil, err
		}
		if silenced {
			ch.resync(c.ID)
		}
	}
	if attrs != nil {
		if attrs.Name != "" {
			c.Name = attrs.Name
		}
		if attrs.Locale != "" {
			c.Locale = attrs.Locale
		}
		if attrs.Timezone != "" && e.location(attrs.Timezone) != nil {
			c.Timezone = attrs.Timezone
		}
		for _, t := range attrs.Tags {
			if t != "" && !slices.Contains(c.Tags, t) {
				c.Tags = append(c.Tags, t)
			}
		}
	}
	c.UpdatedAt = now
	if err := tx.PutCustomer(c); err != nil {
		return nil, fmt.Errorf("storing customer %s: %w", c.ID, err)
	}
	ch.customer(c.ID)
	return c, nil
}

// mergeCustomers merges every customer into the oldest (by creation, then id) and returns it
// with the others' attributes filled in where it had none.
func mergeCustomers(tx gateway.Tx, ch *changes, customers []*gateway.Customer) (*gateway.Customer, error) {
	slices.SortFunc(customers, func(a, b *gateway.Customer) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	into := customers[0]
	for _, from := range customers[1:] {
		if err := tx.MergeCustomers(into.ID, from.ID); err != nil {
			return nil, fmt.Errorf("merging customer %s into %s: %w", from.ID, into.ID, err)
		}
		ch.customer(from.ID)
		ch.resync(from.ID) // its ledger entries now belong to into's addresses
		ch.resync(into.ID)
	}
	merged, err := tx.Customer(into.ID)
	if err != nil {
		return nil, fmt.Errorf("reading merged customer %s: %w", into.ID, err)
	}
	for _, from := range customers[1:] {
		merged.Name = cmp.Or(merged.Name, from.Name)
		merged.Locale = cmp.Or(merged.Locale, from.Locale)
		merged.Timezone = cmp.Or(merged.Timezone, from.Timezone)
		for _, id := range from.Identities {
			if !slices.Contains(merged.Identities, id) {
				merged.Identities = append(merged.Identities, id)
			}
		}
		for _, t := range from.Tags {
			if !slices.Contains(merged.Tags, t) {
				merged.Tags = append(merged.Tags, t)
			}
		}
		for k, v := range from.Attrs {
			if _, ok := merged.Attrs[k]; !ok {
				if merged.Attrs == nil {
					merged.Attrs = map[string]string{}
				}
				merged.Attrs[k] = v
			}
		}
	}
	return merged, nil
}

func eventRef(ev *gateway.Event) string { return ev.Source + ":" + ev.ID }

// effectiveAt is when an event takes effect: its own time, never later than its receipt
// (DESIGN §6 "Time").
func effectiveAt(ev *gateway.Event, now time.Time) time.Time { return minTime(ev.At, now) }

// preferredIdentity picks the identity a record is shown under: a phone for phone channels,
// else an email, else the first.
func preferredIdentity(ids []gateway.Identity, ch gateway.Channel) gateway.Identity {
	phoneFirst := ch == gateway.ChannelSMS || ch == gateway.ChannelVoice || ch == gateway.ChannelWhatsApp
	for _, id := range ids {
		if phoneFirst && id.IsPhone() || !phoneFirst && id.IsEmail() {
			return id
		}
	}
	if len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// optOutFromEvent records consent.optout for the event's channel (SMS when it names none),
// unless one is already in force.
func (e *Engine) optOutFromEvent(tx gateway.Tx, ev *gateway.Event, c *gateway.Customer, ids []gateway.Identity, now time.Time) error {
	channel := cmp.Or(ev.Channel, gateway.ChannelSMS)
	active, err := activeOptOuts(tx, c.ID)
	if err != nil {
		return err
	}
	for _, o := range active {
		if o.Channel == channel {
			return nil
		}
	}
	o := &gateway.OptOut{
		ID: gateway.NewID("opt", now), CustomerID: c.ID, Identity: preferredIdentity(ids, channel),
		Channel: channel, Reason: "consent.optout from " + ev.Source, CreatedBy: "event:" + ev.Source,
		EventID: eventRef(ev), CreatedAt: effectiveAt(ev, now),
	}
	if err := tx.PutOptOut(o); err != nil {
		return fmt.Errorf("storing opt-out: %w", err)
	}
	return nil
}

// optInFromEvent lifts the opt-outs in force on the event's channel (SMS when it names none).
func (e *Engine) optInFromEvent(tx gateway.Tx, ev *gateway.Event, c *gateway.Customer, now time.Time) error {
	channel := cmp.Or(ev.Channel, gateway.ChannelSMS)
	active, err := activeOptOuts(tx, c.ID)
	if err != nil {
		return err
	}
	for _, o := range active {
		if o.Channel != channel {
			continue
		}
		lifted := effectiveAt(ev, now)
		o.LiftedAt, o.LiftedBy, o.LiftReason = &lifted, "event:"+ev.Source, "consent.optin from "+ev.Source
		if err := tx.PutOptOut(&o); err != nil {
			return fmt.Errorf("lifting opt-out %s: %w", o.ID, err)
		}
	}
	return nil
}

func activeOptOuts(tx gateway.Tx, customerID string) ([]gateway.OptOut, error) {
	opts, err := allPages(func(p gateway.Page) ([]gateway.OptOut, string, error) {
		return tx.OptOuts(gateway.OptOutQuery{CustomerID: customerID, ActiveOnly: true, Page: p})
	})
	if err != nil {
		return nil, fmt.Errorf("reading opt-outs: %w", err)
	}
	return opts, nil
}

// incidentExternalID is how a status tool names its incident: the event's topic, else attrs.id.
func incidentExternalID(ev *gateway.Event) string {
	if ev.Topic != "" {
		return ev.Topic
	}
	if s, ok := ev.Attrs["id"].(string); ok {
		return s
	}
	return ""
}

func findOpenIncident(tx gateway.Tx, source, externalID string) (*gateway.Incident, error) {
	if externalID == "" {
		return nil, nil
	}
	open, _, err := tx.Incidents(gateway.IncidentQuery{OpenOnly: true, Source: source, ExternalID: externalID, Page: gateway.Page{Limit: 1}})
	if err != nil {
		return nil, fmt.Errorf("looking up incident %s/%s: %w", source, externalID, err)
	}
	for i := range open {
		if open[i].Source == source && open[i].ExternalID == externalID && open[i].ResolvedAt == nil {
			return &open[i], nil
		}
	}
	return nil, nil
}

func (e *Engine) openIncidentFromEvent(tx gateway.Tx, ch *changes, ev *gateway.Event, now time.Time) error {
	ext := incidentExternalID(ev)
	existing, err := findOpenIncident(tx, ev.Source, ext)
	if err != nil || existing != nil {
		return err
	}
	scope, _ := incidentScope(ev.Attrs) // checked in prepare
	title, _ := ev.Attrs["title"].(string)
	inc := &gateway.Incident{
		ID: gateway.NewID("inc", now), Title: cmp.Or(title, ev.Text, ext, "incident from "+ev.Source),
		Scope: scope, Source: ev.Source, ExternalID: ext, CreatedBy: "event:" + ev.Source,
		OpenedAt: effectiveAt(ev, now),
	}
	if err := tx.PutIncident(inc); err != nil {
		return fmt.Errorf("storing incident: %w", err)
	}
	ch.incidents = true
	return nil
}

func (e *Engine) resolveIncidentFromEvent(tx gateway.Tx, ch *changes, ev *gateway.Event, now time.Time) error {
	inc, err := findOpenIncident(tx, ev.Source, incidentExternalID(ev))
	if err != nil || inc == nil {
		return err
	}
	resolved := effectiveAt(ev, now)
	inc.ResolvedAt, inc.ResolvedBy = &resolved, "event:"+ev.Source
	if err := tx.PutIncident(inc); err != nil {
		return fmt.Errorf("resolving incident %s: %w", inc.ID, err)
	}
	ch.incidents = true
	return nil
}

// resolvesTopic reports whether the event says its topic is solved.
func resolvesTopic(ev *gateway.Event) bool {
	return ev.Topic != "" && (ev.Type == gateway.EventTicketSolved || ev.Status == gateway.StatusSolved || ev.Status == gateway.StatusClosed)
}

// endTopicSilences gives every "until resolved" silence waiting on the event's topic its end:
// the solve time plus the silence's grace.
func (e *Engine) endTopicSilences(tx gateway.Tx, ch *changes, ev *gateway.Event, c *gateway.Customer, now time.Time) error {
	solved := effectiveAt(ev, now)
	silences, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
		return tx.Silences(gateway.SilenceQuery{CustomerID: c.ID, Topic: ev.Topic, ActiveAt: now, Page: p})
	})
	if err != nil {
		return fmt.Errorf("reading silences on a topic: %w", err)
	}
	for _, s := range silences {
		if !s.UntilResolved || s.End != nil || s.Topic != ev.Topic || s.LiftedAt != nil {
			continue
		}
		end := solved.Add(s.Grace.D())
		s.End, s.UpdatedAt = &end, now
		if err := tx.PutSilence(&s); err != nil {
			return fmt.Errorf("ending silence %s: %w", s.ID, err)
		}
		if s.Enforced() {
			ch.resync(c.ID)
		}
	}
	return nil
}

// applyRules evaluates the rules for a stored event and carries out what fires.
func (e *Engine) applyRules(tx gateway.Tx, ch *changes, ev *gateway.Event, c *gateway.Customer, ids []gateway.Identity, now time.Time) ([]ruleError, error) {
	if e.rules == nil {
		return nil, nil
	}
	// Reading up to historyLimit past events is the costliest part of intake: done only when
	// some rule can look at them.
	var history []gateway.Event
	if e.rules.NeedsHistory() {
		var err error
		history, _, err = tx.Events(gateway.EventQuery{CustomerID: c.ID, Since: ev.At.Add(-HistoryWindow), Page: gateway.Page{Limit: historyLimit}})
		if err != nil {
			return nil, fmt.Errorf("reading the customer's history: %w", err)
		}
	}
	fired, errs := e.rules.Evaluate(RuleInput{Event: ev, Customer: c, History: history, Now: now})
	var evalErrs []ruleError
	for _, err := range errs {
		evalErrs = append(evalErrs, ruleError{eventType: ev.Type, source: ev.Source, err: err})
	}
	for _, f := range fired {
		var s *gateway.Silence
		extended := false
		if f.Rule.Silence != nil {
			var err error
			if s, extended, err = e.silenceFromRule(tx, f.Rule, ev, c, ids, now); err != nil {
				return nil, err
			}
			if s != nil && s.Enforced() {
				ch.resync(c.ID)
			}
		}
		// A rule in shadow mode is being tried out: its silence is recorded, but nobody is
		// alerted about a silence that is not enforced. A trigger that only extends the
		// rule's silence alerts nobody again: one alert per silence.
		if f.Rule.Shadow || extended {
			continue
		}
		if f.Rule.Alert != "" {
			if err := putOutbox(tx, gateway.OutboxAlert, f.Rule.Alert, time.Time{}, f.Rule, ev, c, s, now); err != nil {
				return nil, err
			}
			// The team also hears when the silence is over (the worker holds it back while
			// the silence is extended; "until resolved" is checked again every hour). A
			// control customer was never silenced: nothing ends.
			if s != nil && !s.Control {
				due := now.Add(time.Hour)
				if s.End != nil {
					due = *s.End
				}
				if err := putOutbox(tx, gateway.OutboxSilenceEnded, f.Rule.Alert, due, f.Rule, ev, c, s, now); err != nil {
					return nil, err
				}
			}
		}
		if fu := f.Rule.FollowUp; fu != nil {
			due := effectiveAt(ev, now).Add(fu.After.D())
			if err := putOutbox(tx, gateway.OutboxFollowUp, fu.Alert, due, f.Rule, ev, c, s, now); err != nil {
				return nil, err
			}
		}
	}
	return evalErrs, nil
}

// silenceFromRule creates the rule's silence, or extends the one the rule already holds on the
// customer (same topic for "until resolved"): re-triggering extends, it does not stack.
// extended reports that an existing silence was extended rather than a new one created.
func (e *Engine) silenceFromRule(tx gateway.Tx, rule *gateway.RuleSpec, ev *gateway.Event, c *gateway.Customer, ids []gateway.Identity, now time.Time) (_ *gateway.Silence, extended bool, _ error) {
	spec := rule.Silence
	start := effectiveAt(ev, now)
	s := gateway.Silence{
		CustomerID: c.ID, Identity: preferredIdentity(ids, ev.Channel),
		Categories: slices.Clone(spec.Categories), Channels: slices.Clone(spec.Channels),
		Rule: rule.Name, CreatedBy: "rule:" + rule.Name, Source: gateway.SilenceSourceRule,
		Reason:  cmp.Or(rule.Description, "rule "+rule.Name),
		EventID: eventRef(ev), Start: start, Shadow: rule.Shadow, CreatedAt: now, UpdatedAt: now,
		// A holdout keeps a stable slice of the customers as control: recorded, not enforced
		// (experiments.go); the rule's alerts and follow-ups still go.
		Control: InControl(rule.Name, c.ID, rule.Holdout),
	}
	if len(s.Categories) == 0 {
		s.Categories = slices.Clone(gateway.DefaultSilencedCategories)
	}
	if spec.UntilResolved && ev.Topic != "" {
		s.UntilResolved, s.Topic, s.Grace = true, ev.Topic, spec.Then
		if resolvesTopic(ev) {
			// The event that fired also closed the topic: only the grace remains.
			end := start.Add(spec.Then.D())
			s.End = &end
		}
	} else {
		d := cmp.Or(spec.For.D(), spec.Then.D())
		if d <= 0 {
			return nil, false, nil // nothing to silence for: the rule only alerts
		}
		end := start.Add(d)
		s.End = &end
	}

	existing, err := allPages(func(p gateway.Page) ([]gateway.Silence, string, error) {
		return tx.Silences(gateway.SilenceQuery{CustomerID: c.ID, Rule: rule.Name, ActiveAt: now, Page: p})
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading the silences of rule %s: %w", rule.Name, err)
	}
	for _, old := range existing {
		if old.Rule != rule.Name || old.Topic != s.Topic || old.Shadow != s.Shadow || old.Control != s.Control || old.LiftedAt != nil {
			continue
		}
		switch {
		case old.End == nil:
			// Already waiting for the topic to be resolved; a fresh trigger cannot shorten it.
		case s.End == nil:
			old.End = nil // the topic is being contacted about again: wait for it anew
		case s.End.After(*old.End):
			end := *s.End
			old.End = &end
		}
		old.UpdatedAt = now
		if err := tx.PutSilence(&old); err != nil {
			return nil, false, fmt.Errorf("extending silence %s: %w", old.ID, err)
		}
		return &old, true, nil
	}
	s.ID = gateway.NewID("sil", start)
	if err := tx.PutSilence(&s); err != nil {
		return nil, false, fmt.Errorf("storing silence: %w", err)
	}
	return &s, false, nil
}

// alertPayload is what an alert carries: references, never the customer's words.
type alertPayload struct {
	Rule       string     `json:"rule"`
	CustomerID string     `json:"customer_id"`
	EventID    string     `json:"event_id"`
	EventType  string     `json:"event_type"`
	SilenceID  string     `json:"silence_id,omitempty"`
	Until      *time.Time `json:"until,omitempty"`
	// Control: the rule's holdout kept this customer as control, so nothing was silenced.
	Control bool `json:"control,omitempty"`
}

// putOutbox queues a message for the team: an alert now, or a follow-up or a silence's end
// at due (zero: now).
func putOutbox(tx gateway.Tx, kind, target string, due time.Time, rule *gateway.RuleSpec, ev *gateway.Event, c *gateway.Customer, s *gateway.Silence, now time.Time) error {
	p := alertPayload{Rule: rule.Name, CustomerID: c.ID, EventID: eventRef(ev), EventType: ev.Type}
	switch {
	case s != nil && s.Control:
		p.Control = true // no silence to show: the customer is not silenced
	case s != nil:
		p.SilenceID, p.Until = s.ID, s.End
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", kind, err)
	}
	m := &gateway.OutboxMessage{
		ID: gateway.NewID("out", now), Kind: kind, Target: target, CustomerID: c.ID,
		Rule: rule.Name, EventID: eventRef(ev), Payload: body, CreatedAt: now, NextAttempt: now, DueAt: due,
	}
	if !due.IsZero() {
		m.NextAttempt = due
	}
	if err := tx.PutOutbox(m); err != nil {
		return fmt.Errorf("queuing %s for rule %s: %w", kind, rule.Name, err)
	}
	return nil
}
