// Package shell is `sluice sql`: an interactive SQL shell in the style of the
// ksql CLI, talking to a server over ksqlDB's REST API (/ksql for statements,
// /query for SELECT and PRINT). Because it only speaks that API, it works
// against a Sluice server and against ksqlDB.
//
// Session state is kept client-side as the ksql CLI keeps it: SET/UNSET
// properties travel as streamsProperties, DEFINE/UNDEFINE variables as
// sessionVariables.
package shell

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Shell runs statements against one server and prints the answers.
type Shell struct {
	Server string // base URL, e.g. http://127.0.0.1:8088
	HTTP   *http.Client
	Out    io.Writer

	props map[string]any
	vars  map[string]string
	// depth guards RUN SCRIPT recursion.
	depth int
}

// New returns a shell for server writing to out.
func New(server string, out io.Writer) *Shell {
	return &Shell{Server: strings.TrimRight(server, "/"), HTTP: http.DefaultClient, Out: out,
		props: map[string]any{}, vars: map[string]string{}}
}

// RunScript executes every statement of r in order and stops at the first
// failing one, returning its error (the non-interactive mode: `-f file` or a
// pipe on stdin).
func (s *Shell) RunScript(ctx context.Context, r io.Reader) error {
	var sp splitter
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !sp.pending() && isExit(line) {
			return nil
		}
		for _, stmt := range sp.add(line) {
			if err := s.Execute(ctx, stmt); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if rest := sp.rest(); rest != "" {
		return fmt.Errorf("statement not terminated by ';': %s", rest)
	}
	return nil
}

func isExit(line string) bool {
	l := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), ";")))
	return l == "exit" || l == "quit"
}

var (
	setRe      = regexp.MustCompile(`(?is)^SET\s+'([^']+)'\s*=\s*'((?:[^']|'')*)'\s*;$`)
	unsetRe    = regexp.MustCompile(`(?is)^UNSET\s+'([^']+)'\s*;$`)
	defineRe   = regexp.MustCompile(`(?is)^DEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^']|'')*)'\s*;$`)
	undefineRe = regexp.MustCompile(`(?is)^UNDEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*;$`)
	runRe      = regexp.MustCompile(`(?is)^RUN\s+SCRIPT\s+'((?:[^']|'')*)'\s*;$`)
	showVarsRe = regexp.MustCompile(`(?is)^(SHOW|LIST)\s+VARIABLES\s*;$`)
	queryRe    = regexp.MustCompile(`(?is)^(SELECT|PRINT)\b`)
)

