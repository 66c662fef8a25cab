package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/sql/exec"
)

// Session properties of stream-table joins (docs/decisions/XXXX-temporal-stream-table-joins.md).
const (
	// PropStreamTableTemporal: 'true' (default) joins each stream row with
	// the table row valid at its time, as against a Kafka Streams versioned
	// table; 'false' with the table's latest row, as ksqlDB 0.29 does.
	PropStreamTableTemporal = "sluice.join.stream.table.temporal"
	// PropStreamTableHistory is how long, in ms, replaced table versions are
	// kept for temporal lookups (default one day).
	PropStreamTableHistory = "sluice.join.stream.table.history.retention.ms"
)

// streamTableConfig is how the statement being planned wants its
// stream-table joins done.
type streamTableConfig struct {
	latest  bool
	history time.Duration
}

// useJoinConfig reads the session's stream-table join properties for the
// statement about to be planned.
func (c *Catalog) useJoinConfig(props map[string]string) error {
	cfg := streamTableConfig{}
	if v, ok := props[PropStreamTableTemporal]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
		case "false":
			cfg.latest = true
		default:
			return fmt.Errorf("Invalid value %s for configuration %s: Expected value to be either true or false", v, PropStreamTableTemporal)
		}
	}
	if v, ok := props[PropStreamTableHistory]; ok {
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || ms <= 0 {
			return fmt.Errorf("Invalid value %s for configuration %s: Expected a positive number of milliseconds", v, PropStreamTableHistory)
		}
		cfg.history = time.Duration(ms) * time.Millisecond
	}
	c.streamTable = cfg
	return nil
}

// configure applies the statement's settings to a stream-table join.
func (cfg streamTableConfig) configure(j *exec.StreamTableJoin) {
	j.Configure(cfg.latest, cfg.history)
}
