package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/keyorder"
	"github.com/sluicedata/sluice/connect/recordjson"
)

// SinkSpec declares the file sink's configuration.
var SinkSpec = connect.Spec{
	Name: "file-sink",
	Aliases: []string{"org.apache.kafka.connect.file.FileStreamSinkConnector",
		"FileStreamSinkConnector", "FileStreamSink"},
	Kind:    connect.SinkKind,
	Version: "1.0.0",
	Doc: "Appends one line per record to a file: strings and bytes as they are, structs, maps and arrays " +
		"as JSON (format=lines), or every value as JSON (format=json). Flush writes and fsyncs, so offsets " +
		"are committed only for records on disk; a last line without a newline, left by a crash, is cut " +
		"off when the task opens the file (its record is delivered again). The active file can be rotated by size or age: it is " +
		"fsynced, renamed after rotate.format and a new one started at the same path.",
	Fields: []connect.FieldSpec{
		{Name: "file", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "File",
			Doc: "Path of the file to append to. ${topic} and ${partition} in the path give one file per topic or partition; missing directories are created."},
		{Name: "topics", Type: connect.TypeList, Importance: "HIGH", Group: "Common",
			Doc: "Topics to read (or topics.regex), as for every sink connector."},
		{Name: "format", Type: connect.TypeString, Default: "lines", Importance: "MEDIUM", Group: "Format",
			Recommended: []string{"lines", "json"},
			Doc:         "lines: strings and bytes as they are, other values as JSON; a null value is the line null. json: every value as JSON (strings quoted)."},
		{Name: "rotate.bytes", Type: connect.TypeLong, Default: "0", Importance: "MEDIUM", Group: "Rotation",
			Doc:      "Rotate the file once it holds at least this many bytes; 0 turns size rotation off.",
			Validate: nonNegative},
		{Name: "rotate.interval.ms", Type: connect.TypeLong, Default: "0", Importance: "MEDIUM", Group: "Rotation",
			Doc:      "Rotate a non-empty file once it is this old (checked at each put and flush); 0 turns time rotation off.",
			Validate: nonNegative},
		{Name: "rotate.format", Type: connect.TypeString, Default: "${file}.${timestamp}", Importance: "LOW", Group: "Rotation",
			Doc: "Name of a rotated file. ${file} is the active file's path, ${timestamp} the rotation time " +
				"(UTC, 20060102T150405.000Z), ${index} a counter per active file. A name that exists already gets a .N suffix.",
			Validate: func(v string) error {
				if !strings.Contains(v, "${file}") && !strings.Contains(v, "${timestamp}") && !strings.Contains(v, "${index}") {
					return errors.New("must contain ${file}, ${timestamp} or ${index}, or every rotation would overwrite the last")
				}
				return nil
			}},
	},
}

func nonNegative(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 0 {
		return errors.New("must be 0 or more")
	}
	return nil
}

type sinkConnector struct{}

func (sinkConnector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if err := validate(&SinkSpec, cfg); err != nil {
		return nil, err
	}
	out := make([]connect.Config, max(maxTasks, 1))
	for i := range out {
		out[i] = cfg
	}
	return out, nil
}

func (sinkConnector) NewTask() connect.SinkTask { return &sinkTask{} }

type sinkTask struct {
	path           string
	templated      bool // path holds ${topic} or ${partition}
	json           bool
	rotateBytes    int64
	rotateInterval time.Duration
	rotateFormat   string
	tc             connect.TaskContext
	files          map[string]*outFile
	buf            []byte
	now            func() time.Time
	order          keyorder.Cache // key order of schemaless objects, kept across records
}

type outFile struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	size   int64
	opened time.Time
	index  int
}

func (t *sinkTask) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	if err := validate(&SinkSpec, cfg); err != nil {
		return err
	}
	t.tc = tc
	t.path = cfg["file"]
	t.templated = strings.Contains(t.path, "${")
	t.json = strings.EqualFold(cfg.String(&SinkSpec, "format"), "json")
	t.rotateBytes = cfg.Int(&SinkSpec, "rotate.bytes")
	t.rotateInterval = time.Duration(cfg.Int(&SinkSpec, "rotate.interval.ms")) * time.Millisecond
	t.rotateFormat = cfg.String(&SinkSpec, "rotate.format")
	t.files = map[string]*outFile{}
	if t.now == nil {
		t.now = time.Now
	}
	return nil
}

// ReadsValuesOnly says that Put reads no key nor header
// (connect.ValueSinkTask): the line is the value, the file name uses the
// topic and partition only.
func (t *sinkTask) ReadsValuesOnly() {}

// Put writes the records' lines. A record whose value cannot be written as
// JSON is reported in a RecordError; the others are written.
func (t *sinkTask) Put(ctx context.Context, records []*connect.Record) error {
	var failed map[*connect.Record]error
	for _, r := range records {
		of, err := t.file(r)
		if err != nil {
			return err
		}
		if err := t.rotateIfOld(of); err != nil {
			return err
		}
		var n int
		if v, ok := r.Value.(string); ok && !t.json {
			// Straight into the file's buffer; as line does it.
			if _, err := of.w.WriteString(v); err != nil {
				return fmt.Errorf("file-sink: write %s: %w", of.path, err)
			}
			n = len(v)
		} else {
			if t.buf, err = t.line(t.buf[:0], r); err != nil {
				if failed == nil {
					failed = map[*connect.Record]error{}
				}
				failed[r] = fmt.Errorf("file-sink: record at offset %d of %s-%d: %w", r.Offset, r.Topic, r.Partition, err)
				continue
			}
			if _, err := of.w.Write(t.buf); err != nil {
				return fmt.Errorf("file-sink: write %s: %w", of.path, err)
			}
			n = len(t.buf)
		}
		if err := of.w.WriteByte('\n'); err != nil {
			return fmt.Errorf("file-sink: write %s: %w", of.path, err)
		}
		of.size += int64(n + 1)
		if t.rotateBytes > 0 && of.size >= t.rotateBytes {
			if err := t.rotate(of); err != nil {
				return err
			}
		}
	}
	if failed != nil {
		return &connect.RecordError{Failed: failed}
	}
	return nil
}

