package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzRequestDecoding feeds arbitrary bytes as one request frame (what
// follows the 4-byte size) through conn's decode-and-dispatch path on a
// live Server, then builds and encodes the response the way writeLoop
// does. Nothing may panic. Seeds are valid requests of the main APIs at
// several versions.
func FuzzRequestDecoding(f *testing.F) {
	for _, seed := range requestSeeds() {
		f.Add(seed[4:]) // without the size
	}
	s, err := New(Config{DataDir: f.TempDir(), Listen: "127.0.0.1:0", AutoCreateTopics: true, Logger: quietLogger})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	for _, tc := range []struct {
		name    string
		configs map[string]string
	}{{"fuzz", nil}, {"fuzz-compact", map[string]string{"cleanup.policy": "compact"}}} {
		t, err := s.topics.create(tc.name, 2, tc.configs, false)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := t.Partition(0).Append(testBatch{values: []string{"a", "b", "c"}}.encode()); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		c := newConn(s, nil)
		if _, req, _, err := c.decode(body); err == nil && tooCostly(req) {
			t.Skip("asks for more partitions than a fuzz run should create")
		}
		q, err := c.handle(body)
		// As if the client hung up right away: long polls end at once.
		c.cancel()
		if err == nil && q.resp != nil {
			if resp := q.resp(); resp != nil {
				appendResponse(nil, q, resp)
			}
		}
		// Keep the registry small: drop topics the fuzzer created.
		if ts := s.topics.all(); len(ts) > 40 {
			for _, tp := range ts {
				if tp.Name != "fuzz" && tp.Name != "fuzz-compact" && !tp.Internal {
					s.topics.remove(tp.Name)
				}
			}
		}
	})
}

// tooCostly reports requests that would create many partitions: valid,
// but each partition is a directory and open files, which would make the
// fuzzer measure the file system.
func tooCostly(req kmsg.Request) bool {
	const limit = 8
	switch r := req.(type) {
	case *kmsg.CreateTopicsRequest:
		n := int64(0)
		for _, t := range r.Topics {
			n += max(int64(t.NumPartitions), int64(len(t.ReplicaAssignment)))
		}
		return n > limit*int64(max(1, len(r.Topics)))
	case *kmsg.CreatePartitionsRequest:
		for _, t := range r.Topics {
			if t.Count > limit {
				return true
			}
		}
	}
	return false
}

