package funcs

import (
	"fmt"
	"strings"
)

// Summary is one row of SHOW FUNCTIONS.
type Summary struct {
	Name     string
	Category Category
	Kind     Kind
}

// List returns the SHOW FUNCTIONS rows sorted by name.
func (r *Registry) List() []Summary {
	fs := r.Functions()
	out := make([]Summary, len(fs))
	for i, f := range fs {
		out[i] = Summary{f.Name, f.Category, f.Kind}
	}
	return out
}

// Description is the data of DESCRIBE FUNCTION.
type Description struct {
	Name       string
	Kind       Kind
	Category   Category
	Overview   string
	Variations []Variation
}

// Variation describes one variant.
type Variation struct {
	Signature   string
	Returns     string
	Description string
	Params      []Param
}

// Describe returns the DESCRIBE FUNCTION data of name.
func (r *Registry) Describe(name string) (Description, error) {
	f, ok := r.Lookup(name)
	if !ok {
		return Description{}, fmt.Errorf("can't find any functions with the name '%s'", strings.ToUpper(name))
	}
	d := Description{Name: f.Name, Kind: f.Kind, Category: f.Category, Overview: f.Description}
	for i := range f.Variants {
		v := &f.Variants[i]
		ret := v.ReturnDoc
		if ret == "" {
			ret = v.Returns.String()
		}
		d.Variations = append(d.Variations, Variation{
			Signature: signature(f.Name, v), Returns: ret, Description: v.Doc, Params: v.Params,
		})
	}
	return d, nil
}

// signature prints NAME(p1 T1, p2 T2...) with a variadic last parameter
// written as T...
func signature(name string, v *Variant) string {
	ps := make([]string, len(v.Params))
	for i, p := range v.Params {
		ps[i] = p.Name + " " + p.Type.String()
		if v.Variadic && i == len(v.Params)-1 {
			ps[i] += "..."
		}
	}
	return name + "(" + strings.Join(ps, ", ") + ")"
}

// String renders the description as ksqlDB's CLI prints DESCRIBE FUNCTION.
func (d Description) String() string {
	var b strings.Builder
	row := func(indent, k, v string) { fmt.Fprintf(&b, "%s%-12s: %s\n", indent, k, v) }
	row("", "Name", d.Name)
	row("", "Author", "Confluent")
	row("", "Overview", d.Overview)
	row("", "Type", d.Kind.String())
	row("", "Category", string(d.Category))
	row("", "Jar", "internal")
	row("", "Variations", "")
	for _, v := range d.Variations {
		b.WriteString("\n")
		row("\t", "Variation", v.Signature)
		row("\t", "Returns", v.Returns)
		if v.Description != "" {
			row("\t", "Description", v.Description)
		}
		for _, p := range v.Params {
			if p.Doc != "" {
				row("\t", p.Name, p.Doc)
			}
		}
	}
	return b.String()
}
