package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

// requestEncoding is how a proxied request body is compressed: "" (identity), "gzip", or an
// encoding hush does not read.
func requestEncoding(h http.Header) string {
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding")))
	if enc == "identity" {
		return ""
	}
	return enc
}

// decodeBody returns the body a connector reads: gzip is decompressed (at most limit bytes,
// so a small compressed body cannot expand without bound), identity is returned as is. ok
// is false for an encoding hush does not read; the body is then returned untouched.
func decodeBody(enc string, body []byte, limit int64) (plain []byte, ok bool, err error) {
	switch enc {
	case "":
		return body, true, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, true, gateway.Errorf(gateway.CodeInvalid, "the request says Content-Encoding: gzip but its body is not gzip")
		}
		plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, true, gateway.Errorf(gateway.CodeInvalid, "the gzip request body is corrupt")
		}
		if int64(len(plain)) > limit {
			return nil, true, gateway.Errorf(gateway.CodeTooLarge, "the request body is larger than %d bytes once decompressed", limit)
		}
		return plain, true, nil
	default:
		return body, false, nil
	}
}

// encodeBody compresses a rewritten body the way the caller compressed the original.
func encodeBody(enc string, plain []byte) ([]byte, error) {
	switch enc {
	case "":
		return plain, nil
	case "gzip", "x-gzip":
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(plain); err != nil {
			return nil, fmt.Errorf("gzip the rewritten body: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("gzip the rewritten body: %w", err)
		}
		return buf.Bytes(), nil
	}
	return nil, errors.New("cannot encode a body as " + enc)
}
