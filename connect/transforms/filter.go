package transforms

import (
	"github.com/sluicedata/sluice/connect"
)

// Filter drops every record it is applied to; use it with a predicate.
type Filter struct{}

func init() {
	registerOne(kafkaPkg+"Filter", "Filter", "Drops all records, filtering them from subsequent transformations in the chain. "+
		"This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate.",
		nil, func() connect.Transform { return Filter{} })
}

// Configure accepts no keys.
func (Filter) Configure(connect.Config) error { return nil }

// Apply drops the record.
func (Filter) Apply(*connect.Record) (*connect.Record, error) { return nil, nil }

// DropsAll marks Filter as dropping every record it is applied to, so the
// sink runtime can skip building values that a topic-only predicate sends
// to it (connect.DropAll).
func (Filter) DropsAll() {}
