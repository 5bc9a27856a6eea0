package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// Simulation bounds: the work is explicit, so that a request cannot make hush replay years.
const (
	// MaxSimulatedEvents is the most stored events one simulation replays.
	MaxSimulatedEvents = 2_000_000
	// MaxSimulatedDecisions is the most recorded decisions one simulation decides again.
	MaxSimulatedDecisions = 5_000_000
	// DefaultSimulationSample and MaxSimulationSample bound the sample of silences shown.
	DefaultSimulationSample = 20
	MaxSimulationSample     = 1000
)

// Simulate replays the stored events of a period against candidate rules and decides the
// period's recorded sends again (see gateway.Engine).
//
// How: the candidate rules are compiled with the live rule set's text analyzer, and a scratch
// Engine is opened over a scratch bbolt file in a temporary directory (no fsync: it is thrown
// away) with the live engine's caps, quiet hours, timezone, region and costs. The stored
// events are fed to it through Ingest, in the order the live engine received them, with its
// clock set to each event's receipt time (ReceivedAt: the "now" live intake had), so that
// the candidate rules see the same history (contacts_about, open_topics, …), and silences
// are created, extended and ended exactly as live intake would have. Events from
// HistoryWindow before the period are replayed too (their silences are not counted, but
// they are in force in the period, as they would have been), so that rules have the history
// they read from the first day.
//
// The recorded decisions of the period are walked merged in time order with the events;
// each is decided again by the scratch engine at the decision's time. The scratch engine
// records (Record: true) into its own store: its cap counters must count the sends the
// candidate world made, not the live ones, and a send the live system reported unsent is
// released there too. Sends the live system dropped for something rules do not touch (an
// incident, an opt-out, a silence a person created) are taken as dropped by the candidate
// too: those are not replayed from events (incidents and silences opened through the API).
func (e *Engine) Simulate(ctx context.Context, req gateway.SimulationRequest) (*gateway.SimulationReport, error) {
	return e.simulate(ctx, req, nil)
}

// simulate is Simulate; observe, when set, sees every recorded decision with the candidate's
// (tests compare them one by one).
func (e *Engine) simulate(ctx context.Context, req gateway.SimulationRequest, observe func(live, candidate *gateway.Decision)) (*gateway.SimulationReport, error) {
	until := req.Until
	if until.IsZero() {
		until = e.now()
	}
	switch {
	case req.Since.IsZero():
		return nil, gateway.Errorf(gateway.CodeInvalid, "since: a start of the period is required")
	case !until.After(req.Since):
		return nil, gateway.Errorf(gateway.CodeInvalid, "until: the period must end after it starts")
	case req.SampleSize < 0 || req.SampleSize > MaxSimulationSample:
		return nil, gateway.Errorf(gateway.CodeInvalid, "sample: must be between 0 and %d", MaxSimulationSample)
	}
	sample := cmp.Or(req.SampleSize, DefaultSimulationSample)
	var opts []RuleOption
	if e.rules != nil && e.rules.text != nil {
		opts = append(opts, WithTextAnalyzer(e.rules.text))
	}
	var rules *RuleSet
	if len(req.Rules) > 0 {
		var err error
		if rules, err = CompileRules(req.Rules, opts...); err != nil {
			return nil, &gateway.Error{Code: gateway.CodeInvalid, Message: err.Error(), Err: err}
		}
	}

	events, err := e.simulationEvents(ctx, req.Since.Add(-HistoryWindow), until)
	if err != nil {
		return nil, err
	}
	decisions, err := e.simulationDecisions(ctx, req.Since, until)
	if err != nil {
		return nil, err
	}

	sim, cleanup, err := e.scratchEngine(ctx, rules)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	sim.observe = observe

	report := &gateway.SimulationReport{
		Since: req.Since, Until: until, EventsReplayed: len(events),
		SilencesByRule: map[string]int{}, ShadowSilencesByRule: map[string]int{},
		Sends: gateway.SimulatedSends{
			NewlyDroppedByRule: map[string]int{}, NewlyAllowedByRule: map[string]int{},
			NewlyDroppedByChannel: map[string]int{}, NewlyAllowedByChannel: map[string]int{},
		},
	}
	if err := sim.replay(ctx, events, decisions, &report.Sends); err != nil {
		return nil, err
	}
	if err := e.reportSilences(ctx, sim.engine, events, report, req.Since, until, sample); err != nil {
		return nil, err
	}
	return report, nil
}

