package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"go.etcd.io/bbolt"
)

// table stores records of one kind as JSON by id, and keeps ordered indexes of them. Every
// index key is prefix + 8 bytes of time + id, so listings can be range scans that recover
// the id from the key, and Put can find and drop an index entry when a record changes.
type table[T any] struct {
	kind    string // "silence", for messages
	bucket  []byte
	id      func(*T) *string
	indexes []index[T]
	// customer points at the record's CustomerID field (nil for kinds that have none); with
	// byCustomer (an entry of indexes) it lets merges and erasure find a customer's records.
	customer   func(*T) *string
	byCustomer int
}

type index[T any] struct {
	bucket []byte
	// entry reports where the record sits in the index; ok false leaves it out.
	entry func(*T) (prefix []byte, at time.Time, ok bool)
	// value, if set, is stored with the entry so that scans can read it without loading
	// the record (contacts keep channel and category there for cap counting).
	value func(*T) []byte
}

func (ix *index[T]) key(rec *T, id string) ([]byte, bool) {
	prefix, at, ok := ix.entry(rec)
	if !ok {
		return nil, false
	}
	return join(prefix, timeKey(at), []byte(id)), true
}

// idFromKey recovers the id from an index key read under prefix.
func idFromKey(k []byte, prefixLen int) string { return string(k[prefixLen+8:]) }

func (t *table[T]) get(tx *bbolt.Tx, id string) (*T, error) {
	v := tx.Bucket(t.bucket).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%s %q: %w", t.kind, id, gateway.ErrNotFound)
	}
	rec := new(T)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("decode %s %q: %w", t.kind, id, err)
	}
	return rec, nil
}

// put inserts or replaces rec, moving its index entries if their keys changed.
func (t *table[T]) put(tx *bbolt.Tx, rec *T) error {
	id := *t.id(rec)
	if err := checkID(t.kind+" id", id); err != nil {
		return err
	}
	// Most puts are of new records (decisions, contacts, events): look before decoding, so
	// that they cost one lookup and no error value.
	if raw := tx.Bucket(t.bucket).Get([]byte(id)); raw != nil {
		old := new(T)
		if err := json.Unmarshal(raw, old); err != nil {
			return fmt.Errorf("decode %s %q: %w", t.kind, id, err)
		}
		if err := t.unindex(tx, old, id); err != nil {
			return err
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", t.kind, id, err)
	}
	if err := tx.Bucket(t.bucket).Put([]byte(id), data); err != nil {
		return fmt.Errorf("write %s %q: %w", t.kind, id, err)
	}
	for i := range t.indexes {
		ix := &t.indexes[i]
		k, ok := ix.key(rec, id)
		if !ok {
			continue
		}
		var v []byte
		if ix.value != nil {
			v = ix.value(rec)
		}
		if err := tx.Bucket(ix.bucket).Put(k, v); err != nil {
			return fmt.Errorf("index %s %q: %w", t.kind, id, err)
		}
	}
	return nil
}

func (t *table[T]) unindex(tx *bbolt.Tx, rec *T, id string) error {
	for i := range t.indexes {
		ix := &t.indexes[i]
		if k, ok := ix.key(rec, id); ok {
			if err := tx.Bucket(ix.bucket).Delete(k); err != nil {
				return fmt.Errorf("unindex %s %q: %w", t.kind, id, err)
			}
		}
	}
	return nil
}

// delete removes the record and its index entries; a missing record is not an error.
func (t *table[T]) delete(tx *bbolt.Tx, id string) error {
	rec, err := t.get(tx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := t.unindex(tx, rec, id); err != nil {
		return err
	}
	return tx.Bucket(t.bucket).Delete([]byte(id))
}

// list reads one page of the index ix under prefix with times in [since, until), keeping the
// records keep accepts (keep nil: all).
func (t *table[T]) list(tx *bbolt.Tx, ix *index[T], prefix []byte, since, until time.Time, desc bool, p gateway.Page, keep func(*T) bool) ([]T, string, error) {
	lo, hi := timeRange(prefix, since, until)
	return pageScan(tx.Bucket(ix.bucket), lo, hi, desc, p, func(k, _ []byte) (*T, bool, error) {
		rec, err := t.get(tx, idFromKey(k, len(prefix)))
		if err != nil {
			return nil, false, err
		}
		return rec, keep == nil || keep(rec), nil
	})
}

// customerIDs lists the ids of every record filed under customer.
func (t *table[T]) customerIDs(tx *bbolt.Tx, customer string) ([]string, error) {
	prefix := idPrefix(customer)
	var ids []string
	err := scanRange(tx.Bucket(t.indexes[t.byCustomer].bucket), prefix, prefixEnd(prefix), false, nil, func(k, _ []byte) (bool, error) {
		ids = append(ids, idFromKey(k, len(prefix)))
		return true, nil
	})
	return ids, err
}

// moveCustomer refiles every record of customer from under customer into.
func (t *table[T]) moveCustomer(tx *bbolt.Tx, from, into string) error {
	ids, err := t.customerIDs(tx, from)
	if err != nil {
		return err
	}
	for _, id := range ids {
		rec, err := t.get(tx, id)
		if err != nil {
			return err
		}
		*t.customer(rec) = into
		if err := t.put(tx, rec); err != nil {
			return err
		}
	}
	return nil
}

// deleteCustomer removes every record of customer.
func (t *table[T]) deleteCustomer(tx *bbolt.Tx, customer string) error {
	ids, err := t.customerIDs(tx, customer)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := t.delete(tx, id); err != nil {
			return err
		}
	}
	return nil
}

// pruneBefore deletes the records whose entry in the global index ix (empty prefix) is
// before cutoff, and reports how many it removed.
func (t *table[T]) pruneBefore(tx *bbolt.Tx, ix *index[T], cutoff time.Time) (int, error) {
	hi := timeKey(cutoff)
	var ids []string
	err := scanRange(tx.Bucket(ix.bucket), nil, hi, false, nil, func(k, _ []byte) (bool, error) {
		ids = append(ids, idFromKey(k, 0))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := t.delete(tx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// pruneCustomerIndexBefore deletes the records whose entry in the per-customer index is
// before cutoff (keys: customer NUL time id).
func (t *table[T]) pruneCustomerIndexBefore(tx *bbolt.Tx, cutoff time.Time) (int, error) {
	limit := timeKey(cutoff)
	var ids []string
	err := scanRange(tx.Bucket(t.indexes[t.byCustomer].bucket), nil, nil, false, nil, func(k, _ []byte) (bool, error) {
		nul := bytes.IndexByte(k, 0)
		if nul >= 0 && len(k) >= nul+9 && bytes.Compare(k[nul+1:nul+9], limit) < 0 {
			ids = append(ids, idFromKey(k, nul+1))
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := t.delete(tx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
