package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Edit collects changes to one document and writes the result. Everything not removed or
// replaced is copied byte for byte, whitespace included. Not safe for concurrent use.
type Edit struct {
	doc      *Doc
	removed  map[*Node]map[int]bool // container → indices of removed items
	replaced map[*Node][]byte
	added    map[*Node][]member // objects → members appended at their end
	dirty    map[*Node]bool     // containers with a change at or under them
}

type member struct {
	key string
	raw []byte
}

// Edit starts an edit of the document.
func (d *Doc) Edit() *Edit {
	return &Edit{doc: d, removed: map[*Node]map[int]bool{}, replaced: map[*Node][]byte{},
		added: map[*Node][]member{}, dirty: map[*Node]bool{}}
}

func (e *Edit) touch(n *Node) {
	for ; n != nil && !e.dirty[n]; n = n.parent {
		e.dirty[n] = true
	}
}

// Remove drops the member or element whose value is n. Removing the root is a no-op.
func (e *Edit) Remove(n *Node) {
	c := n.parent
	if c == nil {
		return
	}
	if e.removed[c] == nil {
		e.removed[c] = map[int]bool{}
	}
	e.removed[c][n.pos] = true
	e.touch(c)
}

// Removed reports whether n or a value holding it was removed.
func (e *Edit) Removed(n *Node) bool {
	for ; n.parent != nil; n = n.parent {
		if e.removed[n.parent][n.pos] {
			return true
		}
	}
	return false
}

// Remaining is how many members or elements of container are left.
func (e *Edit) Remaining(container *Node) int {
	return len(container.items) - len(e.removed[container]) + len(e.added[container])
}

// Emptied reports whether a container that had items has none left.
func (e *Edit) Emptied(container *Node) bool {
	return len(container.items) > 0 && e.Remaining(container) == 0
}

// Replace writes raw, which must be one JSON value, in place of n.
func (e *Edit) Replace(n *Node, raw []byte) {
	e.replaced[n] = raw
	if n.parent != nil {
		e.touch(n.parent)
	} else {
		e.dirty[n] = true
	}
}

// Set gives the object's member key the value raw: every member of that name is replaced,
// or one is added at the end of the object when it has none.
func (e *Edit) Set(obj *Node, key string, raw []byte) {
	found := false
	for _, it := range obj.items {
		if it.key == key {
			e.Replace(it.value, raw)
			found = true
		}
	}
	if !found {
		e.added[obj] = append(e.added[obj], member{key: key, raw: raw})
		e.touch(obj)
	}
}

// ErrEditInvalid means a replacement was not valid JSON: a bug in the caller, never
// forwarded.
var ErrEditInvalid = errors.New("jsondoc: the edited document is not valid JSON")

// Bytes writes the edited document. It fails only when a replacement was not valid JSON.
func (e *Edit) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	raw, root := e.doc.raw, e.doc.root
	buf.Grow(len(raw))
	buf.Write(raw[:root.start])
	e.emit(&buf, root)
	buf.Write(raw[root.end:])
	out := buf.Bytes()
	if (len(e.replaced) > 0 || len(e.added) > 0) && !json.Valid(out) {
		return nil, ErrEditInvalid
	}
	return out, nil
}

func (e *Edit) emit(buf *bytes.Buffer, n *Node) {
	if raw, ok := e.replaced[n]; ok {
		buf.Write(raw)
		return
	}
	raw := e.doc.raw
	if !e.dirty[n] {
		buf.Write(raw[n.start:n.end])
		return
	}
	buf.WriteByte(raw[n.start])
	gone := e.removed[n]
	prev := -1 // the last item written
	sep := func() {
		if prev >= 0 {
			// The space the previous item had before its comma, then the comma.
			it := n.items[prev]
			buf.Write(raw[it.value.end:it.segEnd])
			buf.WriteByte(',')
		}
	}
	for i, it := range n.items {
		if gone[i] {
			continue
		}
		if prev < 0 && i > 0 {
			// The first item left takes the leading space of the first item there was.
			first := n.items[0]
			buf.Write(raw[first.segStart:first.lead])
			buf.Write(raw[it.lead:it.value.start])
		} else {
			sep()
			// Leading space and, for members, the key and colon, exactly as written.
			buf.Write(raw[it.segStart:it.value.start])
		}
		prev = i
		e.emit(buf, it.value)
	}
	for j, m := range e.added[n] {
		if prev >= 0 || j > 0 {
			buf.WriteByte(',')
		}
		buf.Write(Quote(m.key))
		buf.WriteByte(':')
		buf.Write(m.raw)
	}
	// The space before the closing bracket as the document had it, then the bracket.
	tail := n.start + 1
	if len(n.items) > 0 {
		tail = n.items[len(n.items)-1].value.end
	}
	buf.Write(raw[tail:n.end])
}