// simulation is a scratch engine and the clock it runs on.
type simulation struct {
	engine  *Engine
	clock   time.Time
	observe func(live, candidate *gateway.Decision)
}

// scratchEngine opens an engine over a scratch bbolt file with the live engine's policy and
// rules instead of the live ones. cleanup closes and removes it.
func (e *Engine) scratchEngine(ctx context.Context, rules *RuleSet) (*simulation, func(), error) {
	dir, err := os.MkdirTemp("", "hush-simulate-")
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: create scratch directory: %w", err)
	}
	if e.scratchStore == nil {
		os.RemoveAll(dir)
		return nil, nil, gateway.Errorf(gateway.CodeUnavailable, "simulation is not available in this process (no scratch store configured)")
	}
	store, err := e.scratchStore(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("simulate: open scratch store: %w", err)
	}
	cleanup := func() {
		store.Close()
		os.RemoveAll(dir)
	}
	sim := &simulation{}
	sim.engine, err = New(ctx, store, Config{Rules: rules, Now: func() time.Time { return sim.clock }, Logger: e.log})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("simulate: start scratch engine: %w", err)
	}
	// The live engine's checked policy, as it is (compiled once, at start-up).
	sim.engine.caps, sim.engine.quiet = e.caps, e.quiet
	sim.engine.fallback, sim.engine.region, sim.engine.costs = e.fallback, e.region, e.costs
	return sim, cleanup, nil
}

// simulationEvents reads the stored events with At in [since, until), received before until,
// in the order live intake received them (ReceivedAt, then the store's sequence).
func (e *Engine) simulationEvents(ctx context.Context, since, until time.Time) ([]gateway.Event, error) {
	var events []gateway.Event
	tooMany := gateway.Errorf(gateway.CodeInvalid,
		"the period holds more than %d events (with the %s of history before it that rules read): simulate a shorter period",
		MaxSimulatedEvents, gateway.FormatDuration(HistoryWindow))
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		var ids []string
		if err := tx.ForEachCustomer(func(c *gateway.Customer) error {
			ids = append(ids, c.ID)
			return nil
		}); err != nil {
			return fmt.Errorf("listing customers: %w", err)
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := eachPage(func(p gateway.Page) ([]gateway.Event, string, error) {
				return tx.Events(gateway.EventQuery{CustomerID: id, Since: since, Until: until, Page: p})
			}, func(ev *gateway.Event) {
				if receivedAt(ev).Before(until) {
					events = append(events, *ev)
				}
			})
			if err != nil {
				return fmt.Errorf("reading the events of customer %s: %w", id, err)
			}
			if len(events) > MaxSimulatedEvents {
				return tooMany
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeError(err, "reading events to simulate")
	}
	slices.SortStableFunc(events, func(a, b gateway.Event) int {
		return cmp.Or(receivedAt(&a).Compare(receivedAt(&b)), cmp.Compare(a.Seq, b.Seq))
	})
	return events, nil
}

// receivedAt is when live intake received the event: its clock during that intake.
func receivedAt(ev *gateway.Event) time.Time {
	if ev.ReceivedAt.IsZero() {
		return ev.At
	}
	return ev.ReceivedAt
}

// simulationDecisions reads the recorded decisions with At in [since, until), oldest first.
func (e *Engine) simulationDecisions(ctx context.Context, since, until time.Time) ([]gateway.Decision, error) {
	if err := e.FlushDecisions(ctx); err != nil {
		return nil, storeError(err, "writing the decision log")
	}
	var decisions []gateway.Decision
	err := e.store.View(ctx, func(tx gateway.Tx) error {
		p := gateway.Page{Limit: pageLimit}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			items, next, err := tx.Decisions(gateway.DecisionQuery{Since: since, Until: until, Page: p})
			if err != nil {
				return fmt.Errorf("reading decisions: %w", err)
			}
			decisions = append(decisions, items...)
			if len(decisions) > MaxSimulatedDecisions {
				return gateway.Errorf(gateway.CodeInvalid, "the period holds more than %d recorded decisions: simulate a shorter period", MaxSimulatedDecisions)
			}
			if next == "" || len(items) == 0 {
				return nil
			}
			p.Cursor = next
		}
	})
	if err != nil {
		return nil, storeError(err, "reading decisions to simulate")
	}
	slices.Reverse(decisions) // the log lists newest first
	slices.SortStableFunc(decisions, func(a, b gateway.Decision) int { return a.At.Compare(b.At) })
	return decisions, nil
}

