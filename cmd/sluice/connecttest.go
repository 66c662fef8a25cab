//go:build connecttest

package main

import "github.com/sluicedata/sluice/connect/connecttest"

// The connecttest build carries the runtime's test connectors, for the
// compatibility tests that drive a real `sluice dev` process.
func init() { connecttest.Register() }
