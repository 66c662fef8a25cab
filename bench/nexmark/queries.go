package nexmark

// The queries in ksqlDB's SQL, adapted from the Flink SQL of the
// nexmark/nexmark suite (see /work/shared/reference/nexmark.md, section 3).
// Where ksqlDB cannot say what Flink says in one statement (joins on window
// bounds, aggregates of aggregates), a query is a short pipeline of
// statements, as a ksqlDB user would write it: a windowed aggregation with
// EMIT FINAL, a stream declared over its topic, and a join. The stream is
// declared keyless and without a window (the key copied into the value
// with AS_VALUE): ksqlDB joins a windowed source only with another source
// of the same window. Queries over those keyless sources name their key
// format: the result has a key, and NONE cannot hold one.

// DDL declares the three sources over the topics the loader writes, and
// PERSON_TABLE over the person topic for the stream-table join of q3.
// DATETIME and EXPIRES are BIGINT epoch milliseconds (what ksqlDB's JSON
// TIMESTAMP holds) so that the window arithmetic of q7 and q8 stays plain
// integer arithmetic; the record timestamp is the event time.
const DDL = `
CREATE STREAM PERSON (ID BIGINT KEY, NAME STRING, EMAILADDRESS STRING, CREDITCARD STRING, CITY STRING,
  STATE STRING, DATETIME BIGINT, EXTRA STRING)
  WITH (KAFKA_TOPIC='` + PersonTopic + `', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE TABLE PERSON_TABLE (ID BIGINT PRIMARY KEY, NAME STRING, EMAILADDRESS STRING, CREDITCARD STRING,
  CITY STRING, STATE STRING, DATETIME BIGINT, EXTRA STRING)
  WITH (KAFKA_TOPIC='` + PersonTopic + `', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE STREAM AUCTION (ID BIGINT KEY, ITEMNAME STRING, DESCRIPTION STRING, INITIALBID BIGINT, RESERVE BIGINT,
  DATETIME BIGINT, EXPIRES BIGINT, SELLER BIGINT, CATEGORY BIGINT, EXTRA STRING)
  WITH (KAFKA_TOPIC='` + AuctionTopic + `', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');
CREATE STREAM BID (AUCTION BIGINT, BIDDER BIGINT, PRICE BIGINT, CHANNEL STRING, URL STRING, DATETIME BIGINT,
  EXTRA STRING)
  WITH (KAFKA_TOPIC='` + BidTopic + `', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');
`

// Query is one Nexmark query in ksqlDB SQL.
type Query struct {
	Name  string // q0, q3 ...
	Title string
	// Baseline marks the stateless queries run beside the stateful ones:
	// they show what reading, decoding and writing cost on their own.
	Baseline bool
	// Inputs are the Nexmark topics the query reads: its events.
	Inputs []Kind
	// SQL is the statements after DDL: persistent queries, and the
	// sources declared over their intermediate topics.
	SQL string
	// Sink is the stream or table holding the results.
	Sink string
	// Differs says how the ksqlDB form differs from the Flink one.
	Differs string
}

