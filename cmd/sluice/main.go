// Command sluice is the single Sluice binary: broker, connectors, SQL and UI.
// This package only wires flags to the domain packages; logic lives there.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	tuneGC()
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "Sluice: a streaming data pipeline platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDevCmd(), newTopicCmd(), newBenchCmd(), newSQLCmd(), newTestCmd(), newConnectCmd())
	if err := root.Execute(); err != nil {
		exitForTest(err)
		fmt.Fprintln(os.Stderr, "sluice:", err)
		os.Exit(1)
	}
}