// Execute runs one statement (terminated by ';').
func (s *Shell) Execute(ctx context.Context, stmt string) error {
	stmt = strings.TrimSpace(stmt)
	switch {
	case setRe.MatchString(stmt):
		m := setRe.FindStringSubmatch(stmt)
		s.props[m[1]] = strings.ReplaceAll(m[2], "''", "'")
		fmt.Fprintf(s.Out, "Successfully changed local property '%s' to '%s'.\n", m[1], s.props[m[1]])
		return nil
	case unsetRe.MatchString(stmt):
		m := unsetRe.FindStringSubmatch(stmt)
		delete(s.props, m[1])
		fmt.Fprintf(s.Out, "Successfully unset local property '%s'.\n", m[1])
		return nil
	case defineRe.MatchString(stmt):
		m := defineRe.FindStringSubmatch(stmt)
		s.vars[m[1]] = strings.ReplaceAll(m[2], "''", "'")
		return nil
	case undefineRe.MatchString(stmt):
		m := undefineRe.FindStringSubmatch(stmt)
		if _, ok := s.vars[m[1]]; !ok {
			fmt.Fprintf(s.Out, "Variable '%s' is undefined\n", m[1])
		}
		delete(s.vars, m[1])
		return nil
	case showVarsRe.MatchString(stmt):
		var rows [][]string
		for k, v := range s.vars {
			rows = append(rows, []string{k, v})
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
		printTable(s.Out, []string{"Variable Name", "Value"}, rows)
		return nil
	case runRe.MatchString(stmt):
		return s.runScriptFile(ctx, strings.ReplaceAll(runRe.FindStringSubmatch(stmt)[1], "''", "'"))
	case queryRe.MatchString(stmt):
		return s.query(ctx, stmt)
	}
	return s.ksql(ctx, stmt)
}

func (s *Shell) runScriptFile(ctx context.Context, path string) error {
	if s.depth >= 8 {
		return fmt.Errorf("RUN SCRIPT %s: scripts nested more than 8 deep", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("RUN SCRIPT: %w", err)
	}
	defer f.Close()
	s.depth++
	defer func() { s.depth-- }()
	return s.RunScript(ctx, f)
}

func (s *Shell) body(stmt string) []byte {
	b, _ := json.Marshal(map[string]any{"ksql": stmt, "streamsProperties": s.props, "sessionVariables": s.vars})
	return b
}

func (s *Shell) post(ctx context.Context, path string, stmt string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Server+path, bytes.NewReader(s.body(stmt)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/vnd.ksql.v1+json")
	req.Header.Set("Accept", "application/vnd.ksql.v1+json")
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the server at %s: %w", s.Server, err)
	}
	return resp, nil
}

// ksql sends a statement to /ksql and prints each entity of the answer.
func (s *Shell) ksql(ctx context.Context, stmt string) error {
	resp, err := s.post(ctx, "/ksql", stmt)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return serverError(resp.StatusCode, data)
	}
	var entities []map[string]any
	if err := json.Unmarshal(data, &entities); err != nil {
		return fmt.Errorf("unexpected answer from the server (%s): %s", err, truncate(data))
	}
	for _, e := range entities {
		printEntity(s.Out, e)
	}
	return nil
}

func serverError(status int, data []byte) error {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		return errors.New(e.Message)
	}
	return fmt.Errorf("server answered %d: %s", status, truncate(data))
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// query runs a SELECT or PRINT through /query and prints rows as they arrive,
// until the server ends the stream or ctx is cancelled (Ctrl-C).
func (s *Shell) query(ctx context.Context, stmt string) error {
	resp, err := s.post(ctx, "/query", stmt)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(resp.Body)
		return serverError(resp.StatusCode, data)
	}
	if strings.HasPrefix(strings.ToUpper(stmt), "PRINT") {
		// PRINT answers plain text lines.
		_, err := io.Copy(s.Out, resp.Body)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the opening '['
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("reading query results: %w", err)
	}
	var cols []string
	var widths []int
	rows := 0
	for dec.More() {
		var msg struct {
			Header *struct {
				QueryID string `json:"queryId"`
				Schema  string `json:"schema"`
			} `json:"header"`
			Row *struct {
				Columns []any `json:"columns"`
			} `json:"row"`
			FinalMessage string          `json:"finalMessage"`
			ErrorMessage json.RawMessage `json:"errorMessage"`
		}
		if err := dec.Decode(&msg); err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("reading query results: %w", err)
		}
		switch {
		case msg.Header != nil:
			cols = SchemaColumns(msg.Header.Schema)
			widths = make([]int, len(cols))
			for i, c := range cols {
				widths[i] = max(len(c), 10)
			}
			printSeparator(s.Out, widths)
			printRow(s.Out, widths, cols)
			printSeparator(s.Out, widths)
		case msg.Row != nil:
			cells := make([]string, len(msg.Row.Columns))
			for i, c := range msg.Row.Columns {
				cells[i] = cellText(c)
			}
			if widths == nil {
				widths = make([]int, len(cells))
				for i := range widths {
					widths[i] = 10
				}
			}
			printRow(s.Out, widths, cells)
			rows++
		case msg.FinalMessage != "":
			fmt.Fprintln(s.Out, msg.FinalMessage)
		case msg.ErrorMessage != nil:
			var e struct {
				Message string `json:"message"`
			}
			json.Unmarshal(msg.ErrorMessage, &e)
			return errors.New(e.Message)
		}
	}
	if widths != nil {
		printSeparator(s.Out, widths)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(s.Out, "Query terminated")
	}
	return nil
}

// SchemaColumns reads the column names of a ksqlDB schema string such as
// "`ID` INTEGER, `S` STRUCT<`A` STRING, `B` INT>".
func SchemaColumns(schema string) []string {
	var cols []string
	depth := 0
	start := 0
	inQuote := false
	for i := 0; i <= len(schema); i++ {
		if i < len(schema) {
			switch c := schema[i]; {
			case c == '`':
				inQuote = !inQuote
				continue
			case inQuote:
				continue
			case c == '<' || c == '(':
				depth++
				continue
			case c == '>' || c == ')':
				depth--
				continue
			case c != ',' || depth > 0:
				continue
			}
		}
		part := strings.TrimSpace(schema[start:i])
		start = i + 1
		if part == "" {
			continue
		}
		if strings.HasPrefix(part, "`") {
			if end := strings.Index(part[1:], "`"); end >= 0 {
				cols = append(cols, part[1:1+end])
				continue
			}
		}
		cols = append(cols, strings.Fields(part)[0])
	}
	return cols
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
