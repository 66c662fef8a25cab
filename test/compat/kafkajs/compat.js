// compat.js drives a Sluice broker with kafkajs 2.2.4 and prints one line per
// check, ending with "kafkajs: OK". It exits 1 on the first failure. The Go
// test in test/compat runs it as `node compat.js <host:port> <topic>` and then
// reads the same topic back with franz-go.
//
// What it covers: admin createTopics/listTopics/fetchTopicMetadata/
// fetchTopicOffsets/fetchTopicOffsetsByTimestamp/deleteTopics, a producer with
// acks -1 sending 1000 keyed messages with headers in batches (half of them
// gzip compressed: kafkajs ships only gzip without extra codec packages), and
// reading them back with kafkajs's own Fetch (v11) request and record decoder.
//
// kafkajs has no partition-assigned consumer: its consumer always joins a group.
// This script's read path uses kafkajs's cluster and broker internals (pinned
// by the lock file to 2.2.4) to check the fetched records exactly; consumer
// groups and transactions are covered by groups_txn.js (TestKafkajsGroupsTxn).
'use strict'

const { Kafka, logLevel, CompressionTypes } = require('kafkajs')

const [broker, topic] = process.argv.slice(2)
if (!broker || !topic) {
  console.error('usage: node compat.js <host:port> <topic>')
  process.exit(2)
}

const partitions = 3
const total = 1000
const batchSize = 100

const kafka = new Kafka({
  clientId: 'sluice-compat-kafkajs',
  brokers: [broker],
  logLevel: logLevel.WARN,
  retry: { retries: 5 },
})

function fail(msg) {
  throw new Error(msg)
}

function key(i) {
  return `key-${i}`
}

function value(i) {
  return `value-${i}-${'x'.repeat(i % 50)}`
}

// newCluster returns a kafkajs Cluster configured like the ones the producer
// and admin use. The constructor is private to kafkajs; it is reached through
// the client's own factory so that broker, retry and logger settings match.
function newCluster() {
  const sym = Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  if (!sym) fail('kafkajs internals changed: no createCluster symbol (is kafkajs still 2.2.4?)')
  return kafka[sym]({ metadataMaxAge: 300000, allowAutoTopicCreation: false })
}

