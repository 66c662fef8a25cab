// Package topictool holds the shell-level topic operations behind
// `sluice topic`: create, list, describe, delete, produce lines from a reader
// and consume records into a template. It talks to any Kafka-compatible
// broker (Sluice's embedded one or a real cluster) through franz-go only, so
// it is also a small end-to-end check of the broker's protocol surface.
//
// The package holds no flag parsing: cmd/sluice maps flags onto the
// functions and option structs here.
package topictool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultBrokers is the bootstrap address used when neither --brokers nor
// SLUICE_BROKERS is set: the Kafka port of a local `sluice dev`.
const DefaultBrokers = "127.0.0.1:9092"

// PingTimeout bounds the first contact with the brokers, so that a wrong
// address fails in seconds with a clear message instead of hanging in the
// client's retry loop.
const PingTimeout = 10 * time.Second

// ParseBrokers splits a comma-separated bootstrap list ("h1:9092,h2:9092"),
// trimming spaces and dropping empty entries. It fails when nothing is left.
func ParseBrokers(s string) ([]string, error) {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no broker address given: set --brokers or SLUICE_BROKERS (e.g. 127.0.0.1:9092)")
	}
	return out, nil
}

// NewClient returns a franz-go client bootstrapped from brokers, after
// checking that at least one of them answers. Extra options (consumer topics,
// groups, partitioners) are appended to the seed option. The caller closes
// the client.
func NewClient(ctx context.Context, brokers []string, opts ...kgo.Opt) (*kgo.Client, error) {
	opts = append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("cannot reach brokers %s: %w (is `sluice dev` running? set --brokers or SLUICE_BROKERS)",
			strings.Join(brokers, ","), err)
	}
	return cl, nil
}

// topicErr turns the broker's per-topic error codes into messages that name
// the topic and say what to do; other errors are wrapped with the topic name.
func topicErr(topic string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return fmt.Errorf("topic %q not found (list topics with `sluice topic list`)", topic)
	case errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("topic %q already exists", topic)
	case errors.Is(err, kerr.InvalidTopicException):
		return fmt.Errorf("topic %q: invalid name (use letters, digits, '.', '_' and '-', at most 249 characters)", topic)
	default:
		return fmt.Errorf("topic %q: %w", topic, err)
	}
}
