package policy

import (
	"slices"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// shardCount splits the snapshot's maps so that a commit copies only the shards it touches
// instead of one map holding every customer. A power of two, so that a mask picks the shard.
const shardCount = 64

// Snapshot is an immutable, in-memory index of everything Decide needs without a storage
// transaction: the customers with a silence or an opt-out in force (identity → customer, and
// each one's tags, timezone, silences and opt-outs), and the open incidents. The engine swaps
// a new one in atomically after every commit; a reader keeps using the one it loaded, which
// never changes under it.
//
// Customers with nothing in force are left out: for most recipients of a send the answer is
// "allowed", and holding every customer hush ever heard of would make start-up and memory
// grow with them (a million customers took 35 s and 1.5 GiB). What Decide may still need
// about such a customer (their timezone for quiet hours, their tags for an incident scoped
// to a tag) it reads from the store in one transaction, only when quiet hours or such an
// incident apply; their id for the audit log is resolved when the decisions are written.
type Snapshot struct {
	ids       [shardCount]map[gateway.Identity]string // identity → customer id
	customers [shardCount]map[string]*customerState   // customer id → state
	incidents []gateway.Incident                      // open when the snapshot was built
}

// customerState is what the snapshot knows about one customer. Never modified once published.
type customerState struct {
	customer *gateway.Customer
	// loc is the customer's own timezone, else the one of their phone's country; nil when
	// neither is known (the engine's fallback applies).
	loc      *time.Location
	silences []gateway.Silence // enforced (not shadow, not control), not lifted, not ended when loaded
	optOuts  []gateway.OptOut  // active
	// expires is the earliest End among silences (zero when none has an end): after it the
	// state holds an expired silence and is pruned the next time its shard is rewritten.
	expires time.Time
}

func newCustomerState(c *gateway.Customer, silences []gateway.Silence, optOuts []gateway.OptOut, loc *time.Location, now time.Time) *customerState {
	st := &customerState{customer: c, loc: loc}
	for _, s := range silences {
		if !s.Enforced() || s.LiftedAt != nil || s.End != nil && !s.End.After(now) {
			continue
		}
		st.silences = append(st.silences, s)
		if s.End != nil && (st.expires.IsZero() || s.End.Before(st.expires)) {
			st.expires = *s.End
		}
	}
	for _, o := range optOuts {
		if o.Active() {
			st.optOuts = append(st.optOuts, o)
		}
	}
	return st
}

// stateful reports whether the customer has something in force the snapshot must hold.
func (st *customerState) stateful() bool { return len(st.silences) > 0 || len(st.optOuts) > 0 }

// pruned returns the state without silences that ended by now, or st itself when none did.
func (st *customerState) pruned(now time.Time) *customerState {
	if st.expires.IsZero() || st.expires.After(now) {
		return st
	}
	return newCustomerState(st.customer, st.silences, st.optOuts, st.loc, now)
}

func shardOf(s string) int {
	// FNV-1a, inlined: it runs on every Decide and must not allocate.
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return int(h & (shardCount - 1))
}

func emptySnapshot() *Snapshot {
	s := &Snapshot{}
	for i := range shardCount {
		s.ids[i] = map[gateway.Identity]string{}
		s.customers[i] = map[string]*customerState{}
	}
	return s
}

// buildSnapshot indexes every customer state and the open incidents.
func buildSnapshot(states []*customerState, incidents []gateway.Incident) *Snapshot {
	s := emptySnapshot()
	for _, st := range states {
		s.customers[shardOf(st.customer.ID)][st.customer.ID] = st
		for _, id := range st.customer.Identities {
			s.ids[shardOf(string(id))][id] = st.customer.ID
		}
	}
	s.incidents = openIncidents(incidents)
	return s
}

func openIncidents(incidents []gateway.Incident) []gateway.Incident {
	var open []gateway.Incident
	for _, i := range incidents {
		if i.ResolvedAt == nil {
			open = append(open, i)
		}
	}
	return open
}

// apply returns a new snapshot with the changed customers replaced (a nil state: the customer
// no longer exists) and, when incidentsChanged, the open incidents replaced. Only the shards
// that hold a changed identity or customer are copied.
func (s *Snapshot) apply(changed map[string]*customerState, incidents []gateway.Incident, incidentsChanged bool, now time.Time) *Snapshot {
	next := *s
	if incidentsChanged {
		next.incidents = openIncidents(incidents)
	}
	if len(changed) == 0 {
		return &next
	}
	type idChange struct {
		id       gateway.Identity
		customer string // "" removes the entry if it still points at from
		from     string
	}
	var idShards [shardCount][]idChange
	var custShards [shardCount][]string
	for cid, st := range changed {
		old := s.customers[shardOf(cid)][cid]
		if old == nil && st == nil {
			continue // not held before, not held now (nothing in force): no shard to copy
		}
		if old != nil {
			for _, id := range old.customer.Identities {
				sh := shardOf(string(id))
				idShards[sh] = append(idShards[sh], idChange{id: id, from: cid})
			}
		}
		custShards[shardOf(cid)] = append(custShards[shardOf(cid)], cid)
	}
	// Additions after removals, so that an identity moving between customers (a merge) ends
	// up pointing at its new owner whatever order the map iteration took.
	for cid, st := range changed {
		if st == nil {
			continue
		}
		for _, id := range st.customer.Identities {
			sh := shardOf(string(id))
			idShards[sh] = append(idShards[sh], idChange{id: id, customer: cid})
		}
	}
	for sh, changes := range idShards {
		if len(changes) == 0 {
			continue
		}
		m := make(map[gateway.Identity]string, len(s.ids[sh])+len(changes))
		for k, v := range s.ids[sh] {
			m[k] = v
		}
		for _, c := range changes {
			if c.customer == "" {
				if m[c.id] == c.from {
					delete(m, c.id)
				}
				continue
			}
			m[c.id] = c.customer
		}
		next.ids[sh] = m
	}
	for sh, cids := range custShards {
		if len(cids) == 0 {
			continue
		}
		m := make(map[string]*customerState, len(s.customers[sh])+len(cids))
		for k, v := range s.customers[sh] {
			// A customer whose last silence ended leaves the snapshot (their identities
			// stay in ids until a rebuild; a lookup finds no state, as for anyone else).
			if p := v.pruned(now); p.stateful() {
				m[k] = p
			}
		}
		for _, cid := range cids {
			if st := changed[cid]; st != nil {
				m[cid] = st
			} else {
				delete(m, cid)
			}
		}
		next.customers[sh] = m
	}
	return &next
}

// lookup finds the customer an identity belongs to; nil when hush does not know it.
func (s *Snapshot) lookup(id gateway.Identity) *customerState {
	cid, ok := s.ids[shardOf(string(id))][id]
	if !ok {
		return nil
	}
	return s.customers[shardOf(cid)][cid]
}

// CustomerView is a copy of what the snapshot holds about one customer.
type CustomerView struct {
	ID       string
	Tags     []string
	Timezone string // the zone decisions use for the customer; "" when the fallback applies
	Silences []gateway.Silence
	OptOuts  []gateway.OptOut
}

// Customer reports what the snapshot knows about the customer an identity belongs to.
// Silences may include ones that ended since the snapshot was built: Decide checks ActiveAt.
func (s *Snapshot) Customer(id gateway.Identity) (CustomerView, bool) {
	st := s.lookup(id)
	if st == nil {
		return CustomerView{}, false
	}
	v := CustomerView{
		ID:       st.customer.ID,
		Tags:     slices.Clone(st.customer.Tags),
		Silences: slices.Clone(st.silences),
		OptOuts:  slices.Clone(st.optOuts),
	}
	if st.loc != nil {
		v.Timezone = st.loc.String()
	}
	return v, true
}

// tagIncident reports whether an open incident scoped to a tag covers a send on ch in cat at
// at: deciding it needs the recipient's tags.
func (s *Snapshot) tagIncident(at time.Time, ch gateway.Channel, cat gateway.Category) bool {
	for i := range s.incidents {
		inc := &s.incidents[i]
		if inc.Scope != "" && inc.Scope != "all" && inc.ActiveAt(at) && inc.Covers(ch, cat) {
			return true
		}
	}
	return false
}

// Incidents returns the incidents that were open when the snapshot was built.
func (s *Snapshot) Incidents() []gateway.Incident { return slices.Clone(s.incidents) }

// SnapshotCounts sizes the snapshot, for metrics.
type SnapshotCounts struct {
	Customers      int
	ActiveSilences int
	ActiveOptOuts  int
	OpenIncidents  int
}

// Counts counts what is in force at t.
func (s *Snapshot) Counts(t time.Time) SnapshotCounts {
	c := SnapshotCounts{OpenIncidents: len(s.incidents)}
	for _, m := range s.customers {
		c.Customers += len(m)
		for _, st := range m {
			for i := range st.silences {
				if st.silences[i].ActiveAt(t) {
					c.ActiveSilences++
				}
			}
			c.ActiveOptOuts += len(st.optOuts)
		}
	}
	return c
}
