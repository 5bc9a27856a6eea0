package configs

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/hush-gateway/hush/gateway"
)

// decoder walks the YAML syntax tree itself, rather than unmarshalling into structs, so that
// it can report every problem, each at its own line and column, instead of the first.
type decoder struct {
	file   string
	getenv func(string) string
	// optional names environment variables whose list entries are dropped, not reported,
	// when unset (the embedded default's generic source and admin token).
	optional map[string]bool
	// dropEntry is set while decoding a list entry that referenced an unset optional variable.
	dropEntry bool

	issues []Issue
	// nodes remembers the node of every decoded key, so later checks (rule compilation,
	// cross-references) can point at it.
	nodes map[string]ast.Node
	// bad holds the paths already reported, so later checks do not pile on.
	bad map[string]bool
}

func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	line, col := position(n)
	d.issues = append(d.issues, Issue{File: d.file, Line: line, Col: col, Path: path, Message: fmt.Sprintf(format, args...)})
	d.bad[path] = true
}

// scrubbed reports a problem about a value that may have come from the environment: the
// expanded value (a secret, perhaps) is replaced by what the file says, ${VAR}.
func (d *decoder) scrubbed(n ast.Node, path, expanded, msg string) {
	if raw := rawText(n); expanded != "" && raw != expanded {
		msg = strings.ReplaceAll(msg, expanded, raw)
	}
	d.errorf(n, path, "%s", msg)
}

// position is where a node starts, 1-based. A block mapping's own token is its first
// colon, so it is located by its first key instead.
func position(n ast.Node) (line, col int) {
	if n == nil {
		return 0, 0
	}
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		return position(m.Values[0].Key)
	}
	if mv, ok := n.(*ast.MappingValueNode); ok {
		return position(mv.Key)
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

func rawText(n ast.Node) string {
	switch n := n.(type) {
	case *ast.LiteralNode:
		if n.Value != nil {
			return n.Value.Value
		}
		return ""
	case *ast.StringNode:
		return n.Value
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// unwrap strips anchors and tags, and refuses aliases: hush.yaml is small enough to write
// out, and refusing them rules out alias bombs.
func (d *decoder) unwrap(n ast.Node, path string) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			d.errorf(n, path, "aliases (*name) are not supported in hush.yaml; write the value out")
			return nil
		default:
			return n
		}
	}
}

func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "true/false"
	case *ast.NullNode:
		return "empty"
	}
	return "something else"
}

// object is a mapping being decoded: keys are taken one by one; what is left is unknown.
type object struct {
	node    ast.Node
	path    string
	entries []objEntry
}

type objEntry struct {
	key   string
	kn    ast.Node
	value ast.Node
	used  bool
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// object reads a mapping. An empty value (`key:`) is an empty mapping.
func (d *decoder) object(n ast.Node, path string) (*object, bool) {
	n = d.unwrap(n, path)
	if n == nil {
		return nil, false
	}
	o := &object{node: n, path: path}
	switch m := n.(type) {
	case *ast.NullNode:
		return o, true
	case *ast.MappingValueNode: // a one-key mapping
		return d.fill(o, []*ast.MappingValueNode{m})
	case *ast.MappingNode:
		return d.fill(o, m.Values)
	}
	d.errorf(n, path, "must be a mapping (key: value), not %s", kindOf(n))
	return nil, false
}

func (d *decoder) fill(o *object, values []*ast.MappingValueNode) (*object, bool) {
	for _, mv := range values {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			d.errorf(mv.Key, o.path, "merge keys (<<) are not supported in hush.yaml; write the keys out")
			continue
		}
		key := rawText(mv.Key)
		o.entries = append(o.entries, objEntry{key: key, kn: mv.Key, value: mv.Value})
	}
	return o, true
}

// take returns the value of key and marks it known.
func (o *object) take(d *decoder, key string) (ast.Node, string, bool) {
	for i := range o.entries {
		if o.entries[i].key == key {
			o.entries[i].used = true
			p := join(o.path, key)
			d.nodes[p] = o.entries[i].value
			return o.entries[i].value, p, true
		}
	}
	return nil, join(o.path, key), false
}

