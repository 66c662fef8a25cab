package compat

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkajsGroupsTxn runs kafkajs/groups_txn.js: kafkajs consumer groups
// (two members sharing a topic, a third resuming from committed offsets) and
// transactions (commit, abort, consume-transform-produce with sendOffsets).
// It then checks the results with franz-go reading committed and uncommitted
// and with kadm's FetchOffsets.
func TestKafkajsGroupsTxn(t *testing.T) {
	node, dir := nodeScripts(t, "kafkajs")
	b := startBroker(t, "--group-initial-rebalance-delay", "300ms")
	prefix := topicName(t, "kjs")
	groupsTopic, txnTopic, inTopic, outTopic := prefix+"-groups", prefix+"-txn", prefix+"-in", prefix+"-out"
	adm := b.admin(t)
	createTopic(t, adm, groupsTopic, 4, nil)
	for _, topic := range []string{txnTopic, inTopic, outTopic} {
		createTopic(t, adm, topic, 2, nil)
	}

	stdoutText := runNode(t, node, dir, "groups_txn.js", b.addr, prefix)
	out := stdoutText
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "kafkajs groups/txn: OK" {
		t.Fatalf("kafkajs last line %q, want %q", last, "kafkajs groups/txn: OK")
	}
	for _, want := range []string{
		"groups: produced 2000",
		"groups: committed 0=500 1=500 2=500 3=500",
		"groups: member c3 partitions 0,1,2,3",
		"groups: c3 old 0 new 20",
		"groups: committed after resume 0=505 1=505 2=505 3=505",
		"txn: read_committed kafkajs consumer got 15 committed, 0 aborted",
		"ctp: copied 30 in ",
		"ctp: committed 0=15 1=15",
		"ctp: aborted group has no offsets",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kafkajs output lacks %q", want)
		}
	}

	// The two members split the four partitions and both consumed.
	members := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^groups: member (c[12]) partitions ([0-9,]+)$`).FindAllStringSubmatch(out, -1) {
		members[m[1]] = m[2]
	}
	parts := strings.Split(members["c1"]+","+members["c2"], ",")
	sort.Strings(parts)
	if len(members) != 2 || members["c1"] == "" || members["c2"] == "" || strings.Join(parts, ",") != "0,1,2,3" {
		t.Errorf("members' partitions %v, want c1 and c2 to split 0,1,2,3", members)
	}
	if m := regexp.MustCompile(`(?m)^groups: consumed 2000 distinct \(duplicates \d+\) c1=(\d+) c2=(\d+)$`).FindStringSubmatch(out); m == nil {
		t.Errorf("kafkajs output lacks the consumed line")
	} else if m[1] == "0" || m[2] == "0" {
		t.Errorf("a member consumed nothing: c1=%s c2=%s", m[1], m[2])
	}

	// Committed offsets, seen through kadm.
	checkCommitted(t, b, prefix+"-g", groupsTopic, map[int32]int64{0: 505, 1: 505, 2: 505, 3: 505})
	checkCommitted(t, b, prefix+"-ctp", inTopic, map[int32]int64{0: 15, 1: 15})
	checkCommitted(t, b, prefix+"-ctp-aborted", inTopic, map[int32]int64{})

	// read_uncommitted sees every record written, aborted ones included;
	// read_committed sees exactly the committed ones.
	var all, committed []string
	for i := range 15 {
		committed = append(committed, fmt.Sprintf("commit-%d", i))
	}
	all = append(all, committed...)
	for i := range 7 {
		all = append(all, fmt.Sprintf("abort-%d", i))
	}
	checkValues(t, "read_uncommitted "+txnTopic, readValues(t, b, txnTopic, false, len(all)), all)
	checkValues(t, "read_committed "+txnTopic, readValues(t, b, txnTopic, true, len(committed)), committed)

	var transformed []string
	for i := range 30 {
		transformed = append(transformed, fmt.Sprintf("in-%d-transformed", i))
	}
	checkValues(t, "read_committed "+outTopic, readValues(t, b, outTopic, true, len(transformed)), transformed)
	checkValues(t, "read_uncommitted "+outTopic, readValues(t, b, outTopic, false, len(transformed)+1), append(transformed, "aborted-transform"))
}

// checkCommitted requires group's committed offsets for topic to be want.
func checkCommitted(t *testing.T, b *broker, group, topic string, want map[int32]int64) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	resp, err := b.admin(t).FetchOffsets(ctx, group)
	if err != nil {
		t.Errorf("fetch offsets of group %q: %v", group, err)
		return
	}
	got := map[int32]int64{}
	for tp, ps := range resp {
		for p, o := range ps {
			if o.Err != nil {
				t.Errorf("group %q %s/%d: %v", group, tp, p, o.Err)
			}
			if tp != topic {
				t.Errorf("group %q has offsets for topic %q", group, tp)
				continue
			}
			if o.At >= 0 {
				got[p] = o.At
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("group %q committed %v, want %v", group, got, want)
	}
}

// readValues reads topic from the start with franz-go until it has n records
// and returns their values. Every test transaction writes the last records of
// each partition, so reading n records (the expected count) passes over any
// record that should be filtered; checkValues then catches extras.
func readValues(t *testing.T, b *broker, topic string, committed bool, n int) []string {
	t.Helper()
	opts := []kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := b.client(t, opts...)
	ctx := testCtx(t, 30*time.Second)
	var vals []string
	for len(vals) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %q (committed %v): timed out with %d of %d records: %v", topic, committed, len(vals), n, vals)
		}
		fs.EachError(func(tp string, p int32, err error) {
			t.Fatalf("read %q partition %d: %v", tp, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) { vals = append(vals, string(r.Value)) })
	}
	return vals
}

func checkValues(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = append([]string(nil), got...), append([]string(nil), want...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: got values %v, want %v", what, got, want)
	}
}
