import { describe, expect, it } from 'bun:test'
import { publicPemOf, starkPrivateKeyPem } from '../src/adapters/starkbank/ecdsa.ts'
import { ConfigError, loadConfig } from '../src/config.ts'

// Throwaway keys made with openssl for these tests only (no project uses them):
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1` (PKCS#8), its public key
// (`openssl pkey -pubout`), `openssl genrsa 1024` and `openssl ecparam -name prime256v1 -genkey -noout`.
const SECP256K1_PKCS8 = `-----BEGIN PRIVATE KEY-----
MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQg/Qz7Ne3YnvcYVRFvfRIw
Vf7QySy0klLuVT80ScFnWV6hRANCAAR4oJvjiqzCMTJDIvzk+SX2stS4mWa3+LDJ
5EVIAU2HyABHU/5+uw6gPztqMu40oot45XTlE+pG21jHSoqUUhLU
-----END PRIVATE KEY-----`
const SECP256K1_PUBLIC = `-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEeKCb44qswjEyQyL85Pkl9rLUuJlmt/iw
yeRFSAFNh8gAR1P+frsOoD87ajLuNKKLeOV05RPqRttYx0qKlFIS1A==
-----END PUBLIC KEY-----
`
const RSA = `-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMcNPrRUkyeGqM8X
+WQ4Gezy1waQx1wMyDxnSbYmsySaQR5/jVpV1vWS8V7+eXRaolKZT7bxnA/97TEz
6HlT4XQbZHtyRXlDsCrfo5pZU6SEB3jWWZ9PQAz1w71PnoLy8rdjWITDWdztWk+o
Z064xJ2rGumcfNKOKdiImKI4ZkYZAgMBAAECgYBaUYc3Ofz/fVmRhnZR5CbXXiT1
RLJA8UfWKKPIs+yrWhbcKNJRwAtmqIM/MEaZ5horUodaIm1G0FhU8BG3I7lzMW/e
qbcU0UM97Do89F6CINuQficBFivFgGEij2NTJ4qOCoZT+qqMvSYA9ZvLZ+yyoyit
Na8+NW6ZRdIA+FgiAQJBAO185tcwLnWdC6EwkD/p8BjOqZ9jpeDL3vw3qix4G4He
NTHoy6jCwEQVJzcTHLs+SuUFcTabiNO2uYLEv1/IVVkCQQDWkVhh1jpm+aNtlvz9
zyEgrlEL52f79TyrMWYUIO7MkYDd3hnOfhUqYOuiKP8FIBj5ubKBGOA/WG+6CIxI
GZ7BAkEAleF7Cpok6CN6IHu2vi+VUQK0uJw6Jxpjm4hCBRi0O40Sw3HpfpOSpiU3
f6G3Q1D4EXwSzGTywLMUdzxWj0uu2QJAdxC6ebgWOnRG0xZZF0KsQGVaxf9IPZGN
c/X6jirkOJJ5byTDL0nZ1uVnfFnBggeYtGLugiLatWwOu63ook3NQQJBAOjFGvNj
DWMPTjIJ0jtGoNEx3YyXEc2SxE9aXr6B5kO8jsywQ44aQsEKQ13MTxIPUFA8TYBV
aP6fV3oWpNlJC3M=
-----END PRIVATE KEY-----`
const P256_SEC1 = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIKrvy0ewVJ8EkJ9+mM/UV9d0NaJ7vFrzbYJqkOqRANgGoAoGCCqGSM49
AwEHoUQDQgAElH57k6izrigX303XZ1IPRK5LxeicjiFnxRcp2nMIgQXcoNFLWtL2
492tZUn59uaq6hv8e9jb7EkfQwhyjZWOfQ==
-----END EC PRIVATE KEY-----`

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env)
    return ''
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.message
  }
}

describe('Stark Bank private keys', () => {
  it('takes a PKCS#8 secp256k1 key (what openssl genpkey writes) and signs with the same key', () => {
    const config = loadConfig({ STARK_PROJECT_ID: '1234', STARK_PRIVATE_KEY: SECP256K1_PKCS8 })
    const pem = config.stark?.privateKeyPem ?? ''
    expect(pem).toContain('BEGIN EC PRIVATE KEY')
    expect(publicPemOf(pem)).toBe(SECP256K1_PUBLIC)
  })

  it('refuses an RSA key and an EC key on another curve, saying which and how to make a right one', () => {
    expect(problemsOf({ STARK_PROJECT_ID: '1234', STARK_PRIVATE_KEY: RSA })).toContain(
      'STARK_PRIVATE_KEY: an RSA key, not secp256k1: create one with `bun run src/main.ts keys create`',
    )
    expect(problemsOf({ STARK_PROJECT_ID: '1234', STARK_PRIVATE_KEY: P256_SEC1 })).toContain(
      'STARK_PRIVATE_KEY: an EC key on another curve, not secp256k1',
    )
    expect(() =>
      starkPrivateKeyPem('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----'),
    ).toThrow('an RSA key')
  })

  it('never echoes the key in a refusal', () => {
    expect(problemsOf({ STARK_PROJECT_ID: '1234', STARK_PRIVATE_KEY: RSA })).not.toContain(
      RSA.split('\n')[1] ?? '-',
    )
  })
})

describe('start-up values that used to pass config', () => {
  it('refuses an invoice schedule croner cannot read, at start rather than in /readyz', () => {
    expect(problemsOf({ INVOICE_SCHEDULE: 'garbage' })).toContain(
      'INVOICE_SCHEDULE: not a cron pattern ("garbage"); e.g. "0 */3 * * *"',
    )
    expect(problemsOf({ INVOICE_SCHEDULE: '*/5 * * * *' })).toBe('')
  })

  it('says a count must be at least its minimum, not just "a whole number"', () => {
    expect(problemsOf({ QUEUE_MAX_RECEIVES: '-1' })).toContain(
      'QUEUE_MAX_RECEIVES: must be a whole number ≥ 1',
    )
  })
})
