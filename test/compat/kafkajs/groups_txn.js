// groups_txn.js drives a Sluice broker's consumer groups and transactions with
// kafkajs 2.2.4 and prints one line per check, ending with "kafkajs groups/txn:
// OK". It exits 1 on the first failure. The Go test TestKafkajsGroupsTxn runs
// it as `node groups_txn.js <host:port> <prefix>` after creating the topics
//
//   <prefix>-groups (4 partitions), <prefix>-txn (2), <prefix>-in (2), <prefix>-out (2)
//
// and then checks the results independently with franz-go and kadm.
//
// Groups: two consumers in group <prefix>-g share the 4 partitions, read 2000
// records and commit them; after they leave, a third consumer in the same
// group resumes from the committed offsets and reads only 20 new records.
//
// Transactions: a transactional, idempotent producer commits a transaction,
// aborts one, commits another; a read_committed kafkajs consumer sees only
// the committed records. Then a consume-transform-produce loop copies
// <prefix>-in to <prefix>-out one transaction per batch, committing the
// consumer's offsets for group <prefix>-ctp with txn.sendOffsets; an aborted
// transaction before it sends offsets for group <prefix>-ctp-aborted, which
// must stay without committed offsets.
//
// SLUICE_KAFKAJS_DEBUG=1 turns on kafkajs DEBUG logging (to stderr).
'use strict'

const { Kafka, logLevel } = require('kafkajs')

const [broker, prefix] = process.argv.slice(2)
if (!broker || !prefix) {
  console.error('usage: node groups_txn.js <host:port> <prefix>')
  process.exit(2)
}

const groupsTopic = `${prefix}-groups`
const txnTopic = `${prefix}-txn`
const inTopic = `${prefix}-in`
const outTopic = `${prefix}-out`
const group = `${prefix}-g`
const verifyGroup = `${prefix}-verify`
const ctpGroup = `${prefix}-ctp`
const abortedGroup = `${prefix}-ctp-aborted`

const groupsPartitions = 4
const groupsTotal = 2000
const groupsNew = 20
const txnPartitions = 2
const ctpTotal = 30

const kafka = new Kafka({
  clientId: 'sluice-compat-kafkajs-groups',
  brokers: [broker],
  logLevel: process.env.SLUICE_KAFKAJS_DEBUG === '1' ? logLevel.DEBUG : logLevel.WARN,
  logCreator: level => ({ namespace, log }) => {
    // Everything to stderr: stdout carries only the result lines.
    const { message, ...extra } = log
    console.error(`[kafkajs ${namespace} ${level}] ${message} ${JSON.stringify(extra)}`)
  },
  retry: { initialRetryTime: 100, retries: 8 },
})

const consumerOpts = {
  sessionTimeout: 10000,
  rebalanceTimeout: 10000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 200,
  retry: { initialRetryTime: 100, retries: 8 },
}

function fail(msg) {
  throw new Error(msg)
}

