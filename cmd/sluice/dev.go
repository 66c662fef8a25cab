package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/registry"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newDevCmd() *cobra.Command {
	var (
		dataDir, listen, httpListen, advertise, logLevel string
		ksqlStateDir, cpuProfile                         string
		registryListen, connectListen, ksqlListen        string
		connectEOS                                       bool
		partitions                                       int32
		autoCreate, sendfile                             bool
		retentionCheck, rebalanceDelay, offsetsRetention time.Duration
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Sluice with embedded defaults: a Kafka-compatible broker on 127.0.0.1:9092, metrics on :8080",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			if cpuProfile != "" {
				stopProfile, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			// From the start, so a signal during startup still stops cleanly.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

			if rebalanceDelay == 0 {
				rebalanceDelay = -1 // the broker's zero value means its default
			}
			start := time.Now()
			b, err := broker.New(broker.Config{
				DataDir: dataDir, Listen: listen, AdvertisedAddr: advertise, NodeID: 1,
				AutoCreateTopics: autoCreate, DefaultPartitions: partitions, RetentionCheck: retentionCheck, FetchSendfile: sendfile,
				GroupInitialRebalanceDelay: rebalanceDelay, OffsetsRetention: offsetsRetention,
				Logger: logger, Registerer: reg,
			})
			if err != nil {
				return err
			}
			var httpSrv *http.Server
			mux := http.NewServeMux()
			if httpListen != "" {
				ln, err := net.Listen("tcp", httpListen)
				if err != nil {
					b.Close()
					return fmt.Errorf("--http-listen %s: %w", httpListen, err)
				}
				mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
				mux.HandleFunc("/debug/pprof/", pprof.Index)
				mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
				mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
				mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
				httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
				go httpSrv.Serve(ln)
				logger.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
			}
			serveErr := make(chan error, 1)
			go func() { serveErr <- b.Serve() }()
			logger.Info("broker listening", "kafka", b.Addr().String(), "data_dir", dataDir, "cluster_id", b.ClusterID(),
				"startup", time.Since(start).Round(time.Millisecond).String())
			stopRegistry := func() {}
			registryURL := ""
			if registryListen != "" {
				var reg *registry.Registry
				if reg, stopRegistry, err = startRegistry(cmd.Context(), b.Addr().String(), registryListen, logger); err != nil {
					b.Close()
					return err
				}
				registryURL = "http://" + registryListen
				b.SetSchemaChecker(reg) // for topics with confluent.value.schema.validation
				regHandler := reg.Handler()
				// Also under the main HTTP server, for one-port setups.
				mux.Handle("/schema-registry/", http.StripPrefix("/schema-registry", regHandler))
			}
			stopKSQL := func() {}
			if ksqlListen != "" {
				connectURL := ""
				if connectListen != "" {
					connectURL = "http://" + connectListen
				}
				if ksqlStateDir == "" {
					ksqlStateDir = filepath.Join(dataDir, "ksql-state")
				}
				if stopKSQL, err = startKSQL(cmd.Context(), b.Addr().String(), ksqlListen, ksqlStateDir, registryURL, connectURL, reg, logger); err != nil {
					stopRegistry()
					b.Close()
					return err
				}
			}

			stopConnect := func() {}
			if connectListen != "" {
				if stopConnect, err = startConnect(cmd.Context(), b.Addr().String(), connectListen, connectEOS, reg, logger); err != nil {
					stopKSQL()
					stopRegistry()
					b.Close()
					return err
				}
			}

			select {
			case s := <-sig:
				logger.Info("shutting down", "signal", s.String())
			case err := <-serveErr:
				if err != nil {
					logger.Error("broker stopped", "err", err)
				}
			}
			if httpSrv != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				httpSrv.Shutdown(ctx)
				cancel()
			}
			stopKSQL()
			stopConnect()
			stopRegistry()
			if err := b.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				return err
			}
			logger.Info("stopped cleanly")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", envOr("SLUICE_DATA_DIR", "./sluice-data"), "data directory (env SLUICE_DATA_DIR)")
	f.StringVar(&listen, "listen", envOr("SLUICE_LISTEN", "127.0.0.1:9092"), "Kafka protocol listener (env SLUICE_LISTEN)")
	f.StringVar(&advertise, "advertise", os.Getenv("SLUICE_ADVERTISE"), "host:port clients are told to connect to (default: the listener)")
	f.StringVar(&httpListen, "http-listen", envOr("SLUICE_HTTP_LISTEN", "127.0.0.1:8080"), "HTTP listener for /metrics; empty disables it")
	f.StringVar(&registryListen, "registry-listen", envOr("SLUICE_REGISTRY_LISTEN", "127.0.0.1:8081"), "Schema Registry REST listener; empty disables it (env SLUICE_REGISTRY_LISTEN)")
	f.StringVar(&ksqlListen, "ksql-listen", envOr("SLUICE_KSQL_LISTEN", "127.0.0.1:8088"), "ksqlDB-compatible SQL REST listener; empty disables the SQL engine (env SLUICE_KSQL_LISTEN)")
	f.StringVar(&ksqlStateDir, "ksql-state-dir", os.Getenv("SLUICE_KSQL_STATE_DIR"), "state stores of stateful SQL queries, rebuilt from their changelog topics when lost (default <data-dir>/ksql-state; env SLUICE_KSQL_STATE_DIR)")
	f.StringVar(&connectListen, "connect-listen", envOr("SLUICE_CONNECT_LISTEN", "127.0.0.1:8083"), "Kafka Connect REST listener; empty disables the connector runtime (env SLUICE_CONNECT_LISTEN)")
	f.BoolVar(&connectEOS, "connect-exactly-once-source", os.Getenv("SLUICE_CONNECT_EXACTLY_ONCE_SOURCE") == "true", "exactly.once.source.support=enabled: source connectors write records and offsets in one transaction per poll (env SLUICE_CONNECT_EXACTLY_ONCE_SOURCE)")
	f.Int32Var(&partitions, "partitions", 1, "partitions of auto-created topics (num.partitions)")
	f.BoolVar(&autoCreate, "auto-create-topics", true, "create unknown topics on first use (auto.create.topics.enable)")
	f.DurationVar(&retentionCheck, "retention-check", 30*time.Second, "how often retention deletes old segments")
	f.DurationVar(&rebalanceDelay, "group-initial-rebalance-delay", 3*time.Second, "how long a new consumer group waits for more members before its first assignment (group.initial.rebalance.delay.ms; 0 or negative: none)")
	f.DurationVar(&offsetsRetention, "offsets-retention", 7*24*time.Hour, "how long committed offsets of a consumer group without members are kept (offsets.retention.minutes)")
	f.BoolVar(&sendfile, "fetch-sendfile", os.Getenv("SLUICE_FETCH_SENDFILE") != "false", "serve fetched batches with sendfile(2) instead of copying them (env SLUICE_FETCH_SENDFILE)")
	f.StringVar(&logLevel, "log-level", envOr("SLUICE_LOG_LEVEL", "info"), "debug, info, warn or error")
	f.StringVar(&cpuProfile, "cpuprofile", os.Getenv("SLUICE_CPUPROFILE"), "write a CPU profile of the whole process to the file until it stops, "+
		"for `go tool pprof` (env SLUICE_CPUPROFILE; /debug/pprof/profile on --http-listen profiles a time span)")
	return cmd
}

// startRegistry serves the schema registry on listen, as a Kafka client of
// the broker at brokerAddr, and returns it for mounting elsewhere and for
// broker-side schema validation. stop shuts both down.
func startRegistry(ctx context.Context, brokerAddr, listen string, logger *slog.Logger) (r *registry.Registry, stop func(), err error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, nil, fmt.Errorf("--registry-listen %s: %w", listen, err)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	reg, err := registry.Open(octx, []string{brokerAddr}, registry.WithLogger(logger))
	if err != nil {
		ln.Close()
		return nil, nil, fmt.Errorf("schema registry: %w", err)
	}
	srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("schema registry listening", "url", "http://"+ln.Addr().String())
	return reg, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		cancel()
		reg.Close()
	}, nil
}
