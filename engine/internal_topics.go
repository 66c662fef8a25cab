package engine

import (
	"context"
	"strings"

	"github.com/sluicedata/sluice/engine/queries"
)

// internalTopicPrefix starts the names of a query's internal topics
// (changelogs and repartition topics), as Kafka Streams names them under
// ksqlDB's application id _confluent-ksql-<service>query_<id>.
func (e *Engine) internalTopicPrefix(queryID string) string {
	return "_confluent-ksql-" + e.cfg.ServiceID + "query_" + queryID + "-"
}

// cleanUpQuery deletes what a terminated query leaves behind, as ksqlDB does
// on TERMINATE: its internal topics (store changelogs, repartition topics)
// and its local state directory. Failures are logged: the query is already
// gone, and leftovers only cost space.
func (e *Engine) cleanUpQuery(ctx context.Context, queryID string) {
	prefix := e.internalTopicPrefix(queryID)
	topics, err := e.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		e.log.Warn("listing topics to delete internal topics", "query", queryID, "err", err)
	}
	var del []string
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, prefix) && (strings.HasSuffix(name, "-changelog") || strings.HasSuffix(name, "-repartition")) {
			del = append(del, name)
		}
	}
	if len(del) > 0 {
		resp, err := e.adm.DeleteTopics(ctx, del...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			e.log.Warn("deleting internal topics", "query", queryID, "topics", del, "err", err)
		} else {
			e.log.Info("deleted internal topics", "query", queryID, "topics", del)
		}
	}
	if err := queries.DeleteState(e.cfg.StateDir, queryID); err != nil {
		e.log.Warn("deleting local state", "query", queryID, "err", err)
	}
}
