import type { Log } from '../ports/log.ts'

/**
 * Runs `step` again and again: at once while it reports more work, else after `intervalMs`.
 * A failing step is logged and retried after the interval; `stop()` waits for the step in hand.
 */
export class Poller {
  private running = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined

  constructor(
    private readonly name: string,
    private readonly step: () => Promise<boolean>,
    private readonly intervalMs: number,
    private readonly log: Log,
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Ends the current wait so the next step starts now (e.g. new work just arrived). */
  poke(): void {
    this.wake?.()
  }

  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
  }

  private async run(): Promise<void> {
    while (this.running) {
      let more = false
      try {
        more = await this.step()
      } catch (err) {
        this.log.error(`${this.name} step failed`, {
          error: err instanceof Error ? err.message : String(err),
        })
      }
      if (more || !this.running) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }
}
