package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestTestCommand drives `sluice test` as a user does: passing, failing and
// malformed invocations, with ksql-test-runner's messages.
func TestTestCommand(t *testing.T) {
	dir := "../../docs/examples/sql-test/"
	run := func(args ...string) (string, error) {
		cmd := newTestCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("-s", dir+"statements.sql", "-i", dir+"input.json", "-o", dir+"output.json")
	if err != nil || out != "\t >>> Test passed!\n" {
		t.Fatalf("passing test: %q %v", out, err)
	}
	_, err = run("--statements", dir+"statements.sql", "--output-file", dir+"input.json")
	var failed *testFailedError
	if !errors.As(err, &failed) || !strings.HasPrefix(err.Error(), "\t>>>>> Test failed: ") {
		t.Fatalf("failing test: %v", err)
	}
	for _, args := range [][]string{
		{"-i", dir + "input.json"},
		{"-s", dir + "statements.sql", "-o", "/nonexistent/output.json"},
		{"-s", dir + "statements.sql", "-o", dir + "output.json", "--bogus"},
		{"-s", dir + "statements.sql", "-o", dir + "output.json", "-e", "/tmp"},
	} {
		_, err := run(args...)
		var inv *invalidArgsError
		if !errors.As(err, &inv) || !strings.HasPrefix(err.Error(), "Invalid arguments: ") {
			t.Fatalf("%v: %v", args, err)
		}
	}
}
