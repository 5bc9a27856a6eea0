package bolt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
	"time"

	"github.com/hush-gateway/hush/gateway"
	"go.etcd.io/bbolt"
)

// Key layout. Every ordered key is built from a prefix (empty, or an id followed by a NUL
// byte), 8 bytes of time whose byte order is time order, and a suffix that makes the key
// unique (a record id or a sequence number). Ids therefore may not contain NUL.

// timeBits maps t to a uint64 whose order is time order: Unix nanoseconds with the sign bit
// flipped, so that instants before 1970 sort before those after. Times outside the int64
// nanosecond range (years before 1678 or after 2262, including the zero time) are clamped.
func timeBits(t time.Time) uint64 {
	lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	var n int64
	switch {
	case t.Before(lo):
		n = math.MinInt64
	case t.After(hi):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return uint64(n) ^ 1<<63
}

// timeFromBits is the inverse of timeBits (within its range), in UTC.
func timeFromBits(b uint64) time.Time {
	return time.Unix(0, int64(b^1<<63)).UTC()
}

func timeKey(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], timeBits(t))
	return b[:]
}

func uint64Key(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// join concatenates key parts into a fresh slice.
func join(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// idPrefix is the key prefix of everything filed under id (a customer, a source).
func idPrefix(id string) []byte { return append([]byte(id), 0) }

// prefixEnd is the smallest key greater than every key starting with p; nil when there is
// none (p empty or all 0xff), which scans read as "no upper bound".
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// timeRange is the key range [lo, hi) of prefix+time keys with time in [since, until); zero
// times leave that side open.
func timeRange(prefix []byte, since, until time.Time) (lo, hi []byte) {
	lo = prefix
	if !since.IsZero() {
		lo = join(prefix, timeKey(since))
	}
	hi = prefixEnd(prefix)
	if !until.IsZero() {
		hi = join(prefix, timeKey(until))
	}
	return lo, hi
}

// checkID rejects ids that cannot be used in keys.
func checkID(kind, id string) error {
	if id == "" {
		return gateway.Errorf(gateway.CodeInvalid, "%s is empty", kind)
	}
	if strings.IndexByte(id, 0) >= 0 {
		return gateway.Errorf(gateway.CodeInvalid, "%s contains a NUL byte", kind)
	}
	return nil
}

// scanRange visits the keys of b in [lo, hi) (hi nil: no upper bound), in descending order
// when desc, resuming strictly after the key `after` in scan order when after is not nil.
// visit returns false to stop. visit must not modify b.
func scanRange(b *bbolt.Bucket, lo, hi []byte, desc bool, after []byte, visit func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if desc {
		start := hi
		if after != nil && (start == nil || bytes.Compare(after, start) < 0) {
			start = after
		}
		if start == nil {
			k, v = c.Last()
		} else if k, _ = c.Seek(start); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.Compare(k, lo) >= 0; k, v = c.Prev() {
			if more, err := visit(k, v); err != nil || !more {
				return err
			}
		}
		return nil
	}
	if after != nil && bytes.Compare(after, lo) >= 0 {
		k, v = c.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	} else {
		k, v = c.Seek(lo)
	}
	for ; k != nil && (hi == nil || bytes.Compare(k, hi) < 0); k, v = c.Next() {
		if more, err := visit(k, v); err != nil || !more {
			return err
		}
	}
	return nil
}

// A cursor is the last key of the previous page, base64url-encoded: opaque to callers and
// stable across writes (a record inserted before it does not shift the next page).
func encodeCursor(k []byte) string { return base64.RawURLEncoding.EncodeToString(k) }

func decodeCursor(s string, lo, hi []byte) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(k) == 0 || bytes.Compare(k, lo) < 0 || hi != nil && bytes.Compare(k, hi) >= 0 {
		return nil, gateway.Errorf(gateway.CodeInvalid, "cursor is not valid for this listing")
	}
	return k, nil
}

// pageScan reads one page of [lo, hi) of b. decode turns a key/value into a record, or
// reports that the entry does not match the query. The next cursor is set only when a
// further matching record exists, so the last page never comes back empty-handed with a
// cursor.
func pageScan[T any](b *bbolt.Bucket, lo, hi []byte, desc bool, p gateway.Page, decode func(k, v []byte) (*T, bool, error)) ([]T, string, error) {
	after, err := decodeCursor(p.Cursor, lo, hi)
	if err != nil {
		return nil, "", err
	}
	limit := p.Size()
	var (
		out  []T
		last []byte
		next string
	)
	err = scanRange(b, lo, hi, desc, after, func(k, v []byte) (bool, error) {
		rec, ok, err := decode(k, v)
		if err != nil || !ok {
			return true, err
		}
		if len(out) == limit {
			next = encodeCursor(last)
			return false, nil
		}
		out = append(out, *rec)
		last = append(last[:0], k...)
		return true, nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
