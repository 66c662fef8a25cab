// schema_registry.js drives a Sluice broker and its schema registry with
// @kafkajs/confluent-schema-registry (pinned by the lock file) and kafkajs
// 2.2.4, printing one line per check and ending with "schema registry js: OK".
// It exits 1 on the first failure. The Go test in test/compat
// (TestSchemaRegistryJS) runs it as
//
//	node schema_registry.js <kafka host:port> <registry url> <topic>
//
// and then checks the stored record values with franz-go.
//
// It registers an Avro record schema under the subject <topic>-value, encodes
// records with registry.encode (Confluent wire format: magic byte 0, 4-byte
// big-endian schema id, Avro body), produces them to <topic>, reads them back
// with a kafkajs consumer group, and decodes them with a second SchemaRegistry
// instance, so decoding fetches the schema by id (GET /schemas/ids/{id})
// instead of using the first instance's cache.
'use strict'

const assert = require('assert')
const { Kafka, logLevel } = require('kafkajs')
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry')

const [broker, registryURL, topic] = process.argv.slice(2)
if (!broker || !registryURL || !topic) {
  console.error('usage: node schema_registry.js <kafka host:port> <registry url> <topic>')
  process.exit(2)
}

const total = 50
const partitions = 2
const subject = `${topic}-value`

const schema = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'dev.sluice.compat',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
  ],
})

function order(i) {
  return {
    id: 1000000000000 + i,
    customer: `customer-${i}-${'é'.repeat(i % 4)}`,
    amount: i * 1.25,
    note: i % 3 === 0 ? null : `note ${i}`,
    tags: Array.from({ length: i % 4 }, (_, j) => `t${j}`),
    status: ['NEW', 'PAID', 'SHIPPED'][i % 3],
  }
}

function fail(msg) {
  throw new Error(msg)
}

async function main() {
  const registry = new SchemaRegistry({ host: registryURL })

  const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject })
  if (!Number.isInteger(id) || id <= 0) fail(`register returned id ${id}`)
  console.log(`registered ${subject} id ${id}`)

  // Registering the same schema again gives the same id.
  const again = await registry.register({ type: SchemaType.AVRO, schema }, { subject })
  if (again.id !== id) fail(`re-register returned id ${again.id}, want ${id}`)
  const latest = await registry.getLatestSchemaId(subject)
  if (latest !== id) fail(`getLatestSchemaId returned ${latest}, want ${id}`)
  console.log('re-register same id ok')

  const kafka = new Kafka({
    clientId: 'sluice-compat-schema-registry',
    brokers: [broker],
    logLevel: logLevel.WARN,
    retry: { retries: 5 },
  })

  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  if (!created) fail(`topic ${topic} already exists`)
  await admin.disconnect()

  const messages = []
  for (let i = 0; i < total; i++) {
    const value = await registry.encode(id, order(i))
    if (value[0] !== 0 || value.readInt32BE(1) !== id) fail(`encode ${i}: bad wire header ${value.subarray(0, 5).toString('hex')}`)
    messages.push({ key: `key-${i}`, value, partition: i % partitions })
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  await producer.send({ topic, acks: -1, messages })
  await producer.disconnect()
  console.log(`produced ${total}`)

  // Read back with a consumer group from the beginning of the topic.
  const consumer = kafka.consumer({ groupId: `${topic}-sr-group`, allowAutoTopicCreation: false })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const got = new Map()
  let resolveDone
  const done = new Promise(resolve => {
    resolveDone = resolve
  })
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.set(message.key.toString(), message.value)
      if (got.size >= total) resolveDone()
    },
  })
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`consumed only ${got.size} of ${total} within 60s`)), 60000)
  })
  try {
    await Promise.race([done, timeout])
  } finally {
    clearTimeout(timer)
    await consumer.disconnect()
  }
  if (got.size !== total) fail(`consumed ${got.size} distinct keys, want ${total}`)
  console.log(`consumed ${got.size}`)

  // A fresh instance has an empty cache: decode looks the schema up by id.
  const reader = new SchemaRegistry({ host: registryURL })
  for (let i = 0; i < total; i++) {
    const value = got.get(`key-${i}`)
    if (!value) fail(`record key-${i} missing`)
    if (value[0] !== 0 || value.readInt32BE(1) !== id) fail(`record ${i}: bad wire header ${value.subarray(0, 5).toString('hex')}`)
    const decoded = await reader.decode(value)
    try {
      assert.deepStrictEqual({ ...decoded, tags: [...decoded.tags] }, order(i))
    } catch (e) {
      fail(`record ${i}: decoded ${JSON.stringify(decoded)}, want ${JSON.stringify(order(i))}`)
    }
  }
  console.log(`decoded ${total} equal`)

  const fetched = await reader.getSchema(id)
  if (fetched.name !== 'dev.sluice.compat.Order') fail(`getSchema(${id}) gave a schema named ${fetched.name}`)
  console.log('getSchema ok')
  console.log('schema registry js: OK')
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
