import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { type BrowserContext, chromium } from 'playwright-core'
import { embeddedQueueDepths } from '../src/adapters/embedded-queue/queue-depths.ts'
import { adminRoutes, type ReplayKind } from '../src/adapters/http/admin.tsx'
import { NOW, type PlantedLedger, plantLedger } from './support/ledger-fixture.ts'
import { tempDir } from './support/paybridge.ts'

// The status page in a real browser: Debian's chromium driven by playwright-core. CI installs it
// (apt-get install -y chromium); only where it is absent is this test skipped.
const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) {
  console.warn(`SKIPPING the admin page browser test: ${CHROMIUM} is absent (apt-get install -y chromium)`)
}

const TOKEN = 'browser-test-admin-token'
/** Kept after the run so a person can look at it. */
export const SCREENSHOT = join(tmpdir(), 'paybridge-admin-status.png')

describe.skipIf(!hasChromium)('the admin status page in Chromium', () => {
  let planted: PlantedLedger
  let server: ReturnType<typeof Bun.serve>
  let profile: { path: string; cleanup(): void }
  let browser: BrowserContext
  let base: string
  const replays: [ReplayKind, string][] = []

  beforeAll(async () => {
    planted = await plantLedger()
    const app = new Hono().route(
      '/admin',
      adminRoutes({
        token: TOKEN,
        views: planted.stores.views,
        queueDepths: embeddedQueueDepths(planted.ledger),
        clock: () => NOW,
        replay: async (kind, id) => {
          replays.push([kind, id])
          return { ok: true, message: `${kind} ${id} queued again` }
        },
      }),
    )
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
    base = `http://127.0.0.1:${server.port}`
    profile = tempDir('paybridge-chromium-')
    browser = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop(true)
    planted?.cleanup()
    profile?.cleanup()
  })

  it('renders the flow with the ledger counts, the reconciliation, runs and dead items', async () => {
    const page = await browser.newPage()
    // Once with the token: the page answers with a cookie and a URL without it.
    await page.goto(`${base}/admin?token=${TOKEN}`)
    expect(page.url()).toBe(`${base}/admin`)
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000)

    const count = (stage: string) => page.locator(`[data-stage="${stage}"] .count`).textContent()
    const stages = [
      'issued',
      'credited',
      'queued',
      'created',
      'confirmed',
      'pending',
      'held',
      'failed',
      'dead',
    ]
    const shown = Object.fromEntries(await Promise.all(stages.map(async (s) => [s, await count(s)])))
    expect(shown).toEqual({
      issued: '7',
      credited: '6',
      queued: '5',
      created: '4',
      confirmed: '2',
      pending: '0',
      held: '0',
      failed: '1',
      dead: '1',
    })
    expect(await count('stripe-delivered')).toBe('1')
    expect(await count('stripe-dead')).toBe('1')
    // Boxes with problems stand out.
    expect(await page.locator('[data-stage="failed"]').getAttribute('class')).toContain('bad')

    expect(await page.locator('#reconciliation h2').textContent()).toContain('4 mismatch(es)')
    expect(await page.locator('#reconciliation li.mismatch').count()).toBe(4)
    expect(await page.locator('#runs tbody tr').count()).toBe(2)
    const dead = page.locator('#dead tr.dead-item')
    expect(await dead.count()).toBe(3)
    expect(await page.locator('#dead').textContent()).toContain(
      'invalidAccountNumber: the account does not exist',
    )
    expect(await page.locator('#dead').textContent()).toContain('body is not JSON')
    expect(await page.content()).not.toContain(TOKEN)
    await page.close()
  })

  it('replays a dead item from its button and says so on the page', async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/admin`)
    await page.locator('#dead tr.dead-item[data-kind="forward"] button').click()
    await page.waitForURL(/notice=/)
    expect(await page.locator('section.notice').textContent()).toBe('forward evt_bad queued again')
    expect(replays).toEqual([['forward', 'evt_bad']])
    await page.close()
  })

  it('shows nothing to a browser without the token', async () => {
    const page = await browser.newPage()
    await browser.clearCookies()
    const res = await page.goto(`${base}/admin`)
    expect(res?.status()).toBe(401)
    expect(await page.locator('h1').textContent()).toContain('401')
    await page.close()
  })
})
