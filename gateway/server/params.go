package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/hush-gateway/hush/gateway"
)

// pathVar returns the unescaped route variable name. The router matches on the escaped path
// (so the proxy can inspect it), so every variable is unescaped here.
func pathVar(r *http.Request, name string) (string, error) {
	v, err := url.PathUnescape(mux.Vars(r)[name])
	if err != nil {
		return "", invalidf("the %s in the path is not validly escaped", name)
	}
	return v, nil
}

// pageParams reads ?cursor= and ?limit= (1–1000).
func pageParams(r *http.Request) (gateway.Page, error) {
	q := r.URL.Query()
	p := gateway.Page{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return p, invalidf("limit must be a whole number from 1 to 1000")
		}
		p.Limit = n
	}
	return p, nil
}

// boolParam reads ?name=true|false; absent is false.
func boolParam(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalidf("%s must be true or false", name)
	}
	return b, nil
}

// sinceParam reads ?since= as a duration back from now ("30d") or an RFC 3339 time.
func sinceParam(r *http.Request, now time.Time, fallback time.Duration) (time.Time, error) {
	s := strings.TrimSpace(r.URL.Query().Get("since"))
	if s == "" {
		return now.Add(-fallback), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := gateway.ParseDuration(s)
	if err != nil {
		return time.Time{}, invalidf("since must be a duration such as 30d or an RFC 3339 time")
	}
	return now.Add(-d), nil
}

// parseIdentityField reads an identity a caller wrote, naming field in the error.
func parseIdentityField(s, field, region string) (gateway.Identity, error) {
	if strings.TrimSpace(s) == "" {
		return "", invalidf("%s is required", field)
	}
	id, err := gateway.ParseIdentity(s, region)
	if err != nil {
		return "", invalidf("%s: %v", field, err)
	}
	return id, nil
}

func parseChannels(in []string, field string) ([]gateway.Channel, error) {
	var out []gateway.Channel
	for i, s := range in {
		c, err := gateway.ParseChannel(s, false)
		if err != nil {
			return nil, invalidf("%s[%d]: %v", field, i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseCategories(in []string, field string) ([]gateway.Category, error) {
	var out []gateway.Category
	for i, s := range in {
		c, err := gateway.ParseCategory(s, false)
		if err != nil {
			return nil, invalidf("%s[%d]: %v", field, i, err)
		}
		out = append(out, c)
	}
	return out, nil
}
