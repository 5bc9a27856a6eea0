package postgres

import (
	"errors"
	"fmt"

	"github.com/hush-gateway/hush/gateway"
	"github.com/jackc/pgx/v5"
)

// The suppression-list ledger (gateway.SuppressionEntry): keyed by (upstream, address),
// listed in address order. It outlives the customer: DeleteCustomer, MergeCustomers and
// Prune leave it alone, because hush must still take its own entries off the vendor's list
// after an erasure.

func (t *tx) SuppressionEntry(upstream, address string) (*gateway.SuppressionEntry, error) {
	// The address is personal data: messages name only the upstream.
	what := fmt.Sprintf("suppression entry on %q", upstream)
	if !storable(upstream) || !storable(address) {
		return nil, fmt.Errorf("%s: %w", what, gateway.ErrNotFound)
	}
	data, err := t.getRecord(what, "SELECT record FROM suppression_entries WHERE upstream = $1 AND address = $2", upstream, address)
	if err != nil {
		return nil, err
	}
	return decode[gateway.SuppressionEntry](what, data)
}

// PutSuppressionEntry inserts or replaces the entry of (e.Upstream, e.Address).
func (t *tx) PutSuppressionEntry(e *gateway.SuppressionEntry) error {
	for _, f := range []struct{ kind, v string }{
		{"suppression entry upstream", e.Upstream},
		{"suppression entry address", e.Address},
		{"suppression entry customer id", e.CustomerID},
	} {
		if err := checkID(f.kind, f.v); err != nil {
			return err
		}
	}
	data, err := encode("suppression entry on "+e.Upstream, e)
	if err != nil {
		return err
	}
	return t.exec("write suppression entry on "+e.Upstream, `INSERT INTO suppression_entries (upstream, address, customer_id, record)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (upstream, address) DO UPDATE SET customer_id = EXCLUDED.customer_id, record = EXCLUDED.record`,
		e.Upstream, e.Address, e.CustomerID, data)
}

// DeleteSuppressionEntry forgets an entry; a missing one is not an error.
func (t *tx) DeleteSuppressionEntry(upstream, address string) error {
	if !storable(upstream) || !storable(address) {
		return nil
	}
	return t.exec("delete suppression entry on "+upstream,
		"DELETE FROM suppression_entries WHERE upstream = $1 AND address = $2", upstream, address)
}

// SuppressionEntries lists one upstream's entries (of one customer, if given) in address
// order.
func (t *tx) SuppressionEntries(q gateway.SuppressionQuery) ([]gateway.SuppressionEntry, string, error) {
	if err := checkID("suppression query upstream", q.Upstream); err != nil {
		return nil, "", err
	}
	var sq sqlQuery
	sq.cond("upstream = ?", q.Upstream)
	if q.CustomerID != "" {
		if err := checkID("suppression query customer id", q.CustomerID); err != nil {
			return nil, "", err
		}
		sq.cond("customer_id = ?", q.CustomerID)
	}
	after, ok, err := decodeAddressCursor(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	if ok {
		sq.cond("address > ?", after)
	}
	limit := q.Page.Size()
	sql := "SELECT address, record FROM suppression_entries" + sq.whereClause() + " ORDER BY address LIMIT " + sq.arg(limit+1)
	rows, err := t.ptx.Query(t.ctx, sql, sq.args...)
	if err != nil {
		return nil, "", t.fail("list suppression entries on "+q.Upstream, err)
	}
	defer rows.Close()
	var out []gateway.SuppressionEntry
	var last []string
	for rows.Next() {
		var (
			address string
			data    []byte
		)
		if err := rows.Scan(&address, &data); err != nil {
			return nil, "", fmt.Errorf("read suppression entry on %s: %w", q.Upstream, err)
		}
		e, err := decode[gateway.SuppressionEntry]("suppression entry on "+q.Upstream, data)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *e)
		last = append(last, address)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, "", t.fail("list suppression entries on "+q.Upstream, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeAddressCursor(last[limit-1])
	}
	return out, next, nil
}

// ForEachSuppressionEntry walks the whole ledger in (upstream, address) order.
func (t *tx) ForEachSuppressionEntry(fn func(*gateway.SuppressionEntry) error) error {
	return forEachChunk(t, "suppression entries",
		"SELECT upstream, address, record FROM suppression_entries {WHERE (upstream, address) > ($2, $3)} ORDER BY upstream, address LIMIT $1",
		func(rows pgx.Rows) (*gateway.SuppressionEntry, []any, error) {
			var (
				upstream, address string
				data              []byte
			)
			if err := rows.Scan(&upstream, &address, &data); err != nil {
				return nil, nil, fmt.Errorf("read suppression entry: %w", err)
			}
			e, err := decode[gateway.SuppressionEntry]("suppression entry on "+upstream, data)
			return e, []any{upstream, address}, err
		}, fn)
}
