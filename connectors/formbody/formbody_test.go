package formbody

import (
	"net/url"
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	pairs, err := Split([]byte("To=%2B34600111222&&Body=Hola+mundo;x&flag&t%6F=a%40b"))
	if err != nil {
		t.Fatal(err)
	}
	var got [][3]string
	for _, p := range pairs {
		got = append(got, [3]string{string(p.Raw), p.Name, p.Value})
	}
	want := [][3]string{
		{"To=%2B34600111222", "To", "+34600111222"},
		{"", "", ""},
		{"Body=Hola+mundo;x", "Body", "Hola mundo;x"},
		{"flag", "flag", ""},
		{"t%6F=a%40b", "to", "a@b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Split = %q, want %q", got, want)
	}
	if string(pairs[4].RawName) != "t%6F" {
		t.Errorf("RawName = %q", pairs[4].RawName)
	}
	if _, err := Split([]byte("a=%zz")); err != ErrInvalid {
		t.Errorf("bad escape: %v", err)
	}
}

// FuzzSplit: Join of the pairs gives the body back, and the decoded pairs agree with
// url.ParseQuery wherever it accepts the body.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "&&", "To=%2B1&Body=x+y", "a=%zz", "x;y=1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pairs, err := Split(body)
		if err != nil {
			return
		}
		segs := make([][]byte, len(pairs))
		for i, p := range pairs {
			segs[i] = p.Raw
		}
		if string(Join(segs)) != string(body) {
			t.Fatalf("Join(Split(%q)) = %q", body, Join(segs))
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return
		}
		for _, p := range pairs {
			if len(p.Raw) > 0 && !contains(q[p.Name], p.Value) {
				t.Fatalf("pair %q=%q not in ParseQuery's %v", p.Name, p.Value, q)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
