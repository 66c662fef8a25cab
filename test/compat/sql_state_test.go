package compat

import (
	"bytes"
	"context"
	"encoding/binary"
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

	"github.com/twmb/franz-go/pkg/kgo"
)

// Stateful SQL against `sluice dev`: state rebuilt from changelogs when the
// state directory is lost, and the fraud-detection example of
// docs/sql-fraud.md killed with SIGKILL under exactly_once_v2.

// pullQuery runs a pull query through /query-stream (JSON answer) and
// returns its rows as JSON arrays.
func pullQuery(t *testing.T, b *broker, sql string) ([]string, error) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"sql": sql})
	req, _ := http.NewRequest("POST", "http://"+b.ksqlAddr+"/query-stream", bytes.NewReader(body))
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("/query-stream %s: %d %s", sql, resp.StatusCode, data)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		return nil, fmt.Errorf("/query-stream answer %s: %v", data, err)
	}
	var rows []string
	for _, p := range parts[1:] { // parts[0] is the metadata
		rows = append(rows, string(p))
	}
	return rows, nil
}

// waitPull repeats a pull query until its rows (sorted when sorted is set)
// are want.
func waitPull(t *testing.T, b *broker, sql string, want []string, sorted bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := pullQuery(t, b, sql)
		if sorted {
			sort.Strings(got)
		}
		if err == nil && strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after %v:\n got %d rows %.600v (err %v)\nwant %d rows %.600v", sql, timeout, len(got), got, err, len(want), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// queryID is the id of the persistent query a CSAS/CTAS answer names.
func queryID(t *testing.T, answer []map[string]any) string {
	t.Helper()
	st, _ := answer[0]["commandStatus"].(map[string]any)
	id, _ := st["queryId"].(string)
	if id == "" {
		t.Fatalf("no query id in %v", answer)
	}
	return id
}

// readCommitted reads topic from the start, read_committed, until it holds
// want records, then waits a quiet second for any extra; it returns them all.
func readCommitted(t *testing.T, b *broker, topic string, want int, timeout time.Duration, diagnose func()) []*kgo.Record {
	t.Helper()
	cl := b.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	ctx := testCtx(t, timeout)
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			if diagnose != nil {
				diagnose()
			}
			t.Fatalf("%s: %d records after %v, want %d", topic, len(out), timeout, want)
		}
		out = append(out, fs.Records()...)
	}
	quiet, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out = append(out, cl.PollFetches(quiet).Records()...)
	return out
}

// cardTx is one generated card transaction.
type cardTx struct {
	card   string
	id     int
	amount int
	ts     int64
}

const (
	fraudCards  = 20
	fraudWindow = 60_000 // the tumbling window, 1 minute
	fraudBase   = 1_700_000_000_000
)

func cardName(k int) string { return fmt.Sprintf("card-%02d", k) }

// cardLimit is the spending limit per window of card k (the customer
// table's CARD_LIMIT).
func cardLimit(k int) int { return 4000 + 500*k }

// genTransactions makes n transactions from `from` on: cards in a fixed
// shuffle, amounts 1..500, one every 50 ms of event time.
func genTransactions(from, n int) []cardTx {
	out := make([]cardTx, 0, n)
	for i := from; i < from+n; i++ {
		out = append(out, cardTx{card: cardName((i * 7) % fraudCards), id: i, amount: 1 + (i*7919)%500,
			ts: fraudBase + int64(i)*50})
	}
	return out
}

func produceTransactions(t *testing.T, b *broker, topic string, txs []cardTx) {
	t.Helper()
	cl := b.client(t)
	recs := make([]*kgo.Record, len(txs))
	for i, tx := range txs {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(tx.card), Timestamp: time.UnixMilli(tx.ts),
			Value: []byte(fmt.Sprintf(`{"TX_ID":%d,"AMOUNT":%d,"MERCHANT":"m%d"}`, tx.id, tx.amount, tx.id%13))}
	}
	if err := cl.ProduceSync(testCtx(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("producing transactions: %v", err)
	}
}

// windowAgg is the reference per-card, per-window aggregate.
type windowAgg struct{ count, total int }

// fraudReference replays the transactions as the queries must: per card
// and tumbling window, the count and sum after each transaction; each
// update is an alert row when the sum is over the card's limit and a
// tombstone otherwise (a filtered table row is a delete, as in ksqlDB).
// It returns the final aggregates and, per alert-topic key, the values in
// order ("" for a tombstone).
func fraudReference(txs []cardTx) (map[string]map[int64]windowAgg, map[string][]string) {
	aggs := map[string]map[int64]windowAgg{}
	alerts := map[string][]string{}
	for _, tx := range txs {
		ws := tx.ts - tx.ts%fraudWindow
		if aggs[tx.card] == nil {
			aggs[tx.card] = map[int64]windowAgg{}
		}
		a := aggs[tx.card][ws]
		a.count++
		a.total += tx.amount
		aggs[tx.card][ws] = a
		var k int
		fmt.Sscanf(tx.card, "card-%d", &k)
		v := ""
		if a.total > cardLimit(k) {
			v = fmt.Sprintf(`{"TX_COUNT":%d,"TOTAL":%d,"CARD_LIMIT":%d}`, a.count, a.total, cardLimit(k))
		}
		key := fmt.Sprintf("%s@%d", tx.card, ws)
		alerts[key] = append(alerts[key], v)
	}
	return aggs, alerts
}

