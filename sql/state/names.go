package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultServiceID is ksql.service.id's default.
const DefaultServiceID = "default_"

// changelogRetentionExtra is Kafka Streams' windowstore.changelog.additional.retention.ms
// default: window changelogs keep records a day longer than the store.
const changelogRetentionExtra = 24 * 60 * 60 * 1000

// ChangelogTopic is the changelog topic name Kafka Streams gives a store of
// a ksqlDB query: _confluent-ksql-<service>query_<id>-<store>-changelog.
func ChangelogTopic(serviceID, queryID, store string) string {
	return "_confluent-ksql-" + serviceID + "query_" + queryID + "-" + store + "-changelog"
}

// IsChangelogTopic reports whether topic is named as a store changelog.
func IsChangelogTopic(topic string) bool {
	return strings.HasPrefix(topic, "_confluent-ksql-") && strings.HasSuffix(topic, "-changelog")
}

// Partitioner sends changelog records to the partition they name (their
// store's input partition) and other records through fallback, for example
// kgo.StickyKeyPartitioner(nil), franz-go's default.
func Partitioner(fallback kgo.Partitioner) kgo.Partitioner {
	return changelogPartitioner{fallback: fallback, manual: kgo.ManualPartitioner()}
}

type changelogPartitioner struct{ fallback, manual kgo.Partitioner }

func (p changelogPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if IsChangelogTopic(topic) {
		return p.manual.ForTopic(topic)
	}
	return p.fallback.ForTopic(topic)
}

// ensureChangelog creates a changelog topic with the store's partition count
// if it does not exist. retention > 0 makes it compact,delete with
// retention.ms = retention + 1 day, as Kafka Streams does for window stores.
func ensureChangelog(ctx context.Context, adm *kadm.Client, topic string, partitions int32, retention int64, extra map[string]string) error {
	cfg := map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}
	if retention > 0 {
		cfg["cleanup.policy"] = kadm.StringPtr("compact,delete")
		cfg["retention.ms"] = kadm.StringPtr(strconv.FormatInt(retention+changelogRetentionExtra, 10))
	}
	for k, v := range extra {
		cfg[k] = kadm.StringPtr(v)
	}
	resp, err := adm.CreateTopic(ctx, partitions, -1, cfg, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create changelog topic %q: %w", topic, err)
	}
	return nil
}
