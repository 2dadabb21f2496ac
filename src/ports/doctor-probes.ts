/** What `doctor` asks of the parts other than Stark Bank (which it reaches through `Bank`). */

export interface Amount {
  count: number
  cents: number
}

export interface LedgerProbe {
  engine: 'sqlite' | 'postgres'
  /** Whether the ledger takes writes now (true), or why not. */
  writable(): Promise<true | string>
  /** The migrations this build ships and those the ledger has applied (drizzle's folder timestamps). */
  migrations(): Promise<{ known: number; latestKnown: number; applied: number; latestApplied: number }>
  /** Transfers not yet at Stark Bank: `pending` (the relay sends them), `held` (waiting for approval). */
  transfersToSend(): Promise<{ pending: Amount; held: Amount }>
}

export interface QueueSettings {
  /** Where SQS moves a message after `maxReceiveCount` receives; undefined without a RedrivePolicy. */
  redrive: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined
  visibilityTimeoutSeconds: number
}

export interface QueueProbe {
  /** Which queue, as configured (its URL or name) and what for. */
  label: string
  /** Named in the configuration: paybridge creates it, with its dead-letter queue, when missing. */
  createdAtStart: boolean
  settings(): Promise<QueueSettings | 'missing'>
}

export interface DownstreamProbe {
  url: string
  /** The HTTP status of a plain request (any answer means reachable); throws when nothing answers. */
  reach(): Promise<number>
}
