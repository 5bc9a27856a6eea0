package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"github.com/jackc/pgx/v5"
)

// tx implements gateway.Tx on one PostgreSQL transaction. Every statement runs with the
// context of the Update or View that made it, so request deadlines reach the database.
type tx struct {
	ctx   context.Context
	ptx   pgx.Tx
	write bool

	// What the change feed must tell other replicas about this commit.
	touched   []string // customer ids, deduplicated at commit
	incidents bool
}

var _ gateway.Tx = (*tx)(nil)

func (t *tx) touch(ids ...string) {
	for _, id := range ids {
		if id != "" {
			t.touched = append(t.touched, id)
		}
	}
}

func (t *tx) exec(doing, sql string, args ...any) error {
	if _, err := t.ptx.Exec(t.ctx, sql, args...); err != nil {
		return t.fail(doing, err)
	}
	return nil
}

// fail wraps a database error with what was being done (the context's error first when it
// ended).
func (t *tx) fail(doing string, err error) error {
	if cerr := t.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %w (%v)", doing, cerr, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// getRecord reads the JSON record of one row; pgx.ErrNoRows becomes ErrNotFound.
func (t *tx) getRecord(what, sql string, args ...any) ([]byte, error) {
	var data []byte
	err := t.ptx.QueryRow(t.ctx, sql, args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, t.fail("read "+what, err)
	}
	return data, nil
}

func decode[T any](what string, data []byte) (*T, error) {
	rec := new(T)
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return rec, nil
}

func encode(what string, rec any) ([]byte, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return data, nil
}

// getByID reads one record by its id column.
func getByID[T any](t *tx, kind, table, id string) (*T, error) {
	what := fmt.Sprintf("%s %q", kind, id)
	if !storable(id) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	data, err := t.getRecord(what, "SELECT record FROM "+table+" WHERE id = $1", id)
	if err != nil {
		return nil, err
	}
	return decode[T](what, data)
}

// customerOwned is a record kind filed under a customer; the customer_id column wins over
// the JSON, so that a merge is one UPDATE.
type customerOwned interface {
	gateway.Silence | gateway.OptOut | gateway.Decision | gateway.Contact
}

func setCustomer[T customerOwned](rec *T, customerID string) {
	switch r := any(rec).(type) {
	case *gateway.Silence:
		r.CustomerID = customerID
	case *gateway.OptOut:
		r.CustomerID = customerID
	case *gateway.Decision:
		r.CustomerID = customerID
	case *gateway.Contact:
		r.CustomerID = customerID
	}
}

func getOwned[T customerOwned](t *tx, kind, table, id string) (*T, error) {
	what := fmt.Sprintf("%s %q", kind, id)
	if !storable(id) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	var (
		data     []byte
		customer string
	)
	err := t.ptx.QueryRow(t.ctx, "SELECT record, customer_id FROM "+table+" WHERE id = $1", id).Scan(&data, &customer)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, t.fail("read "+what, err)
	}
	rec, err := decode[T](what, data)
	if err != nil {
		return nil, err
	}
	setCustomer(rec, customer)
	return rec, nil
}

// listing describes one time-ordered listing.
type listing struct {
	tag    byte
	what   string // "silences", for messages
	sel    string // SELECT … FROM …
	nsCol  string
	idCol  string
	desc   bool
	seqIDs bool // the id column is an event's seq
}

// listPage reads one page: LIMIT one more than asked, so that a next cursor is given only
// when a further matching record exists (as bbolt does).
func listPage[T any](t *tx, l listing, q *sqlQuery, p gateway.Page, scan func(pgx.Rows) (T, sortKey, error)) ([]T, string, error) {
	after, ok, err := decodeCursor(l.tag, p.Cursor)
	if err != nil {
		return nil, "", err
	}
	cmp, dir := ">", "ASC"
	if l.desc {
		cmp, dir = "<", "DESC"
	}
	if ok {
		var id any = after.id
		if l.seqIDs {
			seq, ok := seqFromCursorID(after.id)
			if !ok {
				return nil, "", errBadCursor()
			}
			id = seq
		} else if !storable(after.id) {
			return nil, "", errBadCursor()
		}
		q.cond(fmt.Sprintf("(%s, %s) %s (?, ?)", l.nsCol, l.idCol, cmp), after.ns, id)
	}
	limit := p.Size()
	sql := fmt.Sprintf("%s%s ORDER BY %s %s, %s %s LIMIT %s", l.sel, q.whereClause(), l.nsCol, dir, l.idCol, dir, q.arg(limit+1))
	rows, err := t.ptx.Query(t.ctx, sql, q.args...)
	if err != nil {
		return nil, "", t.fail("list "+l.what, err)
	}
	defer rows.Close()
	var (
		out  []T
		keys []sortKey
	)
	for rows.Next() {
		rec, k, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, rec)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", t.fail("list "+l.what, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(l.tag, keys[limit-1])
	}
	return out, next, nil
}

