package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicedata/sluice/connect/connectordoc"
)

//go:generate go run . connect docs ../../docs/connectors

func newConnectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "connect", Short: "Connector runtime tools"}
	cmd.AddCommand(&cobra.Command{
		Use:   "docs DIR",
		Short: "Write one reference page per installed connector (DIR/<name>.md and DIR/README.md) from the connector specs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := connectordoc.Write(args[0], connectordoc.Connectors())
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return err
		},
	})
	return cmd
}
