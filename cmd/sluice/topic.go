package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/topictool"
)

// adminTimeout bounds one admin command (create, list, describe, delete).
const adminTimeout = 30 * time.Second

// newTopicCmd builds `sluice topic`: kcat / kafka-topics style commands
// for quick checks from a shell. Flags map onto package topictool.
func newTopicCmd() *cobra.Command {
	brokers := os.Getenv("SLUICE_BROKERS")
	if brokers == "" {
		brokers = topictool.DefaultBrokers
	}
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, delete, produce to and consume from topics",
		Example: `  sluice topic create orders --partitions 3 --config retention.ms=86400000
  printf 'k1:hello\nk2:world\n' | sluice topic produce orders --key-separator :
  sluice topic consume orders --from-beginning --format '%p/%o %k=%v' -n 2`,
	}
	cmd.PersistentFlags().StringVar(&brokers, "brokers", brokers, "comma-separated bootstrap brokers (env SLUICE_BROKERS)")

	// client connects with the current --brokers value.
	client := func(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
		bs, err := topictool.ParseBrokers(brokers)
		if err != nil {
			return nil, err
		}
		return topictool.NewClient(ctx, bs, opts...)
	}
	cmd.AddCommand(
		newTopicCreateCmd(client),
		newTopicListCmd(client),
		newTopicDescribeCmd(client),
		newTopicDeleteCmd(client),
		newTopicProduceCmd(client),
		newTopicConsumeCmd(client),
	)
	return cmd
}

type clientFunc func(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error)

// runAdmin runs fn with an admin client and a bounded context.
func runAdmin(cmd *cobra.Command, client clientFunc, fn func(ctx context.Context, cl *kgo.Client) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), adminTimeout)
	defer cancel()
	cl, err := client(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	return fn(ctx, cl)
}

// interruptible returns the command's context, cancelled on Ctrl-C or
// SIGTERM, so that produce can flush and consume can commit before exiting.
func interruptible(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

func newTopicCreateCmd(client clientFunc) *cobra.Command {
	var (
		partitions  int32
		replication int16
		configs     []string
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := topictool.ParseConfigs(configs)
			if err != nil {
				return err
			}
			return runAdmin(cmd, client, func(ctx context.Context, cl *kgo.Client) error {
				n, err := topictool.Create(ctx, topictool.NewAdmin(cl), args[0], topictool.CreateOptions{
					Partitions: partitions, ReplicationFactor: replication, Configs: cfg,
				})
				if err == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "created topic %q (%d partitions)\n", args[0], max(n, partitions))
				}
				return err
			})
		},
	}
	cmd.Flags().Int32VarP(&partitions, "partitions", "p", 1, "number of partitions")
	cmd.Flags().Int16Var(&replication, "replication-factor", -1, "replicas per partition (-1: broker default)")
	// StringArray, not StringSlice: config values may contain commas.
	cmd.Flags().StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable)")
	return cmd
}

func newTopicListCmd(client clientFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List topic names, one per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdmin(cmd, client, func(ctx context.Context, cl *kgo.Client) error {
				names, err := topictool.List(ctx, topictool.NewAdmin(cl))
				for _, n := range names {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				return err
			})
		},
	}
}

func newTopicDescribeCmd(client clientFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a topic's id, partitions with log start/end offsets, and config overrides",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(cmd, client, func(ctx context.Context, cl *kgo.Client) error {
				d, err := topictool.Describe(ctx, topictool.NewAdmin(cl), args[0])
				if err != nil {
					return err
				}
				return d.Write(cmd.OutOrStdout())
			})
		},
	}
}

func newTopicDeleteCmd(client clientFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete topics",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAdmin(cmd, client, func(ctx context.Context, cl *kgo.Client) error {
				return topictool.Delete(ctx, topictool.NewAdmin(cl), args...)
			})
		},
	}
}

func newTopicProduceCmd(client clientFunc) *cobra.Command {
	var o topictool.ProduceOptions
	cmd := &cobra.Command{
		Use:   "produce NAME",
		Short: "Produce one record per stdin line (acks=all)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd)
			defer stop()
			cl, err := client(ctx, topictool.ProducerOpts(o)...)
			if err != nil {
				return err
			}
			defer cl.Close()
			n, err := topictool.Produce(ctx, cl, args[0], cmd.InOrStdin(), o)
			if err == nil || n > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "produced %d records to %q\n", n, args[0])
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&o.KeySeparator, "key-separator", "K", "", "split each line into key and value at the first SEP")
	cmd.Flags().Int32Var(&o.Partition, "partition", -1, "send all records to this partition (-1: by key hash)")
	return cmd
}

func newTopicConsumeCmd(client clientFunc) *cobra.Command {
	var (
		o      topictool.ConsumeOptions
		format string
	)
	cmd := &cobra.Command{
		Use:   "consume NAME",
		Short: "Print records, one per line (default: only new records, value only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := topictool.ParseFormat(format)
			if err != nil {
				return err
			}
			if o.Count < 0 {
				return fmt.Errorf("--count must be 0 (no limit) or more, got %d", o.Count)
			}
			o.Format = f
			ctx, stop := interruptible(cmd)
			defer stop()
			cl, err := client(ctx, topictool.ConsumerOpts(args[0], o)...)
			if err != nil {
				return err
			}
			defer cl.Close()
			_, err = topictool.Consume(ctx, cl, args[0], cmd.OutOrStdout(), o)
			return err
		},
	}
	cmd.Flags().BoolVar(&o.FromBeginning, "from-beginning", false, "start at the oldest record (with --group: only where nothing is committed)")
	cmd.Flags().StringVarP(&o.Group, "group", "g", "", "consume as a member of this consumer group and commit offsets")
	cmd.Flags().IntVarP(&o.Count, "count", "n", 0, "exit after N records (0: no limit)")
	cmd.Flags().StringVarP(&format, "format", "f", topictool.DefaultFormat, "record template: "+topictool.FormatHelp)
	cmd.Flags().DurationVar(&o.Idle, "timeout", 0, "exit after no record arrived for this long, e.g. 5s (0: wait forever)")
	return cmd
}