// scanRecord scans (record, ns, id) rows into records of kind T.
func scanRecord[T any](kind string) func(pgx.Rows) (T, sortKey, error) {
	return func(rows pgx.Rows) (T, sortKey, error) {
		var (
			data []byte
			k    sortKey
			zero T
		)
		if err := rows.Scan(&data, &k.ns, &k.id); err != nil {
			return zero, k, fmt.Errorf("read %s: %w", kind, err)
		}
		rec, err := decode[T](kind+" "+k.id, data)
		if err != nil {
			return zero, k, err
		}
		return *rec, k, nil
	}
}

// scanOwned scans (record, ns, id, customer_id) rows.
func scanOwned[T customerOwned](kind string) func(pgx.Rows) (T, sortKey, error) {
	return func(rows pgx.Rows) (T, sortKey, error) {
		var (
			data     []byte
			k        sortKey
			customer string
			zero     T
		)
		if err := rows.Scan(&data, &k.ns, &k.id, &customer); err != nil {
			return zero, k, fmt.Errorf("read %s: %w", kind, err)
		}
		rec, err := decode[T](kind+" "+k.id, data)
		if err != nil {
			return zero, k, err
		}
		setCustomer(rec, customer)
		return *rec, k, nil
	}
}

// forEachChunk walks a table in key order a chunk at a time, so that fn may run other
// statements of the transaction (one connection cannot read two result sets at once).
func forEachChunk[T any](t *tx, what, sql string, scan func(pgx.Rows) (T, []any, error), fn func(T) error) error {
	const chunk = 500
	var after []any
	for {
		args := []any{chunk}
		args = append(args, after...)
		rows, err := t.ptx.Query(t.ctx, chunkSQL(sql, after != nil), args...)
		if err != nil {
			return t.fail("walk "+what, err)
		}
		var recs []T
		var last []any
		for rows.Next() {
			rec, key, err := scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, rec)
			last = key
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return t.fail("walk "+what, err)
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if len(recs) < chunk {
			return nil
		}
		after = last
	}
}

// chunkSQL turns a template "SELECT … FROM t {WHERE key > $2} ORDER BY key LIMIT $1" into
// the first chunk's statement (without the braced resume condition) or a later one's.
func chunkSQL(template string, resume bool) string {
	head, rest, _ := strings.Cut(template, "{")
	cond, tail, _ := strings.Cut(rest, "}")
	if !resume {
		return head + tail
	}
	return head + cond + tail
}

// ---- deliveries

func (t *tx) DeliverySeen(source, deliveryID string) (bool, error) {
	if !storable(source) || !storable(deliveryID) {
		return false, nil
	}
	var seen bool
	err := t.ptx.QueryRow(t.ctx, "SELECT EXISTS (SELECT 1 FROM deliveries WHERE source = $1 AND id = $2)", source, deliveryID).Scan(&seen)
	if err != nil {
		return false, t.fail("look up delivery of "+source, err)
	}
	return seen, nil
}

func (t *tx) PutDelivery(source, deliveryID string, at time.Time) error {
	if err := checkID("delivery source", source); err != nil {
		return err
	}
	if err := checkID("delivery id", deliveryID); err != nil {
		return err
	}
	return t.exec("write delivery of "+source,
		"INSERT INTO deliveries (source, id, at_ns) VALUES ($1, $2, $3) ON CONFLICT (source, id) DO UPDATE SET at_ns = EXCLUDED.at_ns",
		source, deliveryID, nanos(at))
}

