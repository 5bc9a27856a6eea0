package postgres

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hush-gateway/hush/gateway"
)

// nanos is the *_ns column value of t: Unix nanoseconds, clamped to the int64 range as
// bbolt's timeBits clamps (years before 1678 or after 2262, including the zero time), so
// that both back ends order and bound listings alike.
func nanos(t time.Time) int64 {
	lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	switch {
	case t.Before(lo):
		return math.MinInt64
	case t.After(hi):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nanosOrNull is nanos of an optional time (NULL when nil).
func nanosOrNull(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	n := nanos(*t)
	return &n
}

// checkID rejects ids that cannot be stored: empty, or holding a NUL byte (PostgreSQL text
// cannot) or invalid UTF-8.
func checkID(kind, id string) error {
	if id == "" {
		return gateway.Errorf(gateway.CodeInvalid, "%s is empty", kind)
	}
	return checkText(kind, id)
}

// checkText rejects strings PostgreSQL text cannot hold.
func checkText(kind, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return gateway.Errorf(gateway.CodeInvalid, "%s contains a NUL byte", kind)
	}
	if !utf8.ValidString(s) {
		return gateway.Errorf(gateway.CodeInvalid, "%s is not valid UTF-8", kind)
	}
	return nil
}

// storable reports whether s can be a text parameter: lookups of a string that cannot be
// stored answer "not found" without asking the database.
func storable(s string) bool { return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) }

// A cursor is the sort key of the last record of the previous page, base64url-encoded
// behind one byte naming the listing (so a cursor of another listing is refused):
//
//	time-ordered listings: tag, 8 bytes of *_ns (big-endian), the id (an event: its seq,
//	                       8 bytes big-endian)
//	suppression entries:   tag, the address
//
// Like bbolt's, it is stable across writes: a record inserted before it does not shift the
// next page.
const (
	cursorEvents      byte = 'e'
	cursorSilences    byte = 's'
	cursorOptOuts     byte = 'o'
	cursorIncidents   byte = 'i'
	cursorDecisions   byte = 'd'
	cursorDeadLetters byte = 'l'
	cursorOutbox      byte = 'x'
	cursorSuppression byte = 'p'
)

// sortKey is where a record sits in a listing.
type sortKey struct {
	ns int64
	id string
}

func encodeCursor(tag byte, k sortKey) string {
	b := make([]byte, 0, 9+len(k.id))
	b = append(b, tag)
	b = binary.BigEndian.AppendUint64(b, uint64(k.ns))
	b = append(b, k.id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func errBadCursor() error {
	return gateway.Errorf(gateway.CodeInvalid, "cursor is not valid for this listing")
}

// decodeCursor reads a time-ordered listing's cursor; ok is false for "" (first page).
// The id part is checked by the caller (an event's is a binary seq).
func decodeCursor(tag byte, s string) (k sortKey, ok bool, err error) {
	if s == "" {
		return sortKey{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 10 || b[0] != tag {
		return sortKey{}, false, errBadCursor()
	}
	return sortKey{ns: int64(binary.BigEndian.Uint64(b[1:9])), id: string(b[9:])}, true, nil
}

func seqCursorID(seq int64) string {
	return string(binary.BigEndian.AppendUint64(nil, uint64(seq)))
}

func seqFromCursorID(id string) (int64, bool) {
	if len(id) != 8 {
		return 0, false
	}
	v := binary.BigEndian.Uint64([]byte(id))
	return int64(v), v <= math.MaxInt64
}

func encodeAddressCursor(address string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{cursorSuppression}, address...))
}

func decodeAddressCursor(s string) (address string, ok bool, err error) {
	if s == "" {
		return "", false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != cursorSuppression || !storable(string(b[1:])) {
		return "", false, errBadCursor()
	}
	return string(b[1:]), true, nil
}

// sqlQuery builds a statement with optional conditions. Each variant is one SQL text, so
// pgx's statement cache prepares it once per connection.
type sqlQuery struct {
	where []string
	args  []any
}

// cond adds a condition; each ? in it takes the next of vals as a parameter.
func (q *sqlQuery) cond(expr string, vals ...any) {
	var b strings.Builder
	i := 0
	for _, r := range expr {
		if r == '?' && i < len(vals) {
			q.args = append(q.args, vals[i])
			i++
			b.WriteString("$" + strconv.Itoa(len(q.args)))
			continue
		}
		b.WriteRune(r)
	}
	q.where = append(q.where, b.String())
}

// arg adds a parameter and returns its placeholder.
func (q *sqlQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *sqlQuery) whereClause() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}
