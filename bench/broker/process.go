package broker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicedata/sluice/bench/devproc"
)

// process is a server started for the benchmark (sluice dev, nats-server),
// in its own process group so that stop reaches whatever it starts.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *devproc.Tail
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// startProcess runs bin with args and waits until addr accepts TCP
// connections. If the process exits first, or does not listen within
// timeout, it is stopped and the error carries the end of its output.
func startProcess(ctx context.Context, name, bin string, args []string, addr string, timeout time.Duration) (*process, error) {
	p := &process{
		name: name,
		cmd:  exec.Command(bin, args...),
		out:  devproc.NewTail(16 << 10),
		done: make(chan struct{}),
	}
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	// Pdeathsig: if the benchmark dies, so does its server.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()

	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before listening on %s (%v); its output:\n%s",
				name, addr, p.err, indent(p.out.String()))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not accept connections on %s within %s; its output:\n%s",
				name, addr, timeout, indent(p.out.String()))
		}
	}
}

// pid returns the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, and SIGKILL if it has not exited
// within ten seconds. It returns once the process has exited.
func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// Memory is a process's resident set as /proc reports it.
type Memory struct {
	RSS  int64 // VmRSS, bytes
	Peak int64 // VmHWM, the peak RSS so far, bytes
}

// readMemory reads VmRSS and VmHWM from /proc/<pid>/status.
func readMemory(pid int) (Memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads the memory lines of a /proc/<pid>/status file.
func parseStatus(r io.Reader) (Memory, error) {
	var m Memory
	var found bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(val) // "123456 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return m, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("parse %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSS, found = kb<<10, true
		} else {
			m.Peak = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !found {
		return m, errors.New("no VmRSS line")
	}
	return m, nil
}

// freeAddr returns 127.0.0.1:<port> for a port that was free a moment ago.
func freeAddr() (string, error) { return devproc.FreeAddr() }

// indent prefixes each line of s for nesting in an error message.
func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (no output)"
	}
	var b bytes.Buffer
	for line := range strings.SplitSeq(s, "\n") {
		b.WriteString("    ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}