// fetchAll reads partition p from offset 0 up to (not including) high with
// kafkajs's Fetch request, returning the decoded records.
async function fetchAll(cluster, p, high) {
  const [leader] = Object.keys(cluster.findLeaderForPartitions(topic, [p]))
  const b = await cluster.findBroker({ nodeId: leader })
  const out = []
  let offset = 0
  const deadline = Date.now() + 30000
  while (offset < high) {
    if (Date.now() > deadline) fail(`partition ${p}: fetch stuck at offset ${offset} of ${high}`)
    const resp = await b.fetch({
      replicaId: -1,
      isolationLevel: 0,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topic, partitions: [{ partition: p, fetchOffset: String(offset), maxBytes: 64 << 10 }] }],
    })
    const tr = resp.responses.find(r => r.topicName === topic)
    if (!tr) fail(`partition ${p}: fetch response has no topic ${topic}`)
    const pr = tr.partitions.find(x => x.partition === p)
    if (!pr) fail(`partition ${p}: fetch response has no such partition`)
    if (pr.errorCode !== 0) fail(`partition ${p}: fetch error code ${pr.errorCode}`)
    if (Number(pr.highWatermark) !== high) fail(`partition ${p}: high watermark ${pr.highWatermark}, want ${high}`)
    for (const m of pr.messages) {
      const o = Number(m.offset)
      // A fetch returns whole batches: skip records before the fetch offset.
      if (o < offset) continue
      if (o !== offset) fail(`partition ${p}: got offset ${o}, want ${offset} (gap or reorder)`)
      out.push(m)
      offset++
    }
  }
  return out
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()

  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  })
  if (created !== true) fail(`createTopics returned ${created}, want true`)
  const again = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })
  if (again !== false) fail(`createTopics of an existing topic returned ${again}, want false`)
  console.log(`created topic ${topic}`)

  const names = await admin.listTopics()
  if (!names.includes(topic)) fail(`listTopics ${JSON.stringify(names)} lacks ${topic}`)
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  const tmd = md.topics.find(t => t.name === topic)
  if (!tmd || tmd.partitions.length !== partitions) fail(`metadata: ${JSON.stringify(md)}`)
  console.log(`metadata ok: ${tmd.partitions.length} partitions`)

  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const start = Date.now()
  for (let b = 0; b < total / batchSize; b++) {
    const messages = []
    for (let i = b * batchSize; i < (b + 1) * batchSize; i++) {
      messages.push({
        key: key(i),
        value: value(i),
        partition: i % partitions,
        timestamp: String(start + i),
        headers: { seq: String(i), client: 'kafkajs' },
      })
    }
    const res = await producer.send({
      topic,
      acks: -1,
      compression: b % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP,
      messages,
    })
    for (const r of res) {
      if (r.errorCode !== 0) fail(`produce batch ${b}: ${JSON.stringify(r)}`)
    }
  }
  await producer.disconnect()
  console.log(`produced ${total}`)

  const offsets = await admin.fetchTopicOffsets(topic)
  const want = Array.from({ length: partitions }, (_, p) => Math.ceil((total - p) / partitions))
  for (const o of offsets) {
    if (Number(o.low) !== 0 || Number(o.high) !== want[o.partition] || Number(o.offset) !== want[o.partition]) {
      fail(`fetchTopicOffsets: ${JSON.stringify(offsets)}, want high ${JSON.stringify(want)} and low 0`)
    }
  }
  console.log(`offsets ok: ${offsets.map(o => `${o.partition}=${o.high}`).sort().join(' ')}`)

  // Record i has timestamp start+i and sits at offset floor(i/partitions) of
  // partition i%partitions, so the first offset at or after start+600 is known.
  const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, start + 600)
  for (const o of byTs) {
    let first = 600
    while (first % partitions !== o.partition) first++
    const wantOffset = Math.floor(first / partitions)
    if (Number(o.offset) !== wantOffset) {
      fail(`fetchTopicOffsetsByTimestamp: partition ${o.partition} offset ${o.offset}, want ${wantOffset}`)
    }
  }
  console.log('offsets by timestamp ok')

  const cluster = newCluster()
  await cluster.connect()
  await cluster.addTargetTopic(topic)
  let consumed = 0
  for (let p = 0; p < partitions; p++) {
    const msgs = await fetchAll(cluster, p, want[p])
    msgs.forEach((m, n) => {
      const i = n * partitions + p
      const got = {
        key: m.key && m.key.toString(),
        value: m.value && m.value.toString(),
        seq: m.headers.seq && m.headers.seq.toString(),
        client: m.headers.client && m.headers.client.toString(),
        ts: Number(m.timestamp),
      }
      const exp = { key: key(i), value: value(i), seq: String(i), client: 'kafkajs', ts: start + i }
      if (JSON.stringify(got) !== JSON.stringify(exp)) {
        fail(`partition ${p} offset ${n}: got ${JSON.stringify(got)}, want ${JSON.stringify(exp)}`)
      }
    })
    consumed += msgs.length
  }
  await cluster.disconnect()
  if (consumed !== total) fail(`consumed ${consumed}, want ${total}`)
  console.log(`consumed ${consumed}`)

  const scratch = `${topic}-scratch`
  if (!(await admin.createTopics({ topics: [{ topic: scratch, numPartitions: 1 }], waitForLeaders: true }))) {
    fail(`createTopics ${scratch} returned false`)
  }
  await admin.deleteTopics({ topics: [scratch], timeout: 10000 })
  const after = await admin.listTopics()
  if (after.includes(scratch)) fail(`deleteTopics: ${scratch} still listed`)
  console.log('delete topic ok')

  await admin.disconnect()
  console.log('kafkajs: OK')
}

main().catch(err => {
  console.error(`kafkajs: FAIL: ${err && err.stack ? err.stack : err}`)
  process.exit(1)
})
