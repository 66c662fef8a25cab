package group

// Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete and the
// expiry of offsets of empty groups (offsets.retention.minutes). A commit is
// applied in memory at once and answered once its record is on disk.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit stores offsets for a group's member, or for anyone when the
// generation is -1 and the member id empty and the group has no members
// (a "simple" commit, as kcat and assign-mode consumers do).
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) func() kmsg.Response {
	return c.callDurable(ctx, "offset commit", req.Group,
		func() (kmsg.Response, func() error) { return c.commit(req) },
		func(r kmsg.Response) {
			setCommitErrors(r.(*kmsg.OffsetCommitResponse), kerr.CoordinatorNotAvailable.Code, nil)
		})
}

// callDurable runs fn on the loop and answers once the write fn started is
// on disk; when that write fails, onFail marks the answer.
func (c *Coordinator) callDurable(ctx context.Context, what, group string, fn func() (kmsg.Response, func() error), onFail func(kmsg.Response)) func() kmsg.Response {
	var wait func() error
	f := c.call(ctx, func(reply chan<- kmsg.Response) {
		var resp kmsg.Response
		resp, wait = fn()
		answer(reply, resp)
	})
	return func() kmsg.Response {
		r := f()
		if r != nil && wait != nil {
			if err := wait(); err != nil {
				c.log.Warn(what+" not durable", "group", group, "err", err)
				onFail(r)
			}
		}
		return r
	}
}

// setCommitErrors sets code on every partition without an error (every
// partition when only is nil).
func setCommitErrors(resp *kmsg.OffsetCommitResponse, code int16, only func(int16) bool) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if only == nil || only(p.ErrorCode) {
				p.ErrorCode = code
			}
		}
	}
}

// newOffset checks one committed partition (of a topic with n partitions)
// and makes its offset, or returns the partition's error code.
func (c *Coordinator) newOffset(partition, n int32, off int64, epoch int32, metadata *string, now int64) (offset, int16) {
	switch {
	case partition < 0 || partition >= n:
		return offset{}, kerr.UnknownTopicOrPartition.Code
	case metadata != nil && len(*metadata) > c.cfg.MaxMetadataBytes:
		return offset{}, kerr.OffsetMetadataTooLarge.Code
	}
	o := offset{Offset: off, LeaderEpoch: epoch, CommitTime: now}
	if metadata != nil {
		o.Metadata = *metadata
	}
	return o, 0
}

func (c *Coordinator) commit(req *kmsg.OffsetCommitRequest) (*kmsg.OffsetCommitResponse, func() error) {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetCommitResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetCommitResponseTopicPartition()
			p.Partition = rp.Partition
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	g := c.groups[req.Group]
	code := int16(0)
	switch {
	case req.Group == "":
		code = kerr.InvalidGroupID.Code
	case req.Generation < 0 && req.MemberID == "":
		if g != nil && (len(g.members) > 0 || g.consumer != nil && len(g.consumer.members) > 0) {
			code = kerr.UnknownMemberID.Code // a simple commit cannot overwrite an active group's offsets
		}
	default:
		code = c.checkCommitter(g, req.Group, req.MemberID, req.InstanceID, req.Generation)
		if code == 0 && g.state == stateCompleting {
			code = kerr.RebalanceInProgress.Code
		}
		if code == 0 && g.consumer == nil {
			c.touch(g.members[req.MemberID], c.cfg.Now())
		}
	}
	if code != 0 {
		setCommitErrors(resp, code, nil)
		return resp, nil
	}
	if g == nil {
		g = newGroup(req.Group, c.cfg.Now())
		c.groups[g.name] = g
	}
	now := c.cfg.Now().UnixMilli()
	var recs []kv
	var tps []topicPartition
	for i, rt := range req.Topics {
		n := c.cfg.Partitions(rt.Topic)
		for j, rp := range rt.Partitions {
			out := &resp.Topics[i].Partitions[j]
			o, code := c.newOffset(rp.Partition, n, rp.Offset, rp.LeaderEpoch, rp.Metadata, now)
			if code != 0 {
				out.ErrorCode = code
				continue
			}
			tp := topicPartition{rt.Topic, rp.Partition}
			g.offsets[tp] = o
			tps = append(tps, tp)
			recs = append(recs, kv{offsetKey(g.name, tp), offsetValue(o)})
		}
	}
	if len(recs) == 0 {
		return resp, nil
	}
	wait, err := c.write(g.name, recs)
	if err != nil {
		c.log.Warn("offset commit", "group", g.name, "err", err)
		for _, tp := range tps {
			delete(g.offsets, tp)
		}
		setCommitErrors(resp, kerr.CoordinatorNotAvailable.Code, func(c int16) bool { return c == 0 })
		return resp, nil
	}
	return resp, wait
}

