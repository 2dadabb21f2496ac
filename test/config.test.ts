import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '../src/adapters/starkbank/ecdsa.ts'
import { ConfigError, loadConfig } from '../src/config.ts'
import { tempDir } from './support/paybridge.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('runs on the embedded defaults with an empty environment', () => {
    const config = loadConfig({})
    expect(config.stark).toBeUndefined()
    expect(config.port).toBe(3000)
    expect(config.invoiceSchedule).toBe('0 */3 * * *')
    expect(config.destination).toEqual({
      name: 'Stark Bank S.A.',
      taxId: '20.018.183/0001-80',
      bankCode: '20018183',
      branchCode: '0001',
      accountNumber: '6341320293482496',
      accountType: 'payment',
    })
  })

  it('lists every problem with its variable, at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      STARK_ENVIRONMENT: 'staging',
      STARK_API_URL: 'not a url',
      QUEUE_MAX_RECEIVES: '0',
    })
    expect(problems.length).toBe(4)
    for (const name of ['PORT', 'STARK_ENVIRONMENT', 'STARK_API_URL', 'QUEUE_MAX_RECEIVES']) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true)
    }
  })

  it('needs the private key with the project id, and never prints the key', () => {
    expect(problemsOf({ STARK_PROJECT_ID: '123' })).toEqual([
      'STARK_PRIVATE_KEY: required when STARK_PROJECT_ID is set (or STARK_PRIVATE_KEY_FILE)',
    ])
    const { privatePem } = generateKeyPair()
    const secret = privatePem.split('\n')[1] ?? ''
    const problems = problemsOf({ STARK_PRIVATE_KEY: privatePem, STARK_ENVIRONMENT: 'nope' })
    expect(problems.join('\n')).not.toContain(secret)
    expect(problems.some((p) => p.startsWith('STARK_PROJECT_ID:'))).toBe(true)
  })

  it('reads the private key from STARK_PRIVATE_KEY_FILE and trims a trailing slash from STARK_API_URL', () => {
    const dir = tempDir()
    try {
      const { privatePem } = generateKeyPair()
      const file = join(dir.path, 'key.pem')
      writeFileSync(file, privatePem)
      const config = loadConfig({
        STARK_PROJECT_ID: '123',
        STARK_PRIVATE_KEY_FILE: file,
        STARK_API_URL: 'http://127.0.0.1:9100/',
      })
      expect(config.stark?.privateKeyPem).toBe(privatePem)
      expect(config.stark?.apiUrl).toBe('http://127.0.0.1:9100')
      expect(
        problemsOf({ STARK_PROJECT_ID: '123', STARK_PRIVATE_KEY_FILE: join(dir.path, 'missing.pem') }),
      ).toEqual(['STARK_PRIVATE_KEY_FILE: cannot read (ENOENT)'])
    } finally {
      dir.cleanup()
    }
  })
})
