package nexmark

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/sluicedata/sluice/bench/devproc"
)

// sluice is a `sluice dev` process with the broker and the SQL engine on
// free loopback ports; nothing else listens.
type sluice struct {
	proc *devproc.Proc // nil when the server runs in this process (tests)
	pid  int           // whose CPU time is measured
	addr string        // Kafka
	ksql string        // ksqlDB REST
}

// startSluice starts `sluice dev` with its data under dir; a non-empty
// cpuProfile is passed as --cpuprofile.
func startSluice(ctx context.Context, bin, dir, cpuProfile string) (*sluice, error) {
	addr, err := devproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	ksql, err := devproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--listen", addr,
		"--ksql-listen", ksql, "--connect-listen", "", "--http-listen", "", "--registry-listen", "",
		"--group-initial-rebalance-delay", "0"}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	p, err := devproc.Start(ctx, bin, args, 32<<10, "ksqlDB REST API", devproc.HTTPReady("http://"+ksql+"/healthcheck"))
	if err != nil {
		return nil, err
	}
	return &sluice{proc: p, pid: p.PID(), addr: addr, ksql: ksql}, nil
}

func (s *sluice) stop() {
	if s.proc != nil {
		s.proc.Stop(15 * time.Second)
	}
}

// exited is closed when the server process has exited (never in process).
func (s *sluice) exited() <-chan struct{} {
	if s.proc == nil {
		return nil
	}
	return s.proc.Done()
}

// output is the tail of the server's output.
func (s *sluice) output() string {
	if s.proc == nil {
		return ""
	}
	return s.proc.Output()
}

// cpu is the process's user+system CPU time so far.
func (s *sluice) cpu() time.Duration {
	d, err := devproc.CPUTime(s.pid)
	if err != nil {
		return 0
	}
	return d
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