// Queries are the queries of `sluice bench nexmark`: the stateless
// baselines q0 and q1, then the stateful q3, q5, q7 and q8 of issue 6.
var Queries = []Query{
	{
		Name: "q0", Title: "pass through", Baseline: true, Inputs: []Kind{KindBid}, Sink: "NX_Q0",
		SQL: `CREATE STREAM NX_Q0 AS SELECT AUCTION, BIDDER, PRICE, DATETIME, EXTRA FROM BID EMIT CHANGES;`,
	},
	{
		Name: "q1", Title: "currency conversion", Baseline: true, Inputs: []Kind{KindBid}, Sink: "NX_Q1",
		SQL: `CREATE STREAM NX_Q1 AS SELECT AUCTION, BIDDER, 0.908 * PRICE AS PRICE, DATETIME, EXTRA FROM BID EMIT CHANGES;`,
	},
	{
		Name: "q3", Title: "local item suggestion (stream-table join)", Inputs: []Kind{KindPerson, KindAuction}, Sink: "NX_Q3",
		// ksqlDB needs the join key in the projection (SELLER).
		SQL: `CREATE STREAM NX_Q3 AS SELECT A.SELLER AS SELLER, P.NAME AS NAME, P.CITY AS CITY, P.STATE AS STATE, A.ID AS AUCTION_ID
  FROM AUCTION A JOIN PERSON_TABLE P ON A.SELLER = P.ID
  WHERE A.CATEGORY = 10 AND P.STATE IN ('OR', 'ID', 'CA') EMIT CHANGES;`,
		Differs: "Flink joins two unbounded streams; here PERSON is a table and each auction looks its seller up " +
			"when it arrives (ksqlDB's stream-table join), so an auction whose seller registers later does not match.",
	},
	{
		Name: "q5", Title: "hot items (hopping windows)", Inputs: []Kind{KindBid}, Sink: "NX_Q5",
		SQL: `CREATE TABLE NX_Q5_COUNTS WITH (KAFKA_TOPIC='NX_Q5_COUNTS', KEY_FORMAT='KAFKA') AS
  SELECT AUCTION, AS_VALUE(AUCTION) AS AUCTION_ID, WINDOWSTART AS STARTTIME, COUNT(*) AS NUM FROM BID
  WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS, GRACE PERIOD 0 SECONDS)
  GROUP BY AUCTION EMIT FINAL;
CREATE STREAM NX_Q5_COUNTS_S (AUCTION_ID BIGINT, STARTTIME BIGINT, NUM BIGINT)
  WITH (KAFKA_TOPIC='NX_Q5_COUNTS', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');
CREATE TABLE NX_Q5_MAX WITH (KEY_FORMAT='KAFKA') AS SELECT STARTTIME, MAX(NUM) AS MAXN FROM NX_Q5_COUNTS_S GROUP BY STARTTIME EMIT CHANGES;
CREATE STREAM NX_Q5 WITH (KEY_FORMAT='KAFKA') AS SELECT C.STARTTIME AS STARTTIME, C.AUCTION_ID AS AUCTION, C.NUM AS NUM
  FROM NX_Q5_COUNTS_S C JOIN NX_Q5_MAX M ON C.STARTTIME = M.STARTTIME
  WHERE C.NUM >= M.MAXN EMIT CHANGES;`,
		Differs: "ksqlDB cannot join two aggregations on their window bounds: the final per-window counts go to a " +
			"topic (the auction copied into the value), read back as a plain stream; a table keeps the running " +
			"maximum per window start, and each count is compared with the maximum as it stands when the count " +
			"arrives (Flink compares with the final maximum).",
	},
	{
		Name: "q7", Title: "highest bid (tumbling window, stream-stream join)", Inputs: []Kind{KindBid}, Sink: "NX_Q7",
		// Grouping by the window number makes one group per window: ksqlDB
		// has no GROUP BY over the whole stream.
		SQL: `CREATE TABLE NX_Q7_MAX WITH (KAFKA_TOPIC='NX_Q7_MAX', KEY_FORMAT='KAFKA') AS
  SELECT DATETIME / 10000 AS W, MAX(PRICE) AS MAXPRICE, WINDOWEND AS WEND FROM BID
  WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS)
  GROUP BY DATETIME / 10000 EMIT FINAL;
CREATE STREAM NX_Q7_MAX_S (MAXPRICE BIGINT, WEND BIGINT)
  WITH (KAFKA_TOPIC='NX_Q7_MAX', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');
CREATE STREAM NX_Q7 WITH (KEY_FORMAT='KAFKA') AS SELECT B.PRICE AS PRICE, B.AUCTION AS AUCTION, B.BIDDER AS BIDDER, B.DATETIME AS DATETIME, B.EXTRA AS EXTRA
  FROM BID B JOIN NX_Q7_MAX_S M WITHIN 10 SECONDS GRACE PERIOD 1 HOUR ON B.PRICE = M.MAXPRICE
  WHERE B.DATETIME >= M.WEND - 10000 AND B.DATETIME <= M.WEND EMIT CHANGES;`,
		Differs: "The per-window maximum is a windowed aggregation with EMIT FINAL written to a topic and read back " +
			"as a plain stream; the bids join it within 10 s, and the long grace period keeps bids in the join " +
			"state until the window's maximum arrives, as Flink's regular join keeps them.",
	},
	{
		Name: "q8", Title: "monitor new users (tumbling window, stream-stream join)", Inputs: []Kind{KindPerson, KindAuction}, Sink: "NX_Q8",
		SQL: `CREATE TABLE NX_Q8_SELLERS WITH (KAFKA_TOPIC='NX_Q8_SELLERS', KEY_FORMAT='KAFKA') AS
  SELECT SELLER, AS_VALUE(SELLER) AS SELLER_ID, WINDOWSTART AS STARTTIME, COUNT(*) AS AUCTIONS FROM AUCTION
  WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS)
  GROUP BY SELLER EMIT FINAL;
CREATE STREAM NX_Q8_SELLERS_S (SELLER_ID BIGINT, STARTTIME BIGINT, AUCTIONS BIGINT)
  WITH (KAFKA_TOPIC='NX_Q8_SELLERS', KEY_FORMAT='NONE', VALUE_FORMAT='JSON');
CREATE STREAM NX_Q8 WITH (KEY_FORMAT='KAFKA') AS SELECT P.ID AS ID, P.NAME AS NAME, S.STARTTIME AS STARTTIME
  FROM PERSON P JOIN NX_Q8_SELLERS_S S WITHIN 10 SECONDS GRACE PERIOD 1 HOUR ON P.ID = S.SELLER_ID
  WHERE P.DATETIME - (P.DATETIME % 10000) = S.STARTTIME EMIT CHANGES;`,
		Differs: "Flink groups people and auctions by window and joins on id and window bounds. Person ids are " +
			"unique, so people need no grouping here; sellers are grouped per window (EMIT FINAL, read back as " +
			"a plain stream) and joined to people within 10 s, keeping pairs in the same window.",
	},
}

// QueryByName returns the named query.
func QueryByName(name string) (Query, bool) {
	for _, q := range Queries {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}
