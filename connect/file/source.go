// Package file holds the file source and sink connectors, compatible with
// Kafka's FileStreamSource and FileStreamSink (keys file, topic/topics,
// batch.size) and extended with formats, globs, tailing and rotation.
//
// Examples (POST /connectors):
//
//	{"name": "app-logs", "config": {"connector.class": "FileStreamSource",
//	  "file": "/var/log/app/*.log", "topic": "app-logs", "tail": "true"}}
//
//	{"name": "customers-csv", "config": {"connector.class": "file-source",
//	  "file": "/data/customers.csv", "topic": "customers", "format": "csv"}}
//
//	{"name": "orders-archive", "config": {"connector.class": "FileStreamSink",
//	  "topics": "orders", "file": "/archive/${topic}.jsonl",
//	  "rotate.bytes": "104857600", "rotate.interval.ms": "3600000"}}
package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/converters"
)

// Source partition and offset keys, as Kafka's FileStreamSource names them.
const (
	keyFilename = "filename"
	keyPosition = "position"
)

// Task keys the connector adds to divide files among tasks.
const (
	keyTaskIndex = connect.TaskIndexKey
	keyTaskCount = connect.TaskCountKey
)

// SourceSpec declares the file source's configuration.
var SourceSpec = connect.Spec{
	Name: "file-source",
	Aliases: []string{"org.apache.kafka.connect.file.FileStreamSourceConnector",
		"FileStreamSourceConnector", "FileStreamSource"},
	Kind:    connect.SourceKind,
	Version: "1.0.0",
	Doc: "Reads files line by line into a topic. The source offset of a file is the byte position after " +
		"the last record handed over, so a restarted task resumes exactly where the last acknowledged " +
		"record ended. A glob reads several files, one source partition each; with tail=true the task " +
		"keeps reading what is appended (and follows a file that is rotated or truncated).",
	Fields: []connect.FieldSpec{
		{Name: "file", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "File",
			Doc: "Path of the file to read, or a glob (data/*.csv) matching several files. Files matching " +
				"the glob later are picked up at the next scan (poll.interval.ms).",
			Validate: func(v string) error {
				_, err := filepath.Match(v, "")
				return err
			}},
		{Name: "topic", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "File",
			Doc: "Topic to write the records to."},
		{Name: "batch.size", Type: connect.TypeInt, Default: "2000", Importance: "LOW", Group: "File",
			Doc: "Maximum number of records returned by one poll.", Validate: positive},
		{Name: "format", Type: connect.TypeString, Default: "lines", Importance: "HIGH", Group: "Format",
			Recommended: []string{"lines", "json", "csv"},
			Doc: "lines: each line is a string value (as FileStreamSource). json: each line is a JSON object, " +
				"a schemaless map value (blank lines are skipped). csv: each row is a struct of optional " +
				"strings named by the header row or csv.columns."},
		{Name: "csv.columns", Type: connect.TypeList, Importance: "MEDIUM", Group: "Format",
			Doc: "Column names for format=csv. When set, a header row (csv.header=true) is skipped rather than used."},
		{Name: "csv.header", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM", Group: "Format",
			Doc: "Whether the first line of each CSV file is a header row."},
		{Name: "csv.delimiter", Type: connect.TypeString, Default: ",", Importance: "LOW", Group: "Format",
			Doc: "Field delimiter for format=csv: one character, or \\t for a tab.",
			Validate: func(v string) error {
				if _, err := delimiter(v); err != nil {
					return err
				}
				return nil
			}},
		{Name: "tail", Type: connect.TypeBoolean, Default: "false", Importance: "MEDIUM", Group: "File",
			Doc: "Keep reading data appended to the files. Without it a file is read once to its end; a last " +
				"line without a newline is then a record too. In tail mode an unterminated last line waits for its newline."},
		{Name: "poll.interval.ms", Type: connect.TypeLong, Default: "1000", Importance: "LOW", Group: "File",
			Doc:      "How often, with nothing to read, the task looks for appended data and new files matching the glob.",
			Validate: positive},
		{Name: "tasks.max", Type: connect.TypeInt, Default: "1", Importance: "HIGH", Group: "Common",
			Doc:      "Number of tasks. The files matching the glob are spread over the tasks by a hash of their path.",
			Validate: positive},
	},
}