// ForEachDelivery walks the dedupe keys in (source, id) order.
func (t *tx) ForEachDelivery(fn func(source, deliveryID string, at time.Time) error) error {
	type delivery struct {
		source, id string
		at         int64
	}
	return forEachChunk(t, "deliveries",
		"SELECT source, id, at_ns FROM deliveries {WHERE (source, id) > ($2, $3)} ORDER BY source, id LIMIT $1",
		func(rows pgx.Rows) (delivery, []any, error) {
			var d delivery
			if err := rows.Scan(&d.source, &d.id, &d.at); err != nil {
				return d, nil, fmt.Errorf("read delivery: %w", err)
			}
			return d, []any{d.source, d.id}, nil
		},
		func(d delivery) error { return fn(d.source, d.id, time.Unix(0, d.at).UTC()) })
}

// ---- customers

func (t *tx) Customer(id string) (*gateway.Customer, error) {
	return getByID[gateway.Customer](t, "customer", "customers", id)
}

// errNoCustomerWithIdentity is CustomerByIdentity's answer for an identity nobody has.
var errNoCustomerWithIdentity = fmt.Errorf("customer with identity: %w", gateway.ErrNotFound)

func (t *tx) CustomerByIdentity(id gateway.Identity) (*gateway.Customer, error) {
	if !storable(string(id)) {
		return nil, errNoCustomerWithIdentity
	}
	var data []byte
	err := t.ptx.QueryRow(t.ctx,
		"SELECT c.record FROM identities i JOIN customers c ON c.id = i.customer_id WHERE i.identity = $1", string(id)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		// Most recipients of a send are strangers: a shared error value, not one per lookup.
		return nil, errNoCustomerWithIdentity
	}
	if err != nil {
		return nil, t.fail("look up customer by identity", err)
	}
	return decode[gateway.Customer]("customer", data)
}

func identityStrings(ids []gateway.Identity) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func (t *tx) PutCustomer(c *gateway.Customer) error {
	if err := checkID("customer id", c.ID); err != nil {
		return err
	}
	for _, id := range c.Identities {
		if id == "" {
			return gateway.Errorf(gateway.CodeInvalid, "customer %s has an empty identity", c.ID)
		}
		if err := checkText("identity of customer "+c.ID, string(id)); err != nil {
			return err
		}
	}
	ids := identityStrings(c.Identities)
	var owner string
	err := t.ptx.QueryRow(t.ctx,
		"SELECT customer_id FROM identities WHERE identity = ANY($1) AND customer_id <> $2 LIMIT 1", ids, c.ID).Scan(&owner)
	switch {
	case err == nil:
		// The identity itself is personal data: the message names only the customers.
		return gateway.Errorf(gateway.CodeConflict, "an identity of customer %s already belongs to customer %s: merge them first", c.ID, owner)
	case !errors.Is(err, pgx.ErrNoRows):
		return t.fail("check identities of customer "+c.ID, err)
	}
	data, err := encode("customer "+c.ID, c)
	if err != nil {
		return err
	}
	// One statement: drop the identities c no longer has, index the ones it has, write it.
	err = t.exec("write customer "+c.ID, `WITH dropped AS (
			DELETE FROM identities WHERE customer_id = $1 AND identity <> ALL($2)
		), indexed AS (
			INSERT INTO identities (identity, customer_id) SELECT unnest($2::text[]), $1
			ON CONFLICT (identity) DO NOTHING
		)
		INSERT INTO customers (id, record) VALUES ($1, $3)
		ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record`, c.ID, ids, data)
	if err != nil {
		return err
	}
	t.touch(c.ID)
	return nil
}

// The tables whose records MergeCustomers moves and DeleteCustomer erases with a customer.
var customerTables = []string{"events", "silences", "optouts", "decisions", "contacts"}

func (t *tx) MergeCustomers(into, from string) error {
	if into == from {
		return gateway.Errorf(gateway.CodeInvalid, "cannot merge customer %s into itself", into)
	}
	dst, err := t.Customer(into)
	if err != nil {
		return err
	}
	src, err := t.Customer(from)
	if err != nil {
		return err
	}
	for _, id := range src.Identities {
		if !slices.Contains(dst.Identities, id) {
			dst.Identities = append(dst.Identities, id)
		}
	}
	data, err := encode("customer "+into, dst)
	if err != nil {
		return err
	}
	sql := `WITH moved_identities AS (
			INSERT INTO identities (identity, customer_id) SELECT unnest($3::text[]), $1
			ON CONFLICT (identity) DO UPDATE SET customer_id = EXCLUDED.customer_id
		), written AS (
			UPDATE customers SET record = $4 WHERE id = $1
		)`
	for _, table := range customerTables {
		sql += fmt.Sprintf(", moved_%s AS (UPDATE %s SET customer_id = $1 WHERE customer_id = $2)", table, table)
	}
	sql += " DELETE FROM customers WHERE id = $2"
	if err := t.exec(fmt.Sprintf("merge customer %s into %s", from, into), sql, into, from, identityStrings(src.Identities), data); err != nil {
		return err
	}
	t.touch(into, from)
	return nil
}

