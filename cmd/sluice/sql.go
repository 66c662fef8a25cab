package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sluicedata/sluice/engine/shell"
)

func newSQLCmd() *cobra.Command {
	var server, file string
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Interactive SQL shell against a Sluice (or ksqlDB) server",
		Long: `sql opens a ksql-CLI-style shell: statements end with ';' and may span lines,
arrow keys recall history, Ctrl-C stops a running query, 'exit' leaves.
With -f, or with statements piped on stdin, it runs them in order and stops
at the first error (exit status 1).`,
		Example: `  sluice sql
  sluice sql --server http://127.0.0.1:8088 -f pipeline.sql
  echo 'SHOW STREAMS;' | sluice sql`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sh := shell.New(server, cmd.OutOrStdout())
			ctx := context.Background()
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				return sh.RunScript(ctx, f)
			}
			if !term.IsTerminal(int(os.Stdin.Fd())) {
				return sh.RunScript(ctx, os.Stdin)
			}
			return sh.Interactive(ctx, os.Stdin)
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8088", "base URL of the server's ksqlDB REST API")
	cmd.Flags().StringVarP(&file, "file", "f", "", "run the statements of this file and exit")
	return cmd
}