func init() {
	connect.Register(connect.Plugin{Spec: SourceSpec, NewSource: func() connect.SourceConnector { return sourceConnector{} }})
	connect.Register(connect.Plugin{Spec: SinkSpec, NewSink: func() connect.SinkConnector { return sinkConnector{} }})
}

func positive(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

func delimiter(v string) (byte, error) {
	if v == `\t` || v == "\t" {
		return '\t', nil
	}
	if len(v) != 1 || v == "\"" || v == "\n" || v == "\r" {
		return 0, errors.New(`must be one character other than a quote or newline (\t for a tab)`)
	}
	return v[0], nil
}

func validate(spec *connect.Spec, cfg connect.Config) error {
	errs := spec.Validate(cfg)
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return fmt.Errorf("%s: %w", spec.Name, errors.Join(out...))
}

type sourceConnector struct{}

func (sourceConnector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if err := validate(&SourceSpec, cfg); err != nil {
		return nil, err
	}
	return connect.SplitByIndex(cfg, maxTasks), nil
}

func (sourceConnector) NewTask() connect.SourceTask { return &sourceTask{} }

var stringSchema = &connect.Schema{Type: connect.String}

type sourceTask struct {
	pattern      string
	topic        string
	batch        int
	format       string
	tail         bool
	interval     time.Duration
	csvColumns   []string
	csvHeader    bool
	csvDelim     byte
	index, count uint32

	tc       connect.TaskContext
	readers  []*reader // sorted by path
	known    map[string]*reader
	next     int // reader to read first at the next poll, for fairness
	lastScan time.Time
	missing  bool // the pattern matched nothing at the last scan (logged once)
	slab     []connect.Record
	keys     converters.Keys // interned JSON keys (format=json)
	canon    converters.Canonicalizer
	// With useText (connect.JSONTextSourceTask) the JSON text of a poll's
	// records is written into text, reused from poll to poll, instead of
	// one buffer per line.
	useText bool
	text    []byte
}

// UseJSONText lets the task reuse the memory of its records' JSON text
// from one poll to the next (connect.JSONTextSourceTask): the runtime
// copies what it produces.
func (t *sourceTask) UseJSONText() { t.useText = true }

func (t *sourceTask) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	if err := validate(&SourceSpec, cfg); err != nil {
		return err
	}
	t.tc = tc
	t.pattern = cfg["file"]
	t.topic = cfg["topic"]
	t.batch = int(cfg.Int(&SourceSpec, "batch.size"))
	t.format = strings.ToLower(cfg.String(&SourceSpec, "format"))
	t.tail = cfg.Bool(&SourceSpec, "tail")
	t.interval = time.Duration(cfg.Int(&SourceSpec, "poll.interval.ms")) * time.Millisecond
	t.csvColumns = cfg.List(&SourceSpec, "csv.columns")
	t.csvHeader = cfg.Bool(&SourceSpec, "csv.header")
	t.csvDelim, _ = delimiter(cfg.String(&SourceSpec, "csv.delimiter"))
	idx, _ := strconv.ParseUint(cfg[keyTaskIndex], 10, 32)
	cnt, _ := strconv.ParseUint(cfg[keyTaskCount], 10, 32)
	t.index, t.count = uint32(idx), uint32(max(cnt, 1))
	t.known = map[string]*reader{}
	return t.scan()
}

