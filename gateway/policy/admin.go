package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// CreateSilence silences a customer by hand, creating the customer when hush does not know the
// identity yet (a silence can precede the first event).
func (e *Engine) CreateSilence(ctx context.Context, in gateway.SilenceInput) (*gateway.Silence, error) {
	now := e.now()
	if in.Identity == "" {
		return nil, gateway.Errorf(gateway.CodeInvalid, "identity is required")
	}
	if in.For < 0 {
		return nil, gateway.Errorf(gateway.CodeInvalid, "for must be a positive duration such as 15d")
	}
	if in.For > 0 && !in.Until.IsZero() {
		return nil, gateway.Errorf(gateway.CodeInvalid, "give one of for or until, not both")
	}
	end := in.Until
	if in.For > 0 {
		end = now.Add(in.For)
	}
	switch {
	case end.IsZero():
		return nil, gateway.Errorf(gateway.CodeInvalid, "one of for (such as 15d) or until (an RFC 3339 time) is required")
	case !end.After(now):
		return nil, gateway.Errorf(gateway.CodeInvalid, "until must be in the future")
	}
	cats, err := checkCategories(in.Categories, "categories")
	if err != nil {
		return nil, err
	}
	chans, err := checkChannels(in.Channels, "channels")
	if err != nil {
		return nil, err
	}
	if len(cats) == 0 {
		cats = slices.Clone(gateway.DefaultSilencedCategories)
	}
	var out *gateway.Silence
	err = e.update(ctx, "creating a silence", func(tx gateway.Tx, ch *changes) error {
		c, _, err := e.customerFor(tx, in.Identity, now)
		if err != nil {
			return err
		}
		end := end
		s := &gateway.Silence{
			ID: gateway.NewID("sil", now), CustomerID: c.ID, Identity: in.Identity,
			Categories: cats, Channels: chans, CreatedBy: cmp.Or(in.CreatedBy, "admin"),
			Source: cmp.Or(in.Source, gateway.SilenceSourceAdmin),
			Reason: in.Reason, Start: now, End: &end, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.PutSilence(s); err != nil {
			return fmt.Errorf("storing silence: %w", err)
		}
		ch.customer(c.ID)
		ch.resync(c.ID)
		out = s
		return nil
	})
	return out, err
}

// LiftSilence ends a silence now, recording who lifted it and why.
func (e *Engine) LiftSilence(ctx context.Context, id, by, reason string) (*gateway.Silence, error) {
	return lift(e, ctx, "silence", true, id, gateway.Tx.Silence, gateway.Tx.PutSilence,
		func(s *gateway.Silence, now time.Time) (string, bool) {
			if s.LiftedAt != nil {
				return "", false
			}
			s.LiftedAt, s.LiftedBy, s.LiftReason, s.UpdatedAt = &now, by, reason, now
			return s.CustomerID, true
		})
}

// ExtendSilence moves the end of a silence in force to until, later than its current end.
// A silence waiting for its topic to be resolved has no end to move: lift it, or create one.
func (e *Engine) ExtendSilence(ctx context.Context, id string, until time.Time, by, reason string) (*gateway.Silence, error) {
	now := e.now()
	if !until.After(now) {
		return nil, gateway.Errorf(gateway.CodeInvalid, "until must be in the future")
	}
	var out *gateway.Silence
	err := e.update(ctx, "extending a silence", func(tx gateway.Tx, ch *changes) error {
		s, err := tx.Silence(id)
		if errors.Is(err, gateway.ErrNotFound) {
			return gateway.Errorf(gateway.CodeNotFound, "silence %q does not exist", id)
		}
		if err != nil {
			return fmt.Errorf("reading silence: %w", err)
		}
		switch {
		case !s.ActiveAt(now) && !now.Before(s.Start):
			return gateway.Errorf(gateway.CodeConflict, "silence %q is no longer in force; create a new one", id)
		case s.End == nil:
			return gateway.Errorf(gateway.CodeConflict, "silence %q lasts until its topic is resolved; it has no end to move", id)
		case !until.After(*s.End):
			return gateway.Errorf(gateway.CodeInvalid, "until must be later than the silence's current end, %s", s.End.UTC().Format(time.RFC3339))
		}
		end := until
		s.End, s.ExtendedBy, s.ExtendReason, s.UpdatedAt = &end, by, reason, now
		if err := tx.PutSilence(s); err != nil {
			return fmt.Errorf("storing silence: %w", err)
		}
		ch.customer(s.CustomerID)
		ch.resync(s.CustomerID)
		out = s
		return nil
	})
	return out, err
}

// lift is the one transaction that ends a silence or an opt-out early: read the record
// (404 when missing), end it (409 when it already was), store it, and refresh the
// customer's part of the snapshot.
func lift[T any](e *Engine, ctx context.Context, what string, resync bool, id string,
	read func(gateway.Tx, string) (*T, error), write func(gateway.Tx, *T) error,
	end func(rec *T, now time.Time) (customerID string, ended bool)) (*T, error) {
	now := e.now()
	var out *T
	err := e.update(ctx, "lifting the "+what, func(tx gateway.Tx, ch *changes) error {
		rec, err := read(tx, id)
		if errors.Is(err, gateway.ErrNotFound) {
			return gateway.Errorf(gateway.CodeNotFound, "%s %q does not exist", what, id)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		customerID, ended := end(rec, now)
		if !ended {
			return gateway.Errorf(gateway.CodeConflict, "%s %q was already lifted", what, id)
		}
		if err := write(tx, rec); err != nil {
			return fmt.Errorf("storing %s: %w", what, err)
		}
		ch.customer(customerID)
		if resync {
			ch.resync(customerID)
		}
		out = rec
		return nil
	})
	return out, err
}

// CreateOptOut records a consent withdrawal. An opt-out already in force on the channel is
// returned as is: withdrawing consent twice changes nothing.
func (e *Engine) CreateOptOut(ctx context.Context, in gateway.OptOutInput) (*gateway.OptOut, error) {
	now := e.now()
	if in.Identity == "" {
		return nil, gateway.Errorf(gateway.CodeInvalid, "identity is required")
	}
	channel, err := gateway.ParseChannel(string(in.Channel), true)
	if err != nil {
		return nil, gateway.Errorf(gateway.CodeInvalid, "channel: %v", err)
	}
	var out *gateway.OptOut
	err = e.update(ctx, "creating an opt-out", func(tx gateway.Tx, ch *changes) error {
		c, _, err := e.customerFor(tx, in.Identity, now)
		if err != nil {
			return err
		}
		ch.customer(c.ID)
		active, err := activeOptOuts(tx, c.ID)
		if err != nil {
			return err
		}
		for i := range active {
			if active[i].Channel == channel {
				out = &active[i]
				return nil
			}
		}
		o := &gateway.OptOut{
			ID: gateway.NewID("opt", now), CustomerID: c.ID, Identity: in.Identity, Channel: channel,
			Reason: in.Reason, CreatedBy: cmp.Or(in.CreatedBy, "admin"), CreatedAt: now,
		}
		if err := tx.PutOptOut(o); err != nil {
			return fmt.Errorf("storing opt-out: %w", err)
		}
		out = o
		return nil
	})
	return out, err
}

// LiftOptOut ends an opt-out (an operator acting on the customer's renewed consent).
func (e *Engine) LiftOptOut(ctx context.Context, id, by, reason string) (*gateway.OptOut, error) {
	return lift(e, ctx, "opt-out", false, id, gateway.Tx.OptOut, gateway.Tx.PutOptOut,
		func(o *gateway.OptOut, now time.Time) (string, bool) {
			if o.LiftedAt != nil {
				return "", false
			}
			o.LiftedAt, o.LiftedBy, o.LiftReason = &now, by, reason
			return o.CustomerID, true
		})
}

// OpenIncident opens an incident. One already open with the same source and external id is
// returned instead of opening a second (status tools resend).
func (e *Engine) OpenIncident(ctx context.Context, in gateway.IncidentInput) (*gateway.Incident, error) {
	now := e.now()
	title := strings.TrimSpace(in.Title)
	if title == "" {
		return nil, gateway.Errorf(gateway.CodeInvalid, "title is required")
	}
	scope, err := parseScope(in.Scope, "scope")
	if err != nil {
		return nil, gateway.Errorf(gateway.CodeInvalid, "%v", err)
	}
	cats, err := checkCategories(in.Categories, "categories")
	if err != nil {
		return nil, err
	}
	chans, err := checkChannels(in.Channels, "channels")
	if err != nil {
		return nil, err
	}
	opened := in.At
	if opened.IsZero() || opened.After(now) {
		opened = now
	}
	source := cmp.Or(in.Source, "api")
	var out *gateway.Incident
	err = e.update(ctx, "opening an incident", func(tx gateway.Tx, ch *changes) error {
		existing, err := findOpenIncident(tx, source, in.ExternalID)
		if err != nil {
			return err
		}
		if existing != nil {
			out = existing
			return nil
		}
		inc := &gateway.Incident{
			ID: gateway.NewID("inc", now), Title: title, Scope: scope, Categories: cats, Channels: chans,
			Source: source, ExternalID: in.ExternalID, CreatedBy: cmp.Or(in.CreatedBy, "admin"), OpenedAt: opened,
		}
		if err := tx.PutIncident(inc); err != nil {
			return fmt.Errorf("storing incident: %w", err)
		}
		ch.incidents = true
		out = inc
		return nil
	})
	return out, err
}

// ResolveIncident closes an open incident now.
func (e *Engine) ResolveIncident(ctx context.Context, id, by string) (*gateway.Incident, error) {
	now := e.now()
	var out *gateway.Incident
	err := e.update(ctx, "resolving an incident", func(tx gateway.Tx, ch *changes) error {
		inc, err := tx.Incident(id)
		if errors.Is(err, gateway.ErrNotFound) {
			return gateway.Errorf(gateway.CodeNotFound, "incident %q does not exist", id)
		}
		if err != nil {
			return fmt.Errorf("reading incident: %w", err)
		}
		if inc.ResolvedAt != nil {
			return gateway.Errorf(gateway.CodeConflict, "incident %q is already resolved", id)
		}
		resolved := now
		inc.ResolvedAt, inc.ResolvedBy = &resolved, by
		if err := tx.PutIncident(inc); err != nil {
			return fmt.Errorf("storing incident: %w", err)
		}
		ch.incidents = true
		out = inc
		return nil
	})
	return out, err
}

// LinkIdentities links others to the customer named by id, merging customers that exist.
func (e *Engine) LinkIdentities(ctx context.Context, id gateway.Identity, others []gateway.Identity) (*gateway.Customer, error) {
	now := e.now()
	if id == "" {
		return nil, gateway.Errorf(gateway.CodeInvalid, "identity is required")
	}
	ids := []gateway.Identity{id}
	for i, o := range others {
		if o == "" {
			return nil, gateway.Errorf(gateway.CodeInvalid, "identities[%d] is empty", i)
		}
		if !slices.Contains(ids, o) {
			ids = append(ids, o)
		}
	}
	var out *gateway.Customer
	err := e.update(ctx, "linking identities", func(tx gateway.Tx, ch *changes) error {
		c, err := e.resolveCustomer(tx, ch, ids, nil, now)
		out = c
		return err
	})
	return out, err
}

// EraseCustomer deletes the customer named by id and everything about them.
func (e *Engine) EraseCustomer(ctx context.Context, id gateway.Identity) error {
	// Decisions queued about the customer must not land after the erasure.
	if err := e.FlushDecisions(ctx); err != nil {
		return storeError(err, "writing the decision log")
	}
	return e.update(ctx, "erasing a customer", func(tx gateway.Tx, ch *changes) error {
		c, err := tx.CustomerByIdentity(id)
		if errors.Is(err, gateway.ErrNotFound) {
			return gateway.Errorf(gateway.CodeNotFound, "no customer has identity %q", id)
		}
		if err != nil {
			return fmt.Errorf("looking up customer: %w", err)
		}
		if err := tx.DeleteCustomer(c.ID); err != nil {
			return fmt.Errorf("erasing customer %s: %w", c.ID, err)
		}
		ch.customer(c.ID)
		ch.resync(c.ID) // hush's entries for the erased addresses come off the vendors' lists
		return nil
	})
}

func checkCategories(in []gateway.Category, field string) ([]gateway.Category, error) {
	var out []gateway.Category
	for i, c := range in {
		cat, err := gateway.ParseCategory(string(c), false)
		if err != nil {
			return nil, gateway.Errorf(gateway.CodeInvalid, "%s[%d]: %v", field, i, err)
		}
		if !slices.Contains(out, cat) {
			out = append(out, cat)
		}
	}
	return out, nil
}

func checkChannels(in []gateway.Channel, field string) ([]gateway.Channel, error) {
	var out []gateway.Channel
	for i, c := range in {
		ch, err := gateway.ParseChannel(string(c), false)
		if err != nil {
			return nil, gateway.Errorf(gateway.CodeInvalid, "%s[%d]: %v", field, i, err)
		}
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	return out, nil
}
