// Package specdoc renders plugin specs as Markdown, for the generated
// reference pages under docs/connect/.
package specdoc

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// Markdown renders specs under a title and an introduction. Plugins that
// share fields (the $Key and $Value forms of a transform) are listed as one
// section naming both.
func Markdown(title, intro string, specs []connect.Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n<!-- Generated from the plugin specs by `go test ./connect/... -rewrite`; do not edit. -->\n\n%s\n", title, intro)
	type group struct {
		names, classes []string
		spec           connect.Spec
	}
	var groups []*group
	byBase := map[string]*group{}
	for _, s := range specs {
		base := strings.TrimSuffix(strings.TrimSuffix(s.Name, "$Key"), "$Value")
		g, ok := byBase[base]
		if !ok {
			g = &group{spec: s}
			byBase[base] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, s.Name)
		g.classes = append(g.classes, s.Aliases...)
	}
	for _, g := range groups {
		base := strings.TrimSuffix(strings.TrimSuffix(g.spec.Name, "$Key"), "$Value")
		doc := strings.TrimSuffix(strings.TrimSuffix(g.spec.Doc, " Applies to the record key."), " Applies to the record value.")
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", base, doc)
		fmt.Fprintf(&b, "Kind: %s. Names: `%s`.\n", g.spec.Kind, strings.Join(append(g.names, g.classes...), "`, `"))
		if len(g.spec.Fields) == 0 {
			b.WriteString("\nNo configuration keys.\n")
			continue
		}
		b.WriteString("\n| Key | Type | Default | Required | Description |\n|---|---|---|---|---|\n")
		for _, f := range g.spec.Fields {
			def := f.Default
			if def != "" {
				def = "`" + def + "`"
			}
			req := ""
			if f.Required {
				req = "yes"
			}
			doc := f.Doc
			if len(f.Recommended) > 0 {
				doc += " One of: `" + strings.Join(f.Recommended, "`, `") + "`."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Name, f.Type, def, req, strings.ReplaceAll(doc, "|", "\\|"))
		}
	}
	return b.String()
}