func (t *tx) DeleteCustomer(id string) error {
	if _, err := t.Customer(id); err != nil {
		return err
	}
	sql := "WITH unindexed AS (DELETE FROM identities WHERE customer_id = $1)"
	for _, table := range customerTables {
		sql += fmt.Sprintf(", erased_%s AS (DELETE FROM %s WHERE customer_id = $1)", table, table)
	}
	sql += " DELETE FROM customers WHERE id = $1"
	if err := t.exec("erase customer "+id, sql, id); err != nil {
		return err
	}
	t.touch(id)
	return nil
}

// ForEachCustomer walks customers in id order; fn may write.
func (t *tx) ForEachCustomer(fn func(*gateway.Customer) error) error {
	return forEachChunk(t, "customers",
		"SELECT id, record FROM customers {WHERE id > $2} ORDER BY id LIMIT $1",
		func(rows pgx.Rows) (*gateway.Customer, []any, error) {
			var (
				id   string
				data []byte
			)
			if err := rows.Scan(&id, &data); err != nil {
				return nil, nil, fmt.Errorf("read customer: %w", err)
			}
			c, err := decode[gateway.Customer](fmt.Sprintf("customer %q", id), data)
			return c, []any{id}, err
		}, fn)
}

// ---- events

func (t *tx) PutEvent(e *gateway.Event) error {
	if err := checkID("event customer id", e.CustomerID); err != nil {
		return err
	}
	if e.Seq > math.MaxInt64 {
		return gateway.Errorf(gateway.CodeInvalid, "event number %d is out of range", e.Seq)
	}
	what := fmt.Sprintf("event %s/%s", e.Source, e.ID)
	if e.Seq == 0 {
		// Numbered by the sequence in the insert itself (one round trip under the write
		// lock, not two); the record is written before it has its number, so on read the
		// seq column fills it in, as customer_id does.
		data, err := encode(what, e)
		if err != nil {
			return err
		}
		var seq int64
		err = t.ptx.QueryRow(t.ctx, `INSERT INTO events (customer_id, seq, at_ns, record, raw)
			VALUES ($1, nextval('hush_event_seq'), $2, $3, $4) RETURNING seq`,
			e.CustomerID, nanos(e.At), data, []byte(e.Raw)).Scan(&seq)
		if err != nil {
			return t.fail("write "+what, err)
		}
		e.Seq = uint64(seq)
		return nil
	}
	// A number from a rolled-back run of this Update (the caller's struct kept it), or from
	// another store: keep it and move the sequence past it so it is never reused.
	if err := t.exec("number "+what,
		"SELECT setval('hush_event_seq', $1) FROM hush_event_seq WHERE last_value < $1", int64(e.Seq)); err != nil {
		return err
	}
	data, err := encode(what, e)
	if err != nil {
		return err
	}
	return t.exec("write "+what, `INSERT INTO events (customer_id, seq, at_ns, record, raw) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (customer_id, seq) DO UPDATE SET at_ns = EXCLUDED.at_ns, record = EXCLUDED.record, raw = EXCLUDED.raw`,
		e.CustomerID, int64(e.Seq), nanos(e.At), data, []byte(e.Raw))
}

