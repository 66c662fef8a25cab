package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Binaries built once by TestMain.
var (
	sluiceBin      string // the sluice binary under test
	sluiceTestBin  string // the same built with -tags connecttest (test connectors)
	ackProducerBin string // test/compat/internal/ackproducer
	eosAppBin      string // test/compat/internal/eosapp
	moduleRoot     string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		return 1
	}
	moduleRoot = root
	tmp, err := os.MkdirTemp("", "sluice-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	// SLUICE_COMPAT_BINARY runs the tests against a prebuilt binary, for
	// example one built with -race.
	sluiceBin = os.Getenv("SLUICE_COMPAT_BINARY")
	if sluiceBin == "" {
		sluiceBin = filepath.Join(tmp, "sluice")
		if err := goBuild(root, sluiceBin, "./cmd/sluice"); err != nil {
			fmt.Fprintln(os.Stderr, "compat:", err)
			return 1
		}
	}
	sluiceTestBin = filepath.Join(tmp, "sluice-connecttest")
	if err := goBuild(root, sluiceTestBin, "-tags", "connecttest", "./cmd/sluice"); err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		return 1
	}
	ackProducerBin = filepath.Join(tmp, "ackproducer")
	if err := goBuild(root, ackProducerBin, "./test/compat/internal/ackproducer"); err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		return 1
	}
	eosAppBin = filepath.Join(tmp, "eosapp")
	if err := goBuild(root, eosAppBin, "./test/compat/internal/eosapp"); err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		return 1
	}
	return m.Run()
}

func findModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the sluice Go module")
	}
	return filepath.Dir(gomod), nil
}

func goBuild(root, out string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s %s: %w\n%s", out, strings.Join(args, " "), err, b)
	}
	return nil
}

// requireTool returns the path of an external tool. When it is missing the
// test is skipped on a developer machine and fails in CI (CI=true), where
// .ci/run must have installed it.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s not found in PATH (see .ci/run)", name)
	}
	return p
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+"; skipped outside CI", args...)
}

// broker is one `sluice dev` process. Restarts reuse the data directory and
// the ports, so clients that stay connected across a restart find it again.
type broker struct {
	t            testing.TB
	dataDir      string
	addr         string // Kafka listener, host:port
	httpAddr     string // metrics and HTTP APIs, host:port
	registryAddr string // schema registry REST API, host:port
	ksqlAddr     string // ksqlDB-compatible SQL REST API, host:port (full only)
	full         bool   // the SQL engine and connector runtime run too
	connectAddr  string // Kafka Connect REST API, host:port
	bin          string // the binary started
	logDir       string
	args         []string // extra `sluice dev` flags, passed on every start

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error
	starts  int
}

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// startBroker starts a broker on free loopback ports with a fresh data
// directory. It is killed at the end of the test if still running; if the
// test failed, the broker's output is logged. args are extra `sluice dev`
// flags, used on restarts as well.
//
// Only the broker and the schema registry run: the SQL engine and the
// connector runtime are left off, so broker tests (crashes, throughput under
// kill -9) measure the broker alone. startFull starts them all.
func startBroker(t testing.TB, args ...string) *broker {
	t.Helper()
	return startBinary(t, sluiceBin, false, args...)
}

// startFull starts sluice dev with every component: broker, registry, SQL
// engine and connector runtime.
func startFull(t testing.TB, args ...string) *broker {
	t.Helper()
	return startBinary(t, sluiceBin, true, args...)
}

// startConnectBroker starts the connecttest build of sluice, which carries
// the connector runtime's test connectors, with every component.
func startConnectBroker(t testing.TB, args ...string) *broker {
	t.Helper()
	return startBinary(t, sluiceTestBin, true, args...)
}

