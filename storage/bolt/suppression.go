package bolt

import (
	"encoding/json"
	"fmt"

	"github.com/hush-gateway/hush/gateway"
	"go.etcd.io/bbolt"
)

// The suppression-list ledger (gateway.SuppressionEntry). It is not a table: entries have no
// id of their own and no time order; they are keyed by what identifies them and listed in
// address order.
//
// suppression:             upstream NUL address               → entry JSON
// suppression_by_customer: upstream NUL customer NUL address → (empty)
//
// Upstream, customer id and address may not contain NUL, so both keys split unambiguously.
// The ledger outlives the customer: DeleteCustomer, MergeCustomers and Prune leave it alone,
// because hush must still take its own entries off the vendor's list after an erasure.

func suppressionKey(upstream, address string) []byte {
	return join(idPrefix(upstream), []byte(address))
}

// suppressionCustomerPrefix is the index prefix of one customer's entries on one upstream.
func suppressionCustomerPrefix(upstream, customer string) []byte {
	return join(idPrefix(upstream), idPrefix(customer))
}

func suppressionCustomerKey(upstream, customer, address string) []byte {
	return join(suppressionCustomerPrefix(upstream, customer), []byte(address))
}

func (t *tx) SuppressionEntry(upstream, address string) (*gateway.SuppressionEntry, error) {
	v := t.bucket(bucketSuppression).Get(suppressionKey(upstream, address))
	if v == nil {
		// The address is personal data: the message names only the upstream.
		return nil, fmt.Errorf("suppression entry on %q: %w", upstream, gateway.ErrNotFound)
	}
	return decodeSuppressionEntry(upstream, v)
}

func decodeSuppressionEntry(upstream string, v []byte) (*gateway.SuppressionEntry, error) {
	e := new(gateway.SuppressionEntry)
	if err := json.Unmarshal(v, e); err != nil {
		return nil, fmt.Errorf("decode suppression entry on %q: %w", upstream, err)
	}
	return e, nil
}

// PutSuppressionEntry inserts or replaces the entry of (e.Upstream, e.Address), moving its
// index entry when the customer changed.
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
	old, err := t.SuppressionEntry(e.Upstream, e.Address)
	switch {
	case err == nil:
		if old.CustomerID != e.CustomerID {
			if err := t.bucket(bucketSuppressionByCustomer).Delete(suppressionCustomerKey(old.Upstream, old.CustomerID, old.Address)); err != nil {
				return fmt.Errorf("unindex suppression entry on %s: %w", e.Upstream, err)
			}
		}
	case !isNotFound(err):
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode suppression entry on %s: %w", e.Upstream, err)
	}
	if err := t.bucket(bucketSuppression).Put(suppressionKey(e.Upstream, e.Address), data); err != nil {
		return fmt.Errorf("write suppression entry on %s: %w", e.Upstream, err)
	}
	if err := t.bucket(bucketSuppressionByCustomer).Put(suppressionCustomerKey(e.Upstream, e.CustomerID, e.Address), nil); err != nil {
		return fmt.Errorf("index suppression entry on %s: %w", e.Upstream, err)
	}
	return nil
}

// DeleteSuppressionEntry forgets an entry; a missing one is not an error, so a sync job that
// ran twice changes nothing the second time.
func (t *tx) DeleteSuppressionEntry(upstream, address string) error {
	old, err := t.SuppressionEntry(upstream, address)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := t.bucket(bucketSuppressionByCustomer).Delete(suppressionCustomerKey(old.Upstream, old.CustomerID, old.Address)); err != nil {
		return fmt.Errorf("unindex suppression entry on %s: %w", upstream, err)
	}
	if err := t.bucket(bucketSuppression).Delete(suppressionKey(upstream, address)); err != nil {
		return fmt.Errorf("delete suppression entry on %s: %w", upstream, err)
	}
	return nil
}

// SuppressionEntries lists one upstream's entries in address order; with a customer, it
// reads that customer's range of the index instead of every entry of the upstream.
func (t *tx) SuppressionEntries(q gateway.SuppressionQuery) ([]gateway.SuppressionEntry, string, error) {
	if err := checkID("suppression query upstream", q.Upstream); err != nil {
		return nil, "", err
	}
	if q.CustomerID == "" {
		prefix := idPrefix(q.Upstream)
		return pageScan(t.bucket(bucketSuppression), prefix, prefixEnd(prefix), false, q.Page, func(_, v []byte) (*gateway.SuppressionEntry, bool, error) {
			e, err := decodeSuppressionEntry(q.Upstream, v)
			return e, err == nil, err
		})
	}
	if err := checkID("suppression query customer id", q.CustomerID); err != nil {
		return nil, "", err
	}
	prefix := suppressionCustomerPrefix(q.Upstream, q.CustomerID)
	entries := t.bucket(bucketSuppression)
	return pageScan(t.bucket(bucketSuppressionByCustomer), prefix, prefixEnd(prefix), false, q.Page, func(k, _ []byte) (*gateway.SuppressionEntry, bool, error) {
		v := entries.Get(suppressionKey(q.Upstream, string(k[len(prefix):])))
		if v == nil {
			return nil, false, fmt.Errorf("suppression index of %s names a missing entry", q.Upstream)
		}
		e, err := decodeSuppressionEntry(q.Upstream, v)
		return e, err == nil, err
	})
}

// createSuppressionBuckets is schema migration 3: the ledger's buckets, empty.
func createSuppressionBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketSuppression, bucketSuppressionByCustomer} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// ForEachSuppressionEntry walks the ledger in key order (upstream, then address). fn must
// not write the ledger.
func (t *tx) ForEachSuppressionEntry(fn func(*gateway.SuppressionEntry) error) error {
	return scanRange(t.bucket(bucketSuppression), nil, nil, false, nil, func(k, v []byte) (bool, error) {
		e := new(gateway.SuppressionEntry)
		if err := json.Unmarshal(v, e); err != nil {
			return false, fmt.Errorf("decode suppression entry: %w", err)
		}
		return true, fn(e)
	})
}
