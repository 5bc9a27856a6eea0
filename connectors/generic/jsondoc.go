package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A JSON document is edited in place rather than decoded and re-encoded: decoding into
// map[string]any would reorder keys and round numbers, and a marketing API may care about
// both. The parser records where every value and member sits in the original bytes; an edit
// copies the original bytes except the members and elements it removes.

// jsonNode is one value of a parsed document.
type jsonNode struct {
	kind       byte // '{', '[', '"' (string), '0' (number), 'l' (true, false, null)
	start, end int  // the value's bytes in the document
	items      []jsonItem
	str        string // decoded value, for strings
}

// jsonItem is one object member or array element.
type jsonItem struct {
	segStart int    // just after the '{', '[' or ',' that precedes it: its leading space
	key      string // objects only
	value    *jsonNode
}

// parseJSONDoc parses a whole document, which must be valid JSON.
func parseJSONDoc(b []byte) (*jsonNode, error) {
	if !json.Valid(b) {
		return nil, errors.New("body is not valid JSON")
	}
	p := &jsonParser{b: b}
	p.space()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	return n, nil
}

type jsonParser struct {
	b   []byte
	pos int
}

var errJSONShape = errors.New("body is not valid JSON")

func (p *jsonParser) space() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.pos < len(p.b) {
		return p.b[p.pos]
	}
	return 0
}

func (p *jsonParser) value() (*jsonNode, error) {
	switch c := p.peek(); {
	case c == '{' || c == '[':
		return p.container(c)
	case c == '"':
		return p.str()
	case c == 't' || c == 'f' || c == 'n':
		n := &jsonNode{kind: 'l', start: p.pos}
		for p.pos < len(p.b) && p.b[p.pos] >= 'a' && p.b[p.pos] <= 'z' {
			p.pos++
		}
		n.end = p.pos
		return n, nil
	case c == '-' || c >= '0' && c <= '9':
		n := &jsonNode{kind: '0', start: p.pos}
		for p.pos < len(p.b) && strings.IndexByte("+-0123456789.eE", p.b[p.pos]) >= 0 {
			p.pos++
		}
		n.end = p.pos
		return n, nil
	}
	return nil, errJSONShape
}

func (p *jsonParser) str() (*jsonNode, error) {
	n := &jsonNode{kind: '"', start: p.pos}
	p.pos++
	escaped := false
	for {
		if p.pos >= len(p.b) {
			return nil, errJSONShape
		}
		c := p.b[p.pos]
		if c == '\\' {
			escaped = true
			p.pos += 2
			continue
		}
		p.pos++
		if c == '"' {
			break
		}
		if c >= 0x80 {
			escaped = true // let encoding/json deal with invalid UTF-8 the usual way
		}
	}
	n.end = p.pos
	if !escaped {
		n.str = string(p.b[n.start+1 : n.end-1])
	} else if err := json.Unmarshal(p.b[n.start:n.end], &n.str); err != nil {
		return nil, errJSONShape
	}
	return n, nil
}