func startBinary(t testing.TB, bin string, full bool, args ...string) *broker {
	t.Helper()
	ports := freePorts(t, 5)
	b := &broker{
		bin:          bin,
		full:         full,
		connectAddr:  fmt.Sprintf("127.0.0.1:%d", ports[3]),
		t:            t,
		dataDir:      filepath.Join(t.TempDir(), "data"),
		addr:         fmt.Sprintf("127.0.0.1:%d", ports[0]),
		httpAddr:     fmt.Sprintf("127.0.0.1:%d", ports[1]),
		registryAddr: fmt.Sprintf("127.0.0.1:%d", ports[2]),
		ksqlAddr:     fmt.Sprintf("127.0.0.1:%d", ports[4]),
		logDir:       t.TempDir(),
		args:         args,
	}
	t.Cleanup(func() {
		if b.running() {
			b.signal(syscall.SIGKILL)
			<-b.exited
		}
		if t.Failed() {
			b.dumpLogs()
		}
	})
	b.start()
	return b
}

// componentFlags are the listener flags of the optional components
// followed by the test's own flags.
func (b *broker) componentFlags() []string {
	flags := []string{"--ksql-listen", "", "--connect-listen", ""}
	if b.full {
		flags = []string{"--ksql-listen", b.ksqlAddr, "--connect-listen", b.connectAddr}
	}
	return append(flags, b.args...)
}

