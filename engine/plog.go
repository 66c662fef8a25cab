package engine

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/exec"
)

// processingLog writes queries' per-record errors to the processing-log
// topic (ksqlDB's KSQL_PROCESSING_LOG) and to the server log. Writes are
// asynchronous: a failing log write must never stop a query.
type processingLog struct {
	cl    *kgo.Client
	topic string
	log   *slog.Logger
}

func newProcessingLog(cl *kgo.Client, topic string, log *slog.Logger) *processingLog {
	return &processingLog{cl: cl, topic: topic, log: log}
}

// Log implements exec.ProcessingLog.
func (p *processingLog) Log(e exec.Entry) {
	p.log.Warn("record skipped", "query", e.QueryID, "kind", e.Kind.String(), "reason", e.Message)
	p.cl.Produce(context.Background(), &kgo.Record{Topic: p.topic, Value: e.JSON()}, func(_ *kgo.Record, err error) {
		if err != nil {
			p.log.Warn("writing the processing log", "topic", p.topic, "err", err)
		}
	})
}