func (t *tx) Events(q gateway.EventQuery) ([]gateway.Event, string, error) {
	if err := checkID("customer id", q.CustomerID); err != nil {
		return nil, "", err
	}
	var sq sqlQuery
	sq.cond("customer_id = ?", q.CustomerID)
	if !q.Since.IsZero() {
		sq.cond("at_ns >= ?", nanos(q.Since))
	}
	if !q.Until.IsZero() {
		sq.cond("at_ns < ?", nanos(q.Until))
	}
	l := listing{tag: cursorEvents, what: "events", sel: "SELECT record, at_ns, seq, customer_id FROM events",
		nsCol: "at_ns", idCol: "seq", desc: true, seqIDs: true}
	return listPage(t, l, &sq, q.Page, func(rows pgx.Rows) (gateway.Event, sortKey, error) {
		var (
			data     []byte
			k        sortKey
			seq      int64
			customer string
		)
		if err := rows.Scan(&data, &k.ns, &seq, &customer); err != nil {
			return gateway.Event{}, k, fmt.Errorf("read event: %w", err)
		}
		k.id = seqCursorID(seq)
		e, err := decode[gateway.Event](fmt.Sprintf("event %d", seq), data)
		if err != nil {
			return gateway.Event{}, k, err
		}
		e.Seq, e.CustomerID = uint64(seq), customer
		return *e, k, nil
	})
}

func (t *tx) EventRaw(customerID string, seq uint64) ([]byte, error) {
	what := fmt.Sprintf("event %d of customer %q", seq, customerID)
	if seq > math.MaxInt64 || !storable(customerID) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	var raw []byte
	err := t.ptx.QueryRow(t.ctx, "SELECT raw FROM events WHERE customer_id = $1 AND seq = $2", customerID, int64(seq)).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, t.fail("read raw payload of "+what, err)
	}
	return raw, nil
}

// ---- silences, opt-outs, incidents

func (t *tx) Silence(id string) (*gateway.Silence, error) {
	return getOwned[gateway.Silence](t, "silence", "silences", id)
}

func (t *tx) PutSilence(s *gateway.Silence) error {
	if err := checkID("silence id", s.ID); err != nil {
		return err
	}
	if err := checkID("silence customer id", s.CustomerID); err != nil {
		return err
	}
	for kind, v := range map[string]string{"silence rule": s.Rule, "silence topic": s.Topic} {
		if err := checkText(kind, v); err != nil {
			return err
		}
	}
	data, err := encode("silence "+s.ID, s)
	if err != nil {
		return err
	}
	// The previous owner is read in the same statement: a silence moved to another customer
	// changes both customers' snapshots.
	var previous *string
	err = t.ptx.QueryRow(t.ctx, `WITH old AS (SELECT customer_id FROM silences WHERE id = $1)
		INSERT INTO silences (id, customer_id, start_ns, end_ns, lifted_ns, rule, topic, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, start_ns = EXCLUDED.start_ns,
			end_ns = EXCLUDED.end_ns, lifted_ns = EXCLUDED.lifted_ns, rule = EXCLUDED.rule,
			topic = EXCLUDED.topic, record = EXCLUDED.record
		RETURNING (SELECT customer_id FROM old)`,
		s.ID, s.CustomerID, nanos(s.Start), nanosOrNull(s.End), nanosOrNull(s.LiftedAt), s.Rule, s.Topic, data).Scan(&previous)
	if err != nil {
		return t.fail("write silence "+s.ID, err)
	}
	t.touch(s.CustomerID)
	if previous != nil {
		t.touch(*previous)
	}
	return nil
}

func (t *tx) Silences(q gateway.SilenceQuery) ([]gateway.Silence, string, error) {
	var sq sqlQuery
	if q.CustomerID != "" {
		sq.cond("customer_id = ?", q.CustomerID)
	}
	if q.Rule != "" {
		sq.cond("rule = ?", q.Rule)
	}
	if q.Topic != "" {
		sq.cond("topic = ?", q.Topic)
	}
	if !q.ActiveAt.IsZero() {
		// gateway.Silence.ActiveAt: started at or before, not ended, not lifted.
		sq.cond("start_ns <= ? AND (end_ns IS NULL OR end_ns > ?) AND (lifted_ns IS NULL OR lifted_ns > ?)",
			nanos(q.ActiveAt), nanos(q.ActiveAt), nanos(q.ActiveAt))
	}
	for _, v := range []string{q.CustomerID, q.Rule, q.Topic} {
		if !storable(v) {
			return nil, "", nil
		}
	}
	l := listing{tag: cursorSilences, what: "silences", sel: "SELECT record, start_ns, id, customer_id FROM silences",
		nsCol: "start_ns", idCol: "id", desc: true}
	return listPage(t, l, &sq, q.Page, scanOwned[gateway.Silence]("silence"))
}