// OffsetFetch returns committed offsets: for the listed partitions, or all
// of a group's with a null topic list. v8+ asks for several groups.
func (c *Coordinator) OffsetFetch(ctx context.Context, req *kmsg.OffsetFetchRequest) func() kmsg.Response {
	return c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
		if req.GetVersion() >= 8 {
			for _, rg := range req.Groups {
				out := kmsg.NewOffsetFetchResponseGroup()
				out.Group = rg.Group
				var topics []kmsg.OffsetFetchRequestTopic
				for _, t := range rg.Topics {
					topics = append(topics, kmsg.OffsetFetchRequestTopic{Topic: t.Topic, Partitions: t.Partitions})
				}
				if rg.Topics == nil {
					topics = nil
				}
				ts, code := c.fetchOffsets(rg.Group, topics, req.RequireStable)
				out.ErrorCode = code
				for _, t := range ts {
					gt := kmsg.NewOffsetFetchResponseGroupTopic()
					gt.Topic = t.Topic
					for _, p := range t.Partitions {
						gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
						gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
						gt.Partitions = append(gt.Partitions, gp)
					}
					out.Topics = append(out.Topics, gt)
				}
				resp.Groups = append(resp.Groups, out)
			}
			answer(reply, resp)
			return
		}
		resp.Topics, resp.ErrorCode = c.fetchOffsets(req.Group, req.Topics, req.RequireStable)
		answer(reply, resp)
	})
}

func (c *Coordinator) fetchOffsets(name string, topics []kmsg.OffsetFetchRequestTopic, requireStable bool) ([]kmsg.OffsetFetchResponseTopic, int16) {
	if name == "" {
		return nil, kerr.InvalidGroupID.Code
	}
	g := c.groups[name]
	var out []kmsg.OffsetFetchResponseTopic
	if topics == nil { // all of the group's offsets
		if g == nil {
			return nil, 0
		}
		byTopic := map[string][]int32{}
		var order []string
		for tp := range g.offsets {
			if byTopic[tp.Topic] == nil {
				order = append(order, tp.Topic)
			}
			byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
		}
		sortStrings(order)
		for _, t := range order {
			ps := byTopic[t]
			sortInt32s(ps)
			topics = append(topics, kmsg.OffsetFetchRequestTopic{Topic: t, Partitions: ps})
		}
	}
	for _, rt := range topics {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = rt.Topic
		for _, p := range rt.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = p, -1, -1
			if g != nil && requireStable && g.hasPendingTxnOffset(topicPartition{rt.Topic, p}) {
				rp.ErrorCode = kerr.UnstableOffsetCommit.Code
			} else if g != nil {
				if o, ok := g.offsets[topicPartition{rt.Topic, p}]; ok {
					md := o.Metadata
					rp.Offset, rp.LeaderEpoch, rp.Metadata = o.Offset, o.LeaderEpoch, &md
				}
			}
			if rp.Metadata == nil {
				empty := ""
				rp.Metadata = &empty
			}
			t.Partitions = append(t.Partitions, rp)
		}
		out = append(out, t)
	}
	return out, 0
}

