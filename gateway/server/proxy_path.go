package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
)

// proxyPath returns the part of the request path after /proxy/{upstream}, raw (as the caller
// escaped it) and decoded, after refusing every trick that could step outside the upstream's
// base path or reach another host: ".." and "." segments (raw, percent-encoded or encoded
// twice), empty segments ("//", which also catches /proxy/x/http://evil), backslashes and
// control characters.
func proxyPath(r *http.Request) (raw, decoded string, err error) {
	escaped := r.URL.EscapedPath()
	prefix := "/proxy/" + mux.Vars(r)["upstream"]
	rest, ok := strings.CutPrefix(escaped, prefix)
	if !ok {
		return "", "", invalidf("the proxy path is malformed")
	}
	if rest == "" {
		rest = "/"
	}
	if !strings.HasPrefix(rest, "/") {
		return "", "", invalidf("the proxy path is malformed")
	}
	if err := checkProxyPath(rest); err != nil {
		return "", "", err
	}
	decoded, _ = url.PathUnescape(rest) // checkProxyPath unescaped it already
	return rest, decoded, nil
}

func checkProxyPath(rest string) error {
	refuse := invalidf("the proxy path may not contain '..' or '.' segments, empty segments, absolute URLs, backslashes or control characters")
	if strings.ContainsRune(rest, '\\') || strings.Contains(strings.ToLower(rest), "%5c") {
		return refuse
	}
	decoded, err := url.PathUnescape(rest)
	if err != nil {
		return invalidf("the proxy path is not validly percent-encoded")
	}
	// A second decoding catches %252e%252e, which an upstream that decodes twice would read
	// as "..".
	twice, err := url.PathUnescape(decoded)
	if err != nil {
		twice = decoded
	}
	for _, p := range []string{rest, decoded, twice} {
		if strings.Contains(p, "//") || strings.ContainsRune(p, '\\') {
			return refuse
		}
		for _, seg := range strings.Split(p, "/") {
			// "..;x" is ".." to upstreams that drop path parameters (Tomcat, Spring).
			name, _, _ := strings.Cut(seg, ";")
			if name == "." || name == ".." {
				return refuse
			}
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] == 0x7f {
				return refuse
			}
		}
	}
	return nil
}

// proxyTarget is the upstream's base URL joined with the checked path and the caller's query.
func proxyTarget(base *url.URL, rawRest, rest, rawQuery string) *url.URL {
	target := *base
	target.User = nil
	target.Fragment, target.RawFragment = "", ""
	target.Path = strings.TrimSuffix(base.Path, "/") + rest
	target.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + rawRest
	if target.RawPath == (&url.URL{Path: target.Path}).EscapedPath() {
		target.RawPath = ""
	}
	target.RawQuery = rawQuery
	return &target
}
