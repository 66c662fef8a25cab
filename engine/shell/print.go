package shell

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// printEntity prints one entity of a /ksql answer the way the ksql CLI lays
// it out. Entities it does not know are printed as indented JSON, so nothing
// a server says is hidden.
func printEntity(w io.Writer, e map[string]any) {
	str := func(m map[string]any, k string) string {
		switch v := m[k].(type) {
		case nil:
			return ""
		case string:
			return v
		case bool:
			return fmt.Sprint(v)
		case float64:
			return fmt.Sprint(v)
		}
		b, _ := json.Marshal(m[k])
		return string(b)
	}
	list := func(k string) []map[string]any {
		arr, _ := e[k].([]any)
		out := make([]map[string]any, 0, len(arr))
		for _, a := range arr {
			if m, ok := a.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	switch e["@type"] {
	case "currentStatus":
		st, _ := e["commandStatus"].(map[string]any)
		msg := str(st, "message")
		printTable(w, []string{"Message"}, [][]string{{msg}})
	case "streams", "tables":
		what := "Stream"
		if e["@type"] == "tables" {
			what = "Table"
		}
		var rows [][]string
		for _, s := range list(e["@type"].(string)) {
			rows = append(rows, []string{str(s, "name"), str(s, "topic"), str(s, "keyFormat"), str(s, "valueFormat"), str(s, "isWindowed")})
		}
		printTable(w, []string{what + " Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"}, rows)
	case "queries":
		var rows [][]string
		for _, q := range list("queries") {
			sinks := strings.Trim(str(q, "sinks"), "[]\"")
			rows = append(rows, []string{str(q, "id"), str(q, "queryType"), str(q, "state"), sinks, strings.Trim(str(q, "sinkKafkaTopics"), "[]\""), str(q, "queryString")})
		}
		printTable(w, []string{"Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"}, rows)
	case "kafka_topics":
		var rows [][]string
		for _, t := range list("topics") {
			parts := ""
			if ri, ok := t["replicaInfo"].([]any); ok {
				parts = fmt.Sprint(len(ri))
			}
			rows = append(rows, []string{str(t, "name"), parts})
		}
		printTable(w, []string{"Kafka Topic", "Partitions"}, rows)
	case "properties":
		props, _ := e["properties"].([]any)
		var rows [][]string
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				rows = append(rows, []string{str(m, "name"), str(m, "scope"), str(m, "value")})
			}
		}
		printTable(w, []string{"Property", "Scope", "Value"}, rows)
	case "function_names":
		var rows [][]string
		for _, f := range list("functions") {
			rows = append(rows, []string{str(f, "name"), str(f, "category")})
		}
		printTable(w, []string{"Function Name", "Category"}, rows)
	case "type_list":
		types, _ := e["types"].(map[string]any)
		var rows [][]string
		for name, t := range types {
			b, _ := json.Marshal(t)
			rows = append(rows, []string{name, string(b)})
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
		printTable(w, []string{"Type Name", "Schema"}, rows)
	case "sourceDescription":
		d, _ := e["sourceDescription"].(map[string]any)
		fmt.Fprintf(w, "Name                 : %s\n", str(d, "name"))
		fmt.Fprintf(w, "Type                 : %s\n", str(d, "type"))
		fmt.Fprintf(w, "Kafka topic          : %s\n", str(d, "topic"))
		fmt.Fprintf(w, "Key format           : %s\n", str(d, "keyFormat"))
		fmt.Fprintf(w, "Value format         : %s\n", str(d, "valueFormat"))
		var rows [][]string
		fields, _ := d["fields"].([]any)
		for _, f := range fields {
			m, _ := f.(map[string]any)
			typ := ""
			if sc, ok := m["schema"].(map[string]any); ok {
				typ = str(sc, "type")
			}
			if t := str(m, "type"); t == "KEY" || t == "PRIMARY_KEY" {
				typ += " (" + strings.ReplaceAll(strings.ToLower(t), "_", " ") + ")"
			}
			rows = append(rows, []string{str(m, "name"), typ})
		}
		printTable(w, []string{"Field", "Type"}, rows)
	case "describe_function":
		fmt.Fprintf(w, "Name        : %s\n", str(e, "name"))
		fmt.Fprintf(w, "Overview    : %s\n", str(e, "description"))
		fmt.Fprintf(w, "Type        : %s\n", str(e, "type"))
		var rows [][]string
		for _, v := range list("functions") {
			rows = append(rows, []string{str(v, "signature"), str(v, "returnType"), str(v, "description")})
		}
		printTable(w, []string{"Variation", "Returns", "Description"}, rows)
	case "connector_list":
		var rows [][]string
		for _, c := range list("connectors") {
			rows = append(rows, []string{str(c, "name"), str(c, "type"), str(c, "className"), str(c, "state")})
		}
		printTable(w, []string{"Connector Name", "Type", "Class", "Status"}, rows)
	case "statement_error":
		fmt.Fprintln(w, str(e, "message"))
	default:
		b, _ := json.MarshalIndent(e, "", "  ")
		fmt.Fprintln(w, string(b))
	}
}

// printTable prints rows under a header with column widths fitted to the
// content.
func printTable(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) && len(c) > widths[i] {
				widths[i] = len(c)
			}
		}
	}
	printSeparator(w, widths)
	printRow(w, widths, header)
	printSeparator(w, widths)
	for _, r := range rows {
		printRow(w, widths, r)
	}
	printSeparator(w, widths)
}

func printSeparator(w io.Writer, widths []int) {
	var b strings.Builder
	b.WriteByte('+')
	for _, n := range widths {
		b.WriteString(strings.Repeat("-", n+2))
		b.WriteByte('+')
	}
	fmt.Fprintln(w, b.String())
}

func printRow(w io.Writer, widths []int, cells []string) {
	var b strings.Builder
	b.WriteByte('|')
	for i, n := range widths {
		c := ""
		if i < len(cells) {
			c = cells[i]
		}
		fmt.Fprintf(&b, " %-*s |", n, c)
	}
	fmt.Fprintln(w, b.String())
}
