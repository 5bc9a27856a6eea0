// Package jsondoc reads and edits a JSON document in place.
//
// Marketing APIs are proxied byte-faithfully: decoding a send into map[string]any and
// encoding it again would reorder keys, round large numbers and drop fields a struct does not
// name. A Doc records where every value and member sits in the original bytes; an Edit copies
// those bytes except the members and elements it removes or replaces, so everything hush did
// not touch reaches the vendor exactly as the caller wrote it.
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Kind is the type of a value.
type Kind byte

// Kinds of values.
const (
	Object  Kind = '{'
	Array   Kind = '['
	String  Kind = '"'
	Number  Kind = '0'
	Literal Kind = 'l' // true, false or null
)

// ErrInvalid is returned for bytes that are not one JSON value.
var ErrInvalid = errors.New("body is not valid JSON")

// Doc is a parsed document. It is read-only: edits go through an Edit, and one Doc can serve
// several.
type Doc struct {
	raw  []byte
	root *Node
}

// Node is one value of a document.
type Node struct {
	kind       Kind
	start, end int // the value's bytes in the document
	items      []item
	str        string // decoded value, for strings
	parent     *Node
	pos        int // index in parent.items
}

// item is one object member or array element.
type item struct {
	segStart int    // just after the '{', '[' or ',' that precedes it: its leading space
	lead     int    // where its key (objects) or value (arrays) starts, after that space
	segEnd   int    // at the ',' or closing bracket that follows it, after its trailing space
	key      string // objects only
	value    *Node
}

// Parse parses a whole document, which must be valid JSON. The bytes are kept, not copied:
// the caller must not change them while the Doc is in use.
//
// The parser checks the grammar itself (what encoding/json.Valid accepts, in one pass
// rather than two: it runs on every proxied send).
func Parse(b []byte) (*Doc, error) {
	p := &parser{b: b}
	p.space()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(b) {
		return nil, ErrInvalid // more than one value
	}
	return &Doc{raw: b, root: n}, nil
}

// maxDepth bounds nesting as encoding/json does, so that a hostile body cannot exhaust
// the stack.
const maxDepth = 10000

// Root is the document's top-level value.
func (d *Doc) Root() *Node { return d.root }

// Bytes are the document as parsed.
func (d *Doc) Bytes() []byte { return d.raw }

// Raw is the value's bytes as written in the document.
func (d *Doc) Raw(n *Node) []byte { return d.raw[n.start:n.end] }

// Kind is the value's type.
func (n *Node) Kind() Kind { return n.kind }

// Len is the number of members of an object or elements of an array (0 for other kinds).
func (n *Node) Len() int { return len(n.items) }

// Item is the value of the i-th member or element.
func (n *Node) Item(i int) *Node { return n.items[i].value }

// Key is the name of the i-th member of an object ("" for arrays).
func (n *Node) Key(i int) string { return n.items[i].key }

// Get is the value of the member named key: the last one when the object repeats the key,
// as most JSON readers (the vendors' included) take the last. nil when there is none or n is
// not an object.
func (n *Node) Get(key string) *Node {
	var found *Node
	for _, it := range n.items {
		if n.kind == Object && it.key == key {
			found = it.value
		}
	}
	return found
}

// Members are the values of every member named key, in document order.
func (n *Node) Members(key string) []*Node {
	var out []*Node
	for _, it := range n.items {
		if n.kind == Object && it.key == key {
			out = append(out, it.value)
		}
	}
	return out
}

// Str is the decoded value of a string; ok is false for other kinds.
func (n *Node) Str() (s string, ok bool) { return n.str, n.kind == String }

// Parent is the object or array holding n (nil for the root).
func (n *Node) Parent() *Node { return n.parent }

// Pos is n's index among its parent's members or elements.
func (n *Node) Pos() int { return n.pos }