// scan opens the files matching the pattern that belong to this task and
// were not seen before.
func (t *sourceTask) scan() error {
	t.lastScan = time.Now()
	paths, err := filepath.Glob(t.pattern)
	if err != nil {
		return fmt.Errorf("file-source: file %q: %w", t.pattern, err)
	}
	if len(paths) == 0 && !t.missing {
		t.tc.Logger().Warn("no file matches; waiting for one to appear", "file", t.pattern)
	}
	t.missing = len(paths) == 0
	added := false
	for _, p := range paths {
		if _, ok := t.known[p]; ok || !t.owns(p) {
			continue
		}
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		r, err := t.open(p)
		if err != nil {
			return err
		}
		t.known[p] = r
		t.readers = append(t.readers, r)
		added = true
	}
	if added {
		sort.Slice(t.readers, func(i, j int) bool { return t.readers[i].path < t.readers[j].path })
	}
	return nil
}

func (t *sourceTask) owns(path string) bool {
	if t.count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(path))
	return h.Sum32()%t.count == t.index
}

func (t *sourceTask) open(path string) (*reader, error) {
	r := &reader{path: path, partition: map[string]any{keyFilename: path}}
	off, err := t.tc.Offset(r.partition)
	if err != nil {
		return nil, fmt.Errorf("file-source: offset of %s: %w", path, err)
	}
	if off != nil {
		pos, err := offsetInt(off, keyPosition)
		if err != nil {
			return nil, fmt.Errorf("file-source: stored offset of %s: %w", path, err)
		}
		r.pos = pos
	}
	if err := r.open(t); err != nil {
		return nil, err
	}
	t.tc.Logger().Info("reading file", "file", path, "position", r.pos, "format", t.format)
	return r, nil
}

func offsetInt(off map[string]any, key string) (int64, error) {
	switch v := off[key].(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case interface{ Int64() (int64, error) }:
		return v.Int64()
	case nil:
		return 0, fmt.Errorf("%s is missing", key)
	default:
		return 0, fmt.Errorf("%s is a %T, not a number", key, v)
	}
}

func (t *sourceTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	for {
		if time.Since(t.lastScan) >= t.interval {
			if err := t.scan(); err != nil {
				return nil, err
			}
		}
		recs, err := t.read()
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		timer := time.NewTimer(t.interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil
		case <-timer.C:
		}
	}
}

// read reads up to batch records, starting at a different file each poll so
// that one busy file does not starve the others.
func (t *sourceTask) read() ([]*connect.Record, error) {
	var out []*connect.Record
	t.text = t.text[:0] // the runtime is done with the last poll's records
	n := len(t.readers)
	for i := 0; i < n && len(out) < t.batch; i++ {
		r := t.readers[(t.next+i)%n]
		var err error
		if out, err = r.read(t, out, t.batch); err != nil {
			return nil, err
		}
	}
	if n > 0 {
		t.next = (t.next + 1) % n
	}
	return out, nil
}

// newRecord hands out records from a slab, one allocation per batch. A
// record not returned (a blank line) is simply overwritten by the next one.
func (t *sourceTask) newRecord() *connect.Record {
	if len(t.slab) == 0 {
		t.slab = make([]connect.Record, t.batch)
	}
	rec := &t.slab[0]
	*rec = connect.Record{}
	return rec
}

func (t *sourceTask) Commit(context.Context) error { return nil }

func (t *sourceTask) Stop() error {
	var errs []error
	for _, r := range t.readers {
		errs = append(errs, r.close())
	}
	t.readers, t.known = nil, map[string]*reader{}
	return errors.Join(errs...)
}

// reader reads one file from a byte position.
type reader struct {
	path      string
	partition map[string]any
	f         *os.File
	br        *bufio.Reader
	pos       int64  // offset after the last record handed over
	readPos   int64  // offset after the bytes in line and pending
	line      []byte // a line being assembled across reads (long or unterminated)
	pending   []byte // complete lines of an unfinished CSV record (open quote)
	done      bool   // read to its end (without tail)
	columns   *connect.Schema
}

