package broker

// DescribeLogDirs (key 35), v1-v4: the one log directory with each
// partition's size on disk (null topics = all), and from v4 the file
// system's total and usable bytes.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"
)

func init() { register(35, 1, 4, handleDescribeLogDirs) }

func handleDescribeLogDirs(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	d := kmsg.NewDescribeLogDirsResponseDir()
	d.Dir = s.topics.logDir
	d.TotalBytes, d.UsableBytes = -1, -1
	var st unix.Statfs_t
	if unix.Statfs(s.topics.logDir, &st) == nil {
		d.TotalBytes, d.UsableBytes = int64(st.Blocks)*st.Bsize, int64(st.Bavail)*st.Bsize
	}
	add := func(t *Topic, parts []int32) {
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = t.Name
		for _, p := range parts {
			if l := t.Partition(p); l != nil {
				dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
				dp.Partition, dp.Size = p, l.Size()
				dt.Partitions = append(dt.Partitions, dp)
			}
		}
		d.Topics = append(d.Topics, dt)
	}
	if req.Topics == nil {
		for _, t := range s.topics.all() {
			parts := make([]int32, len(t.partitions))
			for i := range parts {
				parts[i] = int32(i)
			}
			add(t, parts)
		}
	} else {
		for _, rt := range req.Topics {
			if t := s.topics.get(rt.Topic); t != nil {
				add(t, rt.Partitions)
			}
		}
	}
	if d.TotalBytes < 0 {
		d.ErrorCode = kerr.KafkaStorageError.Code
	}
	resp.Dirs = []kmsg.DescribeLogDirsResponseDir{d}
	return ready(resp)
}
