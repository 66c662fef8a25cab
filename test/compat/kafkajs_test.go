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
	node := requireTool(t, "node")
	dir := filepath.Join(moduleRoot, "test", "compat", "kafkajs")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs", "package.json")); err != nil {
		missing(t, "kafkajs is not installed: run `npm ci` in %s (see .ci/run)", dir)
	}
	b := startBroker(t)
	topic := topicName(t, "t")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "compat.js", b.addr, topic)
	cmd.Dir = dir
	dieWithParent(cmd)
	cmd.Env = append(os.Environ(), "KAFKAJS_NO_PARTITIONER_WARNING=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("kafkajs output:\n%s", stdout.String())
	if err != nil || ctx.Err() != nil {
		t.Fatalf("node compat.js: %v (timeout: %v)\nstderr:\n%s", err, ctx.Err() != nil, tail(stderr.String(), 40))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for _, want := range []string{"created topic " + topic, "produced 1000", "offsets by timestamp ok", "consumed 1000", "delete topic ok"} {
		if !strings.Contains(stdout.String(), want+"\n") {
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
