// Package connectordoc writes the reference pages docs/connectors/<name>.md
// from the connector plugins' specs, so the docs cannot drift from the code.
package connectordoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// HandWritten marks the start of a hand-written part of a connector page
// (a guide beyond the key reference): Write keeps it when it regenerates
// the page.
const HandWritten = "<!-- Hand-written from here on: kept by `sluice connect docs`. -->"

// Page renders one connector's page.
func Page(p *connect.Plugin) string {
	s := p.Spec
	var b strings.Builder
	fmt.Fprintf(&b, "# %s (%s connector)\n\n<!-- Generated from the plugin spec by `sluice connect docs docs/connectors`; do not edit. -->\n\n", s.Name, s.Kind)
	if s.Doc != "" {
		fmt.Fprintf(&b, "%s\n\n", s.Doc)
	}
	names := append([]string{s.Name}, s.Aliases...)
	fmt.Fprintf(&b, "`connector.class`: `%s`", strings.Join(names, "` or `"))
	if s.Version != "" {
		fmt.Fprintf(&b, " (version %s)", s.Version)
	}
	b.WriteString(".\n\n## Example\n\n```sh\n")
	cfg := map[string]string{"connector.class": s.Name}
	for _, f := range s.Fields {
		if f.Required && f.Default == "" {
			cfg[f.Name] = "<" + strings.ToLower(string(f.Type)) + ">"
		}
	}
	if s.Kind == connect.SinkKind {
		if _, ok := cfg["topics"]; !ok {
			cfg["topics"] = "<topic>"
		}
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}{"my-" + s.Name, cfg})
	fmt.Fprintf(&b, "curl -s -X POST -H 'Content-Type: application/json' http://localhost:8083/connectors -d '%s'\n```\n\n", strings.TrimSpace(body.String()))
	b.WriteString("The runtime's own keys (`tasks.max`, converters, `transforms`, `errors.*`")
	if s.Kind == connect.SinkKind {
		b.WriteString(", `topics`/`topics.regex`, dead-letter queue")
	} else {
		b.WriteString(", `exactly.once.support`")
	}
	b.WriteString(") work for every connector: see [the connector runtime](../connect.md).\n\n## Configuration\n\n")
	if len(s.Fields) == 0 {
		b.WriteString("No configuration keys of its own.\n")
		return b.String()
	}
	groups := map[string][]connect.FieldSpec{}
	var order []string
	for _, f := range s.Fields {
		g := f.Group
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], f)
	}
	for _, g := range order {
		if g != "" && len(order) > 1 {
			fmt.Fprintf(&b, "### %s\n\n", g)
		}
		b.WriteString("| Key | Type | Default | Required | Importance | Description |\n|---|---|---|---|---|---|\n")
		for _, f := range groups[g] {
			def := f.Default
			if def != "" {
				def = "`" + def + "`"
			}
			req := ""
			if f.Required && f.Default == "" {
				req = "yes"
			}
			doc := f.Doc
			if len(f.Recommended) > 0 {
				doc += " One of: `" + strings.Join(f.Recommended, "`, `") + "`."
			}
			if f.Type == connect.TypePassword {
				doc += " Secret: never shown by the REST API or logs."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", f.Name, f.Type, def, req, f.Importance,
				strings.ReplaceAll(strings.ReplaceAll(doc, "|", "\\|"), "\n", " "))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// Index renders the list of connectors linking to their pages.
func Index(plugins []*connect.Plugin) string {
	var b strings.Builder
	b.WriteString("# Connectors\n\n<!-- Generated from the plugin specs by `sluice connect docs docs/connectors`; do not edit. -->\n\n")
	b.WriteString("| Connector | Kind | Class names | Description |\n|---|---|---|---|\n")
	for _, p := range plugins {
		doc, _, _ := strings.Cut(p.Spec.Doc, "\n")
		if i := strings.Index(doc, ". "); i >= 0 {
			doc = doc[:i+1] // the first sentence; the page has the rest
		}
		fmt.Fprintf(&b, "| [%s](%s.md) | %s | `%s` | %s |\n", p.Spec.Name, p.Spec.Name, p.Spec.Kind,
			strings.Join(p.Spec.Aliases, "`, `"), strings.ReplaceAll(doc, "|", "\\|"))
	}
	return b.String()
}

// Connectors returns the registered source and sink plugins, sorted.
func Connectors() []*connect.Plugin {
	var out []*connect.Plugin
	for _, p := range connect.Plugins() {
		if p.Spec.Kind == connect.SourceKind || p.Spec.Kind == connect.SinkKind {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out
}

// Write writes one page per connector and README.md into dir and returns
// the files written.
func Write(dir string, plugins []*connect.Plugin) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	write := func(name, text string) error {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		files = append(files, path)
		return nil
	}
	for _, p := range plugins {
		page := Page(p)
		// A page may carry a hand-written guide after the marker; it is kept.
		if old, err := os.ReadFile(filepath.Join(dir, p.Spec.Name+".md")); err == nil {
			if i := bytes.Index(old, []byte(HandWritten)); i >= 0 {
				page += "\n" + string(old[i:])
			}
		}
		if err := write(p.Spec.Name+".md", page); err != nil {
			return files, err
		}
	}
	return files, write("README.md", Index(plugins))
}
