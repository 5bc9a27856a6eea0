package jsondoc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Doc {
	t.Helper()
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return d
}

func find(t testing.TB, d *Doc, ptr string) *Node {
	t.Helper()
	tokens, err := ParsePointer(ptr)
	if err != nil {
		t.Fatal(err)
	}
	paths := Find(d.Root(), tokens)
	if len(paths) != 1 {
		t.Fatalf("%s selects %d values", ptr, len(paths))
	}
	return paths[0].Value(d.Root())
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "{", `{"a":}`, `[1,]`, `{"a":1}x`, "\"\xff", `{"a" 1}`,
		`tru`, `nul`, `truex`, `[01]`, `-`, `1.`, `1e`, `.5`, `+1`, `[1 2]`, "\"a\x01b\"", `"\x"`, `{"a":1} {}`, `{0":{}}`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)} {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}

func TestReadValues(t *testing.T) {
	d := mustParse(t, ` {"to": [{"email":"ana@example.com"}, {"email":"b\u00e9@example.com"}], "n": 12345678901234567890, "to": "last", "x": null} `)
	root := d.Root()
	if root.Kind() != Object || root.Len() != 4 {
		t.Fatalf("root kind %c len %d", root.Kind(), root.Len())
	}
	if s, _ := root.Get("to").Str(); s != "last" {
		t.Errorf("Get(to) = %q, want the last member", s)
	}
	if got := len(root.Members("to")); got != 2 {
		t.Errorf("Members(to) = %d", got)
	}
	if s, ok := find(t, d, "/to/1/email").Str(); !ok || s != "bé@example.com" {
		t.Errorf("escaped string = %q %v", s, ok)
	}
	if got := string(d.Raw(root.Get("n"))); got != "12345678901234567890" {
		t.Errorf("number raw = %s", got)
	}
	n := find(t, d, "/to/0/email")
	if got := PathOf(n).String(); got != "/to/0/email" {
		t.Errorf("PathOf = %s", got)
	}
	if root.Get("missing") != nil || root.Get("x").Kind() != Literal {
		t.Error("Get of a missing or literal member")
	}
}

func TestFindWildcardsAndEscapes(t *testing.T) {
	d := mustParse(t, `{"p":[{"to":[{"e":"a"},{"e":"b"}]},{"to":[{"e":"c"}]}],"a/b":{"~":"x"},"*":"star"}`)
	var got []string
	for _, p := range Find(d.Root(), []string{"p", "*", "to", "*", "e"}) {
		s, _ := p.Value(d.Root()).Str()
		got = append(got, s+"@"+p.String())
	}
	want := []string{"a@/p/0/to/0/e", "b@/p/0/to/1/e", "c@/p/1/to/0/e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Find = %v, want %v", got, want)
	}
	if s, _ := find(t, d, "/a~1b/~0").Str(); s != "x" {
		t.Errorf("escaped pointer = %q", s)
	}
	if s, _ := find(t, d, "/*").Str(); s != "star" {
		t.Errorf("'*' on an object is a key, got %q", s)
	}
	if len(Find(d.Root(), []string{"p", "01"})) != 0 || len(Find(d.Root(), []string{"p", "7"})) != 0 {
		t.Error("non-canonical or out-of-range index selected something")
	}
	if _, err := ParsePointer("p/0"); err == nil {
		t.Error("pointer without leading slash accepted")
	}
}