// Quote encodes s as a JSON string without HTML escaping ("<" stays "<"), the way most
// vendors' own clients write addresses like "Ana <ana@example.com>".
func Quote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// parser allocates nodes and item lists from slabs rather than one by one: a send with
// fifty recipients has hundreds of values, and allocation was most of the parse.
type parser struct {
	b     []byte
	pos   int
	nodes []Node // slab: a new one is started when full, so pointers stay valid
	items []item // slab for finished containers' item lists
	stack []item // items of the containers being parsed
	depth int    // containers open
}

func (p *parser) node(kind Kind, start int) *Node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]Node, 0, min(max(64, len(p.b)/16), 4096))
	}
	p.nodes = append(p.nodes, Node{kind: kind, start: start})
	return &p.nodes[len(p.nodes)-1]
}

// finish moves the items a container collected on the stack into the slab.
func (p *parser) finish(n *Node, base int) {
	k := len(p.stack) - base
	if k == 0 {
		return
	}
	if cap(p.items)-len(p.items) < k {
		p.items = make([]item, 0, max(k, min(max(64, len(p.b)/32), 4096)))
	}
	start := len(p.items)
	p.items = append(p.items, p.stack[base:]...)
	n.items = p.items[start:len(p.items):len(p.items)]
	p.stack = p.stack[:base]
}

func (p *parser) space() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.b) {
		return p.b[p.pos]
	}
	return 0
}

func (p *parser) value() (*Node, error) {
	switch c := p.peek(); {
	case c == '{' || c == '[':
		return p.container(Kind(c))
	case c == '"':
		return p.str()
	case c == 't' || c == 'f' || c == 'n':
		n := p.node(Literal, p.pos)
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.b[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				n.end = p.pos
				return n, nil
			}
		}
		return nil, ErrInvalid
	case c == '-' || c >= '0' && c <= '9':
		n := p.node(Number, p.pos)
		if !p.number() {
			return nil, ErrInvalid
		}
		n.end = p.pos
		return n, nil
	}
	return nil, ErrInvalid
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() bool {
	digits := func() int {
		start := p.pos
		for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
			p.pos++
		}
		return p.pos - start
	}
	if p.peek() == '-' {
		p.pos++
	}
	switch c := p.peek(); {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		return false
	}
	if p.peek() == '.' {
		p.pos++
		if digits() == 0 {
			return false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

func (p *parser) str() (*Node, error) {
	n := p.node(String, p.pos)
	p.pos++
	escaped := false
	for {
		if p.pos >= len(p.b) {
			return nil, ErrInvalid
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
		if c < 0x20 {
			return nil, ErrInvalid // a raw control character: JSON wants it escaped
		}
		if c >= 0x80 {
			escaped = true // let encoding/json deal with invalid UTF-8 the usual way
		}
	}
	n.end = p.pos
	if !escaped {
		n.str = string(p.b[n.start+1 : n.end-1])
	} else if err := json.Unmarshal(p.b[n.start:n.end], &n.str); err != nil {
		return nil, ErrInvalid
	}
	return n, nil
}

func (p *parser) container(open Kind) (*Node, error) {
	closing := byte(']')
	if open == Object {
		closing = '}'
	}
	if p.depth++; p.depth > maxDepth {
		return nil, ErrInvalid
	}
	defer func() { p.depth-- }()
	n := p.node(open, p.pos)
	p.pos++
	segStart := p.pos
	p.space()
	if p.peek() == closing {
		p.pos++
		n.end = p.pos
		return n, nil
	}
	base := len(p.stack)
	for {
		it := item{segStart: segStart, lead: p.pos}
		if open == Object {
			if p.peek() != '"' {
				return nil, ErrInvalid // a key is a string
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			it.key = k.str
			p.space()
			if p.peek() != ':' {
				return nil, ErrInvalid
			}
			p.pos++
			p.space()
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		v.parent, v.pos = n, len(p.stack)-base
		it.value = v
		p.space()
		it.segEnd = p.pos
		p.stack = append(p.stack, it)
		switch p.peek() {
		case ',':
			p.pos++
			segStart = p.pos
			p.space()
		case closing:
			p.pos++
			n.end = p.pos
			p.finish(n, base)
			return n, nil
		default:
			return nil, ErrInvalid
		}
	}
}
