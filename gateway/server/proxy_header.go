package server

import (
	"net/http"
	"strings"
)

// hopByHopHeaders are meaningful for one connection only (RFC 9110 §7.6.1) and never
// forwarded.
var hopByHopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"TE", "Trailer", "Transfer-Encoding", "Upgrade",
}

// forwardHeader returns h less hop-by-hop headers, those the Connection header names, and
// every Hush-* header (they are instructions to hush, not to the upstream). The caller's
// own credentials (Authorization, API keys) are kept: hush holds none of its own.
func forwardHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, name := range hopByHopHeaders {
		out.Del(name)
	}
	stripHushHeaders(out)
	return out
}

func stripHushHeaders(h http.Header) {
	for name := range h {
		if len(name) >= 5 && strings.EqualFold(name[:5], "Hush-") {
			delete(h, name)
		}
	}
}
