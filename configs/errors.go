package configs

import (
	"fmt"
	"strings"
)

// Issue is one problem in a config file, at a line and column (both 1-based; 0 when the
// problem is not at one place, such as a file that is not YAML at all).
type Issue struct {
	File    string
	Line    int
	Col     int
	Path    string // the key at fault, as "sources[1].secret"; "" for the whole file
	Message string
}

func (i Issue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", i.Line, i.Col)
	}
	b.WriteString(": ")
	if i.Path != "" {
		b.WriteString(i.Path)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Errors is every problem found in a config file, in file order. Its message has one
// "file:line:col: key: sentence" line per problem, the form editors and CI logs link to.
type Errors struct {
	Issues []Issue
}

func (e *Errors) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}