// windowedKey reads a KAFKA-format STRING key with a time window suffix.
func windowedKey(k []byte) string {
	if len(k) < 8 {
		return fmt.Sprintf("bad key %q", k)
	}
	return fmt.Sprintf("%s@%d", k[:len(k)-8], int64(binary.BigEndian.Uint64(k[len(k)-8:])))
}

// The fraud-detection walk-through of docs/sql-fraud.md, end to end, under
// exactly_once_v2: transactions are enriched with the customer table
// (stream-table join), counted and summed per card in one-minute tumbling
// windows, and windows over the card's limit become alerts. sluice dev is
// killed with SIGKILL while the three queries are mid-stream; after the
// restart the alert topic, read_committed, holds exactly the reference's
// records per key, in order, and a pull query on the aggregate answers the
// reference's final windows.
func TestSQLFraudDetectionKillExactlyOnce(t *testing.T) {
	b := startFull(t)
	eos := map[string]string{"processing.guarantee": "exactly_once_v2", "auto.offset.reset": "earliest"}
	ksql(t, b, `CREATE TABLE CUSTOMERS (CARD STRING PRIMARY KEY, NAME STRING, CARD_LIMIT INT)
		WITH (KAFKA_TOPIC='customers', PARTITIONS=2, VALUE_FORMAT='JSON');
	CREATE STREAM TRANSACTIONS (CARD STRING KEY, TX_ID BIGINT, AMOUNT INT, MERCHANT STRING)
		WITH (KAFKA_TOPIC='transactions', PARTITIONS=2, VALUE_FORMAT='JSON');`, nil)
	enrich := ksql(t, b, `CREATE STREAM ENRICHED AS
		SELECT T.CARD AS CARD, T.AMOUNT AS AMOUNT, C.NAME AS NAME, C.CARD_LIMIT AS CARD_LIMIT
		FROM TRANSACTIONS T JOIN CUSTOMERS C ON T.CARD = C.CARD EMIT CHANGES;`, eos)
	ksql(t, b, `CREATE TABLE CARD_ACTIVITY AS
		SELECT CARD, COUNT(*) AS TX_COUNT, SUM(AMOUNT) AS TOTAL, MAX(CARD_LIMIT) AS CARD_LIMIT
		FROM ENRICHED WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY CARD EMIT CHANGES;`, eos)
	ksql(t, b, `CREATE TABLE ALERTS WITH (KAFKA_TOPIC='fraud_alerts') AS
		SELECT CARD, TX_COUNT, TOTAL, CARD_LIMIT FROM CARD_ACTIVITY WHERE TOTAL > CARD_LIMIT EMIT CHANGES;`, eos)

	// The customer table first, with event times before every transaction,
	// and read by the join before any transaction arrives.
	cl := b.client(t)
	for k := 0; k < fraudCards; k++ {
		r := &kgo.Record{Topic: "customers", Key: []byte(cardName(k)), Timestamp: time.UnixMilli(fraudBase - 3_600_000),
			Value: []byte(fmt.Sprintf(`{"NAME":"customer %d","CARD_LIMIT":%d}`, k, cardLimit(k)))}
		if err := cl.ProduceSync(testCtx(t, 30*time.Second), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitGroupAtEnd(t, b, "_confluent-ksql-default_query_"+queryID(t, enrich), "customers")

	const half = 2000
	first := genTransactions(0, half)
	produceTransactions(t, b, "transactions", first)
	// Kill as soon as alerts are being written: the queries are mid-stream.
	adm := b.admin(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ends := endOffsets(t, adm, "fraud_alerts")
		if ends[0]+ends[1] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert record within 60s\n%s", b.logTail(b.starts))
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.kill()
	b.start()
	second := genTransactions(half, half)
	produceTransactions(t, b, "transactions", second)

	all := append(first, second...)
	aggs, want := fraudReference(all)
	recs := readCommitted(t, b, "fraud_alerts", len(all), 120*time.Second, func() {
		for _, tp := range []string{"transactions", "ENRICHED", "CARD_ACTIVITY", "fraud_alerts"} {
			lso, _ := adm.ListCommittedOffsets(testCtx(t, 10*time.Second), tp)
			t.Logf("%s: end %v lso %v", tp, endOffsets(t, adm, tp), lso)
		}
		for g, r := range adm.FetchManyOffsets(testCtx(t, 10*time.Second), "_confluent-ksql-default_query_CSAS_ENRICHED_0",
			"_confluent-ksql-default_query_CTAS_CARD_ACTIVITY_1", "_confluent-ksql-default_query_CTAS_ALERTS_2") {
			t.Logf("group %s: %v %v", g, r.Fetched, r.Err)
		}
	})
	got := map[string][]string{}
	for _, r := range recs {
		k := windowedKey(r.Key)
		got[k] = append(got[k], string(r.Value))
	}
	alerting := 0
	for k, vs := range want {
		if strings.Join(got[k], "|") != strings.Join(vs, "|") {
			t.Errorf("alerts of %s:\n got %d %.400v\nwant %d %.400v", k, len(got[k]), got[k], len(vs), vs)
		}
		if vs[len(vs)-1] != "" {
			alerting++
		}
	}
	if len(got) != len(want) {
		t.Errorf("alert keys: got %d, want %d", len(got), len(want))
	}
	t.Logf("%d transactions, %d alert-topic records, %d windows over the limit", len(all), len(recs), alerting)

	// The aggregate answers pull queries with the reference's windows.
	for _, k := range []int{0, 7, 19} {
		card := cardName(k)
		var rows []string
		var starts []int64
		for ws := range aggs[card] {
			starts = append(starts, ws)
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		for _, ws := range starts {
			a := aggs[card][ws]
			rows = append(rows, fmt.Sprintf(`["%s",%d,%d,%d]`, card, ws, a.count, a.total))
		}
		waitPull(t, b, fmt.Sprintf("SELECT CARD, WINDOWSTART, TX_COUNT, TOTAL FROM CARD_ACTIVITY WHERE CARD = '%s';", card),
			rows, false, 30*time.Second)
	}
}

// waitGroupAtEnd waits until group has committed the end offset of every
// partition of topic.
func waitGroupAtEnd(t *testing.T, b *broker, group, topic string) {
	t.Helper()
	adm := b.admin(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ends := endOffsets(t, adm, topic)
		offs, err := adm.FetchOffsets(testCtx(t, 10*time.Second), group)
		done := err == nil
		for p, end := range ends {
			if o, ok := offs.Lookup(topic, p); end > 0 && (!ok || o.At < end) {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s did not reach the end of %s: %v (err %v)\n%s", group, topic, offs, err, b.logTail(b.starts))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A node that lost its state directory rebuilds every store from the
// changelog topics: pull queries answer as before.
func TestSQLStateRebuiltAfterLosingStateDir(t *testing.T) {
	b := startFull(t)
	earliest := map[string]string{"auto.offset.reset": "earliest"}
	ksql(t, b, `CREATE STREAM TX (CARD STRING KEY, TX_ID BIGINT, AMOUNT INT, MERCHANT STRING)
		WITH (KAFKA_TOPIC='tx', PARTITIONS=2, VALUE_FORMAT='JSON');`, nil)
	ksql(t, b, `CREATE TABLE TOTALS AS SELECT CARD, COUNT(*) AS N, SUM(AMOUNT) AS TOTAL FROM TX GROUP BY CARD;`, earliest)
	ksql(t, b, `CREATE TABLE PER_MINUTE AS SELECT CARD, COUNT(*) AS N, SUM(AMOUNT) AS TOTAL
		FROM TX WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY CARD;`, earliest)
	txs := genTransactions(0, 3000)
	produceTransactions(t, b, "tx", txs)

	totals := map[string]windowAgg{}
	for _, tx := range txs {
		a := totals[tx.card]
		a.count++
		a.total += tx.amount
		totals[tx.card] = a
	}
	var want []string
	for card, a := range totals {
		want = append(want, fmt.Sprintf(`["%s",%d,%d]`, card, a.count, a.total))
	}
	sort.Strings(want)
	windows, _ := fraudReference(txs)
	var wantWindows []string
	for card, ws := range windows {
		for start, a := range ws {
			wantWindows = append(wantWindows, fmt.Sprintf(`["%s",%d,%d,%d]`, card, start, a.count, a.total))
		}
	}
	sort.Strings(wantWindows)
	queries := []string{
		"SELECT CARD, N, TOTAL FROM TOTALS;",
		"SELECT * FROM PER_MINUTE WHERE CARD IN ('card-03', 'card-11');",
		fmt.Sprintf("SELECT CARD, WINDOWSTART, N FROM PER_MINUTE WHERE WINDOWSTART >= %d;", fraudBase+60_000),
	}
	// Both queries are done before the answers are taken.
	waitPull(t, b, queries[0], want, true, 60*time.Second)
	waitPull(t, b, "SELECT CARD, WINDOWSTART, N, TOTAL FROM PER_MINUTE;", wantWindows, true, 60*time.Second)
	before := map[string][]string{}
	for _, q := range queries {
		rows, err := pullQuery(t, b, q)
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v %v", q, rows, err)
		}
		sort.Strings(rows)
		before[q] = rows
	}

	b.stop()
	stateDir := filepath.Join(b.dataDir, "ksql-state")
	if _, err := os.Stat(stateDir); err != nil {
		t.Fatalf("no state directory: %v", err)
	}
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	b.start()
	for _, q := range queries {
		waitPull(t, b, q, before[q], true, 60*time.Second)
	}
	if _, err := os.Stat(stateDir); err != nil {
		t.Fatalf("state directory not rebuilt: %v", err)
	}
}
