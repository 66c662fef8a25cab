package compat

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKafkajs runs kafkajs/compat.js (kafkajs 2.2.4: ApiVersions v2, Metadata
// v6, Produce v7, Fetch v11, ListOffsets v3, CreateTopics v3, DeleteTopics v1)
// and then reads its 1000 records back with franz-go.
func TestKafkajs(t *testing.T) {
	node, dir := nodeScripts(t, "kafkajs")
	b := startBroker(t)
	topic := topicName(t, "t")

	stdoutText := runNode(t, node, dir, "compat.js", b.addr, topic)
	lines := strings.Split(strings.TrimSpace(stdoutText), "\n")
	for _, want := range []string{"created topic " + topic, "produced 1000", "offsets by timestamp ok", "consumed 1000", "delete topic ok"} {
		if !strings.Contains(stdoutText, want+"\n") {
			t.Errorf("kafkajs output lacks %q", want)
		}
	}
	if last := lines[len(lines)-1]; last != "kafkajs: OK" {
		t.Errorf("kafkajs last line %q, want %q", last, "kafkajs: OK")
	}

	// The same records through an independent client. compat.js sends record i
	// to partition i%3 with key key-<i>, value value-<i>-x..., header seq=<i>.
	got := consumeAll(t, b, topic, endOffsets(t, b.admin(t), topic))
	n := 0
	for p, rs := range got {
		for o, r := range rs {
			i := o*3 + int(p)
			wantKey := fmt.Sprintf("key-%d", i)
			wantValue := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%50))
			if string(r.Key) != wantKey || string(r.Value) != wantValue {
				t.Fatalf("partition %d offset %d: key %q value %q, want %q %q", p, o, r.Key, r.Value, wantKey, wantValue)
			}
			if want := fmt.Sprintf(`seq="%d",client="kafkajs"`, i); headersString(r.Headers) != want {
				t.Fatalf("partition %d offset %d: headers %s, want %s", p, o, headersString(r.Headers), want)
			}
			n++
		}
	}
	if n != 1000 {
		t.Errorf("franz-go read %d kafkajs records, want 1000", n)
	}
}

// nodeScripts returns node and the folder of the node scripts, once the
// npm packages named are installed there (a missing tool fails in CI and
// skips elsewhere, see missing).
func nodeScripts(t *testing.T, pkgs ...string) (node, dir string) {
	t.Helper()
	node = requireTool(t, "node")
	dir = filepath.Join(moduleRoot, "test", "compat", "kafkajs")
	for _, pkg := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
			missing(t, "%s is not installed: run `npm ci` in %s (see .ci/run)", pkg, dir)
		}
	}
	return node, dir
}

// runNode runs a node script of dir with args (3 minutes at most), logs its
// output and returns it; a failure or timeout fails the test with the end
// of its stderr.
func runNode(t *testing.T, node, dir, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(), "KAFKAJS_NO_PARTITIONER_WARNING=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("%s output:\n%s", script, stdout.String())
	if err != nil || ctx.Err() != nil {
		t.Fatalf("node %s: %v (timeout: %v)\nstderr:\n%s", script, err, ctx.Err() != nil, tail(stderr.String(), 60))
	}
	return stdout.String()
}
