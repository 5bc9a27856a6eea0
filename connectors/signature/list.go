package signature

import (
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// Entry is one signature of a list header: its version tag ("v1", "v0", "t" for Stripe's
// timestamp) and its value as written.
type Entry struct {
	Version string
	Value   string
}

// ParseList reads a header that carries several versioned signatures, so that a sender can
// rotate its secret and sign with both. Two spellings exist in the wild and both are read:
//
//	"v1,abc v1,def"      Standard Webhooks: space-separated, comma between version and value
//	"v1=abc,v1=def"      Stripe and others: comma-separated, '=' between version and value
//
// Values may contain '=' (base64 padding); only the first separator splits. Entries without
// a separator are malformed. An empty header is a missing header.
func ParseList(header string) ([]Entry, error) {
	var out []Entry
	for _, field := range strings.Fields(header) {
		comma := strings.IndexByte(field, ',')
		eq := strings.IndexByte(field, '=')
		if eq > 0 && (comma < 0 || eq < comma) {
			// key=value pairs separated by commas.
			for _, pair := range strings.Split(field, ",") {
				if pair == "" {
					continue
				}
				k, v, ok := strings.Cut(pair, "=")
				if !ok || k == "" || v == "" {
					return nil, malformedList()
				}
				out = append(out, Entry{Version: k, Value: v})
			}
			continue
		}
		k, v, ok := strings.Cut(field, ",")
		if !ok || k == "" || v == "" {
			return nil, malformedList()
		}
		out = append(out, Entry{Version: k, Value: v})
	}
	if len(out) == 0 {
		return nil, &gateway.VerifyError{Reason: gateway.VerifyMissingHeader, Detail: "signature header is empty"}
	}
	return out, nil
}

func malformedList() error {
	return &gateway.VerifyError{Reason: gateway.VerifyMalformedHeader,
		Detail: `signature list is not "version,value" nor "version=value" entries`}
}

// Values returns the values of the entries with the given version, in order.
func Values(entries []Entry, version string) []string {
	var out []string
	for _, e := range entries {
		if e.Version == version {
			out = append(out, e.Value)
		}
	}
	return out
}