// requestSeeds returns valid request frames (with the size) for the main
// APIs at old and new versions.
func requestSeeds() [][]byte {
	var out [][]byte
	add := func(req kmsg.Request, versions ...int16) {
		for _, v := range versions {
			req.SetVersion(v)
			out = append(out, frame(req, int32(len(out)+1)))
		}
	}

	av := kmsg.NewPtrApiVersionsRequest()
	av.ClientSoftwareName, av.ClientSoftwareVersion = "sluice-fuzz", "1.0"
	add(av, 0, 3, 4, 5)

	md := kmsg.NewPtrMetadataRequest()
	for _, name := range []string{"fuzz", "fuzz-compact", "fuzz-new"} {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(name)
		md.Topics = append(md.Topics, mt)
	}
	md.AllowAutoTopicCreation = true
	add(md, 0, 4, 9, 12)
	add(kmsg.NewPtrMetadataRequest(), 1) // null topics: all

	for _, b := range [][]byte{
		testBatch{values: []string{"x", "y"}}.encode(),
		testBatch{values: []string{"k1"}, idempotent: true, pid: 7, epoch: 0, seq: 0}.encode(),
		testBatch{values: []string{"g1", "g2"}, gzip: true}.encode(),
		testBatch{values: []string{"n"}, nullKeys: true}.encode(),
	} {
		pr := kmsg.NewPtrProduceRequest()
		pr.Acks, pr.TimeoutMillis = -1, 5000
		for _, name := range []string{"fuzz", "fuzz-compact"} {
			pt := kmsg.NewProduceRequestTopic()
			pt.Topic = name
			pp := kmsg.NewProduceRequestTopicPartition()
			pp.Partition, pp.Records = 0, b
			pt.Partitions = append(pt.Partitions, pp)
			pr.Topics = append(pr.Topics, pt)
		}
		add(pr, 3, 7, 9, 11)
	}

	fr := kmsg.NewPtrFetchRequest()
	fr.MaxWaitMillis, fr.MinBytes, fr.MaxBytes = 500, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "fuzz"
	for p := int32(0); p < 3; p++ {
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, int64(p), 1<<20
		ft.Partitions = append(ft.Partitions, fp)
	}
	fr.Topics = append(fr.Topics, ft)
	add(fr, 4, 11, 12, 16)

	lo := kmsg.NewPtrListOffsetsRequest()
	lo.ReplicaID = -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = "fuzz"
	for _, ts := range []int64{-1, -2, -3, 0, 1700000000001} {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Timestamp = ts
		lt.Partitions = append(lt.Partitions, lp)
	}
	lo.Topics = append(lo.Topics, lt)
	add(lo, 1, 4, 6, 8)

	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.TimeoutMillis = 5000
	for _, name := range []string{"fuzz-created", "..", "fuzz"} {
		tt := kmsg.NewCreateTopicsRequestTopic()
		tt.Topic, tt.NumPartitions, tt.ReplicationFactor = name, 2, 1
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = "cleanup.policy", kmsg.StringPtr("compact")
		tt.Configs = append(tt.Configs, cfg)
		ct.Topics = append(ct.Topics, tt)
	}
	add(ct, 2, 4, 5, 7)

	dr := kmsg.NewPtrDeleteRecordsRequest()
	dt := kmsg.NewDeleteRecordsRequestTopic()
	dt.Topic = "fuzz"
	dp := kmsg.NewDeleteRecordsRequestTopicPartition()
	dp.Offset = 1
	dt.Partitions = append(dt.Partitions, dp)
	dr.Topics = append(dr.Topics, dt)
	add(dr, 0, 2)

	dc := kmsg.NewPtrDescribeConfigsRequest()
	rs := kmsg.NewDescribeConfigsRequestResource()
	rs.ResourceType, rs.ResourceName = kmsg.ConfigResourceTypeTopic, "fuzz"
	dc.Resources = append(dc.Resources, rs)
	add(dc, 1, 4)

	ia := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ir := kmsg.NewIncrementalAlterConfigsRequestResource()
	ir.ResourceType, ir.ResourceName = kmsg.ConfigResourceTypeTopic, "fuzz"
	ic := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	ic.Name, ic.Value = "retention.ms", kmsg.StringPtr("60000")
	ir.Configs = append(ir.Configs, ic)
	ia.Resources = append(ia.Resources, ir)
	add(ia, 0, 1)

	cp := kmsg.NewPtrCreatePartitionsRequest()
	cpt := kmsg.NewCreatePartitionsRequestTopic()
	cpt.Topic, cpt.Count = "fuzz-created", 3
	cp.Topics = append(cp.Topics, cpt)
	add(cp, 0, 3)

	add(kmsg.NewPtrInitProducerIDRequest(), 0, 4)
	add(kmsg.NewPtrDescribeClusterRequest(), 0)
	ld := kmsg.NewPtrDescribeLogDirsRequest()
	add(ld, 1, 4)
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.ProtocolType, jg.SessionTimeoutMillis, jg.RebalanceTimeoutMillis = "fuzz-group", "consumer", 6000, 100
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1, 0, 0, 0, 0}}}
	add(jg, 3, 5, 9) // v3 forms a group at once; v5 and v9 get MEMBER_ID_REQUIRED
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "fuzz-group", "m", 1
	add(hb, 0, 4)
	sg := kmsg.NewPtrSyncGroupRequest()
	sg.Group, sg.MemberID = "fuzz-group", "m"
	add(sg, 0, 5)
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group, oc.Generation = "fuzz-group", -1
	oc.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "fuzz", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 1, Offset: 2}}}}
	add(oc, 2, 8, 9)
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = "fuzz-group"
	of.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "fuzz-group"}}
	add(of, 1, 7, 8, 9)
	add(kmsg.NewPtrListGroupsRequest(), 0, 5)
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"fuzz-group", ""}
	add(dg, 0, 5)
	lg := kmsg.NewPtrLeaveGroupRequest()
	lg.Group, lg.MemberID = "fuzz-group", "m"
	add(lg, 0, 5)
	cgh := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	cgh.Group, cgh.MemberID, cgh.RebalanceTimeoutMillis = "fuzz-cg", "fuzz-member", 1000
	cgh.SubscribedTopicNames = []string{"fuzz"}
	cgh.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	add(cgh, 0, 1)
	cgd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cgd.Groups = []string{"fuzz-cg", "fuzz-group"}
	add(cgd, 0, 1)
	eb := kmsg.NewPtrEndTxnRequest()
	eb.TransactionalID, eb.ProducerID, eb.ProducerEpoch = "fuzz-txn", 1, 0
	add(eb, 0, 3, 5)
	return out
}

// TestRequestSeedsAreValid keeps the fuzz seeds honest: each one must be a
// request the broker decodes and answers.
func TestRequestSeedsAreValid(t *testing.T) {
	s, _ := startServer(t, Config{AutoCreateTopics: true, GroupInitialRebalanceDelay: -1})
	if _, err := s.topics.create("fuzz", 2, nil, false); err != nil {
		t.Fatal(err)
	}
	for i, seed := range requestSeeds() {
		c := newConn(s, nil)
		q, err := c.handle(seed[4:])
		var resp kmsg.Response
		if err == nil && isGroupKey(q.key) && q.resp != nil {
			// Group answers come from the coordinator loop, after a
			// cancel they may be dropped; a join is answered when its
			// group forms.
			resp = q.resp()
		}
		c.cancel()
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if resp == nil && q.resp != nil {
			resp = q.resp()
		}
		if resp == nil {
			t.Fatalf("seed %d (key %d v%d): no response", i, q.key, q.version)
		}
	}
}

func isGroupKey(k int16) bool {
	switch k {
	case 8, 9, 11, 12, 13, 14, 15, 16, 42, 47, 68, 69:
		return true
	}
	return false
}
