import { Hono } from 'hono'
import { embeddedQueueDepths } from '../../src/adapters/embedded-queue/queue-depths.ts'
import { adminRoutes } from '../../src/adapters/http/admin.tsx'
import type { OpenLedger } from '../../src/adapters/ledger/open.ts'
import { NOW, type PlantedLedger, plantLedger, plantPostgresLedger } from './ledger-fixture.ts'
import { type Postgres, startPostgres } from './postgres.ts'

export type Engine = 'sqlite' | 'postgres'

/**
 * /admin over the same planted ledger on SQLite and on PostgreSQL (a throwaway server), for tests
 * that check both engines answer alike. Call `setUp` in beforeAll and `tearDown` in afterAll.
 */
export function plantedAdmins(options: {
  token: string
  /** The PostgreSQL database to plant into (one per test file). */
  database: string
  replay?: Parameters<typeof adminRoutes>[0]['replay']
}) {
  let planted: PlantedLedger | undefined
  let server: Postgres | undefined
  let pg: OpenLedger | undefined
  return {
    async setUp() {
      ;[planted, server] = await Promise.all([plantLedger(), startPostgres()])
      pg = await plantPostgresLedger(await server.createDatabase(options.database))
    },
    async tearDown() {
      await Promise.all([planted?.cleanup(), pg?.close()])
      await server?.stop()
    },
    admin(engine: Engine) {
      if (!planted || !pg) throw new Error('plantedAdmins: setUp() first')
      return new Hono().route(
        '/admin',
        adminRoutes({
          token: options.token,
          views: engine === 'sqlite' ? planted.stores.views : pg.views,
          ...(engine === 'sqlite' ? { queueDepths: embeddedQueueDepths(planted.ledger) } : {}),
          clock: () => NOW,
          ...(options.replay ? { replay: options.replay } : {}),
        }),
      )
    },
  }
}