func (r *reader) open(t *sourceTask) error {
	f, err := os.Open(r.path)
	if err != nil {
		return fmt.Errorf("file-source: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file-source: %w", err)
	}
	if r.pos > st.Size() {
		t.tc.Logger().Warn("file is shorter than the stored position; reading it from the start (truncated or replaced)",
			"file", r.path, "position", r.pos, "size", st.Size())
		r.pos = 0
	}
	r.f, r.br = f, bufio.NewReaderSize(f, 64<<10)
	if t.format == "csv" {
		if err := r.readHeader(t); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Seek(r.pos, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("file-source: seek %s to %d: %w", r.path, r.pos, err)
	}
	r.br.Reset(f)
	r.readPos, r.line, r.pending, r.done = r.pos, r.line[:0], r.pending[:0], false
	return nil
}

// readHeader sets the CSV columns from csv.columns or the header row, and
// moves a position of 0 past the header row.
func (r *reader) readHeader(t *sourceTask) error {
	names := t.csvColumns
	if t.csvHeader {
		line, err := bufio.NewReader(r.f).ReadBytes('\n')
		if err != nil && !(err == io.EOF && len(line) > 0) {
			if err == io.EOF {
				return fmt.Errorf("file-source: %s: empty file, expected a CSV header row (or set csv.header=false and csv.columns)", r.path)
			}
			return fmt.Errorf("file-source: %s: %w", r.path, err)
		}
		if r.pos == 0 {
			r.pos = int64(len(line))
		}
		if len(names) == 0 {
			fields, ok := parseCSV(trimEOL(line), t.csvDelim)
			if !ok {
				return fmt.Errorf("file-source: %s: header row has an unterminated quote", r.path)
			}
			names = fields
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("file-source: %s: no CSV columns; set csv.columns or csv.header=true", r.path)
	}
	s := &connect.Schema{Type: connect.Struct}
	for i, n := range names {
		if n == "" {
			n = "column" + strconv.Itoa(i+1)
		}
		s.Fields = append(s.Fields, connect.Field{Name: n, Schema: &connect.Schema{Type: connect.String, Optional: true}})
	}
	r.columns = s
	return nil
}

func trimEOL(b []byte) []byte {
	b = b[:len(b)-boolInt(len(b) > 0 && b[len(b)-1] == '\n')]
	return b[:len(b)-boolInt(len(b) > 0 && b[len(b)-1] == '\r')]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *reader) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// read appends up to limit records in total to out.
func (r *reader) read(t *sourceTask, out []*connect.Record, limit int) ([]*connect.Record, error) {
	if r.done || r.f == nil {
		return out, nil
	}
	for len(out) < limit {
		line, ok, err := r.nextLine(t.tail)
		if err != nil {
			return nil, fmt.Errorf("file-source: read %s: %w", r.path, err)
		}
		if !ok {
			if t.tail {
				if err := r.checkReplaced(t); err != nil {
					return nil, err
				}
			} else {
				r.done = true
				t.tc.Logger().Info("read file to its end", "file", r.path, "position", r.pos)
			}
			return out, nil
		}
		rec, err := r.record(t, line)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			out = append(out, rec)
			t.slab = t.slab[1:]
		}
	}
	return out, nil
}

// nextLine returns the next complete line without its line ending. At the
// end of the file, an unterminated last line counts as complete unless
// tailing. ok is false when no complete line is available.
func (r *reader) nextLine(tail bool) ([]byte, bool, error) {
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.readPos += int64(len(chunk))
		switch {
		case err == nil:
			if len(r.line) == 0 {
				return trimEOL(chunk), true, nil // the common case: no copy
			}
			r.line = append(r.line, chunk...)
			line := r.line
			r.line = r.line[:0]
			return trimEOL(line), true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.line = append(r.line, chunk...)
		case errors.Is(err, io.EOF):
			r.line = append(r.line, chunk...)
			if tail || len(r.line) == 0 {
				return nil, false, nil
			}
			line := r.line
			r.line = r.line[:0]
			return trimEOL(line), true, nil
		default:
			return nil, false, err
		}
	}
}

