package server_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleClient is a browser for the console: it keeps cookies, does not follow redirects
// (so a test can assert a 303 and its Location), and posts forms with the CSRF token of the
// last page it read.
type consoleClient struct {
	t      *testing.T
	h      *harness
	client *http.Client
	// acceptLanguage is sent with every request ("": none, the console's default language).
	acceptLanguage string
	// csrf is the value of the last `name="csrf"` hidden input the client read.
	csrf string
}

// consoleResponse is one answer of the console, read whole.
type consoleResponse struct {
	status int
	body   string
	header http.Header
}

// location is the answer's Location header (a redirect's target).
func (r consoleResponse) location() string { return r.header.Get("Location") }

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// consoleAnon is a browser that has not signed in.
func (h *harness) consoleAnon(t *testing.T) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleClient{t: t, h: h, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// console is a browser signed in with token through the real sign-in form.
func (h *harness) console(t *testing.T, token string) *consoleClient {
	t.Helper()
	c := h.consoleAnon(t)
	if res := c.signin(token, ""); res.status != http.StatusSeeOther {
		t.Fatalf("signing in to the console: %d %s", res.status, res.body)
	}
	return c
}

// signin reads the sign-in form and posts token (and next, when not empty) through it.
func (c *consoleClient) signin(token, next string) consoleResponse {
	c.t.Helper()
	path := "/console/signin"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	if res := c.get(path); res.status != http.StatusOK {
		c.t.Fatalf("sign-in form: %d %s", res.status, res.body)
	}
	form := url.Values{"token": {token}}
	if next != "" {
		form.Set("next", next)
	}
	return c.post("/console/signin", form)
}

// get reads path.
func (c *consoleClient) get(path string) consoleResponse {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.h.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(req)
}

// post sends form to path, with the CSRF token of the last page read unless form has one.
func (c *consoleClient) post(path string, form url.Values) consoleResponse {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form = cloneValues(form)
		form.Set("csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.h.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.send(req)
}

// setLang chooses the console's language through the language switch.
func (c *consoleClient) setLang(lang string) {
	c.t.Helper()
	res := c.get("/console/lang?to=" + url.QueryEscape(lang) + "&back=%2Fconsole%2F")
	if res.status != http.StatusSeeOther {
		c.t.Fatalf("switching the language to %s: %d %s", lang, res.status, res.body)
	}
}

func (c *consoleClient) send(req *http.Request) consoleResponse {
	c.t.Helper()
	if c.acceptLanguage != "" {
		req.Header.Set("Accept-Language", c.acceptLanguage)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	res := consoleResponse{status: resp.StatusCode, body: string(b), header: resp.Header}
	if m := csrfInput.FindStringSubmatch(res.body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return res
}

// cookie is the value of the client's cookie named name ("" when it has none).
func (c *consoleClient) cookie(name string) string {
	u, _ := url.Parse(c.h.srv.URL)
	for _, ck := range c.client.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