func (t *tx) OptOut(id string) (*gateway.OptOut, error) {
	return getOwned[gateway.OptOut](t, "opt-out", "optouts", id)
}

func (t *tx) PutOptOut(o *gateway.OptOut) error {
	if err := checkID("opt-out id", o.ID); err != nil {
		return err
	}
	if err := checkID("opt-out customer id", o.CustomerID); err != nil {
		return err
	}
	data, err := encode("opt-out "+o.ID, o)
	if err != nil {
		return err
	}
	var previous *string
	err = t.ptx.QueryRow(t.ctx, `WITH old AS (SELECT customer_id FROM optouts WHERE id = $1)
		INSERT INTO optouts (id, customer_id, created_ns, active, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, created_ns = EXCLUDED.created_ns,
			active = EXCLUDED.active, record = EXCLUDED.record
		RETURNING (SELECT customer_id FROM old)`,
		o.ID, o.CustomerID, nanos(o.CreatedAt), o.Active(), data).Scan(&previous)
	if err != nil {
		return t.fail("write opt-out "+o.ID, err)
	}
	t.touch(o.CustomerID)
	if previous != nil {
		t.touch(*previous)
	}
	return nil
}

func (t *tx) OptOuts(q gateway.OptOutQuery) ([]gateway.OptOut, string, error) {
	var sq sqlQuery
	if q.CustomerID != "" {
		if !storable(q.CustomerID) {
			return nil, "", nil
		}
		sq.cond("customer_id = ?", q.CustomerID)
	}
	if q.ActiveOnly {
		sq.cond("active")
	}
	l := listing{tag: cursorOptOuts, what: "opt-outs", sel: "SELECT record, created_ns, id, customer_id FROM optouts",
		nsCol: "created_ns", idCol: "id", desc: true}
	return listPage(t, l, &sq, q.Page, scanOwned[gateway.OptOut]("opt-out"))
}

func (t *tx) Incident(id string) (*gateway.Incident, error) {
	return getByID[gateway.Incident](t, "incident", "incidents", id)
}

func (t *tx) PutIncident(i *gateway.Incident) error {
	if err := checkID("incident id", i.ID); err != nil {
		return err
	}
	for kind, v := range map[string]string{"incident source": i.Source, "incident external id": i.ExternalID} {
		if err := checkText(kind, v); err != nil {
			return err
		}
	}
	data, err := encode("incident "+i.ID, i)
	if err != nil {
		return err
	}
	err = t.exec("write incident "+i.ID, `INSERT INTO incidents (id, opened_ns, open, source, external_id, record)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET opened_ns = EXCLUDED.opened_ns, open = EXCLUDED.open,
			source = EXCLUDED.source, external_id = EXCLUDED.external_id, record = EXCLUDED.record`,
		i.ID, nanos(i.OpenedAt), i.ResolvedAt == nil, i.Source, i.ExternalID, data)
	if err != nil {
		return err
	}
	t.incidents = true
	return nil
}

func (t *tx) Incidents(q gateway.IncidentQuery) ([]gateway.Incident, string, error) {
	var sq sqlQuery
	if q.OpenOnly {
		sq.cond("open")
	}
	if q.ExternalID != "" {
		sq.cond("external_id = ?", q.ExternalID)
	}
	if q.Source != "" {
		sq.cond("source = ?", q.Source)
	}
	if !storable(q.ExternalID) || !storable(q.Source) {
		return nil, "", nil
	}
	l := listing{tag: cursorIncidents, what: "incidents", sel: "SELECT record, opened_ns, id FROM incidents",
		nsCol: "opened_ns", idCol: "id", desc: true}
	return listPage(t, l, &sq, q.Page, scanRecord[gateway.Incident]("incident"))
}

// ---- decisions and contacts

func (t *tx) Decision(id string) (*gateway.Decision, error) {
	return getOwned[gateway.Decision](t, "decision", "decisions", id)
}

func (t *tx) PutDecision(d *gateway.Decision) error {
	if d.ID == "" {
		at := d.At
		if at.IsZero() {
			at = time.Now()
		}
		d.ID = gateway.NewID("dec", at)
	}
	if err := checkID("decision id", d.ID); err != nil {
		return err
	}
	if err := checkText("decision customer id", d.CustomerID); err != nil {
		return err
	}
	data, err := encode("decision "+d.ID, d)
	if err != nil {
		return err
	}
	return t.exec("write decision "+d.ID, `INSERT INTO decisions (id, customer_id, at_ns, record) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, at_ns = EXCLUDED.at_ns, record = EXCLUDED.record`,
		d.ID, d.CustomerID, nanos(d.At), data)
}

