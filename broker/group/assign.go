package group

// Server-side assignors of KIP-848 consumer groups. Both are deterministic
// functions of the members' subscriptions, the topics' partition counts
// and (for uniform) the current target assignment, so that a coordinator
// recomputing after a restart or a change gets the same answer.
//
//   - uniform (Kafka's default, franz-go's choice for the sticky balancer):
//     every member gets within one partition of the others among the
//     members subscribed to the same topics; partitions stay with their
//     current member where that keeps the balance (sticky).
//   - range: per topic, the members subscribed to it in member id order
//     get contiguous ranges, the first ones one more when it does not
//     divide evenly (the classic range assignor's layout).

import (
	"sort"
)

// assignment is a target assignment: member id -> partitions.
type assignment map[string]map[topicPartition]struct{}

// assignInput is what an assignor works from.
type assignInput struct {
	members    []string            // member ids, sorted
	subscribed map[string][]string // member id -> topics it subscribes to that exist
	partitions map[string]int32    // topic -> partition count
	current    assignment          // the previous target (uniform keeps what it can)
}

func assignRange(in assignInput) assignment {
	out := make(assignment, len(in.members))
	for _, m := range in.members {
		out[m] = map[topicPartition]struct{}{}
	}
	byTopic := map[string][]string{}
	for _, m := range in.members {
		for _, t := range in.subscribed[m] {
			byTopic[t] = append(byTopic[t], m)
		}
	}
	for t, ms := range byTopic {
		n := in.partitions[t]
		per, extra := n/int32(len(ms)), n%int32(len(ms))
		p := int32(0)
		for i, m := range ms { // ms is in member order: members is sorted
			k := per
			if int32(i) < extra {
				k++
			}
			for end := p + k; p < end; p++ {
				out[m][topicPartition{t, p}] = struct{}{}
			}
		}
	}
	return out
}

func assignUniform(in assignInput) assignment {
	out := make(assignment, len(in.members))
	subs := map[string]map[string]bool{}
	for _, m := range in.members {
		out[m] = map[topicPartition]struct{}{}
		subs[m] = map[string]bool{}
		for _, t := range in.subscribed[m] {
			subs[m][t] = true
		}
	}
	// Every partition some member subscribes to, in a stable order.
	var all []topicPartition
	topics := make([]string, 0, len(in.partitions))
	for t := range in.partitions {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		wanted := false
		for _, m := range in.members {
			wanted = wanted || subs[m][t]
		}
		if !wanted {
			continue
		}
		for p := int32(0); p < in.partitions[t]; p++ {
			all = append(all, topicPartition{t, p})
		}
	}
	if len(in.members) == 0 {
		return out
	}
	// The most a member may keep: the ceiling of an even share.
	quota := (len(all) + len(in.members) - 1) / len(in.members)
	taken := map[topicPartition]bool{}
	for _, m := range in.members {
		kept := make([]topicPartition, 0, len(in.current[m]))
		for tp := range in.current[m] {
			if subs[m][tp.Topic] && tp.Partition < in.partitions[tp.Topic] {
				kept = append(kept, tp)
			}
		}
		sortTPs(kept)
		for _, tp := range kept {
			if len(out[m]) < quota && !taken[tp] {
				out[m][tp] = struct{}{}
				taken[tp] = true
			}
		}
	}
	// Hand out the rest, each to the subscribed member with the fewest.
	for _, tp := range all {
		if taken[tp] {
			continue
		}
		best := ""
		for _, m := range in.members {
			if subs[m][tp.Topic] && (best == "" || len(out[m]) < len(out[best])) {
				best = m
			}
		}
		out[best][tp] = struct{}{}
		taken[tp] = true
	}
	// Kept partitions can leave a member two or more above another that
	// could take them (the quota is a ceiling): move until balanced.
	for moved := true; moved; {
		moved = false
		for _, from := range in.members {
			for _, to := range in.members {
				if len(out[from]) <= len(out[to])+1 {
					continue
				}
				for _, tp := range sortedTPs(out[from]) {
					if subs[to][tp.Topic] {
						delete(out[from], tp)
						out[to][tp] = struct{}{}
						moved = true
						break
					}
				}
			}
		}
	}
	return out
}

func sortTPs(tps []topicPartition) {
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
}

func sortedTPs(set map[topicPartition]struct{}) []topicPartition {
	out := make([]topicPartition, 0, len(set))
	for tp := range set {
		out = append(out, tp)
	}
	sortTPs(out)
	return out
}
