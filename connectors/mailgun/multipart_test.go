package mailgun

import (
	"strings"
	"testing"
)

func TestSplitMultipart(t *testing.T) {
	const (
		a = "Content-Disposition: form-data; name=\"a\"\r\n\r\nA"
		b = "Content-Disposition: form-data; name=\"b\"\r\nX-Extra: 1\r\n\r\nB\r\n--XyZfoo is not a delimiter\r\n"
		c = "\r\nno headers"
	)
	body := "preamble line\r\n--XyZ\r\n" + a + "\r\n--XyZ \t\r\n" + b + "\r\n--XyZ\r\n" + c + "\r\n--XyZ--\r\nepilogue\r\n"
	m, err := splitMultipart([]byte(body), "XyZ")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.parts) != 3 || m.parts[0].name != "a" || m.parts[1].name != "b" || m.parts[2].name != "" {
		t.Fatalf("parts: %+v", m.parts)
	}
	if string(m.parts[1].content()) != "B\r\n--XyZfoo is not a delimiter\r\n" || string(m.parts[2].content()) != "no headers" {
		t.Errorf("contents %q %q", m.parts[1].content(), m.parts[2].content())
	}
	tests := []struct {
		name    string
		replace map[int][]byte
		drop    map[int]bool
		want    string
	}{
		{"unchanged", nil, nil, body},
		{"first dropped: its delimiter goes with it",
			nil, map[int]bool{0: true}, "preamble line\r\n--XyZ\r\n" + b + "\r\n--XyZ\r\n" + c + "\r\n--XyZ--\r\nepilogue\r\n"},
		{"middle dropped",
			nil, map[int]bool{1: true}, "preamble line\r\n--XyZ\r\n" + a + "\r\n--XyZ\r\n" + c + "\r\n--XyZ--\r\nepilogue\r\n"},
		{"last dropped: the padded delimiter before it stays",
			nil, map[int]bool{2: true}, "preamble line\r\n--XyZ\r\n" + a + "\r\n--XyZ \t\r\n" + b + "\r\n--XyZ--\r\nepilogue\r\n"},
		{"content replaced, headers kept",
			map[int][]byte{1: []byte("new")}, nil, strings.Replace(body, "B\r\n--XyZfoo is not a delimiter\r\n", "new", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := m.join(tt.replace, tt.drop)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %q\nwant %q", out, tt.want)
			}
		})
	}
	if _, err := m.join(nil, map[int]bool{0: true, 1: true, 2: true}); err == nil {
		t.Error("a body without parts was written")
	}
	for _, v := range []string{"x\r\n--XyZ\r\ny", "--XyZ--"} {
		if _, err := m.join(map[int][]byte{0: []byte(v)}, nil); err == nil {
			t.Errorf("content %q with a delimiter was written", v)
		}
	}
}

func TestSplitMultipartErrors(t *testing.T) {
	part := "--XyZ\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\na@x.com\r\n"
	tests := []struct{ name, body, boundary, err string }{
		{"no boundary parameter", part + "--XyZ--", "", "not a valid multipart"},
		{"no opening delimiter", "to=a@x.com", "XyZ", "no opening boundary"},
		{"only a closing delimiter", "--XyZ--\r\n", "XyZ", "no part"},
		{"not closed", part, "XyZ", "no closing boundary"},
		{"headers never end", "--XyZ\r\nContent-Disposition: form-data; name=\"to\"\r\n--XyZ--", "XyZ", "no end of headers"},
		{"LF line ends", strings.ReplaceAll(part+"--XyZ--", "\r\n", "\n"), "XyZ", "multipart"},
		{"broken part headers", "--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--", "XyZ", "not a valid multipart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := splitMultipart([]byte(tt.body), tt.boundary)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestSplitAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []string // text|address
		err  bool
	}{
		{"ana@x.com", []string{"ana@x.com|ana@x.com"}, false},
		{` "Doe, Jane" <jane@x.com> ,bob@x.com,`, []string{`"Doe, Jane" <jane@x.com>|jane@x.com`, "bob@x.com|bob@x.com"}, false},
		{"Ana (work, main) <ana@x.com>, b@x.com", []string{"Ana (work, main) <ana@x.com>|ana@x.com", "b@x.com|b@x.com"}, false},
		{`"a\"b, c" <q@x.com>`, []string{`"a\"b, c" <q@x.com>|q@x.com`}, false},
		{"=?utf-8?q?Jos=C3=A9?= <jose@x.com>", []string{"=?utf-8?q?Jos=C3=A9?= <jose@x.com>|jose@x.com"}, false},
		{"", nil, false},
		{" , ", nil, false},
		{"%recipient.email%", nil, true},
		{"friends: a@x.com, b@x.com;", nil, true},
		{`"unclosed <a@x.com>`, nil, true},
		{"<a@x.com", nil, true},
	}
	for _, tt := range tests {
		got, err := splitAddressList(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.text+"|"+p.address)
		}
		if strings.Join(s, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%q: %q, want %q", tt.in, s, tt.want)
		}
	}
}