// rest returns the keys not taken, in file order.
func (o *object) rest() []*objEntry {
	var out []*objEntry
	for i := range o.entries {
		if !o.entries[i].used {
			out = append(out, &o.entries[i])
		}
	}
	return out
}

// unknown reports every key not taken.
func (d *decoder) unknown(o *object, known []string) {
	for _, e := range o.rest() {
		msg := fmt.Sprintf("unknown key %q", e.key)
		if s := suggest(e.key, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += fmt.Sprintf(" (known keys: %s)", strings.Join(known, ", "))
		}
		d.errorf(e.kn, join(o.path, e.key), "%s", msg)
	}
}

// suggest finds the known key closest to a misspelt one, if any is close.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		limit := 1
		if len(k) >= 5 {
			limit = 2
		}
		if dist := editDistance(strings.ToLower(key), k); dist <= limit && dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance with adjacent transpositions.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// list reads a sequence. An empty value is an empty list.
func (d *decoder) list(n ast.Node, path string) ([]ast.Node, bool) {
	n = d.unwrap(n, path)
	switch s := n.(type) {
	case nil:
		return nil, false
	case *ast.NullNode:
		return nil, true
	case *ast.SequenceNode:
		for i, item := range s.Values {
			d.nodes[fmt.Sprintf("%s[%d]", path, i)] = item
		}
		return s.Values, true
	}
	d.errorf(n, path, "must be a list, not %s", kindOf(n))
	return nil, false
}

// str reads a string, with ${VAR} replaced. An empty value is "".
func (d *decoder) str(n ast.Node, path string) (string, bool) {
	n = d.unwrap(n, path)
	switch s := n.(type) {
	case nil:
		return "", false
	case *ast.NullNode:
		return "", true
	case *ast.StringNode:
		return d.expand(s, path, s.Value)
	case *ast.LiteralNode:
		return d.expand(s, path, rawText(s))
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		d.errorf(n, path, "must be a string, not %s (write it in quotes: \"%s\")", kindOf(n), rawText(n))
		return "", false
	}
	d.errorf(n, path, "must be a string, not %s", kindOf(n))
	return "", false
}

// expand replaces ${VAR} and ${VAR:-default} from the environment, after parsing, inside
// the one value: an environment value can never change the structure of the file nor
// shift the line numbers of errors. $${ writes a literal ${.
func (d *decoder) expand(n ast.Node, path, s string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			d.errorf(n, path, "unterminated ${ (write $${ for a literal ${)")
			return "", false
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDefault := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			d.errorf(n, path, "${%s} does not name an environment variable (letters, digits and _)", name)
			ok = false
			continue
		}
		v := d.getenv(name)
		switch {
		case v != "":
			b.WriteString(v)
		case hasDefault:
			b.WriteString(def)
		case d.optional[name]:
			d.dropEntry = true
		default:
			d.errorf(n, path, "environment variable %s is not set (write ${%s:-} to allow it empty)", name, name)
			ok = false
		}
	}
	return b.String(), ok
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// boolean reads true or false.
func (d *decoder) boolean(n ast.Node, path string) (bool, bool) {
	n = d.unwrap(n, path)
	switch b := n.(type) {
	case nil:
		return false, false
	case *ast.BoolNode:
		return b.Value, true
	}
	d.errorf(n, path, "must be true or false, not %s", kindOf(n))
	return false, false
}

// integer reads a whole number.
func (d *decoder) integer(n ast.Node, path string) (int64, bool) {
	n = d.unwrap(n, path)
	switch v := n.(type) {
	case nil:
		return 0, false
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return x, true
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), true
			}
		}
		d.errorf(n, path, "number %s is too large", rawText(n))
		return 0, false
	}
	d.errorf(n, path, "must be a whole number, not %s", kindOf(n))
	return 0, false
}