// replay feeds events and decisions to the scratch engine in time order (an event received at
// the same instant as a decision goes first) and counts how the decisions compare.
func (s *simulation) replay(ctx context.Context, events []gateway.Event, decisions []gateway.Decision, out *gateway.SimulatedSends) error {
	i, j := 0, 0
	for i < len(events) || j < len(decisions) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if j == len(decisions) || i < len(events) && !receivedAt(&events[i]).After(decisions[j].At) {
			// The events one delivery brought share a receipt time and were ingested together.
			k := i + 1
			for k < len(events) && receivedAt(&events[k]).Equal(receivedAt(&events[i])) {
				k++
			}
			if err := s.ingest(ctx, events[i:k]); err != nil {
				return err
			}
			i = k
			continue
		}
		// One recorded send: the decisions with the same time, channel, category and upstream.
		k := j + 1
		for k < len(decisions) && sameSend(&decisions[j], &decisions[k]) {
			k++
		}
		if err := s.decide(ctx, decisions[j:k], out); err != nil {
			return err
		}
		j = k
	}
	return nil
}

func (s *simulation) ingest(ctx context.Context, events []gateway.Event) error {
	batch := make([]gateway.Event, len(events))
	for i, ev := range events {
		ev.CustomerID, ev.Seq, ev.ReceivedAt, ev.Raw = "", 0, time.Time{}, nil
		batch[i] = ev
	}
	s.clock = receivedAt(&events[0])
	if _, err := s.engine.Ingest(ctx, batch, 0); err != nil {
		return fmt.Errorf("simulate: replaying events: %w", err)
	}
	return nil
}

func sameSend(a, b *gateway.Decision) bool {
	return a.At.Equal(b.At) && a.Channel == b.Channel && a.Category == b.Category && a.Upstream == b.Upstream && a.Shadow == b.Shadow
}

// fixedByOthers reports whether a recorded drop does not depend on rules: the candidate
// would drop it too.
func fixedByOthers(d *gateway.Decision) bool {
	if d.Allowed {
		return false
	}
	return d.Reason == gateway.ReasonIncident || d.Reason == gateway.ReasonOptedOut ||
		d.Reason == gateway.ReasonSilenced && d.Rule == ""
}

