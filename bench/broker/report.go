package broker

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is everything one Run measured, in the order it was measured.
type Report struct {
	Started time.Time
	Machine string // cores, kernel, filesystem of the data directories
	Setup   string // record size, acks, producer settings
	Rows    []Row
	Memory  []MemoryRow
	Notes   []string

	requestSizes []float64 // mean produce request bytes per throughput run
}

// Row is one measured phase.
type Row struct {
	System string // "sluice", "disk", "nats"
	Test   string // what was done, e.g. "produce, 8 partitions"
	Throughput
	// Latency is set where a phase measures one: produce-to-ack for the
	// broker, each fdatasync for the disk.
	Latency LatencySummary
	Note    string
}

// MemoryRow is the resident memory of a server process at some moment.
type MemoryRow struct {
	Process string
	When    string
	Memory
}

// WriteText prints the report as aligned columns for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Sluice broker benchmark, %s\n", r.Started.Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "machine: %s\nsetup:   %s\n\n", r.Machine, r.Setup)
	rows := [][]string{{"system", "test", "records", "records/s", "MB/s", "mean", "p50", "p99", "max", "note"}}
	for _, row := range r.Rows {
		mean, p50, p99, max := "-", "-", "-", "-"
		if row.Latency.Count > 0 {
			mean, p50, p99, max = fmtDuration(row.Latency.Mean), fmtDuration(row.Latency.P50),
				fmtDuration(row.Latency.P99), fmtDuration(row.Latency.Max)
		}
		rows = append(rows, []string{row.System, row.Test, fmtInt(float64(row.Records)), fmtInt(row.RecordsPerSec()),
			fmt.Sprintf("%.1f", row.MBPerSec()), mean, p50, p99, max, row.Note})
	}
	writeColumns(&b, rows, []bool{false, false, true, true, true, true, true, true, true, false})
	if len(r.Memory) > 0 {
		b.WriteString("\n")
		rows = [][]string{{"process", "when", "RSS", "peak RSS"}}
		for _, m := range r.Memory {
			rows = append(rows, []string{m.Process, m.When, fmtBytes(m.RSS), fmtBytes(m.Peak)})
		}
		writeColumns(&b, rows, []bool{false, false, true, true})
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeColumns writes rows as columns two spaces apart, each padded to its
// widest cell, on the right where right says so. The last column is not
// padded.
func writeColumns(b *strings.Builder, rows [][]string, right []bool) {
	width := make([]int, len(right))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			switch {
			case right[i]:
				line.WriteString(pad + cell)
			case i == len(row)-1:
				line.WriteString(cell)
			default:
				line.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// WriteMarkdown prints the report as Markdown for docs/benchmarks.md.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Run of %s\n\n", r.Started.Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s. Setup: %s.\n\n", r.Machine, r.Setup)
	if len(r.Rows) > 0 {
		b.WriteString("| System | Test | Records | Records/s | MB/s | Latency mean / p50 / p99 / max | Notes |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|---|\n")
	}
	for _, row := range r.Rows {
		lat := "-"
		if row.Latency.Count > 0 {
			lat = strings.Join([]string{fmtDuration(row.Latency.Mean), fmtDuration(row.Latency.P50),
				fmtDuration(row.Latency.P99), fmtDuration(row.Latency.Max)}, " / ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.1f | %s | %s |\n",
			row.System, row.Test, fmtInt(float64(row.Records)), fmtInt(row.RecordsPerSec()),
			row.MBPerSec(), lat, mdEscape(row.Note))
	}
	if len(r.Memory) > 0 {
		b.WriteString("\n| Process | When | RSS | Peak RSS |\n|---|---|--:|--:|\n")
		for _, m := range r.Memory {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m.Process, m.When, fmtBytes(m.RSS), fmtBytes(m.Peak))
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtInt prints a non-negative number rounded, with thousands separators.
func fmtInt(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtDuration prints d with three significant figures in µs, ms or s.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// fmtBytes prints n in KiB, MiB or GiB.
func fmtBytes(n int64) string {
	switch {
	case n == 0:
		return "-"
	case n < 1<<20:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
}

// fmtSize prints a write or batch size in bytes as KiB or MiB.
func fmtSize(n float64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.4g MiB", n/(1<<20))
	}
	return fmt.Sprintf("%.4g KiB", n/(1<<10))
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// failed notes that part stopped with err, by the error's first line; the
// whole error is returned by Run.
func (r *Report) failed(part string, err error) {
	first, _, _ := strings.Cut(err.Error(), "\n")
	first = strings.TrimSuffix(first, "; its output:")
	r.Notes = append(r.Notes, fmt.Sprintf("%s: stopped early, %s", part, first))
}
