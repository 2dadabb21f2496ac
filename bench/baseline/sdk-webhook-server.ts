/**
 * The usual way, for comparison: a Hono handler that calls the Stark Bank SDK's
 * `starkbank.event.parse({ content, signature, user })` (it fetches and caches the public key, then
 * verifies with starkbank-ecdsa), then enqueues the event with one SQLite transaction per request
 * (WAL, synchronous = NORMAL, like paybridge's ledger) and answers 200.
 *
 * Env: PORT, DATABASE_PATH, STARK_API_URL (the emulator), STARK_PROJECT_ID, STARK_PRIVATE_KEY.
 */
import { Database } from 'bun:sqlite'
import http from 'node:http'
import net from 'node:net'
import { Hono } from 'hono'
import starkbank from 'starkbank'

const env = process.env as Record<string, string>
// The SDK only speaks https to Stark Bank's hosts; this agent dials the emulator instead.
const { hostname, port } = new URL(env.STARK_API_URL ?? '')
const agent = new http.Agent({ keepAlive: true }) as http.Agent & { protocol: string }
agent.protocol = 'https:'
agent.createConnection = ((_o: unknown, cb: () => void) =>
  net.connect({ host: hostname, port: Number(port) }, cb)) as unknown as typeof agent.createConnection
starkbank.setHttpsAgent(agent)
const user = new starkbank.Project({
  environment: 'sandbox',
  id: env.STARK_PROJECT_ID ?? '',
  privateKey: env.STARK_PRIVATE_KEY ?? '',
})

const db = new Database(env.DATABASE_PATH ?? ':memory:', { create: true })
db.exec('PRAGMA journal_mode = WAL')
db.exec('PRAGMA synchronous = NORMAL')
db.exec('CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, body TEXT NOT NULL)')
const enqueue = db.query('INSERT INTO queue (event_id, body) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING')

const app = new Hono()
app.get('/healthz', (c) => c.json({ ok: true }))
app.post('/webhook/starkbank', async (c) => {
  const content = await c.req.text()
  const signature = c.req.header('Digital-Signature') ?? ''
  let event: { id: string }
  try {
    event = await starkbank.event.parse({ content, signature, user })
  } catch {
    return c.json({ error: 'invalid signature' }, 401)
  }
  enqueue.run(event.id, content)
  return c.json({ ok: true, eventId: event.id })
})

Bun.serve({ port: Number(env.PORT), hostname: '127.0.0.1', fetch: app.fetch })
