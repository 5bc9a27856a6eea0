package mailgun

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strings"
)

// rawMultipart is a multipart/form-data body cut into its bytes: everything before the
// first part (preamble and opening delimiter line), each part (headers, blank line,
// content), the delimiter between each part and the next, and everything from the closing
// delimiter on. Joining head, parts[0], delims[0], parts[1], …, tail gives the body back
// exactly, so a rewrite that replaces or leaves out parts keeps every other byte.
type rawMultipart struct {
	boundary string
	head     []byte
	parts    []rawPart
	delims   [][]byte // delims[i] sits between parts[i] and parts[i+1]
	tail     []byte
}

// rawPart is one part: its bytes, where its content starts, and the form field name
// mime/multipart reads from its headers.
type rawPart struct {
	raw    []byte
	bodyAt int // raw[:bodyAt] are the headers and the blank line
	name   string
	cte    string // Content-Transfer-Encoding, lower-cased; "" when absent
}

func (p rawPart) content() []byte { return p.raw[p.bodyAt:] }

var errMultipart = errors.New("send body is not a valid multipart/form-data body")

// splitMultipart cuts body at its delimiters (RFC 2046 §5.1: CRLF, "--", boundary, optional
// spaces or tabs, CRLF; the closing one ends with "--"). Only CRLF line endings are read.
//
// The cut is then checked against mime/multipart, the reader the vendor-side parsers
// resemble: same number of parts, same field names, same content byte for byte. A body the
// two read differently is refused, since hush could otherwise miss a recipient the vendor
// would see.
func splitMultipart(body []byte, boundary string) (*rawMultipart, error) {
	if boundary == "" {
		return nil, errMultipart
	}
	dash := []byte("--" + boundary)

	// The opening delimiter is the first line that is one; lines before it are preamble.
	start := -1
	for at := 0; at <= len(body); {
		if bytes.HasPrefix(body[at:], dash) {
			if n, final := delimiterEnd(body[at+len(dash):]); n >= 0 {
				if final {
					return nil, errors.New("multipart body has no part")
				}
				start = at + len(dash) + n
				break
			}
		}
		nl := bytes.IndexByte(body[at:], '\n')
		if nl < 0 {
			break
		}
		at += nl + 1
	}
	if start < 0 {
		return nil, errors.New("multipart body has no opening boundary (check the Content-Type boundary)")
	}
	m := &rawMultipart{head: body[:start], boundary: boundary}
	crlfDash := append([]byte("\r\n"), dash...)
	pos := start
	for {
		// The next delimiter: CRLF--boundary followed by the rest of a delimiter line.
		at, next, final := -1, 0, false
		for from := pos; ; {
			i := bytes.Index(body[from:], crlfDash)
			if i < 0 {
				break
			}
			i += from
			if n, f := delimiterEnd(body[i+len(crlfDash):]); n >= 0 {
				at, next, final = i, i+len(crlfDash)+n, f
				break
			}
			from = i + 1
		}
		if at < 0 {
			return nil, errors.New("multipart body has no closing boundary")
		}
		part, err := newRawPart(body[pos:at])
		if err != nil {
			return nil, err
		}
		m.parts = append(m.parts, part)
		if final {
			m.tail = body[at:]
			break
		}
		m.delims = append(m.delims, body[at:next])
		pos = next
	}
	if err := m.crossCheck(body, boundary); err != nil {
		return nil, err
	}
	return m, nil
}

// delimiterEnd reads what follows "--boundary": optional spaces and tabs, then CRLF (a
// delimiter between parts) or "--" (the closing delimiter; the rest is epilogue). It returns
// how many bytes the delimiter line still has (-1: not a delimiter) and whether it closes.
func delimiterEnd(rest []byte) (n int, final bool) {
	if bytes.HasPrefix(rest, []byte("--")) {
		return 2, true
	}
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
		i++
	}
	if bytes.HasPrefix(rest[i:], []byte("\r\n")) {
		return i + 2, false
	}
	return -1, false
}

// newRawPart finds where a part's headers end: the first empty line, or at once when the
// part starts with one (a part without headers).
func newRawPart(raw []byte) (rawPart, error) {
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return rawPart{raw: raw, bodyAt: 2}, nil
	}
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		return rawPart{}, errors.New("a multipart part has no end of headers")
	}
	return rawPart{raw: raw, bodyAt: i + 4}, nil
}

// crossCheck reads body with mime/multipart and takes each part's form name and transfer
// encoding from it, after checking that it sees the same parts with the same content.
func (m *rawMultipart) crossCheck(body []byte, boundary string) error {
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for i := 0; ; i++ {
		p, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			if i != len(m.parts) {
				return errMultipart
			}
			return nil
		}
		if err != nil || i >= len(m.parts) {
			return errMultipart
		}
		content, err := io.ReadAll(p)
		if err != nil || !bytes.Equal(content, m.parts[i].content()) {
			return errMultipart
		}
		m.parts[i].name = p.FormName()
		m.parts[i].cte = strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding")))
	}
}

// join writes the body back with replace[i] instead of part i's content where it is set,
// and without the parts whose drop[i] is set. At least one part must remain.
func (m *rawMultipart) join(replace map[int][]byte, drop map[int]bool) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(m.head)
	first := true
	for i, p := range m.parts {
		if drop[i] {
			continue
		}
		if !first {
			// The delimiter just before this part: when parts before it were left out,
			// theirs went with them.
			buf.Write(m.delims[i-1])
		}
		first = false
		if v, ok := replace[i]; ok {
			// New content never comes near a delimiter (it is made of trimmed pieces of
			// the old one, or JSON); checked all the same, since a delimiter inside it
			// would let the vendor read parts hush never saw.
			if bytes.Contains(v, []byte("\r\n--"+m.boundary)) || bytes.HasPrefix(v, []byte("--"+m.boundary)) {
				return nil, errors.New("rewritten field would contain the multipart boundary")
			}
			buf.Write(p.raw[:p.bodyAt])
			buf.Write(v)
		} else {
			buf.Write(p.raw)
		}
	}
	if first {
		return nil, errors.New("rewrite would leave the multipart body without parts")
	}
	buf.Write(m.tail)
	return buf.Bytes(), nil
}