// decide decides one recorded send again and compares.
func (s *simulation) decide(ctx context.Context, live []gateway.Decision, out *gateway.SimulatedSends) error {
	var ask []gateway.Identity
	var asked []int
	for i := range live {
		if !fixedByOthers(&live[i]) {
			ask = append(ask, live[i].Recipient)
			asked = append(asked, i)
		}
	}
	candidate := slices.Clone(live) // the fixed ones stand as they were
	if len(ask) > 0 {
		d0 := &live[0]
		s.clock = d0.At
		got, err := s.engine.Decide(ctx, gateway.DecisionRequest{
			Channel: d0.Channel, Category: d0.Category, Recipients: ask, Upstream: d0.Upstream,
			Record: true, Shadow: d0.Shadow, At: d0.At,
		})
		if err != nil {
			return fmt.Errorf("simulate: deciding a recorded send: %w", err)
		}
		var release []gateway.Decision
		for n, i := range asked {
			candidate[i] = got[n]
			if got[n].Allowed && live[i].Allowed && live[i].Unsent {
				release = append(release, got[n]) // the send did not happen then either
			}
		}
		if len(release) > 0 {
			if err := s.engine.Release(ctx, release); err != nil {
				return fmt.Errorf("simulate: releasing an unsent send: %w", err)
			}
		}
	}
	for i := range live {
		l, c := &live[i], &candidate[i]
		if s.observe != nil {
			s.observe(l, c)
		}
		out.Total++
		if !l.Allowed {
			out.LiveDropped++
		}
		if !c.Allowed {
			out.CandidateDropped++
		}
		ch := string(l.Channel)
		switch {
		case l.Allowed && !c.Allowed:
			out.NewlyDropped++
			out.NewlyDroppedByRule[cmp.Or(c.Rule, c.Reason)]++
			out.NewlyDroppedByChannel[ch]++
		case !l.Allowed && l.Reason == gateway.ReasonSilenced && l.Rule != "" && c.Allowed:
			out.NewlyAllowed++
			out.NewlyAllowedByRule[l.Rule]++
			out.NewlyAllowedByChannel[ch]++
		}
	}
	return nil
}

// reportSilences counts the silences the scratch engine's rules created in the period and
// picks the sample: the first ones created, with their triggering events.
func (e *Engine) reportSilences(ctx context.Context, sim *Engine, events []gateway.Event, report *gateway.SimulationReport, since, until time.Time, sample int) error {
	var created []gateway.Silence
	err := sim.store.View(ctx, func(tx gateway.Tx) error {
		return eachPage(func(p gateway.Page) ([]gateway.Silence, string, error) {
			return tx.Silences(gateway.SilenceQuery{Page: p})
		}, func(s *gateway.Silence) {
			// CreatedAt is the replay clock: the receipt time of the triggering event.
			if s.Rule != "" && !s.CreatedAt.Before(since) && s.CreatedAt.Before(until) {
				created = append(created, *s)
			}
		})
	})
	if err != nil {
		return fmt.Errorf("simulate: reading the scratch silences: %w", err)
	}
	slices.SortFunc(created, func(a, b gateway.Silence) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	byRef := make(map[string]*gateway.Event, len(events))
	for i := range events {
		byRef[eventRef(&events[i])] = &events[i]
	}
	customers := map[string]bool{}
	for _, s := range created {
		if s.Shadow {
			report.ShadowSilences++
			report.ShadowSilencesByRule[s.Rule]++
		} else {
			report.Silences++
			report.SilencesByRule[s.Rule]++
			customers[s.CustomerID] = true
		}
	}
	report.CustomersSilenced = len(customers)
	for _, s := range created[:min(sample, len(created))] {
		item := gateway.SimulatedSilence{
			Identity: s.Identity, Rule: s.Rule, Shadow: s.Shadow, Start: s.Start, End: s.End,
			Event: gateway.SimulatedEvent{ID: s.EventID},
		}
		if ev := byRef[s.EventID]; ev != nil {
			item.Event = gateway.SimulatedEvent{ID: s.EventID, Source: ev.Source, Type: ev.Type, At: ev.At}
		}
		report.Sample = append(report.Sample, item)
	}
	// Name the live customers of the sample, so that people can open them.
	return e.store.View(ctx, func(tx gateway.Tx) error {
		for i := range report.Sample {
			c, err := tx.CustomerByIdentity(report.Sample[i].Identity)
			if errors.Is(err, gateway.ErrNotFound) {
				continue
			}
			if err != nil {
				return storeError(err, "reading the sample's customers")
			}
			report.Sample[i].CustomerID = c.ID
		}
		return nil
	})
}
