package main

import "testing"

func TestGCSettings(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		name      string
		env       map[string]string
		cgroupMax string
		pct       int
		limit     int64
	}{
		{"defaults, no cgroup limit", nil, "max\n", defaultGCPercent, -1},
		{"defaults, no cgroup file", nil, "", defaultGCPercent, -1},
		{"cgroup limit", nil, "4294967296\n", defaultGCPercent, 4294967296 / 100 * 75},
		{"GOGC set by the user", map[string]string{"GOGC": "50"}, "max", -1, -1},
		{"GOGC=off", map[string]string{"GOGC": "off"}, "1000000", -1, 750000},
		{"GOMEMLIMIT set by the user", map[string]string{"GOMEMLIMIT": "1GiB"}, "4294967296", defaultGCPercent, -1},
	} {
		pct, limit := gcSettings(env(c.env), c.cgroupMax)
		if pct != c.pct || limit != c.limit {
			t.Errorf("%s: got GC percent %d, limit %d; want %d, %d", c.name, pct, limit, c.pct, c.limit)
		}
	}
}