func (t *tx) Decisions(q gateway.DecisionQuery) ([]gateway.Decision, string, error) {
	var sq sqlQuery
	if q.CustomerID != "" {
		if !storable(q.CustomerID) {
			return nil, "", nil
		}
		sq.cond("customer_id = ?", q.CustomerID)
	}
	if !q.Since.IsZero() {
		sq.cond("at_ns >= ?", nanos(q.Since))
	}
	if !q.Until.IsZero() {
		sq.cond("at_ns < ?", nanos(q.Until))
	}
	l := listing{tag: cursorDecisions, what: "decisions", sel: "SELECT record, at_ns, id, customer_id FROM decisions",
		nsCol: "at_ns", idCol: "id", desc: true}
	return listPage(t, l, &sq, q.Page, scanOwned[gateway.Decision]("decision"))
}

func (t *tx) PutContact(c *gateway.Contact) error {
	if err := checkID("contact id", c.ID); err != nil {
		return err
	}
	if err := checkID("contact customer id", c.CustomerID); err != nil {
		return err
	}
	for kind, v := range map[string]string{"contact channel": string(c.Channel), "contact category": string(c.Category)} {
		if err := checkText(kind, v); err != nil {
			return err
		}
	}
	data, err := encode("contact "+c.ID, c)
	if err != nil {
		return err
	}
	return t.exec("write contact "+c.ID, `INSERT INTO contacts (id, customer_id, at_ns, channel, category, record)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, at_ns = EXCLUDED.at_ns,
			channel = EXCLUDED.channel, category = EXCLUDED.category, record = EXCLUDED.record`,
		c.ID, c.CustomerID, nanos(c.At), string(c.Channel), string(c.Category), data)
}

// DeleteContact releases a cap slot. Contact ids are unique on their own, so the contact is
// found by id even when the customer was merged into another since the slot was taken; a
// missing contact is not an error, so a release can be retried.
func (t *tx) DeleteContact(customerID, id string) error {
	if !storable(id) {
		return nil
	}
	return t.exec("delete contact "+id, "DELETE FROM contacts WHERE id = $1", id)
}

func (t *tx) CountContacts(customerID string, since time.Time, ch gateway.Channel, cat gateway.Category) (int, error) {
	if err := checkID("customer id", customerID); err != nil {
		return 0, err
	}
	var sq sqlQuery
	sq.cond("customer_id = ?", customerID)
	if !since.IsZero() {
		sq.cond("at_ns >= ?", nanos(since))
	}
	if ch != gateway.ChannelAny {
		sq.cond("channel = ?", string(ch))
	}
	if cat != gateway.CategoryAny {
		sq.cond("category = ?", string(cat))
	}
	if !storable(string(ch)) || !storable(string(cat)) {
		return 0, nil
	}
	var n int
	if err := t.ptx.QueryRow(t.ctx, "SELECT count(*) FROM contacts"+sq.whereClause(), sq.args...).Scan(&n); err != nil {
		return 0, t.fail("count contacts of customer "+customerID, err)
	}
	return n, nil
}

// ForEachContact walks every cap counter in id order.
func (t *tx) ForEachContact(fn func(*gateway.Contact) error) error {
	return forEachChunk(t, "contacts",
		"SELECT id, record, customer_id FROM contacts {WHERE id > $2} ORDER BY id LIMIT $1",
		func(rows pgx.Rows) (*gateway.Contact, []any, error) {
			var id, customer string
			var data []byte
			if err := rows.Scan(&id, &data, &customer); err != nil {
				return nil, nil, fmt.Errorf("read contact: %w", err)
			}
			c, err := decode[gateway.Contact](fmt.Sprintf("contact %q", id), data)
			if err != nil {
				return nil, nil, err
			}
			c.CustomerID = customer
			return c, []any{id}, nil
		}, fn)
}

// ---- dead letters and outbox

func (t *tx) DeadLetter(id string) (*gateway.DeadLetter, error) {
	return getByID[gateway.DeadLetter](t, "dead letter", "dead_letters", id)
}