func (t *sinkTask) line(buf []byte, r *connect.Record) ([]byte, error) {
	if !t.json {
		switch v := r.Value.(type) {
		case string:
			return append(buf, v...), nil
		case []byte:
			return append(buf, v...), nil
		}
	}
	return recordjson.AppendOrdered(buf, r.Value, r.ValueSchema, &t.order)
}

// file returns the open file for record r, opening it on first use.
func (t *sinkTask) file(r *connect.Record) (*outFile, error) {
	p := t.path
	if t.templated {
		p = strings.NewReplacer("${topic}", r.Topic, "${partition}", strconv.Itoa(int(r.Partition))).Replace(p)
	}
	if of, ok := t.files[p]; ok {
		return of, nil
	}
	of := &outFile{path: p}
	if err := t.dropTornLine(p); err != nil {
		return nil, err
	}
	if err := t.open(of); err != nil {
		return nil, err
	}
	t.files[p] = of
	return of, nil
}

// dropTornLine truncates a file that does not end with a newline back to
// its last complete line. Lines are written whole and offsets committed only
// after a flush, so such a tail is a record cut by a crash (kill -9 while the
// buffer was being written): it is redelivered, and appending to the
// fragment would glue two records into one garbled line.
func (t *sinkTask) dropTornLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("file-sink: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("file-sink: %w", err)
	}
	end := st.Size()
	keep := end
	var chunk [4096]byte
	for keep > 0 {
		n := min(int64(len(chunk)), keep)
		if _, err := f.ReadAt(chunk[:n], keep-n); err != nil {
			return fmt.Errorf("file-sink: read %s: %w", path, err)
		}
		if i := bytes.LastIndexByte(chunk[:n], '\n'); i >= 0 {
			keep = keep - n + int64(i) + 1
			break
		}
		keep -= n
	}
	if keep == end {
		return nil
	}
	if err := f.Truncate(keep); err != nil {
		return fmt.Errorf("file-sink: truncate the torn last line of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("file-sink: fsync %s: %w", path, err)
	}
	t.tc.Logger().Warn("file-sink: dropped a torn last line (left by a crash; its record is written again)",
		"file", path, "bytes", end-keep)
	return nil
}

func (t *sinkTask) open(of *outFile) error {
	if dir := filepath.Dir(of.path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("file-sink: %w", err)
		}
	}
	f, err := os.OpenFile(of.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("file-sink: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file-sink: %w", err)
	}
	of.f, of.size, of.opened = f, st.Size(), t.now()
	if of.w == nil {
		of.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		of.w.Reset(f)
	}
	return nil
}

func (t *sinkTask) rotateIfOld(of *outFile) error {
	if t.rotateInterval > 0 && of.size > 0 && t.now().Sub(of.opened) >= t.rotateInterval {
		return t.rotate(of)
	}
	return nil
}

// rotate makes the active file durable, renames it and starts a new one.
func (t *sinkTask) rotate(of *outFile) error {
	if err := syncFile(of); err != nil {
		return err
	}
	if err := of.f.Close(); err != nil {
		return fmt.Errorf("file-sink: close %s: %w", of.path, err)
	}
	of.index++
	now := t.now().UTC()
	name := strings.NewReplacer("${file}", of.path, "${timestamp}", now.Format("20060102T150405.000Z"),
		"${index}", strconv.Itoa(of.index)).Replace(t.rotateFormat)
	if !filepath.IsAbs(name) && !strings.Contains(t.rotateFormat, "${file}") {
		name = filepath.Join(filepath.Dir(of.path), name)
	}
	target := name
	for n := 1; ; n++ {
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			break
		}
		target = name + "." + strconv.Itoa(n)
	}
	if err := os.Rename(of.path, target); err != nil {
		return fmt.Errorf("file-sink: rotate %s: %w", of.path, err)
	}
	syncDir(filepath.Dir(of.path))
	t.tc.Logger().Info("rotated file", "file", of.path, "to", target)
	return t.open(of)
}

func syncFile(of *outFile) error {
	if err := of.w.Flush(); err != nil {
		return fmt.Errorf("file-sink: write %s: %w", of.path, err)
	}
	if err := of.f.Sync(); err != nil {
		return fmt.Errorf("file-sink: fsync %s: %w", of.path, err)
	}
	return nil
}

// syncDir makes a rename durable. Errors are ignored: some file systems
// cannot fsync a directory, and the data itself is synced already.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Flush writes buffered lines and fsyncs every file, so that the runtime
// commits offsets only for records on disk.
func (t *sinkTask) Flush(ctx context.Context) error {
	for _, of := range t.files {
		if err := syncFile(of); err != nil {
			return err
		}
		if err := t.rotateIfOld(of); err != nil {
			return err
		}
	}
	return nil
}

func (t *sinkTask) Stop() error {
	var errs []error
	for _, of := range t.files {
		errs = append(errs, syncFile(of), of.f.Close())
	}
	t.files = nil
	return errors.Join(errs...)
}
