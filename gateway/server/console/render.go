package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Renderer executes the console's pages. Every templates/page_<name>.html defines the blocks
// "content" (the page's main element) and is rendered inside templates/layout.html; every
// templates/part_*.html is shared by all pages.
type Renderer struct {
	pages map[string]*template.Template
}

// NewRenderer parses every template once.
func NewRenderer() (*Renderer, error) {
	base, err := template.New("layout.html").Funcs(funcs()).ParseFS(templateFiles, "templates/layout.html", "templates/layout_public.html")
	if err != nil {
		return nil, fmt.Errorf("parse console layout: %w", err)
	}
	parts, err := fs.Glob(templateFiles, "templates/part_*.html")
	if err != nil {
		return nil, err
	}
	if len(parts) > 0 {
		if base, err = base.ParseFS(templateFiles, parts...); err != nil {
			return nil, fmt.Errorf("parse console partials: %w", err)
		}
	}
	files, err := fs.Glob(templateFiles, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(f), "page_"), ".html")
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, f)
		if err != nil {
			return nil, fmt.Errorf("parse console page %s: %w", name, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Render writes page (the name of templates/page_<page>.html) inside the layout. The page is
// rendered into a buffer first, so a template error never leaves half a page.
func (r *Renderer) Render(w io.Writer, page string, v *View) error {
	return r.render(w, "layout.html", page, v)
}

// RenderPublic writes page inside templates/layout_public.html: the page alone, with the
// console's stylesheet but none of its navigation, sign-in or language switch, for pages
// people outside the team see (the customer pause page).
func (r *Renderer) RenderPublic(w io.Writer, page string, v *View) error {
	return r.render(w, "layout_public.html", page, v)
}

func (r *Renderer) render(w io.Writer, layout, page string, v *View) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("console page %q does not exist", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layout, v); err != nil {
		return fmt.Errorf("render console page %s: %w", page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Pages lists the page names the renderer knows.
func (r *Renderer) Pages() []string {
	names := make([]string, 0, len(r.pages))
	for n := range r.pages {
		names = append(names, n)
	}
	return names
}

// Static serves the embedded assets (stylesheet, icon) under whatever prefix the caller
// strips.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static") // the directory is embedded: cannot fail
	return http.FileServerFS(sub)
}

// funcs are the template helpers that do not need the view.
func funcs() template.FuncMap {
	return template.FuncMap{
		"join": strings.Join,
		"args": args,
	}
}

// args builds the named arguments of a partial template ("count-table") from key, value
// pairs: {{template "count-table" (args "V" $ "ID" "table-x" …)}}.
func args(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("args takes key, value pairs; got %d values", len(kv))
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("args: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
