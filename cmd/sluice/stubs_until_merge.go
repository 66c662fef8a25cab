package main

import "github.com/spf13/cobra"

func newTopicCmd() *cobra.Command { return &cobra.Command{Use: "topic", Hidden: true} }
func newBenchCmd() *cobra.Command { return &cobra.Command{Use: "bench", Hidden: true} }
