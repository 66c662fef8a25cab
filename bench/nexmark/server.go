package nexmark

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sluice is a `sluice dev` process with the broker and the SQL engine on
// free loopback ports; nothing else listens.
type sluice struct {
	cmd  *exec.Cmd // nil when the server runs in this process (tests)
	pid  int       // whose CPU time is measured
	addr string    // Kafka
	ksql string    // ksqlDB REST
	out  *tail
	done chan struct{}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startSluice(ctx context.Context, bin, dir string) (*sluice, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ksql, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &sluice{addr: addr, ksql: ksql, out: &tail{max: 32 << 10}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "dev", "--data-dir", filepath.Join(dir, "data"), "--listen", addr,
		"--ksql-listen", ksql, "--connect-listen", "", "--http-listen", "", "--registry-listen", "",
		"--group-initial-rebalance-delay", "0")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s dev: %w", bin, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + ksql + "/healthcheck")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("sluice dev exited before its ksqlDB REST API answered:\n%s", s.out.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("sluice dev's ksqlDB REST API did not answer on %s within 60s:\n%s", ksql, s.out.String())
		}
	}
}

func (s *sluice) stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// cpu is the process's user+system CPU time so far (/proc/PID/stat).
func (s *sluice) cpu() time.Duration {
	d, err := cpuTime(s.pid)
	if err != nil {
		return 0
	}
	return d
}

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat times")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// ksqlStatus is the part of a /ksql answer the driver reads.
type ksqlStatus struct {
	Type          string `json:"@type"`
	CommandStatus struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		QueryID string `json:"queryId"`
	} `json:"commandStatus"`
}

// execute runs statements through /ksql, from the earliest offsets, and
// returns the ids of the persistent queries they started.
func (s *sluice) execute(ctx context.Context, statements string) ([]string, error) {
	body, _ := json.Marshal(map[string]any{"ksql": statements,
		"streamsProperties": map[string]string{"auto.offset.reset": "earliest"}})
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+s.ksql+"/ksql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/vnd.ksql.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		var e struct {
			Message       string `json:"message"`
			StatementText string `json:"statementText"`
		}
		if json.Unmarshal(b, &e) == nil && e.Message != "" {
			return nil, fmt.Errorf("%s\n  in: %s", e.Message, oneLine(e.StatementText))
		}
		return nil, fmt.Errorf("/ksql status %d: %s", resp.StatusCode, b)
	}
	var sts []ksqlStatus
	if err := json.Unmarshal(b, &sts); err != nil {
		return nil, fmt.Errorf("/ksql answer %s: %w", b, err)
	}
	var ids []string
	for _, st := range sts {
		if id := st.CommandStatus.QueryID; id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