func TestEdit(t *testing.T) {
	const doc = "{\n  \"to\": [ {\"email\": \"a\"}, {\"email\": \"b\"} , {\"email\": \"c\"} ],\n  \"n\": 1.50,\n  \"send\": true\n}"
	tests := []struct {
		name string
		edit func(d *Doc, e *Edit)
		want string
	}{
		{"nothing", func(d *Doc, e *Edit) {}, doc},
		{"remove middle", func(d *Doc, e *Edit) { e.Remove(find(t, d, "/to/1")) },
			"{\n  \"to\": [ {\"email\": \"a\"}, {\"email\": \"c\"} ],\n  \"n\": 1.50,\n  \"send\": true\n}"},
		{"remove first", func(d *Doc, e *Edit) { e.Remove(find(t, d, "/to/0")) },
			"{\n  \"to\": [ {\"email\": \"b\"} , {\"email\": \"c\"} ],\n  \"n\": 1.50,\n  \"send\": true\n}"},
		{"remove all elements", func(d *Doc, e *Edit) {
			for i := 0; i < 3; i++ {
				e.Remove(d.Root().Get("to").Item(i))
			}
		}, "{\n  \"to\": [ ],\n  \"n\": 1.50,\n  \"send\": true\n}"},
		{"remove member", func(d *Doc, e *Edit) { e.Remove(d.Root().Get("to")) },
			"{\n  \"n\": 1.50,\n  \"send\": true\n}"},
		{"replace", func(d *Doc, e *Edit) { e.Replace(find(t, d, "/to/2/email"), Quote("Ana <ana@example.com>")) },
			"{\n  \"to\": [ {\"email\": \"a\"}, {\"email\": \"b\"} , {\"email\": \"Ana <ana@example.com>\"} ],\n  \"n\": 1.50,\n  \"send\": true\n}"},
		{"set existing", func(d *Doc, e *Edit) { e.Set(d.Root(), "send", []byte("false")) },
			"{\n  \"to\": [ {\"email\": \"a\"}, {\"email\": \"b\"} , {\"email\": \"c\"} ],\n  \"n\": 1.50,\n  \"send\": false\n}"},
		{"set two new", func(d *Doc, e *Edit) {
			e.Remove(find(t, d, "/to"))
			e.Set(d.Root(), "a", []byte("1"))
			e.Set(d.Root(), "b", []byte("2"))
		}, "{\n  \"n\": 1.50,\n  \"send\": true,\"a\":1,\"b\":2\n}"},
		{"set new", func(d *Doc, e *Edit) { e.Set(find(t, d, "/to/0"), "name", Quote("Ana")) },
			"{\n  \"to\": [ {\"email\": \"a\",\"name\":\"Ana\"}, {\"email\": \"b\"} , {\"email\": \"c\"} ],\n  \"n\": 1.50,\n  \"send\": true\n}"},
		{"set on emptied object", func(d *Doc, e *Edit) {
			e.Remove(find(t, d, "/to/0/email"))
			e.Set(find(t, d, "/to/0"), "x", []byte("1"))
		}, "{\n  \"to\": [ {\"x\":1}, {\"email\": \"b\"} , {\"email\": \"c\"} ],\n  \"n\": 1.50,\n  \"send\": true\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, doc)
			e := d.Edit()
			tt.edit(d, e)
			got, err := e.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEditState(t *testing.T) {
	d := mustParse(t, `{"a":[{"b":1},{"b":2}],"c":[]}`)
	e := d.Edit()
	a := d.Root().Get("a")
	e.Remove(a.Item(0))
	if !e.Removed(a.Item(0).Get("b")) || e.Removed(a.Item(1)) {
		t.Error("Removed does not follow ancestors")
	}
	if e.Emptied(a) || e.Remaining(a) != 1 {
		t.Errorf("after one removal: emptied %v remaining %d", e.Emptied(a), e.Remaining(a))
	}
	e.Remove(a.Item(1))
	if !e.Emptied(a) {
		t.Error("array with every element removed is not Emptied")
	}
	if e.Emptied(d.Root().Get("c")) {
		t.Error("an array that was empty to start with counts as emptied")
	}
	e.Remove(d.Root()) // no-op
	if got, _ := e.Bytes(); string(got) != `{"a":[],"c":[]}` {
		t.Errorf("Bytes = %s", got)
	}
}

func TestBadReplacementRefused(t *testing.T) {
	d := mustParse(t, `{"a":1}`)
	e := d.Edit()
	e.Replace(d.Root().Get("a"), []byte("{oops"))
	if _, err := e.Bytes(); err == nil {
		t.Error("an invalid replacement was written")
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"Ana <ana@example.com>", "a\"b\\c\n", "ñ€😀"} {
		var back string
		if err := json.Unmarshal(Quote(s), &back); err != nil || back != s {
			t.Errorf("Quote(%q) = %s (%v)", s, Quote(s), err)
		}
	}
	if string(Quote("<&>")) != `"<&>"` {
		t.Errorf("Quote escapes HTML: %s", Quote("<&>"))
	}
}

// FuzzEdit: any valid document parses; an empty edit gives the bytes back; removing any
// subset of items gives valid JSON equal to what encoding/json makes of the same removal.
func FuzzEdit(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}],"d":{"e":null}}`, ` [ 1 , [ ] , { } ] `, `"x"`, `{"a":1,"a":2}`, `[{"to":[{"email":"a@b"}]}]`} {
		f.Add([]byte(s), uint64(5))
	}
	f.Fuzz(func(t *testing.T, b []byte, mask uint64) {
		d, err := Parse(b)
		if valid := json.Valid(b); (err == nil) != valid {
			t.Fatalf("Parse(%q) = %v, json.Valid = %v: they must agree", b, err, valid)
		}
		if err != nil {
			return
		}
		same, err := d.Edit().Bytes()
		if err != nil || string(same) != string(b) {
			t.Fatalf("empty edit changed the document: %q", same)
		}
		e := d.Edit()
		bit := 0
		var walk func(n *Node)
		walk = func(n *Node) {
			for i := 0; i < n.Len(); i++ {
				if mask&(1<<(bit%64)) != 0 {
					e.Remove(n.Item(i))
				} else {
					walk(n.Item(i))
				}
				bit++
			}
		}
		walk(d.Root())
		out, err := e.Bytes()
		if err != nil || !json.Valid(out) {
			t.Fatalf("edit wrote invalid JSON %q from %q (%v)", out, b, err)
		}
	})
}
