package exec

import (
	"context"
	"testing"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/types"
)

type panicking struct{}

func (panicking) Push(*Context, *Row) error { panic("boom") }

// TestPanicIsARecordError checks that an operator panic is logged for the
// record and the query goes on.
func TestPanicIsARecordError(t *testing.T) {
	dec, err := NewDecoder(SourceSpec{Name: "S", Topic: "s", ValueFormat: serde.JSON{},
		Columns: []types.Column{{Name: "V", Type: types.IntType}}})
	if err != nil {
		t.Fatal(err)
	}
	log := &MemoryLog{}
	p := NewPipeline("Q", "out", []Input{{Decoder: dec, Next: panicking{}}}, log)
	out, err := p.Process(context.Background(), Record{Topic: "s", Value: []byte(`{"V": 1}`)})
	if err != nil || len(out) != 0 {
		t.Fatalf("got %v, %v", out, err)
	}
	if e := log.Entries(); len(e) != 1 || e[0].Kind != RecordProcessingError {
		t.Fatalf("log: %+v", e)
	}
	if p.Stats().Errors.Load() != 1 {
		t.Fatalf("errors: %d", p.Stats().Errors.Load())
	}
}
