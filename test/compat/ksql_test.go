package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// ksql posts statements to sluice dev's ksqlDB-compatible /ksql endpoint
// and fails the test unless it answers 200.
func ksql(t *testing.T, b *broker, statements string, props map[string]string) []map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"ksql": statements, "streamsProperties": props})
	resp, err := http.Post("http://"+b.ksqlAddr+"/ksql", "application/vnd.ksql.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/ksql %s: %d %s", statements, resp.StatusCode, data)
	}
	var out []map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("/ksql answer %s: %v", data, err)
	}
	return out
}

// kcatProduceLines produces key:value lines with kcat.
func kcatProduceLines(t *testing.T, b *broker, topic string, lines []string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kcatRun(t, 60*time.Second, "-P", "-b", b.addr, "-t", topic, "-K", "|", "-l", f)
}

// waitKcatValues reads topic with kcat until it holds want records.
func waitKcatValues(t *testing.T, b *broker, topic string, want int) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got []string
		for _, r := range kcatConsume(t, b, topic, 30*time.Second) {
			got = append(got, r.key+"|"+r.value)
		}
		if len(got) >= want || time.Now().After(deadline) {
			sort.Strings(got)
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func clickLines(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(`u%03d|{"PAGE":"page-%d","MS":%d}`, i, i, i*100))
	}
	return out
}

func expectedSlow(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		if i*100 >= 1000 {
			out = append(out, fmt.Sprintf(`u%03d|{"PAGE":"PAGE-%d","SECONDS":%d,"LEN":%d}`, i, i, i/10, len(fmt.Sprintf("page-%d", i))))
		}
	}
	sort.Strings(out)
	return out
}

// A stream over a topic fed by kcat, a CSAS with a filter, a projection and
// functions into a new topic read back with kcat; after a restart of the
// sluice dev process the query continues: new input is processed, and
// nothing is lost or duplicated.
func TestKsqlEndToEndWithKcat(t *testing.T) {
	b := startFull(t)
	kcatProduceLines(t, b, "clicks", clickLines(0, 40))
	ksql(t, b, `CREATE STREAM CLICKS (USER_ID STRING KEY, PAGE STRING, MS INT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');`, nil)
	out := ksql(t, b, `CREATE STREAM SLOW WITH (KAFKA_TOPIC='slow_clicks') AS
		SELECT USER_ID, UCASE(PAGE) AS PAGE, MS / 1000 AS SECONDS, LEN(PAGE) AS LEN
		FROM CLICKS WHERE MS >= 1000 EMIT CHANGES;`, map[string]string{"auto.offset.reset": "earliest"})
	if st := out[0]["commandStatus"].(map[string]any); !strings.HasPrefix(fmt.Sprint(st["queryId"]), "CSAS_SLOW_") {
		t.Fatalf("CSAS answer: %v", out)
	}
	got := waitKcatValues(t, b, "slow_clicks", 30)
	if want := expectedSlow(0, 40); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("first run:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	b.restart()
	kcatProduceLines(t, b, "clicks", clickLines(40, 60))
	got = waitKcatValues(t, b, "slow_clicks", 50)
	if want := expectedSlow(0, 60); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after restart:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The restarted server knows the stream and the running query.
	shown, _ := json.Marshal(ksql(t, b, "SHOW QUERIES;", nil))
	if !strings.Contains(string(shown), "CSAS_SLOW_") || !strings.Contains(string(shown), `"state":"RUNNING"`) {
		t.Fatalf("SHOW QUERIES after restart: %s", shown)
	}
}

// Connector statements in SQL go to the Connect runtime of the same
// sluice dev: a datagen source created with CREATE SOURCE CONNECTOR feeds a
// topic that a stream reads.
func TestKsqlConnectorStatements(t *testing.T) {
	b := startFull(t, "--group-initial-rebalance-delay", "0")
	out := ksql(t, b, `CREATE SOURCE CONNECTOR ORDERS_GEN WITH (
		'connector.class'='datagen', 'kafka.topic'='orders', 'quickstart'='orders',
		'iterations'='20', 'max.interval'='0', 'random.seed'='7',
		'value.converter'='org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable'='false');`, nil)
	if out[0]["@type"] != "connector_info" {
		t.Fatalf("CREATE SOURCE CONNECTOR: %v", out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		list, _ := json.Marshal(ksql(t, b, "SHOW SOURCE CONNECTORS;", nil))
		if strings.Contains(string(list), `"name":"ORDERS_GEN"`) && strings.Contains(string(list), "RUNNING (1/1 tasks RUNNING)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connector not running: %s", list)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := waitKcatValues(t, b, "orders", 20); len(got) < 20 {
		t.Fatalf("datagen wrote %d records", len(got))
	}
	desc, _ := json.Marshal(ksql(t, b, "DESCRIBE CONNECTOR ORDERS_GEN;", nil))
	if !strings.Contains(string(desc), `"connectorClass":"datagen"`) {
		t.Fatalf("DESCRIBE CONNECTOR: %s", desc)
	}
	drop := ksql(t, b, "DROP CONNECTOR ORDERS_GEN;", nil)
	if drop[0]["@type"] != "drop_connector" {
		t.Fatalf("DROP CONNECTOR: %v", drop)
	}
	body, _ := json.Marshal(map[string]any{"ksql": "DROP CONNECTOR ORDERS_GEN;"})
	resp, err := http.Post("http://"+b.ksqlAddr+"/ksql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(data), "ORDERS_GEN") {
		t.Fatalf("dropping a missing connector: %d %s", resp.StatusCode, data)
	}
}
