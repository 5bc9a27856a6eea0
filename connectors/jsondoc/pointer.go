package jsondoc

import (
	"fmt"
	"strconv"
	"strings"
)

// Step is one move from a container to one of its items.
type Step struct {
	Container *Node
	Index     int
	Wildcard  bool // selected by "*" rather than named
}

// Path leads from the root to a value.
type Path []Step

// Value is the value the path reaches (root when the path is empty).
func (p Path) Value(root *Node) *Node {
	if len(p) == 0 {
		return root
	}
	last := p[len(p)-1]
	return last.Container.items[last.Index].value
}

// String writes the path as a JSON pointer with real indices ("/personalizations/0/to/1/email").
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		if s.Container.kind == Array {
			b.WriteString(strconv.Itoa(s.Index))
		} else {
			b.WriteString(pointerEscaper.Replace(s.Container.items[s.Index].key))
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// PathOf is the path from the root to n.
func PathOf(n *Node) Path {
	var p Path
	for ; n.parent != nil; n = n.parent {
		p = append(p, Step{Container: n.parent, Index: n.pos})
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

var (
	pointerEscaper   = strings.NewReplacer("~", "~0", "/", "~1")
	pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// ParsePointer splits a JSON pointer (RFC 6901) whose tokens may be "*": every element of
// an array.
func ParsePointer(ptr string) ([]string, error) {
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer (it must start with '/')", ptr)
	}
	tokens := strings.Split(ptr[1:], "/")
	for i, t := range tokens {
		tokens[i] = pointerUnescaper.Replace(t)
	}
	return tokens, nil
}

// Find returns the paths of every value the pointer tokens select under n, in document
// order. "*" selects every element of an array; on an object it is an ordinary key. Every
// member of a repeated key is followed (a document that repeats "to" has both checked).
// Missing members select nothing.
func Find(n *Node, tokens []string) []Path {
	var out []Path
	var walk func(n *Node, tokens []string, path Path)
	walk = func(n *Node, tokens []string, path Path) {
		if len(tokens) == 0 {
			out = append(out, append(Path(nil), path...))
			return
		}
		tok, rest := tokens[0], tokens[1:]
		switch n.kind {
		case Array:
			if tok == "*" {
				for i, it := range n.items {
					walk(it.value, rest, append(path, Step{Container: n, Index: i, Wildcard: true}))
				}
				return
			}
			i, err := strconv.Atoi(tok)
			if err == nil && i >= 0 && i < len(n.items) && strconv.Itoa(i) == tok {
				walk(n.items[i].value, rest, append(path, Step{Container: n, Index: i}))
			}
		case Object:
			for i, it := range n.items {
				if it.key == tok {
					walk(it.value, rest, append(path, Step{Container: n, Index: i}))
				}
			}
		}
	}
	walk(n, tokens, PathOf(n))
	return out
}
