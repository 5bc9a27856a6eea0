package signature

import (
	"bytes"
	"crypto/sha256"
	"strconv"
	"testing"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// FuzzDecode: a signature header value either fails to decode or decodes to bytes that,
// encoded again, decode to the same bytes (every encoding reads what Encode writes).
func FuzzDecode(f *testing.F) {
	sig := sha256.Sum256([]byte("body"))
	for e := Hex; e <= Base64URL; e++ {
		f.Add(uint8(e), e.Encode(sig[:]))
	}
	for _, s := range []string{"", "0", "zz", "AAAA", "AAA", "A===", "-_-_", "+/+/", "YQ", "YQ=", "YQ==", " YQ=="} {
		f.Add(uint8(Base64), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		e := Encoding(which % 4) // 3 is not an encoding: an error, never a panic
		b, err := e.Decode(s)
		if err != nil {
			if b != nil {
				t.Fatalf("%v.Decode(%q) = %x with error %v", e, s, b, err)
			}
			return
		}
		if e > Base64URL {
			t.Fatalf("unknown encoding %d decoded %q", int(e), s)
		}
		again, err := e.Decode(e.Encode(b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%v: %q → %x → %q → %x (%v)", e, s, b, e.Encode(b), again, err)
		}
	})
}

// FuzzVerifyTimestamped: the timestamp-and-body scheme with any received signatures and any
// timestamp header. Errors are *gateway.VerifyError; nothing is accepted unless one of the
// received values is the real signature and the timestamp is within tolerance; the real
// signature at the right time is accepted.
func FuzzVerifyTimestamped(f *testing.F) {
	f.Add([]byte("secret"), "v0=00", "1764928800", int64(0), []byte("token=x&team_id=T1"))
	f.Add([]byte("secret"), "", "", int64(301), []byte(""))
	f.Add([]byte(""), "v0=zz", "-1", int64(-301), []byte("{}"))
	f.Add([]byte("k"), "V0=AB", "253402300800", int64(1<<40), []byte("x"))
	now := time.Unix(1_764_928_800, 0)
	const tolerance = 5 * time.Minute
	f.Fuzz(func(t *testing.T, secret []byte, received, tsHeader string, skew int64, body []byte) {
		h := HMAC{Hash: sha256.New, Encoding: Hex, Prefix: "v0="}
		ts, err := ParseUnixSeconds("X-Timestamp", tsHeader)
		if err != nil {
			if !gateway.IsVerifyError(err) {
				t.Fatalf("ParseUnixSeconds(%q): %T %v", tsHeader, err, err)
			}
			ts = now.Add(time.Duration(skew % int64(24*time.Hour)))
		}
		msg := [][]byte{[]byte("v0:" + strconv.FormatInt(ts.Unix(), 10) + ":"), body}
		err = h.VerifyTimestamped([][]byte{secret}, []string{received}, ts, now, tolerance, msg...)
		if err != nil && !gateway.IsVerifyError(err) {
			t.Fatalf("VerifyTimestamped: %T %v", err, err)
		}
		good := h.Sign(secret, msg...)
		fresh := CheckTimestamp(ts, now, tolerance) == nil
		if err == nil && (len(secret) == 0 || !fresh || h.Verify(secret, received, msg...) != nil) {
			t.Fatalf("accepted %q at %v (fresh %v), the signature is %q", received, ts, fresh, good)
		}
		if len(secret) > 0 && fresh {
			if err := h.VerifyTimestamped([][]byte{secret}, []string{received, good}, ts, now, tolerance, msg...); err != nil {
				t.Fatalf("the real signature among others was refused: %v", err)
			}
		}
	})
}