// checkReplaced reopens the path when the file was truncated or replaced by
// a new one (log rotation). Lines appended to the old file before it was
// replaced were read already: this is called only at its end.
func (r *reader) checkReplaced(t *sourceTask) error {
	st, err := os.Stat(r.path)
	if err != nil {
		return nil // moved away and not recreated yet: keep waiting
	}
	cur, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("file-source: %s: %w", r.path, err)
	}
	replaced := !os.SameFile(st, cur)
	if !replaced && st.Size() >= r.readPos {
		return nil
	}
	t.tc.Logger().Info("file was replaced or truncated; reading it from the start", "file", r.path, "replaced", replaced)
	r.close()
	r.pos = 0
	return r.open(t)
}

// record turns a line into a record, or nil for a line that makes none
// (a blank JSON or CSV line, a CSV row continued on the next line).
func (r *reader) record(t *sourceTask, line []byte) (*connect.Record, error) {
	rec := t.newRecord()
	rec.Topic, rec.Partition, rec.SourcePartition = t.topic, -1, r.partition
	switch t.format {
	case "json":
		if len(bytes.TrimSpace(line)) == 0 {
			r.pos = r.readPos
			return nil, nil
		}
		// The line as canonical JSON text, which a JSON converter writes as
		// it is; lines it does not take (errors included) are parsed as before.
		var dst []byte
		if t.useText {
			dst = t.text
		}
		if text, ok := t.canon.Object(line, dst); ok {
			if t.useText {
				// Capped: the next line's text goes after it.
				t.text, text = text, text[len(dst):len(text):len(text)]
			}
			rec.ValueJSON = text
			break
		}
		v, err := decodeObject(line, &t.keys)
		if err != nil {
			return nil, fmt.Errorf("file-source: %s: line at byte %d: %w", r.path, r.pos, err)
		}
		rec.Value = v
	case "csv":
		if len(r.pending) == 0 && len(line) == 0 {
			r.pos = r.readPos
			return nil, nil
		}
		if len(r.pending) > 0 {
			r.pending = append(append(r.pending, '\n'), line...)
			line = r.pending
		}
		fields, ok := parseCSV(line, t.csvDelim)
		if !ok { // a quoted field goes on over the next line
			if len(r.pending) == 0 {
				r.pending = append(r.pending, line...)
			}
			return nil, nil
		}
		r.pending = r.pending[:0]
		if len(fields) > len(r.columns.Fields) {
			return nil, fmt.Errorf("file-source: %s: row at byte %d has %d fields, more than the %d columns",
				r.path, r.pos, len(fields), len(r.columns.Fields))
		}
		sv := connect.NewStruct(r.columns)
		for i, f := range fields {
			sv.Values[i] = f
		}
		rec.Value, rec.ValueSchema = sv, r.columns
	default:
		rec.Value, rec.ValueSchema = string(line), stringSchema
	}
	r.pos = r.readPos
	rec.SourceOffset = map[string]any{keyPosition: r.pos}
	return rec, nil
}

// decodeObject decodes a JSON object as a schemaless Connect map: integers
// become int64, other numbers float64, as JsonConverter reads them.
func decodeObject(line []byte, keys *converters.Keys) (map[string]any, error) {
	v, err := converters.ParseSchemalessKeys(line, keys)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a JSON object, got %s", kindOf(v))
	}
	return m, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// parseCSV splits one CSV record (RFC 4180 quoting: "a,b" and "" for a
// quote). ok is false when a quoted field is not closed: the record goes on
// over the next line.
func parseCSV(line []byte, delim byte) (fields []string, ok bool) {
	var field []byte
	quoted, inQuotes := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuotes:
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					field = append(field, '"')
					i++
				} else {
					inQuotes = false
				}
			} else {
				field = append(field, c)
			}
		case c == '"' && len(field) == 0 && !quoted:
			inQuotes, quoted = true, true
		case c == delim:
			fields = append(fields, string(field))
			field, quoted = field[:0], false
		default:
			field = append(field, c)
		}
	}
	if inQuotes {
		return nil, false
	}
	return append(fields, string(field)), true
}