// number reads any number.
func (d *decoder) number(n ast.Node, path string) (float64, bool) {
	n = d.unwrap(n, path)
	switch v := n.(type) {
	case nil:
		return 0, false
	case *ast.FloatNode:
		return v.Value, true
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		}
	}
	d.errorf(n, path, "must be a number, not %s", kindOf(n))
	return 0, false
}

// duration reads "15d", "24h", "90s" (or 0).
func (d *decoder) duration(n ast.Node, path string) (gateway.Duration, bool) {
	if v, isInt := d.unwrap(n, path).(*ast.IntegerNode); isInt && rawText(v) == "0" {
		return 0, true
	}
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := gateway.ParseDuration(s)
	if err != nil {
		d.scrubbed(n, path, s, err.Error())
		return 0, false
	}
	return gateway.Duration(v), true
}

// strings reads a list of strings.
func (d *decoder) strings(n ast.Node, path string) ([]string, bool) {
	items, ok := d.list(n, path)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, ok2 := d.str(item, fmt.Sprintf("%s[%d]", path, i))
		ok = ok && ok2
		out = append(out, s)
	}
	return out, ok
}

// value reads anything into plain Go values, for the kind-specific options a connector
// checks later: strings (with ${VAR} replaced), int64, float64, bool, nil, []any and
// map[string]any.
func (d *decoder) value(n ast.Node, path string) (any, bool) {
	n = d.unwrap(n, path)
	switch v := n.(type) {
	case nil:
		return nil, false
	case *ast.NullNode:
		return nil, true
	case *ast.StringNode, *ast.LiteralNode:
		return d.str(v, path)
	case *ast.BoolNode:
		return v.Value, true
	case *ast.IntegerNode:
		return d.integer(v, path)
	case *ast.FloatNode:
		return v.Value, true
	case *ast.SequenceNode:
		out := make([]any, 0, len(v.Values))
		ok := true
		for i, item := range v.Values {
			x, ok2 := d.value(item, fmt.Sprintf("%s[%d]", path, i))
			ok = ok && ok2
			out = append(out, x)
		}
		return out, ok
	case *ast.MappingNode, *ast.MappingValueNode:
		o, ok := d.object(v, path)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(o.entries))
		for _, e := range o.entries {
			x, ok2 := d.value(e.value, join(path, e.key))
			ok = ok && ok2
			out[e.key] = x
		}
		return out, ok
	}
	d.errorf(n, path, "%s is not a value hush.yaml accepts (use a string, number, true/false, list or mapping)", kindOf(n))
	return nil, false
}

// options collects the keys of o not taken, for a connector to check. A key that is one
// edit away from a common key is reported as a typo rather than passed on.
func (d *decoder) options(o *object, common []string) map[string]any {
	rest := o.rest()
	if len(rest) == 0 {
		return nil
	}
	out := make(map[string]any, len(rest))
	for _, e := range rest {
		p := join(o.path, e.key)
		if s := suggest(e.key, common); s != "" && e.key != s {
			d.errorf(e.kn, p, "unknown key %q (did you mean %q?)", e.key, s)
			continue
		}
		d.nodes[p] = e.value
		if v, ok := d.value(e.value, p); ok {
			out[e.key] = v
		}
	}
	return out
}

// nodeAt finds the node of path, or of its nearest decoded parent.
func (d *decoder) nodeAt(path string) (ast.Node, string) {
	for p := path; p != ""; {
		if n, ok := d.nodes[p]; ok {
			return n, p
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return nil, path
}

// reported says whether a problem was already reported at path, one of its parents or
// children: checks that run after decoding skip such paths instead of piling on.
func (d *decoder) reported(path string) bool {
	for p := range d.bad {
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") ||
			strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

func (d *decoder) sortIssues() {
	sort.SliceStable(d.issues, func(i, j int) bool {
		a, b := d.issues[i], d.issues[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	d.issues = slices.CompactFunc(d.issues, func(a, b Issue) bool { return a == b })
}

// clock reads "HH:MM" on a 24-hour clock.
func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day (write HH:MM, 00:00 to 23:59)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// tokenOf is the token of a node, for syntax errors reported by the parser.
type tokenError interface {
	GetToken() *token.Token
	GetMessage() string
}
