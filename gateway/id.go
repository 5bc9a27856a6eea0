package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix + "_" + a ULID-shaped id: 48 bits of milliseconds then 80 random bits,
// in Crockford base32, so ids sort by creation time. prefix names the kind ("sil", "opt").
func NewID(prefix string, t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand never fails on supported platforms
	return encodeID(prefix, b)
}

// StableID is NewID with the random part replaced by a hash of key: the same prefix, time
// and key always give the same id. It names a record that must be written at most once (a
// sync job scheduled for a silence's end) so that writing it again finds the first.
func StableID(prefix string, t time.Time, key string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	sum := sha256.Sum256([]byte(key))
	copy(b[6:], sum[:10])
	return encodeID(prefix, b)
}

func encodeID(prefix string, b [16]byte) string {
	out := make([]byte, 0, len(prefix)+1+26)
	if prefix != "" {
		out = append(out, prefix...)
		out = append(out, '_')
	}
	// 128 bits → 26 base32 characters, most significant first.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift+5 > 64:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		out = append(out, crockford[v&31])
	}
	return string(out)
}