// waitFor polls cond every 50ms until it returns true, failing with what()
// after ms milliseconds. Failures recorded by background consumers (crashes)
// end the wait early.
const background = []
async function waitFor(ms, cond, what) {
  const deadline = Date.now() + ms
  for (;;) {
    if (background.length > 0) fail(`${what}: ${background[0]}`)
    if (await cond()) return
    if (Date.now() > deadline) fail(`timed out after ${ms}ms: ${typeof what === 'function' ? what() : what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

// newConsumer returns a connected consumer that records its latest
// assignment and fails the script if it crashes.
async function newConsumer(name, groupId, opts = {}) {
  const c = kafka.consumer({ groupId, ...consumerOpts, ...opts })
  c.assignment = null
  c.joins = 0
  c.on(c.events.GROUP_JOIN, e => {
    c.joins++
    c.assignment = e.payload.memberAssignment
  })
  c.on(c.events.CRASH, e => {
    background.push(`consumer ${name} crashed: ${e.payload.error && e.payload.error.stack}`)
  })
  await c.connect()
  return c
}

function assigned(c, topic) {
  return ((c.assignment && c.assignment[topic]) || []).slice().sort((a, b) => a - b)
}

async function committedOffsets(admin, groupId, topic) {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  const t = res.find(r => r.topic === topic)
  const out = {}
  for (const p of (t && t.partitions) || []) out[p.partition] = Number(p.offset)
  return out
}

async function endOffsets(admin, topic) {
  const out = {}
  for (const o of await admin.fetchTopicOffsets(topic)) out[o.partition] = Number(o.high)
  return out
}

function sameOffsets(a, b) {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return JSON.stringify(ka) === JSON.stringify(kb) && ka.every(k => a[k] === b[k])
}

function fmtOffsets(o) {
  return Object.keys(o)
    .sort((a, b) => a - b)
    .map(p => `${p}=${o[p]}`)
    .join(' ')
}

async function groups(admin, producer) {
  // Two members join first, so that the records are shared between them.
  const seen = new Map() // "p/o" -> member
  let dups = 0
  const counts = { c1: 0, c2: 0 }
  const members = {}
  for (const name of ['c1', 'c2']) {
    const c = await newConsumer(name, group)
    await c.subscribe({ topic: groupsTopic, fromBeginning: true })
    await c.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (topic !== groupsTopic) fail(`${name}: message from topic ${topic}`)
        const k = `${partition}/${message.offset}`
        const want = `g-${Number(message.offset) * groupsPartitions + partition}`
        if (String(message.value) !== want) {
          background.push(`${name}: partition ${partition} offset ${message.offset}: value ${message.value}, want ${want}`)
        }
        if (seen.has(k)) dups++
        else seen.set(k, name)
        counts[name]++
      },
    })
    members[name] = c
  }
  const { c1, c2 } = members
  const balanced = () => {
    const a1 = assigned(c1, groupsTopic)
    const a2 = assigned(c2, groupsTopic)
    const all = [...a1, ...a2].sort((a, b) => a - b)
    return a1.length > 0 && a2.length > 0 && JSON.stringify(all) === JSON.stringify([0, 1, 2, 3])
  }
  await waitFor(30000, balanced, () => `assignment c1=${JSON.stringify(c1.assignment)} c2=${JSON.stringify(c2.assignment)}`)
  console.log(`groups: member c1 partitions ${assigned(c1, groupsTopic).join(',')}`)
  console.log(`groups: member c2 partitions ${assigned(c2, groupsTopic).join(',')}`)

  for (let b = 0; b < groupsTotal; b += 200) {
    const messages = []
    for (let i = b; i < b + 200; i++) messages.push({ key: `k-${i}`, value: `g-${i}`, partition: i % groupsPartitions })
    await producer.send({ topic: groupsTopic, acks: -1, messages })
  }
  console.log(`groups: produced ${groupsTotal}`)

  await waitFor(60000, () => seen.size >= groupsTotal, () => `consumed ${seen.size} of ${groupsTotal} distinct records`)
  if (seen.size !== groupsTotal) fail(`consumed ${seen.size} distinct records, want ${groupsTotal}`)
  console.log(`groups: consumed ${seen.size} distinct (duplicates ${dups}) c1=${counts.c1} c2=${counts.c2}`)
  if (!balanced()) fail(`rebalanced while consuming: c1=${JSON.stringify(c1.assignment)} c2=${JSON.stringify(c2.assignment)}`)

  const ends = await endOffsets(admin, groupsTopic)
  let committed
  await waitFor(
    30000,
    async () => sameOffsets((committed = await committedOffsets(admin, group, groupsTopic)), ends),
    () => `committed ${fmtOffsets(committed)}, want ${fmtOffsets(ends)}`,
  )
  console.log(`groups: committed ${fmtOffsets(committed)}`)

  await c1.disconnect()
  await c2.disconnect()
  console.log('groups: c1 and c2 left')

  // A new member resumes from the committed offsets: it reads only records
  // produced after it joined, even with fromBeginning.
  const got = []
  const c3 = await newConsumer('c3', group)
  await c3.subscribe({ topic: groupsTopic, fromBeginning: true })
  await c3.run({
    eachMessage: async ({ partition, message }) => got.push({ partition, offset: Number(message.offset), value: String(message.value) }),
  })
  await waitFor(30000, () => assigned(c3, groupsTopic).length === groupsPartitions, () => `c3 assignment ${JSON.stringify(c3.assignment)}`)
  console.log(`groups: member c3 partitions ${assigned(c3, groupsTopic).join(',')}`)
  const messages = []
  for (let i = groupsTotal; i < groupsTotal + groupsNew; i++) messages.push({ key: `k-${i}`, value: `g-${i}`, partition: i % groupsPartitions })
  await producer.send({ topic: groupsTopic, acks: -1, messages })
  // Old records would come before the new ones of their partition.
  await waitFor(30000, () => got.length >= groupsNew, () => `c3 got ${got.length} of ${groupsNew} new records`)
  const old = got.filter(m => m.offset < ends[m.partition])
  if (old.length > 0) fail(`c3 re-read ${old.length} committed records, first ${JSON.stringify(old[0])}`)
  if (got.length !== groupsNew) fail(`c3 got ${got.length} records, want ${groupsNew}`)
  console.log(`groups: c3 old 0 new ${got.length}`)
  await c3.disconnect()
  const ends2 = await endOffsets(admin, groupsTopic)
  await waitFor(
    30000,
    async () => sameOffsets((committed = await committedOffsets(admin, group, groupsTopic)), ends2),
    () => `committed ${fmtOffsets(committed)} after c3, want ${fmtOffsets(ends2)}`,
  )
  console.log(`groups: committed after resume ${fmtOffsets(committed)}`)
}

async function transactions(admin, plain) {
  const producer = kafka.producer({
    transactionalId: `${prefix}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 100, retries: 8 },
  })
  await producer.connect()

  const batch = (tag, from, n) =>
    Array.from({ length: n }, (_, j) => ({ key: `${tag}-${from + j}`, value: `${tag}-${from + j}`, partition: (from + j) % txnPartitions }))

  let txn = await producer.transaction()
  await txn.send({ topic: txnTopic, messages: batch('commit', 0, 10) })
  await txn.commit()
  console.log('txn: committed 10')

  txn = await producer.transaction()
  await txn.send({ topic: txnTopic, messages: batch('abort', 0, 7) })
  await txn.abort()
  console.log('txn: aborted 7')

  txn = await producer.transaction()
  await txn.send({ topic: txnTopic, messages: batch('commit', 10, 5) })
  await txn.commit()
  console.log('txn: committed 5')

  // kafkajs consumers read committed by default.
  const seen = []
  const v = await newConsumer('verify', verifyGroup)
  await v.subscribe({ topic: txnTopic, fromBeginning: true })
  await v.run({ eachMessage: async ({ message }) => seen.push(String(message.value)) })
  // The last committed records follow the aborted ones in every partition.
  await waitFor(30000, () => seen.length >= 15, () => `read_committed consumer got ${seen.length} of 15: ${seen}`)
  await v.disconnect()
  const bad = seen.filter(s => !s.startsWith('commit-'))
  if (bad.length > 0 || new Set(seen).size !== 15) fail(`read_committed consumer got ${JSON.stringify(seen)}`)
  console.log(`txn: read_committed kafkajs consumer got ${seen.length} committed, 0 aborted`)

  // An aborted transaction with offsets for another group.
  txn = await producer.transaction()
  await txn.send({ topic: outTopic, messages: [{ key: 'aborted', value: 'aborted-transform', partition: 0 }] })
  await txn.sendOffsets({
    consumerGroupId: abortedGroup,
    topics: [{ topic: inTopic, partitions: [{ partition: 0, offset: '10' }, { partition: 1, offset: '10' }] }],
  })
  await txn.abort()
  console.log('ctp: aborted sendOffsets')

  // Consume-transform-produce, one transaction per batch.
  const input = Array.from({ length: ctpTotal }, (_, i) => ({ key: `in-${i}`, value: `in-${i}`, partition: i % txnPartitions }))
  await plain.send({ topic: inTopic, acks: -1, messages: input })
  let copied = 0
  let txns = 0
  const c = await newConsumer('ctp', ctpGroup)
  await c.subscribe({ topic: inTopic, fromBeginning: true })
  await c.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return
      const t = await producer.transaction()
      try {
        await t.send({
          topic: outTopic,
          messages: batch.messages.map(m => ({ key: m.key, value: `${m.value}-transformed`, partition: batch.partition })),
        })
        await t.sendOffsets({
          consumerGroupId: ctpGroup,
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }],
        })
        await t.commit()
      } catch (e) {
        await t.abort()
        throw e
      }
      copied += batch.messages.length
      txns++
    },
  })
  await waitFor(30000, () => copied >= ctpTotal, () => `copied ${copied} of ${ctpTotal}`)
  await c.disconnect()
  if (copied !== ctpTotal) fail(`copied ${copied}, want ${ctpTotal}`)
  console.log(`ctp: copied ${copied} in ${txns} transactions`)

  const ends = await endOffsets(admin, inTopic)
  const committed = await committedOffsets(admin, ctpGroup, inTopic)
  if (!sameOffsets(committed, ends)) fail(`ctp group committed ${fmtOffsets(committed)}, want ${fmtOffsets(ends)}`)
  console.log(`ctp: committed ${fmtOffsets(committed)}`)
  const aborted = await committedOffsets(admin, abortedGroup, inTopic)
  if (Object.values(aborted).some(o => o >= 0)) fail(`aborted group has offsets ${fmtOffsets(aborted)}`)
  console.log('ctp: aborted group has no offsets')

  await producer.disconnect()
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()
  const plain = kafka.producer({ allowAutoTopicCreation: false })
  await plain.connect()

  await groups(admin, plain)
  await transactions(admin, plain)

  await plain.disconnect()
  await admin.disconnect()
  console.log('kafkajs groups/txn: OK')
}

main().then(
  () => process.exit(0),
  err => {
    console.error(`kafkajs groups/txn: FAIL: ${err && err.stack ? err.stack : err}`)
    process.exit(1)
  },
)