// OffsetDelete removes a group's offsets for partitions its members do not
// consume.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) func() kmsg.Response {
	var wait func() error
	f := c.call(ctx, func(reply chan<- kmsg.Response) {
		resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
		g := c.groups[req.Group]
		switch {
		case req.Group == "":
			resp.ErrorCode = kerr.InvalidGroupID.Code
		case g == nil:
			resp.ErrorCode = kerr.GroupIDNotFound.Code
		case len(g.members) > 0 && g.protocolType != "consumer":
			resp.ErrorCode = kerr.NonEmptyGroup.Code
		}
		if resp.ErrorCode != 0 {
			answer(reply, resp)
			return
		}
		subscribed := g.subscribedTopics()
		var recs []kv
		for _, rt := range req.Topics {
			t := kmsg.NewOffsetDeleteResponseTopic()
			t.Topic = rt.Topic
			for _, p := range rt.Partitions {
				rp := kmsg.NewOffsetDeleteResponseTopicPartition()
				rp.Partition = p.Partition
				tp := topicPartition{rt.Topic, p.Partition}
				switch {
				case subscribed[rt.Topic]:
					rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
				case c.cfg.Partitions(rt.Topic) <= p.Partition || p.Partition < 0:
					rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				default:
					if _, ok := g.offsets[tp]; ok {
						delete(g.offsets, tp)
						recs = append(recs, kv{offsetKey(g.name, tp), nil})
					}
				}
				t.Partitions = append(t.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, t)
		}
		if len(recs) > 0 {
			w, err := c.write(g.name, recs)
			if err != nil {
				c.log.Warn("offset delete", "group", g.name, "err", err)
				resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			}
			wait = w
		}
		answer(reply, resp)
	})
	return func() kmsg.Response {
		r := f()
		if r != nil && wait != nil {
			if err := wait(); err != nil {
				r.(*kmsg.OffsetDeleteResponse).ErrorCode = kerr.CoordinatorNotAvailable.Code
			}
		}
		return r
	}
}

// expireOffsets deletes the offsets of groups without members once they
// are older than the retention (counted from the later of the commit and
// the moment the group became empty, as Kafka 2.1+), and then the groups
// themselves when nothing is left. It returns waits for the tombstones'
// durability.
func (c *Coordinator) expireOffsets() (waits []func() error) {
	now := c.cfg.Now()
	limit := c.cfg.OffsetsRetention
	for _, name := range c.sortedNames() {
		g := c.groups[name]
		if len(g.members) > 0 || len(g.pending) > 0 || g.state != stateEmpty {
			continue
		}
		var recs []kv
		for tp, o := range g.offsets {
			base := time.UnixMilli(o.CommitTime)
			if g.protocolType != "" && g.stateSince.After(base) {
				base = g.stateSince
			}
			if now.Sub(base) >= limit {
				delete(g.offsets, tp)
				recs = append(recs, kv{offsetKey(name, tp), nil})
			}
		}
		if len(g.offsets) == 0 {
			delete(c.groups, name)
			recs = append(recs, kv{groupKey(name), nil})
		}
		if len(recs) > 0 {
			c.log.Info("expired group offsets", "group", name, "records", len(recs))
			w, err := c.write(name, recs)
			if err != nil {
				c.log.Warn("writing offset tombstones", "group", name, "err", err)
				continue
			}
			waits = append(waits, w)
		}
	}
	return waits
}

// ExpireNow runs offset expiry at once (tests, and operators' tools) and
// returns once the tombstones are on disk.
func (c *Coordinator) ExpireNow() error {
	var waits []func() error
	done := make(chan struct{})
	if !c.do(func() { waits = c.expireOffsets(); close(done) }) {
		return nil
	}
	<-done
	for _, w := range waits {
		if err := w(); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTopicOffsets forgets every group's committed offsets (and pending
// transactional offsets) of deleted topics, as Kafka does when a topic goes:
// a topic created again under the same name starts with no stale positions.
// It returns once the tombstones are durable.
func (c *Coordinator) DeleteTopicOffsets(topics ...string) error {
	gone := map[string]bool{}
	for _, t := range topics {
		gone[t] = true
	}
	var waits []func() error
	var werr error
	done := make(chan struct{})
	if !c.do(func() {
		defer close(done)
		for _, name := range c.sortedNames() {
			g := c.groups[name]
			var recs []kv
			for tp := range g.offsets {
				if gone[tp.Topic] {
					delete(g.offsets, tp)
					recs = append(recs, kv{offsetKey(name, tp), nil})
				}
			}
			for _, offs := range g.txnOffsets {
				for tp := range offs {
					if gone[tp.Topic] {
						delete(offs, tp)
					}
				}
			}
			if len(recs) == 0 {
				continue
			}
			w, err := c.write(name, recs)
			if err != nil {
				werr = errors.Join(werr, fmt.Errorf("group %s: %w", name, err))
				continue
			}
			waits = append(waits, w)
		}
	}) {
		return nil
	}
	<-done
	for _, w := range waits {
		werr = errors.Join(werr, w())
	}
	return werr
}
