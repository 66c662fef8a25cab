package shell

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/term"
)

// Interactive runs the read-eval-print loop on a terminal: line editing and
// history (arrow keys) from x/term, statements spanning lines until ';',
// Ctrl-C stopping a running query, Ctrl-D or `exit` leaving.
func (s *Shell) Interactive(ctx context.Context, in *os.File) error {
	fd := int(in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(fd, old)
	rw := struct {
		io.Reader
		io.Writer
	}{in, os.Stdout}
	t := term.NewTerminal(rw, "sluice> ")
	out := s.Out
	s.Out = t // Terminal.Write turns \n into \r\n itself
	defer func() { s.Out = out }()
	fmt.Fprintf(s.Out, "Connected to %s. Statements end with ';'. Type 'exit' to leave.\n", s.Server)
	var sp splitter
	for {
		if sp.pending() {
			t.SetPrompt("     > ")
		} else {
			t.SetPrompt("sluice> ")
		}
		line, err := t.ReadLine()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !sp.pending() && isExit(line) {
			return nil
		}
		for _, stmt := range sp.add(line) {
			// Run with the terminal restored so Ctrl-C reaches us as a
			// signal and cancels only this statement.
			term.Restore(fd, old)
			qctx, cancel := signal.NotifyContext(ctx, os.Interrupt)
			err := s.Execute(qctx, stmt)
			cancel()
			if _, rerr := term.MakeRaw(fd); rerr != nil {
				return rerr
			}
			if err != nil {
				fmt.Fprintln(s.Out, err)
			}
		}
	}
}