func (t *tx) PutDeadLetter(d *gateway.DeadLetter) error {
	if err := checkID("dead letter id", d.ID); err != nil {
		return err
	}
	data, err := encode("dead letter "+d.ID, d)
	if err != nil {
		return err
	}
	return t.exec("write dead letter "+d.ID, `INSERT INTO dead_letters (id, received_ns, record) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET received_ns = EXCLUDED.received_ns, record = EXCLUDED.record`,
		d.ID, nanos(d.ReceivedAt), data)
}

func (t *tx) DeadLetters(p gateway.Page) ([]gateway.DeadLetter, string, error) {
	l := listing{tag: cursorDeadLetters, what: "dead letters", sel: "SELECT record, received_ns, id FROM dead_letters",
		nsCol: "received_ns", idCol: "id", desc: true}
	return listPage(t, l, &sqlQuery{}, p, scanRecord[gateway.DeadLetter]("dead letter"))
}

func (t *tx) OutboxMessage(id string) (*gateway.OutboxMessage, error) {
	return getByID[gateway.OutboxMessage](t, "outbox message", "outbox", id)
}

func (t *tx) PutOutbox(m *gateway.OutboxMessage) error {
	if err := checkID("outbox message id", m.ID); err != nil {
		return err
	}
	data, err := encode("outbox message "+m.ID, m)
	if err != nil {
		return err
	}
	return t.exec("write outbox message "+m.ID, `INSERT INTO outbox (id, created_ns, state, next_ns, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET created_ns = EXCLUDED.created_ns, state = EXCLUDED.state,
			next_ns = EXCLUDED.next_ns, record = EXCLUDED.record`,
		m.ID, nanos(m.CreatedAt), m.State(), nanos(m.NextAttempt), data)
}

func (t *tx) Outbox(q gateway.OutboxQuery) ([]gateway.OutboxMessage, string, error) {
	state := q.State
	if q.PendingOnly {
		if state != "" && state != gateway.OutboxPending {
			return nil, "", gateway.Errorf(gateway.CodeInvalid, "outbox query: PendingOnly contradicts state %q", state)
		}
		state = gateway.OutboxPending
	}
	var sq sqlQuery
	switch state {
	case "":
	case gateway.OutboxPending, gateway.OutboxDead, gateway.OutboxDelivered:
		// Literal, not a parameter, so that the partial indexes match the prepared plan.
		sq.cond("state = '" + state + "'")
	default:
		return nil, "", gateway.Errorf(gateway.CodeInvalid, "outbox state %q: want pending, delivered or dead", state)
	}
	if !q.DueBy.IsZero() {
		sq.cond("next_ns <= ?", nanos(q.DueBy))
	}
	l := listing{tag: cursorOutbox, what: "outbox", sel: "SELECT record, created_ns, id FROM outbox",
		nsCol: "created_ns", idCol: "id"}
	return listPage(t, l, &sq, q.Page, scanRecord[gateway.OutboxMessage]("outbox message"))
}

// ---- retention

// Prune deletes events, decisions with cap contacts, and deliveries older than their
// cutoffs (exclusive), and reports how many it removed. It also drops change-feed rows past
// their hour (not counted: they are not records).
func (t *tx) Prune(events, decisions, deliveries time.Time) (int, error) {
	total := 0
	del := func(what, table string, cutoff time.Time) error {
		tag, err := t.ptx.Exec(t.ctx, "DELETE FROM "+table+" WHERE at_ns < $1", nanos(cutoff))
		if err != nil {
			return t.fail("prune "+what, err)
		}
		total += int(tag.RowsAffected())
		return nil
	}
	if !events.IsZero() {
		if err := del("events", "events", events); err != nil {
			return total, err
		}
	}
	if !decisions.IsZero() {
		if err := del("decisions", "decisions", decisions); err != nil {
			return total, err
		}
		if err := del("contacts", "contacts", decisions); err != nil {
			return total, err
		}
	}
	if !deliveries.IsZero() {
		if err := del("deliveries", "deliveries", deliveries); err != nil {
			return total, err
		}
	}
	if t.write {
		if _, err := pruneChanges(t.ctx, t.ptx, changeRetention); err != nil {
			return total, err
		}
	}
	return total, nil
}
