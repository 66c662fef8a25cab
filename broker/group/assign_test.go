package group

import (
	"fmt"
	"testing"
)

func tps(topic string, ps ...int32) map[topicPartition]struct{} {
	out := map[topicPartition]struct{}{}
	for _, p := range ps {
		out[topicPartition{topic, p}] = struct{}{}
	}
	return out
}

func TestAssignors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		assign func(assignInput) assignment
		in     assignInput
		want   string
	}{
		{
			name: "range, uneven", assign: assignRange,
			in:   assignInput{members: []string{"a", "b"}, subscribed: map[string][]string{"a": {"t"}, "b": {"t"}}, partitions: map[string]int32{"t": 5}},
			want: "a:[{t 0} {t 1} {t 2}] b:[{t 3} {t 4}]",
		},
		{
			name: "range, per topic", assign: assignRange,
			in:   assignInput{members: []string{"a", "b"}, subscribed: map[string][]string{"a": {"t", "u"}, "b": {"t"}}, partitions: map[string]int32{"t": 2, "u": 2}},
			want: "a:[{t 0} {u 0} {u 1}] b:[{t 1}]",
		},
		{
			name: "uniform, fresh", assign: assignUniform,
			in:   assignInput{members: []string{"a", "b", "c"}, subscribed: map[string][]string{"a": {"t"}, "b": {"t"}, "c": {"t"}}, partitions: map[string]int32{"t": 6}},
			want: "a:[{t 0} {t 3}] b:[{t 1} {t 4}] c:[{t 2} {t 5}]",
		},
		{
			name: "uniform keeps what it can when a member joins", assign: assignUniform,
			in: assignInput{members: []string{"a", "b", "c"}, subscribed: map[string][]string{"a": {"t"}, "b": {"t"}, "c": {"t"}}, partitions: map[string]int32{"t": 6},
				current: assignment{"a": tps("t", 0, 1, 2), "b": tps("t", 3, 4, 5)}},
			want: "a:[{t 0} {t 1}] b:[{t 3} {t 4}] c:[{t 2} {t 5}]",
		},
		{
			name: "uniform, only subscribers get a topic", assign: assignUniform,
			in:   assignInput{members: []string{"a", "b"}, subscribed: map[string][]string{"a": {"t", "u"}, "b": {"u"}}, partitions: map[string]int32{"t": 2, "u": 2}},
			want: "a:[{t 0} {t 1}] b:[{u 0} {u 1}]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.assign(tc.in)
			s := ""
			for _, m := range tc.in.members {
				if s != "" {
					s += " "
				}
				s += fmt.Sprintf("%s:%v", m, sortedTPs(got[m]))
			}
			if s != tc.want {
				t.Fatalf("got  %s\nwant %s", s, tc.want)
			}
		})
	}
}
