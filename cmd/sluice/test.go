package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/testrunner"
)

// newTestCmd is `sluice test`: ksqlDB's ksql-test-runner with the same
// flags, files, messages and exit codes.
func newTestCmd() *cobra.Command {
	var statements, input, output, extDir string
	cmd := &cobra.Command{
		Use:   "test -s statements.sql [-i input.json] -o output.json",
		Short: "Run SQL statements against input records and compare the outputs (ksql-test-runner compatible)",
		Long: `Runs the statements with no server: topics are in memory, AVRO/PROTOBUF/JSON_SR
use an in-process schema registry, and each query consumes the input records of
its source topics in file order. The records written to the topics named in the
output file are compared with them as ksql-test-runner does.`,
		Example: `  sluice test -s statements.sql -i input.json -o output.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if statements == "" || output == "" {
				return invalidArgs(errors.New("the statements file (-s) and the output file (-o) are required"))
			}
			if extDir != "" {
				return invalidArgs(errors.New("--extension-dir: user-defined functions in jars are not supported"))
			}
			for _, p := range []string{statements, input, output} {
				if p == "" {
					continue
				}
				if _, err := os.Stat(p); err != nil {
					return invalidArgs(err)
				}
			}
			ctx := cmd.Context()
			var opts testrunner.Options
			if sql, err := os.ReadFile(statements); err == nil && usesSchemaRegistry(string(sql)) {
				client, stop, err := startTestRegistry(ctx)
				if err != nil {
					return testFailed(err)
				}
				defer stop()
				opts.Registry = client
			}
			if _, err := testrunner.RunFiles(ctx, statements, input, output, opts); err != nil {
				var inv *invalidArgsError
				if errors.As(err, &inv) || strings.HasPrefix(err.Error(), "Invalid arguments:") {
					return err
				}
				return testFailed(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\t >>> Test passed!")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&statements, "statements", "s", "", "SQL statements file (also --sql-file)")
	f.StringVar(&statements, "sql-file", "", "alias of --statements")
	f.StringVarP(&input, "input-file", "i", "", "input records file: {\"inputs\": [...]}")
	f.StringVarP(&output, "output-file", "o", "", "expected output records file: {\"outputs\": [...]}")
	f.StringVarP(&extDir, "extension-dir", "e", "", "UDF jar directory (not supported)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalidArgs(err) })
	return cmd
}

type invalidArgsError struct{ err error }

func (e *invalidArgsError) Error() string { return "Invalid arguments: " + e.err.Error() }

func invalidArgs(err error) error { return &invalidArgsError{err} }

// testFailedError carries ksql-test-runner's failure line.
type testFailedError struct{ err error }

func (e *testFailedError) Error() string { return "\t>>>>> Test failed: " + e.err.Error() }

func testFailed(err error) error { return &testFailedError{err} }

// exitForTest prints `sluice test` errors the way ksql-test-runner does
// (no "sluice:" prefix) and reports whether it handled err.
func exitForTest(err error) bool {
	var inv *invalidArgsError
	var failed *testFailedError
	switch {
	case errors.As(err, &inv), errors.As(err, &failed):
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
	return false
}

func usesSchemaRegistry(sql string) bool {
	u := strings.ToUpper(sql)
	return strings.Contains(u, "AVRO") || strings.Contains(u, "PROTOBUF") || strings.Contains(u, "JSON_SR")
}

// startTestRegistry runs a throw-away broker and schema registry on loopback
// ports with their data in a temporary directory, for the schemas the test
// statements imply.
func startTestRegistry(ctx context.Context) (*srclient.Client, func(), error) {
	dir, err := os.MkdirTemp("", "sluice-test-")
	if err != nil {
		return nil, nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := broker.New(broker.Config{DataDir: dir, Listen: "127.0.0.1:0", NodeID: 1, AutoCreateTopics: true, Logger: quiet})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start the in-process schema registry's broker: %w", err)
	}
	go b.Serve()
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	reg, err := registry.Open(octx, []string{b.Addr().String()}, registry.WithLogger(quiet))
	if err != nil {
		b.Close()
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start the in-process schema registry: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		reg.Close()
		b.Close()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		srv.Close()
		reg.Close()
		b.Close()
		os.RemoveAll(dir)
	}
	return srclient.New("http://" + ln.Addr().String()), stop, nil
}