// readyAddrs are the listeners that must accept connections before a test
// starts.
func (b *broker) readyAddrs() []string {
	if b.full {
		return []string{b.addr, b.registryAddr, b.connectAddr, b.ksqlAddr}
	}
	return []string{b.addr, b.registryAddr}
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func (b *broker) running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

func (b *broker) logPath(n int) string {
	return filepath.Join(b.logDir, fmt.Sprintf("broker-%d.log", n))
}

// start runs the binary and waits until its Kafka port accepts connections.
func (b *broker) start() {
	b.t.Helper()
	if b.running() {
		b.t.Fatalf("broker: start while running")
	}
	b.starts++
	logf, err := os.Create(b.logPath(b.starts))
	if err != nil {
		b.t.Fatalf("broker log: %v", err)
	}
	cmd := exec.Command(b.bin, append([]string{"dev",
		"--data-dir", b.dataDir,
		"--listen", b.addr,
		"--http-listen", b.httpAddr,
		"--registry-listen", b.registryAddr,
	}, b.componentFlags()...)...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		b.t.Fatalf("starting %s: %v", b.bin, err)
	}
	exited := make(chan struct{})
	b.mu.Lock()
	b.cmd, b.exited, b.waitErr = cmd, exited, nil
	b.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		b.mu.Lock()
		b.waitErr = err
		b.mu.Unlock()
		close(exited)
	}()

	// Ready once the Kafka listener, the registry, the connect REST API and
	// the SQL API (which start in this order) accept connections.
	deadline := time.Now().Add(startTimeout)
	for _, addr := range b.readyAddrs() {
		for {
			select {
			case <-exited:
				b.t.Fatalf("sluice dev exited before listening on %s: %v\n%s", addr, b.exitErr(), b.logTail(b.starts))
			default:
			}
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				b.t.Fatalf("sluice dev not listening on %s after %v: %v\n%s", addr, startTimeout, err, b.logTail(b.starts))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (b *broker) exitErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waitErr
}

func (b *broker) signal(sig syscall.Signal) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within stopTimeout.
func (b *broker) stop() {
	b.t.Helper()
	if !b.running() {
		b.t.Fatalf("broker: stop while not running (exit: %v)", b.exitErr())
	}
	b.signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(stopTimeout):
		b.signal(syscall.SIGKILL)
		<-b.exited
		b.t.Fatalf("sluice dev did not exit within %v of SIGTERM\n%s", stopTimeout, b.logTail(b.starts))
	}
	if err := b.exitErr(); err != nil {
		b.t.Fatalf("sluice dev did not exit cleanly on SIGTERM: %v\n%s", err, b.logTail(b.starts))
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (b *broker) kill() {
	b.t.Helper()
	if !b.running() {
		b.t.Fatalf("broker: kill while not running (exit: %v)", b.exitErr())
	}
	b.signal(syscall.SIGKILL)
	<-b.exited
}

func (b *broker) restart() {
	b.t.Helper()
	b.stop()
	b.start()
}

// logTail returns the last lines of the n-th run's output.
func (b *broker) logTail(n int) string {
	data, err := os.ReadFile(b.logPath(n))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 40 {
		lines = append([]string{"..."}, lines[len(lines)-40:]...)
	}
	return "--- sluice dev output (run " + fmt.Sprint(n) + ") ---\n" + strings.Join(lines, "\n")
}

func (b *broker) dumpLogs() {
	for n := 1; n <= b.starts; n++ {
		b.t.Log(b.logTail(n))
	}
}

// client returns a franz-go client for the broker, closed with the test.
func (b *broker) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(b.addr),
		kgo.RetryTimeout(20 * time.Second),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (b *broker) admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(b.client(t))
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var nonTopicChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// topicName returns a valid topic name unique to the test and suffix.
func topicName(t testing.TB, suffix string) string {
	name := nonTopicChars.ReplaceAllString(t.Name()+"-"+suffix, "_")
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	return name
}

// createTopic creates a topic and fails the test on any error.
func createTopic(t testing.TB, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	if _, err := adm.CreateTopic(ctx, partitions, 1, configs, topic); err != nil {
		t.Fatalf("create topic %q: %v", topic, err)
	}
}

// consumeAll reads partitions of topic from offset 0 until each reaches the
// end offset given for it, and returns the records of each partition in
// order. It fails on any gap, reorder or extra record.
func consumeAll(t testing.TB, b *broker, topic string, ends map[int32]int64) map[int32][]*kgo.Record {
	t.Helper()
	assign := map[int32]kgo.Offset{}
	left := 0
	for p, end := range ends {
		if end > 0 {
			assign[p] = kgo.NewOffset().At(0)
			left++
		}
	}
	out := map[int32][]*kgo.Record{}
	if left == 0 {
		return out
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(b.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	defer cl.Close()
	ctx := testCtx(t, 60*time.Second)
	for left > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			got := map[int32]int{}
			for p, rs := range out {
				got[p] = len(rs)
			}
			t.Fatalf("consume %q: timed out with %v records per partition, want %v", topic, got, ends)
		}
		fs.EachError(func(tp string, p int32, err error) {
			t.Fatalf("consume %q partition %d: %v", tp, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic != topic {
				t.Fatalf("consume %q: record from topic %q", topic, r.Topic)
			}
			rs := out[r.Partition]
			if want := int64(len(rs)); r.Offset != want {
				t.Fatalf("consume %q partition %d: got offset %d, want %d", topic, r.Partition, r.Offset, want)
			}
			if r.Offset >= ends[r.Partition] {
				t.Fatalf("consume %q partition %d: record at offset %d beyond end %d", topic, r.Partition, r.Offset, ends[r.Partition])
			}
			out[r.Partition] = append(rs, r)
			if r.Offset == ends[r.Partition]-1 {
				left--
			}
		})
	}
	return out
}

// endOffsets lists the end offset of every partition of topic.
func endOffsets(t testing.TB, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets %q: %v", topic, err)
	}
	ends := map[int32]int64{}
	var errs []error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", o.Partition, o.Err))
		}
		ends[o.Partition] = o.Offset
	})
	if len(errs) > 0 {
		t.Fatalf("list end offsets %q: %v", topic, errors.Join(errs...))
	}
	return ends
}

// headersString renders headers for comparisons in failure messages.
func headersString(hs []kgo.RecordHeader) string {
	var buf bytes.Buffer
	for i, h := range hs {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "%s=%q", h.Key, h.Value)
	}
	return buf.String()
}