func (p *jsonParser) container(open byte) (*jsonNode, error) {
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	n := &jsonNode{kind: open, start: p.pos}
	p.pos++
	segStart := p.pos
	p.space()
	if p.peek() == closing {
		p.pos++
		n.end = p.pos
		return n, nil
	}
	for {
		it := jsonItem{segStart: segStart}
		if open == '{' {
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			it.key = k.str
			p.space()
			if p.peek() != ':' {
				return nil, errJSONShape
			}
			p.pos++
			p.space()
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		it.value = v
		n.items = append(n.items, it)
		p.space()
		switch p.peek() {
		case ',':
			p.pos++
			segStart = p.pos
			p.space()
		case closing:
			p.pos++
			n.end = p.pos
			return n, nil
		default:
			return nil, errJSONShape
		}
	}
}

// jsonStep is one move from a container to one of its items.
type jsonStep struct {
	container *jsonNode
	index     int
	wildcard  bool // selected by '*' rather than named
}

// jsonPath leads from the root to a value.
type jsonPath []jsonStep

func (p jsonPath) value(root *jsonNode) *jsonNode {
	if len(p) == 0 {
		return root
	}
	last := p[len(p)-1]
	return last.container.items[last.index].value
}

// String writes the path as a JSON pointer with real indices ("/personalizations/0/to/1/email").
func (p jsonPath) String() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		if s.container.kind == '[' {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s.container.items[s.index].key))
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// parsePointer splits a JSON pointer (RFC 6901) whose tokens may be "*": every element of an
// array.
func parsePointer(ptr string) ([]string, error) {
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer (it must start with '/')", ptr)
	}
	tokens := strings.Split(ptr[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return tokens, nil
}

// find returns the paths of every value the pointer tokens select, in document order. "*"
// selects every element of an array; on an object it is an ordinary key. Missing members
// select nothing.
func find(root *jsonNode, tokens []string) []jsonPath {
	var out []jsonPath
	var walk func(n *jsonNode, tokens []string, path jsonPath)
	walk = func(n *jsonNode, tokens []string, path jsonPath) {
		if len(tokens) == 0 {
			out = append(out, append(jsonPath(nil), path...))
			return
		}
		tok, rest := tokens[0], tokens[1:]
		switch n.kind {
		case '[':
			if tok == "*" {
				for i, it := range n.items {
					walk(it.value, rest, append(path, jsonStep{container: n, index: i, wildcard: true}))
				}
				return
			}
			i, err := strconv.Atoi(tok)
			if err == nil && i >= 0 && i < len(n.items) && strconv.Itoa(i) == tok {
				walk(n.items[i].value, rest, append(path, jsonStep{container: n, index: i}))
			}
		case '{':
			// Every member with the name: a document with a repeated key has each checked.
			for i, it := range n.items {
				if it.key == tok {
					walk(it.value, rest, append(path, jsonStep{container: n, index: i}))
				}
			}
		}
	}
	walk(root, tokens, nil)
	return out
}

// jsonEdit collects removals from one document and writes the result.
type jsonEdit struct {
	doc     []byte
	root    *jsonNode
	removed map[*jsonNode]map[int]bool // container → indices of removed items
	dirty   map[*jsonNode]bool         // containers with a removal at or under them
}

func newJSONEdit(doc []byte, root *jsonNode) *jsonEdit {
	return &jsonEdit{doc: doc, root: root, removed: map[*jsonNode]map[int]bool{}, dirty: map[*jsonNode]bool{}}
}

// remove drops the item reached by path[upto] and marks the containers above it as changed.
func (e *jsonEdit) remove(path jsonPath, upto int) {
	s := path[upto]
	if e.removed[s.container] == nil {
		e.removed[s.container] = map[int]bool{}
	}
	e.removed[s.container][s.index] = true
	for j := 0; j <= upto; j++ {
		e.dirty[path[j].container] = true
	}
}

func (e *jsonEdit) emptied(n *jsonNode) bool {
	return len(n.items) > 0 && len(e.removed[n]) == len(n.items)
}

func (e *jsonEdit) bytes() []byte {
	var buf bytes.Buffer
	buf.Grow(len(e.doc))
	e.emit(&buf, e.root)
	return buf.Bytes()
}

func (e *jsonEdit) emit(buf *bytes.Buffer, n *jsonNode) {
	if !e.dirty[n] {
		buf.Write(e.doc[n.start:n.end])
		return
	}
	buf.WriteByte(e.doc[n.start])
	gone := e.removed[n]
	first := true
	for i, it := range n.items {
		if gone[i] {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		// Leading space and, for members, the key and colon, exactly as written.
		buf.Write(e.doc[it.segStart:it.value.start])
		e.emit(buf, it.value)
	}
	// The space before the closing bracket, then the bracket.
	last := n.items[len(n.items)-1].value.end
	buf.Write(e.doc[last:n.end])
}
