package topictool

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseConfigs(t *testing.T) {
	tests := []struct {
		args    []string
		want    map[string]string
		wantErr string
	}{
		{args: nil, want: map[string]string{}},
		{args: []string{"retention.ms=1000"}, want: map[string]string{"retention.ms": "1000"}},
		{args: []string{"cleanup.policy=compact,delete", "a=b=c", "empty="},
			want: map[string]string{"cleanup.policy": "compact,delete", "a": "b=c", "empty": ""}},
		{args: []string{"retention.ms"}, wantErr: "want key=value"},
		{args: []string{"=1"}, wantErr: "empty key"},
		{args: []string{"a=1", "a=2"}, wantErr: `key "a" given twice`},
	}
	for _, tt := range tests {
		got, err := ParseConfigs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseConfigs(%q) error = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseConfigs(%q): %v", tt.args, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseConfigs(%q) has %d keys, want %d", tt.args, len(got), len(tt.want))
		}
		for k, v := range tt.want {
			if got[k] == nil || *got[k] != v {
				t.Errorf("ParseConfigs(%q)[%q] = %v, want %q", tt.args, k, got[k], v)
			}
		}
	}
}

func TestParseBrokers(t *testing.T) {
	got, err := ParseBrokers(" a:9092, ,b:9093 ")
	if err != nil || strings.Join(got, "|") != "a:9092|b:9093" {
		t.Errorf("ParseBrokers = %q, %v", got, err)
	}
	if _, err := ParseBrokers(" , "); err == nil {
		t.Error("ParseBrokers of nothing: want an error")
	}
}

func TestDescriptionWrite(t *testing.T) {
	d := Description{
		Topic: "orders",
		ID:    "fmD7XiYNRFK-Lf8e3yqX_g",
		Partitions: []PartitionInfo{
			{Partition: 0, Leader: 1, Replicas: []int32{1}, LogStart: 0, LogEnd: 3},
			{Partition: 1, Leader: 1, Replicas: []int32{1, 2}, LogStart: -1, LogEnd: -1},
		},
		Configs: []ConfigEntry{{"retention.ms", "1000"}},
	}
	want := `Topic:       orders
TopicId:     fmD7XiYNRFK-Lf8e3yqX_g
Partitions:  2

PARTITION  LEADER  REPLICAS  LOG-START  LOG-END
0          1       1         0          3
1          1       1,2       -          -

Configs:
  retention.ms=1000
`
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	if err := (Description{Topic: "t"}).Write(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "TopicId:     -") || !strings.Contains(b.String(), "Configs: (all defaults)") {
		t.Errorf("empty description:\n%s", b.String())
	}
}
